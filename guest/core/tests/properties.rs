//! Property tests of the escapers, the DN parser and the other readers of user input:
//! escaping is reversible, no value changes the structure of a filter, and no input
//! makes a reader panic.

use ldap_hooks_core::escape::{dn_value, filter_value, read_dn_value};
use ldap_hooks_core::filter::equality;
use ldap_hooks_core::rules::{default_strip_chars, parse};
use ldap_hooks_core::schema::Schema;
use ldap_hooks_core::template::Template;
use ldap_hooks_core::types::RuleOptions;
use proptest::prelude::*;

/// Strings rich in the characters that DNs and filters treat specially.
fn hostile_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                '*', '(', ')', '\\', '\0', ',', '+', '=', ';', '<', '>', '#', '"', ' ', '/', '.',
                '!', '\n', '\t', '\u{7f}', 'é', 'Ø', '字', '\u{200b}',
            ]),
            any::<char>(),
            prop::char::range('a', 'z'),
        ],
        0..40,
    )
    .prop_map(|characters| characters.into_iter().collect())
}

/// Decodes the `\XX` escapes of an RFC 4515 assertion value.
fn decode_filter_value(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    Some(decoded)
}

fn no_options() -> RuleOptions {
    RuleOptions {
        replacements: Vec::new(),
        strip_chars: default_strip_chars(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dn_escaping_is_reversible(value in hostile_string()) {
        prop_assert_eq!(read_dn_value(&dn_value(&value)).ok(), Some(value));
    }

    #[test]
    fn filter_value_keeps_filter_structure(value in hostile_string()) {
        let filter = equality("cn", &value);
        let inner = filter.strip_prefix("(cn=").and_then(|rest| rest.strip_suffix(')'));
        prop_assert!(inner.is_some(), "{filter:?} is not one equality match");
        let inner = inner.unwrap_or_default();
        prop_assert!(!inner.contains(['(', ')', '*', '\0']), "{filter:?} has an unescaped metacharacter");
        prop_assert_eq!(decode_filter_value(inner), Some(value.as_bytes().to_vec()));
        prop_assert_eq!(filter_value(&value), inner);
    }

    #[test]
    fn rules_read_back_escaped_values(value in hostile_string().prop_filter("a value", |v| !v.is_empty())) {
        let parsed = parse(&format!("cn={}", dn_value(&value)), &no_options());
        prop_assert!(parsed.is_ok(), "{value:?}: {parsed:?}");
        let parsed = parsed.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(parsed.rdn.len(), 1);
        prop_assert_eq!(&parsed.rdn[0].attribute, "cn");
        prop_assert_eq!(&parsed.rdn[0].value, &value);
    }

    #[test]
    fn rules_never_panic(submitted in hostile_string(), replace in hostile_string(), with in hostile_string()) {
        let options = RuleOptions {
            replacements: vec![(replace, with)],
            strip_chars: default_strip_chars(),
        };
        if let Ok(parsed) = parse(&submitted, &options) {
            prop_assert!(!parsed.rdn.is_empty());
            for pair in &parsed.rdn {
                prop_assert!(!pair.value.is_empty());
                prop_assert!(ldap_hooks_core::names::check_attribute_type(&pair.attribute).is_ok());
            }
        }
    }

    #[test]
    fn template_parse_never_panics(text in hostile_string()) {
        if let Ok(template) = Template::parse(&text)
            && template.placeholders().count() == 0
        {
            let rendered = template.render(|_| Ok(Vec::new()));
            prop_assert_eq!(rendered, Ok(vec![text.replace("{{", "{").replace("}}", "}")]));
        }
    }

    #[test]
    fn schema_parse_never_panics(definition in hostile_string()) {
        let schema = Schema::parse("cn=s", &[format!("( {definition}")], std::slice::from_ref(&definition));
        prop_assert!(schema.classes.len() <= 1);
    }
}
