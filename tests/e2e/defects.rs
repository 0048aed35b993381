//! One test for each defect of ldap-hooks 0.1.2 that applies outside JupyterHub.

use crate::support::{ALLOCATION, PERSON, POSIX, Site, values};
use serde_json::json;
use slapd_harness::{BASE_DN, COUNTER_START};
use std::time::{Duration, Instant};

#[test]
fn wildcard_value_matches_no_other_entry() {
    let site = Site::new();
    let config = site.config(POSIX);
    let alice = site
        .run(&config, "alice", "PersonDN", "/SN=A/CN=alice")
        .json();

    for (user, submitted) in [("mallory", "/SN=M/CN=*"), ("mallet", "/SN=M/CN=al*")] {
        let outcome = site.run(&config, user, "PersonDN", submitted).json();
        assert_eq!(
            outcome["status"], "created",
            "{submitted} must not find alice: {outcome}"
        );
        assert_ne!(outcome["dn"], alice["dn"]);
        assert_eq!(
            outcome["spawner_updates"],
            json!({"environment": {"NB_USER": user}})
        );
    }
    let star = site
        .slapd
        .search(BASE_DN, "sub", "(cn=\\2a)", &["cn"])
        .expect("ldapsearch");
    assert_eq!(
        star.len(),
        1,
        "an entry named * exists exactly once: {star:#?}"
    );
}

#[test]
fn filter_and_dn_specials_are_escaped() {
    let site = Site::new();
    let config = site.config(PERSON);

    for (submitted, cn) in [
        ("/SN=x/CN=a(b)c", "a(b)c"),
        ("/SN=x/CN=name=value", "name=value"),
        ("/SN=x/CN=Doe, Jane", "Doe, Jane"),
        ("/SN=x/CN=back\\\\slash", "back\\slash"),
        ("/SN=x/CN=a\\+b", "a+b"),
        ("/SN=x/CN=#1;<two>\"", "#1;<two>\""),
    ] {
        let created = site.run(&config, "user", "PersonDN", submitted).json();
        assert_eq!(created["status"], "created", "{submitted}");
        assert_eq!(values(&created, "cn"), vec![cn], "{submitted}");
        let found = site.run(&config, "user", "PersonDN", submitted).json();
        assert_eq!(found["status"], "found", "{submitted} is found again");
        assert_eq!(found["dn"], created["dn"], "{submitted}");
    }
    let people = site.slapd.entries_of_class("person").expect("ldapsearch");
    assert_eq!(people.len(), 6, "{people:#?}");
}

#[test]
fn meaningful_characters_are_kept() {
    let site = Site::new();
    let config = site.config(PERSON);
    let alice = site
        .run(&config, "alice", "PersonDN", "/SN=x/CN=alice")
        .json();

    let dotted = site
        .run(&config, "alice2", "PersonDN", "/SN=x/CN=alice.")
        .json();
    assert_eq!(dotted["status"], "created", "alice. is not alice");
    assert_ne!(dotted["dn"], alice["dn"]);
    assert_eq!(values(&dotted, "cn"), vec!["alice."]);

    let starred = site.run(&config, "al", "PersonDN", "/SN=x/CN=al*").json();
    assert_eq!(values(&starred, "cn"), vec!["al*"]);
}

#[test]
fn schema_check_matches_whole_names() {
    let site = Site::new();
    for classes in [
        "[\"OrgPerson\"]",
        "[\"Person\", \"RFC2256\"]",
        "[\"inetOrg\"]",
    ] {
        let config = site.config(&format!(
            "submit_spawner_attribute = \"user_options\"\nsubmit_spawner_attribute_keys = [\"PersonDN\"]\n\
             replace_object_with = {{ \"/\" = \"+\" }}\nobject_classes = {classes}\n"
        ));
        let output = site.run(&config, "alice", "PersonDN", "/SN=x/CN=alice");
        let message = output.error(1);
        assert!(
            message.contains("is not in the server schema"),
            "{classes}: {message}"
        );
    }
    assert!(
        site.slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .is_empty()
    );
}

#[test]
fn attribute_names_ignore_case() {
    let site = Site::new();
    let config = site.config(POSIX);
    site.run(&config, "alice", "PersonDN", "/SN=A/cn=alice")
        .json();

    // unique_object_attributes lists CN and the name spells it cn. The filter must
    // still contain the value, so bob's run must not find alice.
    let bob = site.run(&config, "bob", "PersonDN", "/sn=B/cn=bob").json();
    assert_eq!(bob["status"], "created");
    assert_eq!(values(&bob, "uid"), vec!["bob"]);
    assert_eq!(
        site.slapd
            .entries_of_class("posixAccount")
            .expect("ldapsearch")
            .len(),
        2
    );
}

