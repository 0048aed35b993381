//! The server's schema as the hook needs it: object classes and attribute types read
//! from the subschema entry (RFC 4512, section 4.1), and the checks of a new entry
//! against them.
//!
//! Names match exactly and case-insensitively against the NAME list and the OID of a
//! definition, so `OrgPerson` does not pass for `inetOrgPerson`. The parser skips
//! extensions and keywords it does not know, so a schema with vendor extensions still
//! reads. A definition that cannot be read at all is left out.

use crate::names;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The LDAP syntax OID of INTEGER (RFC 4517, section 3.3.16).
pub const INTEGER_SYNTAX: &str = "1.3.6.1.4.1.1466.115.121.1.27";

/// The kind of an object class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    Abstract,
    Structural,
    Auxiliary,
}

/// An object class definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectClass {
    pub oid: String,
    pub names: Vec<String>,
    pub superiors: Vec<String>,
    pub kind: ClassKind,
    pub must: Vec<String>,
    pub may: Vec<String>,
}

/// An attribute type definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeType {
    pub oid: String,
    pub names: Vec<String>,
    pub superior: Option<String>,
    pub syntax: Option<String>,
    pub single_value: bool,
}

/// A definition that has a numeric OID and NAME aliases.
trait Named {
    fn oid(&self) -> &str;
    fn names(&self) -> &[String];

    fn is_named(&self, name: &str) -> bool {
        names::same(self.oid(), name) || self.names().iter().any(|known| names::same(known, name))
    }

    /// Returns the first NAME, or the OID for an unnamed definition.
    fn display_name(&self) -> &str {
        self.names().first().map_or(self.oid(), String::as_str)
    }
}

impl Named for ObjectClass {
    fn oid(&self) -> &str {
        &self.oid
    }
    fn names(&self) -> &[String] {
        &self.names
    }
}

impl Named for AttributeType {
    fn oid(&self) -> &str {
        &self.oid
    }
    fn names(&self) -> &[String] {
        &self.names
    }
}

/// The object classes and attribute types of one subschema entry, with indexes by
/// lower-case name and OID, because the hook looks names up on every call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub subschema_dn: String,
    pub classes: Vec<ObjectClass>,
    pub attributes: Vec<AttributeType>,
    class_index: NameIndex,
    attribute_index: NameIndex,
}

/// Lower-case names and OIDs with the position of their definition.
type NameIndex = HashMap<String, usize, BuildHasherDefault<NameHasher>>;

/// FNV-1a, which hashes short names several times faster than the standard SipHash
/// in WebAssembly. The keys come from the server's schema, not from users, so
/// resistance to chosen collisions is not needed.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Looks `name` up case-insensitively, without allocating for names of up to 64 bytes.
fn lookup(index: &NameIndex, name: &str) -> Option<usize> {
    let mut buffer = [0u8; 64];
    let Some(lower) = buffer.get_mut(..name.len()) else {
        return index.get(&name.to_ascii_lowercase()).copied();
    };
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    // Lower-casing ASCII letters keeps UTF-8 valid.
    let key = std::str::from_utf8(lower).ok()?;
    index.get(key).copied()
}

/// Maps every lower-case name and OID of `definitions` to its position; the first
/// definition with a name wins, as a linear search would find it.
fn index<T: Named>(definitions: &[T]) -> NameIndex {
    let mut index = NameIndex::default();
    for (position, definition) in definitions.iter().enumerate() {
        let keys =
            std::iter::once(definition.oid()).chain(definition.names().iter().map(String::as_str));
        for key in keys {
            index.entry(key.to_ascii_lowercase()).or_insert(position);
        }
    }
    index
}

