//! Loading the hook and DN-rule components and calling the hook.
//!
//! The two components live in separate stores, each with its own fuel and memory
//! limit (see [`crate::sandbox`]). The host implements the hook component's
//! `dn-rules` import by forwarding each call to the rule component's export, which
//! links a site's own rule component without composing the binaries. Before
//! instantiation, each component's imports and exports are checked against its world,
//! so a wrong file gives a message that names what is missing.

use crate::bindings::exports::ldap_hooks::hook::hook as wit;
use crate::bindings::ldap_hooks::hook::{directory, dn_rules, logging};
use crate::bindings::{EntryHook, rule};
use crate::cache;
use crate::ldap::Directory;
use crate::sandbox::{HasSandbox, Limits, Sandbox, SandboxOnly};
use anyhow::{Context, Result, anyhow};
use std::path::{Path, PathBuf};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtxView, WasiView};

/// The hook component built from `guest/hook`.
pub const DEFAULT_HOOK: &[u8] = include_bytes!(env!("LDAP_HOOKS_HOOK_WASM"));
/// The default DN rules built from `guest/default-rules`.
pub const DEFAULT_RULES: &[u8] = include_bytes!(env!("LDAP_HOOKS_RULES_WASM"));

const PACKAGE: &str = "ldap-hooks:hook@0.1.0";
const HOOK_INTERFACE: &str = "ldap-hooks:hook/hook@0.1.0";
const RULES_INTERFACE: &str = "ldap-hooks:hook/dn-rules@0.1.0";
const HOOK_IMPORTS: [&str; 3] = [
    "ldap-hooks:hook/directory@0.1.0",
    "ldap-hooks:hook/logging@0.1.0",
    RULES_INTERFACE,
];

/// Converts wasmtime's error type into anyhow's, keeping the message chain.
pub fn wasm<T>(result: wasmtime::Result<T>) -> Result<T> {
    result.map_err(anyhow::Error::from)
}

/// The origin of a component, for loading and for messages.
#[derive(Debug, Clone)]
pub enum Source {
    Embedded(&'static str, &'static [u8]),
    File(PathBuf),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Embedded(name, _) => format!("the built-in {name}"),
            Source::File(path) => format!("the component {}", path.display()),
        }
    }

    fn bytes(&self) -> Result<std::borrow::Cow<'static, [u8]>> {
        match self {
            Source::Embedded(_, bytes) => Ok(std::borrow::Cow::Borrowed(bytes)),
            Source::File(path) => std::fs::read(path)
                .map(std::borrow::Cow::Owned)
                .with_context(|| format!("cannot read the component {}", path.display())),
        }
    }
}

/// The components, compiled, checked and ready to be instantiated.
pub struct Components {
    engine: Engine,
    hook: Component,
    hook_name: String,
    rules: Component,
    rules_name: String,
    rule_source: wit::RuleSource,
    limits: Limits,
}

impl Components {
    /// Compiles the components or loads them from the compile cache, and checks that
    /// each implements its world.
    pub fn load(
        hook: &Source,
        rules: &Source,
        limits: Limits,
        cache_folder: Option<&Path>,
    ) -> Result<Components> {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        let engine =
            wasm(Engine::new(&config)).context("cannot configure the WebAssembly engine")?;

        let hook_name = hook.name();
        let rules_name = rules.name();
        // The embedded rule component is the default rules, which the hook also
        // carries; using its copy saves a call into the other component.
        let rule_source = match rules {
            Source::Embedded(..) => wit::RuleSource::BuiltIn,
            Source::File(_) => wit::RuleSource::Linked,
        };
        let hook = cache::load(&engine, &hook.bytes()?, &hook_name, cache_folder)?;
        let rules = cache::load(&engine, &rules.bytes()?, &rules_name, cache_folder)?;
        check_world(
            &engine,
            &hook,
            &hook_name,
            "entry-hook",
            HOOK_INTERFACE,
            &HOOK_IMPORTS,
        )?;
        check_world(
            &engine,
            &rules,
            &rules_name,
            "dn-rule",
            RULES_INTERFACE,
            &[],
        )?;

        Ok(Components {
            engine,
            hook,
            hook_name,
            rules,
            rules_name,
            rule_source,
            limits,
        })
    }

