//! The TOML configuration of the standalone host.
//!
//! The hook's options keep the names of the Python `LDAP` class (`base_dn`,
//! `object_attributes`, ...), so a configuration reads the same in both hosts. The
//! host adds what a command-line program needs: where the password comes from, TLS,
//! timeouts, and other component files.

use crate::bindings::exports::ldap_hooks::hook::hook as wit;
use crate::bindings::ldap_hooks::hook::directory::Attribute;
use crate::bindings::ldap_hooks::hook::dn_rules::RuleOptions;
use crate::sandbox::{DEFAULT_FUEL, DEFAULT_MEMORY_MB, Limits};
use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Seconds to wait for the TCP connection, TLS and the bind, unless configured.
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 5.0;
/// Seconds to wait for each LDAP operation, unless configured.
pub const DEFAULT_OPERATION_TIMEOUT: f64 = 10.0;
/// The environment variable read for the password when the file names none.
pub const PASSWORD_VARIABLE: &str = "LDAP_HOOKS_PASSWORD";

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    url: String,
    #[serde(default)]
    user: String,
    password: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    base_dn: String,
    ssl_cert_path: Option<String>,
    tls_ca_file: Option<PathBuf>,
    #[serde(default)]
    start_tls: bool,
    #[serde(default)]
    tls_insecure_skip_verify: bool,
    connect_timeout: Option<f64>,
    operation_timeout: Option<f64>,
    #[serde(default)]
    submit_spawner_attribute: String,
    #[serde(default)]
    submit_spawner_attribute_keys: Vec<String>,
    #[serde(default)]
    replace_object_with: toml::Table,
    name_strip_chars: Option<Vec<String>>,
    #[serde(default)]
    object_classes: Vec<String>,
    #[serde(default)]
    object_attributes: toml::Table,
    #[serde(default)]
    unique_object_attributes: Vec<String>,
    #[serde(default)]
    dynamic_attributes: toml::Table,
    #[serde(default)]
    search_attribute_queries: Vec<QueryConfig>,
    #[serde(default)]
    search_result_operations: toml::Table,
    #[serde(default)]
    set_spawner_attributes: toml::Table,
    rules_component: Option<PathBuf>,
    hook_component: Option<PathBuf>,
    component_fuel: Option<u64>,
    component_memory_mb: Option<u64>,
    #[serde(default)]
    component_stderr_to_log: bool,
    #[serde(default)]
    allocation_method: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryConfig {
    search_base: String,
    search_filter: String,
    #[serde(default)]
    attributes: Vec<String>,
}

/// A password that never appears in `Debug` output or messages.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How to reach and bind to the server.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The URL with scheme and port, for example `ldap://127.0.0.1:389`.
    pub url: String,
    /// The bind DN; empty for an anonymous bind.
    pub user: String,
    pub password: Option<Secret>,
    pub start_tls: bool,
    pub ca_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
    pub connect_timeout: Duration,
    pub operation_timeout: Duration,
}

/// A loaded configuration.
#[derive(Debug)]
pub struct Settings {
    pub connection: Connection,
    pub hook: wit::Config,
    /// Dotted path to the submitted value in the context JSON.
    pub submit_path: String,
    pub rules_component: Option<PathBuf>,
    pub hook_component: Option<PathBuf>,
    pub limits: Limits,
}

/// Reads the configuration file. Relative component paths are taken from the file's
/// folder.
pub fn load(path: &Path) -> Result<Settings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let file: FileConfig = toml::from_str(&text).map_err(|error| {
        let line = error
            .span()
            .map(|span| format!(" at line {}", text[..span.start].matches('\n').count() + 1))
            .unwrap_or_default();
        anyhow!(
            "{} is not a valid configuration{line}: {}",
            path.display(),
            error.message()
        )
    })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    from_file(file, folder, &|name| std::env::var(name).ok())
}

