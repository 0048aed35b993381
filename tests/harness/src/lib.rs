//! A throwaway OpenLDAP `slapd` for the ldap-hooks tests and demo.
//!
//! [`Slapd::start`] writes a `slapd.conf` with back_mdb and the schemas core, cosine,
//! inetorgperson, nis and the test schema into a fresh temporary directory, loads the
//! seed entries with `slapadd`, and starts slapd on 127.0.0.1 at a free port. Dropping
//! the value stops slapd and removes the directory, also when a test panics.
//!
//! It needs Debian's `slapd` and `ldap-utils` packages; the project's set-up script
//! installs them.

pub mod ldif;
pub mod proxy;
pub mod tls;

use anyhow::{Context, Result, bail};
use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The suffix of the test directory.
pub const BASE_DN: &str = "dc=example,dc=org";
/// The root DN, which may do anything.
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
/// The root DN's password. It protects a directory that lives for one test on loopback.
pub const ADMIN_PASSWORD: &str = "throwaway-admin-secret";
/// DN of the counter entry in the seed data.
pub const COUNTER_DN: &str = "cn=uidNext,dc=example,dc=org";
/// The counter's value in the seed data; the first allocation yields one more.
pub const COUNTER_START: u32 = 2000;

/// How long slapd may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Where slapd and the OpenLDAP tools live on Debian.
const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const SYSTEM_SCHEMA: &str = "/etc/ldap/schema";

/// Returns the seed entries: the suffix, `ou=people` and the counter entry.
pub fn seed_ldif() -> String {
    format!(
        "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: {COUNTER_DN}\nobjectClass: x-nextUserIdentifier\ncn: uidNext\nuidNumber: {COUNTER_START}\n"
    )
}

/// A running throwaway slapd.
pub struct Slapd {
    directory: PathBuf,
    port: u16,
    /// The ldaps:// port, when TLS is on.
    tls_port: u16,
    tls: Option<tls::TlsFiles>,
    child: Option<Child>,
    config_file: PathBuf,
}

impl Slapd {
    /// Starts slapd with the seed entries.
    pub fn start() -> Result<Slapd> {
        Self::start_with_ldif(&seed_ldif())
    }

    /// Starts slapd with the seed entries and TLS: StartTLS on the ldap:// port and an
    /// ldaps:// port, with a server certificate from a throwaway CA.
    pub fn start_with_tls() -> Result<Slapd> {
        Self::start_with(&seed_ldif(), true)
    }

    /// Starts slapd with the given entries loaded before it accepts connections.
    pub fn start_with_ldif(ldif: &str) -> Result<Slapd> {
        Self::start_with(ldif, false)
    }

    fn start_with(ldif: &str, tls: bool) -> Result<Slapd> {
        check_installed()?;
        let directory = fresh_directory()?;
        let result = Self::start_in(&directory, ldif, tls);
        if result.is_err() {
            let _ = fs::remove_dir_all(&directory);
        }
        result
    }

