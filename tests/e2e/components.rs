//! Swapped DN-rule and hook components: the example rules in Rust and Python, and
//! misbehaving components that must fail cleanly inside their sandbox.

use crate::support::{PERSON, Site, values};
use serde_json::json;
use slapd_harness::BASE_DN;
use std::path::PathBuf;

fn guest(file: &str) -> PathBuf {
    PathBuf::from(env!("LDAP_HOOKS_GUEST_DIR")).join(file)
}

/// The componentize-py build of examples/rules/x509-uid-python, made by scripts/test.sh.
fn python_rule() -> PathBuf {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/guest/x509-uid-python.wasm");
    assert!(
        path.exists(),
        "{} is missing; scripts/test.sh builds it with componentize-py (scripts/build-python-rule.sh)",
        path.display()
    );
    path
}

const X509_UID: &str = r#"
submit_spawner_attribute = "user_options"
submit_spawner_attribute_keys = ["CERT"]
object_classes = ["inetOrgPerson"]
object_attributes = { cn = "{cn}", sn = "{sn}", mail = "{mail}" }
dynamic_attributes = { cn = "1", sn = "1", mail = "1", uid = "LDAP_FIRST_SEARCH_ATTRIBUTE_QUERY" }
set_spawner_attributes = { environment = { NB_USER = "{uid}" } }
"#;

fn x509_uid_config(site: &Site, rules: &std::path::Path) -> PathBuf {
    site.config(&format!(
        "rules_component = \"{}\"\n{X509_UID}",
        rules.display()
    ))
}

fn jane_context() -> serde_json::Value {
    json!({"user": {"name": "jane"}, "user_options": {"CERT": "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org"}})
}

#[test]
fn rust_rule_names_entry_by_mail() {
    let site = Site::new();
    let config = x509_uid_config(&site, &guest("x509_uid_rules.wasm"));
    let outcome = site.command("run", &config, &jane_context(), &[]).json();
    assert_eq!(outcome["dn"], format!("uid=jane,ou=people,{BASE_DN}"));
    assert_eq!(values(&outcome, "sn"), vec!["Doe"]);
    assert_eq!(values(&outcome, "mail"), vec!["jane@example.org"]);
    assert_eq!(
        outcome["spawner_updates"],
        json!({"environment": {"NB_USER": "jane"}})
    );
}

#[test]
fn python_rule_matches_rust_rule() {
    let rust_site = Site::new();
    let rust_config = x509_uid_config(&rust_site, &guest("x509_uid_rules.wasm"));
    let python_site = Site::new();
    let python_config = x509_uid_config(&python_site, &python_rule());

    for context in [
        jane_context(),
        json!({"user": {"name": "john"}, "user_options": {"CERT": "/CN=John Ronald Roe/emailAddress=J.R.Roe@example.org"}}),
    ] {
        let from_rust = rust_site.command("run", &rust_config, &context, &[]).json();
        let from_python = python_site
            .command("run", &python_config, &context, &[])
            .json();
        assert_eq!(from_rust["dn"], from_python["dn"]);
        assert_eq!(from_rust["attributes"], from_python["attributes"]);
        assert_eq!(from_rust["spawner_updates"], from_python["spawner_updates"]);
    }

    let missing_mail = json!({"user": {"name": "x"}, "user_options": {"CERT": "/CN=No Mail"}});
    let rust_error = rust_site.command("run", &rust_config, &missing_mail, &[]);
    let python_error = python_site.command("run", &python_config, &missing_mail, &[]);
    assert!(
        rust_error.error(1).contains("no emailAddress"),
        "{rust_error:?}"
    );
    assert!(
        python_error.error(1).contains("no emailAddress"),
        "{python_error:?}"
    );
}

#[test]
fn rules_option_overrides_config() {
    let site = Site::new();
    let config = site.config(X509_UID);
    let rules = guest("x509_uid_rules.wasm");
    let outcome = site
        .command(
            "run",
            &config,
            &jane_context(),
            &["--rules", rules.to_str().expect("path")],
        )
        .json();
    assert_eq!(outcome["dn"], format!("uid=jane,ou=people,{BASE_DN}"));
}

