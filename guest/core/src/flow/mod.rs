//! The hook flow: find the user's entry or create it, allocating numbers from counter
//! entries, and compute what the spawner receives.
//!
//! Everything that can fail without writing happens before the first write: the
//! configuration, the submitted value, the schema, the uniqueness search, the queries,
//! the templates of the new entry and of the spawner attributes, and whether the DN is
//! taken. Only then are counters moved, so an invalid request uses up no number. When
//! the add itself fails after an allocation, the hook moves the counter back if no one
//! else has moved it since, and otherwise names the unused number in the error.

mod counter;
mod create;
mod find;
mod server;

use crate::config::{self, Config, RawConfig};
use crate::context::RawContext;
use crate::error::HookError;
use crate::services::{Directory, Logger, Rules};
use crate::sources::Values;
use crate::types::{Attribute, Entry, LdapError, Level, Scope};
use counter::next_value;
use find::{Found, Prepared};
use serde_json::{Map, Value};

pub use counter::MAX_ALLOCATION_ATTEMPTS;
pub use server::{ServerCache, ServerInfo};

/// The services the flow uses.
pub struct Services<'a> {
    pub directory: &'a mut dyn Directory,
    pub rules: &'a mut dyn Rules,
    pub log: &'a mut dyn Logger,
}

/// Whether the entry was created or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Found,
}

/// A value taken from a counter entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub attribute: String,
    pub counter_dn: String,
    pub value: String,
}

/// The result of a successful run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub dn: String,
    pub status: Status,
    pub attributes: Vec<Attribute>,
    pub spawner_updates: Map<String, Value>,
    pub allocations: Vec<Allocation>,
}

/// A search that the flow ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSearch {
    pub purpose: String,
    pub base: String,
    pub scope: Scope,
    pub filter: String,
}

/// A counter with its current value and the value a new entry would get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterState {
    pub attribute: String,
    pub counter_dn: String,
    pub current: String,
    pub next: String,
}

/// The searches, entry and counter moves of a run, found without writing.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub dn: String,
    pub status: Status,
    pub searches: Vec<PlannedSearch>,
    pub entry: Vec<Attribute>,
    pub counters: Vec<CounterState>,
    pub spawner_updates: Map<String, Value>,
}

/// The result of a configuration check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub subschema: String,
    pub object_classes: Vec<String>,
    pub counters: Vec<CounterState>,
}

/// Makes sure the entry exists and returns it with the spawner updates.
pub fn run(
    raw_config: RawConfig,
    raw_context: RawContext,
    services: Services<'_>,
    cache: &mut ServerCache,
) -> Result<Outcome, HookError> {
    let config = config::validate(raw_config).map_err(HookError::config)?;
    run_with(&config, raw_context, services, cache)
}

/// Does what [`run`] does, with a configuration that was checked before.
pub fn run_with(
    config: &Config,
    raw_context: RawContext,
    services: Services<'_>,
    cache: &mut ServerCache,
) -> Result<Outcome, HookError> {
    let mut hook = Hook::new(config, services, cache);
    match hook.prepare(raw_context)? {
        Prepared::Found(found) => Ok(hook.found_outcome(found)?),
        Prepared::New(new) => hook.create(new),
    }
}

/// Reads what `run` would read and reports what it would write.
pub fn plan(
    raw_config: RawConfig,
    raw_context: RawContext,
    services: Services<'_>,
    cache: &mut ServerCache,
) -> Result<Plan, HookError> {
    let config = config::validate(raw_config).map_err(HookError::config)?;
    let mut hook = Hook::new(&config, services, cache);
    hook.planning = true;
    let prepared = hook.prepare(raw_context)?;
    let (dn, status, entry, counters, spawner_updates) = match prepared {
        Prepared::Found(found) => {
            let outcome = hook.found_outcome(found)?;
            (
                outcome.dn,
                Status::Found,
                outcome.attributes,
                Vec::new(),
                outcome.spawner_updates,
            )
        }
        Prepared::New(new) => {
            let spawner_updates = hook.spawner_updates(&new.values_with_entry())?;
            let counters = new
                .counters
                .iter()
                .map(|counter| CounterState {
                    attribute: counter.operation.attribute.clone(),
                    counter_dn: counter.operation.counter_dn.clone(),
                    current: counter
                        .current
                        .map(|value| value.to_string())
                        .unwrap_or_default(),
                    next: counter.predicted().to_string(),
                })
                .collect();
            let entry = new.entry_attributes();
            (new.dn, Status::Created, entry, counters, spawner_updates)
        }
    };
    Ok(Plan {
        dn,
        status,
        searches: hook.searches,
        entry,
        counters,
        spawner_updates,
    })
}

