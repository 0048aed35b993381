//! The decisions of ldap-hooks as plain Rust, free of any WebAssembly or LDAP client.
//!
//! The hook and DN-rule components wrap this crate, and the crate also builds for the
//! host target so that every pure function is unit-tested natively. The hook flow in
//! [`flow`] reaches the directory, the DN rules and the log only through the traits in
//! [`services`], which the components implement on their WIT imports.

pub mod config;
pub mod context;
pub mod dn;
pub mod error;
pub mod escape;
pub mod filter;
pub mod flow;
pub mod limits;
pub mod names;
pub mod rules;
pub mod schema;
pub mod services;
pub mod sources;
pub mod template;
pub mod types;
