//! The admin HTTP as an operator meets it: `/readyz` says which check fails and why; with a
//! token set, everything but `/healthz` asks for it.

mod common;

use common::{Harness, SUPPORT_ONLY};
use serde_json::Value;
use std::sync::Arc;

async fn serve(h: &mut Harness, token: Option<&str>) -> (String, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let engine = Arc::new(h.take_engine());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(slawatch::admin::serve(listener, engine, token.map(String::from), stop.clone()));
    (base, stop)
}

async fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_until_a_poll_completes_and_when_polls_stop_or_the_outbox_sticks() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    // Before any poll: not ready, and the body says why.
    let engine_before = h.engine.readiness();
    assert!(!engine_before.ready);
    assert_eq!(engine_before.poll.detail, "starting: no poll has completed yet");
    let report = h.engine.poll().await.unwrap();
    assert!(report.complete);
    h.engine.health.poll_succeeded(h.clock.now_ms());
    let ready = h.engine.readiness();
    assert!(ready.ready, "{ready:?}");
    // Polls failing for more than three intervals (30 s by default in the harness's config).
    h.engine.health.poll_failed("zendesk: HTTP 503".into());
    h.advance(91);
    let stale = h.engine.readiness();
    assert!(!stale.ready);
    assert!(stale.poll.detail.starts_with("no complete poll for 91s"), "{}", stale.poll.detail);
    assert!(stale.poll.detail.ends_with(": zendesk: HTTP 503"), "{}", stale.poll.detail);
    h.engine.health.poll_succeeded(h.clock.now_ms());
    // An alert waiting for a channel that is down, longer than outbox_stuck_after (15 min).
    h.slack.set_down(true);
    let id = h.ticket("sev1");
    h.poll().await;
    h.clock.set(common::t("2026-12-01T13:30:00-08:00"));
    h.engine.fire_due().await.unwrap();
    assert!(h.engine.store.outbox_len() > 0);
    h.advance(16 * 60);
    h.engine.health.poll_succeeded(h.clock.now_ms());
    let stuck = h.engine.readiness();
    assert!(!stuck.ready && stuck.poll.ok && !stuck.outbox.ok, "{stuck:?}");
    assert!(
        stuck.outbox.detail.starts_with("oldest undelivered alert decided "),
        "{}",
        stuck.outbox.detail
    );

    // Over HTTP: 503 with the checks as JSON.
    let (base, stop) = serve(&mut h, None).await;
    let (status, body) = get(&format!("{base}/readyz"), None).await;
    assert_eq!(status, 503);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["outbox"]["ok"], false);
    assert_eq!(body["store"]["ok"], true);
    stop.cancel();
    let _ = id;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_everything_but_healthz_asks_for_it() {
    let mut h = Harness::new("").await;
    let (base, stop) = serve(&mut h, Some("s3cret-admin-token")).await;
    assert_eq!(get(&format!("{base}/healthz"), None).await, (200, "ok\n".to_string()));
    for path in ["/readyz", "/status", "/report?from=0&to=10"] {
        let (status, body) = get(&format!("{base}{path}"), None).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(get(&format!("{base}{path}"), Some("wrong")).await.0, 401, "{path}");
        let (status, _) = get(&format!("{base}{path}"), Some("s3cret-admin-token")).await;
        assert!(status == 200 || status == 503, "{path}: {status}");
    }
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_happened_and_show_the_state_without_secrets_or_bodies() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.poll().await;
    // Tuesday 13:30: the 50% warning of the first response (12 of 24 business hours) goes out.
    h.clock.set(common::t("2026-12-01T13:30:00-08:00"));
    h.engine.fire_due().await.unwrap();
    assert_eq!(common::titles(&h).len(), 1);
    let (base, stop) = serve(&mut h, Some("s3cret-admin-token")).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for expected in [
        "slawatch_alerts_decided_total{kind=\"warning\"} 1\n",
        "slawatch_alerts_sent_total{channel=\"support\",kind=\"warning\"} 1\n",
        "slawatch_api_requests_total{service=\"zendesk\",endpoint=\"tickets_export\",status=\"200\"}",
        "slawatch_api_request_duration_seconds_bucket{le=\"0.01\",service=\"zendesk\",endpoint=\"tickets_export\"}",
        "slawatch_tickets_tracked 1\n",
        "slawatch_store_size_bytes ",
        "slawatch_open_ticket_clocks{tier=\"self-hosted\",severity=\"sev1\",metric=\"first_response\",state=\"running\"} 1\n",
        "slawatch_outbox_depth 0\n",
        "slawatch_poll_lag_seconds ",
        "slawatch_build_info{version=\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
    for secret in ["s3cret-admin-token", "sim-token", "The connector crashes on start", "/services/"] {
        assert!(!text.contains(secret), "{secret:?} in the metrics");
    }
    // The documentation share is not configured here: not shown rather than shown as 0.
    assert!(!text.contains("kpi=\"documentation\""), "{text}");
    stop.cancel();
    let _ = id;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_this_months_documentation_share_once_configured() {
    let h = Harness::build(common::t(common::T0), 1000, |sim| {
        let field = sim.add_ticket_field("Type", "tagger", &[("Question", "question"), ("Problem", "problem")]);
        format!(
            "{SUPPORT_ONLY}\n[report]\ntype_field = {field}\nquestion_types = [\"question\"]\n\
             docs_url_prefixes = [\"https://docs.example.com\"]\n"
        )
    })
    .await;
    let field = h.engine.config.report.type_field.unwrap();
    let ticket = |kind: &str| {
        h.sim.create_ticket(slawatch::sim::zendesk::NewTicket {
            subject: "How do I rotate the signing key?".into(),
            body: "Where is this described?".into(),
            requester_id: h.customer,
            tags: vec!["sev2".into()],
            custom_fields: vec![(field, serde_json::json!(kind))],
            ..Default::default()
        })
    };
    let gauges = || {
        h.engine.refresh_gauges().unwrap();
        h.engine.metrics.encode()
    };
    let documentation = "slawatch_kpi_current_month{kpi=\"documentation\"}";
    let linked = ticket("question");
    let unlinked = ticket("question");
    let open = ticket("question");
    let problem = ticket("problem");
    h.poll().await;
    // Questions, none solved yet: nothing to measure.
    assert!(!gauges().contains(documentation));

    h.advance(1800);
    let docs = "See https://docs.example.com/admin/keys#rotate for the steps, and write back if they fail.";
    for id in [linked, open, problem] {
        h.sim.add_comment(id, h.agent, docs, true);
    }
    h.sim.add_comment(unlinked, h.agent, common::ANSWER, true);
    for id in [linked, unlinked, problem] {
        h.sim.set_status(id, "solved", h.agent);
    }
    h.poll().await;
    h.poll().await;
    // Two questions solved, one of them with a link: 50%. The open question and the problem
    // do not count.
    let text = gauges();
    assert!(text.contains(&format!("{documentation} 0.5\n")), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_lists_the_open_tickets_from_their_index_a_page_at_a_time() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    let ids: Vec<u64> = (0..3).map(|_| h.ticket("sev1")).collect();
    h.poll().await;
    h.advance(600);
    h.sim.set_status(ids[1], "solved", h.agent);
    h.poll().await;
    assert_eq!(h.engine.store.open_ticket_ids().unwrap(), vec![ids[0], ids[2]]);
    // A store written before the index: it is built when the store opens.
    h.restart_with(|db| {
        db.drop_tree("open_tickets").unwrap();
        db.open_tree("meta").unwrap().remove("open_index").unwrap();
    })
    .await;
    assert_eq!(h.engine.store.open_ticket_ids().unwrap(), vec![ids[0], ids[2]]);
    let (base, stop) = serve(&mut h, None).await;
    let all: Vec<Value> = serde_json::from_str(&get(&format!("{base}/status"), None).await.1).unwrap();
    let listed: Vec<u64> = all.iter().map(|r| r["ticket_id"].as_u64().unwrap()).collect();
    assert_eq!(listed, vec![ids[0], ids[2]]);
    let page: Vec<Value> = serde_json::from_str(&get(&format!("{base}/status?limit=1&offset=1"), None).await.1).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["ticket_id"], ids[2]);
    stop.cancel();
}

#[tokio::test]
async fn readyz_judges_the_polls_against_the_pace_the_export_budget_allows() {
    // Each poll costs two export requests: at Zendesk's 10 a minute, a 5 s poll_interval is
    // really one poll every 12 s, and /readyz measures against that.
    let h = Harness::new(SUPPORT_ONLY).await;
    let text = h
        .config_text
        .replace("page_size = 1000", "page_size = 1000\npoll_interval = \"5s\"");
    let config = slawatch::config::Config::parse("test.toml", &text).unwrap();
    let zendesk = config.zendesk.clone().unwrap();
    assert_eq!(zendesk.effective_poll_interval(), std::time::Duration::from_secs(12));
    assert!(
        config.warnings()[0].contains("polls start at most every 12s"),
        "{:?}",
        config.warnings()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = slawatch::store::Store::open(&dir.path().join("store"), 1 << 20).unwrap();
    let engine = slawatch::engine::Engine::new(config, common::client(&h.sim, &h.clock), store, h.clock.clone()).unwrap();
    engine.health.poll_succeeded(h.clock.now_ms());
    // 19 s since the last complete poll, as a healthy soak saw: more than three 5 s intervals,
    // well within three of the 12 s the budget allows.
    h.advance(19);
    let ready = engine.readiness();
    assert!(ready.poll.ok, "{ready:?}");
    h.advance(18);
    let stale = engine.readiness();
    assert!(!stale.poll.ok);
    assert!(
        stale.poll.detail.contains("more than 3 poll intervals of 12s"),
        "{}",
        stale.poll.detail
    );
}
