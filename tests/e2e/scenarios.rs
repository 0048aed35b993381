//! The main configurations of ldap-hooks 0.1.2 sites, end to end.

use crate::support::{ALLOCATION, PERSON, POSIX, Site, rdn_values, values};
use serde_json::json;
use slapd_harness::{BASE_DN, COUNTER_START};

#[test]
fn person_is_created_then_found() {
    let site = Site::new();
    let config = site.config(PERSON);
    let submitted = "/telephoneNumber=23012303403/SN=My Surname/CN=alice";

    let created = site.run(&config, "alice", "PersonDN", submitted).json();
    assert_eq!(created["status"], "created");
    assert_eq!(
        rdn_values(&created),
        vec!["cn=alice", "sn=my surname", "telephonenumber=23012303403"]
    );
    assert!(
        created["dn"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!(",{BASE_DN}"))
    );
    assert_eq!(values(&created, "cn"), vec!["alice"]);
    assert_eq!(values(&created, "sn"), vec!["My Surname"]);
    assert_eq!(values(&created, "telephoneNumber"), vec!["23012303403"]);

    let found = site.run(&config, "alice", "PersonDN", submitted).json();
    assert_eq!(found["status"], "found");
    assert_eq!(found["dn"], created["dn"]);

    let people = site.slapd.entries_of_class("person").expect("ldapsearch");
    assert_eq!(people.len(), 1, "one entry after two runs: {people:#?}");
    assert_eq!(people[0].values("sn"), vec!["My Surname"]);
}

#[test]
fn person_second_user_is_created() {
    let site = Site::new();
    let config = site.config(PERSON);

    let alice = site
        .run(&config, "alice", "PersonDN", "/SN=Smith/CN=alice")
        .json();
    let bob = site
        .run(&config, "bob", "PersonDN", "/SN=Jones/CN=bob")
        .json();
    assert_eq!(alice["status"], "created");
    assert_eq!(bob["status"], "created");
    assert_ne!(alice["dn"], bob["dn"]);

    let again = site
        .run(&config, "bob", "PersonDN", "/SN=Jones/CN=bob")
        .json();
    assert_eq!(again["status"], "found");
    assert_eq!(
        site.slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .len(),
        2
    );
}

#[test]
fn submitted_data_reaches_spawner_environment() {
    let site = Site::new();
    let config = site.config(&format!(
        "{PERSON}dynamic_attributes = {{ description = \"SPAWNER_SUBMIT_DATA\" }}\n\
         object_attributes = {{ description = \"{{description}}\" }}\n\
         set_spawner_attributes = {{ environment = {{ description = \"{{description}}\", static_description = \"Static description\" }} }}\n"
    ));
    let submitted = "/SN=Doe/CN=jane/description=Research engineer";

    let created = site.run(&config, "jane", "PersonDN", submitted).json();
    let expected = json!({"environment": {"description": "Research engineer", "static_description": "Static description"}});
    assert_eq!(created["spawner_updates"], expected);
    assert_eq!(values(&created, "description"), vec!["Research engineer"]);

    let found = site.run(&config, "jane", "PersonDN", submitted).json();
    assert_eq!(found["status"], "found");
    assert_eq!(found["spawner_updates"], expected);
}

#[test]
fn posix_account_takes_uid_from_user_name() {
    let site = Site::new();
    let config = site.config(POSIX);
    let submitted = "/SN=Lovelace/CN=Ada Lovelace";

    let created = site.run(&config, "ada", "PersonDN", submitted).json();
    assert_eq!(created["status"], "created");
    assert_eq!(values(&created, "uid"), vec!["ada"]);
    assert_eq!(values(&created, "homeDirectory"), vec!["/home/ada"]);
    assert_eq!(
        values(&created, "uidNumber"),
        vec!["1000"],
        "'1000 ' is stored as an integer"
    );
    assert_eq!(
        created["spawner_updates"],
        json!({"environment": {"NB_USER": "ada"}})
    );

    let found = site.run(&config, "ada", "PersonDN", submitted).json();
    assert_eq!(found["status"], "found");
    assert_eq!(found["dn"], created["dn"]);
    assert_eq!(
        found["spawner_updates"],
        json!({"environment": {"NB_USER": "ada"}})
    );

    let accounts = site
        .slapd
        .entries_of_class("posixAccount")
        .expect("ldapsearch");
    assert_eq!(accounts.len(), 1);
    let classes: Vec<String> = accounts[0]
        .values("objectClass")
        .iter()
        .map(|class| class.to_ascii_lowercase())
        .collect();
    assert!(
        classes.contains(&"inetorgperson".to_string()),
        "{classes:?}"
    );
    assert!(classes.contains(&"posixaccount".to_string()), "{classes:?}");
}

