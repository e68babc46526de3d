//! `slawatch webhook-setup`: what push mode needs created in the Zendesk account. Without
//! `--apply` it prints the requests (an admin can send them, or read them first); with it, it
//! sends them, finding what an earlier run created rather than creating it twice, and checks
//! the signing secret the daemon will be given.

use anyhow::{anyhow, Context};
use serde_json::to_string_pretty;

use crate::clock::Clock;
use crate::config::{Config, WebhookMode};
use crate::zendesk::client::ZendeskClient;
use crate::zendesk::setup::{trigger_body, webhook_body};

/// What to set up: `[zendesk.webhook]` with its `endpoint`, or an error naming the key.
fn wanted(config: &Config) -> anyhow::Result<(&crate::config::ZendeskConfig, &crate::config::WebhookConfig, &str)> {
    let zendesk = config
        .zendesk
        .as_ref()
        .ok_or_else(|| anyhow!("the configuration has no [zendesk] section"))?;
    let webhook = zendesk
        .webhook
        .as_ref()
        .ok_or_else(|| anyhow!("the configuration has no [zendesk.webhook] section: push mode is off"))?;
    let endpoint = webhook.endpoint.as_deref().ok_or_else(|| {
        anyhow!(
            "zendesk.webhook.endpoint is not set: the public URL at which Zendesk reaches the admin listener's {}",
            webhook.path
        )
    })?;
    Ok((zendesk, webhook, endpoint))
}

/// Whether the configuration can be set up (checked before anything is asked of Zendesk).
pub fn check(config: &Config) -> anyhow::Result<()> {
    wanted(config).map(|_| ())
}

/// The requests, for a person to read or send.
pub fn plan(config: &Config) -> anyhow::Result<String> {
    let (zendesk, webhook, endpoint) = wanted(config)?;
    let mode = match webhook.mode {
        WebhookMode::Events => "events (the webhook subscribes to ticket events)",
        WebhookMode::Trigger => "trigger (a trigger posts every ticket created or changed)",
    };
    let mut text = format!(
        "# Push mode for {}, mode {mode}; `slawatch webhook-setup --apply` sends these.\n\nPOST {}/api/v2/webhooks\n{}\n",
        zendesk.base_url,
        zendesk.base_url,
        to_string_pretty(&webhook_body(endpoint, webhook.mode))?
    );
    if webhook.mode == WebhookMode::Trigger {
        text += &format!(
            "\n# With the new webhook's id:\nPOST {}/api/v2/triggers.json\n{}\n",
            zendesk.base_url,
            to_string_pretty(&trigger_body("WEBHOOK_ID"))?
        );
    }
    text += &format!(
        "\n# Then give the daemon the webhook's signing secret in {}:\nGET {}/api/v2/webhooks/WEBHOOK_ID/signing_secret\n",
        webhook.secret_env, zendesk.base_url
    );
    Ok(text)
}

/// Creates what is missing; says what it found, created, and whether the secret the daemon
/// would read matches.
pub async fn apply(config: &Config, print_secret: bool) -> anyhow::Result<String> {
    let (zendesk, webhook, endpoint) = wanted(config)?;
    let client = ZendeskClient::new(super::daemon::client_options(zendesk)?, Clock::system()).context("cannot build the HTTP client")?;
    let asked = |what: &str| format!("Zendesk ({}) refused or could not be asked to {what}", zendesk.base_url);
    let mut text = String::new();
    let id = match client.find_webhook(endpoint).await.with_context(|| asked("list its webhooks"))? {
        Some(id) => {
            text += &format!("webhook {id} to {endpoint}: there already\n");
            id
        }
        None => {
            let id = client
                .create_webhook(&webhook_body(endpoint, webhook.mode))
                .await
                .with_context(|| asked("create the webhook"))?;
            text += &format!("webhook {id} to {endpoint}: created\n");
            id
        }
    };
    if webhook.mode == WebhookMode::Trigger {
        if client.has_trigger().await.with_context(|| asked("list its triggers"))? {
            text += &format!("trigger \"{}\": there already\n", crate::zendesk::setup::NAME);
        } else {
            client
                .create_trigger(&trigger_body(&id))
                .await
                .with_context(|| asked("create the trigger"))?;
            text += &format!("trigger \"{}\": created\n", crate::zendesk::setup::NAME);
        }
    }
    let secret = client
        .webhook_signing_secret(&id)
        .await
        .with_context(|| asked("show the webhook's signing secret"))?;
    let variable = &webhook.secret_env;
    text += &match std::env::var(variable).ok().map(|v| v.trim().to_string()) {
        Some(given) if crate::admin::secret_matches(&given, &secret) => format!("{variable} holds the webhook's signing secret: ready\n"),
        Some(_) => {
            format!("{variable} does NOT hold the webhook's signing secret: every webhook would get 401 (--print-secret shows it)\n")
        }
        None => format!("{variable} is not set: set it to the webhook's signing secret (--print-secret shows it)\n"),
    };
    if print_secret {
        text += &format!("signing secret: {secret}\n");
    }
    Ok(text)
}
