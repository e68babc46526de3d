//! `[escalation]` and `[[escalation.rules]]`: which tickets request engineering, and the GitHub
//! issue each rule files (repository, title and label templates, assignees).

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use serde::Deserialize;
use toml::Spanned;

use super::Checker;
use crate::escalate::template::{Placeholder, Template};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEscalation {
    api_url: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
    request_type_field: Option<u64>,
    team_field: Option<u64>,
    version_field: Option<u64>,
    link_field: Option<u64>,
    summary_marker: Option<String>,
    filed_tag: Option<String>,
    channel: Option<Spanned<String>>,
    sync_interval: Option<Spanned<String>>,
    comment_on_solve: Option<bool>,
    #[serde(default)]
    priority_labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    kind: Option<Spanned<String>>,
    tag: Option<String>,
    request_type: Option<Spanned<String>>,
    repository: Spanned<String>,
    title: Option<Spanned<String>>,
    #[serde(default)]
    labels: Vec<Spanned<String>>,
    #[serde(default)]
    assignees: Vec<String>,
}

/// What a request asks engineering for. Only help requests count towards the KPI's share of
/// tickets that needed engineering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    HelpRequest,
    Defect,
    FeatureRequest,
}

impl RequestKind {
    pub fn key(self) -> &'static str {
        match self {
            RequestKind::HelpRequest => "help_request",
            RequestKind::Defect => "defect",
            RequestKind::FeatureRequest => "feature_request",
        }
    }
}

