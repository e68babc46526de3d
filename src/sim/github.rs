//! A simulated GitHub REST API over real HTTP: repositories' issues (pull requests among them)
//! and comments, issue search with an indexing lag, ETags and 304s, rate-limit headers,
//! secondary limits, and failure switches. Used by the tests and by `slawatch demo`.
//!
//! Endpoints: `POST /repos/{o}/{r}/issues`, `GET /repos/{o}/{r}/issues`,
//! `GET|PATCH /repos/{o}/{r}/issues/{n}`, `GET|POST /repos/{o}/{r}/issues/{n}/comments`
//! (`since`, `per_page`), `GET /search/issues?q=` (`"quoted text"` matched in bodies,
//! `repo:o/r`, `author:login`, `is:issue`/`is:pr`), `GET /repos/{o}/{r}` (the token's
//! `permissions`, `archived`, `has_issues`), `GET /user` (the token's login). Every request
//! needs `Authorization: Bearer TOKEN` (or `token TOKEN`) and a `User-Agent`, as GitHub does.
//!
//! Repositories exist only once added ([`SimGithub::add_repo`]): any other answers 404, issues
//! included, and so does one removed ([`SimGithub::remove_repo`], as a repository deleted or
//! renamed away). Each gives the token a role ([`SimGithub::set_role`], admin unless set) and
//! can be archived or have issues disabled, with GitHub's consequences: a repository the token
//! has no role in answers 404 (GitHub hides private repositories so); an archived one refuses
//! every write with 403; one with issues disabled answers 410 to its issue endpoints; on a
//! read-only role a new issue is filed without its labels and assignees (GitHub drops them
//! silently).
//!
//! As on GitHub:
//! - The issue list (`GET /repos/{o}/{r}/issues`) takes `state` (`open` by default, `closed`,
//!   `all`), `creator` (a login), `since` (ISO 8601, `YYYY-MM-DDTHH:MM:SSZ`: only issues
//!   updated at or after it; anything else answers 422), `sort` (`created` by default,
//!   `updated`, `comments`), `direction` (`desc` by default, `asc`), `per_page` (30 by
//!   default, at most 100) and `page` (from 1). When the results span more than one page, a
//!   `Link` header gives absolute URLs (on [`SimGithub::api_url`]) to the `prev`, `next`,
//!   `last` and `first` pages, each as far as it exists.
//! - Pull requests ([`SimGithub::add_pull_request`]) share the issues' number sequence, are
//!   listed among the issues, are read (and commented on) by number under `/issues/{n}`, and
//!   carry a `"pull_request": {"url": ...}` key that plain issues lack.
//! - Every issue names its author (`user.login`: the token's login, or another's for
//!   [`SimGithub::create_issue_as`]) and carries `created_at`, `updated_at` and `closed_at`.
//! - Creating an issue validates, once [`SimGithub::set_assignable`] names who may be
//!   assigned, each assignee, and each label name's length (at most 50 characters): a failure
//!   answers 422 `{"message":"Validation Failed","errors":[{"value":…,"resource":"Issue",
//!   "field":"assignees","code":"invalid"}],…}` (for a label, `"resource":"Label","field":
//!   "name"`), one entry for each value refused. An unknown label is created.
//! - A deleted issue ([`SimGithub::delete_issue`]) leaves the list and search, and it and its
//!   comments answer 410 "This issue was deleted"; its number is not given again.
//!
//! Time is the world's clock (shared with the daemon): an issue becomes searchable
//! `search_lag` after it is created. Each answer carries `x-ratelimit-*` headers for the core
//! (5,000 an hour) or search (30 a minute) resource; a 304 costs nothing.

mod http;
mod issues;
mod world;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Router;

use crate::clock::Clock;
use world::{NewIssue, State, World};

const CORE_LIMIT: u32 = 5000;

/// The token's role in a repository, as GitHub names them; each includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum RepoRole {
    /// No access: the repository answers 404, as a private one does to a stranger.
    None,
    Read,
    Triage,
    Write,
    Maintain,
    #[default]
    Admin,
}

