//! What the hook flow needs from its surroundings. The hook component implements
//! these traits on its WIT imports.

use crate::types::{
    Attribute, Change, Entry, LdapError, Level, ParsedName, RequestControls, RuleOptions, Scope,
};

/// LDAP operations over the host's connection.
pub trait Directory {
    fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: &[String],
    ) -> Result<Vec<Entry>, LdapError>;

    fn add(
        &mut self,
        dn: &str,
        attributes: &[Attribute],
        controls: &RequestControls,
    ) -> Result<Option<Entry>, LdapError>;

    fn modify(
        &mut self,
        dn: &str,
        changes: &[Change],
        controls: &RequestControls,
    ) -> Result<Option<Entry>, LdapError>;
}

/// The DN rules that read a submitted value.
pub trait Rules {
    fn parse(&mut self, submitted: &str, options: &RuleOptions) -> Result<ParsedName, String>;
}

/// The host's log.
pub trait Logger {
    fn log(&mut self, level: Level, message: &str);

    /// Returns whether the host writes messages of `level`.
    fn enabled(&mut self, level: Level) -> bool;
}
