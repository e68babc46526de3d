//! Reading what the account holds, for `check`: the adapter side of the preflight.

use super::{Account, GithubAccount, Login, RepositoryCheck};
use crate::config::Config;
use crate::github::client::{GithubClient, GithubError};
use crate::store::OrganizationRecord;
use crate::zendesk::client::{Pacing, ZendeskClient, ZendeskError};

/// Reads the account's ticket fields, organization fields, groups, the token's own user and
/// the configured bots; `organizations` are the directory's (listed by the caller, who has
/// them already when the daemon refreshes).
pub async fn gather(config: &Config, client: &ZendeskClient, organizations: Vec<OrganizationRecord>) -> Result<Account, ZendeskError> {
    let bots = &config.policy.first_response.bot_user_ids;
    let users_found = if bots.is_empty() {
        Vec::new()
    } else {
        client.users_by_id(bots, Pacing::Wait).await?.iter().map(|u| u.id).collect()
    };
    Ok(Account {
        url: config.zendesk.as_ref().map(|z| z.base_url.clone()).unwrap_or_default(),
        me: Some(client.me().await?),
        ticket_fields: client.ticket_fields().await?,
        organization_fields: client.organization_fields().await?,
        organizations,
        groups: client.groups().await?,
        users_found,
        github: None,
    })
}

/// What the GitHub token may do in each rule's repository, and the login it files as.
pub async fn gather_github(config: &Config, github: &GithubClient) -> Option<GithubAccount> {
    let escalation = config.escalation.as_ref()?;
    let login = match github.login().await {
        Ok(login) => Login::As(login),
        Err(e @ GithubError::Status { status: 401 | 403, .. }) => Login::Refused(e.to_string()),
        Err(e) => Login::Unreachable(e.to_string()),
    };
    let mut repositories: Vec<(String, RepositoryCheck)> = Vec::new();
    if matches!(login, Login::As(_)) {
        for rule in &escalation.rules {
            let name = rule.repository.to_string();
            if repositories.iter().any(|(repo, _)| *repo == name) {
                continue;
            }
            let check = match github.repository_access(&name).await {
                Ok(None) => RepositoryCheck::Missing,
                Ok(Some(access)) => match access.problem() {
                    None => RepositoryCheck::Files,
                    Some(why) => RepositoryCheck::Cannot(why),
                },
                Err(e) => RepositoryCheck::Unreachable(e.to_string()),
            };
            repositories.push((name, check));
        }
    }
    Some(GithubAccount { login, repositories })
}
