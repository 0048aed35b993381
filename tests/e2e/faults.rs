//! Faults of the directory and the network: each gives a clear error, writes nothing
//! and uses no counter value; a lost reply after a write is recognised on the next run.

use crate::support::{ALLOCATION, PERSON, Site, run_binary, values};
use serde_json::json;
use slapd_harness::proxy::{Fault, FaultProxy};
use slapd_harness::{ADMIN_DN, BASE_DN, COUNTER_START};
use std::path::PathBuf;

/// Completed operations of a first run with ALLOCATION before its uniqueness search:
/// bind, root DSE and subschema.
const BEFORE_SEARCH: usize = 3;

/// Completed operations of a first run with ALLOCATION before its first write and
/// before its add. Compare-and-swap reads the counter through the 0.1.2-style query
/// first; increment skips that query, because the increment returns the value.
fn before_write_and_add(method: &str) -> (usize, usize) {
    match method {
        "compare-and-swap" => (5, 6),
        _ => (4, 5),
    }
}

fn jane() -> serde_json::Value {
    json!({"user": {"name": "jane"}, "user_options": {"CERT": "/C=DK/CN=Jane Doe"}})
}

/// A configuration that reaches slapd through `proxy`, with short timeouts.
fn through_proxy(site: &Site, proxy: &FaultProxy, method: &str) -> PathBuf {
    site.config_with_connection(
        &format!(
            "url = \"{}\"\nuser = \"{ADMIN_DN}\"\npassword_env = \"TEST_LDAP_PASSWORD\"\nbase_dn = \"{BASE_DN}\"\n\
             connect_timeout = 2.0\noperation_timeout = 1.0\nallocation_method = \"{method}\"\n",
            proxy.url()
        ),
        ALLOCATION,
    )
}

fn assert_nothing_written(site: &Site, case: &str) {
    assert!(
        site.slapd
            .entries_of_class("posixAccount")
            .expect("ldapsearch")
            .is_empty(),
        "{case} wrote an entry"
    );
    assert_eq!(
        site.slapd.counter().expect("counter"),
        COUNTER_START,
        "{case} used a number"
    );
}

#[test]
fn server_down_and_refused() {
    let mut site = Site::new();
    let config = site.config(ALLOCATION);
    site.slapd.stop();
    let down = site.command("run", &config, &jane(), &[]);
    assert!(down.error(1).contains("connectError (91)"), "{down:?}");

    site.slapd.restart().expect("restarting slapd");
    assert_nothing_written(&site, "a run against a stopped server");
    let after = site.command("run", &config, &jane(), &[]).json();
    assert_eq!(
        after["status"], "created",
        "slapd restarted between two runs"
    );
}

#[test]
fn wrong_credentials_are_named() {
    let site = Site::new();
    let config = site.config_with_connection(
        &format!("url = \"{}\"\nuser = \"{ADMIN_DN}\"\npassword = \"not-the-password\"\nbase_dn = \"{BASE_DN}\"\n", site.slapd.url()),
        ALLOCATION,
    );
    let output = site.command("run", &config, &jane(), &[]);
    let message = output.error(1);
    assert!(message.contains("invalidCredentials (49)"), "{message}");
    assert!(
        message.contains(&format!(
            "the server rejected the bind DN {ADMIN_DN} or its password"
        )),
        "{message}"
    );
    assert_nothing_written(&site, "a run with a wrong password");
}

#[test]
fn stall_mid_run_times_out() {
    let site = Site::new();
    let proxy = FaultProxy::start(site.slapd.port()).expect("proxy");
    for method in ["compare-and-swap", "increment"] {
        let config = through_proxy(&site, &proxy, method);
        proxy.set(Fault::StallAfter(BEFORE_SEARCH));
        let output = site.command("run", &config, &jane(), &[]);
        let message = output.error(1);
        assert!(
            message.contains("no answer within 1.0 s"),
            "{method}: {message}"
        );
        assert_nothing_written(&site, method);
    }
}