/// Checks the configuration against the server's schema and counters.
pub fn check(
    raw_config: RawConfig,
    services: Services<'_>,
    cache: &mut ServerCache,
) -> Result<CheckReport, HookError> {
    let config = config::validate(raw_config).map_err(HookError::config)?;
    let mut hook = Hook::new(&config, services, cache);
    let info = hook.server_info()?;
    let schema = &info.schema;
    let server = hook.config.server.clone();

    let object_classes = schema
        .check_classes(&hook.config.object_classes, &server)
        .map_err(HookError::schema)?;
    for attribute in &hook.config.object_attributes {
        schema
            .check_attribute_exists(&attribute.name, "object_attributes", &server)
            .map_err(HookError::schema)?;
    }
    for name in &hook.config.unique_object_attributes {
        schema
            .check_attribute_exists(name, "unique_object_attributes", &server)
            .map_err(HookError::schema)?;
    }

    let operations = hook.config.operations.clone();
    let mut counters = Vec::with_capacity(operations.len());
    for operation in &operations {
        schema
            .check_attribute_exists(&operation.attribute, "search_result_operations", &server)
            .map_err(HookError::schema)?;
        let current = hook.read_counter(operation)?;
        counters.push(CounterState {
            attribute: operation.attribute.clone(),
            counter_dn: operation.counter_dn.clone(),
            current: current.to_string(),
            next: next_value(current, operation)?.to_string(),
        });
    }

    Ok(CheckReport {
        subschema: schema.subschema_dn.clone(),
        object_classes,
        counters,
    })
}

/// The state of one run.
struct Hook<'a, 'c, 'k> {
    config: &'k Config,
    services: Services<'a>,
    cache: &'c mut ServerCache,
    searches: Vec<PlannedSearch>,
    /// Set by `plan`: read what a plan reports and never write.
    planning: bool,
    /// Whether the host writes debug messages, asked once per run.
    debug: bool,
}

impl<'a, 'c, 'k> Hook<'a, 'c, 'k> {
    fn new(config: &'k Config, services: Services<'a>, cache: &'c mut ServerCache) -> Self {
        let debug = services.log.enabled(Level::Debug);
        Hook {
            config,
            services,
            cache,
            searches: Vec::new(),
            planning: false,
            debug,
        }
    }

    fn log(&mut self, level: Level, message: &str) {
        self.services.log.log(level, message);
    }

    /// Logs a debug message, building it only when the host writes debug messages.
    fn debug(&mut self, message: impl FnOnce() -> String) {
        if self.debug {
            let message = message();
            self.services.log.log(Level::Debug, &message);
        }
    }

    /// Runs a search and records it for the plan.
    fn search(
        &mut self,
        purpose: &str,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: &[String],
    ) -> Result<Vec<Entry>, LdapError> {
        self.debug(|| {
            format!(
                "searching {base} ({}) with {filter} for {purpose}",
                scope.as_str()
            )
        });
        if self.planning {
            self.searches.push(PlannedSearch {
                purpose: purpose.to_string(),
                base: base.to_string(),
                scope,
                filter: filter.to_string(),
            });
        }
        self.services
            .directory
            .search(base, scope, filter, attributes)
    }

    fn lookup(&self, values: &Values, placeholder: &str) -> Result<Vec<String>, String> {
        match self.config.source_of(placeholder) {
            Some(source) => values.lookup(placeholder, source),
            None => Err(format!("`{placeholder}` is not in dynamic_attributes")),
        }
    }

    fn spawner_updates(&self, values: &Values) -> Result<Map<String, Value>, HookError> {
        let mut lookup = |placeholder: &str| self.lookup(values, placeholder);
        config::render_spawner_attributes(&self.config.spawner_attributes, &mut lookup)
            .map_err(HookError::input)
    }

    fn found_outcome(&mut self, mut found: Found) -> Result<Outcome, HookError> {
        let spawner_updates = self.spawner_updates(&found.values)?;
        self.log(
            Level::Info,
            &format!("found the existing entry {}", found.dn),
        );
        Ok(Outcome {
            dn: found.dn,
            status: Status::Found,
            attributes: found.values.directory.take().unwrap_or_default(),
            spawner_updates,
            allocations: Vec::new(),
        })
    }
}
