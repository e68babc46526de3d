//! The KPI report end to end: a November built in the simulated Zendesk, ingested by the engine
//! on a real store, reported with outcomes computed by hand; each definition's edge; each
//! format; and `slawatch report` on the store the daemon left.

mod common;

use common::{t, Harness, ANSWER};
use serde_json::{json, Map, Value};
use slawatch::kpi::format::{render, Format};
use slawatch::sim::zendesk::NewTicket;

struct World {
    h: Harness,
    globex_customer: u64,
    loner: u64,
    type_field: u64,
    area_field: u64,
}

/// November 2026 in Los Angeles is [Nov 1 00:00 PDT, Dec 1 00:00 PST).
const FROM: &str = "2026-11-01T00:00:00-07:00";
const TO: &str = "2026-12-01T00:00:00-08:00";
/// When the report is read: Wednesday 2 December, noon.
const NOW: &str = "2026-12-02T12:00:00-08:00";

async fn world() -> World {
    let mut ids = (0, 0, 0, 0);
    let h = Harness::build(t("2026-11-01T06:00:00Z"), 1000, |sim| {
        let globex = sim.add_organization("Globex", &[], Map::from_iter([("deployment".to_string(), json!("managed"))]));
        ids.0 = sim.add_user("Gil (Globex)", "gil@globex.example", "end-user", Some(globex));
        ids.1 = sim.add_user("Lou (no organization)", "lou@example.net", "end-user", None);
        ids.2 = sim.add_ticket_field("Type", "text", &[]);
        ids.3 = sim.add_ticket_field("Product area", "text", &[]);
        format!(
            r#"
[escalation]
token_env = "UNUSED"
[[escalation.rules]]
name = "help"
kind = "help_request"
tag = "rfh"
repository = "acme/support-escalations"
[[escalation.rules]]
name = "defects"
kind = "defect"
tag = "bug"
repository = "acme/product"

[report]
type_field = {}
product_area_field = {}
"#,
            ids.2, ids.3
        )
    })
    .await;
    World {
        h,
        globex_customer: ids.0,
        loner: ids.1,
        type_field: ids.2,
        area_field: ids.3,
    }
}

impl World {
    /// A ticket from `requester`, created at `at`, with tags and a type and product area.
    fn ticket(&self, at: &str, requester: u64, tags: &[&str], kind: Option<&str>, area: Option<&str>) -> u64 {
        self.h.at(at);
        let mut custom_fields = Vec::new();
        if let Some(kind) = kind {
            custom_fields.push((self.type_field, json!(kind)));
        }
        if let Some(area) = area {
            custom_fields.push((self.area_field, json!(area)));
        }
        self.h.sim.create_ticket(NewTicket {
            subject: format!("Ticket created {at}"),
            body: "Something is wrong with the connector since this morning.".into(),
            requester_id: requester,
            tags: tags.iter().map(|s| s.to_string()).collect(),
            custom_fields,
            ..NewTicket::default()
        })
    }

    fn comment(&self, at: &str, ticket: u64, author: u64, body: &str) {
        self.h.at(at);
        self.h.sim.add_comment(ticket, author, body, true);
    }

    fn status(&self, at: &str, ticket: u64, status: &str) {
        self.h.at(at);
        self.h.sim.set_status(ticket, status, self.h.agent);
    }

    fn rate(&self, at: &str, ticket: u64, score: &str, by: u64) {
        self.h.at(at);
        self.h.sim.rate_ticket(ticket, score, by);
    }

    fn report(&self, now: &str) -> Value {
        let config = &self.h.engine.config;
        let report = slawatch::engine::kpis::report(config, &self.h.engine.store, t(FROM), t(TO), t(now)).unwrap();
        serde_json::to_value(report).unwrap()
    }
}