/// A handle to a running simulated GitHub; the server stops when the last handle is dropped.
#[derive(Clone)]
pub struct SimGithub {
    handle: Arc<super::Handle<State>>,
}

/// An issue as the simulated world holds it, for tests and the demo to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueView {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub open: bool,
    /// (author login, body) of each comment, oldest first.
    pub comments: Vec<(String, String)>,
}

impl SimGithub {
    /// Serves on 127.0.0.1 (ephemeral port); requests must carry `token`, which acts as `login`.
    pub async fn start(token: &str, login: &str, clock: Clock) -> std::io::Result<SimGithub> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State {
            base_url,
            token: token.to_string(),
            clock,
            world: Mutex::new(World {
                login: login.to_string(),
                fail_status: 500,
                core_limit: CORE_LIMIT,
                ..World::default()
            }),
        });
        let app = Router::new().fallback(http::handle).with_state(state.clone());
        Ok(SimGithub {
            handle: super::Handle::serve(listener, app, state, "github"),
        })
    }

    fn state(&self) -> &State {
        &self.handle.state
    }

    /// The API's base URL (as `api_url` in the configuration).
    pub fn api_url(&self) -> String {
        self.state().base_url.clone()
    }

    /// Creates an empty repository (`owner/name`).
    pub fn add_repo(&self, repo: &str) {
        self.state().world().repos.entry(repo.to_string()).or_default();
    }

    /// Removes `repo` with everything in it, as a repository deleted or renamed away: every
    /// endpoint under it answers 404 from now on (until it is added again, empty).
    pub fn remove_repo(&self, repo: &str) {
        let mut world = self.state().world();
        world.repos.remove(repo);
        world.settings.remove(repo);
    }

    /// The login the token acts as from now on (`GET /user`, the author of what it writes).
    pub fn set_login(&self, login: &str) {
        self.state().world().login = login.to_string();
    }

    /// The token's role in `repo` (admin unless set); `RepoRole::None` hides it (404).
    pub fn set_role(&self, repo: &str, role: RepoRole) {
        self.state().world().settings.entry(repo.to_string()).or_default().role = role;
    }

    /// Archives (or unarchives) `repo`: every write to it is refused 403.
    pub fn set_archived(&self, repo: &str, archived: bool) {
        self.state().world().settings.entry(repo.to_string()).or_default().archived = archived;
    }

    /// Turns `repo`'s issues on or off: off, its issue endpoints answer 410.
    pub fn set_has_issues(&self, repo: &str, has_issues: bool) {
        self.state().world().settings.entry(repo.to_string()).or_default().has_issues = has_issues;
    }

    /// Who may be assigned in `repo` (logins, compared without case, as GitHub's are); a new
    /// issue assigned to anyone else is refused 422. Until set, anyone may be assigned.
    pub fn set_assignable(&self, repo: &str, logins: &[&str]) {
        let assignable: BTreeSet<String> = logins.iter().map(|l| l.to_lowercase()).collect();
        if let Some(repo) = self.state().world().repos.get_mut(repo) {
            repo.assignable = Some(assignable);
        }
    }

    /// Issues become searchable this many world seconds after they are created.
    pub fn set_search_lag(&self, seconds: i64) {
        self.state().world().search_lag = seconds;
    }

    /// While down, every request gets 503.
    pub fn set_down(&self, down: bool) {
        self.state().world().down = down;
    }

    /// The next `n` requests get `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut world = self.state().world();
        world.fail_next = n;
        world.fail_status = status;
    }

    /// The next `n` requests hit a secondary rate limit: 403 with `retry-after: seconds` (none
    /// when 0, as GitHub sometimes answers).
    pub fn secondary_limit_next(&self, n: u32, retry_after: u64) {
        let mut world = self.state().world();
        world.secondary_next = n;
        world.secondary_retry_after = retry_after;
    }

    /// The core resource's limit an hour (5,000 by default).
    pub fn set_core_limit(&self, per_hour: u32) {
        self.state().world().core_limit = per_hour;
    }

    /// Requests made to `path` (any method), answered or not.
    pub fn request_count(&self, path: &str) -> u64 {
        self.state().world().counts.get(path).copied().unwrap_or(0)
    }

    /// GETs of `path` made without `If-None-Match` (not conditional).
    pub fn plain_read_count(&self, path: &str) -> u64 {
        self.state().world().plain_reads.get(path).copied().unwrap_or(0)
    }

    /// Issues created through the API by the token (not those of [`SimGithub::create_issue_as`]).
    pub fn create_count(&self) -> u64 {
        self.state().world().creates
    }

    /// The repository's issues, oldest first: pull requests and deleted issues left out.
    pub fn issues(&self, repo: &str) -> Vec<IssueView> {
        let world = self.state().world();
        let issues = world.repos.get(repo).map(|r| r.issues.as_slice()).unwrap_or_default();
        issues.iter().filter(|i| !i.pull_request).map(|i| i.view()).collect()
    }

    /// (author login, body) of each comment on issue (or pull request) `number`, oldest first;
    /// none for an issue that does not exist or was deleted.
    pub fn comments_of(&self, repo: &str, number: u64) -> Vec<(String, String)> {
        let world = self.state().world();
        world
            .repos
            .get(repo)
            .and_then(|r| r.issue(number))
            .map(|i| i.comments())
            .unwrap_or_default()
    }

    /// The repository's labels, by name: those the issues were filed with included.
    pub fn labels(&self, repo: &str) -> Vec<String> {
        let world = self.state().world();
        world
            .repos
            .get(repo)
            .map(|r| r.labels.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Someone else (`login`: another daemon, an engineer) files an issue; its number.
    ///
    /// # Panics
    /// If `repo` was never added: a mistake in the test's setup.
    pub fn create_issue_as(&self, repo: &str, login: &str, title: &str, body: &str) -> u64 {
        self.file(repo, login, title, body, false)
    }

    /// `login` opens a pull request, numbered in the issues' sequence; its number.
    ///
    /// # Panics
    /// If `repo` was never added: a mistake in the test's setup.
    pub fn add_pull_request(&self, repo: &str, login: &str, title: &str, body: &str) -> u64 {
        self.file(repo, login, title, body, true)
    }

    fn file(&self, repo: &str, login: &str, title: &str, body: &str, pull_request: bool) -> u64 {
        let now = self.state().clock.now();
        let mut world = self.state().world();
        let Some(issues) = world.repos.get_mut(repo) else {
            panic!("sim github: repository {repo} was never added");
        };
        let new = NewIssue {
            title: title.to_string(),
            body: body.to_string(),
            labels: Vec::new(),
            assignees: Vec::new(),
            author: login.to_string(),
            pull_request,
        };
        issues.file(new, now).number
    }

    /// Deletes an issue (or pull request), as an admin can: it and its comments answer 410 from
    /// now on, and it leaves the list and search.
    pub fn delete_issue(&self, repo: &str, number: u64) {
        if let Some(issues) = self.state().world().repos.get_mut(repo) {
            issues.delete(number);
        }
    }

    /// An engineer (`login`) comments on an issue.
    pub fn comment(&self, repo: &str, number: u64, login: &str, body: &str) {
        let now = self.state().clock.now();
        let mut world = self.state().world();
        let comment = world.new_comment(login, body, now);
        if let Some(issue) = world.issue_mut(repo, number) {
            issue.add_comment(comment);
        }
    }

    /// Engineering closes (or reopens) an issue.
    pub fn set_open(&self, repo: &str, number: u64, open: bool) {
        let now = self.state().clock.now();
        let mut world = self.state().world();
        if let Some(issue) = world.issue_mut(repo, number) {
            issue.set_open(open, now);
        }
    }
}
