//! The clock rules of SPEC §2, one test each, on the default policy unless a
//! test needs its own. Times are US Pacific (PST, UTC-8) business days in the
//! week of Monday 2026-11-30; the self-hosted schedule is Mon–Fri 09:00–17:00.

use slawatch::config::Config;
use slawatch::sla::clock::{evaluate, AlertPoint, ClockState, Event, MetricClock, Role, TicketClocks, TicketFacts};
use slawatch::sla::policy::{Customer, Metric, Policy, TargetKind, Threshold};
use slawatch::sla::time::{format_rfc3339, parse_rfc3339, Duration, HOUR};

const AGENT: u64 = 10;
const CUSTOMER: u64 = 20;
const BOT: u64 = 99;
const ANSWER: &str = "Please upgrade the connector to 4.2.1; the crash you see is fixed there.";

fn t(text: &str) -> i64 {
    parse_rfc3339(text).unwrap()
}

fn defaults() -> Policy {
    Config::defaults().policy
}

fn policy(toml: &str) -> Policy {
    Config::parse("test.toml", toml).unwrap_or_else(|e| panic!("{e}")).policy
}

/// Monday 2026-11-30 09:00 PST.
const MONDAY_9AM: &str = "2026-11-30T09:00:00-08:00";

fn ticket(tier: &str, severity: &str) -> TicketFacts {
    let created = t(MONDAY_9AM);
    TicketFacts {
        created_at: created,
        opened_by_agent: false,
        customer: Customer {
            tier: Some(tier.to_string()),
            contract: None,
        },
        events: vec![
            Event::Status {
                at: created,
                status: "new".into(),
            },
            Event::Severity {
                at: created,
                severity: Some(severity.into()),
            },
            Event::comment(
                &defaults().first_response,
                created,
                CUSTOMER,
                Role::EndUser,
                true,
                "The connector crashes on start.",
            ),
        ],
    }
}

fn comment(at: &str, author_id: u64, role: Role, public: bool, body: &str) -> Event {
    comment_with(&defaults(), at, author_id, role, public, body)
}

/// A comment as a policy's first-response rules read it (its length and whether it is an
/// acknowledgement: the store keeps these facts, not the body).
fn comment_with(p: &Policy, at: &str, author_id: u64, role: Role, public: bool, body: &str) -> Event {
    Event::comment(&p.first_response, t(at), author_id, role, public, body)
}

fn status(at: &str, status: &str) -> Event {
    Event::Status {
        at: t(at),
        status: status.into(),
    }
}

fn severity(at: &str, severity: &str) -> Event {
    Event::Severity {
        at: t(at),
        severity: Some(severity.into()),
    }
}

fn contract_clock(clocks: &TicketClocks, metric: Metric) -> &MetricClock {
    clocks.contract(metric).unwrap()
}

fn fmt(ts: Option<i64>) -> Option<String> {
    ts.map(format_rfc3339)
}

fn at(policy: &Policy, facts: &TicketFacts, now: &str) -> TicketClocks {
    evaluate(policy, facts, t(now)).unwrap()
}

