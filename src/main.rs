/// jemalloc: glibc's allocator spent half of ingestion in malloc and free (docs/PERFORMANCE.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use slawatch::cli;
use slawatch::config::Config;
use slawatch::engine::EngineError;

/// SLA clocks, breach warnings and engineering escalation for a support team on Zendesk.
#[derive(Parser)]
#[command(name = "slawatch", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct ConfigArg {
    /// The TOML configuration file; without it, the built-in defaults (SPEC §2).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// The whole product against a simulated Zendesk and Slack, in accelerated time: no credentials needed.
    Demo {
        /// World time per real second: 3600 is one hour a second.
        #[arg(long, default_value_t = 3600.0)]
        speed: f64,
        /// Where the admin HTTP listens; `slawatch status` asks here.
        #[arg(long, default_value = "127.0.0.1:9187")]
        admin: std::net::SocketAddr,
        /// Stop after this much world time (e.g. 4d); without it, run until Ctrl-C.
        #[arg(long, value_name = "DURATION")]
        run_for: Option<String>,
    },
    /// Run the daemon: poll Zendesk, keep every ticket's clocks current, serve the admin HTTP.
    Run {
        #[command(flatten)]
        config: ConfigArg,
        /// Poll until the exports are current, bring every clock up to date, and exit.
        #[arg(long)]
        once: bool,
        /// With --once: how long to try to make the exports current before exiting 3, naming
        /// what it waited for (`10m`, `90s`, `1h`).
        #[arg(long, value_name = "DURATION", requires = "once")]
        max_wait: Option<String>,
        /// Log as JSON lines instead of human-readable text (or `[log] format = "json"`).
        #[arg(long)]
        json_logs: bool,
        /// Start even when the config names a field, value, group or user the account lacks
        /// (tickets it touches then get default targets; /readyz says so).
        #[arg(long)]
        allow_mismatch: bool,
    },
    /// Open tickets by urgency: tier, severity, each clock's state, deadline and time left.
    Status {
        #[command(flatten)]
        config: ConfigArg,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The support team's KPIs for tickets created in a month, a quarter or a range, from the
    /// store (or the running daemon that holds it). A finished ticket's figures are frozen:
    /// they do not move when the policy or directory changes, unless --rejudge is given.
    Report {
        #[command(flatten)]
        config: ConfigArg,
        /// A calendar month in [report] time_zone: 2026-11.
        #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["from", "to", "quarter"])]
        month: Option<String>,
        /// A quarter of the fiscal year ([report] fiscal_year_start), month by month beside its
        /// total: 2026-Q4 (or FY2026-Q4; a fiscal year is named for the year it ends in).
        #[arg(long, value_name = "YYYY-QN", conflicts_with_all = ["from", "to"])]
        quarter: Option<String>,
        /// The range's start: a date (midnight in [report] time_zone) or an RFC 3339 instant.
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// The range's end, exclusive.
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// A baseline to show each KPI's change against: a month (2026-10), a quarter
        /// (2026-Q3) or a range (2026-07-01..2026-10-01).
        #[arg(long, value_name = "PERIOD")]
        compare_to: Option<String>,
        /// Each organization's vitals, most at risk first (CSV: one row a customer).
        #[arg(long)]
        by_customer: bool,
        /// Judge the period's tickets again under today's policy and directory, on purpose;
        /// nothing is written, and the output says so.
        #[arg(long)]
        rejudge: bool,
        /// md (tables), json, or csv (metric,value rows; a quarter or a comparison: one column a
        /// period; --by-customer: one row a customer).
        #[arg(long, default_value = "md")]
        format: slawatch::kpi::format::Format,
    },
    /// Validate the configuration and print the resolved schedules and policies; with --online,
    /// also check every field, value, group and user it names against the live account.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
        /// Read the account (credentials from the environment, as for `run`) and name each
        /// config line that does not match it: exit 2 on a mismatch, 1 when it cannot be asked.
        #[arg(long)]
        online: bool,
    },
    /// Write a starter config from the live account: its severity dropdown, its deployment field,
    /// its business-hours schedules (credentials from the environment, as for `run`); then check
    /// it as `check-config --online` does.
    Init {
        /// The account: https://acme.zendesk.com, acme.zendesk.com or acme.
        #[arg(long, value_name = "URL")]
        zendesk: String,
        /// The e-mail of the user the API token belongs to (an admin: the exports need one).
        #[arg(long, required_unless_present = "oauth_token_env")]
        email: Option<String>,
        /// The environment variable holding the API token; the config names it, never the token.
        #[arg(long, value_name = "VAR", default_value = "ZENDESK_API_TOKEN")]
        token_env: String,
        /// The environment variable holding an OAuth access token, instead of --email and a token.
        #[arg(long, value_name = "VAR", conflicts_with = "email")]
        oauth_token_env: Option<String>,
        /// Where to write the config; `-` for standard output.
        #[arg(long, short = 'o', value_name = "FILE", default_value = "slawatch.toml")]
        output: PathBuf,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
        /// Take the guesses init is sure of without asking (the others are written commented
        /// out); needed when standard input is not a terminal.
        #[arg(long)]
        yes: bool,
    },
    /// Post a test message (marked as a test, about no ticket) to one alert channel and print
    /// what it answered: exit 0 accepted, 1 refused or unreachable, 2 no such channel or no URL.
    TestAlert {
        #[command(flatten)]
        config: ConfigArg,
        /// The channel's name in [notify.channels].
        #[arg(long)]
        channel: String,
    },
    /// Print what push mode needs created in Zendesk ([zendesk.webhook]: a webhook to its
    /// endpoint, and in trigger mode a trigger); with --apply, create what is missing and check
    /// the signing secret the daemon reads.
    WebhookSetup {
        #[command(flatten)]
        config: ConfigArg,
        /// Create the webhook (and trigger) through Zendesk's API (credentials as for `run`).
        #[arg(long)]
        apply: bool,
        /// With --apply, also print the webhook's signing secret.
        #[arg(long, requires = "apply")]
        print_secret: bool,
    },
    /// Rewrite the store's file with only its live data, with the daemon stopped: gives back the
    /// space sled's log keeps (see `slawatch_store_size_bytes`).
    CompactStore(ConfigArg),
    /// Print the instant by which a duration of schedule time has passed.
    Deadline {
        #[command(flatten)]
        config: ConfigArg,
        /// Schedule name (`24x7` is the calendar clock).
        #[arg(long)]
        schedule: String,
        /// Start, RFC 3339 (e.g. 2026-12-01T09:00:00-08:00).
        #[arg(long, required_unless_present = "batch")]
        from: Option<String>,
        /// Schedule time to add: 90s, 45m, 24h, 1h30m, 3d (= 72h), 1w (= 168h).
        #[arg(long, required_unless_present = "batch")]
        duration: Option<String>,
        /// Read `FROM DURATION` lines on stdin, answer one line each.
        #[arg(long, conflicts_with_all = ["from", "duration"])]
        batch: bool,
    },
    /// Print the schedule time between two instants, in whole seconds.
    Elapsed {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        schedule: String,
        #[arg(long, required_unless_present = "batch")]
        from: Option<String>,
        #[arg(long, required_unless_present = "batch")]
        to: Option<String>,
        /// Read `FROM TO` lines on stdin, answer one line each.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        batch: bool,
    },
}

