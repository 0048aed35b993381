//! The sandbox of every component call: fuel as a CPU bound, a memory limit, and
//! WASI without capabilities.
//!
//! Each call starts with a fresh fuel budget. Wasmtime charges about one unit per
//! WebAssembly instruction, so an endless loop traps instead of hanging the host. A
//! component whose linear memory would grow beyond the limit traps at that growth.
//! WASI gives the components no files, environment, arguments, network or standard
//! streams; only standard error may be captured on request, so that a guest's panic
//! message reaches the log.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Fuel per component call, unless configured. A run of the hook against slapd with
/// the schemas core, cosine, inetorgperson and nis used about 14 million units, most
/// of it to read the schema (`ldap-hooks --log-level debug run` logs the figure).
pub const DEFAULT_FUEL: u64 = 1_000_000_000;
/// Linear memory per component instance, unless configured.
pub const DEFAULT_MEMORY_MB: u64 = 256;
/// How much standard error is kept per call when it goes to the log.
const STDERR_CAPACITY: usize = 64 * 1024;

/// The limits of every component call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call, for the hook and the DN-rule component alike.
    pub fuel: u64,
    /// Bytes of linear memory per component instance.
    pub memory_bytes: usize,
    /// Whether a guest's standard error goes to the log.
    pub log_stderr: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: DEFAULT_FUEL,
            memory_bytes: (DEFAULT_MEMORY_MB * 1024 * 1024) as usize,
            log_stderr: false,
        }
    }
}

/// The part of a store's data that every component has: WASI, the memory limiter
/// and the captured standard error.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    stderr: Option<(MemoryOutputPipe, usize)>,
}

impl Sandbox {
    pub fn new(limits: &Limits) -> Sandbox {
        let mut builder = WasiCtx::builder();
        let stderr = if limits.log_stderr {
            let pipe = MemoryOutputPipe::new(STDERR_CAPACITY);
            builder.stderr(pipe.clone());
            Some((pipe, 0))
        } else {
            None
        };
        Sandbox {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                limit: limits.memory_bytes,
                exceeded: None,
            },
            stderr,
        }
    }

    pub fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        &mut self.limiter
    }

    pub fn wasi(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }

    /// Logs what the guest wrote to standard error since the last call, one line per
    /// log message.
    pub fn log_stderr(&mut self, component: &str) {
        let Some((pipe, logged)) = &mut self.stderr else {
            return;
        };
        let contents = pipe.contents();
        let new = String::from_utf8_lossy(&contents[(*logged).min(contents.len())..]).into_owned();
        *logged = contents.len();
        for line in new.lines().filter(|line| !line.trim().is_empty()) {
            tracing::warn!(target: "ldap_hooks::component", component, "standard error: {line}");
        }
    }

    /// Explains why a call of `component` trapped, in one sentence.
    pub fn explain(&mut self, component: &str, error: &wasmtime::Error, limits: &Limits) -> String {
        if let Some(desired) = self.limiter.exceeded.take() {
            return format!(
                "{component} tried to grow its memory to {} MiB, above the limit of {} MiB; \
                 raise component_memory_mb if it needs that much",
                desired / (1024 * 1024),
                limits.memory_bytes / (1024 * 1024)
            );
        }
        if let Some(wasmtime::Trap::OutOfFuel) = error.downcast_ref::<wasmtime::Trap>() {
            return format!(
                "{component} used up its fuel of {} units in one call, which suggests an \
                 endless loop; raise component_fuel if it needs more",
                limits.fuel
            );
        }
        format!("{component} trapped: {}", summarise(error))
    }
}

/// Stores in which a component runs.
pub trait HasSandbox: Send {
    fn sandbox(&mut self) -> &mut Sandbox;
}

/// A WASI view onto the sandbox, for `wasmtime_wasi::p2::add_to_linker_sync`.
pub struct SandboxOnly(pub Sandbox);

impl HasSandbox for SandboxOnly {
    fn sandbox(&mut self) -> &mut Sandbox {
        &mut self.0
    }
}

impl WasiView for SandboxOnly {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.0.wasi()
    }
}

/// Refuses memory growth beyond the limit and remembers that it did.
struct MemoryLimiter {
    limit: usize,
    exceeded: Option<usize>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = Some(desired);
            wasmtime::bail!(
                "memory growth to {desired} bytes is above the limit of {} bytes",
                self.limit
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million entries is far beyond any real
        // component and still only 8 MB.
        Ok(desired <= 1_000_000)
    }
}

/// The error chain of a trap on one line, without the WebAssembly backtrace.
pub fn summarise(error: &wasmtime::Error) -> String {
    let text = format!("{error:#}");
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| {
            let frame = line.split(':').next().is_some_and(|number| {
                !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
            });
            !line.is_empty()
                && !frame
                && !line.starts_with("wasm backtrace")
                && !line.starts_with("note:")
                && !line.starts_with("at ")
        })
        .collect();
    kept.join(" ")
}
