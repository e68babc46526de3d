//! `slawatch test-alert --channel PAGER`: a test page to a pager channel (PagerDuty, Opsgenie),
//! at the lowest severity and about no ticket, then its resolve at once: an operator knows
//! before the first Severity 1 breach that the routing key (or API key) takes slawatch's pages.
//! Through the same requests and the same reading of the answer as every page; no store, no
//! outbox, no metric. The key is a secret: only the service's host is printed.

use std::path::Path;

use super::test_alert::{Origin, ACCEPTED, NOT_CONFIGURED, NOT_DELIVERED};
use crate::config::Config;
use crate::engine::page::{PageRequest, Pager};
use crate::engine::POST_TIMEOUT;
use crate::notify::post::{self, PostError};

/// Sends the test page to `channel` and resolves it, printing what happened; the exit status.
pub async fn run(config: &Config, config_path: Option<&Path>, channel: &str) -> u8 {
    let Some(settings) = config.notify.pagers.get(channel) else {
        return NOT_CONFIGURED;
    };
    let key = std::env::var(&settings.key_env).map(|k| k.trim().to_string()).unwrap_or_default();
    if key.is_empty() {
        eprintln!(
            "error: channel {channel}: the environment variable {} (named by notify.channels.{channel}.{}) is not set",
            settings.key_env, settings.key_name
        );
        return NOT_CONFIGURED;
    }
    let pager = Pager::new(settings.service, &settings.url, key);
    let service = pager.service.name();
    let host = reqwest::Url::parse(&pager.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| pager.url.clone());
    let origin = Origin::new(config, config_path, channel, crate::clock::Clock::system().now());
    let key = format!("slawatch-test/{}/{}", origin.host, origin.sent_at);
    let text = format!("slawatch test page (not an alert): {}", origin.text());
    crate::cli::write_stdout(&format!(
        "sending a test page to channel {channel} ({service}) at {host}, then resolving it (key {key})\n"
    ));
    let http = reqwest::Client::builder().timeout(POST_TIMEOUT).build().unwrap_or_default();
    let send = |request: PageRequest| {
        let http = http.clone();
        async move {
            post::post_with(
                &http,
                channel,
                &request.url,
                request.authorization.as_deref(),
                &request.body,
                POST_TIMEOUT,
                origin.sent_at,
            )
            .await
        }
    };
    if let Err(error) = send(pager.test(&key, &text)).await {
        eprintln!("{}", refusal(service, channel, &host, "the test page", &error));
        return NOT_DELIVERED;
    }
    crate::cli::write_stdout(&format!("{service} took the test page\n"));
    let resolved = match pager.resolve(&key, "slawatch test-alert") {
        Ok(request) => send(request).await,
        Err(error) => {
            eprintln!("error: channel {channel}: {error}");
            return NOT_CONFIGURED;
        }
    };
    match resolved {
        Ok(_) => {
            crate::cli::write_stdout(&format!(
                "{service} took its resolve: pages routed to {channel} will reach on-call, and resolve when the clock is met\n"
            ));
            ACCEPTED
        }
        Err(error) => {
            eprintln!(
                "{}\nthe test page is still open at {service}: resolve it there",
                refusal(service, channel, &host, "the resolve", &error)
            );
            NOT_DELIVERED
        }
    }
}

/// Why `what` did not go through, and what that means for pages.
fn refusal(service: &str, channel: &str, host: &str, what: &str, error: &PostError) -> String {
    let answered = error
        .answer
        .as_ref()
        .map(|a| {
            format!(
                "{service} answered HTTP {}: {}\n",
                a.status,
                a.body.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .unwrap_or_default();
    let verdict = if let Some(why) = &error.unreachable {
        format!("error: could not reach {host} ({why}): pages to {channel} would wait in the outbox and be retried")
    } else if error.permanent {
        format!("error: {service} refused {what} for good: pages to {channel} would be given up; check the key and the URL")
    } else {
        format!("error: {service} refused {what} for now (a transient failure): pages to {channel} would be retried")
    };
    format!("{answered}{verdict}")
}