    fn start_in(directory: &Path, ldif: &str, with_tls: bool) -> Result<Slapd> {
        let data = directory.join("data");
        fs::create_dir_all(&data).context("creating the slapd data directory")?;
        let tls = if with_tls {
            Some(tls::create(directory)?)
        } else {
            None
        };
        let config_file = directory.join("slapd.conf");
        let mut config = slapd_conf(directory);
        if let Some(files) = &tls {
            config = format!("{}{config}", tls::slapd_conf_lines(files));
        }
        fs::write(&config_file, config).context("writing slapd.conf")?;

        let seed = directory.join("seed.ldif");
        fs::write(&seed, ldif).context("writing the seed LDIF")?;
        let output = Command::new(SLAPADD)
            .arg("-f")
            .arg(&config_file)
            .arg("-l")
            .arg(&seed)
            .output()
            .context("running slapadd")?;
        if !output.status.success() {
            bail!(
                "slapadd could not load the seed entries: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }

        let mut slapd = Slapd {
            directory: directory.to_path_buf(),
            port: 0,
            tls_port: 0,
            tls,
            child: None,
            config_file,
        };
        slapd.launch()?;
        Ok(slapd)
    }

    /// Starts the slapd process on a free port and waits until it accepts connections.
    fn launch(&mut self) -> Result<()> {
        let mut last_error = None;
        for _ in 0..5 {
            let port = if self.port == 0 {
                free_port()?
            } else {
                self.port
            };
            if self.tls.is_some() && (self.tls_port == 0 || self.port == 0) {
                self.tls_port = free_port()?;
            }
            match self.launch_on(port) {
                Ok(child) => {
                    self.port = port;
                    self.child = Some(child);
                    return Ok(());
                }
                Err(error) => last_error = Some(error),
            }
            if self.port != 0 {
                // A restart must keep its port; only wait and try again.
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("slapd did not start")))
    }

    fn launch_on(&self, port: u16) -> Result<Child> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.directory.join("slapd.log"))
            .context("opening slapd.log")?;
        let starts_before = self.log().matches("slapd starting").count();
        // `-d` keeps slapd in the foreground, so the harness owns the process.
        let mut child = Command::new(SLAPD)
            .arg("-f")
            .arg(&self.config_file)
            .arg("-h")
            .arg(self.listen_urls(port))
            // Log level "stats" records connections and operations, which tests count.
            .arg("-d")
            .arg("256")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting slapd")?;

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().context("waiting for slapd")? {
                let mut log = String::new();
                let _ = fs::File::open(self.directory.join("slapd.log"))
                    .and_then(|mut file| file.read_to_string(&mut log));
                bail!("slapd exited with {status} on port {port}: {}", log.trim());
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                self.wait_for_probe_logged(starts_before);
                return Ok(child);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("slapd did not accept connections on port {port} within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to a second for the new slapd process to log the readiness probe's
    /// connection, which it does asynchronously, so that [`Slapd::connections`] counts
    /// only later ones.
    fn wait_for_probe_logged(&self, starts_before: usize) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            let log = self.log();
            let started = log.matches("slapd starting").count() > starts_before;
            let current = log.rsplit("slapd starting").next().unwrap_or_default();
            if started && current.contains(" ACCEPT from ") {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn listen_urls(&self, port: u16) -> String {
        let mut urls = format!("ldap://127.0.0.1:{port}/");
        if self.tls.is_some() {
            urls.push_str(&format!(" ldaps://127.0.0.1:{}/", self.tls_port));
        }
        urls
    }

    /// Returns the ldaps:// URL, when slapd was started with TLS.
    pub fn ldaps_url(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|_| format!("ldaps://127.0.0.1:{}", self.tls_port))
    }

    /// Returns the TLS files, when slapd was started with TLS.
    pub fn tls(&self) -> Option<&tls::TlsFiles> {
        self.tls.as_ref()
    }

    /// Returns the server URL, `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Returns the TCP port slapd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the process id of slapd.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Returns the temporary directory with the configuration and the data.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Stops slapd, keeping its data and port, so that a later [`Slapd::restart`] serves
    /// the same entries.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts slapd again after [`Slapd::stop`] on the same port with the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.launch()
    }

    /// Freezes slapd with SIGSTOP: connections stay open, but slapd sends no replies.
    pub fn pause(&self) -> Result<()> {
        self.signal("STOP")
    }

    /// Lets a paused slapd continue with SIGCONT.
    pub fn resume(&self) -> Result<()> {
        self.signal("CONT")
    }

    fn signal(&self, name: &str) -> Result<()> {
        let pid = self.pid().context("slapd is not running")?;
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -{name} {pid} failed with {status}");
        }
        Ok(())
    }

    /// Returns what slapd has logged so far at log level "stats".
    pub fn log(&self) -> String {
        fs::read_to_string(self.directory.join("slapd.log")).unwrap_or_default()
    }

    /// Counts the connections slapd has seen so far, restarts included, as distinct
    /// `conn=N` numbers per slapd process. Operation lines are logged before the
    /// result is sent, so a client's connection is counted once it got a reply.
    pub fn connections(&self) -> usize {
        self.log()
            .split("slapd starting")
            .map(|process| {
                let mut seen: Vec<&str> = process
                    .split("conn=")
                    .skip(1)
                    .filter_map(|rest| rest.split(' ').next())
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                seen.len()
            })
            .sum()
    }

    /// Runs `ldapsearch` as the root DN and returns the entries it printed.
    pub fn search(
        &self,
        base: &str,
        scope: &str,
        filter: &str,
        attributes: &[&str],
    ) -> Result<Vec<ldif::Entry>> {
        let output = Command::new("ldapsearch")
            .args([
                "-x",
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-H",
                &self.url(),
                "-D",
                ADMIN_DN,
                "-w",
                ADMIN_PASSWORD,
            ])
            .args(["-b", base, "-s", scope, filter])
            .args(attributes)
            .output()
            .context("running ldapsearch")?;
        // Result code 32 (noSuchObject) means no entries.
        if output.status.code() == Some(32) {
            return Ok(Vec::new());
        }
        if !output.status.success() {
            bail!(
                "ldapsearch -b {base:?} {filter:?} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        ldif::parse(&String::from_utf8_lossy(&output.stdout))
    }

    /// Returns every entry below the base DN whose object classes include `class`.
    pub fn entries_of_class(&self, class: &str) -> Result<Vec<ldif::Entry>> {
        self.search(BASE_DN, "sub", &format!("(objectClass={class})"), &["*"])
    }

    /// Reads the counter entry's `uidNumber`.
    pub fn counter(&self) -> Result<u32> {
        let entries = self.search(COUNTER_DN, "base", "(objectClass=*)", &["uidNumber"])?;
        let value = entries
            .first()
            .and_then(|entry| entry.first("uidNumber"))
            .context("the counter entry has no uidNumber")?;
        value
            .parse()
            .with_context(|| format!("the counter holds {value:?}"))
    }

    /// Adds entries with `ldapadd` as the root DN.
    pub fn add(&self, ldif: &str) -> Result<()> {
        self.ldap_tool("ldapadd", ldif)
    }

    /// Applies an LDIF change record with `ldapmodify` as the root DN.
    pub fn modify(&self, ldif: &str) -> Result<()> {
        self.ldap_tool("ldapmodify", ldif)
    }

    fn ldap_tool(&self, tool: &str, ldif: &str) -> Result<()> {
        use std::io::Write;
        let mut child = Command::new(tool)
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                ADMIN_DN,
                "-w",
                ADMIN_PASSWORD,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("running {tool}"))?;
        child
            .stdin
            .take()
            .context("no stdin")?
            .write_all(ldif.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.directory);
    }
}

fn slapd_conf(directory: &Path) -> String {
    let test_schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/ldap-hooks-test.schema");
    let directory = directory.display();
    format!(
        "include {SYSTEM_SCHEMA}/core.schema\n\
         include {SYSTEM_SCHEMA}/cosine.schema\n\
         include {SYSTEM_SCHEMA}/inetorgperson.schema\n\
         include {SYSTEM_SCHEMA}/nis.schema\n\
         include {test_schema}\n\
         pidfile {directory}/slapd.pid\n\
         argsfile {directory}/slapd.args\n\
         modulepath /usr/lib/ldap\n\
         moduleload back_mdb\n\
         database mdb\n\
         maxsize 104857600\n\
         suffix \"{BASE_DN}\"\n\
         rootdn \"{ADMIN_DN}\"\n\
         rootpw {ADMIN_PASSWORD}\n\
         directory {directory}/data\n\
         index objectClass eq\n\
         index cn eq\n",
        test_schema = test_schema.display()
    )
}

fn check_installed() -> Result<()> {
    for tool in [SLAPD, SLAPADD] {
        if !Path::new(tool).exists() {
            bail!(
                "{tool} is missing; install Debian's slapd and ldap-utils packages (scripts/setup.sh does)"
            );
        }
    }
    Ok(())
}

fn fresh_directory() -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let name = format!(
        "ldap-hooks-slapd-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let directory = std::env::temp_dir().join(name);
    fs::create_dir_all(&directory).with_context(|| format!("creating {}", directory.display()))?;
    Ok(directory)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
