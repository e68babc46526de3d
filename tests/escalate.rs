//! Engineering help requests become GitHub issues exactly once, through the real HTTP
//! simulators: filed with the context, linked back to the ticket (note and tag) and announced;
//! a crash at any step files no second issue.

mod common;

use common::escalation::*;
use common::{github_client, Harness};
use slawatch::escalate::issue::IssueDraft;
use slawatch::sim::zendesk::NewTicket;

#[tokio::test]
async fn a_ticket_marked_rfh_files_one_issue_linked_back_and_announced() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();

    let issues = github.issues(REPO);
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(issue.title, "Connector crashes (Acme, sev1)");
    assert_eq!(issue.labels, vec!["rfh", "customer/Acme", "p1"]);
    assert!(issue.body.starts_with(&marker(&h, id, 1)), "{}", issue.body);
    assert!(
        issue.body.contains("JDBC connector crash at start on 4.2.0; reproduced."),
        "the support summary"
    );
    assert!(!issue.body.contains("555 0100"), "redacted: {}", issue.body);

    let notes = notes(&h, id);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("https://github.example/acme/support-escalations/issues/1"),
        "{}",
        notes[0]
    );
    assert!(tags(&h, id).contains(&"eng_issue_filed".to_string()));
    let fields = h.sim.ticket_json(id).unwrap()["custom_fields"].clone();
    assert!(
        fields
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == 360000000004u64 && f["value"] == "https://github.example/acme/support-escalations/issues/1"),
        "the link field holds the issue's URL: {fields}"
    );
    let announced: Vec<String> = h.slack.messages_for("eng").iter().map(|m| m.text.clone()).collect();
    assert_eq!(announced.len(), 1);
    assert!(announced[0].contains(&format!("ticket #{id}")), "{announced:?}");

    // status shows the linked issue.
    let rows = slawatch::engine::status::open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    let row = rows.iter().find(|r| r.ticket_id == id).unwrap();
    assert_eq!(
        row.engineering_issue.as_deref(),
        Some("https://github.example/acme/support-escalations/issues/1")
    );
    assert!(slawatch::engine::status::render_table(&rows).contains(&format!(
        "#{id} engineering: https://github.example/acme/support-escalations/issues/1"
    )));

    // Another pass, a restart, another poll: nothing more.
    h.engine.file_escalations().await.unwrap();
    h.restart().await;
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    assert_eq!(self::notes(&h, id).len(), 1);
    assert_eq!(h.slack.messages_for("eng").len(), 1);
}

#[tokio::test]
async fn killed_after_deciding_the_issue_is_filed_once_after_restart() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    assert!(h.engine.store.escalation(id).unwrap().unwrap().has_pending(), "decided and stored");
    h.restart().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.issues(REPO).len(), 1);
    assert_eq!(notes(&h, id).len(), 1);
}

#[tokio::test]
async fn killed_after_creating_before_recording_the_issue_is_found_not_filed_again() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    // GitHub's search index lags: the issue is found among the newest instead.
    github.set_search_lag(3600);
    let id = rfh_ticket(&h);
    h.poll().await;
    // The daemon created the issue, then died before recording its number.
    github_client(&github, &h.clock)
        .create_issue(&IssueDraft {
            repository: slawatch::config::Repository::parse(REPO).unwrap(),
            ticket_url: String::new(),
            title: "Connector crashes (Acme, sev1)".into(),
            body: format!("{}\n\nfiled before the crash", marker(&h, id, 1)),
            labels: vec![],
            assignees: vec![],
        })
        .await
        .unwrap();
    h.restart().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1, "found by its marker, not filed again");
    let request = &h.engine.store.escalation(id).unwrap().unwrap().requests[0];
    assert_eq!(request.issue.as_ref().map(|i| i.number), Some(1));
    assert_eq!(notes(&h, id).len(), 1);
}

