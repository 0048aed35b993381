//! A DN-rule component that misbehaves on request, for the sandbox tests.
//!
//! The submitted value selects the behaviour: `loop` never returns, `grow` allocates
//! until it is stopped, `panic` panics, `trap` executes `unreachable`,
//! `empty-attribute` returns an RDN with an empty attribute name, and `escaping`
//! returns values full of DN and filter metacharacters. Any other value names the
//! entry `cn=<value>`, so the same component also serves a good spawn.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "dn-rule",
});

use exports::ldap_hooks::hook::dn_rules::{AttributeValue, Guest, ParsedName, RuleOptions};

/// The values that `escaping` returns for cn and sn.
pub const ESCAPING_CN: &str = "a,b+c=d\"<>;\\#x ";
pub const ESCAPING_SN: &str = "*)(uid=*";

struct Hostile;

fn pair(attribute: &str, value: &str) -> AttributeValue {
    AttributeValue {
        attribute: attribute.to_string(),
        value: value.to_string(),
    }
}

impl Guest for Hostile {
    fn parse(submitted: String, _options: RuleOptions) -> Result<ParsedName, String> {
        let rdn = match submitted.as_str() {
            "loop" => {
                let mut counter = 0u64;
                loop {
                    counter = std::hint::black_box(counter.wrapping_add(1));
                }
            }
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1024 * 1024]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => panic!("the hostile rule panics on request"),
            "trap" => std::process::abort(),
            "empty-attribute" => vec![pair("", "x")],
            "escaping" => vec![pair("cn", ESCAPING_CN), pair("sn", ESCAPING_SN)],
            other => vec![pair("cn", other), pair("sn", "hostile")],
        };
        Ok(ParsedName {
            template_values: rdn.clone(),
            rdn,
            parent: Vec::new(),
        })
    }
}

export!(Hostile);
