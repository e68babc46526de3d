//! Alerts end to end (SPEC §2 thresholds, §3.3, §5): the engine polls the
//! simulated Zendesk and fires at each threshold instant, in virtual time,
//! delivering to the simulated Slack; restarts reopen the same sled store.

mod common;

use common::{t, titles, Harness, ANSWER, SUPPORT_ONLY};
use slawatch::engine::Engine;
use slawatch::store::AlertStatus;

/// Runs the daemon's two loops in virtual time until `until`: a poll every ten minutes,
/// and the alert timer at each instant it asks for.
async fn run_until(engine: &Engine, h: &Harness, until: i64) {
    run_polling_every(engine, h, until, 600).await;
}

async fn run_polling_every(engine: &Engine, h: &Harness, until: i64, poll_interval: i64) {
    let mut next_poll = h.clock.now();
    loop {
        let now = h.clock.now();
        let wake = engine.next_wake_ms().unwrap().map(|ms| (ms + 999) / 1000).unwrap_or(i64::MAX);
        let next = next_poll.min(wake).min(until).max(now);
        h.clock.set(next);
        if next >= next_poll {
            engine.poll().await.unwrap();
            next_poll = next + poll_interval;
        }
        engine.fire_due().await.unwrap();
        if next >= until {
            break;
        }
    }
}

fn sev1_ticket(h: &Harness) -> u64 {
    h.ticket("sev1")
}

#[tokio::test]
async fn warnings_and_the_breach_reach_slack_once_each_at_their_instants() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    run_until(&h.engine, &h, t("2026-12-03T12:00:00-08:00")).await;
    assert_eq!(
        titles(&h),
        vec![
            format!("SLA warning: first response on #{id}, 12 business hours left"),
            format!("SLA warning: first response on #{id}, 6 business hours left"),
            format!("SLA warning: first response on #{id}, 2 business hours 24 min left"),
            format!("SLA breached: first response on #{id}"),
        ]
    );
    // Each was sent at its threshold instant (virtual time), not at the next poll.
    let alerts = h.engine.store.alerts_of(id).unwrap();
    let sent: Vec<(i64, i64)> = alerts
        .iter()
        .filter(|a| a.status == AlertStatus::Delivered)
        .map(|a| (a.at, a.deliveries[0].sent_at.unwrap()))
        .collect();
    assert_eq!(sent.len(), 4);
    for (at, sent_at) in sent {
        assert!(sent_at - at <= 1, "threshold at {at}, sent at {sent_at}");
    }
    let message = &h.slack.messages()[3].body;
    let fields = message["blocks"][3]["fields"].to_string();
    for expected in [
        "Acme",
        "self-hosted",
        "sev1",
        "first response, 24h (contract, business-hours clock)",
        "unassigned",
    ] {
        assert!(fields.contains(expected), "{expected} missing from {fields}");
    }
    assert!(message["blocks"][1]["text"]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("/agent/tickets/{id}|#{id} Connector crashes")));

    // Nothing is sent twice: not by another pass, not after a restart.
    let mut h = h;
    h.engine.fire_due().await.unwrap();
    h.restart().await;
    run_until(&h.engine, &h, t("2026-12-03T13:00:00-08:00")).await;
    assert_eq!(h.slack.messages().len(), 4);
}

#[tokio::test]
async fn a_reply_seconds_before_the_deadline_prevents_the_breach_alert() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    run_until(&h.engine, &h, t("2026-12-02T16:59:50-08:00")).await;
    assert_eq!(h.slack.messages().len(), 3, "the three warnings");
    // The reply lands ten seconds before the deadline: the exports will not show it for a minute.
    h.sim.add_comment(id, h.agent, ANSWER, true);
    run_until(&h.engine, &h, t("2026-12-02T17:00:30-08:00")).await;
    assert_eq!(h.slack.messages().len(), 3, "no breach alert: {:?}", titles(&h));
    assert!(h
        .engine
        .store
        .alerts_of(id)
        .unwrap()
        .iter()
        .all(|a| !a.key.ends_with("/breach") || a.status != AlertStatus::Delivered));
    // Live reads of the ticket: one per alert decided, never one per ticket or poll.
    let reads = h.sim.request_count(&format!("/api/v2/tickets/{id}.json"));
    assert!((1..=4).contains(&reads), "{reads} live reads");
}

