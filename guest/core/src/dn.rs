//! Distinguished names built from structured RDNs (RFC 4514).

use crate::escape;
use crate::names;
use crate::types::Rdn;

/// Formats one RDN, escaping every value; multi-valued RDNs are joined with `+`.
pub fn format_rdn(rdn: &Rdn) -> String {
    rdn.iter()
        .map(|pair| format!("{}={}", pair.attribute, escape::dn_value(&pair.value)))
        .collect::<Vec<_>>()
        .join("+")
}

/// Builds the DN of an entry from its RDN, the RDNs of its parents below the base
/// (nearest first) and the configured base DN.
pub fn build(rdn: &Rdn, parent: &[Rdn], base_dn: &str) -> String {
    let mut parts = Vec::with_capacity(parent.len() + 2);
    parts.push(format_rdn(rdn));
    parts.extend(parent.iter().map(format_rdn));
    if !base_dn.is_empty() {
        parts.push(base_dn.to_string());
    }
    parts.join(",")
}

/// Checks what a DN rule returned: at least one value in every RDN, valid attribute
/// types, non-empty values, and no attribute type twice in one RDN.
pub fn check_rdn(rdn: &Rdn, what: &str) -> Result<(), String> {
    if rdn.is_empty() {
        return Err(format!("{what} is empty"));
    }
    for (index, pair) in rdn.iter().enumerate() {
        names::check_attribute_type(&pair.attribute)
            .map_err(|reason| format!("{what}: {reason}"))?;
        if pair.value.is_empty() {
            return Err(format!(
                "{what}: the attribute `{}` has an empty value",
                pair.attribute
            ));
        }
        if rdn[..index]
            .iter()
            .any(|earlier| names::same(&earlier.attribute, &pair.attribute))
        {
            return Err(format!(
                "{what}: the attribute `{}` appears more than once",
                pair.attribute
            ));
        }
    }
    Ok(())
}

/// Compares two DNs loosely: case-insensitively and ignoring spaces after separators.
/// Good enough to recognise the DN the hook itself built in a server's reply.
pub fn loosely_equal(left: &str, right: &str) -> bool {
    let normalise = |dn: &str| {
        escape::split_unescaped(dn, ',')
            .into_iter()
            .map(|rdn| rdn.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    normalise(left) == normalise(right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AttributeValue;

    #[test]
    fn build_escapes_values() {
        let rdn = vec![
            AttributeValue::new("cn", "Doe, Jane"),
            AttributeValue::new("sn", "a+b"),
        ];
        assert_eq!(
            build(&rdn, &[], "dc=example,dc=org"),
            "cn=Doe\\, Jane+sn=a\\+b,dc=example,dc=org"
        );
    }

    #[test]
    fn build_places_parents_between_rdn_and_base() {
        let rdn = vec![AttributeValue::new("uid", "jane")];
        let parent = vec![vec![AttributeValue::new("ou", "people")]];
        assert_eq!(
            build(&rdn, &parent, "dc=example,dc=org"),
            "uid=jane,ou=people,dc=example,dc=org"
        );
    }

    #[test]
    fn check_rdn_rejects_bad_rule_output() {
        assert!(check_rdn(&vec![], "the RDN").is_err());
        assert!(check_rdn(&vec![AttributeValue::new("", "x")], "the RDN").is_err());
        assert!(check_rdn(&vec![AttributeValue::new("cn", "")], "the RDN").is_err());
        assert!(check_rdn(&vec![AttributeValue::new("c,n", "x")], "the RDN").is_err());
        let repeated = vec![
            AttributeValue::new("cn", "a"),
            AttributeValue::new("CN", "b"),
        ];
        assert!(check_rdn(&repeated, "the RDN").is_err());
        assert!(check_rdn(&vec![AttributeValue::new("cn", "a,b")], "the RDN").is_ok());
    }

    #[test]
    fn loosely_equal_ignores_case_and_spaces() {
        assert!(loosely_equal(
            "CN=Alice, DC=Example,dc=org",
            "cn=alice,dc=example,dc=org"
        ));
        assert!(!loosely_equal("cn=alice,dc=org", "cn=bob,dc=org"));
        assert!(!loosely_equal("cn=a\\,b,dc=org", "cn=a,b,dc=org"));
    }
}