#[test]
fn default_policy_reproduces_the_spec_table() {
    let p = defaults();
    let target = |tier: &str, sev: &str, metric: Metric| {
        p.targets(
            &Customer {
                tier: Some(tier.into()),
                contract: None,
            },
            sev,
            metric,
        )
        .into_iter()
        .find(|t| t.kind == TargetKind::Contract)
        .map(|t| (t.duration, p.schedule_name(t.schedule).to_string()))
    };
    let business = |h: i64| Some((Duration(h * HOUR), "business-hours".to_string()));
    let calendar = |h: i64| Some((Duration(h * HOUR), "24x7".to_string()));
    assert_eq!(target("self-hosted", "sev1", Metric::FirstResponse), business(24));
    assert_eq!(target("self-hosted", "sev1", Metric::Resolution), business(72));
    assert_eq!(target("self-hosted", "sev2", Metric::FirstResponse), business(40));
    assert_eq!(target("self-hosted", "sev2", Metric::Resolution), None);
    assert_eq!(target("managed", "sev1", Metric::FirstResponse), calendar(24));
    assert_eq!(target("managed", "sev1", Metric::Resolution), calendar(72));
    assert_eq!(target("managed", "sev2", Metric::FirstResponse), calendar(7 * 24));
    assert_eq!(target("managed", "sev2", Metric::Resolution), None);

    let hours = match p.schedule(p.schedule_id("business-hours").unwrap()) {
        slawatch::sla::calendar::Schedule::Business(b) => b.hours.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(hours.zone, chrono_tz::America::Los_Angeles);
    assert_eq!(hours.hours.seconds_per_week(), 40 * HOUR);
    assert_eq!(hours.holidays.yearly, vec![(12, 24), (12, 25), (1, 1)]);
    assert_eq!(p.pause_resolution, vec!["pending"]);
    assert!(p.pause_first_response.is_empty());
    assert_eq!(
        p.thresholds,
        vec![Threshold::Percent(50), Threshold::Percent(75), Threshold::Percent(90)]
    );

    // The internal goal: 95% of Severity 2 resolved within one (calendar) week.
    let goals = p.targets(&Customer::default(), "sev2", Metric::Resolution);
    assert_eq!(goals.len(), 1);
    assert_eq!(goals[0].kind, TargetKind::Goal);
    assert_eq!(goals[0].duration, Duration(168 * HOUR));
    assert_eq!(p.goals[0].attainment_percent, 95.0);
}

#[test]
fn a_running_clock_reports_deadline_elapsed_remaining_and_the_next_threshold() {
    let clocks = at(&defaults(), &ticket("self-hosted", "sev1"), "2026-11-30T10:00:00-08:00");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Running);
    assert_eq!(fr.elapsed, HOUR);
    assert_eq!(fr.remaining, 23 * HOUR);
    // 24 business hours = three 8-hour days: Wednesday 17:00 PST.
    assert_eq!(fmt(fr.deadline).as_deref(), Some("2026-12-03T01:00:00Z"));
    // 50% = 12 h: Tuesday 13:00 PST.
    assert_eq!(
        fr.next_alert,
        Some((AlertPoint::Warning(Threshold::Percent(50)), t("2026-12-01T13:00:00-08:00")))
    );
    let marks: Vec<_> = fr.alerts.iter().map(|a| (a.point, fmt(a.at).unwrap(), a.crossed)).collect();
    assert_eq!(
        marks,
        vec![
            (
                AlertPoint::Warning(Threshold::Percent(50)),
                "2026-12-01T21:00:00Z".to_string(),
                false
            ),
            // 18 h: Wednesday 11:00 PST.
            (
                AlertPoint::Warning(Threshold::Percent(75)),
                "2026-12-02T19:00:00Z".to_string(),
                false
            ),
            // 21 h 36 m: Wednesday 14:36 PST.
            (
                AlertPoint::Warning(Threshold::Percent(90)),
                "2026-12-02T22:36:00Z".to_string(),
                false
            ),
            (AlertPoint::Breach, "2026-12-03T01:00:00Z".to_string(), false),
        ]
    );
    let res = contract_clock(&clocks, Metric::Resolution);
    assert_eq!(res.state, ClockState::Running);
    // 72 business hours = nine days: Thursday 2026-12-10 17:00 PST.
    assert_eq!(fmt(res.deadline).as_deref(), Some("2026-12-11T01:00:00Z"));
    assert_eq!(clocks.next_alert(), Some(t("2026-12-01T13:00:00-08:00")));
}

#[test]
fn crossed_thresholds_keep_their_instants_and_the_next_one_is_strictly_later() {
    let clocks = at(&defaults(), &ticket("self-hosted", "sev1"), "2026-12-02T12:00:00-08:00");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.elapsed, 19 * HOUR);
    let crossed: Vec<_> = fr.alerts.iter().filter(|a| a.crossed).map(|a| a.point).collect();
    assert_eq!(
        crossed,
        vec![
            AlertPoint::Warning(Threshold::Percent(50)),
            AlertPoint::Warning(Threshold::Percent(75))
        ]
    );
    assert_eq!(
        fr.next_alert,
        Some((AlertPoint::Warning(Threshold::Percent(90)), t("2026-12-02T14:36:00-08:00")))
    );
}

#[test]
fn a_substantive_public_agent_reply_meets_first_response() {
    let mut facts = ticket("self-hosted", "sev1");
    facts
        .events
        .push(comment("2026-11-30T15:00:00-08:00", AGENT, Role::Agent, true, ANSWER));
    let clocks = at(&defaults(), &facts, "2026-12-01T09:00:00-08:00");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Met);
    assert_eq!(fmt(fr.completed_at).as_deref(), Some("2026-11-30T23:00:00Z"));
    assert_eq!(fr.elapsed, 6 * HOUR);
    assert_eq!(fr.next_alert, None);
    // An admin counts as an agent.
    facts.events.pop();
    facts
        .events
        .push(comment("2026-11-30T15:00:00-08:00", AGENT, Role::Admin, true, ANSWER));
    assert_eq!(
        contract_clock(&at(&defaults(), &facts, "2026-12-01T09:00:00-08:00"), Metric::FirstResponse).state,
        ClockState::Met
    );
}