#[tokio::test]
async fn reads_to_confirm_grow_with_alerts_not_with_tickets() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let urgent = sev1_ticket(&h);
    for _ in 0..50 {
        h.ticket("sev2");
    }
    // Up to Tuesday 14:00: only the sev1 ticket's 50% warning (Tuesday 13:00) is due.
    run_until(&h.engine, &h, t("2026-12-01T14:00:00-08:00")).await;
    assert_eq!(
        titles(&h),
        vec![format!("SLA warning: first response on #{urgent}, 12 business hours left")]
    );
    let live_reads: u64 = (1..=60).map(|id| h.sim.request_count(&format!("/api/v2/tickets/{id}.json"))).sum();
    assert_eq!(live_reads, 1);
}

#[tokio::test]
async fn slack_down_then_back_delivers_the_latest_warning_once_saying_it_is_late() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    h.slack.set_down(true);
    run_until(&h.engine, &h, t("2026-12-02T12:00:00-08:00")).await;
    assert!(h.slack.messages().is_empty());
    let pending = h.engine.store.outbox("support").unwrap();
    let alerts: Vec<(String, AlertStatus)> = h
        .engine
        .store
        .alerts_of(id)
        .unwrap()
        .into_iter()
        .map(|a| (a.key, a.status))
        .collect();
    // The 50% warning, queued since Tuesday, was superseded by the 75% point before Slack came
    // back: it is not sent after it. The 75% waits.
    assert_eq!(pending.len(), 1, "{alerts:#?}");
    assert!(pending[0].key.ends_with("/75pct"));
    assert!(pending[0].deliveries[0].attempts > 0 && pending[0].deliveries[0].last_error.is_some());
    assert_eq!(alerts[0].1, AlertStatus::Superseded, "{alerts:#?}");
    h.slack.set_down(false);
    run_until(&h.engine, &h, t("2026-12-02T12:30:00-08:00")).await;
    let titles = titles(&h);
    assert_eq!(titles.len(), 1, "{titles:?}");
    // The time left when it arrives (about 5 business hours, not the 75% point's 6h), and why late.
    assert!(
        titles[0].starts_with(&format!("SLA warning: first response on #{id}, 4 business hours")),
        "{titles:?}"
    );
    let body = h.slack.messages()[0].body.to_string();
    assert!(body.contains("delayed: Slack (support) was unreachable for"), "{body}");
    assert!(h.engine.store.outbox("support").unwrap().is_empty());
}

#[tokio::test]
async fn exactly_once_across_restarts_at_each_step_of_delivery() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    // Step 1: decided and stored, not delivered (Slack down), then killed.
    h.slack.set_down(true);
    run_until(&h.engine, &h, t("2026-12-01T13:30:00-08:00")).await;
    assert_eq!(h.engine.store.outbox("support").unwrap().len(), 1);
    h.restart().await;
    h.slack.set_down(false);
    run_until(&h.engine, &h, t("2026-12-01T14:00:00-08:00")).await;
    assert_eq!(h.slack.messages().len(), 1);

    // Step 2: killed while the POST is in flight (Slack slow; the pass is dropped mid-request).
    h.slack.set_delay(std::time::Duration::from_millis(300));
    h.clock.set(t("2026-12-02T11:00:00-08:00"));
    h.engine.poll().await.unwrap();
    let _ = tokio::time::timeout(std::time::Duration::from_millis(50), h.engine.fire_due()).await;
    h.restart().await;
    h.slack.set_delay(std::time::Duration::ZERO);
    run_until(&h.engine, &h, t("2026-12-02T11:30:00-08:00")).await;
    h.slack.wait_for(2).await;
    let seventy_five = titles(&h).iter().filter(|t| t.contains("6 business hours left")).count();
    assert!(
        (1..=2).contains(&seventy_five),
        "the in-flight post is repeated at most once: {seventy_five}"
    );

    // Step 3: delivered and marked, then killed: nothing more is sent.
    let before = h.slack.messages().len();
    h.restart().await;
    run_until(&h.engine, &h, t("2026-12-02T12:00:00-08:00")).await;
    assert_eq!(h.slack.messages().len(), before);
    let delivered = h
        .engine
        .store
        .alerts_of(id)
        .unwrap()
        .iter()
        .filter(|a| a.status == AlertStatus::Delivered)
        .count();
    assert_eq!(delivered, 2);
}

