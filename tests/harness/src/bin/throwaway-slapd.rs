//! Starts a throwaway slapd for the ldap-hooks demo and the Python tests.
//!
//! `--tls` adds StartTLS and an ldaps:// port with a certificate from a throwaway CA.
//!
//! `throwaway-slapd -- COMMAND ARGS...` runs the command with `LDAP_URL`,
//! `LDAP_BASE_DN`, `LDAP_ADMIN_DN`, `LDAP_ADMIN_PASSWORD` and `LDAP_SLAPD_DIRECTORY`
//! (the folder with slapd.log) set, then removes the server and exits with the
//! command's status.
//!
//! Without a command it prints those values as one JSON line and keeps the server
//! until its standard input closes, which lets a test fixture own the server. Lines
//! on standard input control it meanwhile: `stop` stops slapd, `start` starts it again
//! on the same port with the same data, `restart` does both; each prints `ok` or an
//! error line when done.

use anyhow::{Context, Result};
use slapd_harness::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN, Slapd};
use std::io::BufRead;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("throwaway-slapd: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode> {
    let mut arguments: Vec<String> = std::env::args().skip(1).collect();
    let with_tls = arguments.first().map(String::as_str) == Some("--tls");
    if with_tls {
        arguments.remove(0);
    }
    let command = match arguments.first().map(String::as_str) {
        Some("--") => &arguments[1..],
        Some("-h" | "--help") => {
            println!("usage: throwaway-slapd [--tls] [-- COMMAND ARGS...]");
            return Ok(ExitCode::SUCCESS);
        }
        Some(other) => anyhow::bail!(
            "unexpected argument {other:?}; usage: throwaway-slapd [--tls] [-- COMMAND ARGS...]"
        ),
        None => &arguments[..],
    };

    let mut slapd = if with_tls {
        Slapd::start_with_tls()?
    } else {
        Slapd::start()?
    };

    if command.is_empty() {
        let description = serde_json::json!({
            "url": slapd.url(),
            "port": slapd.port(),
            "base_dn": BASE_DN,
            "admin_dn": ADMIN_DN,
            "admin_password": ADMIN_PASSWORD,
            "pid": slapd.pid(),
            "directory": slapd.directory().display().to_string(),
            "ldaps_url": slapd.ldaps_url(),
            "ca_file": slapd.tls().map(|files| files.ca_file.display().to_string()),
            "other_ca_file": slapd.tls().map(|files| files.other_ca_file.display().to_string()),
        });
        println!("{description}");
        // Keep the server until the parent closes our standard input.
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let result = match line.trim() {
                "stop" => {
                    slapd.stop();
                    Ok(())
                }
                "start" | "restart" => slapd.restart(),
                "" => continue,
                other => Err(anyhow::anyhow!(
                    "unknown command {other:?}; use stop, start or restart"
                )),
            };
            match result {
                Ok(()) => println!("ok"),
                Err(error) => println!("error: {error:#}"),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let status = Command::new(&command[0])
        .args(&command[1..])
        .env("LDAP_URL", slapd.url())
        .env("LDAP_BASE_DN", BASE_DN)
        .env("LDAP_ADMIN_DN", ADMIN_DN)
        .env("LDAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("LDAP_SLAPD_DIRECTORY", slapd.directory())
        .status()
        .with_context(|| format!("running {}", command[0]))?;
    drop(slapd);
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}
