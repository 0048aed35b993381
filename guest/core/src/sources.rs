//! The five sources of placeholder values (`dynamic_attributes`), with the codes and
//! constant names of ldap-hooks 0.1.2, and the lookup of a value in them.

use crate::names;
use crate::types::{Attribute, AttributeValue};
use serde_json::Value;

/// The source of a placeholder's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `SPAWNER_SUBMIT_DATA` ("1"): the attribute values read from the submitted value,
    /// plus the results of `search_attribute_queries`.
    SubmitData,
    /// `LDAP_SEARCH_ATTRIBUTE_QUERY` ("2"): attributes read from the directory, all
    /// values: the found or new entry, or before the add the query results.
    SearchAttribute,
    /// `SPAWNER_ATTRIBUTE` ("3"): an attribute of the spawner.
    SpawnerAttribute,
    /// `SPAWNER_USER_ATTRIBUTE` ("4"): an attribute of the spawner's user, such as `name`.
    UserAttribute,
    /// `LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY` ("5"): like `LDAP_SEARCH_ATTRIBUTE_QUERY`,
    /// but only the first value.
    FirstSearchAttribute,
}

const ALL: [(Source, &str, &str); 5] = [
    (Source::SubmitData, "1", "SPAWNER_SUBMIT_DATA"),
    (Source::SearchAttribute, "2", "LDAP_SEARCH_ATTRIBUTE_QUERY"),
    (Source::SpawnerAttribute, "3", "SPAWNER_ATTRIBUTE"),
    (Source::UserAttribute, "4", "SPAWNER_USER_ATTRIBUTE"),
    (
        Source::FirstSearchAttribute,
        "5",
        "LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY",
    ),
];

impl Source {
    /// Reads a configured source: the 0.1.2 code (`"1"`) or the constant's name.
    pub fn parse(text: &str) -> Option<Source> {
        ALL.iter()
            .find(|(_, code, name)| text == *code || text == *name)
            .map(|(source, _, _)| *source)
    }

