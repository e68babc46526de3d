//! `[zendesk.webhook]`: push mode. Zendesk posts each ticket change to the admin listener,
//! signed with the webhook's signing secret; slawatch reads that one ticket at once, and the
//! export polls stay the source of truth and the catch-up.

use serde::Deserialize;
use toml::Spanned;

use super::Checker;

/// Where Zendesk posts when `path` is left out.
pub const DEFAULT_WEBHOOK_PATH: &str = "/zendesk/webhook";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    secret_env: String,
    path: Option<Spanned<String>>,
    endpoint: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    queue: Option<Spanned<usize>>,
    readers: Option<Spanned<usize>>,
}

/// How Zendesk is told of ticket changes (what `webhook-setup` creates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookMode {
    /// A webhook subscribed to Zendesk's ticket events (`zen:event-type:ticket.*`).
    Events,
    /// A webhook connected to a trigger that fires on every ticket create and update.
    Trigger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The environment variable holding the webhook's signing secret.
    pub secret_env: String,
    /// The admin listener's path Zendesk posts to.
    pub path: String,
    /// The public URL Zendesk reaches that path at (a proxy in front of the admin listener,
    /// say); `webhook-setup` needs it.
    pub endpoint: Option<String>,
    pub mode: WebhookMode,
    /// At most this many tickets wait for their read; beyond, Zendesk is answered 429 and
    /// retries.
    pub queue: usize,
    /// Tickets read at once: a burst of changes waits for reads in turn, a round trip to
    /// Zendesk each.
    pub readers: usize,
}

/// Paths the admin listener already serves.
const ADMIN_PATHS: [&str; 7] = ["/", "/healthz", "/readyz", "/metrics", "/status", "/report", "/drift"];

impl Checker<'_> {
    pub(super) fn webhook(&mut self, raw: RawWebhook) -> WebhookConfig {
        let path = match raw.path {
            None => DEFAULT_WEBHOOK_PATH.to_string(),
            Some(path) => {
                let text = path.get_ref();
                if !text.starts_with('/') || text.contains(['?', '#', ' ']) || ADMIN_PATHS.contains(&text.as_str()) {
                    self.error(
                        path.span(),
                        "zendesk.webhook.path",
                        format!("{text:?} is not a path of its own such as \"{DEFAULT_WEBHOOK_PATH}\""),
                    );
                }
                path.into_inner()
            }
        };
        let endpoint = raw.endpoint.map(|endpoint| {
            let text = endpoint.get_ref().trim_end_matches('/');
            if !text.starts_with("https://") && !text.starts_with("http://") {
                self.error(
                    endpoint.span(),
                    "zendesk.webhook.endpoint",
                    format!("{text:?} is not an http(s) URL such as \"https://slawatch.example.com{DEFAULT_WEBHOOK_PATH}\""),
                );
            }
            text.to_string()
        });
        let mode = match raw.mode.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
            None | Some(("events", _)) => WebhookMode::Events,
            Some(("trigger", _)) => WebhookMode::Trigger,
            Some((other, span)) => {
                self.error(span, "zendesk.webhook.mode", format!("{other:?} is not \"events\" or \"trigger\""));
                WebhookMode::Events
            }
        };
        let queue = raw.queue.as_ref().map_or(10_000, |q| *q.get_ref());
        if !(1..=1_000_000).contains(&queue) {
            let span = raw.queue.as_ref().map_or(0..0, Spanned::span);
            self.error(span, "zendesk.webhook.queue", format!("{queue} is not between 1 and 1000000"));
        }
        let readers = raw.readers.as_ref().map_or(4, |r| *r.get_ref());
        if !(1..=32).contains(&readers) {
            let span = raw.readers.as_ref().map_or(0..0, Spanned::span);
            self.error(span, "zendesk.webhook.readers", format!("{readers} is not between 1 and 32"));
        }
        WebhookConfig {
            secret_env: raw.secret_env,
            path,
            endpoint,
            mode,
            queue,
            readers,
        }
    }
}
