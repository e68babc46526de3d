//! `run` and `status`: wiring the daemon together from the configuration.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use std::collections::BTreeMap;

use crate::config::{ChannelKind, Config, ZendeskConfig};
use crate::engine::directory::load_directory;
use crate::engine::status::{open_tickets, render_table, TicketStatus};
use crate::engine::Engine;
use crate::store::{Store, StoreError};
use crate::zendesk::client::{Auth, ClientOptions, ZendeskClient};

fn secret(variable: &str, key: &str) -> anyhow::Result<String> {
    match std::env::var(variable) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_string()),
        _ => bail!("the environment variable {variable} (named by {key}) is not set"),
    }
}

/// The client's options, with the secret read from the environment.
pub fn client_options(z: &ZendeskConfig) -> anyhow::Result<ClientOptions> {
    let auth = match (&z.token_env, &z.oauth_token_env) {
        (Some(variable), _) => Auth::ApiToken {
            email: z.email.clone().unwrap_or_default(),
            token: secret(variable, "zendesk.token_env")?,
        },
        (None, Some(variable)) => Auth::Bearer(secret(variable, "zendesk.oauth_token_env")?),
        (None, None) => bail!("zendesk: no credentials configured"),
    };
    Ok(ClientOptions {
        base_url: z.base_url.clone(),
        auth,
        requests_per_minute: z.requests_per_minute,
        export_requests_per_minute: z.export_requests_per_minute,
        timeout: z.timeout,
        max_attempts: 5,
        backoff: std::time::Duration::from_secs(1),
        max_backoff: std::time::Duration::from_secs(60),
    })
}

/// Each alert channel's webhook URL, from the environment variable the configuration names.
pub fn channel_urls(config: &Config) -> anyhow::Result<BTreeMap<String, (ChannelKind, String)>> {
    config
        .notify
        .channels
        .iter()
        .map(|(name, channel)| {
            Ok((
                name.clone(),
                (channel.kind, secret(&channel.url_env, &format!("notify.channels.{name}.url_env"))?),
            ))
        })
        .collect()
}

/// The GitHub client, when `[escalation]` is configured (its token read from the environment).
pub(crate) fn github_client(config: &Config, clock: &Clock) -> anyhow::Result<Option<crate::github::client::GithubClient>> {
    let Some(escalation) = &config.escalation else { return Ok(None) };
    if escalation.rules.is_empty() {
        return Ok(None);
    }
    let options = crate::github::client::GithubOptions {
        api_url: escalation.api_url.clone(),
        token: secret(&escalation.token_env, "escalation.token_env")?,
        timeout: std::time::Duration::from_secs(30),
        max_attempts: 4,
        backoff: crate::retry::Backoff {
            first: std::time::Duration::from_secs(1),
            max: std::time::Duration::from_secs(60),
        },
    };
    let client = crate::github::client::GithubClient::new(options, clock.clone()).context("cannot build the GitHub client")?;
    Ok(Some(client))
}

