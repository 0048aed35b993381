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
    let mut hook = Hook::new(raw_config, services, cache)?;
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
    let mut hook = Hook::new(raw_config, services, cache)?;
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
    let mut hook = Hook::new(raw_config, services, cache)?;
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
struct Hook<'a, 'c> {
    config: Config,
    services: Services<'a>,
    cache: &'c mut ServerCache,
    searches: Vec<PlannedSearch>,
    /// Set by `plan`: read what a plan reports and never write.
    planning: bool,
}

impl<'a, 'c> Hook<'a, 'c> {
    fn new(
        raw_config: RawConfig,
        services: Services<'a>,
        cache: &'c mut ServerCache,
    ) -> Result<Self, HookError> {
        let config = config::validate(raw_config).map_err(HookError::config)?;
        Ok(Hook {
            config,
            services,
            cache,
            searches: Vec::new(),
            planning: false,
        })
    }

    fn log(&mut self, level: Level, message: &str) {
        self.services.log.log(level, message);
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
        self.log(
            Level::Debug,
            &format!(
                "searching {base} ({}) with {filter} for {purpose}",
                scope.as_str()
            ),
        );
        self.searches.push(PlannedSearch {
            purpose: purpose.to_string(),
            base: base.to_string(),
            scope,
            filter: filter.to_string(),
        });
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

    fn found_outcome(&mut self, found: Found) -> Result<Outcome, HookError> {
        let spawner_updates = self.spawner_updates(&found.values)?;
        self.log(
            Level::Info,
            &format!("found the existing entry {}", found.entry.dn),
        );
        Ok(Outcome {
            dn: found.entry.dn,
            status: Status::Found,
            attributes: found.entry.attributes,
            spawner_updates,
            allocations: Vec::new(),
        })
    }
}
