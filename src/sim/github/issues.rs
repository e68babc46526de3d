//! The issue endpoints under `/repos/{o}/{r}/issues`: create (validated as GitHub validates),
//! list (filtered, sorted and paged, with a `Link` header), read, close or reopen, and the
//! comments of one.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::http::{error, user, Query};
use super::world::{Comment, Issue, NewIssue, Repo, State, World};
use super::RepoRole;
use crate::sla::time::{days_from_civil, format_rfc3339, parse_rfc3339};

/// GitHub refuses longer label names.
const LABEL_MAX_CHARS: usize = 50;
const BODY_MAX_CHARS: usize = 65_536;
const CREATE_DOCS: &str = "https://docs.github.com/rest/issues/issues#create-an-issue";
const LIST_DOCS: &str = "https://docs.github.com/rest/issues/issues#list-repository-issues";

/// What an issue endpoint reads of a request.
pub(super) struct Request<'a> {
    pub(super) method: &'a Method,
    pub(super) query: Query<'a>,
    pub(super) body: &'a [u8],
    pub(super) if_none_match: Option<&'a str>,
}

/// The answer to a request under `/repos/{repo}/issues`, and whether it is a 304.
pub(super) fn answer(state: &State, repo: &str, number: Option<u64>, rest: &str, request: &Request<'_>) -> (Response, bool) {
    let now = state.clock.now();
    let plain = |r: Response| (r, false);
    let mut world = state.world();
    if !world.visible(repo) {
        return plain(error(StatusCode::NOT_FOUND, "Not Found"));
    }
    let settings = world.settings(repo);
    if !settings.has_issues {
        return plain(error(StatusCode::GONE, "Issues are disabled for this repo"));
    }
    if settings.archived && *request.method != Method::GET {
        return plain(error(StatusCode::FORBIDDEN, "Repository was archived so is read-only."));
    }
    let json: Value = if request.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(request.body) {
            Ok(v) => v,
            Err(_) => return plain(error(StatusCode::BAD_REQUEST, "Problems parsing JSON")),
        }
    };
    if number.is_some_and(|n| world.repos[repo].deleted.contains(&n)) {
        return plain(error(StatusCode::GONE, "This issue was deleted"));
    }
    let base = state.base_url.as_str();
    match (request.method.clone(), number, rest) {
        (Method::POST, None, "") => plain(create(&mut world, base, repo, &json, settings.role, now)),
        (Method::GET, None, "") => plain(list(&world.repos[repo], base, repo, &request.query)),
        (Method::GET, Some(n), "") => match world.repos[repo].issue(n) {
            None => plain(error(StatusCode::NOT_FOUND, "Not Found")),
            Some(issue) => with_etag(
                issue_json(base, repo, issue),
                format!("W/\"issue-{n}-{}\"", issue.version),
                request.if_none_match,
            ),
        },
        (Method::PATCH, Some(n), "") => {
            let Some(issue) = world.issue_mut(repo, n) else {
                return plain(error(StatusCode::NOT_FOUND, "Not Found"));
            };
            match json.get("state").and_then(Value::as_str) {
                Some("open") => issue.set_open(true, now),
                Some("closed") => issue.set_open(false, now),
                Some(_) => return plain(error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: state")),
                None => {}
            }
            plain(axum::Json(issue_json(base, repo, issue)).into_response())
        }
        (Method::GET, Some(n), "comments") => match world.repos[repo].issue(n) {
            None => plain(error(StatusCode::NOT_FOUND, "Not Found")),
            Some(issue) => comments(issue, &request.query, request.if_none_match),
        },
        (Method::POST, Some(n), "comments") => {
            let Some(text) = json.get("body").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) else {
                return plain(error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: body is missing"));
            };
            if world.repos[repo].issue(n).is_none() {
                return plain(error(StatusCode::NOT_FOUND, "Not Found"));
            }
            let login = world.login.clone();
            let comment = world.new_comment(&login, text, now);
            let value = comment_json(&comment);
            if let Some(issue) = world.issue_mut(repo, n) {
                issue.add_comment(comment);
            }
            plain((StatusCode::CREATED, axum::Json(value)).into_response())
        }
        _ => plain(error(StatusCode::NOT_FOUND, "Not Found")),
    }
}

