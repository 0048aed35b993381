//! `fault-proxy PORT`: a fault-injecting TCP proxy in front of the slapd on
//! 127.0.0.1:PORT, for the Python tests.
//!
//! It prints `{"port": N}` once it listens on 127.0.0.1:N, then reads commands from
//! standard input, one per line, and answers each with `ok`: `pass`, `drop-after N`
//! (close every connection after N completed operations) and `stall-after N` (hold
//! back every reply after N completed operations). It stops when its standard input
//! closes.

use slapd_harness::proxy::{Fault, FaultProxy};
use std::io::BufRead;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(target) = std::env::args()
        .nth(1)
        .and_then(|port| port.parse::<u16>().ok())
    else {
        eprintln!("fault-proxy: usage: fault-proxy PORT, where PORT is slapd's port on 127.0.0.1");
        return ExitCode::from(2);
    };
    let proxy = match FaultProxy::start(target) {
        Ok(proxy) => proxy,
        Err(error) => {
            eprintln!("fault-proxy: cannot listen on 127.0.0.1: {error}");
            return ExitCode::from(1);
        }
    };
    println!("{{\"port\": {}}}", proxy.port());

    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let count = words.get(1).and_then(|count| count.parse::<usize>().ok());
        let fault = match (words.first().copied(), count) {
            (Some("pass"), _) => Fault::Pass,
            (Some("drop-after"), Some(count)) => Fault::DropAfter(count),
            (Some("stall-after"), Some(count)) => Fault::StallAfter(count),
            (None, _) => continue,
            _ => {
                println!(
                    "error: unknown command {line:?}; use pass, drop-after N or stall-after N"
                );
                continue;
            }
        };
        proxy.set(fault);
        println!("ok");
    }
    ExitCode::SUCCESS
}