/// A GitHub repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl std::fmt::Display for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl Repository {
    /// `owner/name` as GitHub allows them: letters, digits and `-` for an owner (at most 39);
    /// letters, digits, `.`, `_` and `-` for a name (at most 100, not `.` or `..`).
    pub fn parse(text: &str) -> Option<Repository> {
        let (owner, name) = text.split_once('/')?;
        let owner_ok =
            (1..=39).contains(&owner.len()) && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !owner.starts_with('-');
        let name_ok = (1..=100).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            && name != "."
            && name != "..";
        (owner_ok && name_ok).then(|| Repository {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationRule {
    pub name: String,
    pub kind: RequestKind,
    /// Matches a ticket with this tag...
    pub tag: Option<String>,
    /// ...or whose request-type field has this value.
    pub request_type: Option<String>,
    pub repository: Repository,
    pub title: Template,
    pub labels: Vec<Template>,
    pub assignees: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationConfig {
    /// `https://api.github.com`, or a GitHub Enterprise Server's `https://HOST/api/v3`.
    pub api_url: String,
    /// The environment variable holding the GitHub token (a secret).
    pub token_env: String,
    pub request_type_field: Option<u64>,
    pub team_field: Option<u64>,
    pub version_field: Option<u64>,
    /// A ticket field set to the URL once filed.
    pub link_field: Option<u64>,
    /// The newest internal note starting with this is the summary (else the description).
    pub summary_marker: String,
    /// The tag put on a ticket once its issue is filed.
    pub filed_tag: String,
    /// The notify channel told when an issue is filed.
    pub channel: Option<String>,
    /// How often each open linked issue is read again.
    pub sync_interval: StdDuration,
    /// Comment on the issue once when the ticket is solved.
    pub comment_on_solve: bool,
    /// Severity → priority label (`sev1` → `p1`), for `{priority}`.
    pub priority_labels: BTreeMap<String, String>,
    pub rules: Vec<EscalationRule>,
}

impl Checker<'_> {
    fn template(&mut self, raw: &Spanned<String>, key: &str, fields: &[(Placeholder, bool, &str)]) -> Option<Template> {
        let template = match Template::parse(raw.get_ref()) {
            Ok(template) => template,
            Err(problem) => {
                self.error(raw.span(), key, problem);
                return None;
            }
        };
        for placeholder in template.placeholders() {
            if let Some((_, _, needs)) = fields.iter().find(|(p, configured, _)| *p == placeholder && !configured) {
                self.error(raw.span(), key, format!("{{{}}} needs {needs}", placeholder.name()));
            }
        }
        Some(template)
    }

    pub(super) fn escalation(&mut self, raw: RawEscalation, severities: &[String], channels: &[&String]) -> EscalationConfig {
        let api_url = match &raw.api_url {
            None => "https://api.github.com".to_string(),
            Some(url) => {
                let text = url.get_ref().trim_end_matches('/');
                if !(text.starts_with("https://") || text.starts_with("http://")) {
                    self.error(
                        url.span(),
                        "escalation.api_url",
                        format!(
                            "{text:?} is not an http(s) URL such as \"https://api.github.com\" or \"https://github.example.com/api/v3\""
                        ),
                    );
                }
                text.to_string()
            }
        };
        let token_env = match &raw.token_env {
            Some(name) if !name.get_ref().trim().is_empty() => name.get_ref().trim().to_string(),
            Some(name) => {
                self.error(name.span(), "escalation.token_env", "names no environment variable");
                String::new()
            }
            None => {
                if !raw.rules.is_empty() {
                    self.error(
                        0..0,
                        "escalation.token_env",
                        "is required with rules: the environment variable holding the GitHub token",
                    );
                }
                String::new()
            }
        };
        let mut priority_labels = BTreeMap::new();
        for (severity, label) in raw.priority_labels {
            if !severities.contains(&severity) {
                self.error(
                    label.span(),
                    format!("escalation.priority_labels.{severity}"),
                    format!("{severity:?} is not one of policy.severities"),
                );
            }
            priority_labels.insert(severity, label.into_inner());
        }
        let channel = raw.channel.map(|c| {
            if !channels.contains(&c.get_ref()) {
                self.error(
                    c.span(),
                    "escalation.channel",
                    format!("{:?} is not a channel in [notify.channels]", c.get_ref()),
                );
            }
            c.into_inner()
        });
        let fields = [
            (
                Placeholder::Team,
                raw.team_field.is_some(),
                "escalation.team_field (the engineering-team ticket field)",
            ),
            (
                Placeholder::Version,
                raw.version_field.is_some(),
                "escalation.version_field (the product-version ticket field)",
            ),
            (
                Placeholder::RequestType,
                raw.request_type_field.is_some(),
                "escalation.request_type_field (the request-type ticket field)",
            ),
            (
                Placeholder::Priority,
                !priority_labels.is_empty(),
                "escalation.priority_labels (severity → label)",
            ),
        ];
        let mut rules = Vec::new();
        for (index, rule) in raw.rules.into_iter().enumerate() {
            let key = format!("escalation.rules[{index}]");
            let repository = Repository::parse(rule.repository.get_ref().trim());
            if repository.is_none() {
                self.error(
                    rule.repository.span(),
                    format!("{key}.repository"),
                    format!(
                        "{:?} is not a repository as owner/name (\"acme/support-escalations\")",
                        rule.repository.get_ref()
                    ),
                );
            }
            let kind = match rule.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
                None | Some(("help_request", _)) => Some(RequestKind::HelpRequest),
                Some(("defect", _)) => Some(RequestKind::Defect),
                Some(("feature_request", _)) => Some(RequestKind::FeatureRequest),
                Some((other, span)) => {
                    self.error(
                        span,
                        format!("{key}.kind"),
                        format!("{other:?} is not one of \"help_request\", \"defect\", \"feature_request\""),
                    );
                    None
                }
            };
            if rule.tag.is_none() && rule.request_type.is_none() {
                self.error(
                    rule.repository.span(),
                    key.clone(),
                    "matches nothing: give a tag, a request_type, or both",
                );
            }
            if let (Some(value), None) = (&rule.request_type, raw.request_type_field) {
                self.error(
                    value.span(),
                    format!("{key}.request_type"),
                    "needs escalation.request_type_field (the request-type ticket field)",
                );
            }
            let default_title = Spanned::new(0..0, "{subject} ({org}, {severity})".to_string());
            let title = self.template(rule.title.as_ref().unwrap_or(&default_title), &format!("{key}.title"), &fields);
            let labels: Vec<Option<Template>> = rule
                .labels
                .iter()
                .map(|label| self.template(label, &format!("{key}.labels"), &fields))
                .collect();
            if let (Some(repository), Some(kind), Some(title), true) = (repository, kind, title, labels.iter().all(Option::is_some)) {
                rules.push(EscalationRule {
                    name: rule.name,
                    kind,
                    tag: rule.tag,
                    request_type: rule.request_type.map(Spanned::into_inner),
                    repository,
                    title,
                    labels: labels.into_iter().flatten().collect(),
                    assignees: rule.assignees,
                });
            }
        }
        EscalationConfig {
            api_url,
            token_env,
            request_type_field: raw.request_type_field,
            team_field: raw.team_field,
            version_field: raw.version_field,
            link_field: raw.link_field,
            summary_marker: raw.summary_marker.unwrap_or_else(|| "#eng-summary".to_string()),
            filed_tag: raw.filed_tag.unwrap_or_else(|| "eng_issue_filed".to_string()),
            channel,
            sync_interval: self.std_duration(raw.sync_interval.as_ref(), "escalation.sync_interval", StdDuration::from_secs(300)),
            comment_on_solve: raw.comment_on_solve.unwrap_or(true),
            priority_labels,
            rules,
        }
    }
}