#[tokio::test]
async fn at_first_sight_only_the_latest_is_sent_and_an_old_breach_stays_quiet() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let recent = sev1_ticket(&h);
    // First seen Wednesday 15:00: 50, 75 and 90% are behind; only 90% goes out, saying the time
    // left then (not the 2h 24m left at the 90% point).
    h.clock.set(t("2026-12-02T15:00:00-08:00"));
    run_until(&h.engine, &h, t("2026-12-02T15:10:00-08:00")).await;
    assert_eq!(
        titles(&h),
        vec![format!("SLA warning: first response on #{recent}, 2 business hours left")]
    );
    let statuses: Vec<AlertStatus> = h.engine.store.alerts_of(recent).unwrap().into_iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == AlertStatus::Superseded).count(), 2);

    // A ticket whose response breached two days before it is first seen: recorded, not sent.
    let h = Harness::new(SUPPORT_ONLY).await;
    let old = sev1_ticket(&h);
    h.clock.set(t("2026-12-04T18:00:00-08:00"));
    run_until(&h.engine, &h, t("2026-12-04T18:10:00-08:00")).await;
    let alerts = h.engine.store.alerts_of(old).unwrap();
    let breach = alerts
        .iter()
        .find(|a| a.key.contains("first_response") && a.key.ends_with("/breach"))
        .unwrap();
    assert_eq!(breach.status, AlertStatus::TooOld);
    assert!(titles(&h).iter().all(|t| !t.contains("first response")), "{:?}", titles(&h));
    let rows = slawatch::engine::status::open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    assert_eq!(rows[0].metrics.first_response.state, "breached", "shown in status");
}

#[tokio::test]
async fn a_met_clock_cancels_its_pending_warning() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    h.slack.set_down(true);
    run_until(&h.engine, &h, t("2026-12-01T13:30:00-08:00")).await;
    assert_eq!(h.engine.store.outbox("support").unwrap().len(), 1);
    // The reply reaches the store (the next poll) while Slack is still down.
    h.sim.add_comment(id, h.agent, ANSWER, true);
    h.clock.advance(std::time::Duration::from_secs(120));
    h.engine.poll().await.unwrap();
    h.slack.set_down(false);
    run_until(&h.engine, &h, t("2026-12-01T15:00:00-08:00")).await;
    assert!(h.slack.messages().is_empty(), "{:?}", titles(&h));
    let alert = &h.engine.store.alerts_of(id).unwrap()[0];
    assert!(matches!(alert.status, AlertStatus::Cancelled { .. }), "{:?}", alert.status);
}

#[tokio::test]
async fn routes_send_by_severity_and_kind_goals_are_labelled_and_reminders_follow() {
    let h = Harness::new(
        r#"
[alerts]
reminder_every = "4h"
[notify]
[notify.channels.support]
kind = "slack"
url_env = "UNUSED"
[notify.channels.oncall]
kind = "slack"
url_env = "UNUSED"
[notify.channels.goals]
kind = "webhook"
url_env = "UNUSED"
[[notify.routes]]
kinds = ["goal"]
channels = ["goals"]
[[notify.routes]]
severities = ["sev1"]
channels = ["oncall", "support"]
[[notify.routes]]
channels = ["support"]
"#,
    )
    .await;
    let urgent = sev1_ticket(&h);
    let minor = h.ticket("sev2");
    // Nothing changes in Zendesk over this week: hourly polls do.
    run_polling_every(&h.engine, &h, t("2026-12-08T10:00:00-08:00"), 3600).await;
    let oncall: Vec<String> = h.slack.messages_for("oncall").iter().map(|m| m.text.clone()).collect();
    assert!(
        oncall.iter().all(|t| t.contains(&format!("#{urgent}"))) && !oncall.is_empty(),
        "{oncall:?}"
    );
    assert!(
        oncall.iter().any(|t| t.contains("still breached")),
        "a reminder after the breach: {oncall:?}"
    );
    let support: Vec<String> = h.slack.messages_for("support").iter().map(|m| m.text.clone()).collect();
    assert!(support.iter().any(|t| t.contains(&format!("#{minor}"))));
    let goals = h.slack.messages_for("goals");
    assert_eq!(goals.len(), 1, "the sev2 resolution goal (one calendar week) breached Monday 09:00");
    assert_eq!(
        goals[0].body["title"],
        format!("Goal sev2-resolved-within-a-week breached: resolution on #{minor}")
    );
    assert_eq!(goals[0].body["alert"]["goal"], "sev2-resolved-within-a-week");
}

