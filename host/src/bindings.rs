//! Host bindings generated from the WIT package in `wit/`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "entry-hook",
});

/// Bindings of the `dn-rule` world, whose exports the host forwards to the hook
/// component's `dn-rules` import.
pub mod rule {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "dn-rule",
    });
}
