//! Paging (issue 20 point 2): Severity 1 breaches page PagerDuty or Opsgenie through the
//! outbox, keyed by the alert's key, once; the page is resolved (closed) when the clock is met
//! or stops; refusals, outages, restarts and a crash between a send and its record end with one
//! incident at the service, resolved once.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{t, Harness, ANSWER};
use slawatch::config::{Config, PagerService};
use slawatch::engine::alerts::AlertReport;
use slawatch::engine::page::{pagers_from, Pager};
use slawatch::sim::opsgenie::SimOpsgenie;
use slawatch::sim::pagerduty::SimPagerDuty;
use slawatch::store::AlertStatus;

const PD_KEY: &str = "R0UTINGKEY0123456789ABCDEFGHIJKL";
const GENIE_KEY: &str = "eb243592-faa2-4ba2-a551q-1afdf565c889";

/// Severity 1 breaches page (and tell Slack); everything else goes to Slack only.
fn config(pager_kind: &str, url: &str) -> String {
    let key = match pager_kind {
        "pagerduty" => "routing_key_env = \"UNUSED_PAGER_KEY\"",
        _ => "api_key_env = \"UNUSED_PAGER_KEY\"",
    };
    format!(
        r#"
[notify]
max_backoff = "5m"
[notify.channels.support]
kind = "slack"
url_env = "UNUSED"
[notify.channels.pager]
kind = "{pager_kind}"
{key}
url = "{url}"
[[notify.routes]]
severities = ["sev1"]
points = ["breach"]
channels = ["pager", "support"]
[[notify.routes]]
channels = ["support"]
"#
    )
}

struct Paged {
    h: Harness,
    pagers: BTreeMap<String, Pager>,
}

impl Paged {
    async fn pagerduty() -> (Paged, SimPagerDuty) {
        let pd = SimPagerDuty::start().await.unwrap();
        pd.add_routing_key(PD_KEY);
        let paged = Paged::build(&config("pagerduty", &pd.enqueue_url()), PD_KEY).await;
        (paged, pd)
    }

    async fn opsgenie() -> (Paged, SimOpsgenie) {
        let genie = SimOpsgenie::start().await.unwrap();
        genie.add_api_key(GENIE_KEY);
        let paged = Paged::build(&config("opsgenie", &genie.base_url()), GENIE_KEY).await;
        (paged, genie)
    }

    async fn build(extra: &str, key: &str) -> Paged {
        let mut h = Harness::new(extra).await;
        let pagers = pagers_from(&h.engine.config, |variable| {
            (variable == "UNUSED_PAGER_KEY").then(|| key.to_string())
        })
        .unwrap();
        let engine = h.take_engine().with_pagers(pagers.clone());
        h.engine = engine;
        Paged { h, pagers }
    }

    /// A restart: a new engine on the same store, with the same pagers.
    async fn restart(&mut self) {
        self.h.restart().await;
        let engine = self.h.take_engine().with_pagers(self.pagers.clone());
        self.h.engine = engine;
    }

    /// Polls, then decides and delivers what is due.
    async fn cycle(&self) -> AlertReport {
        self.h.poll().await;
        self.h.engine.fire_due().await.unwrap()
    }

    /// A sev1 ticket (first response due Wednesday 17:00 PST), polled in; then on past its breach.
    async fn breached_sev1(&self) -> u64 {
        let id = self.h.ticket("sev1");
        self.h.poll().await;
        self.h.clock.set(t("2026-12-02T17:00:30-08:00"));
        self.cycle().await;
        id
    }

    fn breach_key(&self, id: u64) -> String {
        format!("{id:020}/first_response/contract@86400/breach")
    }

    fn alert(&self, key: &str) -> slawatch::store::AlertRecord {
        self.h.engine.store.alert(key).unwrap().expect("the alert is recorded")
    }

    fn slack_titles(&self) -> Vec<String> {
        common::titles(&self.h)
    }
}