fn from_file(
    file: FileConfig,
    folder: &Path,
    environment: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings> {
    let url = normalise_url(&file.url)?;
    if file.ssl_cert_path.is_some() {
        tracing::warn!(
            "ssl_cert_path is accepted for compatibility and not used; set tls_ca_file to the CA \
             certificate that signed the server's certificate"
        );
    }
    if file.start_tls && url.starts_with("ldaps://") {
        bail!("start_tls is set for the ldaps:// URL {url}; use one of them, not both");
    }

    let password = read_password(&file, folder, environment)?;
    if !file.user.is_empty() && password.is_none() {
        bail!(
            "user is set to {} but no password was found; set password_file, password_env or \
             the {PASSWORD_VARIABLE} environment variable",
            file.user
        );
    }

    let connection = Connection {
        url: url.clone(),
        user: file.user.clone(),
        password,
        start_tls: file.start_tls,
        ca_file: file.tls_ca_file.as_ref().map(|ca| folder.join(ca)),
        insecure_skip_verify: file.tls_insecure_skip_verify,
        connect_timeout: timeout(
            "connect_timeout",
            file.connect_timeout,
            DEFAULT_CONNECT_TIMEOUT,
        )?,
        operation_timeout: timeout(
            "operation_timeout",
            file.operation_timeout,
            DEFAULT_OPERATION_TIMEOUT,
        )?,
    };

    let limits = component_limits(
        file.component_fuel,
        file.component_memory_mb,
        file.component_stderr_to_log,
    )?;

    let hook = wit::Config {
        server: url,
        base_dn: file.base_dn,
        submit_keys: file.submit_spawner_attribute_keys,
        rules: RuleOptions {
            replacements: string_pairs(file.replace_object_with, "replace_object_with")?,
            strip_chars: file.name_strip_chars.unwrap_or_else(default_strip_chars),
        },
        object_classes: file.object_classes,
        object_attributes: object_attributes(file.object_attributes)?,
        unique_object_attributes: file.unique_object_attributes,
        dynamic_attributes: string_pairs(file.dynamic_attributes, "dynamic_attributes")?,
        search_attribute_queries: file
            .search_attribute_queries
            .into_iter()
            .map(|query| wit::SearchQuery {
                search_base: query.search_base,
                search_filter: query.search_filter,
                attributes: query.attributes,
            })
            .collect(),
        search_result_operations: operations(file.search_result_operations)?,
        set_spawner_attributes: serde_json::to_string(&file.set_spawner_attributes)
            .context("set_spawner_attributes cannot be written as JSON")?,
        allocation_method: file.allocation_method,
    };

    Ok(Settings {
        connection,
        hook,
        submit_path: file.submit_spawner_attribute,
        rules_component: file.rules_component.map(|path| folder.join(path)),
        hook_component: file.hook_component.map(|path| folder.join(path)),
        limits,
    })
}

/// Accepts the URL forms of ldap-hooks 0.1.2: `host`, `host:port`, `ldap://host:port`
/// and `ldaps://host:port`, and returns a URL with scheme and port.
pub fn normalise_url(url: &str) -> Result<String> {
    let url = url.trim();
    if url.is_empty() {
        bail!("url is empty; set it to the LDAP server, for example ldap://ldap.example.org:389");
    }
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("ldap".to_string(), url),
    };
    let default_port = match scheme.as_str() {
        "ldap" => 389,
        "ldaps" => 636,
        other => bail!("url {url} has the scheme {other}://; use ldap:// or ldaps://"),
    };
    let host_port = rest.trim_end_matches('/');
    if host_port.is_empty() || host_port.contains('/') || host_port.contains('?') {
        bail!("url {url} must name only a server and port, such as ldap://ldap.example.org:389");
    }
    // An IPv6 address keeps its brackets: [::1]:389.
    let has_port = match host_port.rfind(']') {
        Some(bracket) => host_port[bracket..].contains(':'),
        None => host_port.contains(':'),
    };
    if has_port {
        let port = host_port.rsplit(':').next().unwrap_or_default();
        if port.parse::<u16>().map_or(true, |port| port == 0) {
            bail!("url {url} has the invalid port {port:?}");
        }
        Ok(format!("{scheme}://{host_port}"))
    } else {
        Ok(format!("{scheme}://{host_port}:{default_port}"))
    }
}

