//! The hostile submitted values of tests/corpus through the binary: each creates
//! exactly the entry it names, read back unchanged, or fails clearly; none touches or
//! returns another entry.

use crate::support::{PERSON, Site};
use ldap_hooks_core::rules::{default_strip_chars, parse};
use ldap_hooks_core::types::RuleOptions;
use serde_json::Value;
use slapd_harness::ldif::Entry;

const CORPUS: &str = include_str!("../corpus/hostile-values.json");

/// The values that the default rules read from `submitted`, for the cases where the
/// server decides whether they are valid.
fn expected_cn(submitted: &str) -> String {
    let options = RuleOptions {
        replacements: vec![("/".to_string(), "+".to_string())],
        strip_chars: default_strip_chars(),
    };
    let parsed = parse(submitted, &options).expect("the default rules read the value");
    parsed
        .rdn
        .into_iter()
        .find(|pair| pair.attribute.eq_ignore_ascii_case("cn"))
        .map(|pair| pair.value)
        .expect("a CN")
}

fn read(site: &Site, dn: &str) -> Entry {
    let mut entries = site
        .slapd
        .search(dn, "base", "(objectClass=*)", &["*"])
        .expect("ldapsearch");
    assert_eq!(entries.len(), 1, "one entry at {dn}");
    entries.remove(0)
}

#[test]
fn hostile_corpus_is_contained() {
    let site = Site::new();
    let config = site.config(PERSON);
    let victim = site
        .run(&config, "alice", "PersonDN", "/SN=victim/CN=alice")
        .json();
    let victim_dn = victim["dn"].as_str().expect("dn").to_string();
    let victim_entry = read(&site, &victim_dn);

    let corpus: Vec<Value> = serde_json::from_str(CORPUS).expect("the corpus is JSON");
    for case in &corpus {
        let name = case["name"].as_str().expect("name");
        let submitted = case["submitted"].as_str().expect("submitted");
        let before = site
            .slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .len();
        let output = site.run(&config, "mallory", "PersonDN", submitted);

        if let Some(expected) = case["error"].as_str() {
            let message = output.error(1);
            assert!(
                message.contains(expected),
                "{name}: expected {expected:?} in {message}"
            );
            assert!(
                !message.contains('\n'),
                "{name}: the message is one line: {message:?}"
            );
        } else if output.code != 0 && case["either"].as_bool() == Some(true) {
            assert_eq!(output.code, 1, "{name}: {output:?}");
            assert!(
                site.slapd
                    .entries_of_class("person")
                    .expect("ldapsearch")
                    .len()
                    == before,
                "{name} wrote an entry"
            );
        } else {
            let created = output.json();
            assert_eq!(created["status"], "created", "{name}: {created}");
            let dn = created["dn"].as_str().expect("dn");
            assert_ne!(dn, victim_dn, "{name} returned the victim");
            let entry = read(&site, dn);
            let expected: Vec<String> = match case["attributes"]["cn"].as_array() {
                Some(values) => values
                    .iter()
                    .map(|value| value.as_str().expect("text").to_string())
                    .collect(),
                None => vec![expected_cn(submitted)],
            };
            assert_eq!(entry.values("cn"), expected, "{name}: cn read back");
            if let Some(values) = case["attributes"]["sn"].as_array() {
                let sn: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                assert_eq!(entry.values("sn"), sn, "{name}: sn read back");
            }

            let again = site.run(&config, "mallory", "PersonDN", submitted).json();
            assert_eq!(
                again["status"], "found",
                "{name}: a second run finds the entry"
            );
            assert_eq!(again["dn"], created["dn"], "{name}");
        }

        assert_eq!(
            read(&site, &victim_dn),
            victim_entry,
            "{name} changed the victim"
        );
    }
}
