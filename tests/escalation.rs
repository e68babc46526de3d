//! Which tickets request engineering and the issue each request files: rules, title, labels,
//! body, redaction and GitHub's size limit.

use slawatch::config::Config;
use slawatch::escalate::issue::{draft, matching_rule, Request, MAX_BODY_CHARS};
use slawatch::marker::IssueMarker;

const RULES: &str = r#"
[escalation]
token_env = "GITHUB_TOKEN"
request_type_field = 360000000001
team_field = 360000000002
version_field = 360000000003
priority_labels = { sev1 = "p1", sev2 = "p2" }

[[escalation.rules]]
name = "help"
tag = "rfh"
request_type = "help_request"
repository = "acme/support-escalations"
labels = ["rfh", "customer/{org}", "team/{team}", "{priority}"]
assignees = ["oncall-eng"]

[[escalation.rules]]
name = "defects"
kind = "defect"
request_type = "defect"
repository = "acme/product"
title = "[{severity}] {subject} (v{version})"
labels = ["bug"]
"#;

fn config() -> Config {
    Config::parse("test.toml", RULES).unwrap_or_else(|e| panic!("{e}"))
}

fn marker(ticket: u64, request: u32) -> String {
    IssueMarker::new("acme.zendesk.com", ticket, request).line()
}

fn request() -> Request {
    Request {
        account: "acme.zendesk.com".into(),
        ticket_id: 4242,
        ticket_url: "https://acme.zendesk.com/agent/tickets/4242".into(),
        subject: "Connector crashes on start; call Jane at +1 415 555 0100".into(),
        org: Some("Globex".into()),
        tier: "managed".into(),
        severity: "sev1".into(),
        version: Some("4.2.0".into()),
        request_type: Some("help_request".into()),
        team: Some("connectors".into()),
        sla: "first response met; resolution: 51 business hours left, due Thu 10 Dec 12:59 PST".into(),
        summary: Some("Crash in the JDBC connector at start since 4.2.0; logs attached to the ticket.\nCustomer contact: jane.doe@globex.example, (415) 555-0100.".into()),
        description: "It crashes.".into(),
        customer_words: vec![
            "Since this morning the connector crashes on start.\nOur London office (+44 20 7946 0958) sees it too.".into(),
            "Any news? Reach me on 020 7946 0958.".into(),
        ],
        number: 1,
        previous_issue: None,
    }
}

#[test]
fn the_first_matching_rule_files_by_tag_or_request_type() {
    let config = config();
    let rules = &config.escalation.as_ref().unwrap().rules;
    let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(matching_rule(rules, &tags(&["rfh", "vip"]), None).unwrap().name, "help");
    assert_eq!(matching_rule(rules, &tags(&[]), Some("help_request")).unwrap().name, "help");
    assert_eq!(matching_rule(rules, &tags(&[]), Some("defect")).unwrap().name, "defects");
    assert!(matching_rule(rules, &tags(&["vip"]), Some("question")).is_none());
}

#[test]
fn the_issue_has_the_context_engineering_needs_and_no_contact_details() {
    let config = config();
    let escalation = config.escalation.as_ref().unwrap();
    let issue = draft(&escalation.rules[0], escalation, &request());
    assert_eq!(issue.repository.to_string(), "acme/support-escalations");
    assert_eq!(
        issue.title,
        "Connector crashes on start; call Jane at [phone redacted] (Globex, sev1)"
    );
    assert_eq!(issue.labels, vec!["rfh", "customer/Globex", "team/connectors", "p1"]);
    assert_eq!(issue.assignees, vec!["oncall-eng"]);
    assert!(issue.body.starts_with(&marker(4242, 1)));
    assert_eq!(
        marker(4242, 1),
        "<!-- slawatch:issue account=acme.zendesk.com ticket=4242 request=1 -->"
    );
    assert_eq!(IssueMarker::parse(&issue.body), Some(IssueMarker::new("acme.zendesk.com", 4242, 1)));
    for leaked in ["415 555", "555-0100", "7946", "jane.doe@", "globex.example"] {
        assert!(!issue.body.contains(leaked), "{leaked} in:\n{}", issue.body);
    }
    insta::assert_snapshot!("issue_help_request", issue.body);
}