/// Opens the store; while `slawatch status` holds it for a moment, waits (up to 10 s) rather
/// than refuse to start.
async fn open_store_waiting(config: &Config) -> Result<Store, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let rules = &config.policy.first_response;
        let read_comment = |body: &str| rules.read(body);
        match Store::open_migrating(&config.store.path, config.store.cache_bytes, &read_comment) {
            Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The clock: the system's, unless `SLAWATCH_TEST_CLOCK=<world start, Unix s>:<speed>` asks for
/// an accelerated one (for end-to-end tests of the real binary against simulators in world time).
fn clock_from_env() -> anyhow::Result<Clock> {
    let Ok(value) = std::env::var("SLAWATCH_TEST_CLOCK") else {
        return Ok(Clock::system());
    };
    let (start, speed) = value
        .split_once(':')
        .and_then(|(start, speed)| Some((start.parse::<i64>().ok()?, speed.parse::<f64>().ok()?)))
        .filter(|&(_, speed)| speed.is_finite() && speed > 0.0)
        .ok_or_else(|| anyhow!("SLAWATCH_TEST_CLOCK={value:?}: expected <unix seconds>:<speed>"))?;
    Ok(Clock::scaled(start, speed))
}

/// The daemon: polls until SIGTERM/SIGINT, serving the admin HTTP meanwhile. `once` returns when
/// current (or fails after `max_wait` naming what it waited for).
pub async fn run(config: Config, once: Option<std::time::Duration>, allow_mismatch: bool) -> anyhow::Result<()> {
    let zendesk = config
        .zendesk
        .clone()
        .ok_or_else(|| anyhow!("the configuration has no [zendesk] section: `run` needs one"))?;
    let options = client_options(&zendesk)?;
    let store = open_store_waiting(&config).await?;
    let clock = clock_from_env()?;
    let client = ZendeskClient::new(options, clock.clone()).context("cannot build the HTTP client")?;
    let admin = config.admin.listen;
    let admin_token = admin_token(&config)?;
    let channels = channel_urls(&config)?;
    let pagers = crate::engine::page::pagers_from_env(&config).map_err(anyhow::Error::msg)?;
    let github = github_client(&config, &clock)?;
    let shutdown = CancellationToken::new();
    let mut engine = Engine::new(config, client, store, clock)?
        .with_channels(channels)
        .with_pagers(pagers);
    if let Some(github) = github {
        engine = engine.with_github(github);
    }
    if let Some(lookup) = &engine.config.people.lookup {
        let token = secret(&lookup.bot_token_env, "slack.bot_token_env")?;
        let slack = crate::slack::SlackClient::new(&lookup.api_url, token, std::time::Duration::from_secs(10))
            .context("cannot build the Slack client")?;
        engine = engine.with_slack(slack);
    }
    // Push mode needs the admin listener, which `--once` does not open.
    if let (Some(webhook), None) = (&zendesk.webhook, once) {
        engine = engine.with_push(secret(&webhook.secret_env, "zendesk.webhook.secret_env")?);
    }
    let engine = Arc::new(engine.with_shutdown(shutdown.clone()));
    let flusher = engine.clone();
    super::watchdog::start(engine.liveness.clone(), move || {
        let _ = flusher.store.flush();
    })
    .context("cannot start the watchdog thread")?;
    let signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown asked; finishing in-flight work");
        super::watchdog::stopping();
        signal.cancel();
    });
    let server = if once.is_some() {
        None
    } else {
        let listener = tokio::net::TcpListener::bind(admin)
            .await
            .with_context(|| format!("admin.listen {admin}: cannot listen"))?;
        tracing::info!(address = %admin, "admin HTTP listening");
        for warning in engine.config.warnings() {
            tracing::warn!("{warning}");
        }
        Some(tokio::spawn(crate::admin::serve(
            listener,
            engine.clone(),
            admin_token,
            shutdown.clone(),
        )))
    };
    let check_limit = once.map_or(super::preflight::START_CHECK_LIMIT, |max_wait| {
        max_wait.min(super::preflight::START_CHECK_LIMIT)
    });
    super::preflight::at_start(&engine, allow_mismatch, check_limit).await?;
    super::watchdog::ready();
    let result = match once {
        Some(max_wait) => crate::engine::daemon::run_once(engine, max_wait).await,
        None => crate::engine::daemon::run(engine).await,
    };
    shutdown.cancel();
    if let Some(mut server) = server {
        // A client that never finishes its request must not hold the exit past SIGTERM's 10 s.
        if tokio::time::timeout(std::time::Duration::from_secs(2), &mut server).await.is_err() {
            server.abort();
        }
    }
    result.map_err(Into::into)
}

/// The admin token, when `admin.token_env` names one (required then).
fn admin_token(config: &Config) -> anyhow::Result<Option<String>> {
    config
        .admin
        .token_env
        .as_deref()
        .map(|variable| secret(variable, "admin.token_env"))
        .transpose()
}