#[test]
fn allocation_gives_each_user_a_number() {
    let site = Site::new();
    let config = site.config(ALLOCATION);
    let jane = "/C=DK/O=Example/CN=Jane Doe/emailAddress=jane@example.org";
    let john = "/C=DK/O=Example/CN=John Roe/emailAddress=john@example.org";

    let first = site.run(&config, "jane", "CERT", jane).json();
    let second = site.run(&config, "john", "CERT", john).json();
    let first_number = values(&first, "uidNumber");
    let second_number = values(&second, "uidNumber");
    assert_eq!(first_number, vec![(COUNTER_START + 1).to_string()]);
    assert_eq!(second_number, vec![(COUNTER_START + 2).to_string()]);
    assert_eq!(
        first["spawner_updates"],
        json!({"environment": {"NB_USER": "jane", "NB_UID": (COUNTER_START + 1).to_string()}})
    );
    assert_eq!(
        first["allocations"][0]["value"],
        (COUNTER_START + 1).to_string()
    );
    // The schema's first name of emailAddress is email.
    assert_eq!(values(&first, "email"), vec!["jane@example.org"]);

    let again = site.run(&config, "jane", "CERT", jane).json();
    assert_eq!(again["status"], "found");
    assert_eq!(values(&again, "uidNumber"), first_number);
    assert_eq!(again["allocations"], json!([]));
    assert_eq!(site.slapd.counter().expect("counter"), COUNTER_START + 2);
}

#[test]
fn allocation_failure_uses_no_number() {
    let site = Site::new();
    let config = site.config(ALLOCATION);

    // Rejected before anything is written: an empty value in the submitted name, and
    // a value that the server's DN syntax check rejects (c takes a two-letter code).
    let invalid = site.run(&config, "eve", "CERT", "/C=DK/CN=");
    assert!(invalid.error(1).contains("empty value"), "{invalid:?}");
    let country = site.run(&config, "eve", "CERT", "/C=Denmark/CN=Eve");
    assert!(country.error(1).contains("rejects the DN"), "{country:?}");
    assert_eq!(site.slapd.counter().expect("counter"), COUNTER_START);

    // Rejected by the server at the add, after the allocation: homeDirectory takes
    // ASCII only, and the user name is not. The counter must move back.
    let rejected = site.run(&config, "jöhn", "CERT", "/C=DK/CN=John");
    let message = rejected.error(1);
    assert!(message.contains("invalidAttributeSyntax"), "{message}");
    assert!(
        message.contains("uidNumber 2001 was returned to cn=uidNext"),
        "{message}"
    );
    assert_eq!(site.slapd.counter().expect("counter"), COUNTER_START);
    assert!(
        site.slapd
            .entries_of_class("posixAccount")
            .expect("ldapsearch")
            .is_empty()
    );

    let next = site.run(&config, "eve", "CERT", "/C=DK/CN=Eve").json();
    assert_eq!(
        values(&next, "uidNumber"),
        vec![(COUNTER_START + 1).to_string()]
    );
}

#[test]
fn allocation_from_racing_runs_is_unique() {
    let site = Site::new();
    let config = site.config(ALLOCATION);
    let runs = 8;

    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..runs)
            .map(|index| {
                let (site, config) = (&site, &config);
                scope.spawn(move || {
                    site.run(
                        config,
                        &format!("user{index}"),
                        "CERT",
                        &format!("/C=DK/CN=User {index}"),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("thread"))
            .collect()
    });

    let mut numbers: Vec<u32> = outcomes
        .iter()
        .map(|output| {
            values(&output.json(), "uidNumber")[0]
                .parse()
                .expect("a number")
        })
        .collect();
    numbers.sort_unstable();
    let expected: Vec<u32> = (1..=runs).map(|offset| COUNTER_START + offset).collect();
    assert_eq!(
        numbers, expected,
        "every run got its own number and none was skipped"
    );
    assert_eq!(site.slapd.counter().expect("counter"), COUNTER_START + runs);
}
