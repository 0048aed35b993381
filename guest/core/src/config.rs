//! Validation of the hook's configuration.
//!
//! Hosts pass the options as they read them ([`RawConfig`]). This module checks them
//! once, in one place for both hosts, and reports problems with the option names of
//! the Python `LDAP` class. Nothing here talks to the directory.

use crate::names;
use crate::sources::Source;
use crate::template::Template;
use crate::types::{Attribute, RuleOptions};
use serde_json::Value;

/// A search of `search_attribute_queries` as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawQuery {
    pub search_base: String,
    pub search_filter: String,
    pub attributes: Vec<String>,
}

/// An entry of `search_result_operations` as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawOperation {
    pub attribute: String,
    pub action: String,
    pub modify_dn: String,
}

/// The configuration as the host read it.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    pub server: String,
    pub base_dn: String,
    pub submit_keys: Vec<String>,
    pub rules: RuleOptions,
    pub object_classes: Vec<String>,
    pub object_attributes: Vec<Attribute>,
    pub unique_object_attributes: Vec<String>,
    pub dynamic_attributes: Vec<(String, String)>,
    pub search_attribute_queries: Vec<RawQuery>,
    pub search_result_operations: Vec<RawOperation>,
    pub set_spawner_attributes: String,
    /// `allocation_method`: `compare-and-swap`, `increment` or `auto`; empty means `auto`.
    pub allocation_method: String,
}

/// How counters are moved (`allocation_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocationSetting {
    /// Delete the value read and add its successor in one modify, retrying on conflict.
    CompareAndSwap,
    /// Modify-Increment with the Post-Read control; the server must advertise both.
    Increment,
    /// Increment where the server advertises it, compare-and-swap elsewhere.
    Auto,
}

/// An attribute of a new entry with its value templates.
#[derive(Debug, Clone)]
pub struct TemplateAttribute {
    pub name: String,
    pub templates: Vec<Template>,
}

/// An allocation from a counter entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub attribute: String,
    pub counter_dn: String,
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: String,
    pub base_dn: String,
    pub submit_keys: Vec<String>,
    pub rules: RuleOptions,
    pub object_classes: Vec<String>,
    pub object_attributes: Vec<TemplateAttribute>,
    /// Attributes that identify an existing entry; empty means those of the RDN.
    pub unique_object_attributes: Vec<String>,
    pub dynamic_attributes: Vec<(String, Source)>,
    pub queries: Vec<RawQuery>,
    pub operations: Vec<Operation>,
    /// `set_spawner_attributes` with every string parsed as a template.
    pub spawner_attributes: Vec<(String, SpawnerValue)>,
    pub allocation_method: AllocationSetting,
}

impl Config {
    /// Returns the source of the placeholder `name`.
    pub fn source_of(&self, name: &str) -> Option<Source> {
        self.dynamic_attributes
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, source)| *source)
    }

    /// Returns the operation that allocates `attribute`, if any.
    pub fn operation_for(&self, attribute: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|operation| names::same(&operation.attribute, attribute))
    }
}