#[test]
fn a_missing_value_leaves_its_label_out_and_the_title_says_so() {
    let config = config();
    let escalation = config.escalation.as_ref().unwrap();
    let mut request = request();
    request.team = None;
    request.version = None;
    let help = draft(&escalation.rules[0], escalation, &request);
    assert_eq!(help.labels, vec!["rfh", "customer/Globex", "p1"]);
    let defect = draft(&escalation.rules[1], escalation, &request);
    assert_eq!(
        defect.title,
        "[sev1] Connector crashes on start; call Jane at [phone redacted] (vno version)"
    );
    // No summary note: the description, quoted.
    request.summary = None;
    let described = draft(&escalation.rules[0], escalation, &request);
    assert!(described.body.contains("### Description\n\n> It crashes.\n"), "{}", described.body);
}

#[test]
fn a_second_request_mentions_the_first_issue() {
    let config = config();
    let escalation = config.escalation.as_ref().unwrap();
    let mut request = request();
    request.number = 2;
    request.previous_issue = Some("https://github.com/acme/support-escalations/issues/17".into());
    let issue = draft(&escalation.rules[0], escalation, &request);
    assert!(issue.body.starts_with(&marker(4242, 2)));
    assert!(issue
        .body
        .contains("Request 2 for this ticket; the earlier one was https://github.com/acme/support-escalations/issues/17."));
}

#[test]
fn a_body_over_githubs_limit_is_cut_with_a_link_to_the_ticket() {
    let config = config();
    let escalation = config.escalation.as_ref().unwrap();
    let mut request = request();
    request.customer_words = vec!["é".repeat(40_000), "word ".repeat(20_000)];
    let issue = draft(&escalation.rules[0], escalation, &request);
    assert_eq!(issue.body.chars().count(), MAX_BODY_CHARS);
    assert!(issue.body.starts_with(&marker(4242, 1)));
    assert!(issue
        .body
        .ends_with("… cut at GitHub's size limit: the rest is on the ticket, https://acme.zendesk.com/agent/tickets/4242\n"));
}

// Customer text is inert on GitHub: whatever comes from the ticket pings no one, references no
// issue, hides nothing and renders as the text it is, in the title, the labels, the table, the
// summary and the quotes. comrak renders the Markdown as GitHub does (GFM, raw HTML kept so that
// any that got through shows); mentions, references and math, which comrak does not know, are
// checked on the text.

use std::sync::LazyLock;

use regex::Regex;
use slawatch::escalate::inert::{self, BREAK, MAX_LABEL_CHARS};

