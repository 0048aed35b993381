//! Benchmark of the Rust host: hook calls for new and existing entries, against the
//! floor of the same LDAP operations issued directly with the ldap3 crate.
//!
//! Each hook call is followed by the matching floor call, so that both see the same
//! load on the machine and their ratio stays meaningful on a noisy one.
//! `bench/run.py` runs it against its throwaway slapd through `cargo bench`, with
//! LDAP_URL, LDAP_ADMIN_DN and LDAP_ADMIN_PASSWORD set, and reads the JSON it prints.
//! BENCH_CALLS sets the number of calls per measurement (default 300), and
//! BENCH_PREFIX a prefix for user names, so that several runs can share a directory.

use anyhow::{Context, Result, anyhow, bail};
use ldap_hooks::bindings::exports::ldap_hooks::hook::hook as wit;
use ldap_hooks::components::{Components, DEFAULT_HOOK, DEFAULT_RULES, Instance, Source};
use ldap_hooks::ldap::{Access, Directory};
use ldap_hooks::{cache, context, settings};
use ldap3::controls::{Control, ControlType, PostRead, PostReadResp};
use ldap3::{Ldap, LdapConnAsync, Mod, Scope, SearchEntry};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Instant;
use tokio::runtime::Runtime;

const CONFIG: &str = r#"
base_dn = "dc=example,dc=org"
submit_spawner_attribute = "user_options"
submit_spawner_attribute_keys = ["CERT"]
replace_object_with = { "/" = "+" }
object_classes = ["X-certsDistinguishedName", "posixAccount"]
object_attributes = { uid = "{name}", uidNumber = "{uidNumber}", gidNumber = "100", homeDirectory = "/home/{name}" }
dynamic_attributes = { name = "SPAWNER_USER_ATTRIBUTE", uidNumber = "LDAP_SEARCH_ATTRIBUTE_QUERY" }
search_attribute_queries = [
    { search_base = "dc=example,dc=org", search_filter = "(objectclass=x-nextUserIdentifier)", attributes = ["uidNumber"] },
]
search_result_operations = { uidNumber = { action = "1", modify_dn = "cn=uidNext,dc=example,dc=org" } }
set_spawner_attributes = { environment = { NB_USER = "{name}", NB_UID = "{uidNumber}" } }
"#;

