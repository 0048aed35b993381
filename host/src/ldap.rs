//! The host's LDAP connection: one connection per run over ldap3 on a tokio runtime,
//! with a timeout on every network step.
//!
//! Components call synchronously, so each operation blocks on a current-thread
//! runtime that also drives the connection. Every failure becomes a WIT `ldap-error`
//! with the result code, its name and the server's text. Failures without a server
//! result use the client-side codes 81 (server down), 85 (timeout) and 91 (connect
//! error).

use crate::bindings::ldap_hooks::hook::directory::{
    Attribute, Change, ChangeKind, Entry, LdapError, RequestControls, Scope,
};
use crate::result_code;
use crate::settings::Connection as ConnectionSettings;
use ldap3::controls::{Control, ControlType, PostRead, PostReadResp};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Mod, SearchEntry};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

/// The operations a connection allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// Adds and modifies are refused, which makes `plan` and `check` safe even with a
    /// faulty component.
    ReadOnly,
}

/// A connection that is opened and bound on creation and opened again after a
/// network failure.
///
/// Every operation gets the operation timeout. After a failure without a server
/// result (81 server down, 85 timeout) the connection is dropped, and the next
/// operation connects again. A search that fails that way on a connection that had
/// been in use is retried once at once, because reading twice is harmless; adds and
/// modifies are never repeated, so no write is sent twice.
pub struct Directory {
    runtime: Runtime,
    settings: ConnectionSettings,
    ldap: Option<Ldap>,
    access: Access,
    operations: u64,
}

