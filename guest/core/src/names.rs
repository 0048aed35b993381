//! Attribute names: validation against RFC 4512 and case-insensitive comparison.
//!
//! Names cannot be escaped in DNs or filters, so every name that reaches one is
//! checked here first.

/// Checks that `name` is an attribute type as RFC 4512 (section 1.4) defines it: a
/// descriptor (`cn`, `X-nextUserIdentifier`) or a numeric OID (`2.5.4.3`), without
/// options. This is the form an RDN requires.
pub fn check_attribute_type(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the attribute name is empty".to_string());
    }
    if let Some(position) = name.find(';') {
        return Err(format!(
            "attribute `{name}` has the option `{}`, and options are not allowed here; \
             use the plain attribute type `{}`",
            &name[position..],
            &name[..position]
        ));
    }
    if is_descriptor(name) || is_numeric_oid(name) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid attribute name; a name starts with a letter and contains only \
             letters, digits and hyphens, or is a numeric OID such as 2.5.4.3",
            crate::error::quote(name)
        ))
    }
}

/// Checks that `name` is an attribute description (RFC 4512, section 2.5): an
/// attribute type followed by options such as `;lang-de` or `;binary`.
pub fn check_attribute_description(name: &str) -> Result<(), String> {
    let mut parts = name.split(';');
    let attribute_type = parts.next().unwrap_or_default();
    check_attribute_type(attribute_type)?;
    for option in parts {
        let valid = !option.is_empty()
            && option
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(format!(
                "`{name}` has the invalid option `{option}`; options contain only letters, \
                 digits and hyphens"
            ));
        }
    }
    Ok(())
}

/// The attribute type of a description, without options: `cn` for `cn;lang-de`.
pub fn attribute_type(description: &str) -> &str {
    // A byte search: `;` is ASCII, so it never splits a UTF-8 sequence, and the hook
    // calls this for every schema lookup.
    match description.bytes().position(|byte| byte == b';') {
        Some(end) => &description[..end],
        None => description,
    }
}

/// RFC 4512 `descr`: a letter followed by letters, digits and hyphens.
pub fn is_descriptor(name: &str) -> bool {
    is_keystring(name)
}

fn is_keystring(text: &str) -> bool {
    let mut characters = text.chars();
    matches!(characters.next(), Some(first) if first.is_ascii_alphabetic())
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// RFC 4512 `numericoid`: numbers without leading zeros separated by dots.
pub fn is_numeric_oid(name: &str) -> bool {
    let mut count = 0;
    for number in name.split('.') {
        count += 1;
        let valid = !number.is_empty()
            && number.bytes().all(|byte| byte.is_ascii_digit())
            && (number == "0" || !number.starts_with('0'));
        if !valid {
            return false;
        }
    }
    count >= 2
}

/// Compares two attribute names as LDAP does: case-insensitively.
pub fn same(left: &str, right: &str) -> bool {
    left.eq_ignore_ascii_case(right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_type_accepts_names_and_oids() {
        for name in [
            "cn",
            "CN",
            "telephoneNumber",
            "X-nextUserIdentifier",
            "c",
            "2.5.4.3",
        ] {
            assert!(
                check_attribute_type(name).is_ok(),
                "{name:?} should be accepted"
            );
        }
    }

    #[test]
    fn attribute_type_rejects_invalid_names() {
        for name in [
            "",
            "1cn",
            "c n",
            "cn*",
            "(cn",
            "cn=",
            "01.2",
            "2.",
            "-cn",
            "cn;binary",
            "ø",
        ] {
            assert!(
                check_attribute_type(name).is_err(),
                "{name:?} should be rejected"
            );
        }
    }

    #[test]
    fn attribute_description_accepts_options() {
        assert!(check_attribute_description("cn;lang-de").is_ok());
        assert!(check_attribute_description("userCertificate;binary").is_ok());
        assert!(check_attribute_description("cn;").is_err());
        assert!(check_attribute_description("cn;l*").is_err());
    }

    #[test]
    fn same_ignores_case() {
        assert!(same("cn", "CN"));
        assert!(same("uidNumber", "UIDNUMBER"));
        assert!(!same("cn", "sn"));
    }
}
