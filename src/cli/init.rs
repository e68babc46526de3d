//! `slawatch init --zendesk URL`: reads what the account holds (ticket fields, organization
//! fields and organizations, groups, agents, business-hours schedules), proposes the severity
//! field, the tier field and the self-hosted tier's schedule, asks to confirm them on a
//! terminal (`--yes` takes the sure ones), writes a commented starter config, and checks it
//! against the account as `check-config --online` does. Secrets stay in the environment: the
//! file names the variables.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};

use crate::clock::Clock;
use crate::config::Config;
use crate::preflight::starter::{self, Choices, Credentials, Plan, Snapshot};
use crate::zendesk::client::{ZendeskClient, ZendeskError};

/// Exit status: written, and it matches the account.
pub const WRITTEN: u8 = 0;
/// Exit status: the account could not be read, or the file not written.
pub const FAILED: u8 = 1;
/// Exit status: refused before asking anything (no terminal and no `--yes`, a file in the way,
/// missing credentials), or written but the check found a mismatch.
pub const REFUSED: u8 = 2;

/// What `init` was asked.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The account: `https://acme.zendesk.com`, `acme.zendesk.com` or `acme`.
    pub zendesk: String,
    pub email: Option<String>,
    /// The variable holding the API token (with `email`).
    pub token_env: String,
    /// The variable holding an OAuth token instead.
    pub oauth_token_env: Option<String>,
    /// `-`: standard output.
    pub output: PathBuf,
    pub force: bool,
    pub yes: bool,
}

/// The account's URL from what was typed: a URL as is, a host over https, a bare subdomain
/// as Zendesk's.
pub fn account_url(typed: &str) -> String {
    let typed = typed.trim().trim_end_matches('/');
    if typed.contains("://") {
        typed.to_string()
    } else if typed.contains('.') || typed.contains(':') {
        format!("https://{typed}")
    } else {
        format!("https://{typed}.zendesk.com")
    }
}

fn to_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

pub async fn run(options: &InitOptions) -> u8 {
    let interactive = std::io::stdin().is_terminal();
    if !options.yes && !interactive {
        eprintln!(
            "error: init asks to confirm its guesses on a terminal, and standard input is not one: pass --yes to \
             take the guesses it is sure of (the others are written commented out, with the candidates)"
        );
        return REFUSED;
    }
    if !to_stdout(&options.output) && options.output.exists() && !options.force {
        eprintln!(
            "error: {} exists: pass --force to overwrite it, or --output another file",
            options.output.display()
        );
        return REFUSED;
    }
    let credentials = match (&options.oauth_token_env, &options.email) {
        (Some(variable), _) => Credentials::OAuth {
            token_env: variable.clone(),
        },
        (None, Some(email)) => Credentials::ApiToken {
            email: email.clone(),
            token_env: options.token_env.clone(),
        },
        (None, None) => {
            eprintln!(
                "error: an API token needs the e-mail of the user it belongs to: pass --email (or --oauth-token-env for an OAuth token)"
            );
            return REFUSED;
        }
    };
    let url = account_url(&options.zendesk);
    let client = match client(&url, &credentials) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error:#}");
            return REFUSED;
        }
    };
    // What is said goes where the config does not.
    let mut say: Box<dyn Write> = if to_stdout(&options.output) {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let snapshot = match read_account(&client, &url).await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            eprintln!("error: Zendesk ({url}) could not be read: {error}");
            return FAILED;
        }
    };
    let _ = writeln!(say, "{}", summary(&snapshot));
    let plan = Plan::new(&snapshot);
    let choices = if options.yes {
        Choices::guessed(&plan)
    } else {
        let stdin = std::io::stdin();
        confirm(&plan, &mut stdin.lock(), &mut std::io::stderr())
    };
    let today = chrono::DateTime::from_timestamp(Clock::system().now(), 0)
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let text = starter::render(&snapshot, &plan, &choices, &credentials, today);
    let name = if to_stdout(&options.output) {
        "<stdout>".to_string()
    } else {
        options.output.display().to_string()
    };
    let config = match Config::parse(&name, &text) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("error: the config init wrote does not parse (a bug in slawatch; nothing was written):\n{errors}");
            return FAILED;
        }
    };
    if let Err(error) = write(&options.output, &text, options.force) {
        eprintln!("error: {error:#}");
        return FAILED;
    }
    let _ = writeln!(say, "{}", decisions(&plan, &choices));
    let _ = writeln!(
        say,
        "Wrote {name}. Checking it against the account, as `slawatch check-config --online` does:"
    );
    match super::preflight::online(&config).await {
        Ok(found) => {
            let _ = write!(say, "{}", found.text);
            if found.mismatch {
                return REFUSED;
            }
            let file = if to_stdout(&options.output) { "FILE".to_string() } else { name };
            let _ = writeln!(
                say,
                "Next: check the lines marked \"guessed\", add an alert channel to [notify] and try it with \
                 `slawatch test-alert --config {file} --channel NAME`, then start with `slawatch run --config {file}`."
            );
            WRITTEN
        }
        Err(error) => {
            eprintln!("error: written, but the check could not run: {error:#}");
            FAILED
        }
    }
}

