//! Every hidden marker slawatch writes, built and parsed here and nowhere else. A marker says
//! what a text is about (an alert, a request's link, an issue's news, a request's issue) and
//! names the Zendesk account it belongs to (its host), so two daemons (two accounts, or a
//! sandbox and production) writing into one GitHub repository never take each other's texts
//! for their own.
//!
//! A marker is found by its place, not searched for as a substring: an issue's marker is the
//! first line of the issue's body, a comment's the first line of the comment, a note's a whole
//! line of the note. Customer text is quoted below that first line and made inert, so it can
//! never carry a working marker; and a marker is trusted only on what slawatch itself wrote
//! (the caller checks the author: the token's GitHub login, the API user's internal notes).
//!
//! Markers written by earlier versions, which named no account, are still recognised (issues:
//! `<!-- slawatch:zendesk-ticket=N:request=K -->`; notes: `[slawatch alert KEY]`,
//! `[slawatch escalation N:request=K]`), on the same condition of authorship.

/// The account a marker names: the Zendesk host (`acme.zendesk.com`, or `host:port`).
pub fn account_of(base_url: &str) -> String {
    let rest = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials never belong in a marker.
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    host.to_ascii_lowercase()
}

/// A value inside a marker: no spaces, no `-->` or `]` that would end it early.
fn token_ok(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "._:-/#".contains(c)) && !value.contains("--")
}

/// The marker on the first line of a request's issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueMarker {
    /// None for a marker written by a version that named no account.
    pub account: Option<String>,
    pub ticket: u64,
    pub request: u32,
}

impl IssueMarker {
    pub fn new(account: &str, ticket: u64, request: u32) -> IssueMarker {
        IssueMarker {
            account: Some(account.to_string()),
            ticket,
            request,
        }
    }

    /// The line: `<!-- slawatch:issue account=acme.zendesk.com ticket=123 request=1 -->`.
    pub fn line(&self) -> String {
        let account = self.account.as_deref().unwrap_or_default();
        format!(
            "<!-- slawatch:issue account={account} ticket={} request={} -->",
            self.ticket, self.request
        )
    }

    /// The words GitHub's issue search is asked for (a phrase of the line).
    pub fn search_phrase(&self) -> String {
        self.line().trim_start_matches("<!--").trim_end_matches("-->").trim().to_string()
    }

    /// The marker of an issue's body: its first line, exactly; None when that line is none.
    pub fn parse(body: &str) -> Option<IssueMarker> {
        let first = body.lines().next()?.trim();
        let inner = first.strip_prefix("<!--")?.strip_suffix("-->")?.trim();
        if let Some(rest) = inner.strip_prefix("slawatch:issue ") {
            let fields = fields(rest, &["account", "ticket", "request"])?;
            return Some(IssueMarker {
                account: Some(fields[0].to_string()).filter(|a| token_ok(a)),
                ticket: fields[1].parse().ok()?,
                request: fields[2].parse().ok()?,
            })
            .filter(|m| m.account.is_some());
        }
        // An earlier version's: `slawatch:zendesk-ticket=N:request=K`.
        let (ticket, request) = inner.strip_prefix("slawatch:zendesk-ticket=")?.split_once(":request=")?;
        Some(IssueMarker {
            account: None,
            ticket: digits(ticket)?,
            request: digits(request)?.try_into().ok()?,
        })
    }

    /// Whether this marker is `account`'s for `ticket`'s request `request` (an earlier version's,
    /// naming no account, is taken for the account whose token wrote it).
    pub fn is(&self, account: &str, ticket: u64, request: u32) -> bool {
        self.ticket == ticket && self.request == request && self.account.as_deref().is_none_or(|a| a == account)
    }
}

/// `key=value` pairs, exactly these keys in this order, space-separated.
fn fields<'a>(text: &'a str, keys: &[&str]) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = text.split(' ').collect();
    if parts.len() != keys.len() {
        return None;
    }
    parts
        .iter()
        .zip(keys)
        .map(|(part, key)| part.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

fn digits(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// What one of slawatch's own comments on an issue says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAbout {
    /// The customer's ticket was solved.
    TicketSolved,
}

impl CommentAbout {
    fn word(self) -> &'static str {
        match self {
            CommentAbout::TicketSolved => "ticket-solved",
        }
    }
}