impl Schema {
    /// Reads the `objectClasses` and `attributeTypes` values of a subschema entry.
    pub fn parse(
        subschema_dn: &str,
        object_classes: &[String],
        attribute_types: &[String],
    ) -> Schema {
        let classes: Vec<ObjectClass> = object_classes
            .iter()
            .filter_map(|text| parse_object_class(text))
            .collect();
        let attributes: Vec<AttributeType> = attribute_types
            .iter()
            .filter_map(|text| parse_attribute_type(text))
            .collect();
        Schema {
            subschema_dn: subschema_dn.to_string(),
            class_index: index(&classes),
            attribute_index: index(&attributes),
            classes,
            attributes,
        }
    }

    /// Finds an object class by name or OID.
    pub fn class(&self, name: &str) -> Option<&ObjectClass> {
        let position = lookup(&self.class_index, name)?;
        self.classes.get(position)
    }

    /// Finds an attribute type by name or OID; options such as `;lang-de` are ignored.
    pub fn attribute(&self, description: &str) -> Option<&AttributeType> {
        let position = lookup(&self.attribute_index, names::attribute_type(description))?;
        self.attributes.get(position)
    }

    /// Returns the schema's own name for an object class, such as `inetOrgPerson` for
    /// `INETORGPERSON`.
    pub fn class_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.class(name).map_or(name, |class| class.display_name())
    }

    /// Returns the schema's own name for an attribute type.
    pub fn attribute_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.attribute(name)
            .map_or(name, |attribute| attribute.display_name())
    }

    /// Returns true when two attribute descriptions name the same attribute type,
    /// through aliases such as `cn` and `commonName`.
    pub fn same_attribute(&self, left: &str, right: &str) -> bool {
        if names::same(left, right) {
            return true;
        }
        match (self.attribute(left), self.attribute(right)) {
            (Some(a), Some(b)) => a.oid == b.oid,
            _ => false,
        }
    }

    /// Returns the syntax OID of an attribute type, following SUP where the type has none.
    pub fn syntax_of<'s>(&'s self, attribute: &'s AttributeType) -> Option<&'s str> {
        let mut current = attribute;
        for _ in 0..32 {
            if let Some(syntax) = &current.syntax {
                return Some(syntax.as_str());
            }
            current = self.attribute(current.superior.as_deref()?)?;
        }
        None
    }

    /// Prepares values for the add as ldap-hooks 0.1.2 did through the Python `ldap3`
    /// library: INTEGER values lose surrounding whitespace (`'1000 '` is stored as
    /// `1000`); other values are kept exactly.
    pub fn normalise_values(&self, name: &str, values: Vec<String>) -> Vec<String> {
        let integer = self
            .attribute(name)
            .is_some_and(|definition| self.syntax_of(definition) == Some(INTEGER_SYNTAX));
        if integer {
            values
                .into_iter()
                .map(|value| value.trim().to_string())
                .collect()
        } else {
            values
        }
    }

    /// Collects the object class and all its superclasses into `out`.
    fn with_superiors<'a>(&'a self, class: &'a ObjectClass, out: &mut Vec<&'a ObjectClass>) {
        if out.iter().any(|known| known.oid == class.oid) || out.len() > 256 {
            return;
        }
        out.push(class);
        for superior in &class.superiors {
            if let Some(parent) = self.class(superior) {
                self.with_superiors(parent, out);
            }
        }
    }

    /// Checks the configured object classes: each exists, and together they have
    /// exactly one structural chain. Returns the schema's names for them.
    pub fn check_classes(&self, requested: &[String], server: &str) -> Result<Vec<String>, String> {
        let mut found = Vec::with_capacity(requested.len());
        for name in requested {
            let Some(class) = self.class(name) else {
                return Err(format!(
                    "object class `{name}` is not in the server schema at {server} (subschema \
                     {}); check object_classes for a typo, or load the schema that defines it",
                    self.subschema_dn
                ));
            };
            found.push(class);
        }

        let structural: Vec<&ObjectClass> = found
            .iter()
            .copied()
            .filter(|class| class.kind == ClassKind::Structural)
            .collect();
        if structural.is_empty() {
            return Err(format!(
                "object_classes ({}) has no structural object class; add one such as person \
                 or inetOrgPerson",
                requested.join(", ")
            ));
        }
        for class in &structural {
            let mut chain = Vec::new();
            self.with_superiors(class, &mut chain);
            for other in &structural {
                let related = chain.iter().any(|known| known.oid == other.oid) || {
                    let mut other_chain = Vec::new();
                    self.with_superiors(other, &mut other_chain);
                    other_chain.iter().any(|known| known.oid == class.oid)
                };
                if !related {
                    return Err(format!(
                        "object_classes has the unrelated structural classes `{}` and `{}`; an \
                         entry can have one structural class and its superclasses",
                        class.display_name(),
                        other.display_name()
                    ));
                }
            }
        }

        Ok(found
            .iter()
            .map(|class| class.display_name().to_string())
            .collect())
    }

    /// Checks that every attribute description names an attribute type of the schema.
    pub fn check_attribute_exists(
        &self,
        description: &str,
        origin: &str,
        server: &str,
    ) -> Result<(), String> {
        if self.attribute(description).is_some() {
            Ok(())
        } else {
            Err(format!(
                "attribute `{description}` ({origin}) is not in the server schema at {server}; \
                 check the name, or load the schema that defines it"
            ))
        }
    }

    /// Checks a new entry against the schema before it is written: every attribute
    /// exists and is allowed by the object classes, every required attribute is
    /// present, single-valued attributes have one value and INTEGER values are integers.
    pub fn check_entry(
        &self,
        classes: &[String],
        attributes: &[(String, Vec<String>)],
        server: &str,
    ) -> Result<(), String> {
        let mut closure = Vec::new();
        for name in classes {
            if let Some(class) = self.class(name) {
                self.with_superiors(class, &mut closure);
            }
        }
        let extensible = closure
            .iter()
            .any(|class| class.is_named("extensibleObject"));
        let class_list = classes.join(", ");

        for (name, values) in attributes {
            let Some(definition) = self.attribute(name) else {
                return Err(format!(
                    "attribute `{name}` of the new entry is not in the server schema at {server}; \
                     check object_attributes and the submitted name"
                ));
            };
            let allowed = extensible
                || closure.iter().any(|class| {
                    class
                        .must
                        .iter()
                        .chain(&class.may)
                        .any(|allowed| definition.is_named(allowed))
                });
            if !allowed {
                return Err(format!(
                    "attribute `{name}` is not allowed by the object classes {class_list}; \
                     remove it, or add an object class that allows it"
                ));
            }
            if definition.single_value && values.len() > 1 {
                return Err(format!(
                    "attribute `{name}` is single-valued but would get {} values: {}",
                    values.len(),
                    values.join(", ")
                ));
            }
            let integer = self.syntax_of(definition) == Some(INTEGER_SYNTAX);
            if let Some(value) = values.iter().find(|value| integer && !is_integer(value)) {
                return Err(format!(
                    "attribute `{name}` takes an integer, but its value is `{value}`"
                ));
            }
        }

        for class in &closure {
            for required in &class.must {
                if names::same(required, "objectClass") {
                    continue;
                }
                let present = attributes
                    .iter()
                    .any(|(name, _)| self.same_attribute(name, required));
                if !present {
                    return Err(format!(
                        "object class `{}` requires the attribute `{required}`, which the new \
                         entry lacks; add it to object_attributes",
                        class.display_name()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Returns true for RFC 4517 INTEGER values: an optional minus sign and digits
/// without leading zeros.
pub fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && text != "-0"
}

/// A token of an RFC 4512 definition.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Dollar,
    Quoted(String),
    Word(String),
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '$' => tokens.push(Token::Dollar),
            '\'' => {
                let mut quoted = String::new();
                loop {
                    match characters.next()? {
                        '\'' => break,
                        c => quoted.push(c),
                    }
                }
                // RFC 4512 escapes a quote as \27 and a backslash as \5C inside qdstrings.
                let quoted = quoted
                    .replace("\\27", "'")
                    .replace("\\5C", "\\")
                    .replace("\\5c", "\\");
                tokens.push(Token::Quoted(quoted));
            }
            c => {
                let mut word = String::from(c);
                while let Some(&next) = characters.peek() {
                    if next.is_whitespace() || matches!(next, '(' | ')' | '$' | '\'') {
                        break;
                    }
                    word.push(next);
                    characters.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Some(tokens)
}

/// A parsed definition: its OID and each keyword with its values.
struct Definition {
    oid: String,
    fields: Vec<(String, Vec<String>)>,
}

impl Definition {
    fn values(&self, keyword: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(known, _)| known == keyword)
            .flat_map(|(_, values)| values.iter().cloned())
            .collect()
    }

    fn has(&self, keyword: &str) -> bool {
        self.fields.iter().any(|(known, _)| known == keyword)
    }
}

/// Keywords that take no value (RFC 4512, section 4.1).
const FLAGS: &[&str] = &[
    "OBSOLETE",
    "ABSTRACT",
    "STRUCTURAL",
    "AUXILIARY",
    "SINGLE-VALUE",
    "COLLECTIVE",
    "NO-USER-MODIFICATION",
];

fn parse_definition(text: &str) -> Option<Definition> {
    let tokens = tokenize(text)?;
    let mut position = 0;
    if tokens.first()? != &Token::Open {
        return None;
    }
    position += 1;
    let Token::Word(oid) = tokens.get(position)? else {
        return None;
    };
    position += 1;

    let mut fields = Vec::new();
    while let Some(token) = tokens.get(position) {
        position += 1;
        let keyword = match token {
            Token::Close => break,
            Token::Word(keyword) => keyword.clone(),
            _ => continue,
        };
        if FLAGS.contains(&keyword.as_str()) {
            fields.push((keyword, Vec::new()));
            continue;
        }
        let mut values = Vec::new();
        match tokens.get(position) {
            Some(Token::Open) => {
                position += 1;
                while let Some(token) = tokens.get(position) {
                    position += 1;
                    match token {
                        Token::Close => break,
                        Token::Quoted(value) | Token::Word(value) => values.push(value.clone()),
                        Token::Dollar | Token::Open => {}
                    }
                }
            }
            Some(Token::Quoted(value)) | Some(Token::Word(value)) => {
                values.push(value.clone());
                position += 1;
            }
            _ => {}
        }
        fields.push((keyword, values));
    }

    Some(Definition {
        oid: oid.clone(),
        fields,
    })
}

fn parse_object_class(text: &str) -> Option<ObjectClass> {
    let definition = parse_definition(text)?;
    let kind = if definition.has("ABSTRACT") {
        ClassKind::Abstract
    } else if definition.has("AUXILIARY") {
        ClassKind::Auxiliary
    } else {
        // RFC 4512: STRUCTURAL is the default kind.
        ClassKind::Structural
    };
    Some(ObjectClass {
        names: definition.values("NAME"),
        superiors: definition.values("SUP"),
        must: definition.values("MUST"),
        may: definition.values("MAY"),
        kind,
        oid: definition.oid,
    })
}

fn parse_attribute_type(text: &str) -> Option<AttributeType> {
    let definition = parse_definition(text)?;
    Some(AttributeType {
        names: definition.values("NAME"),
        superior: definition.values("SUP").into_iter().next(),
        // A syntax may carry a length bound: 1.3.6.1.4.1.1466.115.121.1.15{256}.
        syntax: definition
            .values("SYNTAX")
            .into_iter()
            .next()
            .map(|syntax| syntax.split('{').next().unwrap_or_default().to_string()),
        single_value: definition.has("SINGLE-VALUE"),
        oid: definition.oid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    fn sample() -> Schema {
        Schema::parse(
            "cn=Subschema",
            &strings(&[
                "( 2.5.6.0 NAME 'top' DESC 'top of the superclass chain' ABSTRACT MUST objectClass )",
                "( 2.5.6.6 NAME 'person' DESC 'RFC2256: a person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) )",
                "( 2.5.6.7 NAME 'organizationalPerson' DESC 'RFC2256: an organizational person' SUP person STRUCTURAL MAY ( title $ ou ) )",
                "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' DESC 'RFC2798: Internet Organizational Person' SUP organizationalPerson STRUCTURAL MAY ( mail $ uid ) )",
                "( 1.3.6.1.1.1.2.0 NAME 'posixAccount' DESC 'Abstraction of an account with POSIX attributes' SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ gidNumber $ homeDirectory ) MAY ( userPassword $ loginShell $ gecos $ description ) )",
                "( 2.5.6.2 NAME 'country' DESC 'RFC2256: a country' SUP top STRUCTURAL MUST c )",
                "( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' DESC 'RFC4512: extensible object' SUP top AUXILIARY )",
            ]),
            &strings(&[
                "( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
                "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
                "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s) for which the entity is known by' SUP name )",
                "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
                "( 2.5.4.13 NAME 'description' SUP name )",
                "( 2.5.4.20 NAME 'telephoneNumber' SYNTAX 1.3.6.1.4.1.1466.115.121.1.50{32} )",
                "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) SUP name )",
                "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' DESC 'An integer uniquely identifying a user' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
                "( 1.3.6.1.1.1.1.1 NAME 'gidNumber' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
                "( 1.3.6.1.1.1.1.3 NAME 'homeDirectory' SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
                "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} X-ORIGIN 'RFC 4524' )",
            ]),
        )
    }

    #[test]
    fn lookup_ignores_case_at_any_length() {
        let long = format!("x{}", "a".repeat(80));
        let schema = Schema::parse(
            "cn=Subschema",
            &[],
            &strings(&[
                "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
                &format!("( 1.2.3.4 NAME '{long}' SUP name )"),
            ]),
        );
        assert_eq!(
            schema
                .attribute("CommonName;lang-da")
                .map(|a| a.oid.as_str()),
            Some("2.5.4.3")
        );
        assert_eq!(
            schema.attribute("CN").map(|a| a.oid.as_str()),
            Some("2.5.4.3")
        );
        assert_eq!(
            schema
                .attribute(&long.to_uppercase())
                .map(|a| a.oid.as_str()),
            Some("1.2.3.4")
        );
        assert!(schema.attribute("cné").is_none());
        assert!(schema.attribute("").is_none());
    }

    fn entry(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(name, values)| (name.to_string(), strings(values)))
            .collect()
    }

    #[test]
    fn parse_reads_names_aliases_and_kinds() {
        let schema = sample();
        let person = schema.class("PERSON").expect("person");
        assert_eq!(person.kind, ClassKind::Structural);
        assert_eq!(person.must, strings(&["sn", "cn"]));
        assert_eq!(
            schema.class("posixaccount").map(|c| c.kind),
            Some(ClassKind::Auxiliary)
        );
        assert_eq!(
            schema.attribute("commonName").map(|a| a.oid.as_str()),
            Some("2.5.4.3")
        );
        assert_eq!(
            schema.attribute("cn;lang-de").map(|a| a.oid.as_str()),
            Some("2.5.4.3")
        );
        assert!(
            schema
                .attribute("uidNumber")
                .is_some_and(|a| a.single_value)
        );
    }

    #[test]
    fn class_matches_whole_names_only() {
        let schema = sample();
        for name in ["OrgPerson", "Person ", "superclass", "a person", "inetOrg"] {
            assert!(schema.class(name).is_none(), "{name:?} must not match");
        }
        assert!(schema.class("2.5.6.6").is_some());
        assert_eq!(schema.class_name("INETORGPERSON"), "inetOrgPerson");
    }

    #[test]
    fn check_classes_reports_missing_class() {
        let error = sample()
            .check_classes(&strings(&["person", "OrgPerson"]), "ldap://x")
            .expect_err("OrgPerson is missing");
        assert!(
            error.contains("`OrgPerson` is not in the server schema at ldap://x"),
            "{error}"
        );
    }

    #[test]
    fn check_classes_needs_one_structural_chain() {
        let schema = sample();
        assert!(
            schema
                .check_classes(&strings(&["posixAccount"]), "x")
                .is_err()
        );
        assert!(
            schema
                .check_classes(&strings(&["person", "country"]), "x")
                .is_err()
        );
        assert_eq!(
            schema.check_classes(&strings(&["InetOrgPerson", "PosixAccount"]), "x"),
            Ok(strings(&["inetOrgPerson", "posixAccount"]))
        );
        assert!(
            schema
                .check_classes(&strings(&["person", "inetOrgPerson"]), "x")
                .is_ok()
        );
    }

    #[test]
    fn check_entry_accepts_valid_entry() {
        let schema = sample();
        let classes = strings(&["inetOrgPerson", "posixAccount"]);
        let attributes = entry(&[
            ("CN", &["alice"]),
            ("sn", &["A"]),
            ("uid", &["alice"]),
            ("uidNumber", &["2001"]),
            ("gidNumber", &["100"]),
            ("homeDirectory", &["/home/alice"]),
            ("mail", &["a@example.org"]),
        ]);
        assert_eq!(schema.check_entry(&classes, &attributes, "x"), Ok(()));
    }

    #[test]
    fn check_entry_reports_each_problem() {
        let schema = sample();
        let person = strings(&["person"]);
        let cases = [
            (entry(&[("cn", &["a"])]), "requires the attribute `sn`"),
            (
                entry(&[("cn", &["a"]), ("sn", &["b"]), ("mail", &["m"])]),
                "not allowed",
            ),
            (
                entry(&[("cn", &["a"]), ("sn", &["b"]), ("nosuch", &["m"])]),
                "not in the server schema",
            ),
        ];
        for (attributes, expected) in cases {
            let error = schema
                .check_entry(&person, &attributes, "x")
                .expect_err(expected);
            assert!(error.contains(expected), "{error}");
        }

        let posix = strings(&["person", "posixAccount"]);
        let base = [
            ("cn", &["a"][..]),
            ("sn", &["b"]),
            ("uid", &["a"]),
            ("gidNumber", &["1"]),
            ("homeDirectory", &["/h"]),
        ];
        let mut attributes = entry(&base);
        attributes.push(("uidNumber".into(), strings(&["12x"])));
        let error = schema
            .check_entry(&posix, &attributes, "x")
            .expect_err("not an integer");
        assert!(error.contains("takes an integer"), "{error}");
        attributes.pop();
        attributes.push(("uidNumber".into(), strings(&["1", "2"])));
        let error = schema
            .check_entry(&posix, &attributes, "x")
            .expect_err("two values");
        assert!(error.contains("single-valued"), "{error}");
    }

    #[test]
    fn check_entry_allows_anything_with_extensible_object() {
        let schema = sample();
        let classes = strings(&["person", "extensibleObject"]);
        let attributes = entry(&[("cn", &["a"]), ("sn", &["b"]), ("mail", &["m"])]);
        assert_eq!(schema.check_entry(&classes, &attributes, "x"), Ok(()));
    }

    #[test]
    fn parse_skips_unreadable_definitions() {
        let schema = Schema::parse(
            "cn=s",
            &strings(&["garbage", "( 1.2 NAME 'x' )", "( 'unterminated"]),
            &[],
        );
        assert_eq!(schema.classes.len(), 1);
    }

    #[test]
    fn is_integer_follows_rfc_4517() {
        for text in ["0", "1", "-1", "2001", "9223372036854775808"] {
            assert!(is_integer(text), "{text:?}");
        }
        for text in ["", "-", "01", "-0", "1.0", " 1", "1 ", "x"] {
            assert!(!is_integer(text), "{text:?}");
        }
    }
}
