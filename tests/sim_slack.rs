//! The simulated Slack (and generic webhook) receiver, posted to over real HTTP
//! with reqwest as the daemon will. No test sleeps: deliveries are awaited with
//! `wait_for`, bounded by a timeout only as a guard against a hang.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use slawatch::sim::slack::SimSlack;

const HOOK: &str = "T0001/B0001/abcdef";
const GUARD: Duration = Duration::from_secs(10);

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("client")
}

struct Reply {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
    body: String,
}

async fn post_raw(url: &str, body: &str) -> Reply {
    let response = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request sent");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (content_type, retry_after) = (header("content-type"), header("retry-after"));
    let status = response.status().as_u16();
    let body = response.text().await.expect("body read");
    Reply {
        status,
        content_type,
        retry_after,
        body,
    }
}

async fn post(url: &str, body: &Value) -> Reply {
    post_raw(url, &body.to_string()).await
}

fn alert(text: &str) -> Value {
    json!({
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "SLA breach"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text},
             "fields": [{"type": "mrkdwn", "text": "*Tier*\nmanaged"}, {"type": "mrkdwn", "text": "*Severity*\nsev1"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "slawatch"}]},
            {"type": "divider"},
        ],
    })
}

#[tokio::test]
async fn a_slack_message_is_accepted_and_recorded() {
    let slack = SimSlack::start().await.expect("sim starts");
    let url = slack.url(HOOK);
    assert_eq!(url, format!("{}/services/{HOOK}", slack.base_url()));

    let before = Instant::now();
    let reply = post(&url, &alert("Ticket #42 breached its first response target")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, "ok");
    assert_eq!(reply.content_type.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(post(&slack.url("other/hook"), &json!({"text": "second"})).await.status, 200);

    let messages = slack.messages();
    assert_eq!(messages.len(), 2);
    let first = &messages[0];
    assert_eq!(first.hook, HOOK);
    assert_eq!(first.path, format!("/services/{HOOK}"));
    assert!(!first.generic);
    assert_eq!(first.text, "Ticket #42 breached its first response target");
    assert_eq!(first.body, alert("Ticket #42 breached its first response target"));
    assert!(first.received_at >= before && first.received_at <= Instant::now());
    assert_eq!(slack.messages_for(HOOK).len(), 1);
    assert_eq!(slack.messages_for("other/hook")[0].text, "second");
    assert!(slack.messages_for("nobody").is_empty());

    // Blocks alone, or legacy attachments alone, are content too; text is then "".
    let blocks_only = json!({"blocks": [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]});
    assert_eq!(post(&url, &blocks_only).await.status, 200);
    assert_eq!(
        post(&url, &json!({"attachments": [{"color": "#f00", "text": "x"}]})).await.status,
        200
    );
    assert_eq!(slack.messages()[2].text, "");

    // Clones share the receiver; take_messages drains.
    let clone = slack.clone();
    assert_eq!(clone.take_messages().len(), 4);
    assert!(slack.messages().is_empty());
    assert_eq!(slack.request_count(), 4);
}

#[tokio::test]
async fn invalid_payloads_get_400_and_are_not_recorded() {
    let slack = SimSlack::start().await.expect("sim starts");
    let url = slack.url(HOOK);
    for body in [
        "not json",
        "",
        "[1, 2]",
        "\"text\"",
        "{}",
        r#"{"text": ""}"#,
        r#"{"text": 7}"#,
        r#"{"blocks": []}"#,
    ] {
        let reply = post_raw(&url, body).await;
        assert_eq!(reply.status, 400, "{body:?}");
        assert_eq!(reply.body, "invalid_payload", "{body:?}");
    }
    let section = |text: String| json!({"type": "section", "text": {"type": "mrkdwn", "text": text}});
    let many: Vec<Value> = (0..51).map(|n| section(format!("block {n}"))).collect();
    let fields: Vec<Value> = (0..11).map(|n| json!({"type": "mrkdwn", "text": format!("f{n}")})).collect();
    for body in [
        json!({"text": "x", "blocks": "not an array"}),
        json!({"text": "x", "blocks": [1]}),
        json!({"text": "x", "blocks": [{"text": "no type"}]}),
        json!({"text": "x", "blocks": [{"type": 5}]}),
        json!({"text": "x", "blocks": [section("a".repeat(3001))]}),
        json!({"text": "x", "blocks": [section(String::new())]}),
        json!({"text": "x", "blocks": [{"type": "section"}]}),
        json!({"text": "x", "blocks": [{"type": "section", "fields": fields}]}),
        json!({"text": "x", "blocks": [{"type": "section", "text": {"type": "html", "text": "x"}}]}),
        json!({"text": "x", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]}),
        json!({"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]}),
        json!({"text": "x", "blocks": [{"type": "context", "elements": []}]}),
        json!({"text": "x", "blocks": [{"type": "divider", "block_id": "b".repeat(256)}]}),
        json!({"text": "x", "blocks": many}),
    ] {
        let reply = post(&url, &body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.body, "invalid_blocks", "{body}");
    }
    // At the limits is fine.
    let at_limits = json!({"text": "x", "blocks": [
        section("a".repeat(3000)),
        {"type": "header", "text": {"type": "plain_text", "text": "é".repeat(150)}},
    ]});
    assert_eq!(post(&url, &at_limits).await.status, 200);

    assert_eq!(slack.messages().len(), 1, "refused messages are not recorded");
    assert_eq!(slack.request_count(), 8 + 14 + 1, "but they are counted");
    // Only POST delivers; /services/ without a hook is no service.
    let get = client().get(&url).send().await.expect("sent");
    assert_eq!(get.status().as_u16(), 405);
    let reply = post(&format!("{}/services/", slack.base_url()), &json!({"text": "x"})).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, "no_service");
}

#[tokio::test]
async fn down_answers_503_until_back() {
    let slack = SimSlack::start().await.expect("sim starts");
    let url = slack.url(HOOK);
    slack.set_down(true);
    for _ in 0..3 {
        let reply = post(&url, &alert("during the outage")).await;
        assert_eq!(reply.status, 503);
        assert_eq!(reply.body, "service unavailable");
    }
    assert_eq!(post(&slack.generic_url("pager"), &json!({"a": 1})).await.status, 503);
    assert!(slack.messages().is_empty());
    assert_eq!(slack.request_count(), 4);

    slack.set_down(false);
    assert_eq!(post(&url, &alert("after the outage")).await.status, 200);
    assert_eq!(slack.messages().len(), 1);
    assert_eq!(slack.messages()[0].text, "after the outage");
}

#[tokio::test]
async fn fail_next_fails_that_many_posts_with_slack_error_texts() {
    let slack = SimSlack::start().await.expect("sim starts");
    let url = slack.url(HOOK);
    slack.fail_next(2, 500);
    for _ in 0..2 {
        let reply = post(&url, &json!({"text": "retry me"})).await;
        assert_eq!(reply.status, 500);
        assert_eq!(reply.body, "internal_error");
    }
    assert_eq!(post(&url, &json!({"text": "third time lucky"})).await.status, 200);

    slack.fail_next(1, 429);
    let limited = post(&url, &json!({"text": "slow down"})).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body, "rate_limited");
    assert_eq!(limited.retry_after.as_deref(), Some("1"));

    slack.fail_next(1, 404);
    assert_eq!(post(&url, &json!({"text": "gone"})).await.body, "no_service");
    // A generic webhook fails in JSON.
    slack.fail_next(1, 503);
    let reply = post(&slack.generic_url("pager"), &json!({"text": "x"})).await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        serde_json::from_str::<Value>(&reply.body).expect("JSON"),
        json!({"ok": false, "error": "service_unavailable"})
    );

    let texts: Vec<String> = slack.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, vec!["third time lucky"]);
    assert_eq!(slack.request_count(), 6);
}