/// A client for the account, through the same [zendesk] section (and checks) the written
/// config will have.
fn client(url: &str, credentials: &Credentials) -> anyhow::Result<ZendeskClient> {
    let auth = match credentials {
        Credentials::ApiToken { email, token_env } => format!(
            "email = {}\ntoken_env = {}\n",
            toml::Value::String(email.clone()),
            toml::Value::String(token_env.clone())
        ),
        Credentials::OAuth { token_env } => format!("oauth_token_env = {}\n", toml::Value::String(token_env.clone())),
    };
    let section = format!("[zendesk]\nurl = {}\n{auth}", toml::Value::String(url.to_string()));
    let config = Config::parse("--zendesk", &section).map_err(|e| anyhow!("{e}"))?;
    let zendesk = config.zendesk.ok_or_else(|| anyhow!("no account given"))?;
    let options = super::daemon::client_options(&zendesk)?;
    ZendeskClient::new(options, Clock::system()).context("cannot build the HTTP client")
}

async fn read_account(client: &ZendeskClient, url: &str) -> Result<Snapshot, ZendeskError> {
    // Who the token is first: a refused token fails here, before a dozen reads.
    let me = client.me().await?;
    let organizations = client
        .organizations()
        .await?
        .into_iter()
        .map(crate::engine::directory::organization_record)
        .collect();
    Ok(Snapshot {
        url: url.to_string(),
        me: Some(me),
        ticket_fields: client.ticket_fields().await?,
        organization_fields: client.organization_fields().await?,
        organizations,
        groups: client.groups().await?,
        agents: client.agents().await?,
        schedules: client.schedules().await?,
    })
}

fn summary(snapshot: &Snapshot) -> String {
    let who = snapshot
        .me
        .as_ref()
        .map(|me| format!(" as {} <{}> ({})", me.name, me.email, me.role))
        .unwrap_or_default();
    let schedules = match &snapshot.schedules {
        Some(s) => format!("{} business-hours schedule(s)", s.len()),
        None => "no business hours on its plan".to_string(),
    };
    format!(
        "Read {}{who}: {} ticket fields, {} organization fields, {} organizations, {} groups, {} agents, {schedules}.",
        snapshot.url,
        snapshot.ticket_fields.len(),
        snapshot.organization_fields.len(),
        snapshot.organizations.len(),
        snapshot.groups.iter().filter(|g| !g.deleted).count(),
        snapshot.agents.len(),
    )
}

fn severity_line(c: &starter::SeverityCandidate) -> String {
    let mapped: Vec<String> = c
        .options
        .iter()
        .map(|o| match &o.severity {
            Some(s) => format!("{} → {s}", o.value),
            None => format!("{} unmapped", o.value),
        })
        .collect();
    format!("ticket field {} {:?} ({})", c.field_id, c.title, mapped.join(", "))
}