#[test]
fn dropped_connection_before_search_recovers() {
    let site = Site::new();
    let proxy = FaultProxy::start(site.slapd.port()).expect("proxy");
    let config = through_proxy(&site, &proxy, "auto");
    proxy.set(Fault::DropAfter(BEFORE_SEARCH));
    let outcome = site.command("run", &config, &jane(), &[]).json();
    assert_eq!(
        outcome["status"], "created",
        "the search after the drop reconnected"
    );
    assert_eq!(site.slapd.counter().expect("counter"), COUNTER_START + 1);
}

#[test]
fn dropped_connection_before_write_fails_cleanly() {
    let site = Site::new();
    let proxy = FaultProxy::start(site.slapd.port()).expect("proxy");
    for method in ["compare-and-swap", "increment"] {
        let config = through_proxy(&site, &proxy, method);
        // The next operation is the counter's modify.
        proxy.set(Fault::DropAfter(before_write_and_add(method).0));
        let output = site.command("run", &config, &jane(), &[]);
        let message = output.error(1);
        assert!(message.contains("serverDown (81)"), "{method}: {message}");
        assert!(
            message.contains("no number is given out twice"),
            "{method}: {message}"
        );
        assert_nothing_written(&site, method);
    }
}

#[test]
fn lost_reply_after_add_is_found_next_time() {
    for method in ["compare-and-swap", "increment"] {
        let site = Site::new();
        let proxy = FaultProxy::start(site.slapd.port()).expect("proxy");
        let config = through_proxy(&site, &proxy, method);
        proxy.set(Fault::StallAfter(before_write_and_add(method).1));
        let output = site.command("run", &config, &jane(), &[]);
        let message = output.error(1);
        assert!(message.contains("adding"), "{method}: {message}");
        assert!(
            message.contains("may have been written"),
            "{method}: {message}"
        );
        assert!(
            message.contains(&format!("uidNumber {} stays allocated", COUNTER_START + 1)),
            "{method}: {message}"
        );

        proxy.set(Fault::Pass);
        let again = site.command("run", &config, &jane(), &[]).json();
        assert_eq!(
            again["status"], "found",
            "{method}: the entry written before the lost reply"
        );
        assert_eq!(
            values(&again, "uidNumber"),
            vec![(COUNTER_START + 1).to_string()],
            "{method}"
        );
        assert_eq!(
            site.slapd.counter().expect("counter"),
            COUNTER_START + 1,
            "{method}: the counter moved once"
        );
        assert_eq!(
            site.slapd
                .entries_of_class("posixAccount")
                .expect("ldapsearch")
                .len(),
            1,
            "{method}"
        );
    }
}

/// ALLOCATION without the 0.1.2-style query: the counter is read or incremented by
/// search_result_operations alone.
const COUNTER_ONLY: &str = r#"
submit_spawner_attribute = "user_options"
submit_spawner_attribute_keys = ["CERT"]
replace_object_with = { "/" = "+" }
object_classes = ["X-certsDistinguishedName", "posixAccount"]
object_attributes = { uid = "{name}", uidNumber = "{uidNumber}", gidNumber = "100", homeDirectory = "/home/{name}" }
dynamic_attributes = { name = "4", uidNumber = "2" }
search_result_operations = { uidNumber = { action = "1", modify_dn = "COUNTER" } }
"#;