impl Directory {
    /// Connects and binds. The error names the server and never contains the password.
    pub fn connect(settings: &ConnectionSettings, access: Access) -> Result<Directory, LdapError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| {
                client_error(
                    result_code::OTHER,
                    format!("cannot start the I/O runtime: {error}"),
                )
            })?;
        if settings.password.is_some() && settings.url.starts_with("ldap://") && !settings.start_tls
        {
            tracing::warn!(
                server = %settings.url,
                "the bind password goes to {} without TLS, so anyone on the network path can read \
                 it; use an ldaps:// URL or set start_tls",
                settings.url
            );
        }
        if settings.insecure_skip_verify {
            tracing::warn!(
                server = %settings.url,
                "tls_insecure_skip_verify is set, so the server's certificate is not checked and \
                 anyone on the network path can pose as the server"
            );
        }
        let mut directory = Directory {
            runtime,
            settings: settings.clone(),
            ldap: None,
            access,
            operations: 0,
        };
        directory.handle()?;
        Ok(directory)
    }

    /// Returns the open connection, connecting and binding first when there is none.
    fn handle(&mut self) -> Result<Ldap, LdapError> {
        if let Some(ldap) = &self.ldap {
            return Ok(ldap.clone());
        }
        let settings = &self.settings;
        let ldap_settings = connection_settings(settings)?;
        let url = settings.url.clone();
        let connect_timeout = settings.connect_timeout;
        let ldap = self.runtime.block_on(async {
            // The connect timeout covers TCP, TLS and StartTLS; the guard around it also
            // covers name resolution.
            let connecting =
                LdapConnAsync::with_settings(ldap_settings.set_conn_timeout(connect_timeout), &url);
            let (connection, ldap) =
                match tokio::time::timeout(connect_timeout + Duration::from_secs(1), connecting)
                    .await
                {
                    Ok(Ok(pair)) => pair,
                    Ok(Err(error)) => return Err(connect_error(&url, error, connect_timeout)),
                    Err(_) => {
                        return Err(timed_out(&format!("connecting to {url}"), connect_timeout));
                    }
                };
            ldap3::drive!(connection);
            Ok(ldap)
        })?;

        if let Some(password) = &settings.password {
            let (user, password) = (settings.user.clone(), password.expose().to_string());
            let mut binder = ldap.clone();
            let binding = async move {
                binder
                    .with_timeout(connect_timeout)
                    .simple_bind(&user, &password)
                    .await
            };
            self.operations += 1;
            let result = self.runtime.block_on(with_timeout(
                connect_timeout,
                &format!("binding to {url}"),
                binding,
            ))?;
            result.success().map_err(|error| {
                let mut error = ldap_error(error);
                if error.code == 49 {
                    error.message = format!(
                        "the server rejected the bind DN {} or its password{}",
                        settings.user,
                        if error.message.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", error.message)
                        }
                    );
                }
                error
            })?;
        }
        // Anonymous: RFC 4513 section 5.1.1 lets a client skip the bind.
        self.ldap = Some(ldap.clone());
        Ok(ldap)
    }

    /// Returns the server URL.
    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// Returns the number of LDAP operations sent, binds included.
    pub fn operations(&self) -> u64 {
        self.operations
    }

    /// Runs one operation with the operation timeout. `retry` allows one more attempt
    /// on a new connection when a reused one turns out to be broken.
    ///
    /// The timeout is a tokio timer around the whole operation instead of ldap3's own
    /// `with_timeout`, which costs about 40 µs per search (measured with
    /// `scripts/bench.sh`). A timed-out operation is not abandoned; the connection is
    /// dropped instead, which ends it.
    fn run<T, F>(
        &mut self,
        what: &str,
        retry: bool,
        operation: impl Fn(Ldap) -> F,
    ) -> Result<T, LdapError>
    where
        F: Future<Output = ldap3::result::Result<T>>,
    {
        let timeout = self.settings.operation_timeout;
        for attempt in 1..=2 {
            let reused = self.ldap.is_some();
            let ldap = self.handle()?;
            self.operations += 1;
            match self
                .runtime
                .block_on(with_timeout(timeout, what, operation(ldap)))
            {
                Ok(value) => return Ok(value),
                Err(error)
                    if error.code == result_code::SERVER_DOWN
                        || error.code == result_code::TIMEOUT =>
                {
                    self.ldap = None;
                    let broken = error.code == result_code::SERVER_DOWN;
                    if retry && reused && broken && attempt == 1 {
                        tracing::debug!(server = %self.settings.url, %what, "connection broken, connecting again");
                        continue;
                    }
                    return Err(error);
                }
                Err(error) => return Err(error),
            }
        }
        Err(client_error(
            result_code::SERVER_DOWN,
            format!("{what} failed twice"),
        ))
    }

    pub fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: &[String],
    ) -> Result<Vec<Entry>, LdapError> {
        let scope = match scope {
            Scope::BaseObject => ldap3::Scope::Base,
            Scope::SingleLevel => ldap3::Scope::OneLevel,
            Scope::WholeSubtree => ldap3::Scope::Subtree,
        };
        let result = self.run(&format!("searching {base}"), true, |mut ldap| {
            let (base, filter, attributes) =
                (base.to_string(), filter.to_string(), attributes.to_vec());
            async move { ldap.search(&base, scope, &filter, attributes).await }
        })?;
        let (entries, _) = result.success().map_err(ldap_error)?;
        Ok(entries
            .into_iter()
            .map(|entry| entry_from(SearchEntry::construct(entry)))
            .collect())
    }

    pub fn add(
        &mut self,
        dn: &str,
        attributes: &[Attribute],
        controls: &RequestControls,
    ) -> Result<Option<Entry>, LdapError> {
        self.check_writable("add", dn)?;
        let attributes: Vec<(String, HashSet<String>)> = attributes
            .iter()
            .map(|attribute| {
                (
                    attribute.name.clone(),
                    attribute.values.iter().cloned().collect(),
                )
            })
            .collect();
        let read_attributes = controls.post_read.clone();
        let result = self.run(&format!("adding {dn}"), false, |mut ldap| {
            let (dn, attributes, post_read) =
                (dn.to_string(), attributes.clone(), read_attributes.clone());
            async move {
                let request = match post_read {
                    Some(names) => ldap.with_controls(critical_post_read(names)),
                    None => &mut ldap,
                };
                request.add(&dn, attributes).await
            }
        })?;
        let result = result.success().map_err(ldap_error)?;
        Ok(post_read(dn, &result.ctrls))
    }

    pub fn modify(
        &mut self,
        dn: &str,
        changes: &[Change],
        controls: &RequestControls,
    ) -> Result<Option<Entry>, LdapError> {
        self.check_writable("modify", dn)?;
        let mut modifications = Vec::with_capacity(changes.len());
        for change in changes {
            let name = change.attribute.name.clone();
            let values: HashSet<String> = change.attribute.values.iter().cloned().collect();
            modifications.push(match change.kind {
                ChangeKind::Add => Mod::Add(name, values),
                ChangeKind::Delete => Mod::Delete(name, values),
                ChangeKind::Replace => Mod::Replace(name, values),
                ChangeKind::Increment => {
                    let [by] = change.attribute.values.as_slice() else {
                        return Err(client_error(
                            result_code::OTHER,
                            format!("an increment of {name} needs exactly one value"),
                        ));
                    };
                    Mod::Increment(name, by.clone())
                }
            });
        }
        let read_attributes = controls.post_read.clone();
        let result = self.run(&format!("modifying {dn}"), false, |mut ldap| {
            let (dn, modifications, post_read) = (
                dn.to_string(),
                modifications.clone(),
                read_attributes.clone(),
            );
            async move {
                let request = match post_read {
                    Some(names) => ldap.with_controls(critical_post_read(names)),
                    None => &mut ldap,
                };
                request.modify(&dn, modifications).await
            }
        })?;
        let result = result.success().map_err(ldap_error)?;
        Ok(post_read(dn, &result.ctrls))
    }

    fn check_writable(&self, operation: &str, dn: &str) -> Result<(), LdapError> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(LdapError {
                code: result_code::UNWILLING_TO_PERFORM,
                name: result_code::name(result_code::UNWILLING_TO_PERFORM).to_string(),
                message: format!(
                    "the host is read-only for this command, so the {operation} of {dn} was not sent"
                ),
            }),
        }
    }

    /// Sends an unbind and closes the connection, waiting at most a second.
    pub fn close(mut self) {
        if let Some(mut ldap) = self.ldap.take() {
            let _ = self.runtime.block_on(async move {
                tokio::time::timeout(Duration::from_secs(1), ldap.unbind()).await
            });
        }
    }
}

