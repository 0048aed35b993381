//! Loading the hook and DN-rule components and calling the hook.
//!
//! The two components live in separate stores. The host implements the hook
//! component's `dn-rules` import by forwarding each call to the rule component's
//! export, which links a site's own rule component without composing the binaries. Both components get WASI with nothing in it: no files, no
//! environment, no arguments and no standard streams.

use crate::bindings::exports::ldap_hooks::hook::hook as wit;
use crate::bindings::ldap_hooks::hook::{directory, dn_rules, logging};
use crate::bindings::{EntryHook, rule};
use crate::cache;
use crate::ldap::Directory;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The hook component built from `guest/hook`.
pub const DEFAULT_HOOK: &[u8] = include_bytes!(env!("LDAP_HOOKS_HOOK_WASM"));
/// The default DN rules built from `guest/default-rules`.
pub const DEFAULT_RULES: &[u8] = include_bytes!(env!("LDAP_HOOKS_RULES_WASM"));

/// Converts wasmtime's error type into anyhow's, keeping the message chain.
pub fn wasm<T>(result: wasmtime::Result<T>) -> Result<T> {
    result.map_err(anyhow::Error::from)
}

/// The origin of a component, for loading and for messages.
#[derive(Debug, Clone)]
pub enum Source {
    Embedded(&'static str, &'static [u8]),
    File(PathBuf),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Embedded(name, _) => format!("the built-in {name}"),
            Source::File(path) => format!("the component {}", path.display()),
        }
    }

    fn bytes(&self) -> Result<std::borrow::Cow<'static, [u8]>> {
        match self {
            Source::Embedded(_, bytes) => Ok(std::borrow::Cow::Borrowed(bytes)),
            Source::File(path) => std::fs::read(path)
                .map(std::borrow::Cow::Owned)
                .with_context(|| format!("cannot read the component {}", path.display())),
        }
    }
}

/// The components, compiled and ready to be instantiated.
pub struct Components {
    engine: Engine,
    hook: wasmtime::component::Component,
    hook_name: String,
    rules: wasmtime::component::Component,
    rules_name: String,
}

impl Components {
    /// Compiles the components or loads them from the compile cache.
    pub fn load(hook: &Source, rules: &Source, cache_folder: Option<&Path>) -> Result<Components> {
        let engine = wasm(Engine::new(&wasmtime::Config::new()))
            .context("cannot configure the WebAssembly engine")?;
        let hook_name = hook.name();
        let rules_name = rules.name();
        let hook = cache::load(&engine, &hook.bytes()?, &hook_name, cache_folder)?;
        let rules = cache::load(&engine, &rules.bytes()?, &rules_name, cache_folder)?;
        Ok(Components {
            engine,
            hook,
            hook_name,
            rules,
            rules_name,
        })
    }

    /// Instantiates both components with `directory` as the hook's directory.
    pub fn instantiate(&self, directory: Directory) -> Result<Instance> {
        let rules = self.instantiate_rules()?;

        let mut linker = Linker::<HookState>::new(&self.engine);
        wasm(wasmtime_wasi::p2::add_to_linker_sync(&mut linker)).context("linking WASI")?;
        wasm(EntryHook::add_to_linker::<HookState, HasSelf<HookState>>(
            &mut linker,
            |state| state,
        ))
        .context("linking the directory, logging and dn-rules imports")?;

        let state = HookState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            directory,
            rules,
        };
        let mut store = Store::new(&self.engine, state);
        let hook =
            wasm(EntryHook::instantiate(&mut store, &self.hook, &linker)).with_context(|| {
                format!(
                    "{} does not implement the entry-hook world of ldap-hooks:hook@0.1.0",
                    self.hook_name
                )
            })?;
        Ok(Instance {
            store,
            hook,
            hook_name: self.hook_name.clone(),
        })
    }

    fn instantiate_rules(&self) -> Result<RuleInstance> {
        let mut linker = Linker::<WasiState>::new(&self.engine);
        wasm(wasmtime_wasi::p2::add_to_linker_sync(&mut linker)).context("linking WASI")?;
        let mut store = Store::new(
            &self.engine,
            WasiState {
                wasi: WasiCtx::builder().build(),
                table: ResourceTable::new(),
            },
        );
        let rules = wasm(rule::DnRule::instantiate(&mut store, &self.rules, &linker))
            .with_context(|| {
                format!(
                    "{} does not implement the dn-rule world of ldap-hooks:hook@0.1.0",
                    self.rules_name
                )
            })?;
        Ok(RuleInstance {
            store,
            rules,
            name: self.rules_name.clone(),
            broken: false,
        })
    }
}