    /// Instantiates both components with `directory` as the hook's directory.
    pub fn instantiate(&self, directory: Directory) -> Result<Instance> {
        let rules = self.instantiate_rules()?;

        let mut linker = Linker::<HookState>::new(&self.engine);
        wasm(wasmtime_wasi::p2::add_to_linker_sync(&mut linker)).context("linking WASI")?;
        wasm(EntryHook::add_to_linker::<HookState, HasSelf<HookState>>(
            &mut linker,
            |state| state,
        ))
        .context("linking the directory, logging and dn-rules imports")?;

        let state = HookState {
            sandbox: Sandbox::new(&self.limits),
            directory,
            rules,
        };
        let mut store = new_store(&self.engine, state, &self.limits)?;
        let hook = match EntryHook::instantiate(&mut store, &self.hook, &linker) {
            Ok(hook) => hook,
            Err(error) => {
                let reason =
                    store
                        .data_mut()
                        .sandbox()
                        .explain(&self.hook_name, &error, &self.limits);
                return Err(anyhow!("{reason} while starting up"));
            }
        };
        Ok(Instance {
            store,
            hook,
            hook_name: self.hook_name.clone(),
            rules_name: self.rules_name.clone(),
            rule_source: self.rule_source,
            limits: self.limits,
        })
    }

    fn instantiate_rules(&self) -> Result<RuleInstance> {
        let mut linker = Linker::<SandboxOnly>::new(&self.engine);
        wasm(wasmtime_wasi::p2::add_to_linker_sync(&mut linker)).context("linking WASI")?;
        let mut store = new_store(
            &self.engine,
            SandboxOnly(Sandbox::new(&self.limits)),
            &self.limits,
        )?;
        let rules = match rule::DnRule::instantiate(&mut store, &self.rules, &linker) {
            Ok(rules) => rules,
            Err(error) => {
                let reason =
                    store
                        .data_mut()
                        .sandbox()
                        .explain(&self.rules_name, &error, &self.limits);
                return Err(anyhow!("{reason} while starting up"));
            }
        };
        Ok(RuleInstance {
            store,
            rules,
            name: self.rules_name.clone(),
            limits: self.limits,
            broken: false,
        })
    }
}

/// Creates a store with the memory limiter and a first fuel budget, which
/// instantiation may spend on the component's initialisation.
fn new_store<T: HasSandbox + 'static>(
    engine: &Engine,
    state: T,
    limits: &Limits,
) -> Result<Store<T>> {
    let mut store = Store::new(engine, state);
    store.limiter(|state| state.sandbox().limiter());
    wasm(store.set_fuel(limits.fuel)).context("setting the fuel budget")?;
    Ok(store)
}