/// A Post-Read control marked critical: a server that cannot return the entry must
/// reject the operation instead of applying it without the control (RFC 4511,
/// section 4.1.11).
fn critical_post_read(attributes: Vec<String>) -> ldap3::controls::RawControl {
    let mut control = PostRead::new(attributes);
    control.crit = true;
    control
}

fn connection_settings(settings: &ConnectionSettings) -> Result<LdapConnSettings, LdapError> {
    let mut ldap_settings = LdapConnSettings::new()
        .set_starttls(settings.start_tls)
        .set_no_tls_verify(settings.insecure_skip_verify);
    // With checks off, ldap3 builds its own configuration that accepts any certificate.
    if let Some(ca_file) = settings
        .ca_file
        .as_ref()
        .filter(|_| !settings.insecure_skip_verify)
    {
        ldap_settings = ldap_settings.set_config(Arc::new(tls_config(ca_file)?));
    }
    Ok(ldap_settings)
}

/// Builds a rustls configuration that trusts only the certificates in `ca_file` (PEM).
fn tls_config(ca_file: &std::path::Path) -> Result<rustls::ClientConfig, LdapError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    let invalid = |reason: String| {
        client_error(
            result_code::CONNECT_ERROR,
            format!("tls_ca_file {}: {reason}", ca_file.display()),
        )
    };
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(ca_file)
        .map_err(|error| invalid(format!("cannot be read: {error}")))?;
    for certificate in certificates {
        let certificate =
            certificate.map_err(|error| invalid(format!("is not valid PEM: {error}")))?;
        roots.add(certificate).map_err(|error| {
            invalid(format!("holds a certificate that cannot be used: {error}"))
        })?;
    }
    if roots.is_empty() {
        return Err(invalid("holds no certificate".to_string()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| invalid(format!("TLS set-up failed: {error}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

async fn with_timeout<T>(
    timeout: Duration,
    what: &str,
    operation: impl Future<Output = ldap3::result::Result<T>>,
) -> Result<T, LdapError> {
    match tokio::time::timeout(timeout, operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(ldap3::LdapError::Timeout { .. })) | Err(_) => Err(timed_out(what, timeout)),
        Ok(Err(error)) => Err(ldap_error(error)),
    }
}

fn timed_out(what: &str, timeout: Duration) -> LdapError {
    client_error(
        result_code::TIMEOUT,
        format!(
            "{what} got no answer within {:.1} s; check that the server is up and responsive",
            timeout.as_secs_f64()
        ),
    )
}

fn connect_error(url: &str, error: ldap3::LdapError, timeout: Duration) -> LdapError {
    match error {
        ldap3::LdapError::Timeout { .. } => timed_out(&format!("connecting to {url}"), timeout),
        other => client_error(
            result_code::CONNECT_ERROR,
            format!("cannot connect to {url}: {other}"),
        ),
    }
}

fn client_error(code: u32, message: String) -> LdapError {
    LdapError {
        code,
        name: result_code::name(code).to_string(),
        message,
    }
}

/// Converts an ldap3 error into the WIT error.
pub fn ldap_error(error: ldap3::LdapError) -> LdapError {
    match error {
        ldap3::LdapError::LdapResult { result } => LdapError {
            code: result.rc,
            name: result_code::name(result.rc).to_string(),
            message: result.text,
        },
        ldap3::LdapError::Timeout { .. } => {
            client_error(result_code::TIMEOUT, "the operation timed out".to_string())
        }
        ldap3::LdapError::Io { source } => client_error(
            result_code::SERVER_DOWN,
            format!("the connection failed: {source}"),
        ),
        ldap3::LdapError::OpSend { .. }
        | ldap3::LdapError::ResultRecv { .. }
        | ldap3::LdapError::IdScrubSend { .. }
        | ldap3::LdapError::MiscSend { .. }
        | ldap3::LdapError::EndOfStream => client_error(
            result_code::SERVER_DOWN,
            "the connection to the server is closed".to_string(),
        ),
        other => client_error(result_code::OTHER, other.to_string()),
    }
}

fn entry_from(entry: SearchEntry) -> Entry {
    let mut attributes: Vec<Attribute> = entry
        .attrs
        .into_iter()
        .map(|(name, values)| Attribute { name, values })
        .collect();
    // ldap3 returns attributes in a hash map; sorting makes outputs stable.
    attributes.sort_by_key(|attribute| attribute.name.to_ascii_lowercase());
    Entry {
        dn: entry.dn,
        attributes,
    }
}

fn post_read(dn: &str, controls: &[Control]) -> Option<Entry> {
    controls.iter().find_map(|control| {
        let Control(Some(ControlType::PostReadResp), raw) = control else {
            return None;
        };
        raw.val.as_ref()?;
        // ldap3's parser panics on a malformed control value. A server's bad reply must
        // not bring the host down, so such a reply counts as no post-read entry.
        let response: PostReadResp = std::panic::catch_unwind(|| raw.parse()).ok()?;
        let mut attributes: Vec<Attribute> = response
            .attrs
            .into_iter()
            .map(|(name, values)| Attribute { name, values })
            .collect();
        attributes.sort_by_key(|attribute| attribute.name.to_ascii_lowercase());
        Some(Entry {
            dn: dn.to_string(),
            attributes,
        })
    })
}
