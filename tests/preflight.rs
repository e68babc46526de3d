//! The config against the live account: `check-config --online` names every line that does
//! not match it, `run` refuses to start on a mismatch, and drift while running shows in
//! `/readyz`, `/metrics`, `status` and one Slack message per change.

mod common;

use std::process::Output;

use common::binary::{daemon_config, free_port, slawatch};
use serde_json::{json, Map};
use slawatch::sim::slack::SimSlack;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};

/// An account as the handbook's: a "Severity" dropdown, organizations by deployment, a group.
struct Account {
    sim: SimZendesk,
    severity: u64,
    group: u64,
    bot: u64,
}

async fn account() -> Account {
    // The world's time is now: `status` measures the last day by the wall clock.
    let sim = SimZendesk::start(SimOptions {
        start_time: slawatch::clock::Clock::system().now() - 3600,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    sim.add_ticket_field(
        "Product area",
        "tagger",
        &[("Search", "search"), ("Batch changes", "batch_changes")],
    );
    let severity = sim.add_ticket_field("Severity", "tagger", &[("Severity 1", "severity_1"), ("Severity 2", "severity_2")]);
    sim.add_organization_field(
        "deployment",
        "Deployment",
        "dropdown",
        &[("Managed instance", "managed"), ("Self-hosted", "self_hosted")],
    );
    sim.add_organization("Globex", &[], Map::from_iter([("deployment".to_string(), json!("managed"))]));
    sim.add_organization("Initech", &[], Map::from_iter([("deployment".to_string(), json!("self_hosted"))]));
    let group = sim.add_group("Support");
    let bot = sim.add_user("Triage Bot", "bot@support.example", "agent", None);
    Account { sim, severity, group, bot }
}

/// `id` with its last digit changed: the one-digit typo.
fn one_digit_off(id: u64) -> u64 {
    if id % 10 == 9 {
        id - 1
    } else {
        id + 1
    }
}

fn mapping(field_id: u64, tier_field: &str, group: u64, bot: u64) -> String {
    format!(
        r#"[severity]
field_id = {field_id}
field_values = {{ severity_1 = "sev1", severity_2 = "sev2" }}
[customers]
tier_field = "{tier_field}"
tier_values = {{ managed = "managed", self_hosted = "self-hosted" }}
[first_response]
bot_user_ids = [{bot}]
[[notify.routes]]
groups = [{group}]
channels = ["oncall"]
"#
    )
}

/// A daemon config whose tiers are the handbook's two (the helper's has one).
fn config(dir: &std::path::Path, a: &Account, extra: &str) -> String {
    let tiers = r#"[tiers.self-hosted]
schedule = "business-hours"
targets.sev1 = { first_response = "24h", resolution = "72h" }
targets.sev2 = { first_response = "40h" }
"#;
    daemon_config(dir, &a.sim, free_port(), &format!("{tiers}{extra}"))
}

fn check_online(config: &str) -> Output {
    slawatch(&["check-config", "--online", "--config", config])
        .env("SIM_SLACK_ONCALL", "http://127.0.0.1:9/unused")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The line of `needle` in the file at `path`.
fn line_of(path: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_digit_and_a_typo_fail_the_preflight_naming_the_line_and_what_the_account_has() {
    let a = account().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = one_digit_off(a.severity);
    let path = config(dir.path(), &a, &mapping(wrong, "deploymnet", a.group, a.bot));
    // Offline, the file is valid: nothing says it is wrong for this account.
    let offline = slawatch(&["check-config", "--config", &path]).output().unwrap();
    assert!(offline.status.success(), "{}", text(&offline));

    let out = check_online(&path);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    let field_line = line_of(&path, &format!("field_id = {wrong}"));
    let tier_line = line_of(&path, "tier_field = \"deploymnet\"");
    let url = a.sim.base_url();
    let expected_field = format!(
        "mismatch: {path}:{field_line}: severity.field_id: {wrong} is not a ticket field in {url}; did you mean {} \"Severity\" (options: severity_1 (\"Severity 1\"), severity_2 (\"Severity 2\"))?",
        a.severity
    );
    assert!(said.contains(&expected_field), "no {expected_field:?} in:\n{said}");
    let expected_tier = format!(
        "mismatch: {path}:{tier_line}: customers.tier_field: \"deploymnet\" is not an organization field in {url}; did you mean \"deployment\" (\"Deployment\")?"
    );
    assert!(said.contains(&expected_tier), "no {expected_tier:?} in:\n{said}");
    assert!(said.contains("signed in as"), "{said}");
    assert!(said.contains("2 mismatch(es)"), "{said}");

    // `run` refuses to start, before reading a single ticket.
    let exports = a.sim.request_count("/api/v2/incremental/tickets/cursor.json");
    let run = slawatch(&["run", "--once", "--config", &path])
        .env("SIM_SLACK_ONCALL", "http://127.0.0.1:9/unused")
        .output()
        .unwrap();
    let said = text(&run);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("refusing to start"), "{said}");
    assert!(said.contains(&expected_field["mismatch: ".len()..]), "{said}");
    assert_eq!(a.sim.request_count("/api/v2/incremental/tickets/cursor.json"), exports);

    // Fixed, it matches.
    let fixed = config(dir.path(), &a, &mapping(a.severity, "deployment", a.group, a.bot));
    let out = check_online(&fixed);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("the config matches the account"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_reference_is_checked_option_tags_groups_bots_and_the_tokens_role() {
    let a = account().await;
    let dir = tempfile::tempdir().unwrap();
    let mut extra = mapping(a.severity, "deployment", a.group + 100, a.bot + 100);
    extra = extra.replace("severity_1 = \"sev1\"", "severity_l = \"sev1\"");
    extra = extra.replace("self_hosted = \"self-hosted\"", "selfhosted = \"self-hosted\"");
    extra += "[report]\ntype_field = 424242\n";
    let path = config(dir.path(), &a, &extra);
    a.sim.set_api_user_role("agent");
    let out = check_online(&path);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    for expected in [
        format!(
            "severity.field_values.severity_l: \"severity_l\" is not an option tag of ticket field {} \"Severity\": did you mean \"severity_1\"?",
            a.severity
        ),
        "customers.tier_values.selfhosted: \"selfhosted\" is not an option of organization field \"deployment\": did you mean \"self_hosted\"?".to_string(),
        format!("notify.routes[1].groups[0]: {} is not a group in", a.group + 100),
        format!(
            "first_response.bot_user_ids[0]: {} is not a user in {}: the bot's comments would count as first responses",
            a.bot + 100,
            a.sim.base_url()
        ),
        "report.type_field: 424242 is not a ticket field".to_string(),
        "zendesk.token_env: the token signs in as agent@example.com".to_string(),
        "Zendesk's incremental exports are for admins only".to_string(),
        "the token may not read the incremental exports".to_string(),
        // What the account has and the config does not map: a warning, not a refusal.
        format!("warning: {path}:", path = path),
        "has option severity_1 (\"Severity 1\"), which is not mapped: its tickets get the default severity, sev2".to_string(),
    ] {
        assert!(said.contains(&expected), "no {expected:?} in:\n{said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_option_in_the_account_is_a_warning_and_run_starts() {
    let a = account().await;
    a.sim.add_ticket_field_option(a.severity, "Severity 3", "severity_3");
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &a, &mapping(a.severity, "deployment", a.group, a.bot));
    let out = check_online(&path);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "warning: {path}:{}: severity.field_values: ticket field {} \"Severity\" has option severity_3 (\"Severity 3\"), which is not mapped: its tickets get the default severity, sev2",
            line_of(&path, "field_values"),
            a.severity
        )),
        "{said}"
    );
    assert!(said.contains("the config matches the account, with 1 warning(s)"), "{said}");
    let slack = SimSlack::start().await.unwrap();
    let run = slawatch(&["run", "--once", "--config", &path])
        .env("SIM_SLACK_ONCALL", slack.url("oncall"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_mismatch_starts_anyway_and_status_says_every_ticket_fell_back() {
    let a = account().await;
    let customer = a.sim.add_user("Gil", "gil@globex.example", "end-user", None);
    for i in 0..6 {
        a.sim.create_ticket(NewTicket {
            subject: format!("Ticket {i}"),
            body: "It is down.".into(),
            requester_id: customer,
            custom_fields: vec![(a.severity, json!("severity_1"))],
            ..NewTicket::default()
        });
    }
    a.sim.advance(120);
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &a, &mapping(one_digit_off(a.severity), "deployment", a.group, a.bot));
    let slack = SimSlack::start().await.unwrap();
    let run = slawatch(&["run", "--once", "--allow-mismatch", "--config", &path])
        .env("SIM_SLACK_ONCALL", slack.url("oncall"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run));
    let status = slawatch(&["status", "--config", &path]).output().unwrap();
    let said = text(&status);
    assert!(said.starts_with("Config drift: 6 of 6 tickets created since"), "{said}");
    assert!(said.contains("(severity: field missing 6)"), "{said}");
    assert!(said.contains("above the 20% [admin] fallback_max"), "{said}");
}

fn drift_messages(h: &common::Harness) -> Vec<String> {
    h.slack
        .messages()
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains("default severity or tier"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_severity_option_added_while_running_is_drift_shown_everywhere_and_told_once_per_change() {
    let mut severity = 0;
    let mut h = common::Harness::build(common::t(common::T0), 1000, |sim| {
        severity = sim.add_ticket_field("Severity", "tagger", &[("Severity 1", "severity_1"), ("Severity 2", "severity_2")]);
        format!(
            r#"[severity]
field_id = {severity}
field_values = {{ severity_1 = "sev1", severity_2 = "sev2" }}
[notify.channels.support]
kind = "slack"
url_env = "UNUSED_IN_TESTS"
[[notify.routes]]
channels = ["support"]
"#
        )
    })
    .await;
    let umbrella = h
        .sim
        .add_organization("Umbrella", &[], Map::from_iter([("deployment".to_string(), json!("hybrid"))]));
    let umbrella_customer = h.sim.add_user("Ula", "ula@umbrella.example", "end-user", Some(umbrella));
    let ticket = |h: &common::Harness, requester: u64, tag: &str| {
        h.sim.create_ticket(NewTicket {
            subject: format!("A {tag} ticket"),
            body: "It is down.".into(),
            requester_id: requester,
            custom_fields: vec![(severity, json!(tag))],
            ..NewTicket::default()
        });
    };
    h.engine.refresh_directory(true).await.unwrap();
    let found = h.engine.preflight_findings().expect("checked at the refresh");
    assert!(!slawatch::preflight::has_mismatch(&found), "{found:#?}");

    // Four mapped tickets and one of an organization whose deployment is not mapped: 1 in 5
    // fell back, not more than the 20% allowed.
    for _ in 0..4 {
        ticket(&h, h.customer, "severity_1");
    }
    ticket(&h, umbrella_customer, "severity_2");
    h.poll().await;
    h.poll().await;
    h.engine.watch_drift().await.unwrap();
    let drift = h.engine.drift().unwrap();
    assert_eq!((drift.tickets, drift.fell_back), (5, 1), "{drift:#?}");
    assert!(h.engine.readiness().config.ok, "{:?}", h.engine.readiness().config);
    assert!(drift_messages(&h).is_empty());

    // An admin adds "Severity 3" and agents start using it: the next check warns, and the
    // tickets fall back to the default severity.
    h.sim.add_ticket_field_option(severity, "Severity 3", "severity_3");
    h.engine.refresh_directory(true).await.unwrap();
    let found = h.engine.preflight_findings().unwrap();
    assert!(
        found
            .iter()
            .any(|f| f.level == slawatch::preflight::Level::Warning && f.message.contains("has option severity_3")),
        "{found:#?}"
    );
    for _ in 0..6 {
        ticket(&h, h.customer, "severity_3");
    }
    h.poll().await;
    h.poll().await;
    h.engine.watch_drift().await.unwrap();
    let readiness = h.engine.readiness();
    assert!(!readiness.ready && !readiness.config.ok);
    assert!(
        readiness.config.detail.contains("7 of 11 tickets created since")
            && readiness.config.detail.contains("severity: value not mapped 6")
            && readiness.config.detail.contains("tier: value not mapped 1")
            && readiness.config.detail.contains("above 20%"),
        "{}",
        readiness.config.detail
    );
    let told = drift_messages(&h);
    assert_eq!(told.len(), 1, "{told:#?}");
    assert!(
        told[0].starts_with(":warning: slawatch: 7 of 11 tickets created since"),
        "{}",
        told[0]
    );
    assert!(told[0].contains("check-config --online"), "{}", told[0]);
    h.engine.refresh_gauges().unwrap();
    let metrics = h.engine.metrics.encode();
    for line in [
        "slawatch_fallback_tickets{dimension=\"severity\",reason=\"not_mapped\"} 6",
        "slawatch_fallback_tickets{dimension=\"tier\",reason=\"not_mapped\"} 1",
        "slawatch_fallback_share 0.636",
    ] {
        assert!(metrics.contains(line), "no {line} in:\n{metrics}");
    }

    // Still drifting a poll later, and after a restart: nothing more is said.
    h.poll().await;
    h.engine.watch_drift().await.unwrap();
    h.restart().await;
    h.engine.watch_drift().await.unwrap();
    assert_eq!(drift_messages(&h).len(), 1);

    // A day later the window holds none of them: told once that it is over.
    h.advance(86_400);
    h.poll().await;
    h.engine.watch_drift().await.unwrap();
    let told = drift_messages(&h);
    assert_eq!(told.len(), 2, "{told:#?}");
    assert!(
        told[1].starts_with(":white_check_mark: slawatch: tickets get their configured severity and tier again"),
        "{}",
        told[1]
    );
    assert!(h.engine.readiness().config.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_is_checked_too_the_login_it_files_as_and_each_rules_repository() {
    use slawatch::sim::github::{RepoRole, SimGithub};
    let a = account().await;
    let github = SimGithub::start("gh-token", "slawatch-bot", slawatch::clock::Clock::system())
        .await
        .unwrap();
    for repo in ["acme/escalations", "acme/product", "acme/old"] {
        github.add_repo(repo);
    }
    github.set_role("acme/product", RepoRole::Read);
    github.set_archived("acme/old", true);
    let dir = tempfile::tempdir().unwrap();
    let mut extra = mapping(a.severity, "deployment", a.group, a.bot);
    extra += &format!(
        r#"[escalation]
api_url = "{api}"
token_env = "SIM_GITHUB_TOKEN"
[[escalation.rules]]
name = "help"
kind = "help_request"
tag = "rfh"
repository = "acme/escalations"
[[escalation.rules]]
name = "defects"
kind = "defect"
tag = "bug"
repository = "acme/product"
[[escalation.rules]]
name = "legacy"
kind = "defect"
tag = "legacy"
repository = "acme/old"
[[escalation.rules]]
name = "typo"
kind = "defect"
tag = "typo"
repository = "acme/prodcut"
"#,
        api = github.api_url()
    );
    let path = config(dir.path(), &a, &extra);
    let out = slawatch(&["check-config", "--online", "--config", &path])
        .env("SIM_SLACK_ONCALL", "http://127.0.0.1:9/unused")
        .env("SIM_GITHUB_TOKEN", "gh-token")
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    let line = |repo: &str| line_of(&path, &format!("repository = \"{repo}\""));
    for expected in [
        format!("GitHub {}: files as slawatch-bot; can file in acme/escalations", github.api_url()),
        format!(
            "mismatch: {path}:{}: escalation.rules[1].repository: slawatch-bot cannot file issues in acme/product: the token can only read acme/product",
            line("acme/product")
        ),
        format!(
            "mismatch: {path}:{}: escalation.rules[2].repository: slawatch-bot cannot file issues in acme/old: acme/old is archived",
            line("acme/old")
        ),
        format!(
            "mismatch: {path}:{}: escalation.rules[3].repository: acme/prodcut does not exist, or slawatch-bot cannot see it",
            line("acme/prodcut")
        ),
    ] {
        assert!(said.contains(&expected), "no {expected:?} in:\n{said}");
    }

    // A token GitHub refuses is named by its variable's key.
    let out = slawatch(&["check-config", "--online", "--config", &path])
        .env("SIM_SLACK_ONCALL", "http://127.0.0.1:9/unused")
        .env("SIM_GITHUB_TOKEN", "revoked")
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("escalation.token_env: GitHub (") && said.contains("refused the token"),
        "{said}"
    );
}
