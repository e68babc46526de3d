//! `slawatch init --zendesk URL`: a starter config written from the live account, which
//! `check-config --online` accepts and under which the account's tickets get their true tier
//! and severity. The real binary against the simulated Zendesk.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::binary::slawatch;
use serde_json::{json, Map, Value};
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};

const DAY: u32 = 1440;

/// The handbook's account: a "Severity" dropdown among unrelated ones (one with numbers in its
/// options), organizations by deployment beside a plan, groups, a bot, and a business-hours
/// schedule in New York whose Friday runs past midnight, with two holidays.
struct Account {
    sim: SimZendesk,
    severity: u64,
    globex: u64,
    initech: u64,
}

async fn account() -> Account {
    // The world's time is now: the written start_time (last month) is before its tickets.
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
    sim.add_ticket_field("Version", "tagger", &[("5.1", "v5_1"), ("5.2", "v5_2")]);
    let severity = sim.add_ticket_field(
        "Severity",
        "tagger",
        &[
            ("Severity 1 - Critical", "severity_1"),
            ("Severity 2 - Major", "severity_2"),
            ("Severity 3 - Minor", "severity_3"),
        ],
    );
    sim.add_organization_field(
        "deployment",
        "Deployment",
        "dropdown",
        &[("Cloud (managed)", "cloud"), ("Self-hosted server", "server"), ("Trial", "trial")],
    );
    let fields =
        |deployment: &str, plan: &str| Map::from_iter([("deployment".to_string(), json!(deployment)), ("plan".to_string(), json!(plan))]);
    let globex = sim.add_organization("Globex", &[], fields("cloud", "enterprise"));
    let initech = sim.add_organization("Initech", &[], fields("server", "starter"));
    sim.add_group("Support");
    sim.add_group("Escalations");
    sim.add_user("Triage Bot", "triage-bot@support.example", "agent", None);
    let mut week: Vec<(u32, u32)> = (1..=4).map(|d| (d * DAY + 8 * 60, d * DAY + 18 * 60)).collect();
    week.push((5 * DAY + 8 * 60, 6 * DAY + 2 * 60));
    let schedule = sim.add_schedule("Support Hours", "Eastern Time (US & Canada)", &week);
    sim.add_schedule_holiday(schedule, "Christmas", "2026-12-24", "2026-12-26");
    sim.add_schedule_holiday(schedule, "New Year", "2027-01-01", "2027-01-01");
    Account {
        sim,
        severity,
        globex,
        initech,
    }
}

fn init(a: &Account, dir: &Path, extra: &[&str]) -> Output {
    let url = a.sim.base_url();
    let mut args = vec![
        "init",
        "--zendesk",
        &url,
        "--email",
        "agent@example.com",
        "--token-env",
        "SIM_ZENDESK_TOKEN",
    ];
    args.extend_from_slice(extra);
    in_dir(slawatch(&args), dir).output().unwrap()
}

