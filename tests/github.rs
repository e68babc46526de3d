//! The GitHub client against the simulated GitHub over real HTTP: filing and finding an issue
//! by its marker (search lag included), ETags and 304s, rate limits, GitHub down; the token's
//! login and its access to a repository (what `check-config --online` asks).

use std::time::Duration;

use slawatch::clock::Clock;
use slawatch::config::Repository;
use slawatch::escalate::issue::IssueDraft;
use slawatch::github::client::{Conditional, GithubClient, GithubError, GithubOptions};
use slawatch::marker::IssueMarker;
use slawatch::retry::Backoff;
use slawatch::sim::github::{RepoRole, SimGithub};

const T0: i64 = 1_796_000_000;

async fn setup() -> (SimGithub, GithubClient, Clock) {
    let clock = Clock::manual(T0);
    let sim = SimGithub::start("gh-token", "slawatch-bot", clock.clone()).await.unwrap();
    sim.add_repo("acme/support-escalations");
    let client = GithubClient::new(
        GithubOptions {
            api_url: sim.api_url(),
            token: "gh-token".into(),
            timeout: Duration::from_secs(5),
            max_attempts: 3,
            backoff: Backoff {
                first: Duration::from_millis(1),
                max: Duration::from_millis(5),
            },
        },
        clock.clone(),
    )
    .unwrap();
    (sim, client, clock)
}

fn repo() -> Repository {
    Repository::parse("acme/support-escalations").unwrap()
}

const ACCOUNT: &str = "acme.zendesk.com";

fn draft(ticket: u64) -> IssueDraft {
    IssueDraft {
        repository: repo(),
        ticket_url: format!("https://acme.zendesk.com/agent/tickets/{ticket}"),
        title: "Connector crashes on start (Globex, sev1)".into(),
        body: format!("{}\n\nThe connector crashes.", IssueMarker::new(ACCOUNT, ticket, 1).line()),
        labels: vec!["rfh".into(), "p1".into()],
        assignees: vec!["oncall-eng".into()],
    }
}

/// The number of the issue of `ticket`'s request `request` the token's login filed, if any.
async fn find(client: &GithubClient, ticket: u64, request: u32) -> Option<u64> {
    let marker = IssueMarker::new(ACCOUNT, ticket, request);
    let is_it = |issue: &slawatch::github::models::Issue| {
        issue
            .body
            .as_deref()
            .and_then(IssueMarker::parse)
            .is_some_and(|m| m.is(ACCOUNT, ticket, request))
    };
    client
        .find_own_issue(&repo(), "slawatch-bot", T0 - 60, &marker.search_phrase(), is_it)
        .await
        .unwrap()
        .map(|i| i.number)
}

#[tokio::test]
async fn an_issue_is_filed_and_found_again_by_its_marker_even_while_search_lags() {
    let (sim, client, clock) = setup().await;
    sim.set_search_lag(120);
    let issue = client.create_issue(&draft(4242)).await.unwrap();
    assert_eq!((issue.number, issue.state.as_str()), (1, "open"));
    let filed = &sim.issues("acme/support-escalations")[0];
    assert_eq!(filed.labels, vec!["rfh", "p1"]);
    assert_eq!(filed.assignees, vec!["oncall-eng"]);
    // Not in the search index yet: found among the recent issues.
    assert_eq!(find(&client, 4242, 1).await, Some(1));
    assert_eq!(
        sim.request_count("/repos/acme/support-escalations/issues"),
        2,
        "create, then the listing"
    );
    // Indexed: found by search alone.
    clock.advance(Duration::from_secs(121));
    assert_eq!(find(&client, 4242, 1).await, Some(1));
    assert_eq!(sim.request_count("/repos/acme/support-escalations/issues"), 2);
    // Another ticket's (or request's) marker finds nothing.
    assert_eq!(find(&client, 4242, 2).await, None);
    assert_eq!(find(&client, 424, 1).await, None);
}

#[tokio::test]
async fn an_unchanged_issue_answers_304_and_costs_no_rate_limit() {
    let (sim, client, _clock) = setup().await;
    client.create_issue(&draft(1)).await.unwrap();
    let Conditional::Changed { value, etag } = client.issue(&repo(), 1, None).await.unwrap() else {
        panic!("first read")
    };
    assert!(value.is_open());
    let etag = etag.expect("an ETag");
    let remaining = client.stats.rate_remaining.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(client.issue(&repo(), 1, Some(&etag)).await.unwrap(), Conditional::NotModified);
    assert_eq!(
        client.stats.rate_remaining.load(std::sync::atomic::Ordering::Relaxed),
        remaining,
        "a 304 is free"
    );
    // Engineering comments and closes it: the next read sees both.
    sim.comment("acme/support-escalations", 1, "eng-alice", "Fixed in 4.2.1.");
    sim.set_open("acme/support-escalations", 1, false);
    let Conditional::Changed { value, .. } = client.issue(&repo(), 1, Some(&etag)).await.unwrap() else {
        panic!("changed")
    };
    assert!(!value.is_open());
    let Conditional::Changed { value: comments, .. } = client.comments(&repo(), 1, None, None).await.unwrap() else {
        panic!("comments")
    };
    assert_eq!(comments[0].body.as_deref(), Some("Fixed in 4.2.1."));
    assert_eq!(comments[0].user.as_ref().unwrap().login, "eng-alice");
    client.comment(&repo(), 1, "The customer ticket was solved.").await.unwrap();
    assert_eq!(sim.issues("acme/support-escalations")[0].comments.len(), 2);
}