/// An instantiated hook with its rules and connection.
pub struct Instance {
    store: Store<HookState>,
    hook: EntryHook,
    hook_name: String,
}

impl Instance {
    pub fn run(
        &mut self,
        config: &wit::Config,
        context: &wit::Context,
    ) -> Result<Result<wit::Outcome, wit::HookError>> {
        let name = self.hook_name.clone();
        wasm(
            self.hook
                .ldap_hooks_hook_hook()
                .call_run(&mut self.store, config, context),
        )
        .with_context(|| format!("{name} failed while running the hook"))
    }

    pub fn plan(
        &mut self,
        config: &wit::Config,
        context: &wit::Context,
    ) -> Result<Result<wit::RunPlan, wit::HookError>> {
        let name = self.hook_name.clone();
        wasm(
            self.hook
                .ldap_hooks_hook_hook()
                .call_plan(&mut self.store, config, context),
        )
        .with_context(|| format!("{name} failed while planning"))
    }

    pub fn check(
        &mut self,
        config: &wit::Config,
    ) -> Result<Result<wit::CheckReport, wit::HookError>> {
        let name = self.hook_name.clone();
        wasm(
            self.hook
                .ldap_hooks_hook_hook()
                .call_check(&mut self.store, config),
        )
        .with_context(|| format!("{name} failed while checking"))
    }

    /// Ends the instance and returns its connection.
    pub fn into_directory(self) -> Directory {
        self.store.into_data().directory
    }
}

/// WASI state with no capabilities.
struct WasiState {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for WasiState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The rule component in its own store.
struct RuleInstance {
    store: Store<WasiState>,
    rules: rule::DnRule,
    name: String,
    /// Set after a trap, after which the instance must not be entered again.
    broken: bool,
}

/// The store data of the hook component.
struct HookState {
    wasi: WasiCtx,
    table: ResourceTable,
    directory: Directory,
    rules: RuleInstance,
}

impl WasiView for HookState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl directory::Host for HookState {
    fn search(
        &mut self,
        base: String,
        scope: directory::Scope,
        filter: String,
        attributes: Vec<String>,
    ) -> Result<Vec<directory::Entry>, directory::LdapError> {
        self.directory.search(&base, scope, &filter, &attributes)
    }

    fn add(
        &mut self,
        dn: String,
        attributes: Vec<directory::Attribute>,
        controls: directory::RequestControls,
    ) -> Result<Option<directory::Entry>, directory::LdapError> {
        self.directory.add(&dn, &attributes, &controls)
    }

    fn modify(
        &mut self,
        dn: String,
        changes: Vec<directory::Change>,
        controls: directory::RequestControls,
    ) -> Result<Option<directory::Entry>, directory::LdapError> {
        self.directory.modify(&dn, &changes, &controls)
    }
}

impl logging::Host for HookState {
    fn log(&mut self, level: logging::Level, message: String) {
        match level {
            logging::Level::Error => tracing::error!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Warn => tracing::warn!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Info => tracing::info!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Debug => tracing::debug!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Trace => tracing::trace!(target: "ldap_hooks::component", "{message}"),
        }
    }
}

impl dn_rules::Host for HookState {
    fn parse(
        &mut self,
        submitted: String,
        options: dn_rules::RuleOptions,
    ) -> Result<dn_rules::ParsedName, String> {
        let rules = &mut self.rules;
        if rules.broken {
            return Err(format!(
                "{} failed earlier in this run and cannot be called again",
                rules.name
            ));
        }
        let options = rule::exports::ldap_hooks::hook::dn_rules::RuleOptions {
            replacements: options.replacements,
            strip_chars: options.strip_chars,
        };
        let result = rules.rules.ldap_hooks_hook_dn_rules().call_parse(
            &mut rules.store,
            &submitted,
            &options,
        );
        match result {
            Ok(Ok(parsed)) => Ok(convert_parsed(parsed)),
            Ok(Err(reason)) => Err(reason),
            Err(trap) => {
                rules.broken = true;
                Err(format!("{} failed: {trap:#}", rules.name))
            }
        }
    }
}

fn convert_parsed(
    parsed: rule::exports::ldap_hooks::hook::dn_rules::ParsedName,
) -> dn_rules::ParsedName {
    let pairs = |pairs: Vec<rule::exports::ldap_hooks::hook::dn_rules::AttributeValue>| {
        pairs
            .into_iter()
            .map(|pair| dn_rules::AttributeValue {
                attribute: pair.attribute,
                value: pair.value,
            })
            .collect::<Vec<_>>()
    };
    dn_rules::ParsedName {
        rdn: pairs(parsed.rdn),
        parent: parsed.parent.into_iter().map(pairs).collect(),
        template_values: pairs(parsed.template_values),
    }
}