#[test]
fn private_notes_customer_comments_bots_and_short_comments_do_not_count() {
    let p = policy("[first_response]\nbot_user_ids = [99]\nmin_length = 25\n");
    for (author, role, public, body) in [
        (AGENT, Role::Agent, false, ANSWER),         // an internal note
        (CUSTOMER, Role::EndUser, true, ANSWER),     // the customer
        (BOT, Role::Agent, true, ANSWER),            // a configured bot user
        (AGENT, Role::Agent, true, "See the docs."), // shorter than min_length
        (AGENT, Role::Other, true, ANSWER),          // an unknown role
    ] {
        let mut facts = ticket("self-hosted", "sev1");
        facts
            .events
            .push(comment_with(&p, "2026-11-30T15:00:00-08:00", author, role, public, body));
        let fr = evaluate(&p, &facts, t("2026-12-01T09:00:00-08:00")).unwrap();
        let fr = contract_clock(&fr, Metric::FirstResponse);
        assert_eq!(fr.state, ClockState::Running, "{author} {role:?} {public} {body:?}");
        assert_eq!(fr.completed_at, None);
    }
}

#[test]
fn an_acknowledgement_is_remembered_but_does_not_meet_first_response() {
    let mut facts = ticket("self-hosted", "sev1");
    facts
        .events
        .push(comment("2026-11-30T09:05:00-08:00", AGENT, Role::Agent, true, "Hi! We're on it."));
    facts.events.push(comment(
        "2026-11-30T09:06:00-08:00",
        AGENT,
        Role::Agent,
        true,
        "Thanks for reaching out!",
    ));
    let clocks = at(&defaults(), &facts, "2026-11-30T12:00:00-08:00");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Running);
    assert_eq!(fmt(fr.acknowledged_at).as_deref(), Some("2026-11-30T17:05:00Z"));

    // A long acknowledgement matching a pattern still does not count, but a real answer does.
    let p = policy("[first_response]\nmin_length = 5\nacknowledgement_patterns = ['(?i)^we are (on it|looking into this)']\n");
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(comment_with(
        &p,
        "2026-11-30T10:00:00-08:00",
        AGENT,
        Role::Agent,
        true,
        "We are looking into this and will update you soon with more",
    ));
    let fr = evaluate(&p, &facts, t("2026-11-30T12:00:00-08:00")).unwrap();
    assert_eq!(contract_clock(&fr, Metric::FirstResponse).state, ClockState::Running);
    facts.events.push(comment_with(
        &p,
        "2026-11-30T11:00:00-08:00",
        AGENT,
        Role::Agent,
        true,
        "Restart it.",
    ));
    let clocks = evaluate(&p, &facts, t("2026-11-30T12:00:00-08:00")).unwrap();
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Met);
    assert_eq!(fmt(fr.completed_at).as_deref(), Some("2026-11-30T19:00:00Z"));
    assert_eq!(
        fr.acknowledged_at, None,
        "met: no longer 'acknowledged, no substantive response yet'"
    );
}

#[test]
fn an_agent_opened_ticket_starts_its_response_clock_at_the_customers_first_comment() {
    let created = t(MONDAY_9AM);
    let mut facts = TicketFacts {
        created_at: created,
        opened_by_agent: true,
        customer: Customer {
            tier: Some("self-hosted".into()),
            contract: None,
        },
        events: vec![
            Event::Severity {
                at: created,
                severity: Some("sev1".into()),
            },
            Event::comment(&defaults().first_response, created, AGENT, Role::Agent, true, ANSWER),
        ],
    };
    let fr = at(&defaults(), &facts, "2026-12-01T09:00:00-08:00");
    let fr = contract_clock(&fr, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::NotStarted);
    assert_eq!((fr.deadline, fr.next_alert), (None, None));

    facts.events.push(comment(
        "2026-12-01T10:00:00-08:00",
        CUSTOMER,
        Role::EndUser,
        true,
        "Still broken after the upgrade.",
    ));
    let clocks = at(&defaults(), &facts, "2026-12-01T11:00:00-08:00");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Running);
    assert_eq!(fmt(fr.started_at).as_deref(), Some("2026-12-01T18:00:00Z"));
    assert_eq!(fr.elapsed, HOUR);
    // Tuesday 10:00 + 24 business hours = Friday 10:00 PST.
    assert_eq!(fmt(fr.deadline).as_deref(), Some("2026-12-04T18:00:00Z"));
    // The resolution clock still starts when the ticket was created: Monday 8 h + Tuesday 2 h.
    assert_eq!(contract_clock(&clocks, Metric::Resolution).elapsed, 10 * HOUR);

    facts
        .events
        .push(comment("2026-12-01T12:00:00-08:00", AGENT, Role::Agent, true, ANSWER));
    let fr = at(&defaults(), &facts, "2026-12-01T13:00:00-08:00");
    let fr = contract_clock(&fr, Metric::FirstResponse);
    assert_eq!((fr.state, fr.elapsed), (ClockState::Met, 2 * HOUR));
}

