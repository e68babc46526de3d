use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::*;
use crate::config::Config;
use crate::zendesk::account::{FieldOption, ScheduleHoliday};

const DAY: u32 = 1440;

fn options(pairs: &[(&str, &str)]) -> Vec<FieldOption> {
    pairs
        .iter()
        .map(|(name, value)| FieldOption {
            name: (*name).into(),
            value: (*value).into(),
        })
        .collect()
}

fn ticket_field(id: u64, title: &str, field_type: &str, pairs: &[(&str, &str)]) -> TicketField {
    TicketField {
        id,
        title: title.into(),
        field_type: field_type.into(),
        active: true,
        options: options(pairs),
    }
}

fn org(id: u64, fields: Value, tags: &[&str]) -> OrganizationRecord {
    OrganizationRecord {
        id,
        name: format!("Org {id}"),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        fields: serde_json::from_value::<Map<String, Value>>(fields).unwrap(),
    }
}

/// The handbook's account: a Severity dropdown among others, organizations by deployment, a
/// weekday schedule in New York with a late Friday and a Christmas range.
fn account() -> Snapshot {
    let fri = 5 * DAY;
    let mut intervals: Vec<(u32, u32)> = (1..=4).map(|d| (d * DAY + 480, d * DAY + 1080)).collect();
    intervals.push((fri + 480, fri + DAY + 120));
    Snapshot {
        url: "https://acme.zendesk.com".into(),
        me: Some(Me {
            id: 1,
            name: "Ada Admin".into(),
            email: "ada@acme.example".into(),
            role: "admin".into(),
        }),
        ticket_fields: vec![
            ticket_field(1, "Subject", "subject", &[]),
            ticket_field(2, "Priority", "priority", &[]),
            ticket_field(
                10,
                "Product area",
                "tagger",
                &[("Search", "search"), ("Code \"intel\"", "code intel")],
            ),
            ticket_field(
                11,
                "Severity",
                "tagger",
                &[
                    ("Severity 1", "severity_1"),
                    ("Severity 2", "severity_2"),
                    ("Severity 3", "severity_3"),
                ],
            ),
        ],
        organization_fields: vec![OrganizationField {
            id: 20,
            key: "deployment".into(),
            title: "Deployment".into(),
            field_type: "dropdown".into(),
            active: true,
            options: options(&[("Managed instance", "managed"), ("Self-hosted", "self_hosted"), ("Trial", "trial")]),
        }],
        organizations: vec![
            org(1, json!({"deployment": "managed"}), &[]),
            org(2, json!({"deployment": "self_hosted"}), &[]),
        ],
        groups: vec![
            Group {
                id: 30,
                name: "Support".into(),
                deleted: false,
            },
            Group {
                id: 31,
                name: "Old".into(),
                deleted: true,
            },
        ],
        agents: vec![User {
            id: 40,
            name: Some("Triage Bot".into()),
            email: Some("triage@acme.example".into()),
            role: Some("agent".into()),
            organization_id: None,
        }],
        schedules: Some(vec![BusinessSchedule {
            id: 50,
            name: "Support Hours".into(),
            time_zone: "Eastern Time (US & Canada)".into(),
            intervals,
            holidays: vec![ScheduleHoliday {
                name: "Christmas".into(),
                start_date: "2026-12-24".into(),
                end_date: "2026-12-26".into(),
            }],
        }]),
    }
}

fn token() -> Credentials {
    Credentials::ApiToken {
        email: "ada@acme.example".into(),
        token_env: "ZENDESK_API_TOKEN".into(),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 16).unwrap()
}