/// `POST /repos/{o}/{r}/issues`. Below triage the labels and assignees are dropped without a
/// word (as GitHub does); otherwise an assignee who may not be assigned, or a label name
/// longer than 50 characters, fails validation (422), and an unknown label is created.
fn create(world: &mut World, base: &str, repo: &str, json: &Value, role: RepoRole, now: i64) -> Response {
    let Some(title) = json.get("title").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: title is missing");
    };
    let body = json.get("body").and_then(Value::as_str).unwrap_or_default();
    if body.chars().count() > BODY_MAX_CHARS {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: body is too long (maximum is 65536 characters)",
        );
    }
    let may_label = role >= RepoRole::Triage;
    // Labels are names, or objects with a name (GitHub takes both).
    let names = |key: &str| -> Vec<String> {
        json.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().or_else(|| v.get("name")?.as_str()).map(str::to_string))
            .filter(|_| may_label)
            .collect()
    };
    let (labels, assignees) = (names("labels"), names("assignees"));
    let author = world.login.clone();
    let Some(issues) = world.repos.get_mut(repo) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let mut errors = Vec::new();
    if let Some(assignable) = &issues.assignable {
        for login in assignees.iter().filter(|a| !assignable.contains(&a.to_lowercase())) {
            errors.push(json!({"value": login, "resource": "Issue", "field": "assignees", "code": "invalid"}));
        }
    }
    for label in labels.iter().filter(|l| l.chars().count() > LABEL_MAX_CHARS) {
        errors.push(json!({"value": label, "resource": "Label", "field": "name", "code": "invalid"}));
    }
    if !errors.is_empty() {
        return validation_failed(errors, CREATE_DOCS);
    }
    let new = NewIssue {
        title: title.to_string(),
        body: body.to_string(),
        labels,
        assignees,
        author,
        pull_request: false,
    };
    let value = issue_json(base, repo, issues.file(new, now));
    world.creates += 1;
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