/// The month: six tickets of November, one deleted, one created the evening before in Los
/// Angeles (November in UTC), one created at the instant December begins.
async fn november() -> World {
    let w = world().await;
    let (acme, globex, loner, agent) = (w.h.customer, w.globex_customer, w.loner, w.h.agent);
    // Before the month in Los Angeles (Oct 31 23:30 PDT), though November in UTC.
    w.ticket("2026-10-31T23:30:00-07:00", acme, &["sev1"], None, None);
    // T1: self-hosted sev1, answered in an hour, solved the next day; rated good after the solve.
    let t1 = w.ticket("2026-11-02T10:00:00-08:00", acme, &["sev1"], Some("question"), Some("connector"));
    w.comment("2026-11-02T11:00:00-08:00", t1, agent, ANSWER);
    w.status("2026-11-03T10:00:00-08:00", t1, "solved");
    w.rate("2026-11-04T08:00:00-08:00", t1, "good", acme);
    // T2: self-hosted sev1 asking engineering for help, created Wed 16:00 (Thu 11:00 in Sydney):
    // its 24 business hours end Mon 9 Nov 16:00; answered Tue 10:00 (breached); the customer
    // replies in 2h, the agent in 1h; solved after 34 business hours (met); closed; rated bad.
    let t2 = w.ticket(
        "2026-11-04T16:00:00-08:00",
        acme,
        &["sev1", "rfh"],
        Some("incident"),
        Some("connector"),
    );
    w.h.poll().await;
    // T3: managed sev2 on a Saturday (no region open), answered in a day, solved at exactly 7 days.
    let t3 = w.ticket("2026-11-07T12:00:00-08:00", globex, &["sev2"], Some("question"), Some("billing"));
    w.comment("2026-11-08T12:00:00-08:00", t3, agent, ANSWER);
    // T4: managed sev2 filed as a defect (not a help request), created at 17:00 in Berlin, the
    // instant Europe's hours close; solved after 8 days and an hour; offered a rating, not rated.
    let t4 = w.ticket("2026-11-09T08:00:00-08:00", globex, &["sev2", "bug"], Some("problem"), None);
    w.comment("2026-11-09T09:00:00-08:00", t4, agent, ANSWER);
    // T5: a customer with no organization (self-hosted by default), sev2, created as the US opens,
    // never answered: its 40 business hours ended Mon 16 Nov 17:00.
    w.ticket("2026-11-10T09:00:00-08:00", loner, &["sev2"], None, None);
    w.comment("2026-11-10T10:00:00-08:00", t2, agent, ANSWER);
    w.comment(
        "2026-11-10T12:00:00-08:00",
        t2,
        acme,
        "Thanks, that did not help: the crash is still there.",
    );
    w.comment(
        "2026-11-10T13:00:00-08:00",
        t2,
        agent,
        "Please send the connector log from the crash; we will read it at once.",
    );
    w.status("2026-11-11T10:00:00-08:00", t2, "solved");
    // A ticket deleted: it counts nowhere.
    let deleted = w.ticket("2026-11-12T10:00:00-08:00", acme, &["sev1"], Some("incident"), None);
    w.h.poll().await;
    w.h.at("2026-11-13T10:00:00-08:00");
    w.h.sim.delete_ticket(deleted);
    w.status("2026-11-14T12:00:00-08:00", t3, "solved");
    w.status("2026-11-16T10:00:00-08:00", t2, "closed");
    w.rate("2026-11-17T08:00:00-08:00", t2, "bad", acme);
    w.status("2026-11-17T09:00:00-08:00", t4, "solved");
    w.rate("2026-11-18T09:00:00-08:00", t4, "offered", globex);
    w.h.poll().await;
    // T6: self-hosted sev1 created Mon 30 Nov 16:00 (Tue 11:00 in Sydney), only acknowledged:
    // both its clocks still run at the report's reading.
    let t6 = w.ticket("2026-11-30T16:00:00-08:00", acme, &["sev1"], Some("incident"), None);
    w.comment("2026-11-30T16:30:00-08:00", t6, agent, "Hi Casey, we're on it.");
    // The first instant of December: not November.
    w.ticket("2026-12-01T00:00:00-08:00", acme, &["sev1"], Some("incident"), None);
    w.h.at("2026-12-02T11:50:00-08:00");
    w.h.poll().await;
    w.h.poll().await;
    w.h.at(NOW);
    w
}

