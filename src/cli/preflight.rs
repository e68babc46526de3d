//! `check-config --online`, and `run`'s check at start: the config against the live account.

use anyhow::{anyhow, Context};

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::Engine;
use crate::preflight::{has_mismatch, Finding, Level, Login, RepositoryCheck};
use crate::store::OrganizationRecord;
use crate::zendesk::client::{ExportStart, ZendeskClient, ZendeskError};

/// `run` refused to start: the config names what the account lacks.
#[derive(Debug, thiserror::Error)]
#[error(
    "the config does not match the Zendesk account; refusing to start (fix the lines below, or start with --allow-mismatch):\n{}",
    .0.iter().filter(|f| f.blocks_start()).map(ToString::to_string).collect::<Vec<_>>().join("\n")
)]
pub struct Mismatch(pub Vec<Finding>);

/// What `check-config --online` prints, and whether it found a mismatch.
pub struct Online {
    pub text: String,
    pub mismatch: bool,
}

/// Reads the account (and GitHub, with escalation) and checks every reference in the config.
pub async fn online(config: &Config) -> anyhow::Result<Online> {
    let zendesk = config
        .zendesk
        .as_ref()
        .ok_or_else(|| anyhow!("the configuration has no [zendesk] section: nothing to check online"))?;
    let clock = Clock::system();
    let client = ZendeskClient::new(super::daemon::client_options(zendesk)?, clock.clone()).context("cannot build the HTTP client")?;
    let unreachable = |e: ZendeskError| anyhow!("Zendesk ({}) could not be asked: {e}", zendesk.base_url);
    let organizations: Vec<OrganizationRecord> = client
        .organizations()
        .await
        .map_err(unreachable)?
        .into_iter()
        .map(crate::engine::directory::organization_record)
        .collect();
    let mut account = crate::preflight::gather(config, &client, organizations)
        .await
        .map_err(unreachable)?;
    let mut text = String::new();
    if let Some(me) = &account.me {
        text += &format!(
            "Zendesk {}: signed in as {} <{}> (user {}, {}); {} ticket fields, {} organization fields, {} organizations, {} groups\n",
            zendesk.base_url,
            me.name,
            me.email,
            me.id,
            me.role,
            account.ticket_fields.len(),
            account.organization_fields.len(),
            account.organizations.len(),
            account.groups.len()
        );
    }
    // The role says what the exports need; one request says whether they answer (a custom role
    // may differ). It costs one of the 10 export requests a minute.
    let mut extra = Vec::new();
    let probe = ExportStart::StartTime(clock.now() - 3600);
    match client.ticket_page(&probe, 1).await {
        Ok(_) => text += "Zendesk: the token reads the incremental exports\n",
        Err(ZendeskError::Status {
            status: 401 | 403, body, ..
        }) => extra.push(Finding {
            level: Level::Mismatch,
            at: config.source.at(&[crate::config::locate::Step::Key("zendesk")]),
            key: "zendesk".to_string(),
            message: format!("the token may not read the incremental exports (Zendesk answered: {body})"),
        }),
        Err(e) => text += &format!("Zendesk: the exports could not be tried: {e}\n"),
    }
    if let Some(github) = super::daemon::github_client(config, &clock)? {
        account.github = crate::preflight::gather_github(config, &github).await;
        if let Some(g) = &account.github {
            let api = config.escalation.as_ref().map_or("", |e| e.api_url.as_str());
            match &g.login {
                Login::As(login) => {
                    let repos: Vec<String> = g
                        .repositories
                        .iter()
                        .filter(|(_, check)| *check == RepositoryCheck::Files)
                        .map(|(repo, _)| repo.clone())
                        .collect();
                    text += &format!(
                        "GitHub {api}: files as {login}{}\n",
                        if repos.is_empty() {
                            String::new()
                        } else {
                            format!("; can file in {}", repos.join(", "))
                        }
                    );
                }
                Login::Refused(_) | Login::Unreachable(_) => {}
            }
        }
    }
    let mut findings = crate::preflight::check(config, &account);
    findings.splice(0..0, extra);
    for finding in &findings {
        text += &format!("{finding}\n");
    }
    let mismatches = findings.iter().filter(|f| f.level == Level::Mismatch).count();
    let warnings = findings.len() - mismatches;
    text += &match (mismatches, warnings) {
        (0, 0) => "the config matches the account\n".to_string(),
        (0, w) => format!("the config matches the account, with {w} warning(s)\n"),
        (m, w) => {
            format!("{m} mismatch(es), {w} warning(s): `slawatch run` refuses to start until they are fixed (or with --allow-mismatch)\n")
        }
    };
    Ok(Online {
        text,
        mismatch: has_mismatch(&findings),
    })
}

/// How long `run`'s check at start may wait on Zendesk (a rate limit, a slow answer) before
/// the daemon starts without it: alerts already due must not wait behind it.
pub const START_CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// `run`'s check at start: lists the directory and checks the config against the account,
/// waiting on Zendesk no longer than `limit`. A mismatch refuses the start unless
/// `allow_mismatch`; an account that cannot be asked in time does not (the check runs again
/// after each directory refresh).
pub async fn at_start(engine: &Engine, allow_mismatch: bool, limit: std::time::Duration) -> anyhow::Result<()> {
    engine.client.set_deadline(Some(crate::retry::due_ms(engine.clock.now_ms(), limit)));
    let listed = engine.refresh_directory(true).await;
    engine.client.set_deadline(None);
    if let Err(error) = listed {
        if !error.is_cancelled() {
            tracing::warn!(%error, "could not check the config against the account at start; it is checked after each directory refresh");
        }
        return Ok(());
    }
    match engine.preflight_findings() {
        None => tracing::warn!("could not check the config against the account at start; it is checked after each directory refresh"),
        Some(findings) if findings.iter().any(Finding::blocks_start) => {
            if !allow_mismatch {
                return Err(Mismatch(findings).into());
            }
            tracing::error!("starting with config mismatches (--allow-mismatch): tickets they touch get default targets");
        }
        Some(findings) if has_mismatch(&findings) => {
            tracing::error!("the config's escalation or report settings do not match the accounts: see /readyz or `check-config --online`")
        }
        Some(_) => {}
    }
    Ok(())
}