/// Checks `raw` and returns the configuration, or a message naming the option.
pub fn validate(raw: RawConfig) -> Result<Config, String> {
    if raw.base_dn.trim().is_empty() {
        return Err(
            "base_dn is empty; set it to the DN below which entries are created, for example \
             dc=example,dc=org"
                .to_string(),
        );
    }

    if raw.object_classes.is_empty() {
        return Err(
            "object_classes is empty; list the object classes of a new entry, for example \
             ['person']"
                .to_string(),
        );
    }
    for class in &raw.object_classes {
        if !names::is_descriptor(class) && !names::is_numeric_oid(class) {
            return Err(format!(
                "object_classes contains `{class}`, which is not a valid object class name"
            ));
        }
    }

    for (from, _) in &raw.rules.replacements {
        if from.is_empty() {
            return Err(
                "replace_object_with has an empty key; remove it or name the text to replace"
                    .to_string(),
            );
        }
    }

    let mut dynamic_attributes = Vec::with_capacity(raw.dynamic_attributes.len());
    for (name, code) in &raw.dynamic_attributes {
        let Some(source) = Source::parse(code) else {
            return Err(format!(
                "dynamic_attributes['{name}'] is `{code}`, which is not a source; use one of {}",
                Source::choices()
            ));
        };
        dynamic_attributes.push((name.clone(), source));
    }

    let mut object_attributes: Vec<TemplateAttribute> = Vec::new();
    for attribute in &raw.object_attributes {
        names::check_attribute_description(&attribute.name)
            .map_err(|reason| format!("object_attributes: {reason}"))?;
        if names::same(&attribute.name, "objectClass") {
            return Err(
                "object_attributes sets objectClass; list object classes in object_classes"
                    .to_string(),
            );
        }
        if object_attributes
            .iter()
            .any(|earlier| names::same(&earlier.name, &attribute.name))
        {
            return Err(format!(
                "object_attributes names `{}` twice; give it once with a list of values",
                attribute.name
            ));
        }
        if attribute.values.is_empty() {
            return Err(format!(
                "object_attributes['{}'] has no value; give it a value or remove it",
                attribute.name
            ));
        }
        let mut templates = Vec::with_capacity(attribute.values.len());
        for value in &attribute.values {
            let template = Template::parse(value)
                .map_err(|reason| format!("object_attributes['{}']: {reason}", attribute.name))?;
            check_placeholders(
                &template,
                &dynamic_attributes,
                "object_attributes",
                &attribute.name,
            )?;
            templates.push(template);
        }
        object_attributes.push(TemplateAttribute {
            name: attribute.name.clone(),
            templates,
        });
    }

    for name in &raw.unique_object_attributes {
        names::check_attribute_description(name)
            .map_err(|reason| format!("unique_object_attributes: {reason}"))?;
    }

    for (index, query) in raw.search_attribute_queries.iter().enumerate() {
        if query.search_base.trim().is_empty() {
            return Err(format!(
                "search_attribute_queries[{index}] has no search_base; set the DN to search below"
            ));
        }
        let filter = query.search_filter.trim();
        if !(filter.starts_with('(') && filter.ends_with(')')) {
            return Err(format!(
                "search_attribute_queries[{index}] has the search_filter `{}`, which is not a \
                 filter in parentheses such as (objectClass=x-nextUserIdentifier)",
                query.search_filter
            ));
        }
        for name in &query.attributes {
            if name != "*" && name != "+" {
                names::check_attribute_description(name).map_err(|reason| {
                    format!("search_attribute_queries[{index}].attributes: {reason}")
                })?;
            }
        }
    }

    let mut operations: Vec<Operation> = Vec::new();
    for operation in &raw.search_result_operations {
        names::check_attribute_type(&operation.attribute)
            .map_err(|reason| format!("search_result_operations: {reason}"))?;
        if operation.action != "1" && operation.action != "INCREMENT_ATTRIBUTE" {
            return Err(format!(
                "search_result_operations['{}'] has the action `{}`; the only action is \
                 INCREMENT_ATTRIBUTE (\"1\")",
                operation.attribute, operation.action
            ));
        }
        if operation.modify_dn.trim().is_empty() {
            return Err(format!(
                "search_result_operations['{}'] has no modify_dn; set it to the DN of the \
                 counter entry, for example cn=uidNext,dc=example,dc=org",
                operation.attribute
            ));
        }
        if operations
            .iter()
            .any(|earlier| names::same(&earlier.attribute, &operation.attribute))
        {
            return Err(format!(
                "search_result_operations names `{}` twice",
                operation.attribute
            ));
        }
        operations.push(Operation {
            attribute: operation.attribute.clone(),
            counter_dn: operation.modify_dn.clone(),
        });
    }

    let spawner_attributes =
        parse_spawner_attributes(&raw.set_spawner_attributes, &dynamic_attributes)?;

    let allocation_method = match raw.allocation_method.trim() {
        "" | "auto" => AllocationSetting::Auto,
        "compare-and-swap" => AllocationSetting::CompareAndSwap,
        "increment" => AllocationSetting::Increment,
        other => {
            return Err(format!(
                "allocation_method is `{other}`; use compare-and-swap, increment or auto"
            ));
        }
    };

    Ok(Config {
        server: raw.server,
        base_dn: raw.base_dn,
        submit_keys: raw.submit_keys,
        rules: raw.rules,
        object_classes: raw.object_classes,
        object_attributes,
        unique_object_attributes: raw.unique_object_attributes,
        dynamic_attributes,
        queries: raw.search_attribute_queries,
        operations,
        spawner_attributes,
        allocation_method,
    })
}

