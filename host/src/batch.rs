//! `ldap-hooks batch`: the hook for many contexts, several at a time, as provisioning
//! scripts need it.
//!
//! Each worker thread has its own connection and component instance and takes the
//! next context from a shared queue. Outcomes are printed as JSON lines in the order
//! they finish, each with the index of its context in the input.

use crate::bindings::exports::ldap_hooks::hook::hook as wit;
use crate::components::{Components, Instance};
use crate::ldap::{Access, Directory};
use crate::report;
use crate::settings::Settings;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs the hook for every context with `concurrency` workers, calls `emit` with each
/// result line, and returns the number of contexts that failed.
pub fn run(
    components: &Components,
    settings: &Settings,
    contexts: &[wit::Context],
    concurrency: usize,
    mut emit: impl FnMut(Value),
) -> usize {
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<Value>();
    let mut failed = 0;

    std::thread::scope(|scope| {
        for _ in 0..concurrency.clamp(1, contexts.len().max(1)) {
            let (sender, next) = (sender.clone(), &next);
            scope.spawn(move || worker(components, settings, contexts, next, &sender));
        }
        drop(sender);
        for line in receiver {
            if line.get("error").is_some() {
                failed += 1;
            }
            emit(line);
        }
    });
    failed
}

fn worker(
    components: &Components,
    settings: &Settings,
    contexts: &[wit::Context],
    next: &AtomicUsize,
    sender: &mpsc::Sender<Value>,
) {
    // The instance with the handle of its configuration.
    let mut instance: Option<(Instance, u32)> = None;
    loop {
        let index = next.fetch_add(1, Ordering::SeqCst);
        let Some(context) = contexts.get(index) else {
            return;
        };

        let current = match instance.take() {
            Some(instance) => Ok(instance),
            None => open(components, settings).and_then(|instance| configure(instance, settings)),
        };
        let line = match current {
            Err(message) => json!({"index": index, "error": message, "kind": "directory"}),
            Ok((mut current, handle)) => match current.run_configured(handle, context) {
                Ok(Ok(outcome)) => {
                    instance = Some((current, handle));
                    json!({"index": index, "outcome": report::outcome(&outcome)})
                }
                Ok(Err(error)) => {
                    instance = Some((current, handle));
                    let kind = format!("{:?}", error.kind).to_lowercase();
                    json!({"index": index, "error": error.message, "kind": kind})
                }
                // After a trap the instance cannot be entered again; the next context
                // gets a fresh one over the same connection.
                Err(trap) => {
                    instance = components
                        .instantiate(current.into_directory())
                        .map_err(|error| format!("{error:#}"))
                        .and_then(|instance| configure(instance, settings))
                        .ok();
                    json!({"index": index, "error": format!("{trap:#}"), "kind": "component"})
                }
            },
        };
        if sender.send(line).is_err() {
            return;
        }
    }
}

/// Hands the configuration to a new instance.
fn configure(mut instance: Instance, settings: &Settings) -> Result<(Instance, u32), String> {
    match instance.configure(&settings.hook) {
        Ok(Ok(handle)) => Ok((instance, handle)),
        Ok(Err(error)) => Err(error.message),
        Err(trap) => Err(format!("{trap:#}")),
    }
}

fn open(components: &Components, settings: &Settings) -> Result<Instance, String> {
    let directory =
        Directory::connect(&settings.connection, Access::ReadWrite).map_err(|error| {
            format!(
                "connecting to {} failed: {} ({}): {}",
                settings.connection.url, error.name, error.code, error.message
            )
        })?;
    components
        .instantiate(directory)
        .map_err(|error| format!("{error:#}"))
}
