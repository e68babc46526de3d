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
question_types = ["question"]
docs_url_prefixes = ["https://docs.example.com"]
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
    // T1: self-hosted sev1, a question answered in an hour with a link to the documentation,
    // solved the next day; rated good after the solve.
    let t1 = w.ticket("2026-11-02T10:00:00-08:00", acme, &["sev1"], Some("question"), Some("connector"));
    w.comment(
        "2026-11-02T11:00:00-08:00",
        t1,
        agent,
        &format!("{ANSWER} See https://docs.example.com/connector/upgrade."),
    );
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
    // T3: managed sev2 on a Saturday (no region open), a question answered in a day without the
    // documentation (only an internal note links to it), solved at exactly 7 days.
    let t3 = w.ticket("2026-11-07T12:00:00-08:00", globex, &["sev2"], Some("question"), Some("billing"));
    w.h.at("2026-11-08T11:00:00-08:00");
    w.h.sim
        .add_comment(t3, agent, "Internal: https://docs.example.com/billing covers this.", false);
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
        // One request in one month.
        "engineering_help": {"requests": 1, "tickets": 6, "share": 1.0 / 6.0, "target_max": 0.1, "over": true, "months": 1.0, "requests_per_month": 1.0},
        // T1 good, T2 bad (both rated after the solve); T4 offered only; the rest unrated.
        "csat": {"good": 1, "bad": 1, "score": 0.5, "target": 0.95},
        // Questions: T1 (its answer links the docs) and T3 (only a private note does), both solved.
        "documentation": {"configured": true, "solved_questions": 2, "with_docs_link": 1, "open_questions": 0, "share": 0.5, "target": 0.9},
        "volume": {
            "by_type": {"incident": 2, "problem": 1, "question": 2, "unset": 1},
            "by_product_area": {"billing": 1, "connector": 2, "unset": 3},
            "by_customer": {"Acme": 3, "Globex": 2, "no organization": 1},
            "by_region": {"apac": 2, "europe": 0, "outside": 2, "us": 4}
        },
        "cases_per_customer": 3.0,
        // 1 + 3 + 1 + 1 + 0 + 1 replies.
        "replies_per_ticket": 7.0 / 6.0,
        // 0, 1, 1, 1, 1, 3.
        "replies_per_ticket_median": 1.0,
        "avg_time_between_replies_seconds": {
            // 1h (T1), 5d 18h and 1h (T2), 1d (T3), 1h (T4), 30 min (T6): 595,800 s over 6.
            "support": 99300.0,
            "customer": 7200.0
        },
        // Times on each ticket's own clock, median and p90 interpolated as a spreadsheet does
        // (p90 of two values a and b: a + 0.9 (b - a)).
        // First response, business hours: T1 1h (3,600 s); T2 Wed 16-17, Thu, Fri, Mon, Tue 9-10:
        // 26h (93,600 s). Calendar: T3 1 day (86,400 s), T4 1h.
        // Resolution, business hours: T1 Mon 10-17 and Tue 9-10: 8h (28,800 s); T2 34h (122,400 s).
        // Calendar, with no contractual target: T3 7 days (604,800 s), T4 8 days 1h (694,800 s).
        "per_severity": {
            "sev1": {
                "first_response": clocks(1, 1, 1, 0, json!(0.5), 1.0), "resolution": clocks(2, 0, 1, 0, json!(1.0), 0.95),
                "first_response_time": times(3_600, 93_600), "resolution_time": times(28_800, 122_400)
            },
            "sev2": {
                "first_response": clocks(2, 1, 0, 0, json!(2.0 / 3.0), 1.0), "resolution": clocks(0, 0, 0, 3, Value::Null, 0.95),
                "first_response_time": times(3_600, 86_400), "resolution_time": times(604_800, 694_800)
            }
        },
        "per_tier": {
            "managed": {
                "first_response": clocks(2, 0, 0, 0, json!(1.0), 1.0), "resolution": clocks(0, 0, 0, 2, Value::Null, 0.95),
                "first_response_time": times(3_600, 86_400), "resolution_time": times(604_800, 694_800)
            },
            "self-hosted": {
                "first_response": clocks(1, 2, 1, 0, json!(1.0 / 3.0), 1.0), "resolution": clocks(2, 0, 1, 1, json!(1.0), 0.95),
                "first_response_time": times(3_600, 93_600), "resolution_time": times(28_800, 122_400)
            }
        },
        // Most at risk first: a breach each for the customer with no organization (attainment 0)
        // and Acme (50%); then Globex. Open now counts every open ticket (Acme: T6, and the
        // tickets of 31 October and 1 December).
        "customers": [
            {
                "organization_id": null, "name": "no organization", "tier": "self-hosted", "contract": null,
                "tickets_created": 1, "open_now": 1, "most_severe_tickets": 0,
                "first_response": clocks(0, 1, 0, 0, json!(0.0), 1.0), "resolution": clocks(0, 0, 0, 1, Value::Null, 0.95),
                "breached_tickets": 1, "engineering_help_requests": 0,
                "csat": {"good": 0, "bad": 0, "score": null, "target": 0.95}, "median_resolution_seconds": null
            },
            {
                "organization_id": 2000001, "name": "Acme", "tier": "self-hosted", "contract": null,
                "tickets_created": 3, "open_now": 3, "most_severe_tickets": 3,
                "first_response": clocks(1, 1, 1, 0, json!(0.5), 1.0), "resolution": clocks(2, 0, 1, 0, json!(1.0), 0.95),
                "breached_tickets": 1, "engineering_help_requests": 1,
                "csat": {"good": 1, "bad": 1, "score": 0.5, "target": 0.95}, "median_resolution_seconds": 75_600.0
            },
            {
                "organization_id": 2000002, "name": "Globex", "tier": "managed", "contract": null,
                "tickets_created": 2, "open_now": 0, "most_severe_tickets": 0,
                "first_response": clocks(2, 0, 0, 0, json!(1.0), 1.0), "resolution": clocks(0, 0, 0, 2, Value::Null, 0.95),
                "breached_tickets": 0, "engineering_help_requests": 0,
                "csat": {"good": 0, "bad": 0, "score": null, "target": 0.95}, "median_resolution_seconds": 649_800.0
            }
        ]
    })
}

