//! The command line: plan, check, exit codes and configuration errors.

use crate::support::{ALLOCATION, PERSON, Site, run_binary, values};
use serde_json::json;
use slapd_harness::{BASE_DN, COUNTER_DN, COUNTER_START};

fn jane() -> serde_json::Value {
    json!({"user": {"name": "jane"}, "user_options": {"CERT": "/C=DK/O=Example/CN=Jane Doe"}})
}

#[test]
fn plan_reports_without_writing() {
    let site = Site::new();
    let config = site.config(ALLOCATION);

    let plan = site.command("plan", &config, &jane(), &[]).json();
    assert_eq!(plan["status"], "would-create");
    assert_eq!(
        plan["dn"].as_str().map(str::to_ascii_lowercase),
        Some(format!("c=dk+o=example+cn=jane doe,{BASE_DN}"))
    );
    let next = (COUNTER_START + 1).to_string();
    assert_eq!(
        plan["counters"],
        json!([{"attribute": "uidNumber", "counter_dn": COUNTER_DN, "current": COUNTER_START.to_string(), "next": next}])
    );
    assert_eq!(
        values(&json!({"attributes": plan["entry"]}), "uidNumber"),
        vec![next.clone()]
    );
    assert_eq!(
        plan["spawner_updates"],
        json!({"environment": {"NB_USER": "jane", "NB_UID": next}})
    );
    let filters: Vec<&str> = plan["searches"]
        .as_array()
        .expect("searches")
        .iter()
        .filter_map(|s| s["filter"].as_str())
        .collect();
    assert!(
        filters.contains(&"(&(objectClass=X-certsDistinguishedName)(objectClass=posixAccount)(c=DK)(o=Example)(cn=Jane Doe))"),
        "{filters:?}"
    );

    assert_eq!(site.slapd.counter().expect("counter"), COUNTER_START);
    assert!(
        site.slapd
            .entries_of_class("posixAccount")
            .expect("ldapsearch")
            .is_empty()
    );

    site.command("run", &config, &jane(), &[]).json();
    let found = site.command("plan", &config, &jane(), &[]).json();
    assert_eq!(found["status"], "found");
    assert_eq!(found["counters"], json!([]));
}

#[test]
fn check_reports_schema_and_counters() {
    let site = Site::new();
    let config = site.config(ALLOCATION);
    let output = run_binary(
        &["check", "--config", config.to_str().expect("path")],
        "",
        site.slapd.directory(),
    );
    let report = output.json();
    assert_eq!(
        report["object_classes"],
        json!(["X-certsDistinguishedName", "posixAccount"])
    );
    assert_eq!(report["counters"][0]["current"], COUNTER_START.to_string());
    assert_eq!(report["subschema"], "cn=Subschema");

    let missing = site.config(&ALLOCATION.replace("cn=uidNext", "cn=noSuchCounter"));
    let output = run_binary(
        &["check", "--config", missing.to_str().expect("path")],
        "",
        site.slapd.directory(),
    );
    let message = output.error(1);
    assert!(message.contains("noSuchObject"), "{message}");
    assert!(message.contains("Create the counter entry"), "{message}");
}

#[test]
fn configuration_errors_exit_with_two() {
    let site = Site::new();
    let cases = [
        (
            format!("{PERSON}unknown_option = 1\n"),
            "unknown field `unknown_option`",
        ),
        (
            format!("{PERSON}dynamic_attributes = {{ uid = \"7\" }}\n"),
            "dynamic_attributes['uid'] is `7`",
        ),
        (
            PERSON.replace("[\"Person\"]", "[]"),
            "object_classes is empty",
        ),
        (
            format!("{PERSON}connect_timeout = -1.0\n"),
            "connect_timeout is -1",
        ),
    ];
    for (body, expected) in cases {
        let config = site.config(&body);
        let output = site.command("run", &config, &jane(), &[]);
        let message = output.error(2);
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message}"
        );
    }

    let output = run_binary(
        &[
            "run",
            "--config",
            "/nonexistent/ldap-hooks.toml",
            "--submitted",
            "/CN=x",
            "--user",
            "x",
        ],
        "",
        site.slapd.directory(),
    );
    assert!(
        output
            .error(2)
            .contains("cannot read the configuration file"),
        "{output:?}"
    );

    let output = run_binary(&["run", "--password", "x"], "", site.slapd.directory());
    assert_eq!(output.code, 2, "there is no password option: {output:?}");
}

#[test]
fn unreachable_server_exits_with_one() {
    let mut site = Site::new();
    let port = site.slapd.port();
    let config = site.config_with_connection(
        &format!("url = \"127.0.0.1:{port}\"\nbase_dn = \"{BASE_DN}\"\nconnect_timeout = 2.0\n"),
        PERSON,
    );
    site.slapd.stop();
    let output = site.command("run", &config, &jane(), &["--submitted", "/SN=a/CN=a"]);
    let message = output.error(1);
    assert!(
        message.contains(&format!("connecting to ldap://127.0.0.1:{port} failed")),
        "{message}"
    );
    assert!(message.contains("connectError"), "{message}");
}

#[test]
fn submitted_flags_replace_the_context() {
    let site = Site::new();
    let config = site.config(PERSON);
    let output = run_binary(
        &[
            "run",
            "--config",
            config.to_str().expect("path"),
            "--user",
            "zoe",
            "--submitted",
            "/SN=Z/CN=zoe",
        ],
        "",
        site.slapd.directory(),
    );
    let outcome = output.json();
    assert_eq!(values(&outcome, "cn"), vec!["zoe"]);
}