#[test]
fn lost_reply_after_counter_move_skips_a_number() {
    for method in ["compare-and-swap", "increment"] {
        let site = Site::new();
        let proxy = FaultProxy::start(site.slapd.port()).expect("proxy");
        let config = through_proxy(&site, &proxy, method);
        // The counter's modify reaches slapd, but its reply does not come back.
        proxy.set(Fault::StallAfter(before_write_and_add(method).0));
        let output = site.command("run", &config, &jane(), &[]);
        let message = output.error(1);
        assert!(message.contains("timeout (85)"), "{method}: {message}");
        assert!(
            message.contains("The counter may have moved"),
            "{method}: {message}"
        );
        assert!(
            site.slapd
                .entries_of_class("posixAccount")
                .expect("ldapsearch")
                .is_empty(),
            "{method}"
        );
        assert_eq!(
            site.slapd.counter().expect("counter"),
            COUNTER_START + 1,
            "{method}: the number is skipped"
        );

        proxy.set(Fault::Pass);
        let next = site.command("run", &config, &jane(), &[]).json();
        assert_eq!(
            values(&next, "uidNumber"),
            vec![(COUNTER_START + 2).to_string()],
            "{method}: no number twice"
        );
    }
}

#[test]
fn missing_class_and_counter_write_nothing() {
    let site = Site::new();
    let missing_class = site.config(&ALLOCATION.replace("\"posixAccount\"]", "\"posixAcount\"]"));
    let output = site.command("run", &missing_class, &jane(), &[]);
    assert!(
        output
            .error(1)
            .contains("object class `posixAcount` is not in the server schema"),
        "{output:?}"
    );
    assert_nothing_written(&site, "a missing object class");

    for method in ["compare-and-swap", "increment"] {
        let body = COUNTER_ONLY.replace("COUNTER", "cn=noSuchCounter,dc=example,dc=org");
        let config = site.config(&format!("allocation_method = \"{method}\"\n{body}"));
        let output = site.command("run", &config, &jane(), &[]);
        let message = output.error(1);
        assert!(message.contains("noSuchObject (32)"), "{method}: {message}");
        assert!(
            message.contains("Create the counter entry"),
            "{method}: {message}"
        );
        assert_nothing_written(&site, method);

        let working = site.config(&format!(
            "allocation_method = \"{method}\"\n{}",
            COUNTER_ONLY.replace("COUNTER", slapd_harness::COUNTER_DN)
        ));
        let outcome = site.command("run", &working, &jane(), &[]).json();
        assert_eq!(
            values(&outcome, "uidNumber"),
            vec![(COUNTER_START + 1).to_string()],
            "{method}"
        );
        site.slapd
            .modify(&format!(
                "dn: {}\nchangetype: delete\n\ndn: {}\nchangetype: modify\nreplace: uidNumber\nuidNumber: {COUNTER_START}\n",
                outcome["dn"].as_str().expect("dn"),
                slapd_harness::COUNTER_DN
            ))
            .expect("resetting the directory");
    }
}

#[test]
fn batch_reconnects_after_dropped_connection() {
    let site = Site::new();
    let proxy = FaultProxy::start(site.slapd.port()).expect("proxy");
    let config = site.config_with_connection(
        &format!(
            "url = \"{}\"\nuser = \"{ADMIN_DN}\"\npassword_env = \"TEST_LDAP_PASSWORD\"\nbase_dn = \"{BASE_DN}\"\n",
            proxy.url()
        ),
        PERSON,
    );
    let contexts: String = (0..3)
        .map(|index| {
            json!({"user": {"name": format!("user{index}")}, "user_options": {"PersonDN": format!("/SN=s/CN=user{index}")}})
                .to_string()
                + "\n"
        })
        .collect();
    // The first context takes bind, root DSE, subschema, uniqueness search, add and
    // read-back; then the connection breaks under the second context's first search.
    proxy.set(Fault::DropAfter(6));
    let output = run_binary(
        &[
            "batch",
            "--config",
            config.to_str().expect("path"),
            "--contexts",
            "-",
            "--concurrency",
            "1",
        ],
        &contexts,
        site.slapd.directory(),
    );
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(
        output.stdout.matches("\"created\"").count(),
        3,
        "{}",
        output.stdout
    );
    assert_eq!(
        site.slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .len(),
        3
    );
}
