//! Plain data types that mirror the WIT contract, so that the logic in this crate
//! does not depend on generated bindings.

/// How far below the base object a search looks (RFC 4511, section 4.5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    BaseObject,
    SingleLevel,
    WholeSubtree,
}

impl Scope {
    /// Returns the scope's name as `ldapsearch -s` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::BaseObject => "base",
            Scope::SingleLevel => "one",
            Scope::WholeSubtree => "sub",
        }
    }
}

/// An attribute description with its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub values: Vec<String>,
}

impl Attribute {
    pub fn new(name: impl Into<String>, values: Vec<String>) -> Self {
        Attribute {
            name: name.into(),
            values,
        }
    }
}

/// An entry read from the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    pub attributes: Vec<Attribute>,
}

impl Entry {
    /// Returns the values of the attribute whose name matches `name` case-insensitively.
    /// Attribute options are part of the name, so `cn` does not match `cn;lang-de`.
    pub fn values(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
            .map(|attribute| attribute.values.as_slice())
    }
}

/// A failed LDAP operation: the result code with its name and the diagnostic text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapError {
    pub code: u32,
    pub name: String,
    pub message: String,
}

impl std::fmt::Display for LdapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.code)?;
        if self.message.is_empty() {
            write!(f, " without a reason; the server's log may say more")
        } else {
            write!(f, ": {}", self.message)
        }
    }
}

/// Result codes that the hook treats specially (RFC 4511, appendix A).
pub mod result_code {
    pub const NO_SUCH_ATTRIBUTE: u32 = 16;
    pub const NO_SUCH_OBJECT: u32 = 32;
    pub const INVALID_DN_SYNTAX: u32 = 34;
    pub const ENTRY_ALREADY_EXISTS: u32 = 68;
}

/// The kind of a change in a modify request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Delete,
    Replace,
    Increment,
}

/// One change of a modify request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub attribute: Attribute,
}

/// Request controls for an add or a modify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestControls {
    /// Attributes to return through the Post-Read control (RFC 4527).
    pub post_read: Option<Vec<String>>,
}

/// One attribute type and value of an RDN, without any escaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue {
    pub attribute: String,
    pub value: String,
}

impl AttributeValue {
    pub fn new(attribute: impl Into<String>, value: impl Into<String>) -> Self {
        AttributeValue {
            attribute: attribute.into(),
            value: value.into(),
        }
    }
}

/// A relative distinguished name as attribute values.
pub type Rdn = Vec<AttributeValue>;

/// Options of the default DN rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOptions {
    /// Replacements applied in order before the value is read.
    pub replacements: Vec<(String, String)>,
    /// Characters trimmed from the ends of the value and of attribute names.
    pub strip_chars: Vec<String>,
}

/// The entry name and template values that a DN rule read from a submitted value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    pub rdn: Rdn,
    /// RDNs between the entry and the base DN, nearest to the entry first.
    pub parent: Vec<Rdn>,
    pub template_values: Vec<AttributeValue>,
}

/// Severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}