#[test]
fn solved_meets_resolution() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-12-01T09:00:00-08:00", "solved"));
    let clocks = at(&defaults(), &facts, "2026-12-02T09:00:00-08:00");
    let res = contract_clock(&clocks, Metric::Resolution);
    assert_eq!(res.state, ClockState::Met);
    assert_eq!(res.elapsed, 8 * HOUR);
    assert_eq!(fmt(res.completed_at).as_deref(), Some("2026-12-01T17:00:00Z"));
    assert_eq!(res.next_alert, None);
    // Solved without any response: the response clock stops, not breached, not met.
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Stopped);
    assert_eq!(fr.next_alert, None);
    // closed after solved keeps the solve time.
    facts.events.push(status("2026-12-05T09:00:00-08:00", "closed"));
    let res = at(&defaults(), &facts, "2026-12-08T09:00:00-08:00");
    assert_eq!(
        fmt(contract_clock(&res, Metric::Resolution).completed_at).as_deref(),
        Some("2026-12-01T17:00:00Z")
    );
}

#[test]
fn pending_pauses_resolution_and_hold_does_not() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-12-01T09:00:00-08:00", "pending"));
    let clocks = at(&defaults(), &facts, "2026-12-02T12:00:00-08:00");
    let res = contract_clock(&clocks, Metric::Resolution);
    assert_eq!(res.state, ClockState::Paused);
    assert_eq!(res.elapsed, 8 * HOUR);
    assert_eq!(res.remaining, 64 * HOUR);
    assert_eq!((res.deadline, res.next_alert), (None, None));
    // The response clock does not pause on pending by default.
    assert_eq!(contract_clock(&clocks, Metric::FirstResponse).state, ClockState::Running);

    facts.events.push(status("2026-12-03T09:00:00-08:00", "open"));
    let clocks = at(&defaults(), &facts, "2026-12-03T10:00:00-08:00");
    let res = contract_clock(&clocks, Metric::Resolution);
    assert_eq!((res.state, res.elapsed), (ClockState::Running, 9 * HOUR));
    // 64 h left from Thursday 09:00: Mon 2026-12-14 17:00 PST.
    assert_eq!(fmt(res.deadline).as_deref(), Some("2026-12-15T01:00:00Z"));

    let mut held = ticket("self-hosted", "sev1");
    held.events.push(status("2026-12-01T09:00:00-08:00", "hold"));
    let res = at(&defaults(), &held, "2026-12-03T10:00:00-08:00");
    let res = contract_clock(&res, Metric::Resolution);
    assert_eq!((res.state, res.elapsed), (ClockState::Running, 25 * HOUR));
    assert_eq!(fmt(res.deadline).as_deref(), Some("2026-12-11T01:00:00Z"));
}

#[test]
fn pausing_statuses_are_configuration() {
    let p = policy("[policy.pause_statuses]\nfirst_response = [\"hold\"]\nresolution = [\"pending\", \"hold\"]\n");
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-12-01T09:00:00-08:00", "hold"));
    let clocks = evaluate(&p, &facts, t("2026-12-02T12:00:00-08:00")).unwrap();
    assert_eq!(contract_clock(&clocks, Metric::FirstResponse).state, ClockState::Paused);
    assert_eq!(contract_clock(&clocks, Metric::Resolution).state, ClockState::Paused);
    assert_eq!(contract_clock(&clocks, Metric::Resolution).elapsed, 8 * HOUR);
}

#[test]
fn a_reopened_ticket_resumes_the_same_clock() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-12-01T09:00:00-08:00", "solved"));
    facts.events.push(status("2026-12-03T09:00:00-08:00", "open"));
    let clocks = at(&defaults(), &facts, "2026-12-03T10:00:00-08:00");
    let res = contract_clock(&clocks, Metric::Resolution);
    assert_eq!(res.state, ClockState::Running);
    assert_eq!(res.completed_at, None);
    assert_eq!(res.elapsed, 9 * HOUR, "the 8 h before the solve still count");
    assert_eq!(fmt(res.deadline).as_deref(), Some("2026-12-15T01:00:00Z"));
    // Solved again: met at the second solve.
    facts.events.push(status("2026-12-04T09:00:00-08:00", "solved"));
    let res = at(&defaults(), &facts, "2026-12-07T10:00:00-08:00");
    let res = contract_clock(&res, Metric::Resolution);
    assert_eq!((res.state, res.elapsed), (ClockState::Met, 16 * HOUR));
    assert_eq!(fmt(res.completed_at).as_deref(), Some("2026-12-04T17:00:00Z"));
}

