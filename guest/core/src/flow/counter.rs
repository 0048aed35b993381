//! Allocation from counter entries, and what happens to a number when the add fails.
//!
//! Two methods move a counter by one:
//! - compare-and-swap: one modify deletes the value that was read and adds its
//!   successor. It fails with `noSuchAttribute` when another process moved the counter
//!   first; the hook then reads the counter again, waits a short random time so that
//!   racing hooks spread out, and tries again.
//! - increment: Modify-Increment (RFC 4525) with the Post-Read control (RFC 4527)
//!   moves the counter and returns the new value in one round trip, without conflicts.
//!
//! A number is only given back after the server definitively rejected the add, with
//! the same compare-and-swap, which fails if another process allocated since. When an
//! add or a modify got no answer, the write may have happened, so the number stays
//! allocated: a counter may skip a number, but never hands one out twice.

use super::{Allocation, Hook};
use crate::config::{AllocationSetting, Operation};
use crate::error::{ErrorKind, HookError};
use crate::filter;
use crate::names;
use crate::schema;
use crate::sources::Values;
use crate::types::{
    Attribute, Change, ChangeKind, LdapError, Level, RequestControls, Scope, result_code,
};
use std::hash::BuildHasher;
use std::time::Duration;

/// How often a compare-and-swap allocation tries before it reports a conflict.
pub const MAX_ALLOCATION_ATTEMPTS: u32 = 24;
/// The longest wait between two attempts, before the random spread.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// Result codes after which an operation's outcome is unknown: the client gave up
/// waiting or lost the connection, so the server may have applied the operation.
const UNKNOWN_OUTCOME: [u32; 2] = [81, 85];

/// Returns true when `error` leaves open whether the server applied the operation.
pub(super) fn outcome_unknown(error: &LdapError) -> bool {
    UNKNOWN_OUTCOME.contains(&error.code)
}

/// The method a run uses, after `auto` was resolved against the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    CompareAndSwap,
    Increment,
}

/// A counter to allocate from.
pub(super) struct Counter {
    pub(super) operation: Operation,
    /// The value read before the allocation; the increment method needs none.
    pub(super) current: Option<i64>,
}

impl Counter {
    /// The value a new entry is expected to get; `0` stands in when the counter was not
    /// read, which only the checks before the allocation see.
    pub(super) fn predicted(&self) -> i64 {
        self.current.map_or(0, |current| current.saturating_add(1))
    }
}

/// A number taken from a counter, with the value the counter had before.
pub(super) struct Taken {
    pub(super) allocation: Allocation,
    pub(super) previous: i64,
    pub(super) value: i64,
}

