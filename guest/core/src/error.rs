//! The hook's error type.

use crate::types::LdapError;

/// The category of a failure; mirrors `error-kind` in the WIT contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidConfig,
    InvalidInput,
    RuleRejected,
    Schema,
    Ambiguous,
    Conflict,
    Directory,
}

/// A failed hook run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookError {
    pub kind: ErrorKind,
    pub message: String,
    pub ldap: Option<LdapError>,
}

impl HookError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        HookError {
            kind,
            message: message.into(),
            ldap: None,
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub fn schema(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Schema, message)
    }

    /// A failed LDAP operation; `what` describes the operation and its target.
    pub fn directory(what: &str, server: &str, error: LdapError) -> Self {
        HookError {
            kind: ErrorKind::Directory,
            message: format!("{what} failed at {server}: {error}"),
            ldap: Some(error),
        }
    }

    /// Adds a sentence to the message.
    pub fn with_note(mut self, note: &str) -> Self {
        if !note.is_empty() {
            self.message.push(' ');
            self.message.push_str(note);
        }
        self
    }
}

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HookError {}

/// The longest part of a value that a message repeats, in characters.
const MAX_SHOWN_CHARS: usize = 120;

/// Quotes a user's value for a message: in backticks, with control characters
/// escaped so that a value cannot break a log line, and cut after 120 characters.
pub fn quote(value: &str) -> String {
    let mut shown = String::with_capacity(value.len().min(MAX_SHOWN_CHARS) + 16);
    shown.push('`');
    for (count, character) in value.chars().enumerate() {
        if count == MAX_SHOWN_CHARS {
            let rest = value.chars().count() - count;
            shown.push_str(&format!("…` ({rest} more characters)"));
            return shown;
        }
        if character.is_control() {
            shown.extend(character.escape_default());
        } else {
            shown.push(character);
        }
    }
    shown.push('`');
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_controls() {
        assert_eq!(quote("a\nb\0"), "`a\\nb\\u{0}`");
        assert_eq!(quote("Ærø"), "`Ærø`");
    }

    #[test]
    fn quote_cuts_long_values() {
        let shown = quote(&"x".repeat(200));
        assert!(shown.ends_with("…` (80 more characters)"), "{shown}");
    }
}
