//! The weekly digest: decided once per firing, sent once the facts reach the period's end, once
//! per period across restarts, late (never twice) after a missed firing or a Slack outage.

mod common;

use common::{t, Harness, ANSWER, SUPPORT_ONLY};
use slawatch::config::Config;
use slawatch::engine::Engine;
use slawatch::sim::slack::ReceivedMessage;

const DIGEST: &str = r#"
[report.digest]
cron = "0 0 9 * * Mon"
route = ["support"]
"#;

async fn harness(start: &str) -> Harness {
    Harness::build(t(start), 1000, |_| format!("{SUPPORT_ONLY}{DIGEST}")).await
}

fn digests(h: &Harness) -> Vec<ReceivedMessage> {
    h.slack
        .messages()
        .into_iter()
        .filter(|m| m.body["blocks"][0]["text"]["text"] == "Support KPIs digest")
        .collect()
}

/// One pass of the digest's worker.
async fn pass(h: &Harness) {
    h.engine.decide_digest().unwrap();
    h.engine.deliver_digests().await.unwrap();
}

/// Back up at `at` after downtime: polled (twice: the exports reach the digests' facts) and two
/// passes (the second sends what the first recorded).
async fn back_up_at(h: &mut Harness, at: &str) {
    h.at(at);
    h.restart().await;
    h.poll().await;
    h.poll().await;
    pass(h).await;
    pass(h).await;
}

#[tokio::test]
async fn the_digest_goes_out_once_per_period_across_restarts() {
    let mut h = harness("2026-11-23T09:30:00-08:00").await;
    // Started mid-period: the firing before the start (Mon 23 Nov 09:00) is not owed.
    pass(&h).await;
    let id = h.ticket("sev1");
    h.at("2026-11-24T10:00:00-08:00");
    h.sim.add_comment(id, h.agent, ANSWER, true);
    h.poll().await;
    pass(&h).await;
    assert!(digests(&h).is_empty());

    // Mon 30 Nov 09:00: decided at once, but sent only once the facts reach 09:00.
    h.at("2026-11-30T09:00:00-08:00");
    h.engine.poll().await.unwrap();
    pass(&h).await;
    assert!(digests(&h).is_empty(), "sent before the period's facts were all in");
    h.poll().await;
    h.advance(60);
    h.poll().await;
    pass(&h).await;
    let sent = digests(&h);
    assert_eq!(sent.len(), 1);
    let text = sent[0].body["text"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Support KPIs for tickets created Mon 23 Nov 09:00 PST – Mon 30 Nov 09:00 PST\nTickets created: 1; none the period before\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("SLA first response: 100.0% (1 met, 0 breached, 0 running) (target 100.0%) ✓"),
        "{text}"
    );
    assert!(text.contains("No breached tickets."), "{text}");

    // A restart, and another pass: nothing more.
    h.restart().await;
    pass(&h).await;
    h.poll().await;
    pass(&h).await;
    assert_eq!(digests(&h).len(), 1);
}

#[tokio::test]
async fn missed_firings_and_a_slack_outage_send_each_period_late_never_twice() {
    let mut h = harness("2026-11-23T09:30:00-08:00").await;
    pass(&h).await;
    // Down over two firings (Mon 30 Nov and Mon 7 Dec 09:00); back on 7 Dec at 11:00, it owes
    // both periods' digests.
    h.at("2026-12-07T11:00:00-08:00");
    h.restart().await;
    h.poll().await;
    h.slack.set_down(true);
    pass(&h).await;
    assert!(digests(&h).is_empty());
    assert_eq!(h.slack.request_count(), 2, "one attempt each while Slack is down");
    // Killed with both recorded but unsent; Slack is back after the restart.
    h.restart().await;
    h.slack.set_down(false);
    h.advance(600);
    h.poll().await;
    pass(&h).await;
    pass(&h).await;
    let periods: Vec<String> = digests(&h)
        .iter()
        .map(|m| m.body["text"].as_str().unwrap().lines().next().unwrap().to_string())
        .collect();
    assert_eq!(
        periods,
        [
            "Support KPIs for tickets created Mon 23 Nov 09:00 PST – Mon 30 Nov 09:00 PST",
            "Support KPIs for tickets created Mon 30 Nov 09:00 PST – Mon 7 Dec 09:00 PST"
        ],
        "each period late, once, in order"
    );
    // The next week: the next period, once.
    h.at("2026-12-14T09:05:00-08:00");
    h.poll().await;
    pass(&h).await;
    pass(&h).await;
    let sent = digests(&h);
    assert_eq!(sent.len(), 3);
    assert!(sent[2].body["text"]
        .as_str()
        .unwrap()
        .contains("Mon 7 Dec 09:00 PST – Mon 14 Dec 09:00 PST"));
}

