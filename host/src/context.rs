//! The spawn context of the standalone host: a JSON object that stands for the
//! JupyterHub spawner.
//!
//! Top-level keys are spawner attributes (for example `user_options`), and the
//! object under `user` contains the user's attributes, with the user name at
//! `user.name`. `submit_spawner_attribute` is a dotted path into this object, as it is
//! a path of attributes on the spawner in JupyterHub:
//!
//! ```json
//! {"user": {"name": "alice"}, "user_options": {"dn": "/CN=alice/SN=Smith"}}
//! ```

use crate::bindings::exports::ldap_hooks::hook::hook::Context;
use anyhow::{Result, anyhow, bail};
use serde_json::{Map, Value};

/// Builds the WIT context from the JSON object and the command-line overrides.
pub fn build(
    mut spawner: Map<String, Value>,
    submit_path: &str,
    user_name: Option<&str>,
    submitted: Option<&str>,
) -> Result<Context> {
    let mut user = match spawner.remove("user") {
        None => Map::new(),
        Some(Value::Object(user)) => user,
        Some(other) => {
            bail!("the context's `user` must be an object of user attributes, not {other}")
        }
    };
    if let Some(name) = user_name {
        user.insert("name".to_string(), Value::String(name.to_string()));
    }
    let name = match user.get("name") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        Some(_) | None => {
            bail!("the context has no user name; set user.name in the context or pass --user NAME")
        }
    };

    let submitted = match submitted {
        Some(text) => Value::String(text.to_string()),
        None => {
            if submit_path.is_empty() {
                bail!(
                    "submit_spawner_attribute is not set; set it to the path of the submitted name in \
                     the context, for example user_options, or pass --submitted"
                );
            }
            let mut root = spawner.clone();
            root.insert("user".to_string(), Value::Object(user.clone()));
            resolve(&Value::Object(root), submit_path)?.clone()
        }
    };

    Ok(Context {
        user_name: name,
        submitted: submitted.to_string(),
        spawner_attributes: spawner
            .into_iter()
            .map(|(key, value)| (key, value.to_string()))
            .collect(),
        user_attributes: user
            .into_iter()
            .map(|(key, value)| (key, value.to_string()))
            .collect(),
    })
}

/// Follows a dotted attribute path through JSON objects.
fn resolve<'v>(root: &'v Value, path: &str) -> Result<&'v Value> {
    let mut current = root;
    let mut walked = Vec::new();
    for step in path.split('.') {
        walked.push(step);
        current = current
            .as_object()
            .and_then(|object| object.get(step))
            .ok_or_else(|| {
                anyhow!(
                    "the context has no `{}`, which submit_spawner_attribute `{path}` names",
                    walked.join(".")
                )
            })?;
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn build_follows_the_submit_path() {
        let spawner = object(json!({"user": {"name": "alice", "data": {"PersonDN": "/CN=alice"}}}));
        let context = build(spawner, "user.data", None, None).expect("valid");
        assert_eq!(context.user_name, "alice");
        assert_eq!(context.submitted, r#"{"PersonDN":"/CN=alice"}"#);
        assert!(context.spawner_attributes.is_empty());
        assert_eq!(context.user_attributes.len(), 2);
    }

    #[test]
    fn build_takes_overrides() {
        let context = build(Map::new(), "", Some("bob"), Some("/CN=bob")).expect("valid");
        assert_eq!(context.user_name, "bob");
        assert_eq!(context.submitted, "\"/CN=bob\"");
    }

    #[test]
    fn build_names_missing_path() {
        let spawner = object(json!({"user": {"name": "alice"}}));
        let error = build(spawner, "user_options", None, None).expect_err("missing");
        assert!(error.to_string().contains("no `user_options`"), "{error}");
    }

    #[test]
    fn build_needs_user_name() {
        let error = build(Map::new(), "", None, Some("/CN=x")).expect_err("no name");
        assert!(error.to_string().contains("--user"), "{error}");
    }
}