#[tokio::test]
async fn breaches_are_written_as_internal_notes_once() {
    let h = Harness::new(
        r#"
[notify]
internal_notes = "breaches"
"#,
    )
    .await;
    let id = sev1_ticket(&h);
    run_until(&h.engine, &h, t("2026-12-02T17:30:00-08:00")).await;
    let notes: Vec<serde_json::Value> = h.sim.comments(id).into_iter().filter(|c| c["public"] == false).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let body = notes[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with(&format!("slawatch: SLA breached: first response on #{id}.")),
        "{body}"
    );
    // Its last line is its marker, naming the account and the alert.
    let marker = body.lines().last().unwrap();
    assert!(marker.starts_with(&format!("[slawatch {} alert ", h.engine.account())), "{body}");

    // A crash after writing the note but before marking it: the note is found, not written again.
    let alert = h
        .engine
        .store
        .alerts_of(id)
        .unwrap()
        .into_iter()
        .find(|a| a.key.ends_with("/breach"))
        .unwrap();
    h.engine
        .store
        .update_alert(&alert.key, |a| {
            a.status = AlertStatus::Pending;
            a.deliveries[0].sent_at = None;
        })
        .unwrap();
    h.engine.fire_due().await.unwrap();
    assert_eq!(h.sim.comments(id).into_iter().filter(|c| c["public"] == false).count(), 1);
    assert_eq!(h.engine.store.alert(&alert.key).unwrap().unwrap().status, AlertStatus::Delivered);
}

async fn poll_at(h: &Harness, at: &str) {
    h.clock.set(t(at));
    h.engine.poll().await.unwrap();
}

#[tokio::test]
async fn a_decision_keeps_what_a_poll_committed_while_it_confirmed() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    poll_at(&h, "2026-12-01T12:50:00-08:00").await;
    h.clock.set(t("2026-12-01T12:52:00-08:00"));
    h.sim.set_status(id, "pending", h.agent);
    h.clock.set(t("2026-12-01T12:54:00-08:00"));
    h.sim.set_status(id, "open", h.agent);
    // 13:00: the 50% warning is due; the poll's events page lands while the live read is out.
    h.clock.set(t("2026-12-01T13:00:00-08:00"));
    let mut cursors = h.engine.store.cursors().unwrap();
    let page = h.engine.client.event_page(cursors.events_start.unwrap()).await.unwrap();
    let audits: Vec<slawatch::zendesk::models::TicketEvent> = h.engine.client.read(page.ticket_events);
    cursors.events_start = page.end_time;
    h.sim.set_delay(std::time::Duration::from_millis(200));
    let (fired, _) = tokio::join!(h.engine.fire_due(), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        h.engine.apply_event_page(&audits, &cursors).unwrap()
    });
    fired.unwrap();
    let record = h.engine.store.ticket(id).unwrap().unwrap();
    assert!(record
        .events
        .iter()
        .any(|e| matches!(&e.event, slawatch::sla::clock::Event::Status { status, .. } if status == "pending")));
}

#[tokio::test]
async fn a_confirmation_that_fails_is_retried_a_minute_later_not_in_a_loop() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    poll_at(&h, "2026-12-01T12:50:00-08:00").await;
    h.clock.set(t("2026-12-01T13:00:00-08:00"));
    h.sim.reset_counters();
    h.sim.fail_next(10_000, 403);
    for _ in 0..20 {
        h.engine.fire_due().await.unwrap();
    }
    // The first request (the requester's role, before the live read) fails: one request, then
    // a minute's wait.
    assert_eq!(h.sim.total_requests(), 1, "one request, then a minute's wait");
    assert_eq!(h.engine.next_wake_ms().unwrap(), Some(t("2026-12-01T13:01:00-08:00") * 1000));
    assert!(h.slack.messages().is_empty(), "nothing unconfirmed goes out");
    h.sim.fail_next(0, 403);
    run_until(&h.engine, &h, t("2026-12-01T13:05:00-08:00")).await;
    assert_eq!(
        titles(&h),
        vec![format!("SLA warning: first response on #{id}, 11 business hours 59 min left")]
    );
}

