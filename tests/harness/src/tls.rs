//! A throwaway certificate authority for the TLS tests, made with the `openssl`
//! command: a CA, a server certificate it signed for the IP address 127.0.0.1 only,
//! and a second CA that signed nothing, for the wrong-CA tests.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files slapd and the clients need.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signed the server's certificate (PEM).
    pub ca_file: PathBuf,
    /// A CA that signed nothing the server has (PEM).
    pub other_ca_file: PathBuf,
    pub certificate_file: PathBuf,
    pub key_file: PathBuf,
}

fn openssl(folder: &Path, arguments: &[&str]) -> Result<()> {
    let output = Command::new("openssl")
        .args(arguments)
        .current_dir(folder)
        .output()
        .context("running openssl; install Debian's openssl package")?;
    if !output.status.success() {
        bail!(
            "openssl {} failed: {}",
            arguments.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn new_ca(folder: &Path, name: &str) -> Result<()> {
    openssl(
        folder,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=ldap-hooks test {name}"),
        ],
    )
}

/// Creates the CAs and the server certificate in `folder`.
pub fn create(folder: &Path) -> Result<TlsFiles> {
    new_ca(folder, "ca")?;
    new_ca(folder, "other-ca")?;
    std::fs::write(
        folder.join("server.ext"),
        "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n\
         keyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n",
    )
    .context("writing the certificate extensions")?;
    openssl(
        folder,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    )?;
    openssl(
        folder,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    )?;
    Ok(TlsFiles {
        ca_file: folder.join("ca.pem"),
        other_ca_file: folder.join("other-ca.pem"),
        certificate_file: folder.join("server.pem"),
        key_file: folder.join("server.key"),
    })
}

/// The slapd.conf lines that enable TLS with these files.
pub fn slapd_conf_lines(files: &TlsFiles) -> String {
    format!(
        "TLSCACertificateFile {}\nTLSCertificateFile {}\nTLSCertificateKeyFile {}\n",
        files.ca_file.display(),
        files.certificate_file.display(),
        files.key_file.display()
    )
}