#[tokio::test]
async fn killed_after_recording_before_linking_the_ticket_is_told_once() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    // Zendesk refuses writes to the ticket for now: the issue is filed, the note waits.
    h.sim.set_ticket_update_limit(Some(0));
    h.engine.file_escalations().await.unwrap();
    let record = h.engine.store.escalation(id).unwrap().unwrap();
    assert!(record.requests[0].issue.is_some() && !record.requests[0].noted, "{record:?}");
    assert!(notes(&h, id).is_empty());
    h.restart().await;
    h.sim.set_ticket_update_limit(None);
    h.advance(3600);
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    assert_eq!(notes(&h, id).len(), 1);
    assert!(!h.engine.store.escalation(id).unwrap().unwrap().has_pending());
}

#[tokio::test]
async fn removing_and_readding_the_tag_while_the_issue_is_open_files_nothing_more() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    h.sim.set_tags(id, &["sev1"], h.agent);
    h.poll().await;
    h.sim.set_tags(id, &["sev1", "rfh"], h.agent);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    assert_eq!(h.engine.store.escalation(id).unwrap().unwrap().requests.len(), 1);
}

#[tokio::test]
async fn github_down_then_back_files_once() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    github.set_down(true);
    let next = h.engine.file_escalations().await.unwrap().expect("a retry is scheduled");
    assert!(next > h.clock.now_ms());
    assert_eq!(github.create_count(), 0);
    let record = h.engine.store.escalation(id).unwrap().unwrap();
    assert!(
        record.requests[0].last_error.as_deref().unwrap_or_default().contains("503"),
        "{record:?}"
    );
    github.set_down(false);
    h.clock.set(next.div_euclid(1000) + 1);
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    assert_eq!(notes(&h, id).len(), 1);
}

/// Files the ticket's issue, then lets the sync interval (5 minutes) pass.

#[tokio::test]
async fn engineerings_comments_close_and_reopen_come_back_to_the_ticket_once() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    sync(&h).await;
    assert!(engineering_notes(&h, id).is_empty(), "nothing new yet");
    github.comment(REPO, 1, "eng-alice", "Reproduced. Fixed in 4.2.1, please upgrade.");
    sync(&h).await;
    let notes = engineering_notes(&h, id);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("slawatch: eng-alice commented on https://github.example/acme/support-escalations/issues/1"),
        "{}",
        notes[0]
    );
    assert!(notes[0].contains("> Reproduced. Fixed in 4.2.1, please upgrade."), "{}", notes[0]);
    // Unchanged since: one 304, which costs no rate limit, and no comments read (a new comment
    // would have changed the issue), no new note, nothing written to the store.
    sync(&h).await;
    let comment_reads = github.request_count(&format!("/repos/{REPO}/issues/1/comments"));
    let free_before = h
        .engine
        .github
        .as_ref()
        .unwrap()
        .stats
        .not_modified
        .load(std::sync::atomic::Ordering::Relaxed);
    sync(&h).await;
    let free_after = h
        .engine
        .github
        .as_ref()
        .unwrap()
        .stats
        .not_modified
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(free_after - free_before, 1, "the issue, unchanged");
    assert_eq!(github.request_count(&format!("/repos/{REPO}/issues/1/comments")), comment_reads);
    assert_eq!(engineering_notes(&h, id).len(), 1);
    github.set_open(REPO, 1, false);
    sync(&h).await;
    github.set_open(REPO, 1, true);
    // A closed issue of an open ticket is read at a tenth of the pace: not yet...
    sync(&h).await;
    assert_eq!(engineering_notes(&h, id).len(), 2);
    // ...but within ten sync intervals.
    h.advance(300 * slawatch::engine::escalate::CLOSED_ISSUE_PACE);
    h.engine.sync_issues().await.unwrap();
    let notes = engineering_notes(&h, id);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[1].starts_with("slawatch: engineering closed https://github.example/acme/support-escalations/issues/1"));
    assert!(notes[2].starts_with("slawatch: engineering reopened"));
    let eng: Vec<String> = h.slack.messages_for("eng").iter().map(|m| m.text.clone()).collect();
    assert_eq!(eng.len(), 4, "filed, commented, closed, reopened: {eng:?}");
}

