//! Secrets never reach a log line or an error message, at any log level: the bind
//! password, tokens in the context, and the spawner's state.

use crate::support::{ALLOCATION, Site};
use serde_json::json;
use slapd_harness::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN};

const TOKEN: &str = "hub-api-token-4f1b";
const COOKIE: &str = "hub-cookie-secret-9c2e";
const STATE: &str = "spawner-state-secret-77aa";

fn context(submitted: &str) -> serde_json::Value {
    json!({
        "user": {"name": "jane", "cookie_secret": COOKIE, "auth_state": {"access_token": TOKEN}},
        "user_options": {"CERT": submitted},
        "api_token": TOKEN,
        "state": {"secret": STATE},
    })
}

fn assert_clean(stdout: &str, stderr: &str, case: &str) {
    for secret in [ADMIN_PASSWORD, "wrong-password-5d1f", TOKEN, COOKIE, STATE] {
        assert!(!stdout.contains(secret), "{case}: stdout shows {secret}");
        assert!(!stderr.contains(secret), "{case}: stderr shows {secret}");
    }
}

#[test]
fn secrets_stay_out_of_logs_and_errors() {
    let site = Site::new();
    let good = site.config(ALLOCATION);
    let wrong_password = site.config_with_connection(
        &format!("url = \"{}\"\nuser = \"{ADMIN_DN}\"\npassword = \"wrong-password-5d1f\"\nbase_dn = \"{BASE_DN}\"\n", site.slapd.url()),
        ALLOCATION,
    );

    for level in ["trace", "debug", "info", "warn", "error"] {
        for (case, config, submitted) in [
            ("success", &good, "/C=DK/CN=Jane Doe"),
            ("found", &good, "/C=DK/CN=Jane Doe"),
            ("invalid input", &good, "/C=DK/CN="),
            ("server rejection", &good, "/C=Denmark/CN=Jane"),
            ("wrong password", &wrong_password, "/C=DK/CN=Jane Doe"),
        ] {
            for command in ["run", "plan"] {
                let output = site.command(
                    command,
                    config,
                    &context(submitted),
                    &["--log-level", level],
                );
                assert_clean(
                    &output.stdout,
                    &output.stderr,
                    &format!("{command} {case} at {level}"),
                );
            }
        }
    }

    // A filter of LDAP_HOOKS_LOG that turns on every library's log too.
    let output = site.command_with_env(
        "run",
        &good,
        &context("/C=DK/CN=John"),
        &[("LDAP_HOOKS_LOG", "trace")],
    );
    assert_clean(
        &output.stdout,
        &output.stderr,
        "run with every library at trace",
    );
    assert!(
        output.stderr.contains("TRACE") || output.stderr.contains("DEBUG"),
        "libraries logged"
    );
}