fn expected_november() -> Value {
    let clocks = |met, breached, running, na, attainment: Value, target: f64| json!({"met": met, "breached": breached, "running": running, "not_applicable": na, "attainment": attainment, "target": target});
    json!({
        "from": "2026-11-01T00:00:00-07:00",
        "to": "2026-12-01T00:00:00-08:00",
        "time_zone": "America/Los_Angeles",
        "tickets_created": 6,
        // T1, T3, T4 met; T2 answered late, T5 never; T6 still running (left out of attainment).
        "first_response": clocks(3, 2, 1, 0, json!(0.6), 1.0),
        // T1, T2 met; T6 running; sev2 tickets have no contractual resolution target.
        "resolution": clocks(2, 0, 1, 3, json!(1.0), 0.95),
        // T3 solved at exactly 7 days; T4 after 8; T5 still open after 22.
        "sev2_resolved_within_week": {"within": 1, "late": 2, "pending": 0, "share": 1.0 / 3.0, "target": 0.95},
        "engineering_help": {"requests": 1, "tickets": 6, "share": 1.0 / 6.0, "target_max": 0.1, "over": true},
        // T1 good, T2 bad (both rated after the solve); T4 offered only; the rest unrated.
        "csat": {"good": 1, "bad": 1, "score": 0.5, "target": 0.95},
        "volume": {
            "by_type": {"incident": 2, "problem": 1, "question": 2, "unset": 1},
            "by_product_area": {"billing": 1, "connector": 2, "unset": 3},
            "by_customer": {"Acme": 3, "Globex": 2, "no organization": 1},
            "by_region": {"apac": 2, "europe": 0, "outside": 2, "us": 4}
        },
        "cases_per_customer": 3.0,
        // 1 + 3 + 1 + 1 + 0 + 1 replies.
        "replies_per_ticket": 7.0 / 6.0,
        "avg_time_between_replies_seconds": {
            // 1h (T1), 5d 18h and 1h (T2), 1d (T3), 1h (T4), 30 min (T6): 595,800 s over 6.
            "support": 99300.0,
            "customer": 7200.0
        },
        "per_severity": {
            "sev1": {"first_response": clocks(1, 1, 1, 0, json!(0.5), 1.0), "resolution": clocks(2, 0, 1, 0, json!(1.0), 0.95)},
            "sev2": {"first_response": clocks(2, 1, 0, 0, json!(2.0 / 3.0), 1.0), "resolution": clocks(0, 0, 0, 3, Value::Null, 0.95)}
        },
        "per_tier": {
            "managed": {"first_response": clocks(2, 0, 0, 0, json!(1.0), 1.0), "resolution": clocks(0, 0, 0, 2, Value::Null, 0.95)},
            "self-hosted": {"first_response": clocks(1, 2, 1, 0, json!(1.0 / 3.0), 1.0), "resolution": clocks(2, 0, 1, 1, json!(1.0), 0.95)}
        }
    })
}

#[tokio::test]
async fn a_month_in_the_simulated_zendesk_reports_the_outcomes_computed_by_hand() {
    let w = november().await;
    let report = w.report(NOW);
    assert_eq!(report, expected_november(), "{}", serde_json::to_string_pretty(&report).unwrap());
}

#[tokio::test]
async fn a_running_clock_counts_as_breached_once_the_facts_reach_past_its_deadline() {
    let w = november().await;
    // T6's first response is due Thu 3 Dec 16:00 (24 business hours from Mon 16:00).
    w.h.at("2026-12-03T15:57:00-08:00");
    w.h.poll().await;
    let before = w.report("2026-12-03T15:59:59-08:00");
    assert_eq!(before["first_response"]["running"], 1);
    assert_eq!(before["first_response"]["breached"], 2);
    // At the deadline, but with the facts known only up to 15:57: a reply may be on its way.
    let unknown = w.report("2026-12-03T16:00:30-08:00");
    assert_eq!(unknown["first_response"]["running"], 1, "{unknown}");
    w.h.at("2026-12-03T16:01:00-08:00");
    w.h.poll().await;
    let after = w.report("2026-12-03T16:02:30-08:00");
    assert_eq!(after["first_response"]["running"], 0);
    assert_eq!(after["first_response"]["breached"], 3);
    assert_eq!(after["first_response"]["attainment"], json!(0.5));
}