#[tokio::test]
async fn wait_for_resolves_once_enough_messages_arrive() {
    let slack = SimSlack::start().await.expect("sim starts");
    // Already there: at once.
    tokio::time::timeout(GUARD, slack.wait_for(0)).await.expect("wait_for(0) resolves");

    let url = slack.url(HOOK);
    let sender = tokio::spawn(async move {
        for n in 0..3 {
            assert_eq!(post(&url, &json!({"text": format!("alert {n}")})).await.status, 200);
        }
    });
    tokio::time::timeout(GUARD, slack.wait_for(3)).await.expect("three messages arrive");
    sender.await.expect("sender finished");
    assert_eq!(slack.messages().len(), 3);

    // wait_for counts the messages held: after take_messages it waits for new ones.
    assert_eq!(slack.take_messages().len(), 3);
    let waiter = {
        let slack = slack.clone();
        tokio::spawn(async move { slack.wait_for(1).await })
    };
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished(), "nothing new yet");
    assert_eq!(post(&slack.url(HOOK), &json!({"text": "next"})).await.status, 200);
    tokio::time::timeout(GUARD, waiter)
        .await
        .expect("the new message wakes the waiter")
        .expect("waiter");
    assert_eq!(slack.messages()[0].text, "next");
}

#[tokio::test]
async fn generic_webhooks_take_any_json_object() {
    let slack = SimSlack::start().await.expect("sim starts");
    let url = slack.generic_url("pager");
    assert_eq!(url, format!("{}/hooks/pager", slack.base_url()));

    let event = json!({"ticket": 42, "metric": "first_response", "state": "breached", "text": "Ticket 42 breached"});
    let reply = post(&url, &event).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    assert_eq!(serde_json::from_str::<Value>(&reply.body).expect("JSON"), json!({"ok": true}));
    // No text and no blocks are needed; any other path is a generic webhook too.
    assert_eq!(post(&url, &json!({"anything": [1, 2, 3]})).await.status, 200);
    assert_eq!(post(&format!("{}/custom/path", slack.base_url()), &json!({})).await.status, 200);

    for body in ["[1]", "null", "{oops"] {
        let reply = post_raw(&url, body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&reply.body).expect("JSON"),
            json!({"ok": false, "error": "invalid_payload"})
        );
    }

    let pager = slack.messages_for("pager");
    assert_eq!(pager.len(), 2);
    assert!(pager[0].generic);
    assert_eq!(pager[0].path, "/hooks/pager");
    assert_eq!(pager[0].body, event);
    assert_eq!(pager[0].text, "Ticket 42 breached");
    assert_eq!(pager[1].text, "");
    assert_eq!(slack.messages_for("custom/path").len(), 1);
}

#[tokio::test]
async fn delay_holds_answers_and_shutdown_stops_serving() {
    let slack = SimSlack::start().await.expect("sim starts");
    slack.set_delay(Duration::from_secs(3600));
    let slow = client()
        .post(slack.url(HOOK))
        .json(&json!({"text": "slow"}))
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .expect_err("the answer is held back");
    assert!(slow.is_timeout(), "{slow}");
    slack.set_delay(Duration::ZERO);
    assert_eq!(post(&slack.url(HOOK), &json!({"text": "fast"})).await.status, 200);

    slack.shutdown();
    let mut refused = false;
    for _ in 0..100 {
        if client().post(slack.url(HOOK)).json(&json!({"text": "x"})).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the server still answers after shutdown");
}