#[test]
fn a_clock_past_its_target_is_breached_with_time_overdue() {
    let clocks = at(&defaults(), &ticket("self-hosted", "sev1"), "2026-12-03T11:00:00-08:00");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fmt(fr.breached_at).as_deref(), Some("2026-12-03T01:00:00Z"));
    assert_eq!(fr.deadline, fr.breached_at);
    assert_eq!(fr.remaining, -2 * HOUR);
    assert_eq!(fr.next_alert, None, "no reminders configured");
    // A late reply leaves it breached, with the reply time.
    let mut facts = ticket("self-hosted", "sev1");
    facts
        .events
        .push(comment("2026-12-03T11:00:00-08:00", AGENT, Role::Agent, true, ANSWER));
    let fr = at(&defaults(), &facts, "2026-12-04T09:00:00-08:00");
    let fr = contract_clock(&fr, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fmt(fr.completed_at).as_deref(), Some("2026-12-03T19:00:00Z"));
}

#[test]
fn a_reply_at_the_deadline_instant_meets_the_target() {
    let mut facts = ticket("self-hosted", "sev1");
    facts
        .events
        .push(comment("2026-12-02T17:00:00-08:00", AGENT, Role::Agent, true, ANSWER));
    let fr = at(&defaults(), &facts, "2026-12-03T09:00:00-08:00");
    let fr = contract_clock(&fr, Metric::FirstResponse);
    assert_eq!((fr.state, fr.remaining), (ClockState::Met, 0));
}

#[test]
fn reminders_follow_a_breach_when_configured() {
    let p = policy("[alerts]\nreminder_every = \"4h\"\n");
    let clocks = evaluate(&p, &ticket("self-hosted", "sev1"), t("2026-12-03T14:00:00-08:00")).unwrap();
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    // 5 business hours overdue: the first reminder (4 h) has passed, the second is at 8 h overdue,
    // Thursday 17:00 PST.
    assert_eq!(fr.remaining, -5 * HOUR);
    assert_eq!(fr.next_alert, Some((AlertPoint::Reminder(2), t("2026-12-03T17:00:00-08:00"))));
}

#[test]
fn thresholds_can_be_lead_times_per_target() {
    let p = policy("[tiers.self-hosted]\nschedule = \"business-hours\"\ntargets.sev1 = { first_response = { target = \"24h\", thresholds = [\"2h before\", \"25%\"] } }\n");
    let clocks = evaluate(&p, &ticket("self-hosted", "sev1"), t(MONDAY_9AM)).unwrap();
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    let marks: Vec<_> = fr.alerts.iter().map(|a| (a.point, fmt(a.at).unwrap())).collect();
    assert_eq!(
        marks,
        vec![
            // 6 h: Monday 15:00 PST.
            (AlertPoint::Warning(Threshold::Percent(25)), "2026-11-30T23:00:00Z".to_string()),
            // 22 h: Wednesday 15:00 PST.
            (
                AlertPoint::Warning(Threshold::Before(Duration(2 * HOUR))),
                "2026-12-02T23:00:00Z".to_string()
            ),
            (AlertPoint::Breach, "2026-12-03T01:00:00Z".to_string()),
        ]
    );
}

#[test]
fn a_severity_change_rederives_deadlines_from_the_original_start() {
    // Created as sev2 (40 h to respond), raised to sev1 (24 h) on Tuesday: the deadline is
    // 24 h from Monday's creation, not from the change.
    let mut facts = ticket("self-hosted", "sev2");
    facts.events.push(severity("2026-12-01T10:00:00-08:00", "sev1"));
    let clocks = at(&defaults(), &facts, "2026-12-01T11:00:00-08:00");
    assert_eq!(clocks.severity, "sev1");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fmt(fr.deadline).as_deref(), Some("2026-12-03T01:00:00Z"));
    assert_eq!(fr.elapsed, 10 * HOUR);
    // And a resolution target appears, also from the original start.
    assert_eq!(
        fmt(contract_clock(&clocks, Metric::Resolution).deadline).as_deref(),
        Some("2026-12-11T01:00:00Z")
    );

    // A downgrade lengthens it the same way: 40 h from Monday 09:00 is five full days, ending at
    // Friday's closing instant (17:00 PST), not the next Monday's opening.
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(severity("2026-12-01T10:00:00-08:00", "sev2"));
    let clocks = at(&defaults(), &facts, "2026-12-01T11:00:00-08:00");
    assert_eq!(
        fmt(contract_clock(&clocks, Metric::FirstResponse).deadline).as_deref(),
        Some("2026-12-05T01:00:00Z")
    );
    assert_eq!(contract_clock(&clocks, Metric::Resolution).state, ClockState::NotApplicable);
}

