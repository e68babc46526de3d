//! The person, not only the channel: a Slack alert mentions the ticket's assignee (`<@U…>`),
//! mapped in `[people]` by Zendesk user id or e-mail, and an unassigned ticket's group on-call
//! handle (`<!subteam^S…>`); without a mapping it names the assignee in words, as before.

mod common;

use common::{t, Harness, SUPPORT_ONLY};

/// Polls the ticket's facts in, then on past its first-response breach (24 business hours
/// from Monday 09:00 PST: Wednesday 17:00).
async fn breach(h: &Harness) {
    h.poll().await;
    h.clock.set(t("2026-12-02T17:00:30-08:00"));
    h.engine.poll().await.unwrap();
    h.engine.fire_due().await.unwrap();
}

fn breach_message(h: &Harness) -> serde_json::Value {
    h.slack
        .messages()
        .into_iter()
        .map(|m| m.body)
        .find(|b| b["text"].as_str().is_some_and(|t| t.contains("SLA breached")))
        .expect("a breach message")
}

fn assignee_field(body: &serde_json::Value) -> String {
    body["blocks"][3]["fields"][5]["text"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_assignee_mapped_by_e_mail_is_mentioned_first() {
    let config = format!("{SUPPORT_ONLY}\n[people]\nslack_users = {{ \"Avery@Support.example\" = \"U024BE7LH\" }}\n");
    let h = Harness::new(&config).await;
    let id = h.ticket("sev1");
    h.sim.set_assignee(id, Some(h.agent), h.agent);
    breach(&h).await;
    let body = breach_message(&h);
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("<@U024BE7LH> "), "the notification names the person: {text}");
    assert!(
        body["blocks"][1]["text"]["text"].as_str().unwrap().contains("<@U024BE7LH>"),
        "{body}"
    );
    assert_eq!(assignee_field(&body), "*Assignee*\n<@U024BE7LH> (Avery Agent)");
}

#[tokio::test]
async fn an_unassigned_ticket_mentions_its_groups_on_call_handle() {
    let config = format!("{SUPPORT_ONLY}\n[people]\nslack_groups = {{ \"4242\" = \"S0614TZR7\" }}\n");
    let h = Harness::new(&config).await;
    let id = h.ticket("sev1");
    h.sim.set_group(id, Some(4242), h.agent);
    breach(&h).await;
    let body = breach_message(&h);
    assert!(body["text"].as_str().unwrap().starts_with("<!subteam^S0614TZR7> "), "{body}");
    assert_eq!(assignee_field(&body), "*Assignee*\nunassigned: <!subteam^S0614TZR7>");
}

#[tokio::test]
async fn without_a_mapping_the_message_reads_as_before() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.sim.set_assignee(id, Some(h.agent), h.agent);
    breach(&h).await;
    let body = breach_message(&h);
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with(":rotating_light: SLA breached"), "{text}");
    assert!(!body.to_string().contains("<@"), "{body}");
    assert_eq!(assignee_field(&body), "*Assignee*\nAvery Agent");
}

fn with_lookup(h: &mut Harness) -> impl std::future::Future<Output = ()> + '_ {
    h.slack.set_bot_token("xoxb-test");
    let slack = slawatch::slack::SlackClient::new(
        &format!("{}/api", h.slack.base_url()),
        "xoxb-test".into(),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    async move {
        let engine = h.take_engine().with_slack(slack);
        h.engine = engine;
    }
}

#[tokio::test]
async fn an_agent_no_mapping_names_is_found_in_slack_by_e_mail() {
    let config = format!("{SUPPORT_ONLY}\n[slack]\nbot_token_env = \"UNUSED\"\napi_url = \"http://127.0.0.1:9/api\"\n");
    let mut h = Harness::new(&config).await;
    with_lookup(&mut h).await;
    h.slack.add_member("AVERY@support.example", "U0AVERY01");
    let id = h.ticket("sev1");
    h.sim.set_assignee(id, Some(h.agent), h.agent);
    h.poll().await;
    let agents = h.engine.look_up_people().await;
    assert!(agents >= 1, "Avery (and the harness's other agents) looked up");
    assert_eq!(h.slack.lookup_count(), agents as u64);
    assert_eq!(h.engine.look_up_people().await, 0, "kept for a day");
    assert_eq!(h.slack.lookup_count(), agents as u64);
    breach(&h).await;
    let body = breach_message(&h);
    assert!(body["text"].as_str().unwrap().starts_with("<@U0AVERY01> "), "{body}");
}

#[tokio::test]
async fn slack_refusing_lookups_never_holds_an_alert_back() {
    let config = format!("{SUPPORT_ONLY}\n[slack]\nbot_token_env = \"UNUSED\"\n");
    let mut h = Harness::new(&config).await;
    with_lookup(&mut h).await;
    h.slack.set_bot_token("another-token");
    let id = h.ticket("sev1");
    h.sim.set_assignee(id, Some(h.agent), h.agent);
    h.poll().await;
    assert_eq!(h.engine.look_up_people().await, 0, "invalid_auth: nothing found");
    breach(&h).await;
    let body = breach_message(&h);
    assert!(
        body["text"].as_str().unwrap().starts_with(":rotating_light: SLA breached"),
        "{body}"
    );
    assert_eq!(assignee_field(&body), "*Assignee*\nAvery Agent");
}

/// The support route, also messaging the assignee directly, with Slack's Web API.
fn direct() -> String {
    format!("{SUPPORT_ONLY}direct = true\n\n[slack]\nbot_token_env = \"UNUSED\"\n")
}

#[tokio::test]
async fn a_direct_route_messages_the_assignee_too_once() {
    let mut h = Harness::new(&direct()).await;
    with_lookup(&mut h).await;
    h.slack.add_member("avery@support.example", "U0AVERY01");
    let id = h.ticket("sev1");
    h.sim.set_assignee(id, Some(h.agent), h.agent);
    h.poll().await;
    h.engine.look_up_people().await;
    breach(&h).await;
    let direct: Vec<_> = h.slack.messages_for("dm/U0AVERY01");
    let breaches: Vec<_> = direct.iter().filter(|m| m.text.contains("SLA breached")).collect();
    assert_eq!(breaches.len(), 1, "{direct:?}");
    assert!(h.slack.messages_for("support").iter().any(|m| m.text.contains("SLA breached")));
}

#[tokio::test]
async fn nobody_to_message_directly_leaves_the_channel_told() {
    let mut h = Harness::new(&direct()).await;
    with_lookup(&mut h).await;
    let id = h.ticket("sev1");
    breach(&h).await;
    assert!(h.slack.messages().iter().all(|m| !m.hook.starts_with("dm/")));
    assert!(h.slack.messages_for("support").iter().any(|m| m.text.contains("SLA breached")));
    let alert = h
        .engine
        .store
        .alerts_of(id)
        .unwrap()
        .into_iter()
        .find(|a| a.key.ends_with("/breach"))
        .unwrap();
    let direct = alert.deliveries.iter().find(|d| d.channel == "slack-direct").unwrap();
    assert!(
        direct.gave_up && direct.last_error.as_deref().is_some_and(|e| e.contains("no Slack member")),
        "{direct:?}"
    );
}

#[test]
fn a_direct_route_needs_the_slack_web_api() {
    let config = direct().replace("[slack]\nbot_token_env = \"UNUSED\"\n", "");
    let errors = slawatch::config::Config::parse("slawatch.toml", &config).unwrap_err().to_string();
    assert!(
        errors.contains("notify.routes[0].direct: a direct message needs Slack's Web API"),
        "{errors}"
    );
}