fn read_password(
    file: &FileConfig,
    folder: &Path,
    environment: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>> {
    let sources = [
        file.password.is_some(),
        file.password_file.is_some(),
        file.password_env.is_some(),
    ];
    if sources.iter().filter(|set| **set).count() > 1 {
        bail!("set only one of password, password_file and password_env");
    }

    if let Some(path) = &file.password_file {
        let path = folder.join(path);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read password_file {}", path.display()))?;
        let password = text.trim_end_matches(['\n', '\r']).to_string();
        if password.is_empty() {
            bail!("password_file {} is empty", path.display());
        }
        return Ok(Some(Secret(password)));
    }
    if let Some(variable) = &file.password_env {
        let password = environment(variable)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| anyhow!("password_env names {variable}, which is not set or empty"))?;
        return Ok(Some(Secret(password)));
    }
    if let Some(password) = &file.password {
        return Ok(Some(Secret(password.clone())));
    }
    Ok(environment(PASSWORD_VARIABLE)
        .filter(|value| !value.is_empty())
        .map(Secret))
}

fn timeout(option: &str, seconds: Option<f64>, default: f64) -> Result<Duration> {
    let seconds = seconds.unwrap_or(default);
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        bail!("{option} is {seconds}; give a number of seconds above 0 and at most 3600");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Checks the sandbox options; both must be finite and above zero.
fn component_limits(fuel: Option<u64>, memory_mb: Option<u64>, log_stderr: bool) -> Result<Limits> {
    let fuel = fuel.unwrap_or(DEFAULT_FUEL);
    if fuel == 0 {
        bail!("component_fuel is 0; give the fuel per component call, for example {DEFAULT_FUEL}");
    }
    let memory_mb = memory_mb.unwrap_or(DEFAULT_MEMORY_MB);
    if !(1..=4096).contains(&memory_mb) {
        bail!(
            "component_memory_mb is {memory_mb}; give the memory per component in MiB, from 1 to 4096"
        );
    }
    Ok(Limits {
        fuel,
        memory_bytes: (memory_mb * 1024 * 1024) as usize,
        log_stderr,
    })
}

fn default_strip_chars() -> Vec<String> {
    ["/", "+", "*", ",", ".", "!", " "]
        .iter()
        .map(|c| c.to_string())
        .collect()
}

fn string_pairs(table: toml::Table, option: &str) -> Result<Vec<(String, String)>> {
    table
        .into_iter()
        .map(|(key, value)| match value {
            toml::Value::String(text) => Ok((key, text)),
            other => bail!(
                "{option}.{key} is {}, but must be a string",
                other.type_str()
            ),
        })
        .collect()
}

fn object_attributes(table: toml::Table) -> Result<Vec<Attribute>> {
    table
        .into_iter()
        .map(|(name, value)| {
            let values = match value {
                toml::Value::String(text) => vec![text],
                toml::Value::Integer(number) => vec![number.to_string()],
                toml::Value::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        toml::Value::String(text) => Ok(text),
                        toml::Value::Integer(number) => Ok(number.to_string()),
                        other => bail!(
                            "object_attributes.{name} contains {}, but values must be strings",
                            other.type_str()
                        ),
                    })
                    .collect::<Result<_>>()?,
                other => bail!(
                    "object_attributes.{name} is {}, but must be a string or a list of strings",
                    other.type_str()
                ),
            };
            Ok(Attribute { name, values })
        })
        .collect()
}