/// Checks that `component` exports `interface` and imports nothing beyond WASI and
/// `allowed`, before instantiation would fail with a less specific message.
fn check_world(
    engine: &Engine,
    component: &Component,
    name: &str,
    world: &str,
    interface: &str,
    allowed: &[&str],
) -> Result<()> {
    let component_type = component.component_type();
    let exports: Vec<String> = component_type
        .exports(engine)
        .map(|(export, _)| export.to_string())
        .collect();
    if !exports.iter().any(|export| export == interface) {
        return Err(anyhow!(
            "{name} does not implement the {world} world of {PACKAGE}: it does not export {interface} \
             (its exports: {}); build it against the WIT in wit/ for the world {world}",
            list(&exports)
        ));
    }
    let unexpected: Vec<String> = component_type
        .imports(engine)
        .map(|(import, _)| import.to_string())
        .filter(|import| !import.starts_with("wasi:") && !allowed.contains(&import.as_str()))
        .collect();
    if !unexpected.is_empty() {
        return Err(anyhow!(
            "{name} does not implement the {world} world of {PACKAGE}: it imports {}, which the host \
             does not provide",
            list(&unexpected)
        ));
    }
    Ok(())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// An instantiated hook with its rules and connection.
pub struct Instance {
    store: Store<HookState>,
    hook: EntryHook,
    hook_name: String,
    rules_name: String,
    rule_source: wit::RuleSource,
    limits: Limits,
}

impl Instance {
    /// Names the linked DN-rule component, for messages.
    pub fn rules_name(&self) -> &str {
        &self.rules_name
    }

    /// Returns the number of LDAP operations the connection has sent, binds included.
    pub fn operations(&self) -> u64 {
        self.store.data().directory.operations()
    }

    /// Calls one hook export with a fresh fuel budget, and turns a trap into a message
    /// that names the component.
    fn call<R>(
        &mut self,
        what: &str,
        call: impl FnOnce(&EntryHook, &mut Store<HookState>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        wasm(self.store.set_fuel(self.limits.fuel)).context("setting the fuel budget")?;
        let result = call(&self.hook, &mut self.store);
        let fuel_used = self
            .limits
            .fuel
            .saturating_sub(self.store.get_fuel().unwrap_or(0));
        tracing::debug!(component = %self.hook_name, fuel_used, "{what} returned");
        let sandbox = self.store.data_mut().sandbox();
        sandbox.log_stderr(&self.hook_name);
        result.map_err(|error| {
            let reason = sandbox.explain(&self.hook_name, &error, &self.limits);
            anyhow!("{reason} while {what}")
        })
    }

    pub fn run(
        &mut self,
        config: &wit::Config,
        context: &wit::Context,
    ) -> Result<Result<wit::Outcome, wit::HookError>> {
        self.call("running the hook", |hook, store| {
            hook.ldap_hooks_hook_hook().call_run(store, config, context)
        })
    }

    /// Hands the configuration to the instance once; see `run_configured`.
    pub fn configure(&mut self, config: &wit::Config) -> Result<Result<u32, wit::HookError>> {
        let rules = self.rule_source;
        self.call("checking the configuration", |hook, store| {
            hook.ldap_hooks_hook_hook()
                .call_configure(store, config, rules)
        })
    }

    /// Runs the hook with a configuration handed over by `configure`.
    pub fn run_configured(
        &mut self,
        handle: u32,
        context: &wit::Context,
    ) -> Result<Result<wit::Outcome, wit::HookError>> {
        self.call("running the hook", |hook, store| {
            hook.ldap_hooks_hook_hook()
                .call_run_configured(store, handle, context)
        })
    }

    pub fn plan(
        &mut self,
        config: &wit::Config,
        context: &wit::Context,
    ) -> Result<Result<wit::RunPlan, wit::HookError>> {
        self.call("planning", |hook, store| {
            hook.ldap_hooks_hook_hook()
                .call_plan(store, config, context)
        })
    }

    pub fn check(
        &mut self,
        config: &wit::Config,
    ) -> Result<Result<wit::CheckReport, wit::HookError>> {
        self.call("checking", |hook, store| {
            hook.ldap_hooks_hook_hook().call_check(store, config)
        })
    }

    /// Ends the instance and returns its connection.
    pub fn into_directory(self) -> Directory {
        self.store.into_data().directory
    }
}

/// The rule component in its own store.
struct RuleInstance {
    store: Store<SandboxOnly>,
    rules: rule::DnRule,
    name: String,
    limits: Limits,
    /// Set after a trap, after which the instance must not be entered again.
    broken: bool,
}

impl RuleInstance {
    fn parse(
        &mut self,
        submitted: &str,
        options: dn_rules::RuleOptions,
    ) -> Result<dn_rules::ParsedName, String> {
        if self.broken {
            return Err(format!(
                "{} failed earlier in this run and cannot be called again",
                self.name
            ));
        }
        if let Err(error) = self.store.set_fuel(self.limits.fuel) {
            return Err(format!(
                "{} could not get its fuel budget: {error}",
                self.name
            ));
        }
        let options = rule::exports::ldap_hooks::hook::dn_rules::RuleOptions {
            replacements: options.replacements,
            strip_chars: options.strip_chars,
        };
        let result =
            self.rules
                .ldap_hooks_hook_dn_rules()
                .call_parse(&mut self.store, submitted, &options);
        let sandbox = self.store.data_mut().sandbox();
        sandbox.log_stderr(&self.name);
        match result {
            Ok(Ok(parsed)) => Ok(convert_parsed(parsed)),
            Ok(Err(reason)) => Err(reason),
            Err(error) => {
                self.broken = true;
                Err(sandbox.explain(&self.name, &error, &self.limits))
            }
        }
    }
}

/// The store data of the hook component.
struct HookState {
    sandbox: Sandbox,
    directory: Directory,
    rules: RuleInstance,
}

impl HasSandbox for HookState {
    fn sandbox(&mut self) -> &mut Sandbox {
        &mut self.sandbox
    }
}

impl WasiView for HookState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.sandbox.wasi()
    }
}