/// Exit status for bad configuration or arguments.
const USAGE: u8 = 2;
/// `run --once` could not do everything due (make the exports current, deliver the alerts, file
/// and sync the issues) within `--max-wait`.
const OWED: u8 = 3;

fn load(arg: &ConfigArg) -> Result<Config, ExitCode> {
    match &arg.config {
        None => Ok(Config::defaults()),
        Some(path) => Config::load(path).map_err(|errors| {
            eprintln!("{errors}");
            ExitCode::from(USAGE)
        }),
    }
}

/// Logs to stderr; `RUST_LOG`, when set, wins over `level`.
fn init_logs(json: bool, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Demo { speed, admin, run_for } => {
            let run_for = match run_for.as_deref().map(slawatch::sla::time::Duration::parse).transpose() {
                Ok(d) => d.map(|d| std::time::Duration::from_secs(d.0 as u64)),
                Err(e) => {
                    eprintln!("error: --run-for: {e}");
                    return ExitCode::from(USAGE);
                }
            };
            if !(speed.is_finite() && *speed > 0.0) {
                eprintln!("error: --speed must be a positive number");
                return ExitCode::from(USAGE);
            }
            if std::env::var_os("RUST_LOG").is_some() {
                init_logs(false, "info");
            }
            let options = slawatch::demo::DemoOptions {
                speed: *speed,
                admin: *admin,
                run_for,
            };
            Ok(report(runtime().block_on(slawatch::demo::run(options))))
        }
        Command::Run {
            config,
            once,
            max_wait,
            json_logs,
            allow_mismatch,
        } => {
            let max_wait = match max_wait.as_deref().map(slawatch::sla::time::Duration::parse).transpose() {
                Ok(d) => d.map_or(slawatch::engine::daemon::DEFAULT_MAX_WAIT, |d| {
                    std::time::Duration::from_secs(d.0.max(0) as u64)
                }),
                Err(e) => {
                    eprintln!("error: --max-wait: {e}");
                    return ExitCode::from(USAGE);
                }
            };
            load(config).map(|c| {
                init_logs(*json_logs || c.log.json, &c.log.level);
                let once = once.then_some(max_wait);
                let result = runtime().block_on(cli::daemon::run(c, once, *allow_mismatch));
                if let Some(mismatch) = result.as_ref().err().and_then(|e| e.downcast_ref::<cli::preflight::Mismatch>()) {
                    eprintln!("error: {mismatch}");
                    return ExitCode::from(USAGE);
                }
                let owed = result
                    .as_ref()
                    .err()
                    .and_then(|e| e.downcast_ref::<EngineError>())
                    .is_some_and(|e| matches!(e, EngineError::Owed { .. }));
                if owed {
                    let _ = report(result);
                    return ExitCode::from(OWED);
                }
                report(result)
            })
        }
        Command::Status { config, json } => load(config).map(|c| {
            let runtime = runtime();
            // Tickets on default targets because of the config come first: their rows below
            // may be on the wrong clock.
            if !*json {
                if let Ok(drift) = runtime.block_on(cli::daemon::drift(&c)) {
                    cli::write_stdout(&cli::daemon::drift_line(&drift, &c));
                }
            }
            report(
                runtime
                    .block_on(cli::daemon::status(c))
                    .map(|rows| cli::daemon::print_status(&rows, *json)),
            )
        }),
        Command::Report {
            config,
            month,
            quarter,
            from,
            to,
            compare_to,
            by_customer,
            rejudge,
            format,
        } => load(config).and_then(|c| {
            let request = cli::report::Request {
                month: month.as_deref(),
                quarter: quarter.as_deref(),
                from: from.as_deref(),
                to: to.as_deref(),
                compare_to: compare_to.as_deref(),
                by_customer: *by_customer,
                rejudge: *rejudge,
                format: *format,
            };
            let periods = cli::report::periods(&c, &request).map_err(|e| {
                eprintln!("error: {e}");
                ExitCode::from(USAGE)
            })?;
            Ok(report(
                runtime()
                    .block_on(cli::report::run(&c, &request, periods))
                    .map(|text| cli::write_stdout(&text)),
            ))
        }),
        Command::CheckConfig { config: arg, online } => load(arg).map(|config| {
            let text = slawatch::config::describe::describe(&config, arg.config.as_deref())
                + &slawatch::config::describe::describe_ingest(&config);
            cli::write_stdout(&text);
            for warning in config.warnings() {
                eprintln!("warning: {warning}");
            }
            if !*online {
                return ExitCode::SUCCESS;
            }
            match runtime().block_on(cli::preflight::online(&config)) {
                Ok(found) => {
                    cli::write_stdout(&format!("\n# Against the account\n{}", found.text));
                    if found.mismatch {
                        ExitCode::from(USAGE)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(error) => report(Err(error)),
            }
        }),
        Command::Init {
            zendesk,
            email,
            token_env,
            oauth_token_env,
            output,
            force,
            yes,
        } => {
            let options = cli::init::InitOptions {
                zendesk: zendesk.clone(),
                email: email.clone(),
                token_env: token_env.clone(),
                oauth_token_env: oauth_token_env.clone(),
                output: output.clone(),
                force: *force,
                yes: *yes,
            };
            Ok(ExitCode::from(runtime().block_on(cli::init::run(&options))))
        }
        Command::TestAlert { config, channel } => {
            load(config).map(|c| ExitCode::from(runtime().block_on(cli::test_alert::run(&c, config.config.as_deref(), channel))))
        }
        Command::WebhookSetup {
            config,
            apply,
            print_secret,
        } => load(config).map(|c| {
            if let Err(error) = cli::webhook_setup::check(&c) {
                eprintln!("error: {error}");
                return ExitCode::from(USAGE);
            }
            let text = if *apply {
                runtime().block_on(cli::webhook_setup::apply(&c, *print_secret))
            } else {
                cli::webhook_setup::plan(&c)
            };
            report(text.map(|text| cli::write_stdout(&text)))
        }),
        Command::CompactStore(arg) => load(arg).map(|c| {
            // Its steps and warnings (an old store left beside the new one) go to the log.
            init_logs(c.log.json, &c.log.level);
            report(
                slawatch::store::rewrite(&c.store.path, c.store.cache_bytes)
                    .map_err(Into::into)
                    .map(|done| {
                        let mb = |bytes: u64| bytes as f64 / 1e6;
                        cli::write_stdout(&format!(
                            "store {}: {} keys rewritten, {:.1} MB on disk before, {:.1} MB after\n",
                            c.store.path.display(),
                            done.keys,
                            mb(done.bytes_before),
                            mb(done.bytes_after)
                        ));
                    }),
            )
        }),
        Command::Deadline {
            config,
            schedule,
            from,
            duration,
            batch,
        } => load(config).map(|c| {
            cli::calc::run(
                &c,
                schedule,
                cli::calc::Question::Deadline,
                from.as_deref(),
                duration.as_deref(),
                *batch,
            )
        }),
        Command::Elapsed {
            config,
            schedule,
            from,
            to,
            batch,
        } => load(config).map(|c| cli::calc::run(&c, schedule, cli::calc::Question::Elapsed, from.as_deref(), to.as_deref(), *batch)),
    };
    result.unwrap_or_else(|code| code)
}