fn operations(table: toml::Table) -> Result<Vec<wit::ResultOperation>> {
    table
        .into_iter()
        .map(|(attribute, value)| {
            let toml::Value::Table(mut fields) = value else {
                bail!("search_result_operations.{attribute} must be a table with action and modify_dn");
            };
            let mut field = |name: &str| -> Result<String> {
                match fields.remove(name) {
                    Some(toml::Value::String(text)) => Ok(text),
                    Some(toml::Value::Integer(number)) => Ok(number.to_string()),
                    Some(other) => bail!("search_result_operations.{attribute}.{name} is {}, but must be a string", other.type_str()),
                    None => bail!("search_result_operations.{attribute} has no {name}"),
                }
            };
            let action = field("action")?;
            let modify_dn = field("modify_dn")?;
            if let Some(unknown) = fields.keys().next() {
                bail!("search_result_operations.{attribute} has the unknown key {unknown}; it takes action and modify_dn");
            }
            Ok(wit::ResultOperation {
                attribute,
                action,
                modify_dn,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str, environment: &[(&str, &str)]) -> Result<Settings> {
        let file: FileConfig = toml::from_str(text)?;
        let environment: Vec<(String, String)> = environment
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        from_file(file, Path::new("/config"), &|name| {
            environment
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn normalise_url_accepts_legacy_forms() {
        assert_eq!(normalise_url("openldap").unwrap(), "ldap://openldap:389");
        assert_eq!(
            normalise_url("127.0.0.1:3890").unwrap(),
            "ldap://127.0.0.1:3890"
        );
        assert_eq!(
            normalise_url("ldaps://ldap.example.org").unwrap(),
            "ldaps://ldap.example.org:636"
        );
        assert_eq!(
            normalise_url("ldap://[::1]:389/").unwrap(),
            "ldap://[::1]:389"
        );
        assert_eq!(normalise_url("LDAP://[::1]").unwrap(), "ldap://[::1]:389");
    }

    #[test]
    fn normalise_url_rejects_other_schemes() {
        for url in [
            "",
            "http://x",
            "ldap://x:0",
            "ldap://x:port",
            "ldap://x/dc=org",
            "ldapi://%2fsocket",
        ] {
            assert!(normalise_url(url).is_err(), "{url:?} should be rejected");
        }
    }

    #[test]
    fn settings_keep_option_order() {
        let loaded = settings(
            "url = 'x'\nbase_dn = 'dc=x'\nobject_classes = ['person']\n\
             [replace_object_with]\n'/' = '+'\n'_' = ' '\n",
            &[],
        )
        .expect("valid");
        assert_eq!(
            loaded.hook.rules.replacements,
            vec![
                ("/".to_string(), "+".to_string()),
                ("_".to_string(), " ".to_string())
            ]
        );
        assert_eq!(loaded.hook.rules.strip_chars.len(), 7);
    }

    #[test]
    fn password_comes_from_environment() {
        let text = "url = 'x'\nbase_dn = 'dc=x'\nuser = 'cn=admin,dc=x'\npassword_env = 'PW'\n";
        let loaded = settings(text, &[("PW", "s3cret")]).expect("valid");
        assert_eq!(
            loaded.connection.password.map(|p| p.expose().to_string()),
            Some("s3cret".to_string())
        );
        let error = settings(text, &[]).expect_err("PW is not set");
        assert!(
            error.to_string().contains("password_env names PW"),
            "{error}"
        );
    }

    #[test]
    fn user_without_password_is_rejected() {
        let error = settings("url = 'x'\nbase_dn = 'dc=x'\nuser = 'cn=admin,dc=x'\n", &[])
            .expect_err("no password");
        assert!(error.to_string().contains(PASSWORD_VARIABLE), "{error}");
    }

    #[test]
    fn secret_debug_hides_value() {
        let secret = Secret("s3cret".to_string());
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn timeouts_must_be_positive() {
        let error = settings(
            "url = 'x'\nbase_dn = 'dc=x'\noperation_timeout = 0.0\n",
            &[],
        )
        .expect_err("zero timeout");
        assert!(
            error.to_string().contains("operation_timeout is 0"),
            "{error}"
        );
    }
}