#[tokio::test]
async fn a_severity_1_breach_pages_once_and_the_reply_resolves_it() {
    let (p, pd) = Paged::pagerduty().await;
    let sev2 = p.h.ticket("sev2");
    let id = p.breached_sev1().await;
    let key = p.breach_key(id);

    let incidents = pd.incidents();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let incident = &incidents[0];
    assert_eq!(incident.dedup_key, key);
    assert_eq!(incident.status, "triggered");
    assert_eq!(incident.severity, "critical");
    assert_eq!(incident.triggers, 1);
    // The ticket is one click away, and the summary names the breach instant in the zone.
    assert_eq!(incident.links, vec![format!("{}/agent/tickets/{id}", p.h.sim.base_url())]);
    assert!(
        incident.summary.contains(&format!("#{id}"))
            && incident.summary.contains("Acme")
            && incident.summary.contains("sev1")
            && incident.summary.contains("breached Wed 2 Dec 17:00 PST"),
        "{}",
        incident.summary
    );
    // Slack is told too (same route).
    assert!(
        p.slack_titles().iter().any(|t| t.starts_with("SLA breached")),
        "{:?}",
        p.slack_titles()
    );

    // Later passes send nothing more.
    p.h.advance(3600);
    p.cycle().await;
    assert_eq!(pd.requests().len(), 1);

    // The reply meets the clock: one resolve, with the same key.
    p.h.sim.add_comment(id, p.h.agent, ANSWER, true);
    p.cycle().await;
    p.cycle().await;
    let requests = pd.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!((requests[1].action(), requests[1].dedup_key()), ("resolve", key.as_str()));
    assert_eq!(pd.incidents()[0].status, "resolved");
    let delivery = p.alert(&key).deliveries.into_iter().find(|d| d.channel == "pager").unwrap();
    assert!(delivery.sent_at.is_some() && delivery.resolve.as_ref().is_some_and(|r| r.sent_at.is_some()));
    let metrics = p.h.engine.metrics.encode();
    for outcome in ["triggered", "resolved"] {
        assert!(
            metrics.contains(&format!("slawatch_pages_total{{channel=\"pager\",outcome=\"{outcome}\"}} 1")),
            "{metrics}"
        );
    }

    // The Severity 2 ticket's breach (40 business hours: Monday 7 December 09:00) goes to Slack
    // only: the pager route takes Severity 1 breaches.
    p.h.clock.set(t("2026-12-07T09:00:30-08:00"));
    p.cycle().await;
    assert!(
        p.slack_titles()
            .iter()
            .any(|t| t.starts_with(&format!("SLA breached: first response on #{sev2}"))),
        "{:?}",
        p.slack_titles()
    );
    assert_eq!(pd.requests().len(), 2, "no page for Severity 2");
}

#[tokio::test]
async fn solving_or_deleting_the_ticket_resolves_its_page() {
    let (p, pd) = Paged::pagerduty().await;
    let solved = p.h.ticket("sev1");
    let deleted = p.h.ticket("sev1");
    p.h.poll().await;
    p.h.clock.set(t("2026-12-02T17:00:30-08:00"));
    p.cycle().await;
    assert_eq!(pd.open_incidents().len(), 2);

    p.h.sim.set_status(solved, "solved", p.h.agent);
    p.h.sim.delete_ticket(deleted);
    p.cycle().await;
    p.cycle().await;
    assert!(pd.open_incidents().is_empty(), "{:?}", pd.incidents());
    let resolves: Vec<String> = pd
        .requests()
        .iter()
        .filter(|r| r.action() == "resolve")
        .map(|r| r.dedup_key().to_string())
        .collect();
    let mut expected = vec![p.breach_key(solved), p.breach_key(deleted)];
    expected.sort();
    let mut resolves_sorted = resolves.clone();
    resolves_sorted.sort();
    assert_eq!(resolves_sorted, expected, "one resolve each: {resolves:?}");
}

