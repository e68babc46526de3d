//! Which alerts a ticket's clocks raise (SPEC §2 thresholds, §3.3), and the
//! texts people read, as snapshots.

use slawatch::config::Config;
use slawatch::notify::message::{AlertKind, AlertMessage};
use slawatch::sla::alerting::{decide, still_due, Sight, Verdict};
use slawatch::sla::clock::{evaluate, AlertPoint, Event, Role, TicketFacts};
use slawatch::sla::policy::{Customer, Metric, Policy, TargetKind, Threshold};
use slawatch::sla::time::parse_rfc3339;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn t(text: &str) -> i64 {
    parse_rfc3339(text).unwrap()
}

fn policy(extra: &str) -> Policy {
    Config::parse("test.toml", extra).unwrap_or_else(|e| panic!("{e}")).policy
}

/// A self-hosted Severity 1 ticket opened Monday 2026-11-30 09:00 PST.
fn ticket(severity: &str) -> TicketFacts {
    let created = t("2026-11-30T09:00:00-08:00");
    TicketFacts {
        created_at: created,
        opened_by_agent: false,
        customer: Customer {
            tier: Some("self-hosted".into()),
            contract: None,
        },
        events: vec![
            Event::Severity {
                at: created,
                severity: Some(severity.into()),
            },
            Event::Comment {
                at: created,
                author_id: 1,
                role: Role::EndUser,
                public: true,
                body: "It crashes.".into(),
            },
        ],
    }
}

/// First seen at `first_seen`, with a backfill window of `backfill` seconds.
fn seen(first_seen: i64, backfill: i64) -> Sight {
    Sight { first_seen, backfill }
}

/// Seen since its creation (Monday 09:00 PST): nothing was ever missed at first sight.
fn tracked() -> Sight {
    seen(t("2026-11-30T09:00:00-08:00"), DAY)
}

fn sent(decisions: &[slawatch::sla::alerting::Decision]) -> Vec<(Metric, AlertPoint)> {
    decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Send)
        .map(|d| (d.id.metric, d.id.point))
        .collect()
}

#[test]
fn at_first_sight_only_the_latest_crossed_point_of_each_clock_is_sent() {
    let p = policy("");
    // Wednesday 15:00 PST: first response 22 h in (50, 75, 90% crossed); resolution 22 h of 72 (none...
    // 50% of 72 h is 36 h, not yet).
    let now = t("2026-12-02T15:00:00-08:00");
    let clocks = evaluate(&p, &ticket("sev1"), now).unwrap();
    let decisions = decide(7, &clocks, now, seen(now, DAY), |_| false);
    assert_eq!(
        sent(&decisions),
        vec![(Metric::FirstResponse, AlertPoint::Warning(Threshold::Percent(90)))]
    );
    let superseded: Vec<_> = decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Superseded)
        .map(|d| d.id.point)
        .collect();
    assert_eq!(
        superseded,
        vec![
            AlertPoint::Warning(Threshold::Percent(50)),
            AlertPoint::Warning(Threshold::Percent(75))
        ]
    );
    // Recorded ones are never decided again.
    let keys: Vec<String> = decisions.iter().map(|d| d.id.key()).collect();
    assert!(decide(7, &clocks, now, seen(now, DAY), |k| keys.iter().any(|x| x == k)).is_empty());
}

#[test]
fn each_point_alerts_once_as_time_passes() {
    let p = policy("");
    let mut recorded: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let facts = ticket("sev1");
    let mut now = t("2026-11-30T09:00:00-08:00");
    while now < t("2026-12-04T09:00:00-08:00") {
        let clocks = evaluate(&p, &facts, now).unwrap();
        for d in decide(7, &clocks, now, tracked(), |k| recorded.iter().any(|x| x == k)) {
            if d.verdict == Verdict::Send {
                seen.push((d.id.metric, d.id.point, d.at));
            }
            recorded.push(d.id.key());
        }
        now += 15 * 60;
    }
    let fr: Vec<_> = seen.iter().filter(|s| s.0 == Metric::FirstResponse).map(|s| (s.1, s.2)).collect();
    assert_eq!(
        fr,
        vec![
            (AlertPoint::Warning(Threshold::Percent(50)), t("2026-12-01T13:00:00-08:00")),
            (AlertPoint::Warning(Threshold::Percent(75)), t("2026-12-02T11:00:00-08:00")),
            (AlertPoint::Warning(Threshold::Percent(90)), t("2026-12-02T14:36:00-08:00")),
            (AlertPoint::Breach, t("2026-12-02T17:00:00-08:00")),
        ]
    );
}

#[test]
fn a_breach_older_than_the_backfill_window_at_first_sight_is_recorded_not_sent() {
    let p = policy("");
    let now = t("2026-12-07T12:00:00-08:00");
    let clocks = evaluate(&p, &ticket("sev1"), now).unwrap();
    let decisions = decide(7, &clocks, now, seen(now, DAY), |_| false);
    let fr: Vec<_> = decisions
        .iter()
        .filter(|d| d.id.metric == Metric::FirstResponse)
        .map(|d| (d.id.point, d.verdict.clone()))
        .collect();
    assert_eq!(fr.last(), Some(&(AlertPoint::Breach, Verdict::TooOld)));
    assert!(sent(&decisions).iter().all(|(m, _)| *m != Metric::FirstResponse));
    // Within the window it is sent.
    let decisions = decide(7, &clocks, now, seen(now, 30 * DAY), |_| false);
    assert!(sent(&decisions).contains(&(Metric::FirstResponse, AlertPoint::Breach)));
    // And a ticket tracked all along gets its breach however late it is decided (downtime).
    let decisions = decide(7, &clocks, now, tracked(), |_| false);
    assert!(sent(&decisions).contains(&(Metric::FirstResponse, AlertPoint::Breach)));
}

