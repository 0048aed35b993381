//! TLS: ldaps:// and StartTLS with a CA file, the failures of a wrong CA and a wrong
//! host name, the named option that turns checks off, and the warning for a password
//! sent in the clear.

use crate::support::{PERSON, Site};
use serde_json::json;
use slapd_harness::{ADMIN_DN, BASE_DN, Slapd};
use std::path::{Path, PathBuf};

fn tls_site() -> Site {
    Site::with_slapd(Slapd::start_with_tls().expect("starting slapd with TLS"))
}

fn connection(url: &str, extra: &str) -> String {
    format!(
        "url = \"{url}\"\nuser = \"{ADMIN_DN}\"\npassword_env = \"TEST_LDAP_PASSWORD\"\nbase_dn = \"{BASE_DN}\"\n\
         connect_timeout = 5.0\n{extra}"
    )
}

fn ca_line(path: &Path) -> String {
    format!("tls_ca_file = \"{}\"\n", path.display())
}

fn alice() -> serde_json::Value {
    json!({"user": {"name": "alice"}, "user_options": {"PersonDN": "/SN=a/CN=alice"}})
}

fn files(site: &Site) -> (PathBuf, PathBuf) {
    let tls = site.slapd.tls().expect("TLS files");
    (tls.ca_file.clone(), tls.other_ca_file.clone())
}

#[test]
fn ldaps_with_ca_file_works() {
    let site = tls_site();
    let (ca, _) = files(&site);
    let ldaps = site.slapd.ldaps_url().expect("ldaps URL");
    let config = site.config_with_connection(&connection(&ldaps, &ca_line(&ca)), PERSON);
    let output = site.command("run", &config, &alice(), &[]);
    assert_eq!(output.json()["status"], "created");
    assert!(!output.stderr.contains("without TLS"), "{}", output.stderr);
}

#[test]
fn start_tls_with_ca_file_works() {
    let site = tls_site();
    let (ca, _) = files(&site);
    let config = site.config_with_connection(
        &connection(
            &site.slapd.url(),
            &format!("{}start_tls = true\n", ca_line(&ca)),
        ),
        PERSON,
    );
    let output = site.command("run", &config, &alice(), &[]);
    assert_eq!(output.json()["status"], "created");
    assert!(!output.stderr.contains("without TLS"), "{}", output.stderr);
}

#[test]
fn wrong_ca_fails_clearly() {
    let site = tls_site();
    let (_, other) = files(&site);
    let ldaps = site.slapd.ldaps_url().expect("ldaps URL");
    for extra in [
        ca_line(&other),
        format!("{}start_tls = true\n", ca_line(&other)),
    ] {
        let url = if extra.contains("start_tls") {
            site.slapd.url()
        } else {
            ldaps.clone()
        };
        let config = site.config_with_connection(&connection(&url, &extra), PERSON);
        let output = site.command("run", &config, &alice(), &[]);
        let message = output.error(1);
        assert!(message.contains("connectError (91)"), "{message}");
        assert!(message.to_lowercase().contains("certificate"), "{message}");
        assert!(message.contains("UnknownIssuer"), "{message}");
    }
    assert!(
        site.slapd
            .entries_of_class("person")
            .expect("ldapsearch")
            .is_empty()
    );
}

#[test]
fn wrong_host_name_fails_clearly() {
    let site = tls_site();
    let (ca, _) = files(&site);
    // The certificate names only the address 127.0.0.1, not the name localhost.
    let ldaps = site
        .slapd
        .ldaps_url()
        .expect("ldaps URL")
        .replace("127.0.0.1", "localhost");
    let config = site.config_with_connection(&connection(&ldaps, &ca_line(&ca)), PERSON);
    let output = site.command("run", &config, &alice(), &[]);
    let message = output.error(1);
    assert!(
        message.contains("certificate not valid for name \"localhost\""),
        "{message}"
    );
}

#[test]
fn insecure_option_is_named_and_warns() {
    let site = tls_site();
    let (_, other) = files(&site);
    let ldaps = site.slapd.ldaps_url().expect("ldaps URL");
    let config = site.config_with_connection(
        &connection(
            &ldaps,
            &format!("{}tls_insecure_skip_verify = true\n", ca_line(&other)),
        ),
        PERSON,
    );
    let output = site.command("run", &config, &alice(), &[]);
    assert_eq!(output.json()["status"], "created");
    assert!(
        output.stderr.contains("tls_insecure_skip_verify is set"),
        "{}",
        output.stderr
    );
}

#[test]
fn password_without_tls_warns() {
    let site = Site::new();
    let config = site.config(PERSON);
    let output = site.command("run", &config, &alice(), &[]);
    output.json();
    assert!(
        output.stderr.contains("the bind password goes to"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("without TLS"), "{}", output.stderr);
}