fn check_placeholders(
    template: &Template,
    dynamic_attributes: &[(String, Source)],
    option: &str,
    key: &str,
) -> Result<(), String> {
    for name in template.placeholders() {
        if !dynamic_attributes.iter().any(|(known, _)| known == name) {
            return Err(format!(
                "{option}['{key}'] uses the placeholder `{{{name}}}`, which dynamic_attributes \
                 does not define; add '{name}' to dynamic_attributes with its source"
            ));
        }
    }
    Ok(())
}

/// A value of `set_spawner_attributes`, with its strings parsed once as templates.
#[derive(Debug, Clone)]
pub enum SpawnerValue {
    Template(Template),
    List(Vec<SpawnerValue>),
    Map(Vec<(String, SpawnerValue)>),
    /// A number, a boolean or null, passed on unchanged.
    Plain(Value),
}

fn parse_spawner_attributes(
    text: &str,
    dynamic_attributes: &[(String, Source)],
) -> Result<Vec<(String, SpawnerValue)>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|error| format!("set_spawner_attributes is not valid JSON: {error}"))?;
    let Value::Object(map) = value else {
        return Err(
            "set_spawner_attributes must be a dictionary of spawner attributes".to_string(),
        );
    };
    map.into_iter()
        .map(|(key, value)| {
            let parsed = parse_spawner_value(value, dynamic_attributes, &format!("['{key}']"))?;
            Ok((key, parsed))
        })
        .collect()
}

fn parse_spawner_value(
    value: Value,
    dynamic_attributes: &[(String, Source)],
    path: &str,
) -> Result<SpawnerValue, String> {
    Ok(match value {
        Value::String(text) => {
            let template = Template::parse(&text)
                .map_err(|reason| format!("set_spawner_attributes{path}: {reason}"))?;
            let key = path.trim_start_matches("['").trim_end_matches("']");
            check_placeholders(&template, dynamic_attributes, "set_spawner_attributes", key)?;
            SpawnerValue::Template(template)
        }
        Value::Array(items) => SpawnerValue::List(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    parse_spawner_value(item, dynamic_attributes, &format!("{path}[{index}]"))
                })
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => SpawnerValue::Map(
            map.into_iter()
                .map(|(key, item)| {
                    let parsed =
                        parse_spawner_value(item, dynamic_attributes, &format!("{path}['{key}']"))?;
                    Ok((key, parsed))
                })
                .collect::<Result<_, String>>()?,
        ),
        plain => SpawnerValue::Plain(plain),
    })
}

/// Returns every template in `set_spawner_attributes`.
pub fn spawner_templates(attributes: &[(String, SpawnerValue)]) -> Vec<&Template> {
    fn collect<'a>(value: &'a SpawnerValue, out: &mut Vec<&'a Template>) {
        match value {
            SpawnerValue::Template(template) => out.push(template),
            SpawnerValue::List(items) => items.iter().for_each(|item| collect(item, out)),
            SpawnerValue::Map(entries) => entries.iter().for_each(|(_, item)| collect(item, out)),
            SpawnerValue::Plain(_) => {}
        }
    }
    let mut templates = Vec::new();
    attributes
        .iter()
        .for_each(|(_, value)| collect(value, &mut templates));
    templates
}

