//! Allocation from counter entries by compare-and-swap, and returning a number when
//! the add fails.

use super::{Allocation, Hook};
use crate::config::Operation;
use crate::error::{ErrorKind, HookError};
use crate::filter;
use crate::names;
use crate::schema;
use crate::sources::Values;
use crate::types::{Attribute, Change, ChangeKind, Level, RequestControls, Scope, result_code};

/// How often an allocation re-reads a counter that another process moved first.
pub const MAX_ALLOCATION_ATTEMPTS: u32 = 16;

/// A counter read before the allocation.
pub(super) struct Counter {
    pub(super) operation: Operation,
    pub(super) current: i64,
}

impl Counter {
    pub(super) fn next(&self) -> i64 {
        // Checked when the counter was read.
        self.current.saturating_add(1)
    }
}

impl Hook<'_, '_> {
    /// Reads a counter's current value from its entry.
    pub(super) fn read_counter(&mut self, operation: &Operation) -> Result<i64, HookError> {
        let server = self.config.server.clone();
        let entries = self
            .search(
                &format!("counter {}", operation.attribute),
                &operation.counter_dn,
                Scope::BaseObject,
                filter::ANY_OBJECT,
                std::slice::from_ref(&operation.attribute),
            )
            .map_err(|error| {
                let note = if error.code == result_code::NO_SUCH_OBJECT {
                    format!(
                        " Create the counter entry, or fix modify_dn of search_result_operations['{}'].",
                        operation.attribute
                    )
                } else {
                    String::new()
                };
                HookError::directory(
                    &format!("reading the counter entry {}", operation.counter_dn),
                    &server,
                    error,
                )
                .with_note(note.trim())
            })?;
        let values = entries
            .first()
            .and_then(|entry| entry.values(&operation.attribute))
            .unwrap_or_default();
        parse_counter(values, operation)
    }
    /// Moves a counter by one with compare-and-swap: delete the value that was read and
    /// add its successor in one modify, which fails with `noSuchAttribute` when another
    /// process moved the counter first. Returns the previous and the allocated value.
    pub(super) fn allocate(&mut self, counter: &Counter) -> Result<(i64, i64), HookError> {
        let server = self.config.server.clone();
        let operation = &counter.operation;
        let mut current = counter.current;

        for attempt in 1..=MAX_ALLOCATION_ATTEMPTS {
            let next = next_value(current, operation)?;
            let changes = swap(&operation.attribute, current, next);
            match self.services.directory.modify(
                &operation.counter_dn,
                &changes,
                &RequestControls::default(),
            ) {
                Ok(_) => return Ok((current, next)),
                Err(error) if error.code == result_code::NO_SUCH_ATTRIBUTE => {
                    self.log(
                        Level::Debug,
                        &format!(
                            "the counter {} {} moved from {current} before attempt {attempt}; \
                             reading it again",
                            operation.counter_dn, operation.attribute
                        ),
                    );
                    current = self.read_counter(operation)?;
                }
                Err(error) => {
                    return Err(HookError::directory(
                        &format!(
                            "allocating {} from the counter entry {}",
                            operation.attribute, operation.counter_dn
                        ),
                        &server,
                        error,
                    ));
                }
            }
        }

        Err(HookError::new(
            ErrorKind::Conflict,
            format!(
                "allocating {} from {} failed because other spawns moved the counter first {} \
                 times in a row; try again",
                operation.attribute, operation.counter_dn, MAX_ALLOCATION_ATTEMPTS
            ),
        ))
    }

    /// Moves counters back after a failed add, where no other process moved them since.
    /// Returns a sentence for the error message.
    pub(super) fn release(&mut self, allocations: &[(Allocation, i64, i64)]) -> String {
        let mut notes = Vec::new();
        for (allocation, previous, value) in allocations.iter().rev() {
            let changes = swap(&allocation.attribute, *value, *previous);
            match self.services.directory.modify(
                &allocation.counter_dn,
                &changes,
                &RequestControls::default(),
            ) {
                Ok(_) => notes.push(format!(
                    "{} {} was returned to {}.",
                    allocation.attribute, value, allocation.counter_dn
                )),
                Err(error) => {
                    let note = format!(
                        "{} {} from {} stays unused, because the counter could not be moved back \
                         ({error}).",
                        allocation.attribute, value, allocation.counter_dn
                    );
                    self.log(Level::Warn, &note);
                    notes.push(note);
                }
            }
        }
        notes.join(" ")
    }
}

/// Builds the modify that moves a counter from `from` to `to` if it is still at `from`.
fn swap(attribute: &str, from: i64, to: i64) -> Vec<Change> {
    vec![
        Change {
            kind: ChangeKind::Delete,
            attribute: Attribute::new(attribute, vec![from.to_string()]),
        },
        Change {
            kind: ChangeKind::Add,
            attribute: Attribute::new(attribute, vec![to.to_string()]),
        },
    ]
}

pub(super) fn next_value(current: i64, operation: &Operation) -> Result<i64, HookError> {
    current.checked_add(1).ok_or_else(|| {
        HookError::new(
            ErrorKind::InvalidInput,
            format!(
                "the counter {} {} is at {current}, the largest supported value",
                operation.counter_dn, operation.attribute
            ),
        )
    })
}

pub(super) fn parse_counter(values: &[String], operation: &Operation) -> Result<i64, HookError> {
    let describe = || format!("the counter entry {} ", operation.counter_dn);
    match values {
        [value] => {
            let trimmed = value.trim();
            if !schema::is_integer(trimmed) {
                return Err(HookError::schema(format!(
                    "{}holds `{value}` in {}, which is not an integer",
                    describe(),
                    operation.attribute
                )));
            }
            trimmed.parse::<i64>().map_err(|_| {
                HookError::schema(format!(
                    "{}holds {value} in {}, which is out of range",
                    describe(),
                    operation.attribute
                ))
            })
        }
        [] => Err(HookError::schema(format!(
            "{}has no {} attribute, or the bind user may not read it; give it a starting \
             value such as {}: 1999",
            describe(),
            operation.attribute,
            operation.attribute
        ))),
        several => Err(HookError::schema(format!(
            "{}has {} values in {}, but a counter must have exactly one",
            describe(),
            several.len(),
            operation.attribute
        ))),
    }
}

/// Puts allocated values into the sources, where `search_attribute_queries` results
/// would otherwise hold the counter's old value.
pub(super) fn set_allocated<'x>(
    values: &mut Values,
    allocated: impl Iterator<Item = (&'x String, i64)>,
) {
    for (attribute, value) in allocated {
        values
            .queried
            .retain(|known| !names::same(&known.name, attribute));
        values
            .queried
            .push(Attribute::new(attribute.clone(), vec![value.to_string()]));
    }
    values.directory = Some(values.queried.clone());
}