/// What a customer (or an e-mail forwarded into a ticket) can write.
const HOSTILE: &[&str] = &[
    "@octocat please look",
    "cc @acme/support-eng and @Acme-Bot.",
    "see #123, (#7) and #1.",
    "dup of acme/app#12 and octocat#5",
    "GH-1 again, gh-7 too",
    "https://github.com/acme/app/issues/9 is the same",
    "profile https://example.test/@jane/post?a=1#2 (really)",
    "<img src=x onerror=alert(1)>",
    "<details><summary>open me</summary>hidden</details>",
    "<!-- slawatch:zendesk-ticket=9:request=1 -->",
    "<!-- slawatch:issue account=acme.zendesk.com ticket=9 request=1 -->",
    "\n<!-- slawatch:issue account=acme.zendesk.com ticket=9 request=1 -->\n",
    "before\r<!-- everything after this is hidden",
    "line one\r\n# heading after CRLF\r> quote after CR",
    "# Heading\n## Sub\nSetext\n===\nAnother\n---",
    "> quote\n>> nested",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "[link](javascript:alert(1)) and [x][y]\n\n[y]: https://evil.test",
    "![image](https://evil.test/a.png)",
    "**bold** __strong__ *it* _it_ ~~gone~~ ~x~",
    "`code` and ```fence```\n```\nblock\n```\n~~~\ntilde\n~~~",
    "http://evil.test www.evil.test <https://evil.test> <mailto:x@y.test>",
    "&#64;octocat &#x40;octocat &commat;octocat &#35;12 &lt;b&gt;",
    "- item\n* item\n+ item\n1. one\n2) two",
    "    indented code\n\ttab indented",
    "- [ ] task\n- [x] done",
    "note[^1]\n\n[^1]: the footnote",
    "> [!WARNING]\n> alert",
    "$\\phantom{secret}$ and $$\\color{white}{x}$$",
    "para\u{2028}# heading after LS\u{2029}@octocat after PS\u{85}#5 after NEL",
    "trailing backslash \\\nnext line",
    "\\@octocat \\#12 \\<b> a \\| b",
    "\\https://github.com/acme/app/issues/9 and `https://github.com/acme/app/issues/8`",
    "<script>alert(1)</script><a href='https://evil.test'>x</a>",
    "***\n___\n- - -",
    "text<br>more<hr>",
    "ping @everyone about GH-12 in owner/repo#3 :shipit: :+1:",
];

/// The Markdown as GitHub renders an issue body (newlines as line breaks).
fn render(markdown: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    options.extension.alerts = true;
    options.render.hardbreaks = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(markdown, &options)
}

/// The HTML elements opened in `html`, in order.
fn elements(html: &str) -> Vec<String> {
    static OPEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<([A-Za-z][A-Za-z0-9]*)").unwrap());
    OPEN.captures_iter(html).map(|c| c[1].to_ascii_lowercase()).collect()
}

fn count(elements: &[String], name: &str) -> usize {
    elements.iter().filter(|e| *e == name).count()
}

