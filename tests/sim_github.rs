//! The simulated GitHub behaves like GitHub where the daemon's correctness depends on it, spoken
//! to over real HTTP with reqwest: the issue list's filters, sorting and pages (with the `Link`
//! header), pull requests among the issues, each issue's author and times, assignees and labels
//! validated (422), deleted issues (410) and removed repositories (404). No test sleeps: time
//! is the sim's manual clock, moved by hand.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use slawatch::clock::Clock;
use slawatch::sim::github::{RepoRole, SimGithub};

const T0: i64 = 1_796_000_000;
const REPO: &str = "acme/support-escalations";
const ISSUES: &str = "/repos/acme/support-escalations/issues";

async fn setup() -> (SimGithub, Clock) {
    let clock = Clock::manual(T0);
    let sim = SimGithub::start("gh-token", "slawatch-bot", clock.clone())
        .await
        .expect("sim starts");
    sim.add_repo(REPO);
    (sim, clock)
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn numbers(&self) -> Vec<u64> {
        let list = self.body.as_array().unwrap_or_else(|| panic!("a list: {}", self.body));
        list.iter().map(|i| i["number"].as_u64().expect("a number")).collect()
    }

    fn link(&self) -> Option<String> {
        self.headers.get("link").map(|v| v.to_str().expect("ascii").to_string())
    }
}

