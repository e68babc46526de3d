//! Who the config names: the token's own user (the exports need an admin), the bots whose
//! comments never count, the groups routes send by, and GitHub's login and repositories.

use super::suggest::{list, nearest};
use super::{Findings, Login, RepositoryCheck, Step};

pub(super) fn check(out: &mut Findings) {
    let account = out.account;
    if let Some(me) = &account.me {
        if me.role != "admin" {
            let key = match out.config.zendesk.as_ref().and_then(|z| z.token_env.as_deref()) {
                Some(_) => "token_env",
                None => "oauth_token_env",
            };
            out.mismatch(
                &[Step::Key("zendesk"), Step::Key(key)],
                format!(
                    "the token signs in as {} ({}), whose role is {:?}: Zendesk's incremental exports are for admins only",
                    me.email, me.id, me.role
                ),
            );
        }
    }
    for (i, id) in out.config.policy.first_response.bot_user_ids.iter().enumerate() {
        if !account.users_found.contains(id) {
            out.mismatch(
                &[Step::Key("first_response"), Step::Key("bot_user_ids"), Step::Index(i)],
                format!(
                    "{id} is not a user in {}: the bot's comments would count as first responses",
                    account.url
                ),
            );
        }
    }
    for (r, route) in out.config.notify.routes.iter().enumerate() {
        for (g, id) in route.groups.iter().enumerate() {
            if account.groups.iter().any(|group| group.id == *id && !group.deleted) {
                continue;
            }
            let live = || account.groups.iter().filter(|group| !group.deleted);
            let ids: Vec<(String, u64, &str)> = live().map(|group| (group.id.to_string(), group.id, group.name.as_str())).collect();
            let hint = match nearest(&id.to_string(), ids.iter().map(|(text, id, name)| (text.as_str(), (*id, *name)))) {
                Some((near, name)) => format!("did you mean {near} {name:?}?"),
                None => format!(
                    "its groups: {}",
                    list(live().map(|group| format!("{} {:?}", group.id, group.name)), 8)
                ),
            };
            out.mismatch(
                &[
                    Step::Key("notify"),
                    Step::Key("routes"),
                    Step::Index(r),
                    Step::Key("groups"),
                    Step::Index(g),
                ],
                format!("{id} is not a group in {}: the route would never match; {hint}", account.url),
            );
        }
    }
    github(out);
}

fn github(out: &mut Findings) {
    let (Some(escalation), Some(github)) = (&out.config.escalation, &out.account.github) else {
        return;
    };
    let path = [Step::Key("escalation"), Step::Key("token_env")];
    let login = match &github.login {
        Login::As(login) => login.clone(),
        Login::Refused(why) => {
            out.mismatch(&path, format!("GitHub ({}) refused the token: {why}", escalation.api_url));
            return;
        }
        Login::Unreachable(why) => {
            out.warning(&path, format!("GitHub ({}) could not be asked: {why}", escalation.api_url));
            return;
        }
    };
    for (i, rule) in escalation.rules.iter().enumerate() {
        let name = rule.repository.to_string();
        let Some((_, access)) = github.repositories.iter().find(|(repo, _)| *repo == name) else {
            continue;
        };
        let path = [Step::Key("escalation"), Step::Key("rules"), Step::Index(i), Step::Key("repository")];
        match access {
            RepositoryCheck::Files => {}
            RepositoryCheck::Missing => out.mismatch(&path, format!("{name} does not exist, or {login} cannot see it")),
            RepositoryCheck::Cannot(why) => out.mismatch(&path, format!("{login} cannot file issues in {name}: {why}")),
            RepositoryCheck::Unreachable(why) => out.warning(&path, format!("GitHub did not answer about {name}: {why}")),
        }
    }
}
