//! Creating a new entry: assembling and checking it without writing, then the
//! allocations, the add and the read-back.

use super::counter::{
    Counter, Method, Taken, next_value, outcome_unknown, parse_counter, set_allocated,
};
use super::find::dedup;
use super::server::ServerInfo;
use super::{Hook, Outcome, Status};
use crate::config::{self, Config};
use crate::context::Context;
use crate::dn;
use crate::error::{ErrorKind, HookError, quote};
use crate::filter;
use crate::limits;
use crate::schema::Schema;
use crate::sources::Values;
use crate::types::{
    Attribute, Entry, LdapError, Level, ParsedName, RequestControls, Scope, result_code,
};
use std::sync::Arc;

/// A new entry that passed every check, ready to be written.
pub(super) struct NewEntry {
    pub(super) dn: String,
    classes: Vec<String>,
    parsed: ParsedName,
    values: Values,
    pub(super) counters: Vec<Counter>,
    method: Method,
    /// The entry's attributes with the counters' predicted values in place.
    attributes: Vec<(String, Vec<String>)>,
    info: Arc<ServerInfo>,
}

impl NewEntry {
    pub(super) fn entry_attributes(&self) -> Vec<Attribute> {
        entry_attributes(&self.classes, &self.attributes)
    }

    /// Returns the values after the add, with the entry to be written standing in for
    /// the entry read back.
    pub(super) fn values_with_entry(&self) -> Values {
        let mut values = self.values.clone();
        values.directory = Some(self.entry_attributes());
        values
    }
}

fn entry_attributes(classes: &[String], attributes: &[(String, Vec<String>)]) -> Vec<Attribute> {
    let mut all = Vec::with_capacity(attributes.len() + 1);
    all.push(Attribute::new("objectClass", classes.to_vec()));
    all.extend(
        attributes
            .iter()
            .map(|(name, values)| Attribute::new(name.clone(), values.clone())),
    );
    all
}

