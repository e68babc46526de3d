//! What the simulated GitHub holds: repositories, their issues (pull requests among them) and
//! comments, the token's role in each, and the counters and switches the tests drive.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::{IssueView, RepoRole};
use crate::clock::Clock;

#[derive(Debug, Clone)]
pub(super) struct Comment {
    pub(super) id: u64,
    pub(super) body: String,
    pub(super) login: String,
    pub(super) created_at: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Issue {
    pub(super) number: u64,
    pub(super) title: String,
    pub(super) body: String,
    pub(super) labels: Vec<String>,
    pub(super) assignees: Vec<String>,
    pub(super) author: String,
    /// A pull request: listed among the issues, with a `pull_request` key in its JSON.
    pub(super) pull_request: bool,
    pub(super) open: bool,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) closed_at: Option<i64>,
    pub(super) comments: Vec<Comment>,
    /// Bumped on every change: the ETag of the issue and of its comments.
    pub(super) version: u64,
}

impl Issue {
    pub(super) fn view(&self) -> IssueView {
        IssueView {
            number: self.number,
            title: self.title.clone(),
            body: self.body.clone(),
            labels: self.labels.clone(),
            assignees: self.assignees.clone(),
            open: self.open,
            comments: self.comments(),
        }
    }

    /// (author login, body) of each comment, oldest first.
    pub(super) fn comments(&self) -> Vec<(String, String)> {
        self.comments.iter().map(|c| (c.login.clone(), c.body.clone())).collect()
    }

    pub(super) fn set_open(&mut self, open: bool, now: i64) {
        if self.open != open {
            self.open = open;
            self.closed_at = (!open).then_some(now);
            self.updated_at = now;
            self.version += 1;
        }
    }

    pub(super) fn add_comment(&mut self, comment: Comment) {
        self.updated_at = comment.created_at;
        self.comments.push(comment);
        self.version += 1;
    }
}

/// What a new issue (or pull request) is filed with; the rest is the repository's to give.
pub(super) struct NewIssue {
    pub(super) title: String,
    pub(super) body: String,
    pub(super) labels: Vec<String>,
    pub(super) assignees: Vec<String>,
    pub(super) author: String,
    pub(super) pull_request: bool,
}

#[derive(Debug, Default)]
pub(super) struct Repo {
    /// The live issues and pull requests, in creation order.
    pub(super) issues: Vec<Issue>,
    /// Numbers of deleted issues: they answer 410 and are never given again.
    pub(super) deleted: BTreeSet<u64>,
    /// The last number given (issues and pull requests share one sequence).
    last_number: u64,
    /// Who may be assigned; `None` (never set) accepts anyone.
    pub(super) assignable: Option<BTreeSet<String>>,
    /// The repository's labels; a writer's unknown label is created on use, as GitHub does.
    pub(super) labels: BTreeSet<String>,
}

impl Repo {
    /// Files a new issue (or pull request) under the next number.
    pub(super) fn file(&mut self, new: NewIssue, now: i64) -> &Issue {
        self.last_number += 1;
        self.labels.extend(new.labels.iter().cloned());
        self.issues.push(Issue {
            number: self.last_number,
            title: new.title,
            body: new.body,
            labels: new.labels,
            assignees: new.assignees,
            author: new.author,
            pull_request: new.pull_request,
            open: true,
            created_at: now,
            updated_at: now,
            closed_at: None,
            comments: Vec::new(),
            version: 1,
        });
        &self.issues[self.issues.len() - 1]
    }

    pub(super) fn issue(&self, number: u64) -> Option<&Issue> {
        self.issues.iter().find(|i| i.number == number)
    }

    pub(super) fn issue_mut(&mut self, number: u64) -> Option<&mut Issue> {
        self.issues.iter_mut().find(|i| i.number == number)
    }

    /// Deletes an issue: it leaves every listing and its number answers 410 from now on.
    pub(super) fn delete(&mut self, number: u64) -> bool {
        let before = self.issues.len();
        self.issues.retain(|i| i.number != number);
        let removed = self.issues.len() != before;
        if removed {
            self.deleted.insert(number);
        }
        removed
    }
}

#[derive(Debug, Clone)]
pub(super) struct RepoSettings {
    pub(super) role: RepoRole,
    pub(super) archived: bool,
    pub(super) has_issues: bool,
}

impl Default for RepoSettings {
    fn default() -> RepoSettings {
        RepoSettings {
            role: RepoRole::Admin,
            archived: false,
            has_issues: true,
        }
    }
}

#[derive(Default)]
pub(super) struct World {
    pub(super) repos: BTreeMap<String, Repo>,
    /// Per repository; absent means the defaults (admin, not archived, issues on).
    pub(super) settings: BTreeMap<String, RepoSettings>,
    /// The login the token acts as.
    pub(super) login: String,
    pub(super) next_comment: u64,
    pub(super) search_lag: i64,
    pub(super) down: bool,
    pub(super) fail_next: u32,
    pub(super) fail_status: u16,
    /// The next requests answered with a secondary rate limit (403, `retry-after`).
    pub(super) secondary_next: u32,
    pub(super) secondary_retry_after: u64,
    /// Requests counted against each resource's window: (resource, world instants).
    pub(super) used: HashMap<&'static str, Vec<i64>>,
    pub(super) core_limit: u32,
    pub(super) counts: HashMap<String, u64>,
    /// GETs made without `If-None-Match`, by path: reads that cost rate limit however little changed.
    pub(super) plain_reads: HashMap<String, u64>,
    pub(super) creates: u64,
}

impl World {
    pub(super) fn settings(&self, repo: &str) -> RepoSettings {
        self.settings.get(repo).cloned().unwrap_or_default()
    }

    /// The repository, if it exists and the token may see it.
    pub(super) fn visible(&self, repo: &str) -> bool {
        self.repos.contains_key(repo) && self.settings(repo).role != RepoRole::None
    }

    pub(super) fn issue_mut(&mut self, repo: &str, number: u64) -> Option<&mut Issue> {
        self.repos.get_mut(repo)?.issue_mut(number)
    }

    /// A comment by `login`, with the next comment id.
    pub(super) fn new_comment(&mut self, login: &str, body: &str, now: i64) -> Comment {
        self.next_comment += 1;
        Comment {
            id: self.next_comment,
            body: body.to_string(),
            login: login.to_string(),
            created_at: now,
        }
    }
}

pub(super) struct State {
    pub(super) base_url: String,
    pub(super) token: String,
    pub(super) clock: Clock,
    pub(super) world: Mutex<World>,
}

impl State {
    pub(super) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}
