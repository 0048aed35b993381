//! JSON output of the commands.

use crate::bindings::exports::ldap_hooks::hook::hook as wit;
use crate::bindings::ldap_hooks::hook::directory::{Attribute, Scope};
use serde_json::{Map, Value, json};

fn attributes(attributes: &[Attribute]) -> Value {
    let mut object = Map::new();
    for attribute in attributes {
        object.insert(attribute.name.clone(), json!(attribute.values));
    }
    Value::Object(object)
}

fn status(status: wit::EntryStatus) -> &'static str {
    match status {
        wit::EntryStatus::Created => "created",
        wit::EntryStatus::Found => "found",
    }
}

fn scope(scope: Scope) -> &'static str {
    match scope {
        Scope::BaseObject => "base",
        Scope::SingleLevel => "one",
        Scope::WholeSubtree => "sub",
    }
}

/// The spawner updates, which the component returns as JSON text.
fn updates(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::String(text.to_string()))
}

fn counter(counter: &wit::CounterState) -> Value {
    json!({
        "attribute": counter.attribute,
        "counter_dn": counter.counter_dn,
        "current": counter.current,
        "next": counter.next,
    })
}

pub fn outcome(outcome: &wit::Outcome) -> Value {
    json!({
        "dn": outcome.dn,
        "status": status(outcome.status),
        "attributes": attributes(&outcome.attributes),
        "spawner_updates": updates(&outcome.spawner_updates),
        "allocations": outcome.allocations.iter().map(|allocation| json!({
            "attribute": allocation.attribute,
            "counter_dn": allocation.counter_dn,
            "value": allocation.value,
        })).collect::<Vec<_>>(),
    })
}

pub fn plan(plan: &wit::RunPlan) -> Value {
    json!({
        "dn": plan.dn,
        "status": match plan.status {
            wit::EntryStatus::Created => "would-create",
            wit::EntryStatus::Found => "found",
        },
        "searches": plan.searches.iter().map(|search| json!({
            "purpose": search.purpose,
            "base": search.base,
            "scope": scope(search.scope),
            "filter": search.filter,
        })).collect::<Vec<_>>(),
        "entry": attributes(&plan.entry),
        "counters": plan.counters.iter().map(counter).collect::<Vec<_>>(),
        "spawner_updates": updates(&plan.spawner_updates),
    })
}

pub fn check(report: &wit::CheckReport, server: &str, bind: &str) -> Value {
    json!({
        "server": server,
        "bind": bind,
        "subschema": report.subschema,
        "object_classes": report.object_classes,
        "counters": report.counters.iter().map(counter).collect::<Vec<_>>(),
    })
}
