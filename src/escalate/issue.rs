//! The GitHub issue a request for engineering files: which rule a ticket matches, and the
//! title, labels and body engineering reads. Pure: the ticket's facts come in, the draft goes
//! out; filing it (once, ever) is the outbox's job.

use super::inert;
use super::redact::redact;
use super::template::Placeholder;
use crate::config::{EscalationConfig, EscalationRule, Repository};
use crate::marker::IssueMarker;

/// GitHub refuses an issue body longer than this many characters.
pub const MAX_BODY_CHARS: usize = 65_536;

/// What a ticket says when its issue is filed, read live from Zendesk (the store keeps no text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The Zendesk account (its host), named in the issue's marker.
    pub account: String,
    pub ticket_id: u64,
    pub ticket_url: String,
    pub subject: String,
    /// The organization's name.
    pub org: Option<String>,
    pub tier: String,
    pub severity: String,
    pub version: Option<String>,
    pub request_type: Option<String>,
    pub team: Option<String>,
    /// The SLA clocks now, in words (`first response met; resolution: 51 business hours left, due …`).
    pub sla: String,
    /// The newest internal note starting with the summary marker, the marker taken off.
    pub summary: Option<String>,
    /// The ticket's first comment.
    pub description: String,
    /// The customer's public comments, oldest first.
    pub customer_words: Vec<String>,
    /// This ticket's request number: 1, then 2 for a request after the first issue closed.
    pub number: u32,
    /// The issue an earlier request filed, mentioned by a later one.
    pub previous_issue: Option<String>,
}

/// An issue ready to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueDraft {
    pub repository: Repository,
    /// The ticket's URL: where the body sends engineering for what it cannot hold.
    pub ticket_url: String,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
}

impl IssueDraft {
    /// Leaves out an assignee or label GitHub refused (`field` as GitHub's 422 names it), saying
    /// so at the top of the body (under the marker); what was left out, in words, or None when
    /// nothing by that name is in the draft.
    pub fn leave_out(&mut self, field: &str, value: &str) -> Option<String> {
        let (list, what) = match field {
            "assignees" | "assignee" => (&mut self.assignees, "assignee"),
            "labels" | "label" => (&mut self.labels, "label"),
            _ => return None,
        };
        let before = list.len();
        // GitHub may not say which value: then every one of that field goes.
        list.retain(|v| !value.is_empty() && !v.eq_ignore_ascii_case(value));
        if list.len() == before {
            return None;
        }
        let named = if value.is_empty() {
            format!("{what}s")
        } else {
            format!("{what} {}", inert::inline(value))
        };
        let said = format!("{what} {value:?}");
        let (marker, rest) = self.body.split_once('\n').unwrap_or((self.body.as_str(), ""));
        let body = format!("{marker}\n\n_Filed without the {named}: GitHub refused it as invalid._\n{rest}");
        let url = self.ticket_url.clone();
        self.body = capped(body, &url);
        Some(said)
    }
}

/// The first rule (in order) that a ticket with `tags` and `request_type` matches.
/// Whether a ticket with these tags and request type asks engineering for help: any rule of
/// the help-request kind matches it (whichever rule files its issue).
pub fn requests_help(config: &crate::config::EscalationConfig, tags: &[String], fields: &std::collections::BTreeMap<u64, String>) -> bool {
    let request_type = config.request_type_field.and_then(|f| fields.get(&f)).map(String::as_str);
    config
        .rules
        .iter()
        .filter(|rule| rule.kind == crate::config::RequestKind::HelpRequest)
        .any(|rule| matching_rule(std::slice::from_ref(rule), tags, request_type).is_some())
}

pub fn matching_rule<'a>(rules: &'a [EscalationRule], tags: &[String], request_type: Option<&str>) -> Option<&'a EscalationRule> {
    rules.iter().find(|rule| {
        rule.tag.as_ref().is_some_and(|tag| tags.contains(tag))
            || rule.request_type.as_deref().is_some_and(|wanted| request_type == Some(wanted))
    })
}