/// The URL the `Link` header gives for `rel`.
fn rel(link: &str, rel: &str) -> Option<String> {
    link.split(", ").find_map(|part| {
        let (url, param) = part.split_once("; ")?;
        (param == format!("rel=\"{rel}\"")).then(|| url.trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

async fn send(sim: &SimGithub, method: reqwest::Method, url: &str, body: Option<Value>) -> Reply {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let url = if url.starts_with("http") {
        url.to_string()
    } else {
        format!("{}{url}", sim.api_url())
    };
    let mut request = client
        .request(method, url)
        .header("authorization", "Bearer gh-token")
        .header("user-agent", "slawatch-tests")
        .header("accept", "application/vnd.github+json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body read");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    Reply { status, headers, body }
}

async fn get(sim: &SimGithub, url: &str) -> Reply {
    send(sim, reqwest::Method::GET, url, None).await
}

async fn post(sim: &SimGithub, path: &str, body: Value) -> Reply {
    send(sim, reqwest::Method::POST, path, Some(body)).await
}

async fn create(sim: &SimGithub, body: Value) -> Reply {
    post(sim, ISSUES, body).await
}

#[tokio::test]
async fn pull_requests_share_the_issue_numbers_and_are_listed_with_a_pull_request_key() {
    let (sim, _clock) = setup().await;
    assert_eq!(create(&sim, json!({"title": "First"})).await.body["number"], 1);
    let pr = sim.add_pull_request(REPO, "dev-alice", "Fix the connector", "Fixes #1");
    assert_eq!(pr, 2, "one number sequence for issues and pull requests");
    assert_eq!(create(&sim, json!({"title": "Third"})).await.body["number"], 3);

    let list = get(&sim, ISSUES).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.numbers(), vec![3, 2, 1], "pull requests are listed among the issues");
    let items = list.body.as_array().unwrap();
    let url = format!("{}/repos/{REPO}/pulls/2", sim.api_url());
    assert_eq!(items[1]["pull_request"]["url"], json!(url));
    assert!(items[0].get("pull_request").is_none() && items[2].get("pull_request").is_none());

    // By number, as an issue; and commented on as one.
    let read = get(&sim, &format!("{ISSUES}/2")).await;
    assert_eq!((read.status, read.body["user"]["login"].clone()), (200, json!("dev-alice")));
    assert_eq!(read.body["pull_request"]["url"], json!(url));
    let comment = post(&sim, &format!("{ISSUES}/2/comments"), json!({"body": "Ticket 4242 waits on this"})).await;
    assert_eq!(comment.status, 201);
    assert_eq!(
        sim.comments_of(REPO, 2),
        vec![("slawatch-bot".to_string(), "Ticket 4242 waits on this".to_string())]
    );

    // `issues()` is the issues proper.
    let numbers: Vec<u64> = sim.issues(REPO).iter().map(|i| i.number).collect();
    assert_eq!(numbers, vec![1, 3]);
}

#[tokio::test]
async fn every_issue_names_its_author_and_carries_its_times() {
    let (sim, clock) = setup().await;
    create(&sim, json!({"title": "Ours", "body": "<!-- slawatch:ticket=1 -->"})).await;
    clock.advance(Duration::from_secs(60));
    let theirs = sim.create_issue_as(REPO, "other-daemon[bot]", "Theirs", "<!-- slawatch:ticket=1 -->");
    assert_eq!(theirs, 2);
    assert_eq!(sim.create_count(), 1, "only the token's creations through the API count");
    clock.advance(Duration::from_secs(60));
    let closed = send(
        &sim,
        reqwest::Method::PATCH,
        &format!("{ISSUES}/1"),
        Some(json!({"state": "closed"})),
    )
    .await;
    assert_eq!(closed.status, 200);

    let list = get(&sim, &format!("{ISSUES}?state=all")).await;
    let items = list.body.as_array().unwrap();
    let (theirs, ours) = (&items[0], &items[1]);
    assert_eq!(ours["user"]["login"], "slawatch-bot");
    assert_eq!(theirs["user"]["login"], "other-daemon[bot]");
    assert_eq!(theirs["user"]["type"], "Bot");
    assert_eq!(ours["created_at"], "2026-11-30T00:53:20Z");
    assert_eq!(ours["updated_at"], "2026-11-30T00:55:20Z");
    assert_eq!(ours["closed_at"], "2026-11-30T00:55:20Z");
    assert_eq!(theirs["created_at"], "2026-11-30T00:54:20Z");
    assert_eq!(theirs["updated_at"], "2026-11-30T00:54:20Z");
    assert!(
        theirs.get("closed_at").is_some_and(Value::is_null),
        "closed_at is present, null while open"
    );
}

#[tokio::test]
async fn the_list_filters_by_creator_and_by_the_time_of_the_last_update() {
    let (sim, clock) = setup().await;
    sim.create_issue_as(REPO, "slawatch-bot", "One", "");
    clock.advance(Duration::from_secs(3600));
    sim.create_issue_as(REPO, "dev-alice", "Two", "");
    clock.advance(Duration::from_secs(3600));
    sim.create_issue_as(REPO, "slawatch-bot", "Three", "");
    clock.advance(Duration::from_secs(3600));
    // A comment is an update: #1 is now the most recently updated.
    sim.comment(REPO, 1, "dev-alice", "Looking");

    let mine = get(&sim, &format!("{ISSUES}?creator=slawatch-bot")).await;
    assert_eq!(mine.numbers(), vec![3, 1]);
    let theirs = get(&sim, &format!("{ISSUES}?creator=Dev-Alice")).await;
    assert_eq!(theirs.numbers(), vec![2], "logins compare without case");
    assert!(get(&sim, &format!("{ISSUES}?creator=nobody")).await.numbers().is_empty());

    // T0 + 2h: #3 was created then, #1 updated after; #2 is older.
    let since = get(&sim, &format!("{ISSUES}?since=2026-11-30T02:53:20Z")).await;
    assert_eq!(since.numbers(), vec![3, 1], "at or after `since`, by last update");
    let offset = get(&sim, &format!("{ISSUES}?since=2026-11-30T03%3A53%3A20%2B01%3A00")).await;
    assert_eq!(offset.numbers(), vec![3, 1], "an offset is honoured");
    let date = get(&sim, &format!("{ISSUES}?since=2026-12-01")).await;
    assert!(date.numbers().is_empty(), "a bare date is its midnight, UTC");
    let both = get(&sim, &format!("{ISSUES}?creator=slawatch-bot&since=2026-11-30T03:00:00Z")).await;
    assert_eq!(both.numbers(), vec![1]);

    let bad = get(&sim, &format!("{ISSUES}?since=yesterday")).await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.body["message"],
        "The since parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ"
    );
    let bad = get(&sim, &format!("{ISSUES}/1/comments?since=1796000000")).await;
    assert_eq!(bad.status, 422, "the comments' `since` too");
}

#[tokio::test]
async fn the_list_sorts_by_creation_or_update_either_way() {
    let (sim, clock) = setup().await;
    for title in ["One", "Two", "Three"] {
        sim.create_issue_as(REPO, "slawatch-bot", title, "");
        clock.advance(Duration::from_secs(60));
    }
    sim.comment(REPO, 2, "dev-alice", "Bumped");
    clock.advance(Duration::from_secs(60));
    sim.comment(REPO, 1, "dev-alice", "Bumped");
    sim.comment(REPO, 1, "dev-bob", "Me too");

    assert_eq!(get(&sim, ISSUES).await.numbers(), vec![3, 2, 1], "newest created first by default");
    assert_eq!(get(&sim, &format!("{ISSUES}?direction=asc")).await.numbers(), vec![1, 2, 3]);
    assert_eq!(
        get(&sim, &format!("{ISSUES}?sort=created&direction=desc")).await.numbers(),
        vec![3, 2, 1]
    );
    assert_eq!(get(&sim, &format!("{ISSUES}?sort=updated")).await.numbers(), vec![1, 2, 3]);
    assert_eq!(
        get(&sim, &format!("{ISSUES}?sort=updated&direction=asc")).await.numbers(),
        vec![3, 2, 1]
    );
    assert_eq!(get(&sim, &format!("{ISSUES}?sort=comments")).await.numbers(), vec![1, 2, 3]);
}

#[tokio::test]
async fn the_list_is_paged_and_the_link_header_leads_through_every_page() {
    let (sim, _clock) = setup().await;
    for n in 1..=7 {
        sim.create_issue_as(REPO, "slawatch-bot", &format!("Issue {n}"), "");
    }
    let first = get(&sim, &format!("{ISSUES}?state=all&per_page=3")).await;
    assert_eq!(first.numbers(), vec![7, 6, 5]);
    let link = first.link().expect("a Link header: more pages follow");
    let base = format!("{}{ISSUES}", sim.api_url());
    assert_eq!(
        link,
        format!("<{base}?state=all&per_page=3&page=2>; rel=\"next\", <{base}?state=all&per_page=3&page=3>; rel=\"last\"")
    );

    // Following `next` reads every issue once, and the last page says where it is.
    let mut seen = first.numbers();
    let mut next = rel(&link, "next");
    let mut last_link = link;
    while let Some(url) = next {
        let page = get(&sim, &url).await;
        assert_eq!(page.status, 200);
        seen.extend(page.numbers());
        last_link = page.link().expect("a later page links back");
        next = rel(&last_link, "next");
    }
    assert_eq!(seen, vec![7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(rel(&last_link, "prev"), Some(format!("{base}?state=all&per_page=3&page=2")));
    assert_eq!(rel(&last_link, "first"), Some(format!("{base}?state=all&per_page=3&page=1")));
    assert_eq!(rel(&last_link, "last"), None, "on the last page");

    // Past the end: an empty page. One page in all: no Link header.
    assert!(get(&sim, &format!("{ISSUES}?per_page=3&page=4")).await.numbers().is_empty());
    assert_eq!(get(&sim, &format!("{ISSUES}?per_page=7")).await.link(), None);
    assert_eq!(get(&sim, ISSUES).await.link(), None);
}

#[tokio::test]
async fn thirty_issues_a_page_by_default_and_a_hundred_at_most() {
    let (sim, _clock) = setup().await;
    for n in 1..=101 {
        sim.create_issue_as(REPO, "slawatch-bot", &format!("Issue {n}"), "");
    }
    let default = get(&sim, ISSUES).await;
    assert_eq!(default.numbers().len(), 30);
    assert_eq!(
        rel(&default.link().unwrap(), "last"),
        Some(format!("{}{ISSUES}?page=4", sim.api_url()))
    );
    let most = get(&sim, &format!("{ISSUES}?per_page=500")).await;
    assert_eq!(most.numbers().len(), 100);
    assert_eq!(most.numbers()[99], 2);
    let rest = get(&sim, &rel(&most.link().unwrap(), "next").unwrap()).await;
    assert_eq!(rest.numbers(), vec![1]);
}

#[tokio::test]
async fn an_assignee_who_may_not_be_assigned_fails_validation_once_the_list_is_set() {
    let (sim, _clock) = setup().await;
    let anyone = create(&sim, json!({"title": "Before", "assignees": ["whoever"]})).await;
    assert_eq!(anyone.status, 201, "until set, anyone may be assigned");

    sim.set_assignable(REPO, &["oncall-eng", "dev-alice"]);
    let refused = create(&sim, json!({"title": "After", "assignees": ["oncall-eng", "left-the-company"]})).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body,
        json!({
            "message": "Validation Failed",
            "errors": [{"value": "left-the-company", "resource": "Issue", "field": "assignees", "code": "invalid"}],
            "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
        })
    );
    assert_eq!((sim.create_count(), sim.issues(REPO).len()), (1, 1), "nothing filed");

    let accepted = create(&sim, json!({"title": "After", "assignees": ["OnCall-Eng"]})).await;
    assert_eq!(accepted.status, 201, "logins compare without case");
    assert_eq!(accepted.body["assignees"][0]["login"], "OnCall-Eng");

    // A read-only token's assignees are dropped before they could be refused.
    sim.set_role(REPO, RepoRole::Read);
    let dropped = create(&sim, json!({"title": "Read-only", "assignees": ["left-the-company"]})).await;
    assert_eq!(dropped.status, 201);
    assert_eq!(dropped.body["assignees"], json!([]));
}

#[tokio::test]
async fn a_label_name_over_fifty_characters_fails_validation_and_an_unknown_one_is_created() {
    let (sim, _clock) = setup().await;
    let long = format!("customer/{}", "x".repeat(42));
    assert_eq!(long.chars().count(), 51);
    let refused = create(&sim, json!({"title": "Too long", "labels": ["rfh", long]})).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body,
        json!({
            "message": "Validation Failed",
            "errors": [{"value": long, "resource": "Label", "field": "name", "code": "invalid"}],
            "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
        })
    );
    assert!(
        sim.issues(REPO).is_empty() && sim.labels(REPO).is_empty(),
        "nothing filed, no label made"
    );

    let fifty = "é".repeat(50);
    let filed = create(&sim, json!({"title": "Fits", "labels": ["rfh", {"name": "p1"}, fifty]})).await;
    assert_eq!(filed.status, 201, "fifty characters fit, however many bytes");
    assert_eq!(sim.issues(REPO)[0].labels, vec!["rfh".to_string(), "p1".to_string(), fifty.clone()]);
    let mut expected = vec!["p1".to_string(), "rfh".to_string(), fifty];
    expected.sort();
    assert_eq!(sim.labels(REPO), expected, "unknown labels are created");

    // Both refusals at once: one entry each.
    sim.set_assignable(REPO, &["oncall-eng"]);
    let both = create(&sim, json!({"title": "Both", "labels": [long], "assignees": ["nobody"]})).await;
    assert_eq!(both.status, 422);
    let fields: Vec<&Value> = both.body["errors"].as_array().unwrap().iter().map(|e| &e["resource"]).collect();
    assert_eq!(fields, vec!["Issue", "Label"]);
}

#[tokio::test]
async fn a_deleted_issue_and_its_comments_answer_410_and_leave_the_list_and_search() {
    let (sim, _clock) = setup().await;
    create(&sim, json!({"title": "Doomed", "body": "<!-- slawatch:ticket=7 -->"})).await;
    sim.comment(REPO, 1, "dev-alice", "On it");
    create(&sim, json!({"title": "Kept"})).await;
    sim.delete_issue(REPO, 1);

    for reply in [
        get(&sim, &format!("{ISSUES}/1")).await,
        get(&sim, &format!("{ISSUES}/1/comments")).await,
        post(&sim, &format!("{ISSUES}/1/comments"), json!({"body": "Anyone?"})).await,
        send(
            &sim,
            reqwest::Method::PATCH,
            &format!("{ISSUES}/1"),
            Some(json!({"state": "closed"})),
        )
        .await,
    ] {
        assert_eq!(
            (reply.status, reply.body["message"].clone()),
            (410, json!("This issue was deleted"))
        );
    }
    assert_eq!(get(&sim, &format!("{ISSUES}?state=all")).await.numbers(), vec![2]);
    let search = get(&sim, "/search/issues?q=%22slawatch%3Aticket%3D7%22").await;
    assert_eq!(search.body["total_count"], 0);
    assert!(sim.comments_of(REPO, 1).is_empty());
    assert_eq!(sim.issues(REPO).iter().map(|i| i.number).collect::<Vec<_>>(), vec![2]);

    // A number never given is still 404; a deleted number is not given again.
    assert_eq!(get(&sim, &format!("{ISSUES}/9")).await.status, 404);
    assert_eq!(create(&sim, json!({"title": "Next"})).await.body["number"], 3);
}

#[tokio::test]
async fn a_removed_repository_answers_404_everywhere() {
    let (sim, _clock) = setup().await;
    create(&sim, json!({"title": "Filed", "body": "<!-- slawatch:ticket=8 -->"})).await;
    sim.set_role(REPO, RepoRole::Write);
    sim.remove_repo(REPO);

    for reply in [
        get(&sim, "/repos/acme/support-escalations").await,
        get(&sim, ISSUES).await,
        get(&sim, &format!("{ISSUES}/1")).await,
        get(&sim, &format!("{ISSUES}/1/comments")).await,
        post(&sim, &format!("{ISSUES}/1/comments"), json!({"body": "Hello?"})).await,
        create(&sim, json!({"title": "Again"})).await,
    ] {
        assert_eq!((reply.status, reply.body["message"].clone()), (404, json!("Not Found")));
    }
    let search = get(&sim, "/search/issues?q=%22slawatch%3Aticket%3D8%22").await;
    assert_eq!(search.body["total_count"], 0);
    assert!(sim.issues(REPO).is_empty());

    // Added again, it is a new, empty repository with the default role.
    sim.add_repo(REPO);
    assert!(get(&sim, ISSUES).await.numbers().is_empty());
    assert_eq!(
        get(&sim, "/repos/acme/support-escalations").await.body["permissions"]["admin"],
        true
    );
    assert_eq!(create(&sim, json!({"title": "Fresh"})).await.body["number"], 1);
}

#[tokio::test]
async fn search_finds_pull_requests_too_unless_asked_for_issues_only_and_narrows_by_author() {
    let (sim, _clock) = setup().await;
    create(&sim, json!({"title": "Issue", "body": "<!-- slawatch:ticket=9 -->"})).await;
    sim.add_pull_request(REPO, "dev-alice", "Fix", "Quotes <!-- slawatch:ticket=9 -->");
    let numbers = |reply: Reply| -> Vec<u64> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_u64().unwrap())
            .collect()
    };
    let q = "%22slawatch%3Aticket%3D9%22+repo%3Aacme%2Fsupport-escalations";
    assert_eq!(numbers(get(&sim, &format!("/search/issues?q={q}")).await), vec![1, 2]);
    assert_eq!(numbers(get(&sim, &format!("/search/issues?q={q}+is%3Aissue")).await), vec![1]);
    assert_eq!(numbers(get(&sim, &format!("/search/issues?q={q}+is%3Apr")).await), vec![2]);
    assert_eq!(
        numbers(get(&sim, &format!("/search/issues?q={q}+author%3ADev-Alice")).await),
        vec![2]
    );
    assert_eq!(
        numbers(get(&sim, &format!("/search/issues?q={q}+author%3Aslawatch-bot+is%3Aissue")).await),
        vec![1]
    );
}