#[test]
fn a_met_clock_raises_nothing_and_cancels_what_is_pending() {
    let p = policy("");
    let mut facts = ticket("sev1");
    let now = t("2026-12-02T15:00:00-08:00");
    let before = evaluate(&p, &facts, now).unwrap();
    let pending = decide(7, &before, now, tracked(), |_| false)
        .into_iter()
        .find(|d| d.verdict == Verdict::Send)
        .unwrap();
    assert!(still_due(&before, &pending.id));
    facts.events.push(Event::Comment {
        at: t("2026-12-02T14:59:00-08:00"),
        author_id: 2,
        role: Role::Agent,
        public: true,
        body: "Please upgrade to 4.2.1; the crash is fixed there.".into(),
    });
    let after = evaluate(&p, &facts, now).unwrap();
    assert!(!still_due(&after, &pending.id));
    assert!(decide(7, &after, now, tracked(), |_| false)
        .iter()
        .all(|d| d.id.metric != Metric::FirstResponse));
}

#[test]
fn a_severity_change_is_a_new_clock_instance_and_goals_are_labelled() {
    let p = policy("");
    let now = t("2026-12-08T12:00:00-08:00");
    let sev2 = evaluate(&p, &ticket("sev2"), now).unwrap();
    let decisions = decide(7, &sev2, now, seen(now, 30 * DAY), |_| false);
    let goal = decisions
        .iter()
        .find(|d| d.kind == TargetKind::Goal)
        .expect("the sev2 resolution goal");
    assert_eq!(goal.id.target_name, "sev2-resolved-within-a-week");
    assert_eq!(goal.id.point, AlertPoint::Breach);
    let sev1 = evaluate(&p, &ticket("sev1"), now).unwrap();
    let sev1_keys: Vec<String> = decide(7, &sev1, now, seen(now, 30 * DAY), |_| false)
        .iter()
        .map(|d| d.id.key())
        .collect();
    for d in decisions.iter().filter(|d| d.id.metric == Metric::FirstResponse) {
        assert!(!sev1_keys.contains(&d.id.key()), "{} reused after the target changed", d.id.key());
    }
    assert_eq!(decisions[0].id.key(), "00000000000000000007/first_response/contract@144000/50pct");
}

#[test]
fn reminders_follow_a_breach_once_each() {
    let p = policy("[alerts]\nreminder_every = \"4h\"\n");
    let facts = ticket("sev1");
    let mut recorded: Vec<String> = Vec::new();
    let mut reminders = Vec::new();
    let mut now = t("2026-12-02T17:00:00-08:00");
    while now < t("2026-12-04T09:00:00-08:00") {
        let clocks = evaluate(&p, &facts, now).unwrap();
        for d in decide(7, &clocks, now, tracked(), |k| recorded.iter().any(|x| x == k)) {
            if matches!(d.id.point, AlertPoint::Reminder(_)) && d.id.metric == Metric::FirstResponse {
                reminders.push((d.id.point, d.at));
            }
            recorded.push(d.id.key());
        }
        now += 10 * 60;
    }
    assert_eq!(
        reminders,
        vec![
            (AlertPoint::Reminder(1), t("2026-12-03T13:00:00-08:00")),
            (AlertPoint::Reminder(2), t("2026-12-03T17:00:00-08:00")),
        ],
        "Wednesday 17:00 breach; 4 business hours later, then 4 more"
    );
    let _ = HOUR;
}

fn message(kind: AlertKind, remaining: i64, goal: Option<&str>) -> AlertMessage {
    AlertMessage {
        key: "00000000000000000123/first_response/contract@86400/breach".into(),
        ticket_id: 123,
        ticket_url: "https://acme.zendesk.com/agent/tickets/123".into(),
        subject: "Connector crashes on start <urgent> & more".into(),
        customer: "Acme Corp".into(),
        tier: "self-hosted".into(),
        contract: None,
        severity: "sev1".into(),
        classified: true,
        metric: "first response".into(),
        goal: goal.map(str::to_string),
        kind,
        target: "24h".into(),
        schedule: "business-hours".into(),
        deadline: Some(t("2026-12-03T01:00:00Z")),
        remaining,
        assignee: Some("Avery Agent".into()),
        group_id: Some(9),
        acknowledged: kind == AlertKind::Warning,
    }
}

#[test]
fn slack_messages_read_well() {
    insta::assert_json_snapshot!("slack_warning", message(AlertKind::Warning, 2 * HOUR + 24 * 60, None).slack());
    insta::assert_json_snapshot!("slack_breach", message(AlertKind::Breach, 0, None).slack());
    insta::assert_json_snapshot!(
        "slack_reminder_goal",
        message(AlertKind::Reminder, -8 * HOUR, Some("sev2-resolved-within-a-week")).slack()
    );
}

#[test]
fn notes_and_webhooks_read_well() {
    insta::assert_snapshot!("note_breach", message(AlertKind::Breach, 0, None).note_text());
    insta::assert_snapshot!("note_warning", message(AlertKind::Warning, 6 * HOUR, None).note_text());
    insta::assert_json_snapshot!("webhook_breach", message(AlertKind::Breach, 0, None).webhook());
}
