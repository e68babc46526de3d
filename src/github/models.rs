//! The parts of GitHub's issue and comment JSON that slawatch reads; unknown fields are ignored.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct User {
    pub login: String,
    /// `User`, `Bot`, `Organization`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Issue {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    #[serde(default)]
    pub html_url: String,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Present on a pull request: GitHub lists them among issues.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

impl Issue {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct SearchResult {
    #[serde(default)]
    pub items: Vec<Issue>,
}

/// The parts of `GET /repos/{owner}/{repo}` that say whether issues can be filed there.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct RepositoryJson {
    pub full_name: String,
    #[serde(default = "yes")]
    pub has_issues: bool,
    #[serde(default)]
    pub archived: bool,
    /// The token's role, cumulative (a writer is also triage and read). Absent for a token that
    /// is no collaborator (some GitHub App installation tokens): it can see the repository, no more.
    #[serde(default)]
    pub permissions: Option<PermissionsJson>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct PermissionsJson {
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub maintain: bool,
    #[serde(default)]
    pub push: bool,
    #[serde(default)]
    pub triage: bool,
    #[serde(default)]
    pub pull: bool,
}

/// What the token may do in a repository, as GitHub tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryAccess {
    /// `owner/name` as GitHub spells it now (a renamed repository answers with its new name).
    pub full_name: String,
    pub has_issues: bool,
    pub archived: bool,
    pub admin: bool,
    pub push: bool,
    pub triage: bool,
    pub pull: bool,
}

impl From<RepositoryJson> for RepositoryAccess {
    fn from(json: RepositoryJson) -> RepositoryAccess {
        // Roles are cumulative; an older GitHub Enterprise Server that predates triage and
        // maintain leaves them out, so they are implied here from the higher ones.
        let p = json.permissions.unwrap_or(PermissionsJson {
            pull: true,
            ..PermissionsJson::default()
        });
        let push = p.push || p.maintain || p.admin;
        RepositoryAccess {
            full_name: json.full_name,
            has_issues: json.has_issues,
            archived: json.archived,
            admin: p.admin,
            push,
            triage: p.triage || push,
            pull: p.pull || p.triage || push,
        }
    }
}

impl RepositoryAccess {
    /// Whether issues can be filed with labels and assignees (GitHub needs triage or push for
    /// those; plain read can only open bare issues: it silently drops labels and assignees).
    pub fn can_file(&self) -> bool {
        !self.archived && self.has_issues && (self.triage || self.push || self.admin)
    }

    /// Why slawatch cannot file its issues here, in one line; None when it can.
    pub fn problem(&self) -> Option<String> {
        let repo = &self.full_name;
        if self.archived {
            Some(format!("{repo} is archived (read-only): no issue can be filed there"))
        } else if !self.has_issues {
            Some(format!("{repo} has issues disabled: GitHub answers 410 to every new issue"))
        } else if !(self.triage || self.push || self.admin) {
            Some(format!(
                "the token can only read {repo}: issues would be filed without their labels and assignees (it needs the triage or write role)"
            ))
        } else {
            None
        }
    }
}