fn written(snapshot: &Snapshot, choices: impl FnOnce(&Plan) -> Choices) -> (String, Config) {
    let plan = Plan::new(snapshot);
    let text = render(snapshot, &plan, &choices(&plan), &token(), today());
    let config = Config::parse("starter.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, config)
}

#[test]
fn the_guesses_make_a_config_that_maps_severities_tiers_and_the_schedule() {
    let (text, config) = written(&account(), Choices::guessed);
    assert_eq!(config.severity.field_id, Some(11));
    let values: Vec<(&str, &str)> = config.severity.field_values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(values, [("severity_1", "sev1"), ("severity_2", "sev2"), ("severity_3", "sev3")]);
    assert_eq!(config.policy.severities, ["sev1", "sev2", "sev3"]);
    assert!(
        text.contains("# sev3: what the severity field's \"Severity 3\" option(s) stand for."),
        "{text}"
    );
    assert_eq!(config.customers.tier_field.as_deref(), Some("deployment"));
    let tiers: Vec<(&str, &str)> = config.customers.tier_values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(tiers, [("managed", "managed"), ("self_hosted", "self-hosted")]);
    assert!(config.customers.tier_tags.is_empty());
    assert!(
        text.contains("# tier_values.trial = \"self-hosted\"   # \"Trial\", 0 organization(s): names no deployment"),
        "{text}"
    );
    // The schedule, with its zone, its late Friday split at midnight and its holiday's days.
    assert!(
        text.contains("[schedules.support-hours]\ntime_zone = \"America/New_York\"   # Zendesk: \"Eastern Time (US & Canada)\"\n"),
        "{text}"
    );
    assert!(text.contains("hours.mon = [\"08:00-18:00\"]\n"), "{text}");
    assert!(
        text.contains("hours.fri = [\"08:00-24:00\"]\nhours.sat = [\"00:00-02:00\"]\n"),
        "{text}"
    );
    assert!(
        text.contains("  \"2026-12-24\", \"2026-12-25\", \"2026-12-26\",   # \"Christmas\"\n"),
        "{text}"
    );
    let tier = &config.policy.tiers["self-hosted"];
    assert_eq!(config.policy.schedules[tier.schedule.0].name, "support-hours");
    assert!(text.contains("support-hours is open 58h a week"), "{text}");
    assert_eq!(config.notify.time_zone, chrono_tz::America::New_York);
    // Where a fresh store starts: the first of last month (December, from a January day).
    assert!(text.contains("start_time = \"2025-12-01T00:00:00Z\""), "{text}");
    // Groups and bots are listed, not used; the deleted group not at all.
    assert!(text.contains("#   30   \"Support\"\n") && !text.contains("\"Old\""), "{text}");
    assert!(text.contains("#   40   \"Triage Bot\" <triage@acme.example>\n"), "{text}");
    assert!(config.policy.first_response.bot_user_ids.is_empty());
    assert!(config.notify.channels.is_empty());
    let zendesk = config.zendesk.unwrap();
    assert_eq!(zendesk.token_env.as_deref(), Some("ZENDESK_API_TOKEN"));
    assert_eq!(config.store.path, std::path::PathBuf::from("slawatch.sled"));
}

#[test]
fn declined_or_uncertain_guesses_are_written_commented_out_with_the_candidates() {
    let mut snapshot = account();
    // A rival as well titled: the severity guess is no longer sure.
    snapshot.ticket_fields.push(ticket_field(
        12,
        "Severity (old)",
        "tagger",
        &[("Sev 1", "old_1"), ("Sev 2", "old_2")],
    ));
    let (text, config) = written(&snapshot, Choices::guessed);
    assert_eq!(config.severity.field_id, None);
    assert!(config.severity.field_values.is_empty());
    assert_eq!(config.policy.severities, ["sev1", "sev2"], "no field read, no sev3");
    assert!(text.contains("the guess below is uncertain"), "{text}");
    assert!(
        text.contains("# field_id = 11   # \"Severity\"\n# field_values.severity_1 = \"sev1\""),
        "{text}"
    );
    assert!(text.contains("# (sev3 must then be added to [policy] severities.)"), "{text}");
    assert!(
        text.contains("Other dropdowns that could be the severity: 12 \"Severity (old)\"."),
        "{text}"
    );
    // The default priorities still classify tickets.
    assert_eq!(config.severity.priorities["urgent"], "sev1");

    let (text, config) = written(&account(), |plan| Choices {
        tier: None,
        ..Choices::guessed(plan)
    });
    assert_eq!(config.customers.tier_field, None, "the defaults' \"deployment\" is not kept either");
    assert!(text.contains("the guess below was declined."), "{text}");
    assert!(text.contains("# tier_field = \"deployment\""), "{text}");
}

#[test]
fn without_business_hours_the_default_schedule_is_kept_and_said_why() {
    let mut snapshot = account();
    snapshot.schedules = None;
    let (text, config) = written(&snapshot, Choices::guessed);
    assert!(text.contains("The account's plan has no business hours"), "{text}");
    let tier = &config.policy.tiers["self-hosted"];
    assert_eq!(config.policy.schedules[tier.schedule.0].name, "business-hours");
    assert_eq!(config.notify.time_zone, chrono_tz::America::Los_Angeles);

    // Nothing at all to go by: still a config `run` takes.
    let bare = Snapshot {
        url: "https://empty.zendesk.com".into(),
        schedules: Some(Vec::new()),
        ..Snapshot::default()
    };
    let (text, config) = written(&bare, Choices::guessed);
    assert!(config.zendesk.is_some());
    assert!(text.contains("No dropdown ticket field looked like a severity"), "{text}");
    assert!(text.contains("No organization field looked like a deployment or plan"), "{text}");
    assert!(text.contains("The account has no business-hours schedule"), "{text}");
}

#[test]
fn odd_names_and_tags_are_quoted_and_no_secret_is_written() {
    let mut snapshot = account();
    snapshot.ticket_fields[3].title = "Severity\n\"level\"".into();
    snapshot.ticket_fields[3].options = options(&[("P1 \"now\"", "p1 now"), ("P2", "p.2")]);
    snapshot
        .organizations
        .push(org(3, json!({"deployment": "managed"}), &["on-prem", "self_hosted"]));
    let oauth = Credentials::OAuth {
        token_env: "ZD_OAUTH".into(),
    };
    let plan = Plan::new(&snapshot);
    let text = render(&snapshot, &plan, &Choices::guessed(&plan), &oauth, today());
    let config = Config::parse("starter.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(config.severity.field_values["p1 now"], "sev1");
    assert_eq!(config.severity.field_values["p.2"], "sev2");
    assert_eq!(config.customers.tier_tags["on-prem"], "self-hosted");
    let zendesk = config.zendesk.unwrap();
    assert_eq!(zendesk.oauth_token_env.as_deref(), Some("ZD_OAUTH"));
    assert!(!text.contains("sim-token") && !text.contains("password"));
}

#[test]
fn an_unusable_schedule_is_commented_out_and_the_default_clock_kept() {
    let mut snapshot = account();
    if let Some(schedules) = snapshot.schedules.as_mut() {
        schedules[0].time_zone = "Atlantis".into();
    }
    let (text, config) = written(&snapshot, Choices::guessed);
    assert!(
        text.contains("# Not usable as written: its time zone \"Atlantis\" is not one slawatch knows"),
        "{text}"
    );
    assert!(text.contains("# [schedules.support-hours]\n"), "{text}");
    let tier = &config.policy.tiers["self-hosted"];
    assert_eq!(config.policy.schedules[tier.schedule.0].name, "business-hours");
}
