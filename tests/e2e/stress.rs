//! Concurrent allocation: four processes, each running 25 hooks at once with
//! `ldap-hooks batch`, against one slapd. Every run must succeed with its own number.
//! The test prints its figures; it asserts no timing.

use crate::support::{ALLOCATION, Site, run_binary};
use serde_json::{Value, json};
use slapd_harness::COUNTER_START;
use std::collections::BTreeSet;
use std::time::Instant;

const PROCESSES: usize = 4;
const HOOKS_PER_PROCESS: usize = 25;

fn stress(method: &str) {
    let site = Site::new();
    let config = site.config(&format!("allocation_method = \"{method}\"\n{ALLOCATION}"));
    let inputs: Vec<String> = (0..PROCESSES)
        .map(|process| {
            (0..HOOKS_PER_PROCESS)
                .map(|hook| {
                    let name = format!("p{process}u{hook}");
                    json!({"user": {"name": name}, "user_options": {"CERT": format!("/C=DK/CN=User {name}")}})
                        .to_string()
                        + "\n"
                })
                .collect()
        })
        .collect();

    let started = Instant::now();
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|input| {
                let (config, site) = (&config, &site);
                scope.spawn(move || {
                    run_binary(
                        &[
                            "batch",
                            "--config",
                            config.to_str().expect("path"),
                            "--contexts",
                            "-",
                            "--concurrency",
                            "25",
                        ],
                        input,
                        site.slapd.directory(),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("thread"))
            .collect()
    });
    let elapsed = started.elapsed();

    let mut numbers = BTreeSet::new();
    let mut failures = Vec::new();
    for output in &outputs {
        for line in output.stdout.lines() {
            let value: Value = serde_json::from_str(line).expect("a JSON line");
            match value["outcome"]["allocations"][0]["value"].as_str() {
                Some(number) => {
                    numbers.insert(number.parse::<u32>().expect("a number"));
                }
                None => failures.push(value),
            }
        }
    }
    let total = PROCESSES * HOOKS_PER_PROCESS;
    println!(
        "stress ({method}): {PROCESSES} processes x {HOOKS_PER_PROCESS} concurrent hooks: {} entries, \
         {} distinct numbers, {} failures in {:.2} s ({:.0} entries/s)",
        numbers.len(),
        numbers.len(),
        failures.len(),
        elapsed.as_secs_f64(),
        numbers.len() as f64 / elapsed.as_secs_f64()
    );

    assert!(failures.is_empty(), "{method}: failed hooks: {failures:#?}");
    for output in &outputs {
        assert_eq!(output.code, 0, "{method}: {output:?}");
    }
    let expected: BTreeSet<u32> = (1..=total as u32)
        .map(|offset| COUNTER_START + offset)
        .collect();
    assert_eq!(
        numbers, expected,
        "{method}: numbers are distinct and none is skipped"
    );
    assert_eq!(
        site.slapd.counter().expect("counter"),
        COUNTER_START + total as u32
    );
    assert_eq!(
        site.slapd
            .entries_of_class("posixAccount")
            .expect("ldapsearch")
            .len(),
        total
    );
}

#[test]
fn stress_compare_and_swap() {
    stress("compare-and-swap");
}

#[test]
fn stress_increment() {
    stress("increment");
}
