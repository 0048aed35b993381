//! `ldap-hooks`: makes sure a user's LDAP entry exists, outside JupyterHub.
//!
//! The binary runs the same hook and DN-rule components as the Python package. It
//! reads a TOML configuration and a JSON context, connects once, runs the hook and
//! prints JSON. Exit codes: 0 on success, 1 when the hook or the directory fails, 2
//! for usage and configuration errors.

use anyhow::{Context, Result, anyhow};
use clap::{Args, Parser, Subcommand};
use ldap_hooks::bindings::exports::ldap_hooks::hook::hook as wit;
use ldap_hooks::components::{self, Components, DEFAULT_HOOK, DEFAULT_RULES, Source};
use ldap_hooks::ldap::{Access, Directory};
use ldap_hooks::{batch, cache, context, report, settings};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ldap-hooks",
    version,
    about = "Make sure a user's LDAP entry exists, allocating numbers from counter entries."
)]
struct Cli {
    /// Log level of ldap-hooks messages on standard error: error, warn, info, debug or trace.
    /// The LDAP_HOOKS_LOG environment variable takes a tracing filter instead.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find or create the user's entry and print the outcome as JSON.
    Run(RunArgs),
    /// Print what `run` would search, allocate and write, without writing.
    Plan(RunArgs),
    /// Check the connection, the bind, the schema and the counters.
    Check(ComponentArgs),
    /// Run the hook for every context of a JSON-lines file, several at a time, and
    /// print one JSON line per context.
    Batch(BatchArgs),
}

#[derive(Args)]
struct BatchArgs {
    #[command(flatten)]
    components: ComponentArgs,

    /// File with one JSON context per line, or - for standard input.
    #[arg(long, value_name = "FILE")]
    contexts: String,

    /// How many contexts run at once, each worker with its own connection.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
}

#[derive(Args)]
struct ComponentArgs {
    /// The TOML configuration file.
    #[arg(short, long)]
    config: PathBuf,

    /// A DN-rule component (world dn-rule) instead of the built-in rules.
    #[arg(long, value_name = "PATH")]
    rules: Option<PathBuf>,

    /// A hook component (world entry-hook) instead of the built-in hook.
    #[arg(long, value_name = "PATH")]
    hook: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    components: ComponentArgs,

    /// JSON file with the spawn context, or - for standard input.
    #[arg(long, value_name = "FILE")]
    context: Option<String>,

    /// The user name; overrides user.name of the context.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,

    /// The submitted name, such as "/CN=Jane Doe"; overrides submit_spawner_attribute.
    #[arg(long, value_name = "TEXT")]
    submitted: Option<String>,
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    fn usage(error: anyhow::Error) -> Self {
        Failure { code: 2, error }
    }

    fn hook(error: anyhow::Error) -> Self {
        Failure { code: 1, error }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_level);