#[tokio::test]
async fn the_digest_lists_breached_tickets_and_compares_with_the_period_before() {
    let h = harness("2026-11-16T09:30:00-08:00").await;
    pass(&h).await;
    // Week one: a sev1 answered in half an hour.
    let first = h.ticket("sev1");
    h.at("2026-11-16T10:00:00-08:00");
    h.sim.add_comment(first, h.agent, ANSWER, true);
    // Week two: a sev1 never answered (24 business hours end Wed 25 Nov 09:05), another answered.
    h.at("2026-11-23T09:05:00-08:00");
    let late = h.ticket("sev1");
    let fine = h.ticket("sev1");
    h.at("2026-11-23T10:00:00-08:00");
    h.sim.add_comment(fine, h.agent, ANSWER, true);
    h.poll().await;
    h.at("2026-11-30T09:00:00-08:00");
    h.poll().await;
    h.poll().await;
    pass(&h).await;
    let sent = digests(&h);
    let text = sent.last().unwrap().body["text"].as_str().unwrap().to_string();
    assert!(text.contains("Tickets created: 2; +1 from 1"), "{text}");
    assert!(
        text.contains("SLA first response: 50.0% (1 met, 1 breached, 0 running) (target 100.0%) ✗; -50.0 pts from 100.0%"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Breached tickets (1):\n#{late} Connector crashes — first response breached"
        )),
        "{text}"
    );
    let blocks = sent.last().unwrap().body["blocks"].to_string();
    assert!(blocks.contains(&format!("/agent/tickets/{late}|#{late}>")), "{blocks}");
}