#[tokio::test]
async fn a_new_request_after_the_issue_closed_files_request_2_mentioning_the_first() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.set_open(REPO, 1, false);
    sync(&h).await;
    // Still tagged: not a new request by itself.
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    // The tag removed, then put back: a new request.
    h.sim.set_tags(id, &["sev1"], h.agent);
    h.poll().await;
    h.sim.set_tags(id, &["sev1", "rfh"], h.agent);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    let issues = github.issues(REPO);
    assert_eq!(issues.len(), 2);
    assert!(issues[1].body.starts_with(&marker(&h, id, 2)));
    assert!(issues[1]
        .body
        .contains("Request 2 for this ticket; the earlier one was https://github.example/acme/support-escalations/issues/1."));
}

#[tokio::test]
async fn a_solved_ticket_is_told_to_its_issue_once() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    h.sim.set_status(id, "solved", h.agent);
    h.poll().await;
    sync(&h).await;
    sync(&h).await;
    let comments = &github.issues(REPO)[0].comments;
    assert_eq!(comments.len(), 1, "{comments:?}");
    // The ticket's number is a link: a bare `#N` would reference the repository's issue N.
    let ticket = format!("The customer's Zendesk ticket [#{id}](");
    let (marker, text) = comments[0].1.split_once('\n').unwrap();
    assert_eq!(
        marker,
        slawatch::marker::comment_line(&h.engine.account(), id, 1, slawatch::marker::CommentAbout::TicketSolved),
        "a hidden first line says whose it is"
    );
    assert!(
        text.starts_with(&ticket) && text.contains(&format!("/agent/tickets/{id}) was solved.")),
        "{comments:?}"
    );
    // slawatch's own comment is not noted back on the ticket.
    assert!(engineering_notes(&h, id).is_empty());
}

#[tokio::test]
async fn a_solved_ticket_with_the_tag_files_nothing() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.sim.set_status(id, "solved", h.agent);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 0);
    assert!(h.engine.store.escalation(id).unwrap().is_none());
}

#[tokio::test]
async fn engineerings_news_goes_to_the_tickets_route() {
    let config = format!(
        "{ESCALATION}\n[notify.channels.oncall]\nkind = \"slack\"\nurl_env = \"UNUSED\"\n[[notify.routes]]\nseverities = [\"sev1\"]\nchannels = [\"oncall\"]\n"
    );
    let mut h = Harness::new(&config).await;
    let (github, _id) = filed(&mut h).await;
    github.comment(REPO, 1, "eng-alice", "Looking at it.");
    sync(&h).await;
    let oncall: Vec<String> = h.slack.messages_for("oncall").iter().map(|m| m.text.clone()).collect();
    assert!(oncall.iter().any(|t| t.contains("eng-alice commented")), "{oncall:?}");
    // The filing itself was announced to the engineering-help channel only.
    let eng: Vec<String> = h.slack.messages_for("eng").iter().map(|m| m.text.clone()).collect();
    assert_eq!(eng.len(), 1, "{eng:?}");
}

#[tokio::test]
async fn run_once_brings_engineerings_comment_and_close_back_to_the_ticket_too() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.comment(REPO, 1, "eng-alice", "Fixed in 4.2.1, please upgrade.");
    github.set_open(REPO, 1, false);
    h.advance(301);
    let engine = std::sync::Arc::new(h.take_engine());
    slawatch::engine::daemon::run_once(engine, std::time::Duration::from_secs(600))
        .await
        .unwrap();
    let notes = engineering_notes(&h, id);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes.iter().any(|n| n.starts_with("slawatch: eng-alice commented on ")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.starts_with("slawatch: engineering closed ")), "{notes:?}");
}