#[tokio::test]
async fn a_breach_answered_late_is_still_told() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    h.slack.set_down(true);
    run_until(&h.engine, &h, t("2026-12-02T17:10:00-08:00")).await;
    // The answer comes ten minutes after the breach, while Slack is down.
    h.sim.add_comment(id, h.agent, ANSWER, true);
    h.clock.advance(std::time::Duration::from_secs(120));
    h.engine.poll().await.unwrap();
    h.slack.set_down(false);
    run_until(&h.engine, &h, t("2026-12-02T18:00:00-08:00")).await;
    let alerts = h.engine.store.alerts_of(id).unwrap();
    let breach = alerts
        .iter()
        .find(|a| a.key.contains("first_response") && a.key.ends_with("/breach"))
        .unwrap();
    assert_eq!(breach.status, AlertStatus::Delivered);
    assert!(titles(&h).contains(&format!("SLA breached: first response on #{id}")));
}

#[tokio::test]
async fn an_old_breach_at_first_sight_keeps_its_reminders_quiet_too() {
    let h = Harness::new(&format!("[alerts]\nreminder_every = \"4h\"\n{SUPPORT_ONLY}")).await;
    let id = sev1_ticket(&h);
    h.clock.set(t("2026-12-04T18:00:00-08:00"));
    run_until(&h.engine, &h, t("2026-12-04T18:10:00-08:00")).await;
    assert!(titles(&h).iter().all(|t| !t.contains("first response")), "{:?}", titles(&h));
    let fr: Vec<AlertStatus> = h
        .engine
        .store
        .alerts_of(id)
        .unwrap()
        .into_iter()
        .filter(|a| a.key.contains("first_response"))
        .map(|a| a.status)
        .collect();
    assert!(fr.contains(&AlertStatus::TooOld), "{fr:?}");
}

#[tokio::test]
async fn a_rate_limited_note_does_not_hold_up_other_alerts() {
    let h = Harness::new(&SUPPORT_ONLY.replace("max_backoff = \"5m\"", "max_backoff = \"5m\"\ninternal_notes = \"all\"")).await;
    let _first = sev1_ticket(&h);
    let second = sev1_ticket(&h);
    poll_at(&h, "2026-12-01T12:50:00-08:00").await;
    h.sim.set_ticket_update_limit(Some(0));
    h.clock.set(t("2026-12-01T13:00:00-08:00"));
    h.engine.fire_due().await.unwrap();
    let alert = h.engine.store.alerts_of(second).unwrap().into_iter().next().unwrap();
    let slack = alert.deliveries.iter().find(|d| d.channel == "support").unwrap();
    assert!(slack.sent_at.is_some_and(|sent| sent - alert.at <= 1), "{slack:?}");
    let note = alert.deliveries.iter().find(|d| d.channel == "zendesk-note").unwrap();
    assert!(
        note.sent_at.is_none() && note.next_attempt_ms > h.clock.now_ms(),
        "the note waits for its Retry-After: {note:?}"
    );
}

#[tokio::test]
async fn an_unreadable_live_ticket_is_not_taken_for_deleted() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    poll_at(&h, "2026-12-01T12:50:00-08:00").await;
    h.sim
        .set_extra_ticket_fields(serde_json::Map::from_iter([("tags".to_string(), serde_json::json!(null))]));
    h.clock.set(t("2026-12-01T13:00:00-08:00"));
    h.engine.fire_due().await.unwrap();
    h.sim.set_extra_ticket_fields(serde_json::Map::new());
    run_until(&h.engine, &h, t("2026-12-02T18:00:00-08:00")).await;
    assert!(!h.clocks(id).deleted);
    assert!(
        titles(&h).contains(&format!("SLA breached: first response on #{id}")),
        "{:?}",
        titles(&h)
    );
}