fn tier_line(c: &starter::TierCandidate) -> String {
    let mapped: Vec<String> = c
        .values
        .iter()
        .map(|v| match v.tier {
            Some(t) => format!("{} → {t}", v.value),
            None => format!("{} unmapped", v.value),
        })
        .collect();
    let values = if mapped.is_empty() {
        "no values yet".to_string()
    } else {
        mapped.join(", ")
    };
    format!("organization field {:?} {:?} ({values})", c.key, c.title)
}

fn schedule_line(s: &starter::Converted) -> String {
    format!(
        "{:?} (Zendesk's {:?}, {})",
        s.name,
        s.zendesk_name,
        s.zone.as_deref().unwrap_or(&s.zendesk_zone)
    )
}

/// What was taken, one line each.
fn decisions(plan: &Plan, choices: &Choices) -> String {
    let mut out = Vec::new();
    out.push(match choices.severity.and_then(|i| plan.severity.get(i)) {
        Some(c) => format!("severity: {}", severity_line(c)),
        None if plan.severity.is_empty() => "severity: no dropdown looks like one; from tags and priority only".to_string(),
        None => format!(
            "severity: not read from a field; the candidate {} is in the file, commented out",
            severity_line(&plan.severity[0])
        ),
    });
    out.push(match choices.tier.and_then(|i| plan.tier.get(i)) {
        Some(c) => format!("tier: {}", tier_line(c)),
        None if plan.tier.is_empty() => {
            "tier: no organization field looks like a deployment; every customer on the default tier".to_string()
        }
        None => format!(
            "tier: not read from a field; the candidate {} is in the file, commented out",
            tier_line(&plan.tier[0])
        ),
    });
    let usable = plan.usable_schedules();
    out.push(match choices.schedule.and_then(|i| usable.get(i)) {
        Some(s) => format!("self-hosted tier's clock: {}", schedule_line(s)),
        None => "self-hosted tier's clock: slawatch's default schedule (Mon-Fri 09:00-17:00, Los Angeles)".to_string(),
    });
    if !plan.bots.is_empty() {
        out.push(format!(
            "bots: {} agent(s) look like one, listed in the file for [first_response] bot_user_ids",
            plan.bots.len()
        ));
    }
    out.join("\n")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    /// A candidate by its number (1-based, as listed).
    Pick(usize),
}

/// Asks until the answer is one of: empty (the default), y, n, or a number from 1 to `count`.
/// The end of input takes the default.
fn ask(input: &mut dyn BufRead, prompt: &mut dyn Write, question: &str, default: Answer, count: usize) -> Answer {
    for _ in 0..5 {
        let _ = write!(prompt, "{question} ");
        let _ = prompt.flush();
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(prompt);
                return default;
            }
            Ok(_) => {}
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "" => return default,
            "y" | "yes" => return Answer::Yes,
            "n" | "no" => return Answer::No,
            number => match number.parse::<usize>() {
                Ok(n) if (1..=count).contains(&n) => return Answer::Pick(n),
                _ => {
                    let _ = writeln!(prompt, "  y, n, or a number from 1 to {count}");
                }
            },
        }
    }
    default
}

