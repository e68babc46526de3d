//! Whose issue is whose, and what GitHub refuses for good. Markers name the Zendesk account and
//! are trusted only on the token's own issues (and notes only on the API user's own): another
//! daemon's issues in the same repository, a person's copy of a marker, a pull request and a
//! customer's planted marker are never taken for slawatch's. A request GitHub refuses for good
//! is marked failed, shown and told once; an assignee it refuses is dropped and said.

mod common;

use common::escalation::*;
use common::Harness;
use slawatch::marker::IssueMarker;

const SANDBOX: &str = "acme-sandbox.zendesk.com";

fn body_with(marker_line: &str) -> String {
    format!("{marker_line}\n\nfiled by someone else")
}

fn recorded_issue(h: &Harness, id: u64) -> Option<u64> {
    h.engine.store.escalation(id).unwrap().unwrap().requests[0]
        .issue
        .as_ref()
        .map(|i| i.number)
}

#[tokio::test]
async fn another_accounts_issue_another_logins_copy_and_a_pull_request_are_never_taken_for_ours() {
    for search_lag in [0, 3600] {
        let mut h = Harness::new(ESCALATION).await;
        let github = h.attach_github(REPO).await;
        github.set_search_lag(search_lag);
        let id = rfh_ticket(&h);
        // The sandbox's daemon, on the same token, filed its ticket with the same id...
        github.create_issue_as(
            REPO,
            "slawatch-bot",
            "sandbox",
            &body_with(&IssueMarker::new(SANDBOX, id, 1).line()),
        );
        // ...a person copied this account's marker into an issue of their own...
        github.create_issue_as(REPO, "eng-alice", "copy", &body_with(&marker(&h, id, 1)));
        // ...and into a pull request the token opened.
        github.add_pull_request(REPO, "slawatch-bot", "pr", &body_with(&marker(&h, id, 1)));
        h.poll().await;
        h.engine.file_escalations().await.unwrap();
        assert_eq!(github.create_count(), 1, "lag {search_lag}: none of the three is ours");
        assert_eq!(recorded_issue(&h, id), Some(4), "lag {search_lag}");
        let ours = github.issues(REPO).into_iter().find(|i| i.number == 4).unwrap();
        assert!(ours.body.starts_with(&marker(&h, id, 1)), "{}", ours.body);
    }
}

#[tokio::test]
async fn an_earlier_versions_marker_is_recognised_on_the_tokens_own_issue_only() {
    let legacy = |id: u64| format!("<!-- slawatch:zendesk-ticket={id}:request=1 -->");
    // The token's own: an earlier version filed it, then died before recording it.
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    github.set_search_lag(3600);
    let id = rfh_ticket(&h);
    h.poll().await;
    github.create_issue_as(REPO, "slawatch-bot", "old", &body_with(&legacy(id)));
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 0, "found, not filed again");
    assert_eq!(recorded_issue(&h, id), Some(1));

    // Someone else's: not ours, whatever it says.
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    github.create_issue_as(REPO, "eng-alice", "copy", &body_with(&legacy(id)));
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    assert_eq!(recorded_issue(&h, id), Some(2));
}

#[tokio::test]
async fn the_fallback_pages_through_every_issue_the_login_filed_since_the_request() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    github.set_search_lag(3600);
    let id = rfh_ticket(&h);
    h.poll().await;
    // Filed before the crash, then 150 more of the token's issues (other tickets) since.
    github.create_issue_as(REPO, "slawatch-bot", "ours", &body_with(&marker(&h, id, 1)));
    for other in 0..150 {
        github.create_issue_as(REPO, "slawatch-bot", "other", &body_with(&marker(&h, 900_000 + other, 1)));
    }
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 0, "found on a later page, not filed again");
    assert_eq!(recorded_issue(&h, id), Some(1));
}

#[tokio::test]
async fn a_marker_a_customer_writes_into_the_ticket_plants_nothing() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    let account = h.engine.account();
    // The customer writes the link note's marker (and an issue marker) into the ticket.
    let planted = format!(
        "{}\n[slawatch escalation {id}:request=1]\n{}",
        slawatch::marker::note_line(&account, &slawatch::marker::NoteAbout::Link { ticket: id, request: 1 }),
        marker(&h, 77, 1)
    );
    h.sim.add_comment(id, h.customer, &planted, true);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    assert_eq!(
        notes(&h, id).len(),
        1,
        "the link is noted: the customer's marker is not slawatch's note"
    );
    let body = &github.issues(REPO)[0].body;
    assert_eq!(IssueMarker::parse(body), Some(IssueMarker::new(&account, id, 1)));
    assert_eq!(
        body.matches("<!--").count(),
        1,
        "the customer's words carry no HTML comment: {body}"
    );
}