#[test]
fn an_upgrade_already_past_its_new_target_breaches_at_once() {
    let mut facts = ticket("self-hosted", "sev2");
    // Thursday 10:00: 25 business hours in, past sev1's 24 h.
    facts.events.push(severity("2026-12-03T10:00:00-08:00", "sev1"));
    let before = at(&defaults(), &facts, "2026-12-03T09:59:59-08:00");
    assert_eq!(contract_clock(&before, Metric::FirstResponse).state, ClockState::Running);
    let after = at(&defaults(), &facts, "2026-12-03T10:00:00-08:00");
    let fr = contract_clock(&after, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Breached);
    assert_eq!(fmt(fr.breached_at).as_deref(), Some("2026-12-03T01:00:00Z"));
    assert!(fr.alerts.iter().all(|a| a.crossed), "every threshold is already behind it");
}

#[test]
fn a_ticket_without_severity_gets_the_default_and_is_unclassified() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.retain(|e| !matches!(e, Event::Severity { .. }));
    let clocks = at(&defaults(), &facts, "2026-11-30T10:00:00-08:00");
    assert_eq!((clocks.severity.as_str(), clocks.classified), ("sev2", false));
    let mut facts = ticket("self-hosted", "sev9");
    facts.customer.tier = Some("no-such-tier".into());
    let clocks = at(&defaults(), &facts, "2026-11-30T10:00:00-08:00");
    assert_eq!(
        (clocks.severity.as_str(), clocks.classified, clocks.tier.as_str()),
        ("sev2", false, "self-hosted")
    );
}

#[test]
fn a_deleted_ticket_stops_every_clock() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-11-30T11:00:00-08:00", "deleted"));
    let clocks = at(&defaults(), &facts, "2026-12-10T11:00:00-08:00");
    assert!(clocks.deleted);
    for clock in &clocks.clocks {
        assert_eq!(clock.state, ClockState::Stopped, "{clock:?}");
        assert_eq!(clock.next_alert, None);
        assert_eq!(clock.elapsed, 2 * HOUR);
    }
}

#[test]
fn an_unknown_status_keeps_the_clocks_running() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-11-30T11:00:00-08:00", "awaiting_vendor"));
    let clocks = at(&defaults(), &facts, "2026-11-30T12:00:00-08:00");
    assert_eq!(contract_clock(&clocks, Metric::Resolution).state, ClockState::Running);
    assert_eq!(contract_clock(&clocks, Metric::Resolution).elapsed, 3 * HOUR);
}

#[test]
fn the_managed_tier_runs_on_the_calendar() {
    // Saturday creation: a calendar clock counts the weekend.
    let mut facts = ticket("managed", "sev1");
    facts.created_at = t("2026-12-05T09:00:00Z");
    for e in &mut facts.events {
        *e = match e.clone() {
            Event::Status { status, .. } => Event::Status {
                at: facts.created_at,
                status,
            },
            Event::Severity { severity, .. } => Event::Severity {
                at: facts.created_at,
                severity,
            },
            Event::Comment {
                author_id,
                role,
                public,
                length,
                acknowledgement,
                ..
            } => Event::Comment {
                at: facts.created_at,
                author_id,
                role,
                public,
                length,
                acknowledgement,
                docs_link: false,
            },
        };
    }
    let clocks = at(&defaults(), &facts, "2026-12-05T21:00:00Z");
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!((fr.state, fr.elapsed), (ClockState::Running, 12 * HOUR));
    assert_eq!(fmt(fr.deadline).as_deref(), Some("2026-12-06T09:00:00Z"));
    assert_eq!(
        fmt(contract_clock(&clocks, Metric::Resolution).deadline).as_deref(),
        Some("2026-12-08T09:00:00Z")
    );
}

