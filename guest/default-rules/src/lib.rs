//! The default DN rules as a component of the world `dn-rule`: a thin wrapper around
//! [`ldap_hooks_core::rules`], which holds the logic and its tests.

wit_bindgen::generate!({
    path: "../../wit",
    world: "dn-rule",
});

use exports::ldap_hooks::hook::dn_rules::{AttributeValue, Guest, ParsedName, RuleOptions};
use ldap_hooks_core::types;

struct DefaultRules;

impl Guest for DefaultRules {
    fn parse(submitted: String, options: RuleOptions) -> Result<ParsedName, String> {
        let options = types::RuleOptions {
            replacements: options.replacements,
            strip_chars: options.strip_chars,
        };
        let parsed = ldap_hooks_core::rules::parse(&submitted, &options)?;
        Ok(ParsedName {
            rdn: convert(parsed.rdn),
            parent: parsed.parent.into_iter().map(convert).collect(),
            template_values: convert(parsed.template_values),
        })
    }
}

fn convert(pairs: Vec<types::AttributeValue>) -> Vec<AttributeValue> {
    pairs
        .into_iter()
        .map(|pair| AttributeValue {
            attribute: pair.attribute,
            value: pair.value,
        })
        .collect()
}

export!(DefaultRules);