fn value(request: &Request, config: &EscalationConfig, placeholder: Placeholder) -> Option<String> {
    let text = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    match placeholder {
        Placeholder::Subject => text(&request.subject),
        Placeholder::Org => request.org.as_deref().and_then(text),
        Placeholder::Tier => text(&request.tier),
        Placeholder::Severity => text(&request.severity),
        Placeholder::Priority => config.priority_labels.get(&request.severity).cloned(),
        Placeholder::Team => request.team.as_deref().and_then(text),
        Placeholder::Version => request.version.as_deref().and_then(text),
        Placeholder::RequestType => request.request_type.as_deref().and_then(text),
        Placeholder::Ticket => Some(request.ticket_id.to_string()),
    }
}

/// Cuts `body` to GitHub's limit, saying so and pointing at the ticket for the rest. The marker
/// is at the top, so it always survives.
fn capped(body: String, ticket_url: &str) -> String {
    if body.chars().count() <= MAX_BODY_CHARS {
        return body;
    }
    let tail = format!("\n\n… cut at GitHub's size limit: the rest is on the ticket, {ticket_url}\n");
    let keep = MAX_BODY_CHARS - tail.chars().count();
    let mut out: String = body.chars().take(keep).collect();
    out.push_str(&tail);
    out
}

/// The issue `rule` files for `request`. Contact details are redacted from every text that
/// came from the ticket, which is then made inert (`inert`): it pings no one, references no
/// issue and renders as the text it is; attachments are never copied.
pub fn draft(rule: &EscalationRule, config: &EscalationConfig, request: &Request) -> IssueDraft {
    let fill = |p: Placeholder| value(request, config, p).map(|v| redact(&v));
    // A title must say something even when a value is missing; a label without its value is
    // left out. Both are made inert whole: `#{ticket}` in a template would reference an issue.
    let title = rule
        .title
        .render(|p| fill(p).or_else(|| Some(format!("no {}", p.name().replace('_', " ")))))
        .unwrap_or_default();
    let title = inert::title(&title);
    let mut labels: Vec<String> = Vec::new();
    for label in rule
        .labels
        .iter()
        .filter_map(|label| label.render(fill))
        .filter_map(|l| inert::label(&l))
    {
        // GitHub's label names are case-insensitive: `Acme` and `acme` are one label.
        if !labels.iter().any(|l| l.to_lowercase() == label.to_lowercase()) {
            labels.push(label);
        }
    }

    let row = |name: &str, value: Option<&str>| format!("| {name} | {} |\n", value.map_or("—".to_string(), |v| inert::inline(&redact(v))));
    let marker = IssueMarker::new(&request.account, request.ticket_id, request.number);
    let mut body = format!("{}\n\n", marker.line());
    body.push_str(&format!(
        "**Zendesk ticket [#{}]({})**: {}\n\n",
        request.ticket_id,
        request.ticket_url,
        inert::inline(&redact(&request.subject))
    ));
    body.push_str("| | |\n|---|---|\n");
    body.push_str(&row("Customer", request.org.as_deref()));
    body.push_str(&row("Tier", Some(&request.tier)));
    body.push_str(&row("Severity", Some(&request.severity)));
    body.push_str(&row("Product version", request.version.as_deref()));
    body.push_str(&row("Request type", request.request_type.as_deref()));
    body.push_str(&row("SLA now", Some(&request.sla)));
    if let Some(previous) = &request.previous_issue {
        body.push_str(&format!(
            "\nRequest {} for this ticket; the earlier one was {previous}.\n",
            request.number
        ));
    }
    match &request.summary {
        Some(summary) => body.push_str(&format!(
            "\n### Summary (from support)\n\n{}\n",
            inert::block(&redact(summary.trim()))
        )),
        None => body.push_str(&format!(
            "\n### Description\n\n{}\n",
            inert::quote(&redact(request.description.trim()))
        )),
    }
    if !request.customer_words.is_empty() {
        body.push_str("\n### The customer's words\n");
        for words in &request.customer_words {
            body.push_str(&format!("\n{}\n", inert::quote(&redact(words.trim()))));
        }
    }
    body.push_str(&format!(
        "\n---\nFiled by slawatch for support. Attachments are not copied: see the ticket, {}\n",
        request.ticket_url
    ));
    IssueDraft {
        repository: rule.repository.clone(),
        ticket_url: request.ticket_url.clone(),
        title: title.chars().take(256).collect(),
        body: capped(body, &request.ticket_url),
        labels,
        assignees: rule.assignees.clone(),
    }
}