/// The guesses, each confirmed (or another candidate picked) on the terminal.
fn confirm(plan: &Plan, input: &mut dyn BufRead, prompt: &mut dyn Write) -> Choices {
    let guessed = Choices::guessed(plan);
    let mut choices = Choices {
        confirmed: true,
        ..guessed
    };
    if !plan.severity.is_empty() {
        let _ = writeln!(prompt, "\nWhich ticket field holds the severity? Candidates:");
        for (i, c) in plan.severity.iter().enumerate() {
            let _ = writeln!(prompt, "  {}. {}", i + 1, severity_line(c));
        }
        let (question, default) = if guessed.severity.is_some() {
            ("Read it from candidate 1? [Y/n/number]".to_string(), Answer::Yes)
        } else {
            ("Not sure of any: read one? [y/N/number]".to_string(), Answer::No)
        };
        choices.severity = match ask(input, prompt, &question, default, plan.severity.len()) {
            Answer::Yes => Some(0),
            Answer::No => None,
            Answer::Pick(n) => Some(n - 1),
        };
    }
    if !plan.tier.is_empty() {
        let _ = writeln!(
            prompt,
            "\nWhich organization field holds the customer's deployment (its tier)? Candidates:"
        );
        for (i, c) in plan.tier.iter().enumerate() {
            let _ = writeln!(prompt, "  {}. {}", i + 1, tier_line(c));
        }
        let (question, default) = if guessed.tier.is_some() {
            ("Read it from candidate 1? [Y/n/number]".to_string(), Answer::Yes)
        } else {
            ("Not sure of any: read one? [y/N/number]".to_string(), Answer::No)
        };
        choices.tier = match ask(input, prompt, &question, default, plan.tier.len()) {
            Answer::Yes => Some(0),
            Answer::No => None,
            Answer::Pick(n) => Some(n - 1),
        };
    }
    let usable = plan.usable_schedules();
    if !usable.is_empty() {
        let _ = writeln!(
            prompt,
            "\nWhich schedule is the self-hosted tier's business clock? (All are written.)"
        );
        for (i, s) in usable.iter().enumerate() {
            let _ = writeln!(prompt, "  {}. {}", i + 1, schedule_line(s));
        }
        choices.schedule = match ask(
            input,
            prompt,
            "Use candidate 1? [Y/n (slawatch's default: Mon-Fri 09:00-17:00, Los Angeles)/number]",
            Answer::Yes,
            usable.len(),
        ) {
            Answer::Yes => Some(0),
            Answer::No => None,
            Answer::Pick(n) => Some(n - 1),
        };
    }
    choices
}

/// Writes the config whole or not at all: a file in the same directory, renamed over `path`
/// (never over an existing file unless `force`).
fn write(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    if to_stdout(path) {
        super::write_stdout(text);
        return Ok(());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let kept = if force { file.persist(path) } else { file.persist_noclobber(path) };
    kept.map_err(|e| e.error)
        .with_context(|| format!("cannot write {} (pass --force to overwrite a file)", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_url_from_a_url_a_host_or_a_subdomain() {
        assert_eq!(account_url("https://acme.zendesk.com/"), "https://acme.zendesk.com");
        assert_eq!(account_url("acme.zendesk.com"), "https://acme.zendesk.com");
        assert_eq!(account_url("acme"), "https://acme.zendesk.com");
        assert_eq!(account_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn answers_default_on_enter_and_at_the_end_of_input_and_ask_again_when_unclear() {
        let mut said = Vec::new();
        let mut ask_with = |typed: &str, default: Answer| ask(&mut typed.as_bytes(), &mut said, "?", default, 3);
        assert_eq!(ask_with("\n", Answer::Yes), Answer::Yes);
        assert_eq!(ask_with("", Answer::No), Answer::No);
        assert_eq!(ask_with("N\n", Answer::Yes), Answer::No);
        assert_eq!(ask_with("maybe\n7\n2\n", Answer::Yes), Answer::Pick(2));
        assert!(String::from_utf8_lossy(&said).contains("y, n, or a number from 1 to 3"));
    }

    #[test]
    fn a_confirmed_pick_is_another_candidate() {
        use crate::zendesk::account::{FieldOption, TicketField};
        let field = |id: u64, title: &str| TicketField {
            id,
            title: title.into(),
            field_type: "tagger".into(),
            active: true,
            options: vec![
                FieldOption {
                    name: "Sev 1".into(),
                    value: format!("a{id}"),
                },
                FieldOption {
                    name: "Sev 2".into(),
                    value: format!("b{id}"),
                },
            ],
        };
        let snapshot = Snapshot {
            ticket_fields: vec![field(1, "Severity"), field(2, "Severity (new)")],
            ..Snapshot::default()
        };
        let plan = Plan::new(&snapshot);
        assert!(Choices::guessed(&plan).severity.is_none(), "two rivals: not sure");
        let mut said = Vec::new();
        let choices = confirm(&plan, &mut "2\n".as_bytes(), &mut said);
        assert_eq!(choices.severity, Some(1));
        assert!(choices.confirmed);
        let said = String::from_utf8_lossy(&said);
        assert!(
            said.contains("2. ticket field 2 \"Severity (new)\" (a2 → sev1, b2 → sev2)"),
            "{said}"
        );
    }
}