    /// Returns the name of the Python constant for this source.
    pub fn constant_name(self) -> &'static str {
        ALL.iter()
            .find(|(source, _, _)| *source == self)
            .map_or("", |(_, _, name)| name)
    }

    /// Lists the accepted spellings, for error messages.
    pub fn choices() -> String {
        ALL.iter()
            .map(|(_, code, name)| format!("{name} (\"{code}\")"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Returns true for the sources read from the directory.
    pub fn is_directory(self) -> bool {
        matches!(self, Source::SearchAttribute | Source::FirstSearchAttribute)
    }
}

/// The values available to placeholders at one step of the hook.
#[derive(Debug, Clone, Default)]
pub struct Values {
    /// Attribute values read from the submitted value.
    pub submitted: Vec<AttributeValue>,
    /// Attributes from `search_attribute_queries`, after allocations.
    pub queried: Vec<Attribute>,
    /// Attributes read from the directory for the directory sources: the entry, or
    /// before the add the query results. `None` when nothing was read yet.
    pub directory: Option<Vec<Attribute>>,
    /// Spawner attributes as name and JSON value.
    pub spawner: Vec<(String, Value)>,
    /// User attributes as name and JSON value.
    pub user: Vec<(String, Value)>,
}

impl Values {
    /// Looks up `name` in `source`. Returns the values, or a clause that explains why
    /// there are none.
    pub fn lookup(&self, name: &str, source: Source) -> Result<Vec<String>, String> {
        match source {
            Source::SubmitData => {
                let mut values: Vec<String> = self
                    .submitted
                    .iter()
                    .filter(|pair| names::same(&pair.attribute, name))
                    .map(|pair| pair.value.clone())
                    .collect();
                values.extend(attribute_values(&self.queried, name));
                if values.is_empty() {
                    Err(format!(
                        "`{name}` is neither in the submitted value nor in a \
                         search_attribute_queries result"
                    ))
                } else {
                    Ok(values)
                }
            }
            Source::SearchAttribute | Source::FirstSearchAttribute => {
                let Some(attributes) = &self.directory else {
                    return Err(format!(
                        "`{name}` comes from the directory ({}), which has not been read at \
                         this step",
                        source.constant_name()
                    ));
                };
                let mut values = attribute_values(attributes, name);
                if values.is_empty() {
                    return Err(format!(
                        "the directory returned no attribute `{name}` ({})",
                        source.constant_name()
                    ));
                }
                if source == Source::FirstSearchAttribute {
                    values.truncate(1);
                }
                Ok(values)
            }
            Source::SpawnerAttribute => json_attribute(&self.spawner, name, "spawner"),
            Source::UserAttribute => json_attribute(&self.user, name, "spawner's user"),
        }
    }
}

fn attribute_values(attributes: &[Attribute], name: &str) -> Vec<String> {
    attributes
        .iter()
        .filter(|attribute| names::same(&attribute.name, name))
        .flat_map(|attribute| attribute.values.iter().cloned())
        .collect()
}

/// Turns a JSON attribute of the spawner or user into placeholder text. Strings and
/// numbers are used as they are, booleans as Python writes them. Objects, arrays and
/// null have no text form.
fn json_attribute(
    attributes: &[(String, Value)],
    name: &str,
    owner: &str,
) -> Result<Vec<String>, String> {
    let Some((_, value)) = attributes.iter().find(|(known, _)| known == name) else {
        return Err(format!("the {owner} has no attribute `{name}`"));
    };
    match value {
        Value::String(text) if !text.is_empty() => Ok(vec![text.clone()]),
        Value::String(_) => Err(format!("the {owner} attribute `{name}` is empty")),
        Value::Number(number) => Ok(vec![number.to_string()]),
        Value::Bool(true) => Ok(vec!["True".to_string()]),
        Value::Bool(false) => Ok(vec!["False".to_string()]),
        Value::Null => Err(format!("the {owner} attribute `{name}` is not set (None)")),
        Value::Array(_) | Value::Object(_) => Err(format!(
            "the {owner} attribute `{name}` is a list or dictionary; placeholders take text \
             or numbers"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_accepts_codes_and_names() {
        assert_eq!(Source::parse("1"), Some(Source::SubmitData));
        assert_eq!(
            Source::parse("LDAP_SEARCH_ATTRIBUTE_QUERY"),
            Some(Source::SearchAttribute)
        );
        assert_eq!(Source::parse("5"), Some(Source::FirstSearchAttribute));
        assert_eq!(Source::parse("6"), None);
        assert_eq!(Source::parse("spawner_attribute"), None);
    }

    #[test]
    fn lookup_matches_ldap_names_case_insensitively() {
        let values = Values {
            submitted: vec![AttributeValue::new("CN", "alice")],
            directory: Some(vec![Attribute::new("uidNumber", vec!["2001".into()])]),
            ..Values::default()
        };
        assert_eq!(
            values.lookup("cn", Source::SubmitData),
            Ok(vec!["alice".to_string()])
        );
        assert_eq!(
            values.lookup("UIDNUMBER", Source::SearchAttribute),
            Ok(vec!["2001".to_string()])
        );
    }

    #[test]
    fn lookup_first_takes_one_value() {
        let values = Values {
            directory: Some(vec![Attribute::new(
                "mail",
                vec!["a@x".into(), "b@x".into()],
            )]),
            ..Values::default()
        };
        assert_eq!(
            values
                .lookup("mail", Source::SearchAttribute)
                .map(|v| v.len()),
            Ok(2)
        );
        assert_eq!(
            values.lookup("mail", Source::FirstSearchAttribute),
            Ok(vec!["a@x".to_string()])
        );
    }

    #[test]
    fn lookup_formats_json_scalars() {
        let values = Values {
            spawner: vec![
                ("port".into(), json!(8888)),
                ("debug".into(), json!(true)),
                ("nothing".into(), json!(null)),
                ("environment".into(), json!({"A": "b"})),
            ],
            user: vec![("name".into(), json!("alice"))],
            ..Values::default()
        };
        assert_eq!(
            values.lookup("port", Source::SpawnerAttribute),
            Ok(vec!["8888".to_string()])
        );
        assert_eq!(
            values.lookup("debug", Source::SpawnerAttribute),
            Ok(vec!["True".to_string()])
        );
        assert!(values.lookup("nothing", Source::SpawnerAttribute).is_err());
        assert!(
            values
                .lookup("environment", Source::SpawnerAttribute)
                .is_err()
        );
        assert!(values.lookup("Name", Source::UserAttribute).is_err());
        assert_eq!(
            values.lookup("name", Source::UserAttribute),
            Ok(vec!["alice".to_string()])
        );
    }

    #[test]
    fn lookup_before_directory_read_explains() {
        let error = Values::default()
            .lookup("uidNumber", Source::SearchAttribute)
            .expect_err("nothing read");
        assert!(error.contains("has not been read"), "{error}");
    }
}
