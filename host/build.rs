//! Builds the guest components for wasm32-wasip2 so that the binary can embed them.
//!
//! The guests are built by a nested cargo into their own target directory,
//! `target/guest`, because the outer cargo holds the lock of the main one. The same
//! call builds the components that the tests load from files. The Python package takes
//! its copies of the components from the same place.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// The embedded components, with the variables that carry their paths.
const EMBEDDED: [(&str, &str, &str); 2] = [
    (
        "ldap-hooks-hook",
        "ldap_hooks_hook.wasm",
        "LDAP_HOOKS_HOOK_WASM",
    ),
    (
        "ldap-hooks-default-rules",
        "ldap_hooks_default_rules.wasm",
        "LDAP_HOOKS_RULES_WASM",
    ),
];

/// Components that the tests load from files: the example rule and a hostile one.
const TEST_COMPONENTS: [&str; 2] = ["x509-uid-rules", "hostile-rules"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf();
    let target_dir = env::var_os("LDAP_HOOKS_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("guest"));

    for watched in [
        "guest",
        "wit",
        "Cargo.lock",
        "examples/rules",
        "tests/components",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=LDAP_HOOKS_GUEST_TARGET_DIR");

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for package in EMBEDDED
        .iter()
        .map(|(package, _, _)| *package)
        .chain(TEST_COMPONENTS)
    {
        command.args(["-p", package]);
    }
    // Flags and wrappers meant for the host build must not reach the guest build.
    for variable in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
    ] {
        command.env_remove(variable);
    }

    let status = command
        .status()
        .expect("running cargo for the guest components");
    if !status.success() {
        panic!(
            "building the guest components failed ({status}); is the wasm32-wasip2 target \
             installed? Run `rustup target add wasm32-wasip2`"
        );
    }

    let output = target_dir.join("wasm32-wasip2").join("release");
    for (_, file, variable) in EMBEDDED {
        println!("cargo:rustc-env={variable}={}", output.join(file).display());
    }
    println!("cargo:rustc-env=LDAP_HOOKS_GUEST_DIR={}", output.display());
}