#[tokio::test]
async fn each_format_reads_the_same_report() {
    let w = november().await;
    let config = &w.h.engine.config;
    let report = slawatch::engine::kpis::report(config, &w.h.engine.store, t(FROM), t(TO), t(NOW)).unwrap();
    insta::assert_snapshot!("november_md", render(&report, Format::Markdown));
    insta::assert_snapshot!("november_csv", render(&report, Format::Csv));
    insta::assert_snapshot!("november_json", render(&report, Format::Json));
}

#[tokio::test]
async fn a_rating_after_the_solve_and_a_ticket_solved_within_the_week_are_taken_from_the_export() {
    let w = world().await;
    let acme = w.h.customer;
    let id = w.ticket("2026-11-02T10:00:00-08:00", acme, &["sev2"], None, None);
    w.comment("2026-11-02T11:00:00-08:00", id, w.h.agent, ANSWER);
    w.status("2026-11-03T10:00:00-08:00", id, "solved");
    w.h.poll().await;
    let report = w.report("2026-11-05T00:00:00-08:00");
    assert_eq!(report["csat"], json!({"good": 0, "bad": 0, "score": null, "target": 0.95}));
    assert_eq!(report["sev2_resolved_within_week"]["within"], 1);
    // Closed, then rated: the export brings the rating, and the report counts it.
    w.status("2026-11-07T10:00:00-08:00", id, "closed");
    w.rate("2026-11-08T10:00:00-08:00", id, "good", acme);
    w.h.poll().await;
    let report = w.report("2026-11-09T00:00:00-08:00");
    assert_eq!(report["csat"], json!({"good": 1, "bad": 0, "score": 1.0, "target": 0.95}));
    assert_eq!(report["replies_per_ticket"], json!(1.0));
}

#[tokio::test]
async fn a_reply_before_the_deadline_whose_half_has_not_arrived_is_never_reported_as_a_breach() {
    let w = world().await;
    // Self-hosted sev1 from Mon 2 Nov 10:00: first response due Thu 5 Nov 10:00.
    let id = w.ticket("2026-11-02T10:00:00-08:00", w.h.customer, &["sev1"], None, None);
    w.h.poll().await;
    assert_eq!(w.report("2026-11-02T10:05:00-08:00")["first_response"]["running"], 1);
    // Answered and solved a minute before the deadline...
    w.comment("2026-11-05T09:59:00-08:00", id, w.h.agent, ANSWER);
    w.status("2026-11-05T09:59:30-08:00", id, "solved");
    // ...and only the ticket export's half (the snapshot: solved) arrives past the deadline.
    w.h.at("2026-11-05T10:05:00-08:00");
    let cursors = w.h.engine.store.cursors().unwrap();
    let (page, tickets) =
        w.h.engine
            .client
            .ticket_page(
                &slawatch::zendesk::client::ExportStart::StartTime(t("2026-11-05T09:00:00-08:00")),
                1000,
            )
            .await
            .unwrap();
    let half = slawatch::store::Cursors {
        tickets: page.after_cursor,
        ..cursors
    };
    w.h.engine.apply_ticket_page(&tickets, &half).unwrap();
    let report = w.report("2026-11-05T10:05:00-08:00");
    assert_eq!(
        report["first_response"],
        json!({"met": 0, "breached": 0, "running": 1, "not_applicable": 0, "attainment": null, "target": 1.0}),
        "on half the facts the clock is still running as far as anyone knows"
    );
    // The events export brings the reply: met, and the resolution too.
    w.h.poll().await;
    let report = w.report("2026-11-05T10:07:00-08:00");
    assert_eq!(report["first_response"]["met"], 1, "{report}");
    assert_eq!(report["resolution"]["met"], 1, "{report}");
    assert_eq!(report["replies_per_ticket"], json!(1.0));
}