/// The store path the config names is relative: each test's is its own directory.
fn in_dir(mut command: Command, dir: &Path) -> Command {
    command.current_dir(dir);
    command
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn written(dir: &Path) -> (String, Value) {
    let text = std::fs::read_to_string(dir.join("slawatch.toml")).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    (text, serde_json::to_value(value).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_yes_writes_a_config_the_account_accepts_and_the_tickets_get_their_true_tier_and_severity() {
    let a = account().await;
    let dir = tempfile::tempdir().unwrap();
    let out = init(&a, dir.path(), &["--yes"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("Wrote slawatch.toml"), "{said}");
    assert!(said.contains("the config matches the account"), "{said}");
    let (file, config) = written(dir.path());
    assert!(!file.contains("sim-token"), "no secret in the file");
    assert_eq!(config["zendesk"]["token_env"], "SIM_ZENDESK_TOKEN");
    assert_eq!(config["severity"]["field_id"], json!(a.severity));
    assert_eq!(
        config["severity"]["field_values"],
        json!({"severity_1": "sev1", "severity_2": "sev2", "severity_3": "sev3"})
    );
    assert_eq!(config["policy"]["severities"], json!(["sev1", "sev2", "sev3"]));
    assert_eq!(config["customers"]["tier_field"], "deployment");
    assert_eq!(
        config["customers"]["tier_values"],
        json!({"cloud": "managed", "server": "self-hosted"})
    );
    assert!(
        file.contains("# tier_values.trial = "),
        "the unknown value is left for a person:\n{file}"
    );
    assert!(file.contains("#   1000002   \"Triage Bot\" <triage-bot@support.example>"), "{file}");
    assert!(file.contains("\"Support\""), "the groups are listed for routes:\n{file}");

    let check = in_dir(slawatch(&["check-config", "--online", "--config", "slawatch.toml"]), dir.path())
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));

    let customer = |name: &str, org: u64| a.sim.add_user(name, &format!("{name}@customer.example"), "end-user", Some(org));
    let (gil, ina) = (customer("gil", a.globex), customer("ina", a.initech));
    let ticket = |requester: u64, severity: &str| {
        a.sim.create_ticket(NewTicket {
            subject: format!("{severity} from {requester}"),
            body: "Our instance is down.".into(),
            requester_id: requester,
            custom_fields: vec![(a.severity, json!(severity))],
            ..NewTicket::default()
        })
    };
    let managed_sev1 = ticket(gil, "severity_1");
    let self_hosted_sev2 = ticket(ina, "severity_2");
    a.sim.advance(120);
    let run = in_dir(slawatch(&["run", "--once", "--config", "slawatch.toml"]), dir.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let rows = status(dir.path());
    let row = |id: u64| rows.iter().find(|r| r["ticket_id"] == json!(id)).cloned().unwrap();
    let (managed, self_hosted) = (row(managed_sev1), row(self_hosted_sev2));
    assert_eq!(
        (&managed["tier"], &managed["severity"], &managed["classified"]),
        (&json!("managed"), &json!("sev1"), &json!(true))
    );
    assert_eq!(
        (&self_hosted["tier"], &self_hosted["severity"], &self_hosted["classified"]),
        (&json!("self-hosted"), &json!("sev2"), &json!(true))
    );
}

/// `status --json`, run where the store is.
fn status(dir: &Path) -> Vec<Value> {
    let out = in_dir(slawatch(&["status", "--json", "--config", "slawatch.toml"]), dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_is_converted_exactly_hours_zone_and_holidays() {
    let a = account().await;
    let dir = tempfile::tempdir().unwrap();
    let out = init(&a, dir.path(), &["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (file, config) = written(dir.path());
    let schedule = &config["schedules"]["support-hours"];
    assert_eq!(
        schedule,
        &json!({
            "time_zone": "America/New_York",
            "hours": {
                "mon": ["08:00-18:00"],
                "tue": ["08:00-18:00"],
                "wed": ["08:00-18:00"],
                "thu": ["08:00-18:00"],
                "fri": ["08:00-24:00"],
                "sat": ["00:00-02:00"],
            },
            "holidays": ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"],
        }),
        "{file}"
    );
    assert!(file.contains("# Zendesk: \"Eastern Time (US & Canada)\""), "{file}");
    assert_eq!(config["tiers"]["self-hosted"]["schedule"], "support-hours");
    assert_eq!(config["tiers"]["managed"]["schedule"], "24x7");
    assert_eq!(config["notify"]["time_zone"], "America/New_York");
    // The calculator agrees: from Friday 17:00 in New York, 8 business hours are 7 to midnight
    // and the 8th after it, Saturday 01:00 (05:00 UTC).
    let deadline = in_dir(
        slawatch(&[
            "deadline",
            "--config",
            "slawatch.toml",
            "--schedule",
            "support-hours",
            "--from",
            "2026-06-05T17:00:00-04:00",
            "--duration",
            "8h",
        ]),
        dir.path(),
    )
    .output()
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&deadline.stdout).trim(),
        "2026-06-06T05:00:00Z",
        "{}",
        text(&deadline)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_or_yes_it_refuses_and_writes_nothing() {
    let a = account().await;
    let dir = tempfile::tempdir().unwrap();
    let out = init(&a, dir.path(), &[]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("standard input is not one: pass --yes"), "{said}");
    assert!(!dir.path().join("slawatch.toml").exists());
    assert_eq!(a.sim.total_requests(), 0, "refused before asking the account anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_file_is_kept_unless_force() {
    let a = account().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slawatch.toml");
    std::fs::write(&path, "# mine\n").unwrap();
    let out = init(&a, dir.path(), &["--yes"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("slawatch.toml exists: pass --force to overwrite it"), "{said}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");

    let out = init(&a, dir.path(), &["--yes", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(std::fs::read_to_string(&path).unwrap().starts_with("# slawatch configuration for"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_business_hours_still_gets_a_config_with_the_default_schedule() {
    let a = account().await;
    a.sim.set_business_hours_plan(false);
    let dir = tempfile::tempdir().unwrap();
    // To standard output: the config there, what init says on stderr.
    let out = init(&a, dir.path(), &["--yes", "--output", "-"]);
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("no business hours on its plan"), "{said}");
    assert!(said.contains("the config matches the account"), "{said}");
    let file = String::from_utf8(out.stdout).unwrap();
    assert!(file.contains("The account's plan has no business hours"), "{file}");
    let config: toml::Value = toml::from_str(&file).unwrap();
    assert_eq!(config["tiers"]["self-hosted"]["schedule"].as_str(), Some("business-hours"));
    assert_eq!(
        config["schedules"]["business-hours"]["time_zone"].as_str(),
        Some("America/Los_Angeles")
    );
    // The severity and tier guesses do not depend on the plan.
    assert_eq!(config["customers"]["tier_field"].as_str(), Some("deployment"));
}
