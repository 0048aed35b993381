//! Finding the user's entry: reading the submitted name, checking the schema, and the
//! uniqueness search.

use super::Hook;
use super::create::NewEntry;
use crate::context::{self, RawContext};
use crate::dn;
use crate::error::{ErrorKind, HookError, quote};
use crate::filter;
use crate::limits;
use crate::schema::Schema;
use crate::sources::{Source, Values};
use crate::types::{AttributeValue, ParsedName, Scope};
use std::sync::Arc;

/// The result of the preparation: an existing entry or a checked new one.
pub(super) enum Prepared {
    Found(Found),
    New(NewEntry),
}

/// An existing entry: its DN and the values for its templates. The directory
/// source of those values contains the entry's attributes.
pub(super) struct Found {
    pub(super) dn: String,
    pub(super) values: Values,
}

impl Hook<'_, '_, '_> {
    /// Everything up to the first write.
    pub(super) fn prepare(&mut self, raw_context: RawContext) -> Result<Prepared, HookError> {
        let context = context::read(raw_context).map_err(HookError::input)?;
        let submitted = context::resolve_submitted(&context.submitted, &self.config.submit_keys)
            .map_err(HookError::input)?;
        limits::check_submitted(&submitted).map_err(HookError::input)?;
        let parsed = self.parse_name(&submitted)?;

        let info = self.server_info()?;
        let schema = &info.schema;
        let server = self.config.server.clone();
        let classes = schema
            .check_classes(&self.config.object_classes, &server)
            .map_err(HookError::schema)?;
        let parsed = canonical_names(parsed, schema, &server)?;

        let values = Values {
            submitted: parsed.template_values.clone(),
            spawner: context.spawner_attributes.clone(),
            user: context.user_attributes.clone(),
            ..Values::default()
        };

        let unique = self.identifying_values(&parsed, &values, schema)?;
        let mut filters: Vec<String> = self
            .config
            .object_classes
            .iter()
            .map(|class| filter::equality("objectClass", class))
            .collect();
        filters.extend(
            unique
                .iter()
                .map(|(name, value)| filter::equality(name, value)),
        );
        let uniqueness = filter::and(&filters);

        let base_dn = self.config.base_dn.clone();
        let mut matches = self
            .search(
                "uniqueness",
                &base_dn,
                Scope::WholeSubtree,
                &uniqueness,
                &["*".to_string()],
            )
            .map_err(|error| {
                HookError::directory(
                    &format!("searching {base_dn} with {uniqueness}"),
                    &server,
                    error,
                )
            })?;

        if matches.len() > 1 {
            let dns: Vec<&str> = matches
                .iter()
                .take(5)
                .map(|entry| entry.dn.as_str())
                .collect();
            return Err(HookError::new(
                ErrorKind::Ambiguous,
                format!(
                    "{} entries below {base_dn} match {uniqueness}: {}; remove the duplicates, or \
                     set unique_object_attributes so that one entry identifies the user",
                    matches.len(),
                    dns.join("; ")
                ),
            ));
        }
        if let Some(entry) = matches.pop() {
            let mut values = values;
            values.directory = Some(entry.attributes);
            return Ok(Prepared::Found(Found {
                dn: entry.dn,
                values,
            }));
        }

        self.prepare_new(context, parsed, classes, values, Arc::clone(&info))
            .map(Prepared::New)
    }

    /// Reads the submitted value with the DN rules and checks what they returned.
    fn parse_name(&mut self, submitted: &str) -> Result<ParsedName, HookError> {
        let options = self.config.rules.clone();
        let parsed = self
            .services
            .rules
            .parse(submitted, &options)
            .map_err(|reason| {
                HookError::new(
                    ErrorKind::RuleRejected,
                    format!(
                        "the submitted name {} was rejected: {reason}",
                        quote(submitted)
                    ),
                )
            })?;

        let rejected = |reason: String| {
            HookError::new(
                ErrorKind::RuleRejected,
                format!(
                    "the DN rules returned an unusable name for {}: {reason}",
                    quote(submitted)
                ),
            )
        };
        dn::check_rdn(&parsed.rdn, "the RDN").map_err(rejected)?;
        for (index, rdn) in parsed.parent.iter().enumerate() {
            dn::check_rdn(rdn, &format!("parent RDN {index}")).map_err(rejected)?;
        }
        limits::check_parsed(
            parsed.rdn.len(),
            parsed.parent.len(),
            parsed.template_values.len(),
        )
        .map_err(rejected)?;
        let all_pairs = parsed
            .rdn
            .iter()
            .chain(parsed.parent.iter().flatten())
            .chain(&parsed.template_values);
        for pair in all_pairs {
            limits::check_value(&pair.attribute, &pair.value).map_err(rejected)?;
        }
        for pair in &parsed.template_values {
            if pair.attribute.is_empty() {
                return Err(rejected("a template value has an empty name".to_string()));
            }
        }
        Ok(parsed)
    }

    /// Collects the attribute values that identify an existing entry.
    fn identifying_values(
        &mut self,
        parsed: &ParsedName,
        values: &Values,
        schema: &Schema,
    ) -> Result<Vec<(String, String)>, HookError> {
        let server = self.config.server.clone();
        let names: Vec<String> = if self.config.unique_object_attributes.is_empty() {
            parsed
                .rdn
                .iter()
                .map(|pair| pair.attribute.clone())
                .collect()
        } else {
            self.config.unique_object_attributes.clone()
        };

        let mut unique = Vec::new();
        for name in names {
            schema
                .check_attribute_exists(&name, "unique_object_attributes", &server)
                .map_err(HookError::schema)?;

            let from_name: Vec<String> = parsed
                .rdn
                .iter()
                .chain(&parsed.template_values)
                .filter(|pair| schema.same_attribute(&pair.attribute, &name))
                .map(|pair| pair.value.clone())
                .collect();
            let found = if !from_name.is_empty() {
                dedup(from_name)
            } else {
                self.template_values_before_queries(&name, values, schema)?
            };
            if found.is_empty() {
                return Err(HookError::input(format!(
                    "unique_object_attributes lists `{name}`, but neither the submitted name nor \
                     object_attributes gives it a value; submit a name with {name}=..., or set \
                     unique_object_attributes to attributes the name contains"
                )));
            }
            let canonical = schema.attribute_name(&name).to_string();
            unique.extend(found.into_iter().map(|value| (canonical.clone(), value)));
        }
        Ok(unique)
    }

    /// Renders the values of `name` from `object_attributes`, when its templates need
    /// nothing from the directory.
    fn template_values_before_queries(
        &self,
        name: &str,
        values: &Values,
        schema: &Schema,
    ) -> Result<Vec<String>, HookError> {
        let Some(attribute) = self
            .config
            .object_attributes
            .iter()
            .find(|attribute| schema.same_attribute(&attribute.name, name))
        else {
            return Ok(Vec::new());
        };
        let mut rendered = Vec::new();
        for template in &attribute.templates {
            let needs_directory = template.placeholders().any(|placeholder| {
                self.config
                    .source_of(placeholder)
                    .is_some_and(Source::is_directory)
            });
            if needs_directory {
                return Err(HookError::config(format!(
                    "unique_object_attributes lists `{name}`, whose value in object_attributes \
                     comes from the directory, which is read only after the uniqueness search; \
                     identify entries by attributes of the submitted name or the spawner"
                )));
            }
            let lookup = |placeholder: &str| self.lookup(values, placeholder);
            let filled = template.render(lookup).map_err(|reason| {
                HookError::input(format!("object_attributes['{}']: {reason}", attribute.name))
            })?;
            rendered.extend(schema.normalise_values(name, filled));
        }
        Ok(rendered)
    }
}

/// Replaces the attribute names of the RDN with the schema's names (`CN` becomes `cn`)
/// and checks that each exists.
fn canonical_names(
    mut parsed: ParsedName,
    schema: &Schema,
    server: &str,
) -> Result<ParsedName, HookError> {
    let rename = |pair: &mut AttributeValue, required: bool| -> Result<(), HookError> {
        match schema.attribute(&pair.attribute) {
            Some(_) => {
                pair.attribute = schema.attribute_name(&pair.attribute).to_string();
                Ok(())
            }
            None if required => Err(HookError::input(format!(
                "the attribute `{}` in the submitted name is not in the server schema at \
                 {server}; use attribute names such as CN, SN or O",
                pair.attribute
            ))),
            None => Ok(()),
        }
    };
    for pair in &mut parsed.rdn {
        rename(pair, true)?;
    }
    for rdn in &mut parsed.parent {
        for pair in rdn {
            rename(pair, true)?;
        }
    }
    for pair in &mut parsed.template_values {
        rename(pair, false)?;
    }
    Ok(parsed)
}

pub(super) fn dedup(values: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !unique.contains(&value) {
            unique.push(value);
        }
    }
    unique
}
