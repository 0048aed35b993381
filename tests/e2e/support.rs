//! A test site: a throwaway slapd, a folder for configuration files, and a way to run
//! the binary against them.

use serde_json::Value;
use slapd_harness::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN, Slapd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_ldap-hooks");

/// The person configuration of ldap-hooks 0.1.2 sites.
pub const PERSON: &str = r#"
submit_spawner_attribute = "user_options"
submit_spawner_attribute_keys = ["PersonDN"]
replace_object_with = { "/" = "+" }
object_classes = ["Person"]
"#;

/// `inetOrgPerson` + `posixAccount` with the uid from the user name, unique on CN.
pub const POSIX: &str = r#"
submit_spawner_attribute = "user_options"
submit_spawner_attribute_keys = ["PersonDN"]
replace_object_with = { "/" = "+" }
unique_object_attributes = ["CN"]
object_classes = ["InetOrgPerson", "PosixAccount"]
object_attributes = { uid = "{name}", uidNumber = "1000 ", gidNumber = "100", homeDirectory = "/home/{name}" }
dynamic_attributes = { name = "4", uid = "5" }
set_spawner_attributes = { environment = { NB_USER = "{uid}" } }
"#;

/// X.509 subjects with a `uidNumber` allocated from the counter entry.
pub const ALLOCATION: &str = r#"
submit_spawner_attribute = "user_options"
submit_spawner_attribute_keys = ["CERT"]
replace_object_with = { "/" = "+" }
object_classes = ["X-certsDistinguishedName", "posixAccount"]
object_attributes = { uid = "{name}", uidNumber = "{uidNumber}", gidNumber = "100", homeDirectory = "/home/{name}" }
dynamic_attributes = { name = "SPAWNER_USER_ATTRIBUTE", uidNumber = "LDAP_SEARCH_ATTRIBUTE_QUERY" }
search_attribute_queries = [
    { search_base = "dc=example,dc=org", search_filter = "(objectclass=x-nextUserIdentifier)", attributes = ["uidNumber"] },
]
search_result_operations = { uidNumber = { action = "1", modify_dn = "cn=uidNext,dc=example,dc=org" } }
set_spawner_attributes = { environment = { NB_USER = "{name}", NB_UID = "{uidNumber}" } }
"#;

/// What a run of the binary printed.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Parses the JSON on standard output, or fails the test with the whole output.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, 0, "ldap-hooks failed:\n{self:#?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}):\n{self:#?}"))
    }

    /// Returns the error message, from `ldap-hooks:` to the end of standard error and
    /// without the log lines before it, or fails the test when the run succeeded.
    pub fn error(&self, expected_code: i32) -> &str {
        assert_eq!(self.code, expected_code, "unexpected exit code:\n{self:#?}");
        assert!(
            self.stdout.trim().is_empty(),
            "a failed run printed an outcome:\n{self:#?}"
        );
        let start = self.stderr.rfind("ldap-hooks: ").unwrap_or(0);
        self.stderr[start..].trim()
    }
}

/// A throwaway slapd with a folder for configuration and context files.
pub struct Site {
    pub slapd: Slapd,
    folder: PathBuf,
}

impl Site {
    pub fn new() -> Site {
        Site::with_slapd(Slapd::start().expect("starting slapd"))
    }

    /// Wraps an already started slapd.
    pub fn with_slapd(slapd: Slapd) -> Site {
        let folder = slapd.directory().join("site");
        std::fs::create_dir_all(&folder).expect("creating the site folder");
        Site { slapd, folder }
    }

    /// Writes a configuration for this server: the connection settings followed by `body`.
    pub fn config(&self, body: &str) -> PathBuf {
        self.config_with_connection(&format!(
            "url = \"{}\"\nuser = \"{ADMIN_DN}\"\npassword_env = \"TEST_LDAP_PASSWORD\"\nbase_dn = \"{BASE_DN}\"\n",
            self.slapd.url()
        ), body)
    }

    /// Writes a configuration with the given connection settings.
    pub fn config_with_connection(&self, connection: &str, body: &str) -> PathBuf {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let number = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = self.folder.join(format!("config-{number}.toml"));
        std::fs::write(&path, format!("{connection}{body}")).expect("writing the configuration");
        path
    }

    /// Runs `ldap-hooks COMMAND --config CONFIG` with the context given as JSON on
    /// standard input.
    pub fn command(&self, command: &str, config: &Path, context: &Value, extra: &[&str]) -> Output {
        let path = config.to_str().expect("UTF-8 path");
        let arguments = [&[command, "--config", path, "--context", "-"], extra].concat();
        run_binary_with_env(&arguments, &context.to_string(), &self.folder, &[])
    }

    /// Runs a command like [`Site::command`] with extra environment variables.
    pub fn command_with_env(
        &self,
        command: &str,
        config: &Path,
        context: &Value,
        environment: &[(&str, &str)],
    ) -> Output {
        let path = config.to_str().expect("UTF-8 path");
        let arguments = [command, "--config", path, "--context", "-"];
        run_binary_with_env(&arguments, &context.to_string(), &self.folder, environment)
    }

    /// Runs the hook for a user who submitted `submitted` under `key` in `user_options`.
    pub fn run(&self, config: &Path, user: &str, key: &str, submitted: &str) -> Output {
        let context = serde_json::json!({"user": {"name": user}, "user_options": {key: submitted}});
        self.command("run", config, &context, &[])
    }
}

/// Runs the binary with the test password in its environment and the compile cache
/// shared by all tests.
pub fn run_binary(arguments: &[&str], stdin: &str, folder: &Path) -> Output {
    run_binary_with_env(arguments, stdin, folder, &[])
}

/// Runs the binary like [`run_binary`] with extra environment variables.
pub fn run_binary_with_env(
    arguments: &[&str],
    stdin: &str,
    folder: &Path,
    environment: &[(&str, &str)],
) -> Output {
    use std::io::Write;
    let mut child = Command::new(BINARY)
        .args(arguments)
        .current_dir(folder)
        .env("TEST_LDAP_PASSWORD", ADMIN_PASSWORD)
        .env("LDAP_HOOKS_CACHE_DIR", cache_folder())
        .env_remove("LDAP_HOOKS_LOG")
        .env_remove("LDAP_HOOKS_PASSWORD")
        .envs(environment.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting ldap-hooks");
    // The binary may exit before reading its input, for example on a usage error.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let output = child.wait_with_output().expect("waiting for ldap-hooks");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn cache_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// Returns the values of an attribute in an outcome's `attributes`, matching the
/// name case-insensitively.
pub fn values(outcome: &Value, name: &str) -> Vec<String> {
    outcome["attributes"]
        .as_object()
        .expect("attributes")
        .iter()
        .filter(|(known, _)| known.eq_ignore_ascii_case(name))
        .flat_map(|(_, values)| values.as_array().cloned().unwrap_or_default())
        .map(|value| value.as_str().unwrap_or_default().to_string())
        .collect()
}

/// Returns the attribute values of an outcome's RDN, lower-cased and sorted, because
/// the server may reorder them.
pub fn rdn_values(outcome: &Value) -> Vec<String> {
    let dn = outcome["dn"].as_str().expect("a DN");
    let rdn = dn.split(',').next().unwrap_or_default();
    let mut values: Vec<String> = rdn.split('+').map(str::to_ascii_lowercase).collect();
    values.sort();
    values
}