/// A person configuration with the hostile rules, a small fuel budget and memory limit.
fn hostile_config(site: &Site) -> PathBuf {
    site.config(&format!(
        "rules_component = \"{}\"\ncomponent_fuel = 50000000\ncomponent_memory_mb = 32\ncomponent_stderr_to_log = true\n{PERSON}",
        guest("hostile_rules.wasm").display()
    ))
}

#[test]
fn hostile_rules_fail_cleanly() {
    let site = Site::new();
    let config = hostile_config(&site);
    let component = guest("hostile_rules.wasm").display().to_string();

    for (submitted, expected) in [
        ("loop", "used up its fuel of 50000000 units"),
        ("grow", "above the limit of 32 MiB"),
        ("panic", "trapped"),
        ("trap", "trapped"),
        ("empty-attribute", "the attribute name is empty"),
    ] {
        let output = site.run(&config, "mallory", "PersonDN", submitted);
        let message = output.error(1);
        assert!(message.contains(expected), "{submitted}: {message}");
        assert!(
            message.contains(&component),
            "{submitted} must name the component: {message}"
        );
        assert!(
            site.slapd
                .entries_of_class("person")
                .expect("ldapsearch")
                .is_empty(),
            "{submitted} wrote an entry"
        );

        let good = site.run(&config, "alice", "PersonDN", "alice").json();
        assert_eq!(
            values(&good, "cn"),
            vec!["alice"],
            "a good spawn after {submitted}"
        );
        site.slapd
            .modify(&format!(
                "dn: {}\nchangetype: delete\n",
                good["dn"].as_str().expect("dn")
            ))
            .expect("removing the good entry");
    }
}

#[test]
fn hostile_panic_message_reaches_log() {
    let site = Site::new();
    let config = hostile_config(&site);
    let output = site.run(&config, "mallory", "PersonDN", "panic");
    output.error(1);
    assert!(
        output.stderr.contains("the hostile rule panics on request"),
        "the guest's panic message is logged: {}",
        output.stderr
    );
}

#[test]
fn hostile_values_are_escaped() {
    let site = Site::new();
    let config = hostile_config(&site);
    let created = site.run(&config, "mallory", "PersonDN", "escaping").json();
    let found = site.run(&config, "mallory", "PersonDN", "escaping").json();
    assert_eq!(found["status"], "found");
    assert_eq!(found["dn"], created["dn"]);

    let entries = site.slapd.entries_of_class("person").expect("ldapsearch");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].values("cn"), vec!["a,b+c=d\"<>;\\#x "]);
    assert_eq!(entries[0].values("sn"), vec!["*)(uid=*"]);
}

#[test]
fn wrong_world_is_named() {
    let site = Site::new();
    let config = site.config(PERSON);
    let hook = guest("ldap_hooks_hook.wasm");
    let rules = guest("ldap_hooks_default_rules.wasm");
    let context =
        json!({"user": {"name": "alice"}, "user_options": {"PersonDN": "/SN=a/CN=alice"}});

    let as_rules = site.command(
        "run",
        &config,
        &context,
        &["--rules", hook.to_str().expect("path")],
    );
    let message = as_rules.error(2);
    assert!(
        message.contains("does not implement the dn-rule world"),
        "{message}"
    );
    assert!(
        message.contains("does not export ldap-hooks:hook/dn-rules@0.1.0"),
        "{message}"
    );

    let as_hook = site.command(
        "run",
        &config,
        &context,
        &["--hook", rules.to_str().expect("path")],
    );
    let message = as_hook.error(2);
    assert!(
        message.contains("does not implement the entry-hook world"),
        "{message}"
    );

    let not_wasm = site.config(PERSON);
    let output = site.command(
        "run",
        &config,
        &context,
        &["--rules", not_wasm.to_str().expect("path")],
    );
    assert!(
        output
            .error(2)
            .contains("is not a valid WebAssembly component"),
        "{output:?}"
    );
    assert!(
        site.slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .is_empty()
    );
}
