//! An on-disk cache of compiled components, so that a run after the first one skips
//! Cranelift compilation.
//!
//! A file is named after the SHA-256 of the component and of the engine's
//! compatibility hash, so a new wasmtime version or other engine settings use new
//! files. Each file has the SHA-256 of its own contents in a sidecar file. A file
//! that fails this check or that wasmtime rejects is compiled again and rewritten.
//! Every cache failure is logged and otherwise ignored.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Returns the cache folder: `LDAP_HOOKS_CACHE_DIR`, else `$XDG_CACHE_HOME/ldap-hooks`, else
/// `~/.cache/ldap-hooks`, each with a subfolder for this host. `None` disables the cache.
pub fn default_folder() -> Option<PathBuf> {
    let base = if let Some(folder) = std::env::var_os("LDAP_HOOKS_CACHE_DIR") {
        if folder.is_empty() {
            return None;
        }
        PathBuf::from(folder)
    } else if let Some(folder) = std::env::var_os("XDG_CACHE_HOME").filter(|f| !f.is_empty()) {
        PathBuf::from(folder).join("ldap-hooks")
    } else {
        PathBuf::from(std::env::var_os("HOME")?)
            .join(".cache")
            .join("ldap-hooks")
    };
    Some(base.join("rust-host"))
}

/// Compiles `bytes`, or loads the compiled form from `folder` when it is there.
/// `name` names the component in messages.
pub fn load(engine: &Engine, bytes: &[u8], name: &str, folder: Option<&Path>) -> Result<Component> {
    let Some(folder) = folder else {
        return compile(engine, bytes, name);
    };
    let path = folder.join(format!("{}.cwasm", key(engine, bytes)));

    match read_verified(&path) {
        Ok(Some(compiled)) => {
            // SAFETY: the bytes are the unchanged output of `Component::serialize` by an
            // engine with the same compatibility hash: the file name fixes the source and
            // the engine, and the sidecar checksum shows the contents are intact.
            match unsafe { Component::deserialize(engine, &compiled) } {
                Ok(component) => return Ok(component),
                Err(error) => {
                    tracing::debug!(path = %path.display(), %error, "cached component rejected by wasmtime, compiling again")
                }
            }
        }
        Ok(None) => {}
        Err(error) => {
            tracing::debug!(path = %path.display(), error = %format!("{error:#}"), "compiled component unusable, compiling again")
        }
    }

    let component = compile(engine, bytes, name)?;
    if let Err(error) = store(&component, &path) {
        tracing::debug!(path = %path.display(), error = %format!("{error:#}"), "cannot write the compiled component");
    }
    Ok(component)
}

fn compile(engine: &Engine, bytes: &[u8], name: &str) -> Result<Component> {
    crate::components::wasm(Component::new(engine, bytes))
        .with_context(|| format!("{name} is not a valid WebAssembly component"))
}

fn key(engine: &Engine, bytes: &[u8]) -> String {
    struct Collect(Vec<u8>);
    impl Hasher for Collect {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }
    let mut engine_hash = Collect(Vec::new());
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);

    let mut digest = Sha256::new();
    digest.update(bytes);
    digest.update(&engine_hash.0);
    hex(&digest.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn sidecar(path: &Path) -> PathBuf {
    path.with_extension("sha256")
}

fn read_verified(path: &Path) -> Result<Option<Vec<u8>>> {
    if !path.exists() {
        return Ok(None);
    }
    let compiled = std::fs::read(path).context("reading the compiled component")?;
    let expected = std::fs::read_to_string(sidecar(path)).context("reading its checksum")?;
    if hex(&Sha256::digest(&compiled)) != expected.trim() {
        anyhow::bail!("the checksum does not match");
    }
    Ok(Some(compiled))
}

fn store(component: &Component, path: &Path) -> Result<()> {
    let folder = path.parent().context("the cache path has no folder")?;
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let compiled =
        crate::components::wasm(component.serialize()).context("serialising the component")?;

    // Write to unique temporary names and rename, so that concurrent runs never read a
    // half-written file.
    let unique = format!(
        "{}.{}",
        std::process::id(),
        std::thread::current().name().unwrap_or("main")
    );
    let temporary = path.with_extension(format!("cwasm.{unique}"));
    let temporary_sum = path.with_extension(format!("sha256.{unique}"));
    std::fs::write(&temporary, &compiled)?;
    std::fs::write(&temporary_sum, hex(&Sha256::digest(&compiled)))?;
    std::fs::rename(&temporary_sum, sidecar(path))?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}