#[tokio::test]
async fn a_breach_while_the_daemon_was_down_goes_out_late_not_never() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    run_until(&h.engine, &h, t("2026-12-02T12:00:00-08:00")).await;
    assert_eq!(h.slack.messages().len(), 2);
    // Down from Wednesday noon to Thursday 18:00; the breach (Wednesday 17:00) fell in between.
    h.restart().await;
    h.clock.set(t("2026-12-03T18:00:00-08:00"));
    run_until(&h.engine, &h, t("2026-12-03T18:10:00-08:00")).await;
    let breach = h
        .engine
        .store
        .alerts_of(id)
        .unwrap()
        .into_iter()
        .find(|a| a.key.contains("first_response") && a.key.ends_with("/breach"))
        .unwrap();
    assert_eq!(breach.status, AlertStatus::Delivered);
}

#[tokio::test]
async fn a_webhook_that_refuses_for_good_is_given_up_and_says_why() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = sev1_ticket(&h);
    h.slack.fail_next(1, 404);
    run_until(&h.engine, &h, t("2026-12-01T14:00:00-08:00")).await;
    let alert = h.engine.store.alerts_of(id).unwrap().into_iter().next().unwrap();
    assert_eq!(
        alert.status,
        AlertStatus::Failed {
            reason: "support: HTTP 404 Not Found".into()
        }
    );
    assert!(h.engine.store.outbox("support").unwrap().is_empty());
}

#[tokio::test]
async fn routes_send_by_tier_and_group_too() {
    let h = Harness::new(
        r#"
[notify]
[notify.channels.billing-team]
kind = "slack"
url_env = "UNUSED"
[notify.channels.self-hosted-team]
kind = "slack"
url_env = "UNUSED"
[notify.channels.support]
kind = "slack"
url_env = "UNUSED"
[[notify.routes]]
groups = [77]
channels = ["billing-team"]
[[notify.routes]]
tiers = ["self-hosted"]
channels = ["self-hosted-team"]
[[notify.routes]]
channels = ["support"]
"#,
    )
    .await;
    let grouped = h.sim.create_ticket(slawatch::sim::zendesk::NewTicket {
        subject: "Invoice wrong".into(),
        body: "Our invoice shows the wrong plan.".into(),
        requester_id: h.customer,
        tags: vec!["sev1".into()],
        group_id: Some(77),
        ..slawatch::sim::zendesk::NewTicket::default()
    });
    let plain = sev1_ticket(&h);
    run_until(&h.engine, &h, t("2026-12-01T14:00:00-08:00")).await;
    let texts = |hook: &str| h.slack.messages_for(hook).iter().map(|m| m.text.clone()).collect::<Vec<_>>();
    assert!(texts("billing-team").iter().all(|t| t.contains(&format!("#{grouped}"))) && !texts("billing-team").is_empty());
    assert!(texts("self-hosted-team").iter().all(|t| t.contains(&format!("#{plain}"))) && !texts("self-hosted-team").is_empty());
    assert!(texts("support").is_empty());
}

/// SPEC §5 with fewer fsyncs: a pass of the decider over many tickets writes its decisions
/// without a flush of its own; delivery makes them durable once, before the first post, then
/// marks each post done on disk before the next (so a power loss repeats at most the post in
/// flight).
#[tokio::test]
async fn a_pass_of_decisions_reaches_the_disk_in_one_flush_before_anything_is_sent() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let ids: Vec<u64> = (0..20).map(|_| sev1_ticket(&h)).collect();
    h.poll().await;
    // 16 business hours in: past the 50 % point of every first response (12 of 24), short of 75 %.
    h.at("2026-12-02T09:00:01-08:00");
    h.poll().await;
    let syncs = || h.engine.store.stats.syncs.load(std::sync::atomic::Ordering::Relaxed);
    let before = syncs();
    let mut report = slawatch::engine::alerts::AlertReport::default();
    h.engine.decide_due(&mut report).await.unwrap();
    assert_eq!(report.decided, 20);
    assert_eq!(syncs(), before, "the decider's pass flushes nothing itself");
    h.engine.deliver_all(&mut report).await.unwrap();
    assert_eq!(report.sent, 20);
    assert_eq!(syncs(), before + 1 + 20, "one flush of the decisions, one per post marked sent");
    for id in ids {
        assert_eq!(h.engine.store.alerts_of(id).unwrap()[0].status, AlertStatus::Delivered);
    }
    assert_eq!(titles(&h).len(), 20);
}