/// `slawatch report --month 2026-11 --format FORMAT` with the clock at NOW.
async fn report_command(config: &std::path::Path, format: &str) -> String {
    let args = [
        "report",
        "--config",
        config.to_str().unwrap(),
        "--month",
        "2026-11",
        "--format",
        format,
    ]
    .map(String::from);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = common::binary::slawatch(&args)
            .env("SLAWATCH_TEST_CLOCK", format!("{}:1", t(NOW)))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slawatch_report_asks_the_daemon_that_holds_the_store_or_reads_the_store_itself() {
    let mut w = november().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = listener.local_addr().unwrap();
    let file = w.h.dir.path().join("report.toml");
    std::fs::write(&file, format!("{}\n[admin]\nlisten = \"{admin}\"\n", w.h.config_text)).unwrap();

    // The daemon holds the store: the report comes from its /report.
    let engine = std::sync::Arc::new(w.h.take_engine());
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(slawatch::admin::serve(listener, engine.clone(), None, stop.clone()));
    let from_daemon = report_command(&file, "json").await;
    assert_eq!(serde_json::from_str::<Value>(&from_daemon).unwrap(), expected_november());
    stop.cancel();
    server.await.unwrap().unwrap();
    let store = engine.config.store.path.clone();
    drop(engine);

    // Stopped: the store is read directly, the same report in every format.
    drop(common::reopen(&store).await);
    let json = report_command(&file, "json").await;
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), expected_november());
    let md = report_command(&file, "md").await;
    assert!(
        md.contains("| SLA first response | 60.0% (3 met, 2 breached; 1 running, 0 not applicable) | 100% | ✗ |"),
        "{md}"
    );
    let csv = report_command(&file, "csv").await;
    assert!(csv.contains("\nfirst_response.attainment,0.6\n"), "{csv}");
}

#[tokio::test]
async fn a_store_written_before_kpi_rows_were_kept_gets_them_at_the_first_start() {
    let mut w = november().await;
    // What an older slawatch left: no KPI rows, no help flag, another policy fingerprint.
    w.h.restart_with(|db| {
        db.drop_tree("kpi").unwrap();
        db.open_tree("meta").unwrap().remove("policy_fingerprint").unwrap();
        let tickets = db.open_tree("tickets").unwrap();
        for entry in tickets.iter() {
            let (key, bytes) = entry.unwrap();
            let mut record: Value = serde_json::from_slice(&bytes).unwrap();
            record.as_object_mut().unwrap().remove("help_requested");
            tickets.insert(key, serde_json::to_vec(&record).unwrap()).unwrap();
        }
        // The help request was filed, as an older slawatch recorded it.
        let escalation = json!({"ticket_id": 3, "matching": true, "requests": [{"number": 1, "rule": "help", "repository": "acme/support-escalations", "decided_at": 0, "issue": null, "noted": false, "announced": false, "next_attempt_ms": 0, "attempts": 0, "last_error": null}]});
        db.open_tree("escalations").unwrap().insert(3u64.to_be_bytes(), serde_json::to_vec(&escalation).unwrap()).unwrap();
    })
    .await;
    assert_eq!(w.report(NOW)["tickets_created"], 0);
    w.h.engine.evaluate_all().unwrap();
    assert_eq!(w.report(NOW), expected_november());
}

#[tokio::test]
async fn a_re_evaluation_after_downtime_never_stores_a_breach_the_facts_do_not_reach() {
    let w = world().await;
    // Self-hosted sev1 from Mon 2 Nov 10:00: first response due Thu 5 Nov 10:00.
    let id = w.ticket("2026-11-02T10:00:00-08:00", w.h.customer, &["sev1"], None, None);
    w.h.poll().await;
    // Answered five minutes before the deadline, while slawatch is down; it starts again four
    // hours later and re-evaluates every ticket (a policy change) before its first poll.
    w.comment("2026-11-05T09:55:00-08:00", id, w.h.agent, ANSWER);
    w.h.at("2026-11-05T14:00:00-08:00");
    w.h.engine.evaluate_all().unwrap();
    let report = w.report("2026-11-05T14:00:00-08:00");
    assert_eq!(report["first_response"]["breached"], 0, "{report}");
    assert_eq!(report["first_response"]["running"], 1, "{report}");
    w.h.poll().await;
    let report = w.report("2026-11-05T14:02:00-08:00");
    assert_eq!(report["first_response"]["met"], 1, "{report}");
}