#[test]
fn read_back_uses_the_new_dn() {
    // With object_attributes that every entry shares, 0.1.2 found several entries
    // when reading the new one back and failed for the second user.
    let site = Site::new();
    let config = site.config(&format!(
        "{PERSON}object_attributes = {{ description = \"shared\" }}\n"
    ));
    site.run(&config, "alice", "PersonDN", "/SN=a/CN=alice")
        .json();
    let bob = site.run(&config, "bob", "PersonDN", "/SN=b/CN=bob").json();
    assert_eq!(bob["status"], "created");
    assert_eq!(values(&bob, "cn"), vec!["bob"]);
}

#[test]
fn failed_attempts_use_no_number() {
    let site = Site::new();
    let config = site.config(ALLOCATION);
    for (submitted, expected) in [
        ("/C=DK", "requires the attribute"),
        ("/C=DK/CN=x/nosuchattribute=1", "not in the server schema"),
        (
            "/C=DK/CN=x/telephoneNumber=1",
            "not allowed by the object classes",
        ),
        ("/C=Denmark/CN=x", "rejects the DN"),
        ("/C=DK/CN=x/cn=twice", "more than once"),
        ("=x", "no attribute name"),
    ] {
        let output = site.run(&config, "eve", "CERT", submitted);
        let message = output.error(1);
        assert!(message.contains(expected), "{submitted}: {message}");
        assert_eq!(
            site.slapd.counter().expect("counter"),
            COUNTER_START,
            "{submitted} used a number"
        );
    }
}

#[test]
fn placeholder_without_value_is_an_error() {
    let site = Site::new();
    let config = site.config(&format!(
        "{PERSON}dynamic_attributes = {{ uid = \"SPAWNER_ATTRIBUTE\" }}\n\
         object_attributes = {{ description = \"/home/{{uid}}\" }}\n"
    ));
    let output = site.run(&config, "alice", "PersonDN", "/SN=a/CN=alice");
    let message = output.error(1);
    assert!(message.contains("{uid}"), "{message}");
    assert!(
        message.contains("spawner has no attribute `uid`"),
        "{message}"
    );
    assert!(
        site.slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .is_empty()
    );

    let undefined = site.config(&format!(
        "{PERSON}object_attributes = {{ description = \"/home/{{uid}}\" }}\n"
    ));
    let output = site.run(&undefined, "alice", "PersonDN", "/SN=a/CN=alice");
    assert!(
        output.error(2).contains("add 'uid' to dynamic_attributes"),
        "{output:?}"
    );
}

#[test]
fn stalled_server_times_out() {
    let site = Site::new();
    let connection = format!(
        "url = \"{}\"\nuser = \"cn=admin,{BASE_DN}\"\npassword_env = \"TEST_LDAP_PASSWORD\"\nbase_dn = \"{BASE_DN}\"\n\
         connect_timeout = 1.0\noperation_timeout = 1.0\n",
        site.slapd.url()
    );
    let config = site.config_with_connection(&connection, PERSON);
    site.slapd.pause().expect("SIGSTOP");
    let started = Instant::now();
    let output = site.run(&config, "alice", "PersonDN", "/SN=a/CN=alice");
    let elapsed = started.elapsed();
    site.slapd.resume().expect("SIGCONT");

    let message = output.error(1);
    assert!(message.contains("no answer within 1.0 s"), "{message}");
    assert!(
        elapsed < Duration::from_secs(20),
        "the run took {elapsed:?}"
    );
    assert!(
        site.slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .is_empty()
    );
}

#[test]
fn run_uses_one_connection_and_writes_no_file() {
    let site = Site::new();
    let config = site.config(ALLOCATION);
    let before = site.slapd.connections();
    let folder = site.slapd.directory().join("site");
    let files_before = std::fs::read_dir(&folder).expect("folder").count();

    let output = site.run(&config, "jane", "CERT", "/C=DK/CN=Jane");
    output.json();
    assert_eq!(
        site.slapd.connections() - before,
        1,
        "one connection for the whole run"
    );
    assert_eq!(
        std::fs::read_dir(&folder).expect("folder").count(),
        files_before,
        "no file was written"
    );
}

#[test]
fn logs_never_show_the_password() {
    let site = Site::new();
    let config = site.config(ALLOCATION);
    let context = json!({"user": {"name": "jane"}, "user_options": {"CERT": "/C=DK/CN=Jane"}});
    let output = site.command("run", &config, &context, &["--log-level", "trace"]);
    output.json();
    assert!(
        output.stderr.contains("created the entry"),
        "trace logging is on: {}",
        output.stderr
    );
    assert!(
        !output.stderr.contains(slapd_harness::ADMIN_PASSWORD),
        "{}",
        output.stderr
    );

    let wrong = site.config_with_connection(
        &format!("url = \"{}\"\nuser = \"cn=admin,{BASE_DN}\"\npassword = \"wrong-secret-value\"\nbase_dn = \"{BASE_DN}\"\n", site.slapd.url()),
        PERSON,
    );
    let output = site.command("run", &wrong, &context, &["--log-level", "trace"]);
    let message = output.error(1);
    assert!(message.contains("invalidCredentials"), "{message}");
    assert!(
        !output.stderr.contains("wrong-secret-value"),
        "{}",
        output.stderr
    );
}