#[tokio::test]
async fn rate_limits_are_handed_back_with_their_wait_and_github_down_is_retried() {
    let (sim, client, clock) = setup().await;
    // Secondary limit: 403 with retry-after.
    sim.secondary_limit_next(1, 90);
    match client.create_issue(&draft(1)).await {
        Err(GithubError::RateLimited { retry_after, .. }) => assert_eq!(retry_after, Duration::from_secs(90)),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.create_count(), 0);
    // Primary limit: nothing remains until the reset, an hour away; the wait is clamped like
    // every Retry-After (the caller asks again in 10 minutes, and waits again if need be). The
    // answer that used the last request said so: the next request is not even sent.
    sim.set_core_limit(1);
    client.create_issue(&draft(1)).await.unwrap();
    let asked = sim.request_count("/repos/acme/support-escalations/issues/1");
    match client.issue(&repo(), 1, None).await {
        Err(GithubError::RateLimited { retry_after, .. }) => assert_eq!(retry_after, slawatch::retry::MAX_RETRY_AFTER),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.request_count("/repos/acme/support-escalations/issues/1"),
        asked,
        "held back, not sent"
    );
    assert_eq!(client.stats.held_back.load(std::sync::atomic::Ordering::Relaxed), 1);
    sim.set_core_limit(5000);
    clock.advance(Duration::from_secs(3601));
    // Down for two requests: a read is retried; a create is not (the caller looks first).
    sim.fail_next(2, 502);
    assert!(matches!(client.issue(&repo(), 1, None).await.unwrap(), Conditional::Changed { .. }));
    sim.fail_next(1, 502);
    assert!(matches!(
        client.create_issue(&draft(2)).await,
        Err(GithubError::Status { status: 502, .. })
    ));
    assert_eq!(sim.create_count(), 1);
}

