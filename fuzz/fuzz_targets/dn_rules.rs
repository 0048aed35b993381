//! Fuzzes the default DN rules and the escapers with arbitrary submitted values.
//!
//! For every input: reading it never panics; every value it yields survives escaping
//! for a DN and reading back; and the value's filter is one equality match whose
//! assertion value has no unescaped metacharacter.

#![no_main]

use ldap_hooks_core::escape::{dn_value, filter_value, read_dn_value};
use ldap_hooks_core::rules::{default_strip_chars, parse};
use ldap_hooks_core::types::RuleOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(submitted) = std::str::from_utf8(data) else {
        return;
    };
    for replacements in [vec![], vec![("/".to_string(), "+".to_string())]] {
        let options = RuleOptions {
            replacements,
            strip_chars: default_strip_chars(),
        };
        let Ok(parsed) = parse(submitted, &options) else {
            continue;
        };
        for pair in &parsed.rdn {
            assert!(!pair.value.is_empty());
            assert_eq!(read_dn_value(&dn_value(&pair.value)).as_deref(), Ok(pair.value.as_str()));
            let escaped = filter_value(&pair.value);
            assert!(!escaped.contains(['(', ')', '*', '\0']));
        }
    }
});