/// The first line of slawatch's own comment on an issue:
/// `<!-- slawatch:comment account=H ticket=N request=K about=ticket-solved -->`.
pub fn comment_line(account: &str, ticket: u64, request: u32, about: CommentAbout) -> String {
    format!(
        "<!-- slawatch:comment account={account} ticket={ticket} request={request} about={} -->",
        about.word()
    )
}

/// Whether a comment's body is slawatch's own (any account's, any version's): its first line
/// is a comment marker. Engineering's words are what is not.
pub fn is_own_comment(body: &str) -> bool {
    let first = body.lines().next().unwrap_or_default().trim();
    first
        .strip_prefix("<!--")
        .and_then(|s| s.strip_suffix("-->"))
        .is_some_and(|inner| inner.trim().starts_with("slawatch:comment"))
        // An earlier version put `<!-- slawatch:comment -->` on the last line.
        || body.lines().any(|l| l.trim() == "<!-- slawatch:comment -->")
}

/// Whether `body` is the comment `comment_line` builds for these.
pub fn is_comment(body: &str, account: &str, ticket: u64, request: u32, about: CommentAbout) -> bool {
    body.lines().next().map(str::trim) == Some(comment_line(account, ticket, request, about).as_str())
}

/// What an internal note on a ticket is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteAbout {
    /// An alert, by its key (`sla::alerting::AlertId::key`).
    Alert(String),
    /// The link to a request's issue.
    Link { ticket: u64, request: u32 },
    /// News of an issue, by a key that never changes (`comment 123`, `closed 1`).
    News { repository: String, issue: u64, key: String },
}

impl NoteAbout {
    fn subject(&self) -> String {
        match self {
            NoteAbout::Alert(key) => format!("alert {key}"),
            NoteAbout::Link { ticket, request } => format!("escalation {ticket}:request={request}"),
            NoteAbout::News { repository, issue, key } => format!("github {repository}#{issue} {key}"),
        }
    }
}

/// The note's marker line: `[slawatch acme.zendesk.com alert 123:first_response:breach]`.
pub fn note_line(account: &str, about: &NoteAbout) -> String {
    format!("[slawatch {account} {}]", about.subject())
}

/// Whether a line of a note is a marker (of any account, any version): what a person reading
/// the note need not see.
pub fn is_note_marker_line(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("[slawatch ") && line.ends_with(']')
}