#[tokio::test]
async fn opsgenie_is_paged_by_alias_and_closed_by_it() {
    let (p, genie) = Paged::opsgenie().await;
    let id = p.breached_sev1().await;
    let key = p.breach_key(id);
    let alerts = genie.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].alias.as_str(), alerts[0].priority.as_str()), (key.as_str(), "P1"));
    assert_eq!(
        alerts[0].details["ticket_url"],
        format!("{}/agent/tickets/{id}", p.h.sim.base_url())
    );
    assert!(alerts[0].is_open());

    p.h.sim.add_comment(id, p.h.agent, ANSWER, true);
    p.cycle().await;
    p.cycle().await;
    let requests = genie.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1].query, "identifierType=alias");
    assert!(requests[1].path.ends_with("/close"), "{}", requests[1].path);
    assert!(genie.open_alerts().is_empty(), "{:?}", genie.alerts());
}

#[tokio::test]
async fn a_permanent_refusal_is_recorded_once_and_never_retried() {
    let (p, pd) = Paged::pagerduty().await;
    pd.fail_next(1, 400);
    let id = p.breached_sev1().await;
    let key = p.breach_key(id);
    assert_eq!(pd.requests().len(), 1);
    assert!(pd.incidents().is_empty());
    // The loop moved on: Slack has the breach.
    assert!(p.slack_titles().iter().any(|t| t.starts_with("SLA breached")));
    let alert = p.alert(&key);
    assert!(matches!(alert.status, AlertStatus::Failed { .. }), "{:?}", alert.status);
    let owed = p.h.engine.owed_work().unwrap().join("\n");
    assert!(owed.contains("refused for good") && owed.contains("pager"), "{owed}");

    // Never again, and no resolve for a page never sent.
    for _ in 0..3 {
        p.h.advance(3600);
        p.cycle().await;
    }
    p.h.sim.add_comment(id, p.h.agent, ANSWER, true);
    p.cycle().await;
    p.cycle().await;
    assert_eq!(pd.requests().len(), 1, "{:?}", pd.requests());
    assert_eq!(p.h.engine.store.outbox("pager").unwrap().len(), 0);
}

#[tokio::test]
async fn an_outage_then_success_pages_once() {
    let (p, pd) = Paged::pagerduty().await;
    pd.set_down(true);
    let id = p.breached_sev1().await;
    assert_eq!(pd.requests().len(), 1);
    assert_eq!(pd.requests()[0].status, 503);
    pd.set_down(false);
    p.h.advance(120);
    p.h.engine.fire_due().await.unwrap();
    let incidents = pd.incidents();
    assert_eq!(incidents.len(), 1);
    assert_eq!((incidents[0].dedup_key.clone(), incidents[0].triggers), (p.breach_key(id), 1));
    assert_eq!(pd.requests().len(), 2);
    assert!(p
        .h
        .engine
        .metrics
        .encode()
        .contains("slawatch_pages_total{channel=\"pager\",outcome=\"failed\"} 1"));
}

#[tokio::test]
async fn a_restart_between_trigger_and_resolve_neither_pages_again_nor_loses_the_resolve() {
    let (mut p, pd) = Paged::pagerduty().await;
    let id = p.breached_sev1().await;
    assert_eq!(pd.requests().len(), 1);
    p.restart().await;
    p.cycle().await;
    assert_eq!(pd.requests().len(), 1, "no page again after the restart");

    // The resolve is decided (and recorded) with the service down, then the daemon restarts.
    pd.set_down(true);
    p.h.sim.add_comment(id, p.h.agent, ANSWER, true);
    p.cycle().await;
    let refused = &pd.requests()[1..];
    assert!(
        !refused.is_empty() && refused.iter().all(|r| r.status == 503 && r.action() == "resolve"),
        "{refused:?}"
    );
    p.restart().await;
    pd.set_down(false);
    p.h.advance(120);
    p.h.engine.fire_due().await.unwrap();
    let accepted: Vec<String> = pd
        .requests()
        .iter()
        .filter(|r| r.status == 202)
        .map(|r| r.action().to_string())
        .collect();
    assert_eq!(accepted, ["trigger", "resolve"]);
    assert!(pd.open_incidents().is_empty());
}