/// Fills every template in `set_spawner_attributes` with `lookup`. A string that is a
/// single placeholder with several values becomes a JSON array.
pub fn render_spawner_attributes(
    attributes: &[(String, SpawnerValue)],
    lookup: &mut dyn FnMut(&str) -> Result<Vec<String>, String>,
) -> Result<serde_json::Map<String, Value>, String> {
    fn render(
        value: &SpawnerValue,
        lookup: &mut dyn FnMut(&str) -> Result<Vec<String>, String>,
        path: &mut Vec<String>,
    ) -> Result<Value, String> {
        Ok(match value {
            SpawnerValue::Template(template) => {
                let mut values = template.render(&mut *lookup).map_err(|reason| {
                    format!("set_spawner_attributes{}: {reason}", path.concat())
                })?;
                if values.len() == 1 {
                    Value::String(values.remove(0))
                } else {
                    Value::Array(values.into_iter().map(Value::String).collect())
                }
            }
            SpawnerValue::List(items) => {
                let mut rendered = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    path.push(format!("[{index}]"));
                    rendered.push(render(item, lookup, path)?);
                    path.pop();
                }
                Value::Array(rendered)
            }
            SpawnerValue::Map(entries) => {
                let mut rendered = serde_json::Map::new();
                for (key, item) in entries {
                    path.push(format!("['{key}']"));
                    rendered.insert(key.clone(), render(item, lookup, path)?);
                    path.pop();
                }
                Value::Object(rendered)
            }
            SpawnerValue::Plain(plain) => plain.clone(),
        })
    }

    let mut path = Vec::new();
    let mut rendered = serde_json::Map::new();
    for (key, value) in attributes {
        path.push(format!("['{key}']"));
        rendered.insert(key.clone(), render(value, lookup, &mut path)?);
        path.pop();
    }
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> RawConfig {
        RawConfig {
            server: "ldap://127.0.0.1".into(),
            base_dn: "dc=example,dc=org".into(),
            object_classes: vec!["person".into()],
            ..RawConfig::default()
        }
    }

    fn error_of(raw: RawConfig) -> String {
        validate(raw).expect_err("invalid configuration")
    }

    #[test]
    fn validate_accepts_minimal_config() {
        assert!(validate(minimal()).is_ok());
    }

    #[test]
    fn validate_names_missing_base_dn() {
        let raw = RawConfig {
            base_dn: " ".into(),
            ..minimal()
        };
        assert!(error_of(raw).starts_with("base_dn is empty"));
    }

    #[test]
    fn validate_rejects_unknown_source() {
        let raw = RawConfig {
            dynamic_attributes: vec![("uid".into(), "7".into())],
            ..minimal()
        };
        let error = error_of(raw);
        assert!(
            error.contains("dynamic_attributes['uid'] is `7`"),
            "{error}"
        );
        assert!(error.contains("SPAWNER_SUBMIT_DATA (\"1\")"), "{error}");
    }

    #[test]
    fn validate_rejects_undefined_placeholder() {
        let raw = RawConfig {
            object_attributes: vec![Attribute::new("homeDirectory", vec!["/home/{uid}".into()])],
            ..minimal()
        };
        let error = error_of(raw);
        assert!(error.contains("`{uid}`"), "{error}");
        assert!(error.contains("add 'uid' to dynamic_attributes"), "{error}");
    }

    #[test]
    fn validate_rejects_undefined_placeholder_in_spawner_attributes() {
        let raw = RawConfig {
            set_spawner_attributes: r#"{"environment": {"NB_UID": "{uidNumber}"}}"#.into(),
            ..minimal()
        };
        let error = error_of(raw);
        assert!(
            error.contains("set_spawner_attributes['environment']['NB_UID']"),
            "{error}"
        );
    }

    #[test]
    fn validate_rejects_unknown_action() {
        let raw = RawConfig {
            search_result_operations: vec![RawOperation {
                attribute: "uidNumber".into(),
                action: "2".into(),
                modify_dn: "cn=uidNext,dc=example,dc=org".into(),
            }],
            ..minimal()
        };
        assert!(error_of(raw).contains("the only action is INCREMENT_ATTRIBUTE"));
    }

    #[test]
    fn validate_rejects_query_without_filter() {
        let raw = RawConfig {
            search_attribute_queries: vec![RawQuery {
                search_base: "dc=example,dc=org".into(),
                search_filter: "objectClass=x".into(),
                attributes: vec![],
            }],
            ..minimal()
        };
        assert!(error_of(raw).contains("search_attribute_queries[0]"));
    }

    #[test]
    fn render_spawner_attributes_fills_nested_values() {
        let raw = RawConfig {
            dynamic_attributes: vec![("uid".into(), "4".into())],
            set_spawner_attributes:
                r#"{"environment": {"NB_USER": "{uid}", "N": 3}, "cmd": ["a", "{uid}"]}"#.into(),
            ..minimal()
        };
        let config = validate(raw).expect("valid");
        let mut lookup = |_: &str| Ok(vec!["alice".to_string()]);
        let rendered =
            render_spawner_attributes(&config.spawner_attributes, &mut lookup).expect("rendered");
        assert_eq!(
            Value::Object(rendered),
            serde_json::json!({"environment": {"NB_USER": "alice", "N": 3}, "cmd": ["a", "alice"]})
        );
    }
}