/// Asks the store when it is here and free, else the running daemon that holds it (or serves
/// a store that is not here, as the demo's), at `path` of its admin HTTP. A store still locked
/// with no daemon answering (one that has just stopped lets go a moment later) is tried again
/// for a few seconds.
pub async fn from_store_or_daemon<T: serde::de::DeserializeOwned>(
    config: &Config,
    path: &str,
    local: impl Fn(&Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let url = format!("http://{}{path}", config.admin.listen);
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let mut locked = false;
        if config.store.path.exists() {
            let rules = &config.policy.first_response;
            let read_comment = |body: &str| rules.read(body);
            match Store::open_migrating(&config.store.path, config.store.cache_bytes, &read_comment) {
                Ok(store) => return local(&store),
                Err(StoreError::Locked { .. }) => locked = true,
                Err(other) => return Err(other.into()),
            }
        }
        let mut request = reqwest::Client::new().get(&url);
        if let Some(token) = admin_token(config)? {
            request = request.bearer_auth(token);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(_) if locked && std::time::Instant::now() < give_up => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
            Err(error) => {
                return Err(error).with_context(|| {
                    format!(
                        "no daemon answers at {url}, and the store {} is not here or is in use",
                        config.store.path.display()
                    )
                })
            }
        };
        if !response.status().is_success() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            bail!("{url}: HTTP {status}: {}", body.trim());
        }
        return response.json().await.with_context(|| format!("{url}: unreadable answer"));
    }
}

/// Open tickets by urgency: from the store, or from the running daemon.
pub async fn status(config: Config) -> anyhow::Result<Vec<TicketStatus>> {
    from_store_or_daemon(&config, "/status", |store| {
        let directory = load_directory(store)?;
        Ok(open_tickets(&config, store, &directory, clock_from_env()?.now())?)
    })
    .await
}

/// The last day's tickets that fell back to a default severity or tier: from the store, or
/// from the running daemon.
pub async fn drift(config: &Config) -> anyhow::Result<crate::engine::drift::Drift> {
    from_store_or_daemon(config, "/drift", |store| {
        let directory = load_directory(store)?;
        Ok(crate::engine::drift::measure(config, store, &directory, clock_from_env()?.now())?)
    })
    .await
}

/// The KPIs of each range (tickets created in `[from, to)`): from the store, or from the running
/// daemon. `rejudge`: judged again under today's policy, nothing written.
pub async fn reports(config: &Config, ranges: &[(i64, i64)], rejudge: bool) -> anyhow::Result<Vec<crate::kpi::Report>> {
    let list: Vec<String> = ranges.iter().map(|(from, to)| format!("{from}..{to}")).collect();
    let path = format!("/reports?ranges={}&rejudge={rejudge}", list.join(","));
    from_store_or_daemon(config, &path, |store| {
        warn_if_stale(config, store)?;
        Ok(crate::engine::kpis::reports(
            config,
            store,
            ranges,
            clock_from_env()?.now(),
            rejudge,
        )?)
    })
    .await
}

fn warn_if_stale(config: &Config, store: &Store) -> anyhow::Result<()> {
    if store.policy_fingerprint()?.as_deref() != Some(crate::engine::daemon::policy_fingerprint(config).as_str()) {
        eprintln!(
            "warning: the store's KPI rows were written under another configuration (or by an older slawatch): \
             the figures below may be stale; `slawatch run` brings them up to date at its start"
        );
    }
    Ok(())
}

/// The line `status` opens with when tickets of the last day fell back to a default (none
/// when none did).
pub fn drift_line(drift: &crate::engine::drift::Drift, config: &Config) -> String {
    if drift.fell_back == 0 {
        return String::new();
    }
    let verdict = match drift.degraded() {
        true => format!(
            "above the {:.0}% [admin] fallback_max: check `slawatch check-config --online`",
            drift.max_share * 100.0
        ),
        false => format!("within the {:.0}% [admin] fallback_max", drift.max_share * 100.0),
    };
    format!("Config drift: {} ({verdict}).\n\n", drift.summary_in(config.notify.time_zone))
}

pub fn print_status(rows: &[TicketStatus], json: bool) {
    if json {
        super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(rows).unwrap_or_default()));
    } else {
        super::write_stdout(&render_table(rows));
    }
}