    match execute(cli.command) {
        // Batch prints its lines as it goes and returns nothing more.
        Ok(serde_json::Value::Null) => ExitCode::SUCCESS,
        Ok(output) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&output).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("ldap-hooks: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

fn init_logging(level: &str) {
    // The level applies to ldap-hooks' own messages; libraries such as Cranelift only
    // report warnings unless LDAP_HOOKS_LOG asks for more.
    let filter = std::env::var("LDAP_HOOKS_LOG")
        .ok()
        .and_then(|filter| tracing_subscriber::EnvFilter::try_new(filter).ok())
        .or_else(|| tracing_subscriber::EnvFilter::try_new(format!("warn,ldap_hooks={level}")).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn execute(command: Command) -> Result<serde_json::Value, Failure> {
    match command {
        Command::Batch(args) => batch(args),
        Command::Run(args) => {
            let (settings, context) = prepare(&args)?;
            let mut instance = open(&args.components, &settings, Access::ReadWrite)?;
            let instance_rules = instance.rules_name().to_string();
            let result = instance
                .run(&settings.hook, &context)
                .map_err(Failure::hook)?;
            finish(instance);
            result
                .map(|outcome| report::outcome(&outcome))
                .map_err(|error| hook_failure(error, &instance_rules))
        }
        Command::Plan(args) => {
            let (settings, context) = prepare(&args)?;
            let mut instance = open(&args.components, &settings, Access::ReadOnly)?;
            let instance_rules = instance.rules_name().to_string();
            let result = instance
                .plan(&settings.hook, &context)
                .map_err(Failure::hook)?;
            finish(instance);
            result
                .map(|plan| report::plan(&plan))
                .map_err(|error| hook_failure(error, &instance_rules))
        }
        Command::Check(args) => {
            let settings = load_settings(&args)?;
            let mut instance = open(&args, &settings, Access::ReadOnly)?;
            let instance_rules = instance.rules_name().to_string();
            let result = instance.check(&settings.hook).map_err(Failure::hook)?;
            finish(instance);
            let bind = if settings.connection.user.is_empty() {
                "anonymous".to_string()
            } else {
                settings.connection.user.clone()
            };
            result
                .map(|report| report::check(&report, &settings.connection.url, &bind))
                .map_err(|error| hook_failure(error, &instance_rules))
        }
    }
}

/// Runs `batch`: prints each line as it finishes and fails when any context failed.
fn batch(args: BatchArgs) -> Result<serde_json::Value, Failure> {
    let settings = load_settings(&args.components)?;
    let text = read_input(&args.contexts).map_err(Failure::usage)?;
    let mut contexts = Vec::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
    {
        let spawner = match serde_json::from_str(line) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) | Err(_) => {
                return Err(Failure::usage(anyhow!(
                    "line {} of {} is not a JSON object; give one context object per line",
                    number + 1,
                    args.contexts
                )));
            }
        };
        let context = context::build(spawner, &settings.submit_path, None, None)
            .with_context(|| format!("line {} of {}", number + 1, args.contexts))
            .map_err(Failure::usage)?;
        contexts.push(context);
    }

    let components = load_components(&args.components, &settings)?;
    let total = contexts.len();
    let failed = batch::run(
        &components,
        &settings,
        &contexts,
        usize::from(args.concurrency),
        |line| {
            println!("{line}");
        },
    );
    if failed > 0 {
        return Err(Failure::hook(anyhow!(
            "{failed} of {total} contexts failed; see their lines above"
        )));
    }
    tracing::info!(contexts = total, "all contexts succeeded");
    Ok(serde_json::Value::Null)
}

fn load_settings(args: &ComponentArgs) -> Result<settings::Settings, Failure> {
    settings::load(&args.config).map_err(Failure::usage)
}

fn prepare(args: &RunArgs) -> Result<(settings::Settings, wit::Context), Failure> {
    let settings = load_settings(&args.components)?;
    let spawner = match &args.context {
        Some(source) => read_context(source).map_err(Failure::usage)?,
        None => serde_json::Map::new(),
    };
    let context = context::build(
        spawner,
        &settings.submit_path,
        args.user.as_deref(),
        args.submitted.as_deref(),
    )
    .map_err(Failure::usage)?;
    Ok((settings, context))
}

/// Reads a file, or standard input for `-`.
fn read_input(source: &str) -> Result<String> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(source).with_context(|| format!("cannot read the file {source}"))
    }
}

fn read_context(source: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    let text = read_input(source)?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(anyhow!("the context in {source} must be a JSON object")),
        Err(error) => Err(anyhow!(
            "the context in {source} is not valid JSON: {error}"
        )),
    }
}

/// Logs how many LDAP operations the run sent and closes the connection.
fn finish(instance: components::Instance) {
    let directory = instance.into_directory();
    tracing::debug!(
        server = directory.url(),
        operations = directory.operations(),
        "closing the connection"
    );
    directory.close();
}

/// Loads the components that the arguments and the configuration name.
fn load_components(
    args: &ComponentArgs,
    settings: &settings::Settings,
) -> Result<Components, Failure> {
    let hook = match args
        .hook
        .clone()
        .or_else(|| settings.hook_component.clone())
    {
        Some(path) => Source::File(path),
        None => Source::Embedded("hook component", DEFAULT_HOOK),
    };
    let rules = match args
        .rules
        .clone()
        .or_else(|| settings.rules_component.clone())
    {
        Some(path) => Source::File(path),
        None => Source::Embedded("DN rules", DEFAULT_RULES),
    };
    let cache_folder = cache::default_folder();
    Components::load(&hook, &rules, settings.limits, cache_folder.as_deref())
        .map_err(Failure::usage)
}

/// Loads the components, connects and binds, and instantiates the hook.
fn open(
    args: &ComponentArgs,
    settings: &settings::Settings,
    access: Access,
) -> Result<components::Instance, Failure> {
    let components = load_components(args, settings)?;
    let directory = Directory::connect(&settings.connection, access).map_err(|error| {
        Failure::hook(anyhow!(
            "connecting to {} failed: {} ({}): {}",
            settings.connection.url,
            error.name,
            error.code,
            error.message
        ))
    })?;
    components.instantiate(directory).map_err(Failure::hook)
}

fn hook_failure(error: wit::HookError, rules: &str) -> Failure {
    let code = match error.kind {
        wit::ErrorKind::InvalidConfig => 2,
        _ => 1,
    };
    // The hook cannot know which rule component the host linked, so the host names it.
    let message = match error.kind {
        wit::ErrorKind::RuleRejected => format!("{} ({rules})", error.message),
        _ => error.message,
    };
    Failure {
        code,
        error: anyhow!(message),
    }
}