fn validation_failed(errors: Vec<Value>, documentation_url: &str) -> Response {
    let body = json!({"message": "Validation Failed", "errors": errors, "documentation_url": documentation_url});
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

/// `GET /repos/{o}/{r}/issues`: pull requests included, as GitHub lists them. `state` (`open`
/// by default, `closed`, `all`), `creator` (a login), `since` (updated at or after), `sort`
/// (`created` by default, `updated`, `comments`), `direction` (`desc` by default, `asc`),
/// `per_page` (30 by default, at most 100) and `page` (from 1). When there is more than one
/// page, a `Link` header names the others as GitHub does (`prev`, `next`, `last`, `first`).
fn list(issues: &Repo, base: &str, repo: &str, query: &Query<'_>) -> Response {
    let since = match query.get("since").map(parse_since) {
        None => None,
        Some(Some(since)) => Some(since),
        Some(None) => return bad_since(LIST_DOCS),
    };
    let wanted = query.get("state").unwrap_or("open");
    let creator = query.get("creator").map(str::to_lowercase);
    let mut list: Vec<&Issue> = issues
        .issues
        .iter()
        .filter(|i| match wanted {
            "all" => true,
            "closed" => !i.open,
            _ => i.open,
        })
        .filter(|i| creator.as_ref().is_none_or(|c| *c == i.author.to_lowercase()))
        .filter(|i| since.is_none_or(|s| i.updated_at >= s))
        .collect();
    match query.get("sort") {
        Some("updated") => list.sort_by_key(|i| (i.updated_at, i.number)),
        Some("comments") => list.sort_by_key(|i| (i.comments.len() as i64, i.number)),
        _ => list.sort_by_key(|i| (i.created_at, i.number)),
    }
    if query.get("direction") != Some("asc") {
        list.reverse();
    }
    let per_page = per_page(query);
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or(1);
    let last = list.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = list
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|i| issue_json(base, repo, i))
        .collect();
    let mut response = axum::Json(Value::Array(items)).into_response();
    if last > 1 || page > 1 {
        let url = |page: usize| {
            let mut pairs = query.raw_without("page");
            let page = format!("page={page}");
            pairs.push(&page);
            format!("<{base}/repos/{repo}/issues?{}>", pairs.join("&"))
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(format!("{}; rel=\"prev\"", url(page - 1)));
        }
        if page < last {
            links.push(format!("{}; rel=\"next\"", url(page + 1)));
            links.push(format!("{}; rel=\"last\"", url(last)));
        }
        if page > 1 {
            links.push(format!("{}; rel=\"first\"", url(1)));
        }
        if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

/// `GET /repos/{o}/{r}/issues/{n}/comments`: oldest first; `since` (created at or after),
/// `per_page` (at most 100) and `page` (1-based).
fn comments(issue: &Issue, query: &Query<'_>, if_none_match: Option<&str>) -> (Response, bool) {
    let since = match query.get("since").map(parse_since) {
        None => None,
        Some(Some(since)) => Some(since),
        Some(None) => return (bad_since("https://docs.github.com/rest/issues/comments#list-issue-comments"), false),
    };
    let list: Vec<Value> = issue
        .comments
        .iter()
        .filter(|c| since.is_none_or(|s| c.created_at >= s))
        .skip(per_page(query) * (page(query) - 1))
        .take(per_page(query))
        .map(comment_json)
        .collect();
    let etag = format!(
        "W/\"comments-{}-{}-{}-{}\"",
        issue.number,
        issue.version,
        since.unwrap_or(0),
        page(query)
    );
    with_etag(Value::Array(list), etag, if_none_match)
}

/// `page`: 1 unless given.
fn page(query: &Query<'_>) -> usize {
    query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or(1)
}

/// `per_page`: 30 unless given, at most 100.
fn per_page(query: &Query<'_>) -> usize {
    query
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or(30)
        .min(100)
}

/// An ISO 8601 instant (`YYYY-MM-DDTHH:MM:SSZ`, or with an offset), or a bare date (midnight UTC).
fn parse_since(text: &str) -> Option<i64> {
    if let Ok(at) = parse_rfc3339(text) {
        return Some(at);
    }
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (text[0..4].parse().ok()?, text[5..7].parse().ok()?, text[8..10].parse().ok()?);
    let valid = (1..=12).contains(&month) && day >= 1 && day <= crate::sla::time::days_in_month(year, month);
    valid.then(|| days_from_civil(year, month, day) * 86_400)
}

fn bad_since(documentation_url: &str) -> Response {
    let body = json!({
        "message": "The since parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ",
        "documentation_url": documentation_url,
    });
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

/// An answer with a body and an ETag (weak, from the version).
fn with_etag(value: Value, etag: String, if_none_match: Option<&str>) -> (Response, bool) {
    let not_modified = if_none_match == Some(etag.as_str());
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        axum::Json(value).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    (response, not_modified)
}

pub(super) fn issue_json(base: &str, repo: &str, issue: &Issue) -> Value {
    let n = issue.number;
    let mut value = json!({
        "id": 1_000_000 + n,
        "number": n,
        "title": issue.title,
        "body": issue.body,
        "state": if issue.open { "open" } else { "closed" },
        "labels": issue.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "assignees": issue.assignees.iter().map(|a| user(a)).collect::<Vec<_>>(),
        "user": user(&issue.author),
        "comments": issue.comments.len(),
        "url": format!("{base}/repos/{repo}/issues/{n}"),
        "html_url": format!("https://github.example/{repo}/{}/{n}", if issue.pull_request { "pull" } else { "issues" }),
        "created_at": format_rfc3339(issue.created_at),
        "updated_at": format_rfc3339(issue.updated_at),
        "closed_at": issue.closed_at.map(format_rfc3339),
    });
    if issue.pull_request {
        value["pull_request"] = json!({
            "url": format!("{base}/repos/{repo}/pulls/{n}"),
            "html_url": format!("https://github.example/{repo}/pull/{n}"),
            "diff_url": format!("https://github.example/{repo}/pull/{n}.diff"),
            "patch_url": format!("https://github.example/{repo}/pull/{n}.patch"),
            "merged_at": null,
        });
    }
    value
}

fn comment_json(comment: &Comment) -> Value {
    json!({
        "id": comment.id,
        "body": comment.body,
        "user": user(&comment.login),
        "created_at": format_rfc3339(comment.created_at),
        "updated_at": format_rfc3339(comment.created_at),
    })
}
