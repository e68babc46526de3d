//! One bad record never breaks a page: an escalation record that cannot be read is counted and
//! skipped by `/status`, `/metrics` and the escalation worker, as an unreadable ticket is, and
//! no issue is filed again for its ticket.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::Harness;
use serde_json::Value;
use slawatch::sim::zendesk::NewTicket;

const REPO: &str = "acme/support-escalations";

const ESCALATION: &str = r#"
[notify.channels.eng]
kind = "slack"
url_env = "UNUSED"

[escalation]
token_env = "UNUSED_GH"
channel = "eng"

[[escalation.rules]]
name = "help"
tag = "rfh"
repository = "acme/support-escalations"
"#;

/// What a disk error leaves of a record.
const GARBAGE: &[u8] = b"\x00\xffgarbled{";

fn ticket(h: &Harness, tags: &[&str]) -> u64 {
    h.sim.create_ticket(NewTicket {
        subject: "Connector crashes".into(),
        body: "The connector crashes on start since this morning.".into(),
        requester_id: h.customer,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..NewTicket::default()
    })
}

fn garble_escalation(db: &sled::Db, ticket_id: u64) {
    db.open_tree("escalations")
        .unwrap()
        .insert(ticket_id.to_be_bytes(), GARBAGE)
        .unwrap();
}

async fn serve(h: &mut Harness) -> (String, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let engine = Arc::new(h.take_engine());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(slawatch::admin::serve(listener, engine, None, stop.clone()));
    (base, stop)
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The value of an unlabelled metric in Prometheus text.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_metrics_skip_and_count_an_unreadable_escalation_record() {
    let mut h = Harness::new(ESCALATION).await;
    h.attach_github(REPO).await;
    let filed = ticket(&h, &["sev1", "rfh"]);
    let broken = ticket(&h, &["sev1"]);
    let plain = ticket(&h, &["sev2"]);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    let issue = h.engine.store.escalation(filed).unwrap().unwrap().requests[0]
        .issue
        .clone()
        .expect("filed")
        .url;
    // While the daemon is down, a disk error garbles one ticket's escalation record.
    h.restart_with(|db| garble_escalation(db, broken)).await;

    let (base, stop) = serve(&mut h).await;
    let (status, body) = get(&format!("{base}/status")).await;
    assert_eq!(status, 200, "{body}");
    let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
    let mut listed: Vec<u64> = rows.iter().map(|r| r["ticket_id"].as_u64().unwrap()).collect();
    listed.sort_unstable();
    assert_eq!(listed, vec![filed, broken, plain], "every open ticket is listed: {body}");
    let row = |id: u64| rows.iter().find(|r| r["ticket_id"] == id).unwrap();
    assert_eq!(
        row(filed)["engineering_issue"],
        issue.as_str(),
        "a readable record still shows its issue"
    );
    assert_eq!(row(broken)["engineering_issue"], Value::Null, "the unreadable record is skipped");

    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200, "{text}");
    let skipped = metric(&text, "slawatch_records_skipped").unwrap_or_else(|| panic!("no records_skipped in:\n{text}"));
    assert!(skipped >= 1.0, "the unreadable record is counted: {skipped}");
    assert!(
        text.contains(
            "slawatch_open_ticket_clocks{tier=\"self-hosted\",severity=\"sev1\",metric=\"first_response\",state=\"running\"} 2\n"
        ),
        "the other tickets' clocks are shown:\n{text}"
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_escalation_worker_skips_an_unreadable_record_files_the_rest_and_never_refiles_it() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let broken = ticket(&h, &["sev1", "rfh"]);
    let other = ticket(&h, &["sev1", "rfh"]);
    h.poll().await;
    assert!(h.engine.store.escalation(broken).unwrap().unwrap().has_pending(), "decided");
    // Garbled after the request was decided, before anything was filed.
    h.restart_with(|db| garble_escalation(db, broken)).await;
    let before = h.engine.store.stats.unreadable.load(Ordering::Relaxed);

    // The pass files the readable request and does not wedge on the other.
    h.engine.file_escalations().await.unwrap();
    h.engine.sync_issues().await.unwrap();
    let issues = github.issues(REPO);
    assert_eq!(issues.len(), 1, "only the readable record's issue");
    assert!(issues[0]
        .body
        .contains(&slawatch::marker::IssueMarker::new(&h.engine.account(), other, 1).line()));
    assert!(h.engine.store.stats.unreadable.load(Ordering::Relaxed) > before, "counted");

    // The broken ticket changes: it is not taken for one never escalated (which would decide,
    // and file, its request again), and the record is left for an operator to see.
    h.sim.add_comment(broken, h.customer, "Any news?", true);
    h.poll().await;
    h.advance(3600);
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1, "nothing filed again for the unreadable record");
    assert!(matches!(
        h.engine.store.escalation(broken),
        Err(slawatch::store::StoreError::Corrupt { .. })
    ));
    // Nothing is due from it: the worker sleeps rather than spin.
    assert_eq!(h.engine.file_escalations().await.unwrap(), None);
}