#[tokio::test]
async fn a_repository_gone_marks_the_request_failed_shown_counted_and_told_once() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    github.remove_repo(REPO);
    h.engine.file_escalations().await.unwrap();
    let request = h.engine.store.escalation(id).unwrap().unwrap().requests[0].clone();
    let failed = request.failed.clone().expect("marked failed");
    assert!(failed.contains("404") && failed.contains("Not Found"), "{failed}");
    assert!(!request.is_pending(), "{request:?}");

    // The channel is told once, in words a person can act on.
    let eng: Vec<String> = h.slack.messages_for("eng").into_iter().map(|m| m.text).collect();
    assert_eq!(eng.len(), 1, "{eng:?}");
    assert!(
        eng[0].starts_with(&format!(
            "No engineering issue could be filed for ticket #{id} in {REPO}: GitHub refused (HTTP 404)"
        )),
        "{eng:?}"
    );

    // Not retried: later passes ask GitHub nothing more.
    let asked = github.request_count(&format!("/repos/{REPO}/issues"));
    for _ in 0..5 {
        h.advance(3600);
        h.engine.file_escalations().await.unwrap();
    }
    assert_eq!(github.request_count(&format!("/repos/{REPO}/issues")), asked);
    assert_eq!(h.slack.messages_for("eng").len(), 1);

    // Shown in status and counted in /metrics.
    let rows = slawatch::engine::status::open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    let row = rows.iter().find(|r| r.ticket_id == id).unwrap();
    assert_eq!(row.engineering_failed.as_deref(), Some(failed.as_str()));
    let table = slawatch::engine::status::render_table(&rows);
    assert!(
        table.contains(&format!("#{id} engineering: NO ISSUE FILED, GitHub refused (HTTP 404)")),
        "{table}"
    );
    h.engine.refresh_gauges().unwrap();
    let metrics = h.engine.metrics.encode();
    assert!(metrics.contains("slawatch_escalations_failed_total 1"), "{metrics}");
    assert!(metrics.contains("slawatch_escalation_requests{state=\"failed\"} 1"), "{metrics}");

    // The repository back (the config put right), the tag removed and put back: asked again.
    github.add_repo(REPO);
    h.sim.set_tags(id, &["sev1"], h.agent);
    h.poll().await;
    h.sim.set_tags(id, &["sev1", "rfh"], h.agent);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    let record = h.engine.store.escalation(id).unwrap().unwrap();
    assert_eq!(record.requests.len(), 2);
    assert!(record.requests[1].issue.is_some() && !record.has_pending(), "{record:?}");
}

#[tokio::test]
async fn an_assignee_github_refuses_is_dropped_and_the_issue_says_so() {
    let config = ESCALATION.replace(
        "labels = [\"rfh\", \"customer/{org}\", \"{priority}\"]",
        "labels = [\"rfh\", \"customer/{org}\", \"{priority}\"]\nassignees = [\"oncall-eng\", \"left-the-company\"]",
    );
    let mut h = Harness::new(&config).await;
    let github = h.attach_github(REPO).await;
    github.set_assignable(REPO, &["oncall-eng"]);
    let id = rfh_ticket(&h);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    let issues = github.issues(REPO);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].assignees, vec!["oncall-eng"]);
    assert!(
        issues[0]
            .body
            .contains("_Filed without the assignee left-the-company: GitHub refused it as invalid._"),
        "{}",
        issues[0].body
    );
    assert!(IssueMarker::parse(&issues[0].body).is_some(), "the marker stays the first line");
    let request = h.engine.store.escalation(id).unwrap().unwrap().requests[0].clone();
    assert_eq!(request.dropped, vec!["assignee \"left-the-company\""]);
    assert!(request.failed.is_none() && !request.is_pending(), "{request:?}");
}

#[tokio::test]
async fn a_deleted_issue_is_read_no_more() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.delete_issue(REPO, 1);
    sync(&h).await;
    let linked = h.engine.store.escalation(id).unwrap().unwrap().requests[0].issue.clone().unwrap();
    assert!(linked.gone.as_deref().is_some_and(|g| g.contains("410")), "{linked:?}");
    let reads = github.request_count(&format!("/repos/{REPO}/issues/1"));
    for _ in 0..5 {
        sync(&h).await;
    }
    assert_eq!(github.request_count(&format!("/repos/{REPO}/issues/1")), reads);
    let rows = slawatch::engine::status::open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    let row = rows.iter().find(|r| r.ticket_id == id).unwrap();
    assert!(
        row.engineering_failed
            .as_deref()
            .is_some_and(|f| f.starts_with("the issue is no more")),
        "{row:?}"
    );
    h.engine.refresh_gauges().unwrap();
    assert!(h.engine.metrics.encode().contains("slawatch_escalation_requests{state=\"gone\"} 1"));
}

#[tokio::test]
async fn a_secondary_limit_without_a_hint_is_waited_out_not_taken_as_a_refusal() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    // A burst of filings meets GitHub's anti-abuse limit: a 403 with no retry-after.
    github.secondary_limit_next(1, 0);
    h.engine.file_escalations().await.unwrap();
    let request = h.engine.store.escalation(id).unwrap().unwrap().requests[0].clone();
    assert!(request.failed.is_none() && request.is_pending(), "{request:?}");
    h.advance(120);
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.create_count(), 1);
    assert!(!h.engine.store.escalation(id).unwrap().unwrap().has_pending());
}

#[tokio::test]
async fn a_ticket_deleted_before_its_issue_was_filed_is_given_up_not_retried() {
    let mut h = Harness::new(ESCALATION).await;
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(&h);
    h.poll().await;
    h.sim.delete_ticket(id);
    h.engine.file_escalations().await.unwrap();
    let request = h.engine.store.escalation(id).unwrap().unwrap().requests[0].clone();
    assert!(request.failed.as_deref().is_some_and(|f| f.contains("gone")), "{request:?}");
    assert!(!request.is_pending(), "never retried: {request:?}");
    assert_eq!(github.create_count(), 0);
}