#[tokio::test]
async fn a_ticket_closed_before_its_issue_never_wedges_the_sync_and_is_retained_no_longer() {
    let config = ESCALATION.replace("channel = \"eng\"\n", "channel = \"eng\"\nsync_interval = \"1s\"\n");
    let mut h = Harness::new(&config).await;
    let (github, id) = filed(&mut h).await;
    // Support solves the ticket; Zendesk closes it days later; then engineering closes the issue.
    h.sim.set_status(id, "solved", h.agent);
    h.poll().await;
    h.engine.sync_issues().await.unwrap();
    h.advance(4 * 86_400);
    h.sim.set_status(id, "closed", h.agent);
    h.poll().await;
    github.set_open(REPO, 1, false);

    let issue_path = format!("/repos/{REPO}/issues/1");
    let (writes, plain_reads) = (h.sim.write_count(), github.plain_read_count(&issue_path));
    for _ in 0..40 {
        h.advance(1);
        h.engine.sync_issues().await.unwrap();
    }
    // The note of the close is refused once (422: the ticket is closed), recorded, and not
    // tried again; the issue is read conditionally once, then no more.
    assert!(h.sim.write_count() - writes <= 2, "{} writes refused", h.sim.write_count() - writes);
    assert_eq!(
        github.plain_read_count(&issue_path),
        plain_reads,
        "unconditional reads of the issue"
    );
    assert!(
        github.request_count(&issue_path) <= 2 + plain_reads,
        "{}",
        github.request_count(&issue_path)
    );
    let record = h.engine.store.escalation(id).unwrap().unwrap();
    let linked = record.requests[0].issue.clone().unwrap();
    assert!(!linked.open);
    assert_eq!(linked.undeliverable.len(), 1, "{:?}", linked.undeliverable);
    assert!(linked.undeliverable[0].contains("422"), "{:?}", linked.undeliverable);
    // The channel still heard of the close, once.
    let closed: Vec<String> = h
        .slack
        .messages_for("eng")
        .into_iter()
        .map(|m| m.text)
        .filter(|t| t.contains("engineering closed"))
        .collect();
    assert_eq!(closed.len(), 1, "{closed:?}");

    // Nothing keeps the ticket past its retention any more.
    h.advance(401 * 86_400);
    assert!(h.engine.compact_closed().unwrap() >= 1);
    assert!(h.engine.store.ticket(id).unwrap().is_none());
    assert!(h.engine.store.escalation(id).unwrap().is_none());
}

#[tokio::test]
async fn a_ticket_closed_before_the_link_back_still_announces_the_issue() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    // Closed in Zendesk before slawatch could note the link: the note is refused for good.
    h.sim.set_status(id, "closed", h.agent);
    h.engine.file_escalations().await.unwrap();
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.issues(REPO).len(), 1);
    let record = h.engine.store.escalation(id).unwrap().unwrap();
    assert!(!record.has_pending(), "{record:?}");
    assert_eq!(h.slack.messages_for("eng").len(), 1);
}

#[tokio::test]
async fn the_description_and_the_summary_are_found_however_long_the_ticket() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    // The summary note, then 120 more comments (internal ones among them): both the description
    // and the summary are older than the newest hundred.
    let id = rfh_ticket(&h);
    for i in 0..120 {
        h.sim
            .add_comment(id, h.agent, &format!("Internal: still digging, step {i}."), false);
    }
    let plain = h.sim.create_ticket(NewTicket {
        subject: "Search is slow".into(),
        body: "Search takes a minute on every query since Monday.".into(),
        requester_id: h.customer,
        tags: vec!["sev1".into(), "rfh".into()],
        ..NewTicket::default()
    });
    for i in 0..120 {
        h.sim
            .add_comment(plain, h.agent, &format!("Internal: trying index rebuild {i}."), false);
    }
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    let issues = github.issues(REPO);
    assert_eq!(issues.len(), 2);
    let body_of = |ticket: u64| {
        issues
            .iter()
            .find(|i| i.body.contains(&format!("/agent/tickets/{ticket}")))
            .map(|i| i.body.clone())
            .unwrap()
    };
    let summarized = body_of(id);
    assert!(
        summarized.contains("JDBC connector crash at start on 4.2.0; reproduced."),
        "{summarized}"
    );
    let described = body_of(plain);
    assert!(described.contains("### Description"), "{described}");
    assert!(
        described.contains("Search takes a minute on every query since Monday."),
        "{described}"
    );
    assert!(
        !described.contains("trying index rebuild"),
        "an internal note taken for the description"
    );
}