#[test]
fn a_contract_overrides_targets_and_schedule_per_organization() {
    let p = policy(
        r#"
[contracts.acme-elite]
tier = "self-hosted"
schedule = "24x7"
targets.sev1 = { first_response = "4h" }
"#,
    );
    let mut facts = ticket("self-hosted", "sev1");
    facts.customer.contract = Some("acme-elite".into());
    let clocks = evaluate(&p, &facts, t(MONDAY_9AM)).unwrap();
    assert_eq!(clocks.contract.as_deref(), Some("acme-elite"));
    assert_eq!(clocks.tier, "self-hosted");
    assert_eq!(
        fmt(contract_clock(&clocks, Metric::FirstResponse).deadline).as_deref(),
        Some("2026-11-30T21:00:00Z")
    );
    // Resolution keeps the tier's 72 h, on the contract's calendar clock.
    assert_eq!(
        fmt(contract_clock(&clocks, Metric::Resolution).deadline).as_deref(),
        Some("2026-12-03T17:00:00Z")
    );
    // Without the contract, the same organization's tier applies.
    facts.customer.contract = None;
    let clocks = evaluate(&p, &facts, t(MONDAY_9AM)).unwrap();
    assert_eq!(
        fmt(contract_clock(&clocks, Metric::FirstResponse).deadline).as_deref(),
        Some("2026-12-03T01:00:00Z")
    );
}

#[test]
fn goals_run_beside_contract_targets_and_are_labelled_as_goals() {
    let p = policy(
        r#"
[schedules.team-hours]
time_zone = "UTC"
hours = { mon = ["09:00-24:00"], tue = ["09:00-24:00"], wed = ["09:00-24:00"], thu = ["09:00-24:00"], fri = ["09:00-24:00"], sat = ["09:00-24:00"], sun = ["09:00-24:00"] }

[[goals]]
name = "sev2-resolved-within-a-week"
metric = "resolution"
severities = ["sev2"]
target = "1w"
schedule = "24x7"
attainment = "95%"
thresholds = ["90%"]

[[goals]]
name = "team-first-response-1h"
metric = "first_response"
target = "1h"
schedule = "team-hours"
"#,
    );
    // Created Monday 09:00 PST = 17:00 UTC, inside team hours.
    let clocks = evaluate(&p, &ticket("self-hosted", "sev2"), t(MONDAY_9AM)).unwrap();
    let goals: Vec<_> = clocks
        .clocks
        .iter()
        .filter(|c| c.kind == TargetKind::Goal)
        .map(|c| (c.metric, c.name.as_str(), fmt(c.deadline).unwrap()))
        .collect();
    assert_eq!(
        goals,
        vec![
            (Metric::FirstResponse, "team-first-response-1h", "2026-11-30T18:00:00Z".to_string()),
            (
                Metric::Resolution,
                "sev2-resolved-within-a-week",
                "2026-12-07T17:00:00Z".to_string()
            ),
        ]
    );
    // Severity 2 has no contractual resolution target: not applicable, with the goal beside it.
    assert_eq!(contract_clock(&clocks, Metric::Resolution).state, ClockState::NotApplicable);
    // Created at 23:30 UTC: the 1 h goal ends at 24:00 and resumes at 09:00 the next day.
    let mut late = ticket("self-hosted", "sev2");
    late.created_at = t("2026-11-30T23:30:00Z");
    let clocks = evaluate(&p, &late, t("2026-11-30T23:45:00Z")).unwrap();
    let team = clocks.clocks.iter().find(|c| c.name == "team-first-response-1h").unwrap();
    assert_eq!(fmt(team.deadline).as_deref(), Some("2026-12-01T09:30:00Z"));
}

#[test]
fn evaluation_ignores_facts_after_now_and_is_repeatable() {
    let mut facts = ticket("self-hosted", "sev1");
    facts
        .events
        .push(comment("2026-12-01T09:00:00-08:00", AGENT, Role::Agent, true, ANSWER));
    let before = at(&defaults(), &facts, "2026-11-30T10:00:00-08:00");
    assert_eq!(contract_clock(&before, Metric::FirstResponse).state, ClockState::Running);
    assert_eq!(before, at(&defaults(), &facts, "2026-11-30T10:00:00-08:00"));
}

#[test]
fn the_default_acknowledgement_patterns_catch_common_acknowledgements() {
    let rules = &defaults().first_response;
    for ack in [
        "We’re looking into this for you now!",
        "Hi John, we're looking into this now.",
        "Thanks for reaching out! We're on it.",
        "Thank you for contacting us, we're on it!",
        "Hello! I’ll take a look at this.",
        "Hi! We're on it.",
        "Thanks so much for your patience! I will look into this shortly.",
        "Hey there — I'm investigating it right now.",
    ] {
        assert!(!rules.is_substantive_text(ack), "counted as a response: {ack:?}");
    }
    for answer in [
        ANSWER,
        "Hi John, please restart the connector service and send us the new log.",
        "Thanks for reaching out! The fix is in 4.2.1, released today.",
        "We're on it: the root cause is the expired certificate on the proxy; renew it with the command below.",
    ] {
        assert!(rules.is_substantive_text(answer), "not counted as a response: {answer:?}");
    }
}

