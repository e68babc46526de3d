//! `[people]`: who a Slack alert names. A ticket's assignee (by Zendesk user id or e-mail) maps
//! to a Slack member id, mentioned as `<@U…>` so Slack notifies that person; an unassigned
//! ticket's group maps to a Slack user group, mentioned as its handle (`<!subteam^S…>`), the
//! group's on-call. Without a mapping the message names the assignee in words, as before.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::Checker;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPeople {
    #[serde(default)]
    slack_users: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    slack_groups: BTreeMap<String, Spanned<String>>,
}

/// `[slack]`: the Web API, to find an agent's Slack member by their e-mail when `[people]`
/// does not map them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlack {
    bot_token_env: Option<String>,
    api_url: Option<Spanned<String>>,
}

/// Looking up Slack members by e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackLookup {
    /// The environment variable holding the bot token (`users:read.email` scope).
    pub bot_token_env: String,
    /// `https://slack.com/api`.
    pub api_url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleConfig {
    /// Looked up in Slack by e-mail, when configured: agents `[people]` does not name.
    pub lookup: Option<SlackLookup>,
    /// Zendesk user id → Slack member id.
    pub users_by_id: BTreeMap<u64, String>,
    /// Zendesk user e-mail (lower case) → Slack member id.
    pub users_by_email: BTreeMap<String, String>,
    /// Zendesk group id → Slack user group id.
    pub groups: BTreeMap<u64, String>,
}

impl PeopleConfig {
    /// The Slack member id of Zendesk user `id` (whose e-mail, if known, is `email`).
    pub fn slack_member(&self, id: u64, email: Option<&str>) -> Option<&str> {
        self.users_by_id
            .get(&id)
            .or_else(|| self.users_by_email.get(&email?.to_ascii_lowercase()))
            .map(String::as_str)
    }
}

/// A Slack id: `prefix` (one of), then upper-case letters and digits, as Slack writes them.
fn slack_id(value: &str, prefixes: &[char]) -> bool {
    value.len() >= 3 && value.starts_with(prefixes) && value.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl Checker<'_> {
    pub(super) fn people(&mut self, raw: Option<RawPeople>, slack: Option<RawSlack>) -> PeopleConfig {
        let mut people = PeopleConfig {
            lookup: slack.and_then(|slack| self.slack_lookup(slack)),
            ..PeopleConfig::default()
        };
        let Some(raw) = raw else { return people };
        for (who, member) in raw.slack_users {
            let key = format!("people.slack_users.{who}");
            if !slack_id(member.get_ref(), &['U', 'W']) {
                self.error(
                    member.span(),
                    &key,
                    format!(
                        "{:?} is not a Slack member id (U… or W…, as Slack's profile menu \"Copy member ID\" gives it)",
                        member.get_ref()
                    ),
                );
                continue;
            }
            let member_id = member.get_ref().clone();
            if let Ok(id) = who.parse::<u64>() {
                people.users_by_id.insert(id, member_id);
            } else if who.contains('@') && !who.contains(char::is_whitespace) {
                people.users_by_email.insert(who.to_ascii_lowercase(), member_id);
            } else {
                self.error(
                    member.span(),
                    &key,
                    format!("{who:?} is neither a Zendesk user id nor an e-mail address"),
                );
            }
        }
        for (group, handle) in raw.slack_groups {
            let key = format!("people.slack_groups.{group}");
            let Ok(id) = group.parse::<u64>() else {
                self.error(handle.span(), &key, format!("{group:?} is not a Zendesk group id (a number)"));
                continue;
            };
            if !slack_id(handle.get_ref(), &['S']) {
                self.error(
                    handle.span(),
                    &key,
                    format!("{:?} is not a Slack user group id (S…)", handle.get_ref()),
                );
                continue;
            }
            people.groups.insert(id, handle.get_ref().clone());
        }
        people
    }

    fn slack_lookup(&mut self, raw: RawSlack) -> Option<SlackLookup> {
        let api_url = match raw.api_url {
            Some(url) if !(url.get_ref().starts_with("https://") || url.get_ref().starts_with("http://")) => {
                self.error(url.span(), "slack.api_url", format!("{:?} is not an http(s) URL", url.get_ref()));
                return None;
            }
            Some(url) => url.into_inner(),
            None => "https://slack.com/api".to_string(),
        };
        let Some(bot_token_env) = raw.bot_token_env else {
            self.error(
                0..0,
                "slack.bot_token_env",
                "is required in [slack]: the environment variable holding the bot token",
            );
            return None;
        };
        Some(SlackLookup { bot_token_env, api_url })
    }
}