impl Hook<'_, '_, '_> {
    /// Chooses the allocation method for this server.
    pub(super) fn allocation_method(
        &self,
        modify_increment: bool,
        post_read: bool,
    ) -> Result<Method, HookError> {
        let supported = modify_increment && post_read;
        match self.config.allocation_method {
            AllocationSetting::CompareAndSwap => Ok(Method::CompareAndSwap),
            AllocationSetting::Auto if supported => Ok(Method::Increment),
            AllocationSetting::Auto => Ok(Method::CompareAndSwap),
            AllocationSetting::Increment if supported => Ok(Method::Increment),
            AllocationSetting::Increment => Err(HookError::config(format!(
                "allocation_method is increment, but the server at {} does not advertise both \
                 Modify-Increment (1.3.6.1.1.14) and the Post-Read control (1.3.6.1.1.13.2); \
                 use compare-and-swap or auto",
                self.config.server
            ))),
        }
    }

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
            .map_err(|error| counter_error(&server, operation, "reading", error))?;
        let values = entries
            .first()
            .and_then(|entry| entry.values(&operation.attribute))
            .unwrap_or_default();
        parse_counter(values, operation)
    }

    /// Takes the next number from a counter.
    pub(super) fn allocate(
        &mut self,
        counter: &Counter,
        method: Method,
    ) -> Result<Taken, HookError> {
        let operation = &counter.operation;
        let (previous, value) = match method {
            Method::Increment => self.increment(operation)?,
            Method::CompareAndSwap => self.compare_and_swap(operation, counter.current)?,
        };
        Ok(Taken {
            allocation: Allocation {
                attribute: operation.attribute.clone(),
                counter_dn: operation.counter_dn.clone(),
                value: value.to_string(),
            },
            previous,
            value,
        })
    }

    fn increment(&mut self, operation: &Operation) -> Result<(i64, i64), HookError> {
        let server = self.config.server.clone();
        let changes = vec![Change {
            kind: ChangeKind::Increment,
            attribute: Attribute::new(operation.attribute.clone(), vec!["1".to_string()]),
        }];
        let controls = RequestControls {
            post_read: Some(vec![operation.attribute.clone()]),
        };
        let entry = self
            .services
            .directory
            .modify(&operation.counter_dn, &changes, &controls)
            .map_err(|error| counter_error(&server, operation, "incrementing", error))?;
        let Some(entry) = entry else {
            return Err(HookError::new(
                ErrorKind::Directory,
                format!(
                    "the server at {server} incremented {} in {} but returned no Post-Read \
                     control, so the allocated number is unknown and stays unused; set \
                     allocation_method to compare-and-swap",
                    operation.attribute, operation.counter_dn
                ),
            ));
        };
        let value = parse_counter(
            entry.values(&operation.attribute).unwrap_or_default(),
            operation,
        )?;
        Ok((value.saturating_sub(1), value))
    }

    fn compare_and_swap(
        &mut self,
        operation: &Operation,
        known: Option<i64>,
    ) -> Result<(i64, i64), HookError> {
        let server = self.config.server.clone();
        let mut current = match known {
            Some(current) => current,
            None => self.read_counter(operation)?,
        };

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
                    self.debug(|| {
                        format!(
                            "the counter {} {} moved from {current} before attempt {attempt}; \
                             reading it again",
                            operation.counter_dn, operation.attribute
                        )
                    });
                    std::thread::sleep(backoff(attempt));
                    current = self.read_counter(operation)?;
                }
                Err(error) => return Err(counter_error(&server, operation, "moving", error)),
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

    /// Moves counters back after the server rejected the add, where no other process
    /// moved them since. Returns a sentence for the error message.
    pub(super) fn release(&mut self, taken: &[Taken]) -> String {
        let mut notes = Vec::new();
        for number in taken.iter().rev() {
            let allocation = &number.allocation;
            let changes = swap(&allocation.attribute, number.value, number.previous);
            match self.services.directory.modify(
                &allocation.counter_dn,
                &changes,
                &RequestControls::default(),
            ) {
                Ok(_) => notes.push(format!(
                    "{} {} was returned to {}.",
                    allocation.attribute, number.value, allocation.counter_dn
                )),
                Err(error) => {
                    let note = format!(
                        "{} {} from {} stays unused, because the counter could not be moved back \
                         ({error}).",
                        allocation.attribute, number.value, allocation.counter_dn
                    );
                    self.log(Level::Warn, &note);
                    notes.push(note);
                }
            }
        }
        notes.join(" ")
    }
}

/// The error for a failed operation on a counter entry, with what to do next.
fn counter_error(server: &str, operation: &Operation, action: &str, error: LdapError) -> HookError {
    let note = if error.code == result_code::NO_SUCH_OBJECT {
        format!(
            "Create the counter entry, or fix modify_dn of search_result_operations['{}'].",
            operation.attribute
        )
    } else if outcome_unknown(&error) && action != "reading" {
        "The counter may have moved; if it did, that number stays unused, and no number is \
         given out twice."
            .to_string()
    } else {
        String::new()
    };
    HookError::directory(
        &format!(
            "{action} the counter {} in {}",
            operation.attribute, operation.counter_dn
        ),
        server,
        error,
    )
    .with_note(&note)
}

/// The wait before attempt `attempt + 1`: doubling from 2 ms up to [`MAX_BACKOFF`],
/// spread randomly between half and one and a half times that, so that hooks that
/// collided do not collide again in lockstep.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(1u64 << attempt.min(16)).min(MAX_BACKOFF);
    // RandomState draws fresh keys from the platform's random source (WASI random in
    // the component), so each hash is a new random number.
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    let spread = 0.5 + (random % 1000) as f64 / 1000.0;
    base.mul_f64(spread)
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
