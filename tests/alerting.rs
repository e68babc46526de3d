//! Which alerts a ticket's clocks raise (SPEC §2 thresholds, §3.3), and the
//! texts people read, as snapshots.

use slawatch::config::Config;
use slawatch::engine::status::clock_display;
use slawatch::notify::message::{AlertMessage, Render, TicketLine};
use slawatch::sla::alerting::{at_delivery, decide, AlertId, AtDelivery, Recorded, Sight, Verdict};
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
                length: 11,
                acknowledgement: false,
                docs_link: false,
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

/// What the store would answer for an alert decided (and sent) earlier.
fn binding(recorded: bool) -> Option<Recorded> {
    recorded.then_some(Recorded { at: 0, binding: true })
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
    let decisions = decide(7, &clocks, now, seen(now, DAY), |_| None).decided;
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
    assert!(decide(7, &clocks, now, seen(now, DAY), |k| binding(keys.iter().any(|x| x == k)))
        .decided
        .is_empty());
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
        for d in decide(7, &clocks, now, tracked(), |k| binding(recorded.iter().any(|x| x == k))).decided {
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
    let decisions = decide(7, &clocks, now, seen(now, DAY), |_| None).decided;
    let fr: Vec<_> = decisions
        .iter()
        .filter(|d| d.id.metric == Metric::FirstResponse)
        .map(|d| (d.id.point, d.verdict.clone()))
        .collect();
    assert_eq!(fr.last(), Some(&(AlertPoint::Breach, Verdict::TooOld)));
    assert!(sent(&decisions).iter().all(|(m, _)| *m != Metric::FirstResponse));
    // Within the window it is sent.
    let decisions = decide(7, &clocks, now, seen(now, 30 * DAY), |_| None).decided;
    assert!(sent(&decisions).contains(&(Metric::FirstResponse, AlertPoint::Breach)));
    // And a ticket tracked all along gets its breach however late it is decided (downtime).
    let decisions = decide(7, &clocks, now, tracked(), |_| None).decided;
    assert!(sent(&decisions).contains(&(Metric::FirstResponse, AlertPoint::Breach)));
}

#[test]
fn a_met_clock_raises_nothing_and_cancels_what_is_pending() {
    let p = policy("");
    let mut facts = ticket("sev1");
    let now = t("2026-12-02T15:00:00-08:00");
    let before = evaluate(&p, &facts, now).unwrap();
    let pending = decide(7, &before, now, tracked(), |_| None)
        .decided
        .into_iter()
        .find(|d| d.verdict == Verdict::Send)
        .unwrap();
    assert_eq!(at_delivery(&before, &pending.id, now), AtDelivery::Deliver);
    facts.events.push(Event::comment(
        &p.first_response,
        t("2026-12-02T14:59:00-08:00"),
        2,
        Role::Agent,
        true,
        "Please upgrade to 4.2.1; the crash is fixed there.",
    ));
    let after = evaluate(&p, &facts, now).unwrap();
    assert_eq!(
        at_delivery(&after, &pending.id, now),
        AtDelivery::Moot("the clock was met or stopped")
    );
    assert!(decide(7, &after, now, tracked(), |_| None)
        .decided
        .iter()
        .all(|d| d.id.metric != Metric::FirstResponse));
}

#[test]
fn a_severity_change_is_a_new_clock_instance_and_goals_are_labelled() {
    let p = policy("");
    let now = t("2026-12-08T12:00:00-08:00");
    let sev2 = evaluate(&p, &ticket("sev2"), now).unwrap();
    let decisions = decide(7, &sev2, now, seen(now, 30 * DAY), |_| None).decided;
    let goal = decisions
        .iter()
        .find(|d| d.kind == TargetKind::Goal)
        .expect("the sev2 resolution goal");
    assert_eq!(goal.id.target_name, "sev2-resolved-within-a-week");
    assert_eq!(goal.id.point, AlertPoint::Breach);
    let sev1 = evaluate(&p, &ticket("sev1"), now).unwrap();
    let sev1_keys: Vec<String> = decide(7, &sev1, now, seen(now, 30 * DAY), |_| None)
        .decided
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
        for d in decide(7, &clocks, now, tracked(), |k| binding(recorded.iter().any(|x| x == k))).decided {
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

/// The alert at `point` of ticket 123's first-response (or `goal`) clock, rendered at `now` from
/// the clock as it is then.
fn rendered(severity: &str, point: AlertPoint, goal: Option<&str>, now: &str, delayed: Option<&str>) -> AlertMessage {
    let config = Config::parse("test.toml", "").unwrap();
    let now = t(now);
    let clocks = evaluate(&config.policy, &ticket(severity), now).unwrap();
    let clock = match goal {
        Some(name) => clocks.clocks.iter().find(|c| c.name == name).unwrap(),
        None => clocks.contract(Metric::FirstResponse).unwrap(),
    };
    let crossed_at = clock.alerts.iter().find(|a| a.point == point).and_then(|a| a.at).unwrap();
    let display = clock_display(&config, clock.schedule);
    let id = AlertId {
        ticket_id: 123,
        metric: clock.metric,
        target_name: clock.name.clone(),
        target: clock.target.unwrap(),
        point,
    };
    AlertMessage::render(Render {
        key: &id.key(),
        ticket: TicketLine {
            id: 123,
            url: "https://acme.zendesk.com/agent/tickets/123".into(),
            subject: "Connector crashes on start <urgent> & more".into(),
            customer: "Acme Corp".into(),
            tier: clocks.tier.clone(),
            contract: None,
            severity: clocks.severity.clone(),
            classified: true,
            assignee: Some("Avery Agent".into()),
            mention: None,
            group_id: Some(9),
        },
        clock,
        point,
        goal,
        schedule: &display.name,
        business_clock: display.business,
        zone: display.zone,
        crossed_at,
        now,
        delayed: delayed.map(str::to_string),
    })
}

const NINETY: AlertPoint = AlertPoint::Warning(Threshold::Percent(90));

#[test]
fn a_late_warning_tells_the_time_left_at_delivery_not_the_thresholds() {
    // The 90% point of the 24 business hours was Wednesday 14:36 PST; delivered at 16:31 (first
    // seen late, say), 29 minutes are left, not 2h 24m.
    let message = rendered("sev1", NINETY, None, "2026-12-02T16:31:00-08:00", None);
    assert_eq!(message.point, "90% of the 24h first-response target used");
    assert_eq!(message.time_left_seconds, 29 * 60);
    assert_eq!(message.time_text, "29 business minutes left");
    assert_eq!(message.deadline_local.as_deref(), Some("Wed 2 Dec 17:00 PST"));
    assert_eq!(message.title(), "SLA warning: first response on #123, 29 business minutes left");
    // On time, it says what the threshold says, on the business clock.
    let on_time = rendered("sev1", NINETY, None, "2026-12-02T14:36:00-08:00", None);
    assert_eq!(on_time.time_text, "2 business hours 24 min left");
    // Business time is never printed as days: 51 business hours left reads as such.
    let early = rendered(
        "sev2",
        AlertPoint::Warning(Threshold::Percent(50)),
        None,
        "2026-12-03T09:00:00-08:00",
        None,
    );
    assert!(early.time_text.ends_with("business hours left"), "{}", early.time_text);
    assert!(!early.time_text.contains('d'), "{}", early.time_text);
}

#[test]
fn a_breach_told_late_says_how_long_ago() {
    let message = rendered(
        "sev1",
        AlertPoint::Breach,
        None,
        "2026-12-02T19:10:00-08:00",
        Some("delayed: Slack (oncall) was unreachable for 2h 10m"),
    );
    assert_eq!(message.time_text, "breached 2h 10m ago");
    assert_eq!(message.title(), "SLA breached: first response on #123");
    assert!(
        message.note_text().contains("Delayed: Slack (oncall) was unreachable for 2h 10m."),
        "{}",
        message.note_text()
    );
    let webhook = message.webhook();
    assert_eq!(webhook["alert"]["deadline_local"], "Wed 2 Dec 17:00 PST");
    assert_eq!(webhook["alert"]["clock"], "business");
    // Out of business hours the business clock stands still: nothing more is overdue until 09:00.
    assert_eq!(webhook["alert"]["time_left_seconds"], 0);
}

#[test]
fn a_warning_superseded_or_made_moot_by_delivery_time_is_not_sent() {
    let p = policy("");
    let facts = ticket("sev1");
    // The 50% warning, decided Tuesday 13:00, still queued on Wednesday 11:30 (75% crossed).
    let at_decision = evaluate(&p, &facts, t("2026-12-01T13:00:00-08:00")).unwrap();
    let fifty = decide(7, &at_decision, t("2026-12-01T13:00:00-08:00"), tracked(), |_| None).decided;
    let fifty = &fifty.iter().find(|d| d.verdict == Verdict::Send).unwrap().id;
    let later = t("2026-12-02T11:30:00-08:00");
    assert_eq!(
        at_delivery(&evaluate(&p, &facts, later).unwrap(), fifty, later),
        AtDelivery::Superseded
    );
    // After the breach it is superseded too; the breach itself is always told.
    let after_breach = t("2026-12-02T18:00:00-08:00");
    let clocks = evaluate(&p, &facts, after_breach).unwrap();
    assert_eq!(at_delivery(&clocks, fifty, after_breach), AtDelivery::Superseded);
}

#[test]
fn a_decision_on_half_the_facts_is_decided_again_when_the_rest_arrives() {
    let p = policy("");
    let created = t("2026-11-30T09:00:00-08:00");
    let snapshot = ticket("sev1");
    let resolution = |facts: &TicketFacts, now: i64| {
        let clocks = evaluate(&p, facts, now).unwrap();
        let clock = clocks.contract(Metric::Resolution).unwrap().clone();
        (clocks, clock)
    };
    let ninety_at = |clock: &slawatch::sla::clock::MetricClock| clock.alerts.iter().find(|a| a.point == NINETY).and_then(|a| a.at).unwrap();
    // The snapshot alone (no pause known): first seen two hours after its 90% point, which is
    // recorded as too old to send.
    let (_, clock) = resolution(&snapshot, t("2026-12-31T00:00:00Z"));
    let now = ninety_at(&clock) + 2 * HOUR;
    let sight = seen(now, HOUR);
    let (clocks, _) = resolution(&snapshot, now);
    let first = decide(7, &clocks, now, sight, |_| None);
    assert!(first.decided.iter().all(|d| d.verdict != Verdict::Send), "{first:?}");
    let mut recorded: std::collections::HashMap<String, Recorded> = first
        .decided
        .iter()
        .map(|d| (d.id.key(), Recorded { at: d.at, binding: false }))
        .collect();

    // Then the events export: pending for the first two business days. The 75% and 90% points
    // the snapshot implied were never crossed: void, not remembered.
    let mut whole = snapshot.clone();
    whole.events.push(Event::Status {
        at: created,
        status: "pending".into(),
    });
    whole.events.push(Event::Status {
        at: t("2026-12-02T09:00:00-08:00"),
        status: "open".into(),
    });
    let (clocks, clock) = resolution(&whole, now);
    let again = decide(7, &clocks, now, sight, |k| recorded.get(k).copied());
    let key = |point| {
        let d = first
            .decided
            .iter()
            .find(|d| d.id.metric == Metric::Resolution && d.id.point == point);
        d.unwrap().id.key()
    };
    assert!(again.voided.contains(&key(NINETY)), "{again:?}");
    assert!(
        again.voided.contains(&key(AlertPoint::Warning(Threshold::Percent(75)))),
        "{again:?}"
    );
    for voided in &again.voided {
        recorded.remove(voided);
    }
    for d in &again.decided {
        recorded.insert(
            d.id.key(),
            Recorded {
                at: d.at,
                binding: d.verdict == Verdict::Send,
            },
        );
    }
    // When the 90% point truly comes, it is sent.
    let later = ninety_at(&clock);
    assert!(later > now);
    let (clocks, _) = resolution(&whole, later);
    let sent_later = decide(7, &clocks, later, sight, |k| recorded.get(k).copied());
    assert!(
        sent_later
            .decided
            .iter()
            .any(|d| d.verdict == Verdict::Send && d.id.point == NINETY),
        "{sent_later:?}"
    );
    let _ = DAY;
}

#[test]
fn slack_messages_read_well() {
    insta::assert_json_snapshot!(
        "slack_warning",
        rendered("sev1", NINETY, None, "2026-12-02T14:36:00-08:00", None).slack()
    );
    insta::assert_json_snapshot!(
        "slack_breach",
        rendered("sev1", AlertPoint::Breach, None, "2026-12-02T17:00:30-08:00", None).slack()
    );
    insta::assert_json_snapshot!(
        "slack_breach_goal_late",
        rendered(
            "sev2",
            AlertPoint::Breach,
            Some("sev2-resolved-within-a-week"),
            "2026-12-08T12:00:00-08:00",
            Some("delayed: this point was crossed 1d 3h ago (slawatch was down or behind)")
        )
        .slack()
    );
}

#[test]
fn notes_and_webhooks_read_well() {
    insta::assert_snapshot!(
        "note_breach",
        rendered("sev1", AlertPoint::Breach, None, "2026-12-02T17:00:30-08:00", None).note_text()
    );
    insta::assert_snapshot!(
        "note_warning",
        rendered("sev1", NINETY, None, "2026-12-02T16:31:00-08:00", None).note_text()
    );
    insta::assert_json_snapshot!(
        "webhook_breach",
        rendered("sev1", AlertPoint::Breach, None, "2026-12-02T17:00:30-08:00", None).webhook()
    );
}

#[test]
fn a_breach_answered_before_it_was_decided_is_still_told() {
    let p = policy("");
    let mut facts = ticket("sev1");
    // The breach was Wednesday 17:00; the answer came at 17:20, before the decider got to it
    // (a failed confirmation read, downtime).
    facts.events.push(Event::comment(
        &p.first_response,
        t("2026-12-02T17:20:00-08:00"),
        2,
        Role::Agent,
        true,
        "Please upgrade to 4.2.1; the crash is fixed there.",
    ));
    let now = t("2026-12-02T17:30:00-08:00");
    let clocks = evaluate(&p, &facts, now).unwrap();
    let decided = decide(7, &clocks, now, tracked(), |_| None).decided;
    let fr: Vec<(AlertPoint, Verdict)> = decided
        .iter()
        .filter(|d| d.id.metric == Metric::FirstResponse)
        .map(|d| (d.id.point, d.verdict.clone()))
        .collect();
    assert_eq!(fr, vec![(AlertPoint::Breach, Verdict::Send)], "only the breach, no warnings");
    let breach = &decided
        .iter()
        .find(|d| d.id.point == AlertPoint::Breach && d.id.metric == Metric::FirstResponse)
        .unwrap()
        .id;
    assert_eq!(at_delivery(&clocks, breach, now), AtDelivery::Deliver);
}
