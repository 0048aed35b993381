//! Search filters (RFC 4515) built from attribute names and plain values.

use crate::escape;

/// Builds an equality match `(name=value)`, escaping the value. The name must already
/// be a valid attribute description.
pub fn equality(name: &str, value: &str) -> String {
    let mut filter = String::with_capacity(name.len() + value.len() + 3);
    filter.push('(');
    filter.push_str(name);
    filter.push('=');
    escape::push_filter_value(&mut filter, value);
    filter.push(')');
    filter
}

/// Joins filters with AND. A single filter is returned as it is, and no filters give
/// the absolute true filter `(&)` (RFC 4526), which the callers never send.
pub fn and(filters: &[String]) -> String {
    match filters {
        [single] => single.clone(),
        _ => {
            let size = filters.iter().map(String::len).sum::<usize>() + 3;
            let mut joined = String::with_capacity(size);
            joined.push_str("(&");
            for filter in filters {
                joined.push_str(filter);
            }
            joined.push(')');
            joined
        }
    }
}

/// The filter that matches every entry, for reading an entry by its DN.
pub const ANY_OBJECT: &str = "(objectClass=*)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_of_equalities_escapes_values() {
        let filters = vec![
            equality("objectClass", "person"),
            equality("cn", "*"),
            equality("sn", "a)(uid=*"),
        ];
        assert_eq!(
            and(&filters),
            "(&(objectClass=person)(cn=\\2a)(sn=a\\29\\28uid=\\2a))"
        );
    }

    #[test]
    fn and_of_one_is_the_filter() {
        assert_eq!(and(&[equality("cn", "x")]), "(cn=x)");
    }
}