/// Two times, in seconds: count, mean, median and p90.
fn times(a: i64, b: i64) -> Value {
    let (a, b) = (a.min(b) as f64, a.max(b) as f64);
    json!({"count": 2, "mean_seconds": (a + b) / 2.0, "median_seconds": (a + b) / 2.0, "p90_seconds": a + 0.9 * (b - a)})
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
    report_with(config, &["--month", "2026-11", "--format", format]).await
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
        db.drop_tree("kpi_rows").unwrap();
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

/// `slawatch report ARGS` with the clock at NOW; stdout.
async fn report_with(config: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["report".to_string(), "--config".into(), config.to_str().unwrap().into()];
    args.extend(extra.iter().map(|s| s.to_string()));
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

/// The world of `november`, its daemon stopped, and the config file `slawatch report` reads.
async fn stopped_november() -> (World, std::path::PathBuf) {
    let mut w = november().await;
    let file = w.h.dir.path().join("report.toml");
    std::fs::write(&file, &w.h.config_text).unwrap();
    let store = w.h.engine.config.store.path.clone();
    drop(w.h.take_engine());
    drop(common::reopen(&store).await);
    (w, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_across_the_dst_change_is_its_months_side_by_side_and_its_total() {
    let (_w, file) = stopped_november().await;
    // 2026-Q4 in Los Angeles: October (PDT) holds the ticket of 31 October 23:30 PDT, November
    // (DST ends on the 1st) the hand-computed month, December the ticket of its first instant.
    let json: Value = serde_json::from_str(&report_with(&file, &["--quarter", "2026-Q4", "--format", "json"]).await).unwrap();
    assert_eq!(json["quarter"], "2026-Q4");
    let months = json["months"].as_array().unwrap();
    let labels: Vec<&str> = months.iter().map(|m| m["period"].as_str().unwrap()).collect();
    assert_eq!(labels, ["2026-10", "2026-11", "2026-12"]);
    assert_eq!(
        months[1]["report"],
        expected_november(),
        "November within the quarter is the month alone"
    );
    assert_eq!(months[0]["report"]["from"], "2026-10-01T00:00:00-07:00");
    assert_eq!(months[0]["report"]["to"], "2026-11-01T00:00:00-07:00");
    assert_eq!(months[2]["report"]["from"], "2026-12-01T00:00:00-08:00");
    let total = &json["total"];
    assert_eq!(
        (total["from"].as_str(), total["to"].as_str()),
        (Some("2026-10-01T00:00:00-07:00"), Some("2027-01-01T00:00:00-08:00"))
    );
    assert_eq!(total["tickets_created"], 8);
    // The quarter's own figures, not an average of the months': the 31 October ticket was never
    // answered (breached on 5 November), the 1 December one is still within its 24 business hours.
    assert_eq!(total["first_response"]["met"], 3);
    assert_eq!(total["first_response"]["breached"], 3);
    assert_eq!(total["first_response"]["running"], 2);
    assert_eq!(total["first_response"]["attainment"], json!(0.5));
    // One request over three months.
    assert_eq!(total["engineering_help"]["months"], json!(3.0));
    assert_eq!(total["engineering_help"]["requests_per_month"], json!(1.0 / 3.0));

    let csv = report_with(&file, &["--quarter", "2026-Q4", "--format", "csv"]).await;
    assert!(csv.starts_with("metric,2026-10,2026-11,2026-12,2026-Q4\n"), "{csv}");
    assert!(csv.contains("\ntickets_created,1,6,1,8\n"), "{csv}");
    assert!(csv.contains("\nfirst_response.attainment,0,0.6,,0.5\n"), "{csv}");
    assert!(csv.contains("\ndocumentation.share,,0.5,,0.5\n"), "{csv}");
    let md = report_with(&file, &["--quarter", "2026-Q4"]).await;
    assert!(md.contains("| KPI | 2026-10 | 2026-11 | 2026-12 | 2026-Q4 |"), "{md}");
    assert!(md.contains("| SLA first response | 0.0% | 60.0% | — | 50.0% |"), "{md}");
    assert!(md.contains("| Questions answered with the docs | — | 50.0% | — | 50.0% |"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_to_prints_each_kpi_s_change_against_the_baseline() {
    let (_w, file) = stopped_november().await;
    let json: Value =
        serde_json::from_str(&report_with(&file, &["--month", "2026-11", "--compare-to", "2026-10", "--format", "json"]).await).unwrap();
    assert_eq!(json["report"], expected_november());
    assert_eq!(json["compare_to"]["period"], "2026-10");
    let october = &json["compare_to"]["report"];
    assert_eq!(october["tickets_created"], 1);
    assert_eq!(october["first_response"]["attainment"], json!(0.0));
    let changes = &json["changes"];
    assert_eq!(changes["tickets_created"], json!(5.0));
    assert_eq!(changes["first_response.attainment"], json!(0.6));
    assert_eq!(changes["resolution.attainment"], json!(1.0));
    // No rating in October: no change to tell.
    assert_eq!(changes["csat.score"], Value::Null);
    let md = report_with(&file, &["--month", "2026-11", "--compare-to", "2026-10"]).await;
    assert!(md.contains("## Compared with 2026-10"), "{md}");
    assert!(md.contains("| Tickets created | 6 | 1 | +5 (+500.0%) |"), "{md}");
    assert!(md.contains("| SLA first response | 60.0% | 0.0% | +60.0 pp |"), "{md}");
    // A quarter against a range.
    let csv = report_with(
        &file,
        &["--quarter", "2026-Q4", "--compare-to", "2026-07-01..2026-10-01", "--format", "csv"],
    )
    .await;
    assert!(
        csv.starts_with("metric,2026-10,2026-11,2026-12,2026-Q4,2026-07-01..2026-10-01,change since 2026-07-01..2026-10-01\n"),
        "{csv}"
    );
    assert!(csv.contains("\ntickets_created,1,6,1,8,0,8\n"), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_customer_lists_each_account_s_vitals_most_at_risk_first() {
    let (_w, file) = stopped_november().await;
    let csv = report_with(&file, &["--month", "2026-11", "--by-customer", "--format", "csv"]).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "organization_id,name,tier,contract,tickets_created,open_now,most_severe_tickets,first_response_met,first_response_breached,first_response_running,first_response_attainment,resolution_met,resolution_breached,resolution_running,resolution_attainment,breached_tickets,engineering_help_requests,csat_good,csat_bad,csat_score,median_resolution_seconds",
            ",no organization,self-hosted,,1,1,0,0,1,0,0,0,0,0,,1,0,0,0,,",
            "2000001,Acme,self-hosted,,3,3,3,1,1,1,0.5,2,0,1,1,1,1,1,1,0.5,75600",
            "2000002,Globex,managed,,2,0,0,2,0,0,1,0,0,0,,0,0,0,0,,649800",
        ]
    );
    let md = report_with(&file, &["--month", "2026-11", "--by-customer"]).await;
    assert!(
        md.contains("| Acme | self-hosted | 3 | 3 | 3 | 50.0% | 100.0% | 1 | 1 | 50.0% | 21.0 h |"),
        "{md}"
    );
}

#[tokio::test]
async fn a_finished_month_holds_still_until_it_is_rejudged_on_purpose() {
    let w = november().await;
    let before = w.report(NOW);
    // Globex moves from managed to self-hosted: its tickets (T3 and T4, solved more than a week
    // ago) keep the tier and figures they were judged under.
    let globex =
        w.h.engine
            .store
            .organizations()
            .unwrap()
            .into_iter()
            .find(|o| o.name == "Globex")
            .unwrap()
            .id;
    w.h.sim.set_organization_field(globex, "deployment", json!("self-hosted"));
    w.h.engine.refresh_directory(true).await.unwrap();
    w.h.engine.evaluate_all().unwrap();
    let after = w.report(NOW);
    assert_eq!(after["per_tier"], before["per_tier"], "{after}");
    assert_eq!(after["first_response"], before["first_response"]);
    // Asked for on purpose: judged again under today's directory, said so, nothing stored.
    let config = &w.h.engine.config;
    let rejudged = slawatch::engine::kpis::rejudged_report(config, &w.h.engine.store, t(FROM), t(TO), t(NOW)).unwrap();
    let rejudged = serde_json::to_value(rejudged).unwrap();
    assert_eq!(rejudged["per_tier"]["managed"]["first_response"]["met"], 0, "{rejudged}");
    assert_eq!(rejudged["per_tier"]["self-hosted"]["first_response"]["met"], 3, "{rejudged}");
    // T3 and T4 judged differently (their tier; T3's Sunday answer now breaches business hours).
    assert_eq!(rejudged["rejudged"], json!({"tickets": 6, "changed": 2, "kept_as_stored": 0}));
    assert_eq!(w.report(NOW), after, "--rejudge writes nothing");
    let md = render(&serde_json::from_value(rejudged).unwrap(), Format::Markdown);
    assert!(md.contains("Re-judged under today's policy, on purpose"), "{md}");
}

#[tokio::test]
async fn a_solved_ticket_is_judged_again_when_an_author_turns_out_to_be_an_agent_until_its_row_freezes() {
    let w = world().await;
    // Sam answers two tickets while Zendesk still lists Sam as an end user.
    let sam = w.h.sim.add_user("Sam", "sam@support.example", "end-user", None);
    let early = w.ticket("2026-11-02T10:00:00-08:00", w.h.customer, &["sev2"], None, None);
    w.comment("2026-11-02T11:00:00-08:00", early, sam, ANSWER);
    w.status("2026-11-02T12:00:00-08:00", early, "solved");
    w.h.poll().await;
    let late = w.ticket("2026-11-12T10:00:00-08:00", w.h.customer, &["sev2"], None, None);
    w.comment("2026-11-12T11:00:00-08:00", late, sam, ANSWER);
    w.status("2026-11-12T12:00:00-08:00", late, "solved");
    w.h.poll().await;
    let report = w.report("2026-11-13T00:00:00-08:00");
    assert_eq!(report["first_response"]["met"], 0, "{report}");
    // Sam was an agent all along: the directory learns it. The ticket solved the day before is
    // judged again; the one solved ten days ago is frozen and stays as it was judged.
    w.h.sim.set_user_role(sam, "agent");
    w.h.at("2026-11-13T00:00:00-08:00");
    w.h.engine.refresh_directory(true).await.unwrap();
    let report = w.report("2026-11-13T00:00:01-08:00");
    assert_eq!(report["first_response"]["met"], 1, "{report}");
    assert_eq!(report["first_response"]["not_applicable"], 1, "{report}");
}

/// The ticket created at `at` (Los Angeles time), as the store knows it.
fn ticket_created(w: &World, at: &str) -> u64 {
    let tickets = w.h.engine.store.tickets().map(|t| t.unwrap());
    tickets.into_iter().find(|ticket| ticket.created_at == Some(t(at))).unwrap().id
}

#[tokio::test]
async fn a_month_packed_into_days_reports_the_same_and_still_takes_a_late_rating_and_a_deletion() {
    let w = november().await;
    let before = w.report(NOW);
    // The daily job packs the UTC days that ended 8 days before now (Tue 24 Nov 20:00 UTC):
    // every November ticket but T6, and the deleted ticket's tombstone.
    let packed = w.h.engine.pack_kpi_days().unwrap();
    assert_eq!((packed.rows, packed.deleted, packed.changed_meanwhile), (6, 1, 0), "{packed:?}");
    assert_eq!(w.report(NOW), before, "packed days read as the rows did");

    // Late facts about packed tickets: T3 (solved 14 Nov, frozen) is rated good, and T1 is
    // deleted.
    let (t1, t3) = (
        ticket_created(&w, "2026-11-02T10:00:00-08:00"),
        ticket_created(&w, "2026-11-07T12:00:00-08:00"),
    );
    w.rate("2026-12-02T12:10:00-08:00", t3, "good", w.globex_customer);
    w.h.at("2026-12-02T12:20:00-08:00");
    w.h.sim.delete_ticket(t1);
    w.h.at("2026-12-02T12:40:00-08:00");
    w.h.poll().await;
    w.h.poll().await;
    let later = w.report("2026-12-02T12:40:00-08:00");
    assert_eq!(later["tickets_created"], json!(5), "{later}");
    // T1's good rating is gone with it, T3's is new; T2's bad one stays.
    assert_eq!(later["csat"], json!({"good": 1, "bad": 1, "score": 0.5, "target": 0.95}), "{later}");
    assert_eq!(
        later["documentation"]["with_docs_link"],
        json!(0),
        "T1 was the answer with the link"
    );

    // The next packing folds them in, and the report is the same.
    let packed = w.h.engine.pack_kpi_days().unwrap();
    assert_eq!((packed.rows, packed.deleted), (1, 1), "{packed:?}");
    assert_eq!(w.report("2026-12-02T12:40:00-08:00"), later);
}