#[tokio::test]
async fn a_crash_between_the_page_and_its_record_leaves_one_incident() {
    let (mut p, pd) = Paged::pagerduty().await;
    let id = p.h.ticket("sev1");
    p.h.poll().await;
    p.h.clock.set(t("2026-12-02T17:00:30-08:00"));
    p.h.poll().await;
    p.h.engine.decide_due(&mut AlertReport::default()).await.unwrap();
    // The trigger lands at PagerDuty; the daemon dies before the answer (and its record).
    pd.set_answer_delay(Duration::from_secs(30));
    let mut report = AlertReport::default();
    tokio::select! {
        _ = p.h.engine.deliver_channel("pager", &mut report) => panic!("the answer was held back"),
        _ = pd.wait_for(1) => {}
    }
    p.restart().await;
    pd.set_answer_delay(Duration::ZERO);
    p.h.engine.fire_due().await.unwrap();
    let incidents = pd.incidents();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].triggers, 2, "the trigger in flight is sent again, folded by its key");
    assert_eq!(pd.requests().len(), 2);

    // Then answered: resolved once.
    p.h.sim.add_comment(id, p.h.agent, ANSWER, true);
    p.cycle().await;
    p.cycle().await;
    assert!(pd.open_incidents().is_empty());
    assert_eq!(pd.requests().len(), 3);
}

#[tokio::test]
async fn a_breach_answered_before_its_page_goes_out_wakes_nobody() {
    let (p, pd) = Paged::pagerduty().await;
    pd.set_down(true);
    let id = p.breached_sev1().await;
    let key = p.breach_key(id);
    p.h.sim.add_comment(id, p.h.agent, ANSWER, true);
    p.h.poll().await;
    pd.set_down(false);
    p.h.advance(600);
    // One pass drops the page, and with it the resolve it owed: nothing is left owed.
    p.h.engine.fire_due().await.unwrap();
    assert!(pd.incidents().is_empty(), "{:?}", pd.incidents());
    assert_eq!(pd.requests().len(), 1, "only the refused first attempt: {:?}", pd.requests());
    let delivery = p.alert(&key).deliveries.into_iter().find(|d| d.channel == "pager").unwrap();
    assert!(
        delivery.dropped.as_deref().is_some_and(|r| r.contains("before the page went out")),
        "{delivery:?}"
    );
    assert!(delivery.resolve.as_ref().is_none_or(|r| r.sent_at.is_none()));
    assert_eq!(p.h.engine.store.outbox("pager").unwrap().len(), 0);
    assert!(p.h.engine.owed_work().unwrap().is_empty(), "{:?}", p.h.engine.owed_work());
}

fn parse(extra: &str) -> Result<Config, String> {
    Config::parse("paging.toml", extra).map_err(|e| e.to_string())
}