/// Whether a note's body carries the marker of `about` for `account` (or an earlier version's,
/// which named no account) as its last line, where slawatch writes it: a marker quoted in the
/// note's body (a GitHub comment relayed, say) is never taken for the note's own.
pub fn note_carries(body: &str, account: &str, about: &NoteAbout) -> bool {
    let Some(last) = body.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return false;
    };
    let legacy = match about {
        // An earlier version keyed a comment's note by the comment's id too (a close's and a
        // reopen's by the issue's `updated_at`, which no key of today can match).
        NoteAbout::News { repository, issue, key } if key.starts_with("comment ") => {
            Some(format!("[slawatch github {repository}#{issue} {key}]"))
        }
        NoteAbout::News { .. } => None,
        other => Some(format!("[slawatch {}]", other.subject())),
    };
    last == note_line(account, about) || legacy.as_deref() == Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_the_zendesk_host() {
        assert_eq!(account_of("https://acme.zendesk.com"), "acme.zendesk.com");
        assert_eq!(account_of("https://Acme.Zendesk.com/"), "acme.zendesk.com");
        assert_eq!(account_of("http://127.0.0.1:8080/api"), "127.0.0.1:8080");
        assert_eq!(account_of("https://user:pw@acme.zendesk.com"), "acme.zendesk.com");
    }

    #[test]
    fn an_issue_marker_is_its_bodys_first_line_and_names_the_account() {
        let marker = IssueMarker::new("acme.zendesk.com", 123, 2);
        let body = format!("{}\n\n**Zendesk ticket**", marker.line());
        assert_eq!(IssueMarker::parse(&body), Some(marker.clone()));
        assert!(marker.is("acme.zendesk.com", 123, 2));
        assert!(!marker.is("acme-sandbox.zendesk.com", 123, 2), "another account's");
        assert!(!marker.is("acme.zendesk.com", 123, 1));
        assert!(!marker.is("acme.zendesk.com", 12, 2));
    }

    #[test]
    fn a_marker_anywhere_but_the_first_line_is_none() {
        let line = IssueMarker::new("acme.zendesk.com", 5, 1).line();
        for body in [
            format!("hello\n{line}"),
            format!("> {line}"),
            format!("text {line}"),
            format!("`{line}`"),
            String::new(),
        ] {
            assert_eq!(IssueMarker::parse(&body), None, "{body:?}");
        }
    }

    #[test]
    fn a_near_miss_is_no_marker() {
        for first in [
            "<!-- slawatch:issue account=acme.zendesk.com ticket=5 -->",
            "<!-- slawatch:issue account=acme.zendesk.com ticket=5 request=1 extra=2 -->",
            "<!-- slawatch:issue ticket=5 account=acme.zendesk.com request=1 -->",
            "<!-- slawatch:issue account= ticket=5 request=1 -->",
            "<!-- slawatch:issue account=a b ticket=5 request=1 -->",
            "<!-- slawatch:issue account=acme.zendesk.com ticket=-5 request=1 -->",
            "<!-- slawatch:zendesk-ticket=5:request=1x -->",
            "<!-- slawatch:zendesk-ticket=+5:request=1 -->",
            "slawatch:zendesk-ticket=5:request=1",
        ] {
            assert_eq!(IssueMarker::parse(first), None, "{first}");
        }
    }

    #[test]
    fn an_earlier_versions_issue_marker_is_recognised_for_any_account() {
        let parsed = IssueMarker::parse("<!-- slawatch:zendesk-ticket=42:request=3 -->\n\nbody").unwrap();
        assert_eq!(parsed.account, None);
        assert!(parsed.is("acme.zendesk.com", 42, 3));
        assert!(!parsed.is("acme.zendesk.com", 42, 1));
    }

    #[test]
    fn a_note_marker_is_a_whole_line_naming_the_account() {
        let about = NoteAbout::Link { ticket: 7, request: 1 };
        let note = format!("slawatch: issue filed\n\n{}", note_line("acme.zendesk.com", &about));
        assert!(note_carries(&note, "acme.zendesk.com", &about));
        assert!(!note_carries(&note, "other.zendesk.com", &about));
        assert!(!note_carries(&note, "acme.zendesk.com", &NoteAbout::Link { ticket: 7, request: 2 }));
        assert!(
            !note_carries(
                &format!("see {}", note_line("acme.zendesk.com", &about)),
                "acme.zendesk.com",
                &about
            ),
            "inside a sentence"
        );
        assert!(
            !note_carries(
                &format!(
                    "> {}\n> quoted\n\n[slawatch acme.zendesk.com alert x]",
                    note_line("acme.zendesk.com", &about)
                ),
                "acme.zendesk.com",
                &about
            ),
            "quoted in the body, not the note's last line"
        );
        let comment = NoteAbout::News {
            repository: "acme/eng".into(),
            issue: 9,
            key: "comment 55".into(),
        };
        assert!(
            note_carries("x\n[slawatch github acme/eng#9 comment 55]", "acme.zendesk.com", &comment),
            "an earlier version's"
        );
        assert!(
            note_carries("old note\n[slawatch escalation 7:request=1]", "acme.zendesk.com", &about),
            "an earlier version's"
        );
        let alert = NoteAbout::Alert("7:first_response:breach".into());
        assert!(note_carries(
            "x\n[slawatch alert 7:first_response:breach]",
            "acme.zendesk.com",
            &alert
        ));
    }

    #[test]
    fn news_keys_never_hold_what_changes() {
        let about = NoteAbout::News {
            repository: "acme/eng".into(),
            issue: 9,
            key: "closed 1".into(),
        };
        assert_eq!(
            note_line("acme.zendesk.com", &about),
            "[slawatch acme.zendesk.com github acme/eng#9 closed 1]"
        );
    }

    #[test]
    fn own_comments_are_known_by_their_first_line() {
        let line = comment_line("acme.zendesk.com", 7, 1, CommentAbout::TicketSolved);
        let body = format!("{line}\nThe customer's ticket was solved.");
        assert!(is_own_comment(&body));
        assert!(is_comment(&body, "acme.zendesk.com", 7, 1, CommentAbout::TicketSolved));
        assert!(!is_comment(&body, "other.zendesk.com", 7, 1, CommentAbout::TicketSolved));
        assert!(!is_own_comment(&format!("quoting: {line}")));
        assert!(
            is_own_comment("The ticket was solved.\n\n<!-- slawatch:comment -->"),
            "an earlier version's"
        );
        assert!(!is_own_comment("Fixed in 4.2.1"));
    }
}