impl Hook<'_, '_, '_> {
    /// Checks and assembles a new entry without writing anything.
    pub(super) fn prepare_new(
        &mut self,
        context: Context,
        parsed: ParsedName,
        classes: Vec<String>,
        mut values: Values,
        info: Arc<ServerInfo>,
    ) -> Result<NewEntry, HookError> {
        let server = self.config.server.clone();
        let schema = &info.schema;
        let method = if self.config.operations.is_empty() {
            Method::CompareAndSwap
        } else {
            self.allocation_method(info.modify_increment, info.post_read)?
        };
        let dn = dn::build(&parsed.rdn, &parsed.parent, &self.config.base_dn);

        // Queries feed the templates; a result with the counter's DN saves a read.
        let mut query_entries: Vec<Entry> = Vec::new();
        for (index, query) in self.config.queries.clone().iter().enumerate() {
            let purpose = format!("search_attribute_queries[{index}]");
            // A 0.1.2-style query that only reads a counter's value is not needed when
            // the counter is incremented, because the increment returns the value.
            let only_counters = !query.attributes.is_empty()
                && query
                    .attributes
                    .iter()
                    .all(|attribute| self.config.operation_for(attribute).is_some());
            if only_counters && method == Method::Increment && !self.planning {
                self.debug(|| {
                    format!("skipping {purpose}: the increment returns the counter's value")
                });
                continue;
            }
            let attributes = if query.attributes.is_empty() {
                vec!["*".to_string()]
            } else {
                query.attributes.clone()
            };
            let mut results = self
                .search(
                    &purpose,
                    &query.search_base,
                    Scope::WholeSubtree,
                    &query.search_filter,
                    &attributes,
                )
                .map_err(|error| {
                    HookError::directory(
                        &format!(
                            "{purpose} ({} below {})",
                            query.search_filter, query.search_base
                        ),
                        &server,
                        error,
                    )
                })?;
            if results.len() > 1 {
                return Err(HookError::new(
                    ErrorKind::Ambiguous,
                    format!(
                        "{purpose} matched {} entries with {} below {}; make the filter match \
                         one entry",
                        results.len(),
                        query.search_filter,
                        query.search_base
                    ),
                ));
            }
            if let Some(entry) = results.pop() {
                values.queried.extend(entry.attributes.iter().cloned());
                query_entries.push(entry);
            }
        }

        let mut counters = Vec::with_capacity(self.config.operations.len());
        for operation in self.config.operations.clone() {
            schema
                .check_attribute_exists(&operation.attribute, "search_result_operations", &server)
                .map_err(HookError::schema)?;
            let known = query_entries
                .iter()
                .filter(|entry| dn::loosely_equal(&entry.dn, &operation.counter_dn))
                .find_map(|entry| entry.values(&operation.attribute).map(<[String]>::to_vec));
            // Compare-and-swap needs the current value; a plan reports it.
            let needs_value = method == Method::CompareAndSwap || self.planning;
            let current = match known {
                Some(found) => Some(parse_counter(&found, &operation)?),
                None if needs_value => Some(self.read_counter(&operation)?),
                None => None,
            };
            if let Some(current) = current {
                next_value(current, &operation)?;
            }
            counters.push(Counter { operation, current });
        }
        set_allocated(
            &mut values,
            counters
                .iter()
                .map(|c| (&c.operation.attribute, c.predicted())),
        );

        let attributes = self.build_attributes(&parsed, &values, schema)?;
        if attributes.len() + 1 > limits::MAX_ENTRY_ATTRIBUTES {
            return Err(HookError::input(format!(
                "the new entry would have {} attributes, above the limit of {}",
                attributes.len() + 1,
                limits::MAX_ENTRY_ATTRIBUTES
            )));
        }
        schema
            .check_entry(&classes, &attributes, &server)
            .map_err(HookError::schema)?;

        let new = NewEntry {
            dn,
            classes,
            parsed,
            values,
            counters,
            method,
            attributes,
            info,
        };
        self.check_spawner_templates(&new, &context)?;
        // A run learns that the DN is taken from the add, and gives the number back then;
        // a plan, which writes nothing, asks the server.
        if self.planning {
            self.check_dn_is_free(&new.dn)?;
        }
        Ok(new)
    }

    /// Fills `object_attributes` and adds the RDN's values, which the entry must hold.
    fn build_attributes(
        &self,
        parsed: &ParsedName,
        values: &Values,
        schema: &Schema,
    ) -> Result<Vec<(String, Vec<String>)>, HookError> {
        let mut attributes: Vec<(String, Vec<String>)> = Vec::new();
        for attribute in &self.config.object_attributes {
            let mut filled = Vec::new();
            for template in &attribute.templates {
                let lookup = |placeholder: &str| self.lookup(values, placeholder);
                let rendered = template.render(lookup).map_err(|reason| {
                    HookError::input(format!("object_attributes['{}']: {reason}", attribute.name))
                })?;
                filled.extend(rendered);
            }
            let filled = dedup(schema.normalise_values(&attribute.name, filled));
            attributes.push((attribute.name.clone(), filled));
        }

        for pair in &parsed.rdn {
            match attributes
                .iter_mut()
                .find(|(name, _)| schema.same_attribute(name, &pair.attribute))
            {
                Some((_, existing)) => {
                    if !existing
                        .iter()
                        .any(|value| value.eq_ignore_ascii_case(&pair.value))
                    {
                        existing.push(pair.value.clone());
                    }
                }
                None => attributes.push((pair.attribute.clone(), vec![pair.value.clone()])),
            }
        }
        Ok(attributes)
    }

    /// Checks before any write that every placeholder of `set_spawner_attributes` will
    /// have a value once the entry exists.
    fn check_spawner_templates(&self, new: &NewEntry, context: &Context) -> Result<(), HookError> {
        let after_add = new.values_with_entry();
        for template in config::spawner_templates(&self.config.spawner_attributes) {
            for placeholder in template.placeholders() {
                let Some(source) = self.config.source_of(placeholder) else {
                    continue;
                };
                if let Err(reason) = after_add.lookup(placeholder, source) {
                    let hint = if source.is_directory() {
                        format!(
                            " add `{placeholder}` to object_attributes so that the new entry has it"
                        )
                    } else {
                        String::new()
                    };
                    return Err(HookError::input(format!(
                        "set_spawner_attributes uses `{{{placeholder}}}` in `{}` for user {}, \
                         but {reason};{hint}",
                        template.source(),
                        context.user_name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Makes sure that no entry has the DN yet.
    fn check_dn_is_free(&mut self, dn: &str) -> Result<(), HookError> {
        let server = self.config.server.clone();
        match self.search(
            "free DN",
            dn,
            Scope::BaseObject,
            filter::ANY_OBJECT,
            &["1.1".to_string()],
        ) {
            Ok(entries) if entries.is_empty() => Ok(()),
            Ok(_) => Err(taken_dn(dn, self.config)),
            Err(error) if error.code == result_code::NO_SUCH_OBJECT => Ok(()),
            Err(error) if error.code == result_code::INVALID_DN_SYNTAX => {
                Err(invalid_dn(dn, error))
            }
            Err(error) => Err(HookError::directory(
                &format!("reading {dn}"),
                &server,
                error,
            )),
        }
    }

    /// Allocates, adds and reads back a prepared entry.
    pub(super) fn create(&mut self, mut new: NewEntry) -> Result<Outcome, HookError> {
        let server = self.config.server.clone();

        let mut taken: Vec<Taken> = Vec::new();
        for counter in &new.counters {
            match self.allocate(counter, new.method) {
                Ok(number) => taken.push(number),
                Err(error) => {
                    let note = self.release(&taken);
                    return Err(error.with_note(&note));
                }
            }
        }

        // The predicted values stood in for the checks; put the allocated ones in place.
        let moved = taken
            .iter()
            .zip(&new.counters)
            .any(|(number, counter)| number.value != counter.predicted());
        if moved {
            set_allocated(
                &mut new.values,
                taken
                    .iter()
                    .map(|number| (&number.allocation.attribute, number.value)),
            );
            new.attributes = self.build_attributes(&new.parsed, &new.values, &new.info.schema)?;
        }

        let attributes = new.entry_attributes();
        if let Err(error) =
            self.services
                .directory
                .add(&new.dn, &attributes, &RequestControls::default())
        {
            return Err(self.failed_add(&new.dn, &server, error, &taken));
        }

        let allocated: Vec<String> = taken
            .iter()
            .map(|number| format!("{} {}", number.allocation.attribute, number.value))
            .collect();
        self.log(
            Level::Info,
            &format!(
                "created the entry {}{}",
                new.dn,
                if allocated.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", allocated.join(", "))
                }
            ),
        );

        let entry = self.read_back(&new.dn)?;
        new.values.directory = Some(entry.attributes.clone());
        let spawner_updates = self
            .spawner_updates(&new.values)
            .map_err(|error| error.with_note(&format!("The entry {} was created.", entry.dn)))?;

        Ok(Outcome {
            dn: entry.dn,
            status: Status::Created,
            attributes: entry.attributes,
            spawner_updates,
            allocations: taken.into_iter().map(|number| number.allocation).collect(),
        })
    }

    /// Explains a failed add. After a definite rejection the numbers go back to their
    /// counters; when the add got no answer it may have been written, so they stay.
    fn failed_add(
        &mut self,
        dn: &str,
        server: &str,
        error: LdapError,
        taken: &[Taken],
    ) -> HookError {
        if outcome_unknown(&error) {
            let kept: Vec<String> = taken
                .iter()
                .map(|number| format!("{} {}", number.allocation.attribute, number.value))
                .collect();
            let note = if kept.is_empty() {
                "The entry may have been written; the next spawn finds it if so.".to_string()
            } else {
                format!(
                    "The entry may have been written, so {} stays allocated to it; the next \
                     spawn finds the entry if it exists, and no number is given out twice.",
                    kept.join(" and ")
                )
            };
            self.log(
                Level::Warn,
                &format!("the add of {dn} got no answer ({error}); {note}"),
            );
            return HookError::directory(&format!("adding {}", quote(dn)), server, error)
                .with_note(&note);
        }

        let note = self.release(taken);
        let failure = match error.code {
            result_code::ENTRY_ALREADY_EXISTS => {
                let mut exists = taken_dn(dn, self.config);
                exists.ldap = Some(error);
                exists
            }
            result_code::INVALID_DN_SYNTAX => invalid_dn(dn, error),
            _ => HookError::directory(&format!("adding {}", quote(dn)), server, error),
        };
        failure.with_note(&note)
    }

    /// Reads the new entry by its DN.
    fn read_back(&mut self, dn: &str) -> Result<Entry, HookError> {
        let server = self.config.server.clone();
        let created = format!("The entry {dn} was created, but reading it back failed.");
        let mut entries = self
            .search(
                "read back",
                dn,
                Scope::BaseObject,
                filter::ANY_OBJECT,
                &["*".to_string()],
            )
            .map_err(|error| {
                HookError::directory(&format!("reading {dn}"), &server, error).with_note(&created)
            })?;
        entries.pop().ok_or_else(|| {
            HookError::new(
                ErrorKind::Directory,
                format!(
                    "{created} The server returned no entry; check the bind user's read access."
                ),
            )
        })
    }
}

fn taken_dn(dn: &str, config: &Config) -> HookError {
    HookError::new(
        ErrorKind::Directory,
        format!(
            "the entry {} already exists, but the uniqueness search did not find it; it lacks \
             one of the object classes {} or the identifying attribute values. Fix or remove \
             that entry, or adjust object_classes and unique_object_attributes",
            quote(dn),
            config.object_classes.join(", ")
        ),
    )
}

/// Reports a DN that the server rejects. The server's syntax check of a DN covers the
/// values, such as the two-letter code of `c`, so this is a problem of the submitted
/// name.
fn invalid_dn(dn: &str, error: LdapError) -> HookError {
    let mut failure = HookError::input(format!(
        "the server rejects the DN {} as invalid ({error}); check the values of the \
         submitted name, for example that C is a two-letter country code",
        quote(dn)
    ));
    failure.ldap = Some(error);
    failure
}
