//! Size limits on what users submit and on what DN rules return.
//!
//! They keep a hostile or mistaken value from producing a huge filter, an entry with
//! thousands of attributes, or a DN that the server rejects only after a counter
//! moved. The limits are far above what a certificate subject or a user's name needs.

/// The longest submitted value, in bytes.
pub const MAX_SUBMITTED_BYTES: usize = 4096;
/// The most attribute values in the entry's RDN.
pub const MAX_RDN_VALUES: usize = 16;
/// The most RDNs between an entry and the base DN.
pub const MAX_PARENT_RDNS: usize = 8;
/// The most template values that DN rules may return.
pub const MAX_TEMPLATE_VALUES: usize = 64;
/// The longest attribute name or value that DN rules may return, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;
/// The most attributes of a new entry, the object classes included.
pub const MAX_ENTRY_ATTRIBUTES: usize = 64;

/// Checks the submitted value's length.
pub fn check_submitted(submitted: &str) -> Result<(), String> {
    if submitted.len() > MAX_SUBMITTED_BYTES {
        return Err(format!(
            "the submitted value is {} bytes long, above the limit of {MAX_SUBMITTED_BYTES} bytes; \
             submit the entry's name only",
            submitted.len()
        ));
    }
    Ok(())
}

/// Checks the counts and lengths of what DN rules returned.
pub fn check_parsed(
    rdn_values: usize,
    parents: usize,
    template_values: usize,
) -> Result<(), String> {
    if rdn_values > MAX_RDN_VALUES {
        return Err(format!(
            "the name has {rdn_values} attribute values, above the limit of {MAX_RDN_VALUES}"
        ));
    }
    if parents > MAX_PARENT_RDNS {
        return Err(format!(
            "the name has {parents} parent RDNs, above the limit of {MAX_PARENT_RDNS}"
        ));
    }
    if template_values > MAX_TEMPLATE_VALUES {
        return Err(format!(
            "the DN rules returned {template_values} template values, above the limit of \
             {MAX_TEMPLATE_VALUES}"
        ));
    }
    Ok(())
}

/// Checks the length of one attribute name or value from DN rules.
pub fn check_value(attribute: &str, value: &str) -> Result<(), String> {
    if attribute.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "an attribute name is {} bytes long, above the limit of {MAX_VALUE_BYTES} bytes",
            attribute.len()
        ));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "the value of `{attribute}` is {} bytes long, above the limit of {MAX_VALUE_BYTES} bytes",
            value.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_submitted_names_the_length() {
        assert!(check_submitted(&"a".repeat(MAX_SUBMITTED_BYTES)).is_ok());
        let error = check_submitted(&"a".repeat(MAX_SUBMITTED_BYTES + 1)).expect_err("too long");
        assert!(error.contains("4097 bytes"), "{error}");
    }

    #[test]
    fn check_parsed_counts_each_part() {
        assert!(check_parsed(MAX_RDN_VALUES, MAX_PARENT_RDNS, MAX_TEMPLATE_VALUES).is_ok());
        assert!(check_parsed(MAX_RDN_VALUES + 1, 0, 0).is_err());
        assert!(check_parsed(1, MAX_PARENT_RDNS + 1, 0).is_err());
        assert!(check_parsed(1, 0, MAX_TEMPLATE_VALUES + 1).is_err());
    }

    #[test]
    fn check_value_limits_names_and_values() {
        assert!(check_value("cn", &"v".repeat(MAX_VALUE_BYTES)).is_ok());
        assert!(check_value("cn", &"v".repeat(MAX_VALUE_BYTES + 1)).is_err());
        assert!(check_value(&"n".repeat(MAX_VALUE_BYTES + 1), "v").is_err());
    }
}