/// What a reader sees: the tags taken out, the entities decoded.
fn visible(html: &str) -> String {
    static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<[^>]*>").unwrap());
    TAG.replace_all(html, "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Mentions and references GitHub would act on in `text` (not broken by a zero-width space).
fn live_references(text: &str) -> Vec<String> {
    static LIVE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)@[a-z0-9]|#[0-9]|gh-[0-9]").unwrap());
    LIVE.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

/// Text as read: zero-width and no-break spaces as they show, whitespace runs as one space.
fn words(text: &str) -> String {
    text.replace(BREAK, "")
        .replace('\u{A0}', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn customer_text_renders_as_text_in_a_table_cell_a_quote_and_a_paragraph() {
    for &text in HOSTILE {
        let cell = inert::inline(text);
        assert!(!cell.contains('\n') && !cell.contains('\r'), "{text:?}: {cell:?}");
        let html = render(&format!("| | |\n|---|---|\n| value | {cell} |\n"));
        let found = elements(&html);
        for element in &found {
            assert!(
                ["table", "thead", "tbody", "tr", "th", "td", "code", "span"].contains(&element.as_str()),
                "<{element}> from {text:?}:\n{cell}\n{html}"
            );
        }
        assert_eq!(
            (count(&found, "tr"), count(&found, "td")),
            (2, 2),
            "one row, two cells: {text:?}\n{html}"
        );
        let value = html.rsplit("<td>").next().unwrap().split("</td>").next().unwrap();
        assert_eq!(words(&visible(value)), words(text), "the cell shows the text: {text:?}\n{cell}");
        assert_eq!(live_references(&visible(value)), Vec::<String>::new(), "{text:?}: {cell}");

        let quoted = inert::quote(text);
        let html = render(&format!("{quoted}\n\nafter\n"));
        let found = elements(&html);
        for element in &found {
            assert!(
                ["blockquote", "p", "br", "code", "span"].contains(&element.as_str()),
                "<{element}> from {text:?}:\n{quoted}\n{html}"
            );
        }
        assert_eq!(count(&found, "blockquote"), 1, "{text:?}\n{html}");
        assert!(
            html.starts_with("<blockquote>") && html.ends_with("</blockquote>\n<p>after</p>\n"),
            "the quote holds it all: {text:?}\n{quoted}\n{html}"
        );
        assert_eq!(words(&visible(&html)), words(&format!("{text} after")), "{text:?}\n{quoted}");
        assert_eq!(live_references(&visible(&html)), Vec::<String>::new(), "{text:?}: {quoted}");

        let block = inert::block(text);
        let html = render(&format!("### Summary\n\n{block}\n\n---\nfiled by slawatch\n"));
        let found = elements(&html);
        for element in &found[1..found.len() - 2] {
            assert!(
                ["p", "br", "code", "span"].contains(&element.as_str()),
                "<{element}> from {text:?}:\n{block}\n{html}"
            );
        }
        assert!(
            html.starts_with("<h3>Summary</h3>") && html.ends_with("<hr />\n<p>filed by slawatch</p>\n"),
            "{text:?}\n{html}"
        );
        assert_eq!(live_references(&visible(&html)), Vec::<String>::new(), "{text:?}: {block}");

        for html in [render(&cell), render(&quoted), render(&block)] {
            assert!(!html.contains("<!--"), "no HTML comment: {text:?}\n{html}");
            // Math needs two dollars in a paragraph; each is in its own element.
            assert!(
                visible(&html.replace("<span>$</span>", "")).matches('$').count() < 2,
                "{text:?}\n{html}"
            );
        }
    }
}

#[test]
fn customer_text_in_a_title_or_label_mentions_and_references_nothing() {
    for &text in HOSTILE {
        let title = inert::title(text);
        assert!(!title.chars().any(char::is_control), "one line: {title:?}");
        assert_eq!(words(&title), words(text), "the title reads as the text: {text:?}");
        assert_eq!(live_references(&title), Vec::<String>::new(), "{text:?}: {title}");

        let Some(label) = inert::label(&format!("customer/{text}")) else {
            panic!("a label for {text:?}")
        };
        assert!(!label.contains(',') && !label.chars().any(char::is_control), "{label:?}");
        assert!(label.chars().count() <= MAX_LABEL_CHARS && label.trim() == label, "{label:?}");
    }
}

fn hostile_request(text: &str) -> Request {
    Request {
        subject: text.into(),
        org: Some(text.into()),
        tier: text.into(),
        severity: text.into(),
        version: Some(text.into()),
        request_type: Some(text.into()),
        team: Some(text.into()),
        summary: Some(text.into()),
        description: text.into(),
        customer_words: vec![text.into()],
        ..request()
    }
}

/// The body's own parts: the marker, the ticket's link, the three headings, the rule.
fn assert_only_the_bodys_own_structure(text: &str, body: &str, headings: usize) {
    assert!(body.starts_with(&format!("{}\n", marker(4242, 1))), "{body}");
    assert_eq!(
        IssueMarker::parse(body).map(|m| m.ticket),
        Some(4242),
        "the marker is the body's first line"
    );
    assert_eq!(
        body.matches("<!--").count(),
        1,
        "the marker is the only HTML comment: {text:?}\n{body}"
    );
    assert!(!body.contains(&marker(9, 1)), "no forged marker: {body}");
    assert!(!body.contains("<!-- slawatch:zendesk-ticket=9"), "no forged marker: {body}");
    let html = render(body);
    let found = elements(&html);
    for element in &found {
        assert!(
            [
                "p",
                "strong",
                "a",
                "table",
                "thead",
                "tbody",
                "tr",
                "th",
                "td",
                "h3",
                "blockquote",
                "hr",
                "code",
                "span",
                "br"
            ]
            .contains(&element.as_str()),
            "<{element}> from {text:?}:\n{body}\n{html}"
        );
    }
    // The ticket's link, and its URL autolinked in the last line: slawatch's own.
    let links = Regex::new(r#"<a href="([^"]*)">[^<]*</a>"#).unwrap();
    let hrefs: Vec<&str> = links.captures_iter(&html).map(|c| c.get(1).unwrap().as_str()).collect();
    assert_eq!(hrefs, vec!["https://acme.zendesk.com/agent/tickets/4242"; 2], "{text:?}\n{html}");
    assert_eq!(count(&found, "a"), 2, "{text:?}\n{html}");
    assert_eq!(count(&found, "h3"), headings, "{text:?}\n{html}");
    assert_eq!(count(&found, "hr"), 1, "{text:?}\n{html}");
    assert_eq!(count(&found, "tr"), 7, "the table's seven rows: {text:?}\n{html}");
    assert!(html.ends_with("Attachments are not copied: see the ticket, <a href=\"https://acme.zendesk.com/agent/tickets/4242\">https://acme.zendesk.com/agent/tickets/4242</a></p>\n"), "{html}");
    assert_eq!(
        live_references(&visible(&links.replace_all(&html, ""))),
        Vec::<String>::new(),
        "{text:?}\n{body}"
    );
}

#[test]
fn a_hostile_ticket_files_an_issue_that_pings_references_and_hides_nothing() {
    let config = config();
    let escalation = config.escalation.as_ref().unwrap();
    for &text in HOSTILE {
        let mut request = hostile_request(text);
        for rule in &escalation.rules {
            let issue = draft(rule, escalation, &request);
            assert!(!issue.title.chars().any(char::is_control), "{:?}", issue.title);
            assert_eq!(live_references(&issue.title), Vec::<String>::new(), "{text:?}: {}", issue.title);
            for label in &issue.labels {
                assert!(!label.contains(',') && label.chars().count() <= MAX_LABEL_CHARS, "{label:?}");
                assert!(!label.chars().any(char::is_control), "{label:?}");
            }
            // Summary, the customer's words.
            assert_only_the_bodys_own_structure(text, &issue.body, 2);
        }
        request.summary = None;
        let issue = draft(&escalation.rules[0], escalation, &request);
        // Description, the customer's words.
        assert_only_the_bodys_own_structure(text, &issue.body, 2);
    }
}

#[test]
fn a_hostile_ticket_reads_well_on_github() {
    let config = config();
    let escalation = config.escalation.as_ref().unwrap();
    let request = Request {
        subject: "URGENT @acme/oncall: #12 broke again <img src=x onerror=alert(1)>".into(),
        org: Some("Globex, Inc. <b>".into()),
        version: Some("4.2.0 | 4.2.1".into()),
        team: Some("@acme/connectors".into()),
        summary: None,
        description: concat!(
            "Hi @jane,\r\n",
            "same as https://github.com/acme/app/issues/9 and acme/app#12.\r",
            "<!-- everything below is hidden\n",
            "# Not a heading\n",
            "    at com.acme.Connector.start(Connector.java:42)\n",
            "| a | b |\n|---|---|\n",
            "<details><summary>x</summary>y</details>",
        )
        .into(),
        customer_words: vec!["> quoted reply\n**bold** [click](javascript:alert(1)) <!-- slawatch:zendesk-ticket=9:request=1 -->".into()],
        ..request()
    };
    let issue = draft(&escalation.rules[0], escalation, &request);
    assert_eq!(
        issue.title,
        "URGENT @\u{200B}acme/oncall: #\u{200B}12 broke again <img src=x onerror=alert(1)> (Globex, Inc. <b>, sev1)"
    );
    assert_eq!(issue.labels, vec!["rfh", "customer/Globex Inc. <b>", "team/@acme/connectors", "p1"]);
    // Zero-width and no-break spaces shown, for the snapshot to be read.
    insta::assert_snapshot!(
        "issue_hostile_ticket",
        issue.body.replace(BREAK, "\\u{200B}").replace('\u{A0}', "\\u{A0}")
    );
    assert_only_the_bodys_own_structure("a hostile ticket", &issue.body, 2);
}

/// Checks `markdown` (one of inert's outputs wrapped as the body wraps it) for anything but text.
fn assert_renders_as_text(text: &str, markdown: &str, html: &str, allowed: &[&str]) {
    for element in elements(html) {
        assert!(
            allowed.contains(&element.as_str()),
            "<{element}> from {text:?}:\n{markdown}\n{html}"
        );
    }
    assert!(!html.contains("<!--"), "{text:?}:\n{markdown}\n{html}");
    assert_eq!(
        live_references(&visible(html)),
        Vec::<String>::new(),
        "{text:?}:\n{markdown}\n{html}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// Any mix of the characters that mean something to GitHub renders as the text it is.
    #[test]
    fn any_text_renders_as_text(text in "([@#GHh\\-_*`~\\[\\]()!<>&;|$\\\\/:.=+^'\"{}%?, \\t\\r\\n19aw\u{a0}\u{85}\u{2028}]|https?://|www\\.|&#64;|&lt;|<!--|-->|\r\n){0,40}") {
        let cell = inert::inline(&text);
        let html = render(&format!("| | |\n|---|---|\n| value | {cell} |\n"));
        assert_renders_as_text(&text, &cell, &html, &["table", "thead", "tbody", "tr", "th", "td", "code", "span"]);
        assert_eq!(count(&elements(&html), "td"), 2, "{:?}\n{}", text, html);
        let value = html.rsplit("<td>").next().unwrap().split("</td>").next().unwrap();
        assert_eq!(words(&visible(value)), words(&text));

        let quoted = inert::quote(&text);
        let html = render(&format!("{quoted}\n\nafter\n"));
        assert_renders_as_text(&text, &quoted, &html, &["blockquote", "p", "br", "code", "span"]);
        assert!(html.ends_with("<p>after</p>\n"), "{:?}\n{}\n{}", text, quoted, html);
        assert_eq!(words(&visible(&html)), words(&format!("{text} after")), "{:?}\n{}", text, quoted);

        let title = inert::title(&text);
        assert_eq!(live_references(&title), Vec::<String>::new());
        assert_eq!(words(&title), words(&text));
    }
}

/// Redaction covers every text the issue takes from the ticket: the title and labels as well as
/// the body (the formats themselves are tabled in src/escalate/redact.rs).
#[test]
fn contact_details_are_redacted_from_the_title_and_labels_too() {
    let config = config();
    let escalation = config.escalation.as_ref().unwrap();
    let found_kept = [
        "4155550100",
        "(415)5550100",
        "01 42 68 53 00",
        "06 12 34 56 78",
        "07911123456",
        "030/1234567",
        "03-1234-5678",
        "(02) 9876 5432",
        "müller@firma.de",
        "info@müller.de",
        "jane%40acme.com",
    ];
    for contact in found_kept {
        let mut request = request();
        request.subject = format!("Crash since 2026-12-03 on 4.2.1 (ZD-12345, 1500ms); reach {contact} today");
        request.org = Some(format!("Globex {contact}"));
        let issue = draft(&escalation.rules[1], escalation, &request);
        let kind = if contact.contains('@') || contact.contains("%40") {
            "[email redacted]"
        } else {
            "[phone redacted]"
        };
        assert_eq!(
            issue.title,
            format!("[sev1] Crash since 2026-12-03 on 4.2.1 (ZD-12345, 1500ms); reach {kind} today (v4.2.0)"),
            "{contact}"
        );
        let help = draft(&escalation.rules[0], escalation, &request);
        assert!(help.title.contains(&format!("reach {kind} today")), "{contact}: {}", help.title);
        assert!(
            help.labels.iter().any(|l| l.starts_with("customer/Globex")),
            "{contact}: {:?}",
            help.labels
        );
        for text in help.labels.iter().chain([&help.title, &help.body]) {
            assert!(!text.contains(contact), "{contact} in {text}");
        }
    }
}