fn main() -> Result<()> {
    let variable = |name: &str| {
        std::env::var(name).with_context(|| format!("{name} is not set; run bench/run.py"))
    };
    let url = variable("LDAP_URL")?;
    let admin = variable("LDAP_ADMIN_DN")?;
    let password = variable("LDAP_ADMIN_PASSWORD")?;
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(300);
    let prefix = std::env::var("BENCH_PREFIX").unwrap_or_default();

    let folder = std::env::temp_dir().join(format!("ldap-hooks-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let path = folder.join("bench.toml");
    std::fs::write(
        &path,
        format!(
            "url = \"{url}\"\nuser = \"{admin}\"\npassword_env = \"LDAP_ADMIN_PASSWORD\"\n{CONFIG}"
        ),
    )?;
    let settings = settings::load(&path)?;
    let _ = std::fs::remove_dir_all(&folder);

    let mut hook = HookRunner::start(&settings)?;
    let mut floor = Floor::connect(&url, &admin, &password)?;
    let contexts: Vec<wit::Context> = (0..calls)
        .map(|index| user_context(&format!("{prefix}rust{index}"), &settings))
        .collect::<Result<_>>()?;

    let mut rust = serde_json::Map::new();
    let mut direct = serde_json::Map::new();
    for (phase, new) in [("new", true), ("existing", false)] {
        let before = hook.instance.operations();
        let (mut hook_micros, mut floor_micros) =
            (Vec::with_capacity(calls), Vec::with_capacity(calls));
        for (index, context) in contexts.iter().enumerate() {
            let started = Instant::now();
            hook.run(context, new)?;
            hook_micros.push(started.elapsed().as_secs_f64() * 1e6);

            let started = Instant::now();
            floor.run(&format!("{prefix}floor{index}"), new)?;
            floor_micros.push(started.elapsed().as_secs_f64() * 1e6);
        }
        let operations = (hook.instance.operations() - before) as f64 / calls as f64;
        rust.insert(
            phase.to_string(),
            json!({"micros": hook_micros, "operations": operations}),
        );
        direct.insert(
            phase.to_string(),
            json!({"micros": floor_micros, "operations": if new { 4.0 } else { 1.0 }}),
        );
    }
    println!("{}", json!({"rust": rust, "floor": direct}));
    Ok(())
}

fn user_context(name: &str, settings: &settings::Settings) -> Result<wit::Context> {
    let spawner =
        json!({"user": {"name": name}, "user_options": {"CERT": format!("/C=DK/CN=Bench {name}")}});
    let Value::Object(spawner) = spawner else {
        bail!("a context is an object")
    };
    context::build(spawner, &settings.submit_path, None, None)
}

/// The hook component with its configuration handed over once.
struct HookRunner {
    instance: Instance,
    handle: u32,
}

impl HookRunner {
    fn start(settings: &settings::Settings) -> Result<HookRunner> {
        let hook = Source::Embedded("hook component", DEFAULT_HOOK);
        let rules = Source::Embedded("DN rules", DEFAULT_RULES);
        let folder = cache::default_folder();
        let components = Components::load(&hook, &rules, settings.limits, folder.as_deref())?;
        let directory = Directory::connect(&settings.connection, Access::ReadWrite)
            .map_err(|error| anyhow!("connecting failed: {}", error.message))?;
        let mut instance = components.instantiate(directory)?;
        let handle = instance
            .configure(&settings.hook)?
            .map_err(|error| anyhow!(error.message))?;

        // The first call reads the root DSE and the schema; the measured calls are warm.
        let warm = user_context(&format!("{}warm", std::process::id()), settings)?;
        instance
            .run_configured(handle, &warm)?
            .map_err(|error| anyhow!(error.message))?;
        Ok(HookRunner { instance, handle })
    }

    fn run(&mut self, context: &wit::Context, new: bool) -> Result<()> {
        let outcome = self
            .instance
            .run_configured(self.handle, context)?
            .map_err(|error| anyhow!(error.message))?;
        let expected = if new {
            wit::EntryStatus::Created
        } else {
            wit::EntryStatus::Found
        };
        if outcome.status != expected {
            bail!(
                "a hook call returned {:?} instead of {expected:?}",
                outcome.status
            );
        }
        Ok(())
    }
}

/// The same operations as a warm hook call with the increment method: the uniqueness
/// search, Modify-Increment with Post-Read, the add and the read-back for a new entry,
/// and the uniqueness search alone for an existing one.
struct Floor {
    runtime: Runtime,
    ldap: Ldap,
}

impl Floor {
    fn connect(url: &str, admin: &str, password: &str) -> Result<Floor> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let ldap = runtime.block_on(async {
            let (connection, mut ldap) = LdapConnAsync::new(url).await?;
            ldap3::drive!(connection);
            ldap.simple_bind(admin, password).await?.success()?;
            Ok::<_, ldap3::LdapError>(ldap)
        })?;
        Ok(Floor { runtime, ldap })
    }

    fn run(&mut self, name: &str, new: bool) -> Result<()> {
        let ldap = &mut self.ldap;
        self.runtime.block_on(async {
            let cn = format!("Bench {name}");
            let filter = format!(
                "(&(objectClass=X-certsDistinguishedName)(objectClass=posixAccount)(c=DK)(cn={cn}))"
            );
            let dn = format!("c=DK+cn={cn},dc=example,dc=org");
            let (found, _) = ldap
                .search("dc=example,dc=org", Scope::Subtree, &filter, vec!["*"])
                .await?
                .success()?;
            if !new {
                // The hook reads the attributes of the entry it finds, so the floor does too.
                let entries: Vec<SearchEntry> =
                    found.into_iter().map(SearchEntry::construct).collect();
                if entries.len() != 1 {
                    bail!("the floor found {} entries for {name}", entries.len());
                }
                return Ok(());
            }
            let counter = ldap
                .with_controls(PostRead::new(vec!["uidNumber"]))
                .modify(
                    "cn=uidNext,dc=example,dc=org",
                    vec![Mod::Increment("uidNumber", "1")],
                )
                .await?
                .success()?;
            let number = counter
                .ctrls
                .iter()
                .find_map(|Control(kind, raw)| match kind {
                    Some(ControlType::PostReadResp) => Some(raw.parse::<PostReadResp>()),
                    _ => None,
                })
                .and_then(|response| {
                    response
                        .attrs
                        .get("uidNumber")
                        .and_then(|values| values.first().cloned())
                })
                .context("no Post-Read value")?;
            let set = |value: &str| HashSet::from([value.to_string()]);
            let attributes = vec![
                (
                    "objectClass".to_string(),
                    HashSet::from([
                        "X-certsDistinguishedName".to_string(),
                        "posixAccount".to_string(),
                    ]),
                ),
                ("c".to_string(), set("DK")),
                ("cn".to_string(), set(&cn)),
                ("uid".to_string(), set(name)),
                ("uidNumber".to_string(), set(&number)),
                ("gidNumber".to_string(), set("100")),
                ("homeDirectory".to_string(), set(&format!("/home/{name}"))),
            ];
            ldap.add(&dn, attributes).await?.success()?;
            let (read, _) = ldap
                .search(&dn, Scope::Base, "(objectClass=*)", vec!["*"])
                .await?
                .success()?;
            if read.into_iter().map(SearchEntry::construct).count() != 1 {
                bail!("the floor did not read back {dn}");
            }
            Ok(())
        })
    }
}