/// A restart with `[report.digest]` replaced by `digest` (the rest of the file as it was).
async fn restart_with_digest(h: &mut Harness, digest: &str) {
    let text = h.config_text.replace(DIGEST, digest);
    assert_ne!(text, h.config_text, "the digest section is replaced");
    let config = Config::parse("test.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    drop(h.take_engine());
    let store = common::reopen(&config.store.path).await;
    let channels = common::channels(&config, &h.slack);
    h.engine = Engine::new(config, common::client(&h.sim, &h.clock), store, h.clock.clone())
        .unwrap()
        .with_channels(channels);
    h.config_text = text;
}

/// Each digest's first line (its period), in the order sent.
fn periods(h: &Harness) -> Vec<String> {
    digests(h)
        .iter()
        .map(|m| m.body["text"].as_str().unwrap().lines().next().unwrap().to_string())
        .collect()
}

/// At `at`, the facts brought up to it, then one pass.
async fn pass_at(h: &Harness, at: &str) {
    h.at(at);
    h.poll().await;
    h.poll().await;
    pass(h).await;
}

#[tokio::test]
async fn a_new_cron_owes_only_its_firings_after_the_change() {
    let mut h = harness("2026-11-23T09:30:00-08:00").await;
    pass(&h).await;
    pass_at(&h, "2026-11-30T09:00:00-08:00").await;
    assert_eq!(
        periods(&h),
        ["Support KPIs for tickets created Mon 23 Nov 09:00 PST – Mon 30 Nov 09:00 PST"]
    );

    // Wed 2 Dec: the digest becomes daily. The daily firings before the change (24 Nov to 2 Dec)
    // were never promised: nothing is owed at once.
    h.at("2026-12-02T10:00:00-08:00");
    restart_with_digest(&mut h, "\n[report.digest]\ncron = \"0 0 9 * * *\"\nroute = [\"support\"]\n").await;
    h.poll().await;
    pass(&h).await;
    pass(&h).await;
    assert_eq!(
        periods(&h).len(),
        1,
        "no burst of the new schedule's past firings: {:#?}",
        periods(&h)
    );

    // Its first firing after the change is owed, for the new schedule's period.
    pass_at(&h, "2026-12-03T09:00:00-08:00").await;
    assert_eq!(
        periods(&h)[1..],
        ["Support KPIs for tickets created Wed 2 Dec 09:00 PST – Thu 3 Dec 09:00 PST"]
    );

    // Downtime across two firings of the new schedule still owes both, in order.
    back_up_at(&mut h, "2026-12-05T12:00:00-08:00").await;
    assert_eq!(
        periods(&h)[2..],
        [
            "Support KPIs for tickets created Thu 3 Dec 09:00 PST – Fri 4 Dec 09:00 PST",
            "Support KPIs for tickets created Fri 4 Dec 09:00 PST – Sat 5 Dec 09:00 PST"
        ]
    );
}

#[tokio::test]
async fn a_new_time_zone_owes_only_its_firings_after_the_change() {
    let mut h = harness("2026-11-23T09:30:00-08:00").await;
    pass(&h).await;
    pass_at(&h, "2026-11-30T09:00:00-08:00").await;
    // Tue 1 Dec: the digest moves to London's Monday morning. Its firing of Mon 30 Nov 09:00 GMT
    // (01:00 PST) came before the change: not owed.
    h.at("2026-12-01T10:00:00-08:00");
    restart_with_digest(
        &mut h,
        "\n[report.digest]\ncron = \"0 0 9 * * Mon\"\ntime_zone = \"Europe/London\"\nroute = [\"support\"]\n",
    )
    .await;
    h.poll().await;
    pass(&h).await;
    pass(&h).await;
    assert_eq!(
        periods(&h),
        ["Support KPIs for tickets created Mon 23 Nov 09:00 PST – Mon 30 Nov 09:00 PST"]
    );

    pass_at(&h, "2026-12-07T09:00:00Z").await;
    assert_eq!(
        periods(&h)[1..],
        ["Support KPIs for tickets created Mon 30 Nov 09:00 GMT – Mon 7 Dec 09:00 GMT"]
    );
    // The same schedule after a restart: nothing more is owed.
    h.restart().await;
    pass(&h).await;
    assert_eq!(periods(&h).len(), 2);
}

/// A digest firing at 01:30 on Sundays, in the harness's zone (America/Los_Angeles).
const SUNDAY_0130: &str = "\n[report.digest]\ncron = \"0 30 1 * * Sun\"\nroute = [\"support\"]\n";

#[tokio::test]
async fn a_firing_in_the_repeated_hour_of_november_posts_once() {
    // Sun 1 Nov 2026: at 02:00 PDT the clocks go back to 01:00 PST, so 01:30 comes twice.
    let h = Harness::build(t("2026-10-25T02:00:00-07:00"), 1000, |_| format!("{SUPPORT_ONLY}{SUNDAY_0130}")).await;
    pass(&h).await;
    pass_at(&h, "2026-11-01T01:30:00-07:00").await;
    assert_eq!(
        periods(&h),
        ["Support KPIs for tickets created Sun 25 Oct 01:30 PDT – Sun 1 Nov 01:30 PDT"]
    );
    // The second 01:30 (PST) owes nothing.
    pass_at(&h, "2026-11-01T01:30:00-08:00").await;
    pass_at(&h, "2026-11-01T03:00:00-08:00").await;
    assert_eq!(periods(&h).len(), 1, "{:#?}", periods(&h));
    // The next Sunday's covers the week from the first 01:30.
    pass_at(&h, "2026-11-08T01:30:00-08:00").await;
    assert_eq!(
        periods(&h)[1..],
        ["Support KPIs for tickets created Sun 1 Nov 01:30 PDT – Sun 8 Nov 01:30 PST"]
    );
}

#[tokio::test]
async fn a_firing_in_the_repeated_hour_missed_while_down_posts_once() {
    let mut h = Harness::build(t("2026-10-25T02:00:00-07:00"), 1000, |_| format!("{SUPPORT_ONLY}{SUNDAY_0130}")).await;
    pass(&h).await;
    // Down through the whole repeated hour; back at 02:30 PST.
    back_up_at(&mut h, "2026-11-01T02:30:00-08:00").await;
    assert_eq!(
        periods(&h),
        ["Support KPIs for tickets created Sun 25 Oct 01:30 PDT – Sun 1 Nov 01:30 PDT"]
    );
}

#[tokio::test]
async fn a_firing_in_the_skipped_hour_of_march_posts_at_the_next_valid_instant() {
    // Sun 14 Mar 2027: at 02:00 PST the clocks go forward to 03:00 PDT; 02:30 never comes.
    let digest = "\n[report.digest]\ncron = \"0 30 2 * * Sun\"\nroute = [\"support\"]\n";
    let h = Harness::build(t("2027-03-07T03:00:00-08:00"), 1000, |_| format!("{SUPPORT_ONLY}{digest}")).await;
    pass(&h).await;
    pass_at(&h, "2027-03-14T01:50:00-08:00").await;
    assert!(periods(&h).is_empty(), "sent before the firing");
    // 03:00 PDT, the first instant after the skipped hour (and the facts up to it).
    pass_at(&h, "2027-03-14T03:00:00-07:00").await;
    assert_eq!(
        periods(&h),
        ["Support KPIs for tickets created Sun 7 Mar 02:30 PST – Sun 14 Mar 03:00 PDT"]
    );
    pass_at(&h, "2027-03-14T09:00:00-07:00").await;
    assert_eq!(periods(&h).len(), 1, "{:#?}", periods(&h));
    pass_at(&h, "2027-03-21T02:30:00-07:00").await;
    assert_eq!(
        periods(&h)[1..],
        ["Support KPIs for tickets created Sun 14 Mar 03:00 PDT – Sun 21 Mar 02:30 PDT"]
    );
}
