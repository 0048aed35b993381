//! The hook component (world `entry-hook`): converts between the WIT types and
//! [`ldap_hooks_core`], whose [`flow`](ldap_hooks_core::flow) makes every decision,
//! and implements the core's service traits on the component's imports.
//!
//! A host may keep one instance for many calls. The instance then keeps the schema
//! of each server it has read, so warm calls skip the two schema searches.

wit_bindgen::generate!({
    path: "../../wit",
    world: "entry-hook",
});

// Natively the allocator is only exercised by its tests.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod allocator;
mod convert;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: allocator::SmallBlocks = allocator::SmallBlocks::new();

use exports::ldap_hooks::hook::hook::{
    CheckReport, Config, Context, Guest, HookError, Outcome, RuleSource, RunPlan,
};
use ldap_hooks::hook::{directory, dn_rules, logging};
use ldap_hooks_core::config;
use ldap_hooks_core::error::HookError as CoreError;
use ldap_hooks_core::flow::{self, ServerCache, Services};
use ldap_hooks_core::services;
use ldap_hooks_core::types;
use std::cell::RefCell;

/// The maximum number of configurations that `configure` keeps; a host needs one per configuration.
const MAX_CONFIGURATIONS: usize = 64;

thread_local! {
    static SERVERS: RefCell<ServerCache> = RefCell::new(ServerCache::default());
    static CONFIGURATIONS: RefCell<Vec<(config::Config, RuleSource)>> = const { RefCell::new(Vec::new()) };
}

struct Hook;

impl Guest for Hook {
    fn run(config: Config, context: Context) -> Result<Outcome, HookError> {
        with_services(&mut ImportedRules, |services, cache| {
            flow::run(
                convert::config(config),
                convert::context(context),
                services,
                cache,
            )
        })
        .map(convert::outcome)
        .map_err(convert::error)
    }

    fn configure(config: Config, rules: RuleSource) -> Result<u32, HookError> {
        let config = config::validate(convert::config(config))
            .map_err(|reason| convert::error(CoreError::config(reason)))?;
        CONFIGURATIONS.with(|configurations| {
            let mut configurations = configurations.borrow_mut();
            if configurations.len() == MAX_CONFIGURATIONS {
                return Err(convert::error(CoreError::config(format!(
                    "this instance already keeps {MAX_CONFIGURATIONS} configurations; create a new instance"
                ))));
            }
            configurations.push((config, rules));
            Ok((configurations.len() - 1) as u32)
        })
    }

    fn run_configured(handle: u32, context: Context) -> Result<Outcome, HookError> {
        CONFIGURATIONS.with(|configurations| {
            let configurations = configurations.borrow();
            let Some((config, rules)) = configurations.get(handle as usize) else {
                return Err(convert::error(CoreError::config(format!(
                    "no configuration has the handle {handle}; call configure first"
                ))));
            };
            let context = convert::context(context);
            match rules {
                RuleSource::Linked => with_services(&mut ImportedRules, |services, cache| {
                    flow::run_with(config, context, services, cache)
                }),
                RuleSource::BuiltIn => with_services(&mut BuiltInRules, |services, cache| {
                    flow::run_with(config, context, services, cache)
                }),
            }
            .map(convert::outcome)
            .map_err(convert::error)
        })
    }

    fn plan(config: Config, context: Context) -> Result<RunPlan, HookError> {
        with_services(&mut ImportedRules, |services, cache| {
            flow::plan(
                convert::config(config),
                convert::context(context),
                services,
                cache,
            )
        })
        .map(convert::plan)
        .map_err(convert::error)
    }

    fn check(config: Config) -> Result<CheckReport, HookError> {
        with_services(&mut ImportedRules, |services, cache| {
            flow::check(convert::config(config), services, cache)
        })
        .map(convert::check_report)
        .map_err(convert::error)
    }
}

fn with_services<T>(
    rules: &mut dyn services::Rules,
    call: impl FnOnce(Services<'_>, &mut ServerCache) -> T,
) -> T {
    let mut directory = ImportedDirectory;
    let mut log = ImportedLog;
    let services = Services {
        directory: &mut directory,
        rules,
        log: &mut log,
    };
    SERVERS.with(|cache| call(services, &mut cache.borrow_mut()))
}

/// The host's `directory` import.
struct ImportedDirectory;

impl services::Directory for ImportedDirectory {
    fn search(
        &mut self,
        base: &str,
        scope: types::Scope,
        filter: &str,
        attributes: &[String],
    ) -> Result<Vec<types::Entry>, types::LdapError> {
        directory::search(base, convert::scope(scope), filter, attributes)
            .map(|entries| entries.into_iter().map(convert::entry_from_wit).collect())
            .map_err(convert::ldap_error_from_wit)
    }

    fn add(
        &mut self,
        dn: &str,
        attributes: &[types::Attribute],
        controls: &types::RequestControls,
    ) -> Result<Option<types::Entry>, types::LdapError> {
        let attributes: Vec<directory::Attribute> =
            attributes.iter().map(convert::attribute_to_wit).collect();
        directory::add(dn, &attributes, &convert::controls(controls))
            .map(|entry| entry.map(convert::entry_from_wit))
            .map_err(convert::ldap_error_from_wit)
    }

    fn modify(
        &mut self,
        dn: &str,
        changes: &[types::Change],
        controls: &types::RequestControls,
    ) -> Result<Option<types::Entry>, types::LdapError> {
        let changes: Vec<directory::Change> = changes.iter().map(convert::change).collect();
        directory::modify(dn, &changes, &convert::controls(controls))
            .map(|entry| entry.map(convert::entry_from_wit))
            .map_err(convert::ldap_error_from_wit)
    }
}

/// The linked DN-rule component.
struct ImportedRules;

impl services::Rules for ImportedRules {
    fn parse(
        &mut self,
        submitted: &str,
        options: &types::RuleOptions,
    ) -> Result<types::ParsedName, String> {
        let options = dn_rules::RuleOptions {
            replacements: options.replacements.clone(),
            strip_chars: options.strip_chars.clone(),
        };
        dn_rules::parse(submitted, &options).map(convert::parsed_name)
    }
}

/// The default rules compiled into the hook, for hosts that link the default rule
/// component anyway: the same code without the call into another component.
struct BuiltInRules;

impl services::Rules for BuiltInRules {
    fn parse(
        &mut self,
        submitted: &str,
        options: &types::RuleOptions,
    ) -> Result<types::ParsedName, String> {
        ldap_hooks_core::rules::parse(submitted, options)
    }
}

/// The host's `logging` import.
struct ImportedLog;

impl services::Logger for ImportedLog {
    fn log(&mut self, level: types::Level, message: &str) {
        logging::log(convert::level(level), message);
    }

    fn enabled(&mut self, level: types::Level) -> bool {
        logging::enabled(convert::level(level))
    }
}

export!(Hook);