impl directory::Host for HookState {
    fn search(
        &mut self,
        base: String,
        scope: directory::Scope,
        filter: String,
        attributes: Vec<String>,
    ) -> Result<Vec<directory::Entry>, directory::LdapError> {
        self.directory.search(&base, scope, &filter, &attributes)
    }

    fn add(
        &mut self,
        dn: String,
        attributes: Vec<directory::Attribute>,
        controls: directory::RequestControls,
    ) -> Result<Option<directory::Entry>, directory::LdapError> {
        self.directory.add(&dn, &attributes, &controls)
    }

    fn modify(
        &mut self,
        dn: String,
        changes: Vec<directory::Change>,
        controls: directory::RequestControls,
    ) -> Result<Option<directory::Entry>, directory::LdapError> {
        self.directory.modify(&dn, &changes, &controls)
    }
}

impl logging::Host for HookState {
    fn log(&mut self, level: logging::Level, message: String) {
        match level {
            logging::Level::Error => tracing::error!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Warn => tracing::warn!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Info => tracing::info!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Debug => tracing::debug!(target: "ldap_hooks::component", "{message}"),
            logging::Level::Trace => tracing::trace!(target: "ldap_hooks::component", "{message}"),
        }
    }

    fn enabled(&mut self, level: logging::Level) -> bool {
        match level {
            logging::Level::Error => {
                tracing::enabled!(target: "ldap_hooks::component", tracing::Level::ERROR)
            }
            logging::Level::Warn => {
                tracing::enabled!(target: "ldap_hooks::component", tracing::Level::WARN)
            }
            logging::Level::Info => {
                tracing::enabled!(target: "ldap_hooks::component", tracing::Level::INFO)
            }
            logging::Level::Debug => {
                tracing::enabled!(target: "ldap_hooks::component", tracing::Level::DEBUG)
            }
            logging::Level::Trace => {
                tracing::enabled!(target: "ldap_hooks::component", tracing::Level::TRACE)
            }
        }
    }
}

impl dn_rules::Host for HookState {
    fn parse(
        &mut self,
        submitted: String,
        options: dn_rules::RuleOptions,
    ) -> Result<dn_rules::ParsedName, String> {
        self.rules.parse(&submitted, options)
    }
}

fn convert_parsed(
    parsed: rule::exports::ldap_hooks::hook::dn_rules::ParsedName,
) -> dn_rules::ParsedName {
    let pairs = |pairs: Vec<rule::exports::ldap_hooks::hook::dn_rules::AttributeValue>| {
        pairs
            .into_iter()
            .map(|pair| dn_rules::AttributeValue {
                attribute: pair.attribute,
                value: pair.value,
            })
            .collect::<Vec<_>>()
    };
    dn_rules::ParsedName {
        rdn: pairs(parsed.rdn),
        parent: parsed.parent.into_iter().map(pairs).collect(),
        template_values: pairs(parsed.template_values),
    }
}