#[test]
fn reminders_already_due_are_listed_so_none_is_lost() {
    let p = policy("[alerts]\nreminder_every = \"4h\"\n");
    // Exactly when the first reminder falls due (4 business hours after Wednesday 17:00).
    let clocks = evaluate(&p, &ticket("self-hosted", "sev1"), t("2026-12-03T13:00:00-08:00")).unwrap();
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    let first = fr.alerts.iter().find(|a| a.point == AlertPoint::Reminder(1)).unwrap();
    assert!(first.crossed);
    assert_eq!(fmt(first.at).as_deref(), Some("2026-12-03T21:00:00Z"));
    // The second 4 h later: Thursday 17:00 PST, the closing instant.
    assert_eq!(fr.next_alert, Some((AlertPoint::Reminder(2), t("2026-12-03T17:00:00-08:00"))));
}

#[test]
fn a_response_clock_solved_without_a_reply_stops_at_the_solve() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-12-01T09:00:00-08:00", "solved"));
    facts.events.push(status("2026-12-05T09:00:00-08:00", "closed"));
    let fr = at(&defaults(), &facts, "2026-12-08T09:00:00-08:00");
    let fr = contract_clock(&fr, Metric::FirstResponse);
    assert_eq!(
        (fr.state, fmt(fr.completed_at).as_deref()),
        (ClockState::Stopped, Some("2026-12-01T17:00:00Z"))
    );
    assert_eq!(fr.deadline, None, "a stopped clock has no deadline");
}

#[test]
fn a_met_clock_shows_no_made_up_deadline() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-12-01T09:00:00-08:00", "pending"));
    facts.events.push(status("2026-12-20T09:00:00-08:00", "solved"));
    let res = at(&defaults(), &facts, "2026-12-21T09:00:00-08:00");
    let res = contract_clock(&res, Metric::Resolution);
    assert_eq!((res.state, res.deadline, res.elapsed), (ClockState::Met, None, 8 * HOUR));
}

#[test]
fn events_out_of_order_and_a_read_before_creation_are_handled() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.events.push(status("2026-12-02T09:00:00-08:00", "open"));
    facts.events.push(status("2026-12-01T09:00:00-08:00", "solved"));
    let res = at(&defaults(), &facts, "2026-12-02T10:00:00-08:00");
    assert_eq!(
        contract_clock(&res, Metric::Resolution).state,
        ClockState::Running,
        "solved then reopened"
    );

    let early = at(&defaults(), &ticket("self-hosted", "sev1"), "2026-11-30T08:59:55-08:00");
    assert!(early.classified, "the severity set at creation applies");
    let fr = contract_clock(&early, Metric::FirstResponse);
    assert_eq!((fr.elapsed, fr.remaining), (0, 24 * HOUR));
}

#[test]
fn a_deleted_agent_opened_ticket_is_stopped_and_unknown_contracts_are_not_reported() {
    let mut facts = ticket("self-hosted", "sev1");
    facts.opened_by_agent = true;
    facts.events.retain(|e| !matches!(e, Event::Comment { .. }));
    facts.events.push(status("2026-11-30T10:00:00-08:00", "deleted"));
    facts.customer.contract = Some("no-such-contract".into());
    let clocks = at(&defaults(), &facts, "2026-12-01T10:00:00-08:00");
    assert_eq!(contract_clock(&clocks, Metric::FirstResponse).state, ClockState::Stopped);
    assert_eq!(clocks.contract, None);
}

#[test]
fn a_target_whose_projection_leaves_the_calendar_range_is_not_an_error() {
    let p = policy("[tiers.self-hosted]\nschedule = \"business-hours\"\ntargets.sev1 = { first_response = \"500w\" }\n");
    let clocks = evaluate(&p, &ticket("self-hosted", "sev1"), t("2026-12-01T10:00:00-08:00")).unwrap();
    let fr = contract_clock(&clocks, Metric::FirstResponse);
    assert_eq!(fr.state, ClockState::Running);
    assert!(
        fr.deadline.is_some(),
        "500 business weeks (about 48 years) is still inside the range"
    );
    assert_eq!(
        Threshold::Percent(90).mark(Duration(i64::MAX / 2)),
        Some((i64::MAX / 2) / 100 * 90 + (i64::MAX / 2) % 100 * 90 / 100)
    );
}
