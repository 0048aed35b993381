//! The spawn context: the submitted value and the spawner's attributes as JSON.

use serde_json::Value;

/// The context as the host passes it.
#[derive(Debug, Clone, Default)]
pub struct RawContext {
    pub user_name: String,
    /// JSON value found at `submit_spawner_attribute`.
    pub submitted: String,
    pub spawner_attributes: Vec<(String, String)>,
    pub user_attributes: Vec<(String, String)>,
}

/// The context with its JSON read.
#[derive(Debug, Clone)]
pub struct Context {
    pub user_name: String,
    pub submitted: Value,
    pub spawner_attributes: Vec<(String, Value)>,
    pub user_attributes: Vec<(String, Value)>,
}

/// Reads the JSON of a context. The user name is added to the user attributes as
/// `name` unless the host passed one.
pub fn read(raw: RawContext) -> Result<Context, String> {
    let submitted = serde_json::from_str(&raw.submitted)
        .map_err(|error| format!("the submitted value is not valid JSON: {error}"))?;
    let spawner_attributes = read_attributes(raw.spawner_attributes, "spawner")?;
    let mut user_attributes = read_attributes(raw.user_attributes, "user")?;
    if !raw.user_name.is_empty() && !user_attributes.iter().any(|(name, _)| name == "name") {
        user_attributes.push(("name".to_string(), Value::String(raw.user_name.clone())));
    }
    Ok(Context {
        user_name: raw.user_name,
        submitted,
        spawner_attributes,
        user_attributes,
    })
}

fn read_attributes(
    pairs: Vec<(String, String)>,
    owner: &str,
) -> Result<Vec<(String, Value)>, String> {
    pairs
        .into_iter()
        .map(|(name, text)| {
            serde_json::from_str(&text)
                .map(|value| (name.clone(), value))
                .map_err(|error| {
                    format!("the {owner} attribute `{name}` is not valid JSON: {error}")
                })
        })
        .collect()
}

/// Follows `keys` into the submitted value and returns the string at their end.
///
/// A string is used as it is, even when keys are configured, as in ldap-hooks 0.1.2.
/// A dictionary needs keys; each key must exist, and the value at the end must be a
/// non-empty string.
pub fn resolve_submitted(submitted: &Value, keys: &[String]) -> Result<String, String> {
    let mut current = submitted;
    let mut path = String::new();

    if current.is_object() && keys.is_empty() {
        return Err(
            "the submitted value is a dictionary, but submit_spawner_attribute_keys is \
             empty; set it to the keys that lead to the name, for example ('PersonDN',)"
                .to_string(),
        );
    }

    for key in keys {
        let Value::Object(map) = current else { break };
        path.push_str(&format!("[{key:?}]"));
        current = map.get(key).ok_or_else(|| {
            let known: Vec<&str> = map.keys().map(String::as_str).take(10).collect();
            format!(
                "the submitted value has no key {path}; it has {}. Check \
                 submit_spawner_attribute_keys",
                if known.is_empty() {
                    "no keys".to_string()
                } else {
                    format!("the keys {}", known.join(", "))
                }
            )
        })?;
    }

    match current {
        Value::String(text) if !text.trim().is_empty() => Ok(text.clone()),
        Value::String(_) => Err(format!(
            "the submitted value{path} is empty; submit the entry's name"
        )),
        Value::Null => Err(format!(
            "no value was submitted{}; the spawn needs the entry's name, for example \
             /CN=Jane Doe",
            if path.is_empty() {
                String::new()
            } else {
                format!(" at {path}")
            }
        )),
        other => Err(format!(
            "the submitted value{path} is {}, not text; check submit_spawner_attribute and \
             submit_spawner_attribute_keys",
            kind_of(other)
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "None",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dictionary",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn resolve_follows_nested_keys() {
        let submitted = json!({"User": {"CERT": "/CN=alice"}});
        assert_eq!(
            resolve_submitted(&submitted, &keys(&["User", "CERT"])),
            Ok("/CN=alice".to_string())
        );
    }

    #[test]
    fn resolve_uses_string_directly() {
        assert_eq!(
            resolve_submitted(&json!("/CN=alice"), &keys(&["PersonDN"])),
            Ok("/CN=alice".to_string())
        );
    }

    #[test]
    fn resolve_names_missing_key() {
        let error = resolve_submitted(&json!({"Other": "x"}), &keys(&["PersonDN"]))
            .expect_err("missing key");
        assert!(error.contains("[\"PersonDN\"]"), "{error}");
        assert!(error.contains("the keys Other"), "{error}");
    }

    #[test]
    fn resolve_rejects_non_strings() {
        assert!(resolve_submitted(&json!({"a": 1}), &keys(&["a"])).is_err());
        assert!(resolve_submitted(&json!({"a": "x"}), &[]).is_err());
        assert!(resolve_submitted(&json!(null), &[]).is_err());
        assert!(resolve_submitted(&json!("  "), &[]).is_err());
    }

    #[test]
    fn read_adds_user_name() {
        let context = read(RawContext {
            user_name: "alice".into(),
            submitted: "\"/CN=alice\"".into(),
            ..RawContext::default()
        })
        .expect("valid");
        assert_eq!(
            context.user_attributes,
            vec![("name".to_string(), json!("alice"))]
        );
    }
}