#[test]
fn pager_configuration_errors_name_the_key_and_line() {
    let base = |channel: &str, route: &str| {
        format!("[notify.channels.support]\nkind = \"slack\"\nurl_env = \"S\"\n[notify.channels.pager]\n{channel}\n[[notify.routes]]\n{route}\n")
    };
    let cases = [
        (
            base("kind = \"pagerduty\"", "channels = [\"pager\"]"),
            "notify.channels.pager.routing_key_env",
            "paging.toml:5:",
        ),
        (
            base("kind = \"pagerduty\"\nurl_env = \"X\"", "channels = [\"pager\"]"),
            "notify.channels.pager.url_env",
            "paging.toml:6:",
        ),
        (
            base(
                "kind = \"opsgenie\"\napi_key_env = \"K\"\nurl = \"api.eu.opsgenie.com\"",
                "channels = [\"pager\"]",
            ),
            "notify.channels.pager.url",
            "paging.toml:7:",
        ),
        (
            base("kind = \"pager\"", "channels = [\"pager\"]"),
            "notify.channels.pager.kind",
            "paging.toml:5:",
        ),
        (
            base(
                "kind = \"pagerduty\"\nrouting_key_env = \"K\"",
                "channels = [\"pager\"]\npoints = [\"brech\"]",
            ),
            "notify.routes[0].points",
            "paging.toml:9:",
        ),
        (
            base(
                "kind = \"pagerduty\"\nrouting_key_env = \"K\"",
                "channels = [\"pager\"]\npager_severity = \"high\"",
            ),
            "notify.routes[0].pager_severity",
            "paging.toml:9:",
        ),
        (
            base(
                "kind = \"pagerduty\"\nrouting_key_env = \"K\"",
                "channels = [\"support\"]\npager_severity = \"error\"",
            ),
            "notify.routes[0].pager_severity",
            "names no pagerduty",
        ),
    ];
    for (text, key, also) in cases {
        let error = parse(&text).expect_err(&text);
        assert!(error.contains(key) && error.contains(also), "{text}\n→ {error}");
    }
    let good = base(
        "kind = \"opsgenie\"\napi_key_env = \"GENIE\"\nurl = \"https://api.eu.opsgenie.com/\"",
        "severities = [\"sev1\"]\npoints = [\"breach\", \"reminder\", \"90%\"]\npager_severity = \"warning\"\nchannels = [\"pager\", \"support\"]",
    );
    let config = parse(&good).unwrap();
    let pager = &config.notify.pagers["pager"];
    assert_eq!(
        (pager.service, pager.url.as_str()),
        (PagerService::Opsgenie, "https://api.eu.opsgenie.com")
    );
    assert!(!config.notify.channels.contains_key("pager"));
    // A missing key is named by its variable.
    let error = pagers_from(&config, |_| None).unwrap_err();
    assert_eq!(
        error,
        "the environment variable GENIE (named by notify.channels.pager.api_key_env) is not set"
    );
}

#[tokio::test]
async fn a_ticket_reopened_before_its_resolve_went_out_keeps_its_page_open() {
    let (p, pd) = Paged::pagerduty().await;
    let id = p.h.ticket("sev1");
    p.h.poll().await;
    // Answered in time; the resolution target (72 business hours) breaches Friday 11 December.
    p.h.sim.add_comment(id, p.h.agent, ANSWER, true);
    p.cycle().await;
    p.h.clock.set(t("2026-12-11T09:00:30-08:00"));
    p.cycle().await;
    let key = format!("{id:020}/resolution/contract@259200/breach");
    let open: Vec<String> = pd.open_incidents().into_iter().map(|i| i.dedup_key).collect();
    assert_eq!(open, vec![key]);

    // Solved while PagerDuty is down: the resolve is owed; reopened before it could go out.
    pd.set_down(true);
    p.h.sim.set_status(id, "solved", p.h.agent);
    p.cycle().await;
    assert!(pd.requests().iter().any(|r| r.action() == "resolve" && r.status == 503));
    p.h.sim.set_status(id, "open", p.h.agent);
    p.h.poll().await;
    pd.set_down(false);
    p.h.advance(600);
    p.h.engine.fire_due().await.unwrap();
    assert_eq!(pd.open_incidents().len(), 1, "the clock runs again: the page stays open");
    assert!(pd.requests().iter().all(|r| r.status != 202 || r.action() == "trigger"));

    // Solved for good: resolved, once.
    p.h.sim.set_status(id, "solved", p.h.agent);
    p.cycle().await;
    p.cycle().await;
    assert!(pd.open_incidents().is_empty());
    let resolved = pd.requests().iter().filter(|r| r.action() == "resolve" && r.status == 202).count();
    assert_eq!(resolved, 1);
    assert_eq!(pd.incidents().len(), 1, "never paged twice");
}
