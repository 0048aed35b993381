//! The standalone host of the ldap-hooks components: wasmtime for the components,
//! ldap3 for the directory, and a TOML configuration. The `ldap-hooks` binary is a
//! command line around this library; the benchmark uses it directly.

pub mod batch;
pub mod bindings;
pub mod cache;
pub mod components;
pub mod context;
pub mod ldap;
pub mod report;
pub mod result_code;
pub mod sandbox;
pub mod settings;