#[tokio::test]
async fn requests_carry_the_headers_github_asks_for() {
    let (sim, _client, clock) = setup().await;
    // A wrong token is refused; so is a request without a User-Agent (the sim checks both).
    let wrong = GithubClient::new(
        GithubOptions {
            api_url: sim.api_url(),
            token: "nope".into(),
            timeout: Duration::from_secs(5),
            max_attempts: 1,
            backoff: Backoff {
                first: Duration::from_millis(1),
                max: Duration::from_millis(1),
            },
        },
        clock,
    )
    .unwrap();
    assert!(matches!(
        wrong.create_issue(&draft(1)).await,
        Err(GithubError::Status { status: 401, .. })
    ));
    let bare = reqwest::Client::new()
        .get(format!("{}/repos/acme/support-escalations/issues", sim.api_url()))
        .bearer_auth("gh-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403, "no User-Agent");
}

#[tokio::test]
async fn comments_past_the_hundredth_are_read_since_the_newest_seen() {
    let (sim, client, clock) = setup().await;
    client.create_issue(&draft(1)).await.unwrap();
    for i in 1..=105 {
        sim.comment("acme/support-escalations", 1, "eng-alice", &format!("comment {i}"));
        clock.advance(Duration::from_secs(1));
    }
    let Conditional::Changed { value: first, .. } = client.comments(&repo(), 1, None, None).await.unwrap() else {
        panic!("first page")
    };
    assert_eq!(first.len(), 100);
    let newest = first.last().unwrap();
    let Conditional::Changed { value: rest, .. } = client.comments(&repo(), 1, newest.created_at.as_deref(), None).await.unwrap() else {
        panic!("since")
    };
    let after: Vec<&str> = rest.iter().filter(|c| c.id > newest.id).filter_map(|c| c.body.as_deref()).collect();
    assert_eq!(
        after,
        vec!["comment 101", "comment 102", "comment 103", "comment 104", "comment 105"]
    );
}

#[tokio::test]
async fn the_token_names_its_login() {
    let (sim, client, _clock) = setup().await;
    assert_eq!(client.login().await.unwrap(), "slawatch-bot");
    sim.set_login("acme-support[bot]");
    assert_eq!(client.login().await.unwrap(), "acme-support[bot]");
    // What it files is filed as that login.
    client.create_issue(&draft(1)).await.unwrap();
    let Conditional::Changed { value, .. } = client.issue(&repo(), 1, None).await.unwrap() else {
        panic!("read")
    };
    assert_eq!(value.user.unwrap().login, "acme-support[bot]");
    // A token GitHub does not know: the 401 is handed back, not retried.
    sim.fail_next(1, 401);
    assert!(matches!(client.login().await, Err(GithubError::Status { status: 401, .. })));
    assert_eq!(sim.request_count("/user"), 3, "two logins, one refusal");
}

#[tokio::test]
async fn full_access_by_default_files_with_labels() {
    let (_sim, client, _clock) = setup().await;
    let access = client
        .repository_access("acme/support-escalations")
        .await
        .unwrap()
        .expect("visible");
    assert_eq!(access.full_name, "acme/support-escalations");
    assert!(access.has_issues && !access.archived);
    assert!(access.admin && access.push && access.triage && access.pull);
    assert!(access.can_file());
    assert_eq!(access.problem(), None);
}

#[tokio::test]
async fn an_unknown_or_hidden_repository_is_none_and_files_nothing() {
    let (sim, client, _clock) = setup().await;
    assert_eq!(client.repository_access("acme/no-such-repo").await.unwrap(), None);
    // Names that are no `owner/name` never reach another endpoint.
    for name in ["acme", "/x", "acme/", "acme/support-escalations/issues"] {
        assert_eq!(client.repository_access(name).await.unwrap(), None, "{name}");
    }
    // The sim creates no repository on first use: an issue in an unknown one is refused 404.
    let mut elsewhere = draft(1);
    elsewhere.repository = Repository::parse("acme/no-such-repo").unwrap();
    assert!(matches!(
        client.create_issue(&elsewhere).await,
        Err(GithubError::Status { status: 404, .. })
    ));
    // A repository the token has no role in looks exactly like one that does not exist.
    sim.set_role("acme/support-escalations", RepoRole::None);
    assert_eq!(client.repository_access("acme/support-escalations").await.unwrap(), None);
    assert!(matches!(
        client.create_issue(&draft(1)).await,
        Err(GithubError::Status { status: 404, .. })
    ));
    assert_eq!(sim.create_count(), 0);
}

#[tokio::test]
async fn a_read_only_token_can_open_only_bare_issues() {
    let (sim, client, _clock) = setup().await;
    sim.set_role("acme/support-escalations", RepoRole::Read);
    let access = client.repository_access("acme/support-escalations").await.unwrap().unwrap();
    assert!(access.pull && !access.triage && !access.push && !access.admin);
    assert!(!access.can_file());
    let problem = access.problem().expect("a reason");
    assert!(problem.contains("only read acme/support-escalations"), "{problem}");
    assert!(problem.contains("labels and assignees"), "{problem}");
    // Which is what GitHub does: the issue is filed, its labels and assignees silently dropped.
    client.create_issue(&draft(1)).await.unwrap();
    let filed = &sim.issues("acme/support-escalations")[0];
    assert!(filed.labels.is_empty() && filed.assignees.is_empty());
    // Triage is enough to label and assign.
    sim.set_role("acme/support-escalations", RepoRole::Triage);
    let access = client.repository_access("acme/support-escalations").await.unwrap().unwrap();
    assert!(access.triage && !access.push && access.can_file() && access.problem().is_none());
    client.create_issue(&draft(2)).await.unwrap();
    assert_eq!(sim.issues("acme/support-escalations")[1].labels, vec!["rfh", "p1"]);
    // Write implies triage and read, as GitHub lists them.
    sim.set_role("acme/support-escalations", RepoRole::Write);
    let access = client.repository_access("acme/support-escalations").await.unwrap().unwrap();
    assert!(access.push && access.triage && access.pull && !access.admin && access.can_file());
}

#[tokio::test]
async fn an_archived_repository_or_one_without_issues_says_why() {
    let (sim, client, _clock) = setup().await;
    sim.set_archived("acme/support-escalations", true);
    let access = client.repository_access("acme/support-escalations").await.unwrap().unwrap();
    assert!(access.archived && access.admin && !access.can_file());
    assert_eq!(
        access.problem().as_deref(),
        Some("acme/support-escalations is archived (read-only): no issue can be filed there")
    );
    assert!(matches!(
        client.create_issue(&draft(1)).await,
        Err(GithubError::Status { status: 403, .. })
    ));
    sim.set_archived("acme/support-escalations", false);
    sim.set_has_issues("acme/support-escalations", false);
    let access = client.repository_access("acme/support-escalations").await.unwrap().unwrap();
    assert!(!access.has_issues && !access.can_file());
    assert!(access.problem().unwrap().contains("issues disabled"));
    assert!(matches!(
        client.create_issue(&draft(1)).await,
        Err(GithubError::Status { status: 410, .. })
    ));
    assert_eq!(sim.create_count(), 0);
}

#[tokio::test]
async fn github_down_while_asked_is_an_error_not_a_missing_repository() {
    let (sim, client, _clock) = setup().await;
    sim.set_down(true);
    assert!(matches!(
        client.repository_access("acme/support-escalations").await,
        Err(GithubError::Status { status: 503, .. })
    ));
    assert!(matches!(client.login().await, Err(GithubError::Status { status: 503, .. })));
    sim.set_down(false);
    // Down for fewer attempts than the client makes: retried through.
    sim.fail_next(2, 502);
    assert!(client.repository_access("acme/support-escalations").await.unwrap().is_some());
}
