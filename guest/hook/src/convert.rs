//! Conversions between the generated WIT types and the types of `ldap_hooks_core`.

use crate::exports::ldap_hooks::hook::hook as wit;
use crate::ldap_hooks::hook::{directory, dn_rules, logging};
use ldap_hooks_core::config::{RawConfig, RawOperation, RawQuery};
use ldap_hooks_core::context::RawContext;
use ldap_hooks_core::error::{ErrorKind, HookError};
use ldap_hooks_core::flow;
use ldap_hooks_core::types;

pub fn config(config: wit::Config) -> RawConfig {
    RawConfig {
        server: config.server,
        base_dn: config.base_dn,
        submit_keys: config.submit_keys,
        rules: types::RuleOptions {
            replacements: config.rules.replacements,
            strip_chars: config.rules.strip_chars,
        },
        object_classes: config.object_classes,
        object_attributes: config
            .object_attributes
            .into_iter()
            .map(attribute_from_wit)
            .collect(),
        unique_object_attributes: config.unique_object_attributes,
        dynamic_attributes: config.dynamic_attributes,
        search_attribute_queries: config
            .search_attribute_queries
            .into_iter()
            .map(|query| RawQuery {
                search_base: query.search_base,
                search_filter: query.search_filter,
                attributes: query.attributes,
            })
            .collect(),
        search_result_operations: config
            .search_result_operations
            .into_iter()
            .map(|operation| RawOperation {
                attribute: operation.attribute,
                action: operation.action,
                modify_dn: operation.modify_dn,
            })
            .collect(),
        set_spawner_attributes: config.set_spawner_attributes,
        allocation_method: config.allocation_method,
    }
}

pub fn context(context: wit::Context) -> RawContext {
    RawContext {
        user_name: context.user_name,
        submitted: context.submitted,
        spawner_attributes: context.spawner_attributes,
        user_attributes: context.user_attributes,
    }
}

pub fn scope(scope: types::Scope) -> directory::Scope {
    match scope {
        types::Scope::BaseObject => directory::Scope::BaseObject,
        types::Scope::SingleLevel => directory::Scope::SingleLevel,
        types::Scope::WholeSubtree => directory::Scope::WholeSubtree,
    }
}

fn scope_to_wit(scope: types::Scope) -> directory::Scope {
    self::scope(scope)
}

pub fn attribute_from_wit(attribute: directory::Attribute) -> types::Attribute {
    types::Attribute::new(attribute.name, attribute.values)
}

pub fn attribute_to_wit(attribute: &types::Attribute) -> directory::Attribute {
    directory::Attribute {
        name: attribute.name.clone(),
        values: attribute.values.clone(),
    }
}

fn attributes_to_wit(attributes: Vec<types::Attribute>) -> Vec<directory::Attribute> {
    attributes
        .into_iter()
        .map(|attribute| directory::Attribute {
            name: attribute.name,
            values: attribute.values,
        })
        .collect()
}

pub fn entry_from_wit(entry: directory::Entry) -> types::Entry {
    types::Entry {
        dn: entry.dn,
        attributes: entry
            .attributes
            .into_iter()
            .map(attribute_from_wit)
            .collect(),
    }
}

pub fn ldap_error_from_wit(error: directory::LdapError) -> types::LdapError {
    types::LdapError {
        code: error.code,
        name: error.name,
        message: error.message,
    }
}

fn ldap_error_to_wit(error: types::LdapError) -> directory::LdapError {
    directory::LdapError {
        code: error.code,
        name: error.name,
        message: error.message,
    }
}

pub fn change(change: &types::Change) -> directory::Change {
    let kind = match change.kind {
        types::ChangeKind::Add => directory::ChangeKind::Add,
        types::ChangeKind::Delete => directory::ChangeKind::Delete,
        types::ChangeKind::Replace => directory::ChangeKind::Replace,
        types::ChangeKind::Increment => directory::ChangeKind::Increment,
    };
    directory::Change {
        kind,
        attribute: attribute_to_wit(&change.attribute),
    }
}

pub fn controls(controls: &types::RequestControls) -> directory::RequestControls {
    directory::RequestControls {
        post_read: controls.post_read.clone(),
    }
}

pub fn parsed_name(parsed: dn_rules::ParsedName) -> types::ParsedName {
    let pairs = |pairs: Vec<dn_rules::AttributeValue>| -> Vec<types::AttributeValue> {
        pairs
            .into_iter()
            .map(|pair| types::AttributeValue::new(pair.attribute, pair.value))
            .collect()
    };
    types::ParsedName {
        rdn: pairs(parsed.rdn),
        parent: parsed.parent.into_iter().map(pairs).collect(),
        template_values: pairs(parsed.template_values),
    }
}

pub fn level(level: types::Level) -> logging::Level {
    match level {
        types::Level::Error => logging::Level::Error,
        types::Level::Warn => logging::Level::Warn,
        types::Level::Info => logging::Level::Info,
        types::Level::Debug => logging::Level::Debug,
        types::Level::Trace => logging::Level::Trace,
    }
}

fn status(status: flow::Status) -> wit::EntryStatus {
    match status {
        flow::Status::Created => wit::EntryStatus::Created,
        flow::Status::Found => wit::EntryStatus::Found,
    }
}

fn json(map: serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(map).to_string()
}

fn counter_state(counter: flow::CounterState) -> wit::CounterState {
    wit::CounterState {
        attribute: counter.attribute,
        counter_dn: counter.counter_dn,
        current: counter.current,
        next: counter.next,
    }
}

pub fn outcome(outcome: flow::Outcome) -> wit::Outcome {
    wit::Outcome {
        dn: outcome.dn,
        status: status(outcome.status),
        attributes: attributes_to_wit(outcome.attributes),
        spawner_updates: json(outcome.spawner_updates),
        allocations: outcome
            .allocations
            .into_iter()
            .map(|allocation| wit::Allocation {
                attribute: allocation.attribute,
                counter_dn: allocation.counter_dn,
                value: allocation.value,
            })
            .collect(),
    }
}

pub fn plan(plan: flow::Plan) -> wit::RunPlan {
    wit::RunPlan {
        dn: plan.dn,
        status: status(plan.status),
        searches: plan
            .searches
            .into_iter()
            .map(|search| wit::PlannedSearch {
                purpose: search.purpose,
                base: search.base,
                scope: scope_to_wit(search.scope),
                filter: search.filter,
            })
            .collect(),
        entry: attributes_to_wit(plan.entry),
        counters: plan.counters.into_iter().map(counter_state).collect(),
        spawner_updates: json(plan.spawner_updates),
    }
}

pub fn check_report(report: flow::CheckReport) -> wit::CheckReport {
    wit::CheckReport {
        subschema: report.subschema,
        object_classes: report.object_classes,
        counters: report.counters.into_iter().map(counter_state).collect(),
    }
}

pub fn error(error: HookError) -> wit::HookError {
    let kind = match error.kind {
        ErrorKind::InvalidConfig => wit::ErrorKind::InvalidConfig,
        ErrorKind::InvalidInput => wit::ErrorKind::InvalidInput,
        ErrorKind::RuleRejected => wit::ErrorKind::RuleRejected,
        ErrorKind::Schema => wit::ErrorKind::Schema,
        ErrorKind::Ambiguous => wit::ErrorKind::Ambiguous,
        ErrorKind::Conflict => wit::ErrorKind::Conflict,
        ErrorKind::Directory => wit::ErrorKind::Directory,
    };
    wit::HookError {
        kind,
        message: error.message,
        ldap: error.ldap.map(ldap_error_to_wit),
    }
}
