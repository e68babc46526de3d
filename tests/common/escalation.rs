//! What the escalation tests share: a config filing `rfh` tickets into one repository, a
//! ticket that requests engineering, and what the ticket was told.

use slawatch::marker::IssueMarker;
use slawatch::sim::zendesk::NewTicket;
use slawatch::zendesk::models::Ticket;

use super::Harness;

pub const REPO: &str = "acme/support-escalations";

pub const ESCALATION: &str = r#"
[notify.channels.eng]
kind = "slack"
url_env = "UNUSED"

[escalation]
token_env = "UNUSED_GH"
channel = "eng"
link_field = 360000000004
priority_labels = { sev1 = "p1", sev2 = "p2" }

[[escalation.rules]]
name = "help"
tag = "rfh"
repository = "acme/support-escalations"
labels = ["rfh", "customer/{org}", "{priority}"]
"#;

pub fn rfh_ticket(h: &Harness) -> u64 {
    let id = h.sim.create_ticket(NewTicket {
        subject: "Connector crashes".into(),
        body: "The connector crashes on start. Call me at +1 415 555 0100.".into(),
        requester_id: h.customer,
        tags: vec!["sev1".into(), "rfh".into()],
        ..NewTicket::default()
    });
    h.sim.add_comment(
        id,
        h.agent,
        "#eng-summary JDBC connector crash at start on 4.2.0; reproduced.",
        false,
    );
    id
}

/// The first line of the issue of `id`'s request `request`: it names the harness's account.
pub fn marker(h: &Harness, id: u64, request: u32) -> String {
    IssueMarker::new(&h.engine.account(), id, request).line()
}

pub fn notes(h: &Harness, id: u64) -> Vec<String> {
    h.sim
        .comments(id)
        .into_iter()
        .filter(|c| c["public"] == false)
        .filter_map(|c| c["body"].as_str().map(str::to_string))
        .filter(|b| b.starts_with("slawatch: engineering issue filed"))
        .collect()
}

pub fn tags(h: &Harness, id: u64) -> Vec<String> {
    let json = h.sim.ticket_json(id).unwrap();
    let mut unknown = Vec::new();
    Ticket::read(&json, &mut unknown).unwrap().tags
}

pub async fn filed(h: &mut Harness) -> (slawatch::sim::github::SimGithub, u64) {
    let github = h.attach_github(REPO).await;
    let id = rfh_ticket(h);
    h.poll().await;
    h.engine.file_escalations().await.unwrap();
    assert_eq!(github.issues(REPO).len(), 1);
    (github, id)
}

pub fn engineering_notes(h: &Harness, id: u64) -> Vec<String> {
    h.sim
        .comments(id)
        .into_iter()
        .filter(|c| c["public"] == false)
        .filter_map(|c| c["body"].as_str().map(str::to_string))
        .filter(|b| b.starts_with("slawatch: ") && !b.starts_with("slawatch: engineering issue filed"))
        .collect()
}

pub async fn sync(h: &Harness) {
    h.advance(301);
    h.engine.sync_issues().await.unwrap();
}
