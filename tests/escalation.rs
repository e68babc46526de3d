//! Which tickets request engineering and the issue each request files: rules, title, labels,
//! body, redaction and GitHub's size limit.

use slawatch::config::Config;
use slawatch::escalate::issue::{draft, marker, matching_rule, Request, MAX_BODY_CHARS};

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

fn request() -> Request {
    Request {
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
    assert_eq!(marker(4242, 1), "<!-- slawatch:zendesk-ticket=4242:request=1 -->");
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
    assert!(issue.body.starts_with("<!-- slawatch:zendesk-ticket=4242:request=2 -->"));
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
