//! End-to-end tests of the `ldap-hooks` binary against a throwaway slapd.
//!
//! Each test starts its own slapd, writes a configuration, runs the binary as a user
//! would and checks both the printed outcome and the directory, read back with
//! `ldapsearch`.

mod cli;
mod components;
mod corpus;
mod defects;
mod faults;
mod scenarios;
mod secrets;
mod stress;
mod support;
mod tls;
