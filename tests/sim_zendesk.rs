//! The simulated Zendesk, driven from Rust and read over real HTTP with reqwest,
//! as the daemon will read it. No test sleeps: world time moves by `advance`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};

const EMAIL: &str = "ops@example.com";
const TOKEN: &str = "s3cret";
/// Monday 2024-06-03 16:00:00 UTC.
const T0: i64 = 1_717_430_400;
const CURSOR_EXPORT: &str = "/api/v2/incremental/tickets/cursor.json";
const EVENTS_EXPORT: &str = "/api/v2/incremental/ticket_events.json";

async fn start() -> (SimZendesk, Api) {
    let sim = SimZendesk::start(SimOptions {
        email: EMAIL.to_string(),
        token: TOKEN.to_string(),
        start_time: T0,
        page_size: 1000,
    })
    .await
    .expect("sim starts");
    let api = Api {
        http: reqwest::Client::builder().no_proxy().build().expect("client"),
        base: sim.base_url(),
    };
    (sim, api)
}

struct Api {
    http: reqwest::Client,
    base: String,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body read");
        Reply { status, headers, body }
    }

    /// GET `path_and_query` (absolute URLs from `next_page` work too) with the API token.
    async fn get(&self, path_and_query: &str) -> Reply {
        let url = if path_and_query.starts_with("http") {
            path_and_query.to_string()
        } else {
            format!("{}{path_and_query}", self.base)
        };
        self.send(self.http.get(url).basic_auth(format!("{EMAIL}/token"), Some(TOKEN)))
            .await
    }

    /// PUT (or another method) `path` with a raw body, as JSON, with the API token.
    async fn write(&self, method: reqwest::Method, path: &str, body: &str) -> Reply {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(format!("{EMAIL}/token"), Some(TOKEN))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request).await
    }

    async fn put(&self, path: &str, body: &Value) -> Reply {
        self.write(reqwest::Method::PUT, path, &body.to_string()).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.write(reqwest::Method::POST, path, &body.to_string()).await
    }

    async fn get_ok(&self, path_and_query: &str) -> Value {
        let reply = self.get(path_and_query).await;
        assert_eq!(reply.status, 200, "GET {path_and_query}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
        reply.json()
    }
}

fn ids(items: &Value) -> Vec<u64> {
    items
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item["id"].as_u64().expect("an id"))
        .collect()
}

fn ticket_ids(page: &Value) -> Vec<u64> {
    ids(&page["tickets"])
}

fn decode_cursor(cursor: &Value) -> String {
    String::from_utf8(STANDARD.decode(cursor.as_str().expect("a cursor")).expect("base64")).expect("utf-8")
}

fn customer_and_agent(sim: &SimZendesk) -> (u64, u64) {
    let org = sim.add_organization("Acme", &["managed"], Map::new());
    let customer = sim.add_user("Casey Customer", "casey@acme.example", "end-user", Some(org));
    let agent = sim.add_user("Alex Agent", "alex@support.example", "agent", None);
    (customer, agent)
}

fn ticket(subject: &str, requester_id: u64) -> NewTicket {
    NewTicket {
        subject: subject.to_string(),
        body: format!("{subject}: please help"),
        requester_id,
        ..NewTicket::default()
    }
}

#[tokio::test]
async fn auth_accepts_the_api_token_and_bearer_and_refuses_anything_else() {
    let (sim, api) = start().await;
    let path = format!("{}/api/v2/ticket_fields.json", api.base);

    assert_eq!(
        api.send(api.http.get(&path).basic_auth(format!("{EMAIL}/token"), Some(TOKEN)))
            .await
            .status,
        200
    );
    assert_eq!(api.send(api.http.get(&path).bearer_auth(TOKEN)).await.status, 200);

    for refused in [
        api.http.get(&path),
        api.http.get(&path).basic_auth(format!("{EMAIL}/token"), Some("wrong")),
        api.http.get(&path).basic_auth(EMAIL, Some(TOKEN)),
        api.http.get(&path).bearer_auth("wrong"),
        api.http.get(&path).header("authorization", "Basic %%%not-base64"),
    ] {
        let reply = api.send(refused).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.json(), json!({"error": "Couldn't authenticate you"}));
    }
    assert_eq!(
        sim.request_count("/api/v2/ticket_fields.json"),
        7,
        "refused requests are counted too"
    );
}

#[tokio::test]
async fn cursor_export_pages_then_resumes_with_the_last_cursor() {
    let (sim, api) = start().await;
    let (customer, agent) = customer_and_agent(&sim);
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(sim.create_ticket(ticket(&format!("ticket {n}"), customer)));
        // Two tickets share a second: the export orders them by id.
        if n != 1 {
            sim.advance(1);
        }
    }
    sim.advance(120);

    // The first call starts from a time; every later one from the previous cursor.
    let first = api.get_ok(&format!("{CURSOR_EXPORT}?start_time={T0}&per_page=2")).await;
    assert_eq!(ticket_ids(&first), created[..2]);
    assert_eq!(first["end_of_stream"], false);
    assert_eq!(first["before_cursor"], Value::Null);
    let t1 = &first["tickets"][1];
    assert_eq!(
        decode_cursor(&first["after_cursor"]),
        format!("{}.0||{}|", t1["generated_timestamp"], t1["id"])
    );
    let after_url = first["after_url"].as_str().expect("after_url");
    assert!(
        after_url.starts_with(&format!("{}{CURSOR_EXPORT}?cursor=", api.base)),
        "{after_url}"
    );

    let second = api.get_ok(after_url).await;
    assert_eq!(ticket_ids(&second), created[2..4]);
    assert_eq!(second["end_of_stream"], false);
    let third = api.get_ok(second["after_url"].as_str().expect("after_url")).await;
    assert_eq!(ticket_ids(&third), created[4..]);
    assert_eq!(third["end_of_stream"], true);
    let cursor = third["after_cursor"].as_str().expect("cursor").to_string();

    // Nothing new: an empty page hands the same cursor back.
    let idle = api.get_ok(&format!("{CURSOR_EXPORT}?cursor={}", urlencode(&cursor))).await;
    assert_eq!(ticket_ids(&idle), Vec::<u64>::new());
    assert_eq!(idle["end_of_stream"], true);
    assert_eq!(idle["after_cursor"], cursor.as_str());

    // A ticket changed twice comes back once, at its latest generated_timestamp, and alone.
    sim.add_comment(created[2], agent, "Looking at the logs now, details below.", true);
    sim.advance(5);
    sim.set_status(created[2], "open", agent);
    let changed_at = sim.now();
    sim.advance(61);
    let next = api.get_ok(&format!("{CURSOR_EXPORT}?cursor={}", urlencode(&cursor))).await;
    assert_eq!(ticket_ids(&next), vec![created[2]]);
    assert_eq!(next["tickets"][0]["generated_timestamp"], changed_at);
    assert_eq!(next["tickets"][0]["status"], "open");
    assert_eq!(next["end_of_stream"], true);
    assert_eq!(decode_cursor(&next["after_cursor"]), format!("{changed_at}.0||{}|", created[2]));
}

#[tokio::test]
async fn cursor_export_ticket_has_the_zendesk_shape() {
    let (sim, api) = start().await;
    let (customer, agent) = customer_and_agent(&sim);
    let severity = sim.add_ticket_field("Severity", "tagger", &[("Severity 1", "severity_1"), ("Severity 2", "severity_2")]);
    let id = sim.create_ticket(NewTicket {
        priority: Some("high".to_string()),
        tags: vec!["vip".to_string()],
        custom_fields: vec![(severity, json!("severity_2"))],
        assignee_id: Some(agent),
        ..ticket("Database crash", customer)
    });
    sim.advance(60);

    let page = api.get_ok(&format!("{CURSOR_EXPORT}?start_time={T0}")).await;
    let t = &page["tickets"][0];
    assert_eq!(t["url"], format!("{}/api/v2/tickets/{id}.json", api.base));
    assert_eq!(t["id"], id);
    assert_eq!(t["created_at"], "2024-06-03T16:00:00Z");
    assert_eq!(t["updated_at"], "2024-06-03T16:00:00Z");
    assert_eq!(t["subject"], "Database crash");
    assert_eq!(t["description"], "Database crash: please help");
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["requester_id"], customer);
    assert_eq!(t["submitter_id"], customer);
    assert_eq!(t["assignee_id"], agent);
    assert_eq!(t["organization_id"], sim.ticket_json(id).expect("ticket")["organization_id"]);
    assert!(t["organization_id"].is_u64());
    assert_eq!(t["group_id"], Value::Null);
    assert_eq!(t["tags"], json!(["vip", "severity_2"]));
    assert_eq!(t["custom_fields"], json!([{"id": severity, "value": "severity_2"}]));
    assert_eq!(t["fields"], t["custom_fields"]);
    assert_eq!(t["via"]["channel"], "web");
    assert_eq!(t["is_public"], true);
    assert_eq!(t["generated_timestamp"], T0);

    // Switching the dropdown swaps its tag; unknown members can be injected.
    sim.set_custom_field(id, severity, json!("severity_1"), agent);
    let mut extra = Map::new();
    extra.insert("brand_new_field".to_string(), json!({"nested": true}));
    sim.set_extra_ticket_fields(extra);
    let t = sim.ticket_json(id).expect("ticket");
    assert_eq!(t["tags"], json!(["vip", "severity_1"]));
    assert_eq!(t["custom_fields"], json!([{"id": severity, "value": "severity_1"}]));
    assert_eq!(t["brand_new_field"], json!({"nested": true}));

    // Removing the option's tag clears the dropdown, as in Zendesk.
    sim.set_tags(id, &["vip"], agent);
    assert_eq!(
        sim.ticket_json(id).expect("ticket")["custom_fields"],
        json!([{"id": severity, "value": null}])
    );
}

#[tokio::test]
async fn exports_hide_the_last_minute() {
    let (sim, api) = start().await;
    let (customer, _) = customer_and_agent(&sim);
    sim.advance(600);
    let start = sim.now() - 60;
    let id = sim.create_ticket(ticket("fresh", customer));

    // A start_time within the last minute is refused, like Zendesk.
    let reply = api.get(&format!("{CURSOR_EXPORT}?start_time={}", sim.now())).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"], "InvalidValue");
    assert_eq!(api.get(&format!("{EVENTS_EXPORT}?start_time={}", sim.now() - 59)).await.status, 400);

    let page = api.get_ok(&format!("{CURSOR_EXPORT}?start_time={start}")).await;
    assert_eq!(ticket_ids(&page), Vec::<u64>::new());
    let cursor = page["after_cursor"].as_str().expect("cursor").to_string();

    sim.advance(59);
    let page = api.get_ok(&format!("{CURSOR_EXPORT}?cursor={}", urlencode(&cursor))).await;
    assert_eq!(ticket_ids(&page), Vec::<u64>::new(), "59 s after the change it is still hidden");
    let events = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={start}")).await;
    assert_eq!(events["count"], 0);
    assert_eq!(events["end_time"], start);

    sim.advance(1);
    let page = api.get_ok(&format!("{CURSOR_EXPORT}?cursor={}", urlencode(&cursor))).await;
    assert_eq!(ticket_ids(&page), vec![id], "60 s after the change it shows");
    let events = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={start}")).await;
    assert_eq!(events["count"], 1);
}

#[tokio::test]
async fn deleted_tickets_are_exported_as_deleted_and_gone_from_live_reads() {
    let (sim, api) = start().await;
    let (customer, _) = customer_and_agent(&sim);
    let id = sim.create_ticket(ticket("spam", customer));
    assert_eq!(api.get_ok(&format!("/api/v2/tickets/{id}.json")).await["ticket"]["id"], id);

    sim.advance(10);
    sim.delete_ticket(id);
    sim.advance(60);
    let page = api.get_ok(&format!("{CURSOR_EXPORT}?start_time={T0}")).await;
    assert_eq!(ticket_ids(&page), vec![id]);
    assert_eq!(page["tickets"][0]["status"], "deleted");
    assert_eq!(sim.ticket_json(id).expect("still in the world")["status"], "deleted");

    for path in [format!("/api/v2/tickets/{id}.json"), format!("/api/v2/tickets/{id}/comments.json")] {
        let reply = api.get(&path).await;
        assert_eq!(reply.status, 404);
        assert_eq!(reply.json(), json!({"error": "RecordNotFound", "description": "Not found"}));
    }

    let events = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={T0}")).await;
    let deletion = &events["ticket_events"][1];
    assert_eq!(deletion["updater_id"], -1, "the system deletes");
    assert_eq!(deletion["child_events"][0]["status"], "deleted");
    assert_eq!(deletion["child_events"][0]["previous_value"], "new");
}

#[tokio::test]
async fn events_export_carries_comments_and_changes() {
    let (sim, api) = start().await;
    let (customer, agent) = customer_and_agent(&sim);
    let id = sim.create_ticket(NewTicket {
        priority: Some("normal".to_string()),
        ..ticket("Login fails", customer)
    });
    sim.advance(30);
    sim.add_comment(id, agent, "Internal: reproduced on 4.2", false);
    sim.advance(30);
    sim.set_status(id, "pending", agent);
    sim.set_priority(id, Some("urgent"), agent);
    sim.advance(60);

    let page = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={T0}&include=comment_events")).await;
    assert_eq!(page["count"], 4);
    assert_eq!(page["end_of_stream"], true);
    assert_eq!(page["end_time"], T0 + 60);
    assert_eq!(
        page["next_page"],
        format!("{}{EVENTS_EXPORT}?start_time={}&include=comment_events", api.base, T0 + 60)
    );
    let events = page["ticket_events"].as_array().expect("events");
    for event in events {
        assert_eq!(event["ticket_id"], id);
        assert_eq!(event["event_type"], "Audit");
        assert_eq!(event["via"], "Web form");
    }

    let created = &events[0];
    assert_eq!(created["timestamp"], T0);
    assert_eq!(created["updater_id"], customer);
    let children = created["child_events"].as_array().expect("children");
    let comment = &children[0];
    assert_eq!(comment["event_type"], "Comment");
    assert_eq!(comment["author_id"], customer);
    assert_eq!(comment["body"], "Login fails: please help");
    assert_eq!(comment["plain_body"], "Login fails: please help");
    assert_eq!(comment["public"], true);
    assert_eq!(comment["created_at"], "2024-06-03T16:00:00Z");
    assert_eq!(comment["attachments"], json!([]));
    let creates: Vec<&Value> = children.iter().filter(|c| c["event_type"] == "Create").collect();
    assert!(creates.iter().any(|c| c["status"] == "new"), "{children:?}");
    assert!(creates.iter().any(|c| c["priority"] == "normal"), "{children:?}");
    assert!(creates.iter().any(|c| c["subject"] == "Login fails"), "{children:?}");

    let note = &events[1]["child_events"][0];
    assert_eq!(events[1]["updater_id"], agent);
    assert_eq!(note["event_type"], "Comment");
    assert_eq!(note["public"], false);
    assert_eq!(note["body"], "Internal: reproduced on 4.2");
    // The live comments read agrees, comment ids included.
    let comments = api.get_ok(&format!("/api/v2/tickets/{id}/comments.json")).await;
    assert_eq!(comments["comments"][1]["id"], note["id"]);
    assert_eq!(comments["comments"][1]["author_id"], agent);
    assert_eq!(comments["meta"]["has_more"], false);

    assert_eq!(events[2]["timestamp"], T0 + 60);
    assert_eq!(
        events[2]["child_events"][0],
        json!({
            "id": events[2]["child_events"][0]["id"], "event_type": "Change", "status": "pending", "previous_value": "new",
            "via": "Web form", "via_reference_id": null,
        })
    );
    assert_eq!(events[3]["child_events"][0]["priority"], "urgent");
    assert_eq!(events[3]["child_events"][0]["previous_value"], "normal");

    // Without the side-load a comment is only flagged.
    let bare = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={T0}")).await;
    let comment = &bare["ticket_events"][1]["child_events"][0];
    assert_eq!(comment["comment_present"], true);
    assert_eq!(comment["comment_public"], false);
    assert!(comment.get("body").is_none());
}

#[tokio::test]
async fn events_pages_end_on_whole_seconds_and_redeliver_the_last_one() {
    let (sim, api) = start().await;
    let (customer, agent) = customer_and_agent(&sim);
    // Seconds T0: 1 event, T0+1: 1, T0+2: 2, T0+3: 1.
    let a = sim.create_ticket(ticket("a", customer));
    sim.advance(1);
    sim.add_comment(a, agent, "first", true);
    sim.advance(1);
    sim.create_ticket(ticket("b", customer));
    sim.create_ticket(ticket("c", customer));
    sim.advance(1);
    sim.set_status(a, "open", agent);
    sim.advance(60);
    let all = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={T0}")).await;
    let all_ids = ids(&all["ticket_events"]);
    assert_eq!(all_ids.len(), 5);

    // per_page=3: the third second would not fit whole, so the page stops before it.
    let one = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={T0}&per_page=3")).await;
    assert_eq!(ids(&one["ticket_events"]), all_ids[..2]);
    assert_eq!(one["end_time"], T0 + 1);
    assert_eq!(one["end_of_stream"], false);
    // The next page starts at end_time and so re-delivers that second's events.
    let two = api.get_ok(one["next_page"].as_str().expect("next_page")).await;
    assert_eq!(ids(&two["ticket_events"]), all_ids[1..4]);
    assert_eq!(two["end_time"], T0 + 2);
    assert_eq!(two["end_of_stream"], false);
    let three = api.get_ok(two["next_page"].as_str().expect("next_page")).await;
    assert_eq!(ids(&three["ticket_events"]), all_ids[2..]);
    assert_eq!(three["end_time"], T0 + 3);
    assert_eq!(three["end_of_stream"], true);

    // A second larger than the page is delivered whole rather than split.
    let crowded = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={}&per_page=1", T0 + 2)).await;
    assert_eq!(ids(&crowded["ticket_events"]), all_ids[2..]);
    assert_eq!(crowded["end_of_stream"], true);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_in_world_seconds() {
    let (sim, api) = start().await;
    sim.set_rate_limit(Some(3));
    for remaining in ["2", "1", "0"] {
        let reply = api.get("/api/v2/ticket_fields.json").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-rate-limit"), Some("3"));
        assert_eq!(reply.header("x-rate-limit-remaining"), Some(remaining));
    }
    let refused = api.get("/api/v2/ticket_fields.json").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(refused.header("x-rate-limit-remaining"), Some("0"));

    sim.advance(45);
    assert_eq!(api.get("/api/v2/ticket_fields.json").await.header("retry-after"), Some("15"));
    sim.advance(15);
    assert_eq!(
        api.get("/api/v2/ticket_fields.json").await.status,
        200,
        "a minute later the budget is back"
    );

    sim.set_rate_limit(None);
    let reply = api.get("/api/v2/ticket_fields.json").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-rate-limit"), None);
}

#[tokio::test]
async fn failures_then_success() {
    let (sim, api) = start().await;
    sim.fail_next(2, 503);
    for _ in 0..2 {
        let reply = api.get("/api/v2/organizations.json").await;
        assert_eq!(reply.status, 503);
        assert!(reply.json()["error"].is_string());
    }
    assert_eq!(api.get("/api/v2/organizations.json").await.status, 200);

    sim.fail_next(1, 500);
    assert_eq!(api.get(&format!("{CURSOR_EXPORT}?start_time=0")).await.status, 500);
    assert_eq!(api.get(&format!("{CURSOR_EXPORT}?start_time=0")).await.status, 200);

    sim.malformed_next(1);
    let garbled = api.get("/api/v2/users.json").await;
    assert_eq!(garbled.status, 200);
    assert!(serde_json::from_str::<Value>(&garbled.body).is_err(), "{}", garbled.body);
    api.get_ok("/api/v2/users.json").await;
}

#[tokio::test]
async fn bad_requests_get_400_or_404_never_a_crash() {
    let (_sim, api) = start().await;
    for path in [
        CURSOR_EXPORT.to_string(),
        format!("{CURSOR_EXPORT}?cursor=%%%"),
        format!("{CURSOR_EXPORT}?cursor=bm90IGEgY3Vyc29y"),
        format!("{CURSOR_EXPORT}?start_time=yesterday"),
        format!("{CURSOR_EXPORT}?start_time=99999999999999999999999"),
        format!("{CURSOR_EXPORT}?start_time=0&per_page=0"),
        format!("{CURSOR_EXPORT}?start_time=0&per_page=-1"),
        EVENTS_EXPORT.to_string(),
        format!("{EVENTS_EXPORT}?start_time=1.5"),
        "/api/v2/users.json?page=0".to_string(),
        "/api/v2/users/show_many.json?ids=1,x".to_string(),
        "/api/v2/users/show_many.json".to_string(),
    ] {
        let reply = api.get(&path).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.body);
        assert_eq!(reply.json()["error"], "InvalidValue", "{path}");
    }
    for path in [
        "/api/v2/tickets/abc.json",
        "/api/v2/tickets/42.json",
        "/api/v2/nothing.json",
        "/api/v2/tickets/1/x.json",
        "/elsewhere",
    ] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json(), json!({"error": "RecordNotFound", "description": "Not found"}));
    }
    // Cursor export: a large per_page is lowered to the page size, not refused.
    api.get_ok(&format!("{CURSOR_EXPORT}?start_time=0&per_page=100000")).await;
}

#[tokio::test]
async fn users_filtered_by_role_and_paginated() {
    let (sim, api) = start().await;
    let (customer, agent) = customer_and_agent(&sim);
    let admin = sim.add_user("Ada Admin", "ada@support.example", "admin", None);
    let bot = sim.add_user("Integration Bot", "bot@support.example", "agent", None);
    // The API user comes with the world: an admin with the token's e-mail.
    let api_user = sim.api_user_id();

    let agents = api.get_ok("/api/v2/users.json?role[]=agent&role[]=admin").await;
    assert_eq!(ids(&agents["users"]), vec![api_user, agent, admin, bot]);
    assert_eq!(agents["count"], 4);
    assert_eq!(agents["next_page"], Value::Null);
    assert_eq!(agents["users"][0]["email"], EMAIL);
    assert_eq!(agents["users"][0]["role"], "admin");
    let first = &agents["users"][1];
    assert_eq!(first["name"], "Alex Agent");
    assert_eq!(first["email"], "alex@support.example");
    assert_eq!(first["role"], "agent");
    assert_eq!(first["active"], true);
    assert_eq!(first["created_at"], "2024-06-03T16:00:00Z");

    assert_eq!(
        ids(&api.get_ok("/api/v2/users.json?role%5B%5D=admin").await["users"]),
        vec![api_user, admin]
    );
    assert_eq!(ids(&api.get_ok("/api/v2/users.json?role=agent").await["users"]), vec![agent, bot]);
    assert_eq!(
        ids(&api.get_ok("/api/v2/users.json").await["users"]),
        vec![api_user, customer, agent, admin, bot]
    );

    let page1 = api.get_ok("/api/v2/users.json?role[]=agent&role[]=admin&per_page=3").await;
    assert_eq!(ids(&page1["users"]), vec![api_user, agent, admin]);
    assert_eq!(page1["previous_page"], Value::Null);
    let page2 = api.get_ok(page1["next_page"].as_str().expect("next_page")).await;
    assert_eq!(ids(&page2["users"]), vec![bot]);
    assert_eq!(page2["next_page"], Value::Null);
    assert!(page2["previous_page"].is_string());

    let many = api.get_ok(&format!("/api/v2/users/show_many.json?ids={bot},{customer},999")).await;
    assert_eq!(ids(&many["users"]), vec![bot, customer]);
    assert_eq!(many["users"][1]["role"], "end-user");
}

#[tokio::test]
async fn organizations_carry_tags_and_fields() {
    let (sim, api) = start().await;
    let mut fields = Map::new();
    fields.insert("deployment".to_string(), json!("self_hosted"));
    let acme = sim.add_organization("Acme", &["enterprise_plus"], fields);
    let globex = sim.add_organization("Globex", &[], Map::new());
    sim.advance(3600);
    sim.set_organization_field(globex, "deployment", json!("managed"));
    sim.set_organization_tags(globex, &["elite", "emea"]);

    let orgs = api.get_ok("/api/v2/organizations.json").await;
    assert_eq!(ids(&orgs["organizations"]), vec![acme, globex]);
    assert_eq!(orgs["count"], 2);
    assert_eq!(orgs["next_page"], Value::Null);
    let acme_json = &orgs["organizations"][0];
    assert_eq!(acme_json["name"], "Acme");
    assert_eq!(acme_json["tags"], json!(["enterprise_plus"]));
    assert_eq!(acme_json["organization_fields"], json!({"deployment": "self_hosted"}));
    let globex_json = &orgs["organizations"][1];
    assert_eq!(globex_json["organization_fields"], json!({"deployment": "managed"}));
    assert_eq!(globex_json["tags"], json!(["elite", "emea"]));
    assert_eq!(globex_json["updated_at"], "2024-06-03T17:00:00Z");

    let paged = api.get_ok("/api/v2/organizations.json?per_page=1&page=2").await;
    assert_eq!(ids(&paged["organizations"]), vec![globex]);

    // Cursor pagination: `meta.has_more` and `links.next`, as the daemon reads the lists.
    let first = api.get_ok("/api/v2/organizations.json?page%5Bsize%5D=1").await;
    assert_eq!(ids(&first["organizations"]), vec![acme]);
    assert_eq!(first["meta"]["has_more"], true);
    let next = first["links"]["next"].as_str().expect("links.next");
    let second = api.get_ok(&next[next.find("/api/").unwrap()..]).await;
    assert_eq!(ids(&second["organizations"]), vec![globex]);
    assert_eq!(second["meta"]["has_more"], false);
    // Offset pagination stops at page 100, as Zendesk's does.
    let refused = api.get("/api/v2/organizations.json?per_page=1&page=101").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("cursor pagination"), "{}", refused.body);
}

#[tokio::test]
async fn ticket_fields_list_dropdown_options() {
    let (sim, api) = start().await;
    let severity = sim.add_ticket_field("Severity", "tagger", &[("Severity 1", "sev_1"), ("Severity 2", "sev_2")]);
    let fields = api.get_ok("/api/v2/ticket_fields.json").await;
    assert_eq!(fields["next_page"], Value::Null);
    let list = fields["ticket_fields"].as_array().expect("fields");
    assert!(list.iter().any(|f| f["type"] == "status"), "system fields are listed too");
    let field = list.iter().find(|f| f["id"] == severity).expect("the dropdown");
    assert_eq!(field["type"], "tagger");
    assert_eq!(field["title"], "Severity");
    let options = field["custom_field_options"].as_array().expect("options");
    assert_eq!(options.len(), 2);
    assert_eq!(options[0]["name"], "Severity 1");
    assert_eq!(options[0]["value"], "sev_1");
    assert!(options[0]["id"].is_u64());
}

#[tokio::test]
async fn counters_count_every_request_by_path() {
    let (sim, api) = start().await;
    api.get(&format!("{CURSOR_EXPORT}?start_time=0")).await;
    api.get(&format!("{CURSOR_EXPORT}?start_time=0&per_page=5")).await;
    sim.fail_next(1, 500);
    api.get("/api/v2/users.json?role=agent").await;
    api.get("/api/v2/nowhere").await;
    assert_eq!(sim.request_count(CURSOR_EXPORT), 2);
    assert_eq!(sim.request_count("/api/v2/users.json"), 1);
    assert_eq!(sim.request_count("/api/v2/nowhere"), 1);
    assert_eq!(sim.request_count(EVENTS_EXPORT), 0);
    assert_eq!(sim.total_requests(), 4);
    sim.reset_counters();
    assert_eq!(sim.total_requests(), 0);
    assert_eq!(sim.request_count(CURSOR_EXPORT), 0);
}

#[tokio::test]
async fn delay_holds_responses_and_shutdown_stops_serving() {
    let (sim, api) = start().await;
    sim.set_delay(std::time::Duration::from_secs(3600));
    let slow = api
        .http
        .get(format!("{}/api/v2/ticket_fields.json", api.base))
        .bearer_auth(TOKEN)
        .timeout(std::time::Duration::from_millis(100));
    let error = slow.send().await.expect_err("the response is held back");
    assert!(error.is_timeout(), "{error}");
    sim.set_delay(std::time::Duration::ZERO);
    api.get_ok("/api/v2/ticket_fields.json").await;

    sim.shutdown();
    let fresh = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut refused = false;
    for _ in 0..100 {
        if fresh
            .get(format!("{}/api/v2/ticket_fields.json", api.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .is_err()
        {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the server still answers after shutdown");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---- writes ----------------------------------------------------------------------------

fn note(body: &str) -> Value {
    json!({"ticket": {"comment": {"body": body, "public": false}}})
}

fn safe_note(body: &str, updated_stamp: &Value) -> Value {
    json!({"ticket": {"comment": {"body": body, "public": false}, "updated_stamp": updated_stamp, "safe_update": true}})
}

const LIMIT_HEADER: &str = "zendesk-ratelimit-per-ticket-updates";

#[tokio::test]
async fn an_internal_note_is_written_live_and_exported_after_the_horizon() {
    let (sim, api) = start().await;
    let (customer, _) = customer_and_agent(&sim);
    let api_user = sim.api_user_id();
    let id = sim.create_ticket(ticket("Outage", customer));
    sim.advance(10);
    let note_at = sim.now();

    let stamp = api.get_ok(&format!("/api/v2/tickets/{id}.json")).await["ticket"]["updated_at"].clone();
    let reply = api
        .put(
            &format!("/api/v2/tickets/{id}.json"),
            &safe_note("SLA: first response due in 2h", &stamp),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(reply.header(LIMIT_HEADER), Some("total=30; remaining=29; resets=600"));
    let answer = reply.json();
    assert_eq!(answer["ticket"]["id"], id);
    assert_eq!(answer["ticket"]["updated_at"], "2024-06-03T16:00:10Z");
    assert_eq!(answer["ticket"]["status"], "new", "a note alone leaves the status");
    let audit = &answer["audit"];
    assert_eq!(audit["ticket_id"], id);
    assert_eq!(audit["author_id"], api_user);
    assert_eq!(audit["created_at"], "2024-06-03T16:00:10Z");
    assert_eq!(audit["via"]["channel"], "api");
    let events = audit["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "Comment");
    assert_eq!(events[0]["author_id"], api_user);
    assert_eq!(events[0]["body"], "SLA: first response due in 2h");
    assert_eq!(events[0]["public"], false);
    assert_eq!(events[0]["audit_id"], audit["id"]);

    // From Rust: every comment, with its author.
    let comments = sim.comments(id);
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1]["author_id"], api_user);
    assert_eq!(comments[1]["body"], "SLA: first response due in 2h");
    assert_eq!(comments[1]["public"], false);
    assert_eq!(comments[1]["created_at"], "2024-06-03T16:00:10Z");
    assert_eq!(comments[1]["id"], events[0]["id"]);
    assert_eq!(sim.comments(9999), Vec::<Value>::new());
    // The live read shows it at once.
    let live = api.get_ok(&format!("/api/v2/tickets/{id}/comments.json")).await;
    assert_eq!(live["comments"][1], comments[1]);
    assert_eq!(live["comments"][1]["via"]["channel"], "api");

    // The exports show it a minute later, like any change.
    let start = T0 - 60;
    sim.advance(59);
    let page = api
        .get_ok(&format!("{EVENTS_EXPORT}?start_time={start}&include=comment_events"))
        .await;
    assert_eq!(page["count"], 1, "59 s after the note only the creation shows");
    sim.advance(1);
    let page = api
        .get_ok(&format!("{EVENTS_EXPORT}?start_time={start}&include=comment_events"))
        .await;
    assert_eq!(page["count"], 2);
    let written = &page["ticket_events"][1];
    assert_eq!(written["timestamp"], note_at);
    assert_eq!(written["updater_id"], api_user);
    assert_eq!(written["via"], "Web service");
    let comment = &written["child_events"][0];
    assert_eq!(comment["event_type"], "Comment");
    assert_eq!(comment["author_id"], api_user);
    assert_eq!(comment["body"], "SLA: first response due in 2h");
    assert_eq!(comment["public"], false);
    let tickets = api.get_ok(&format!("{CURSOR_EXPORT}?start_time={start}")).await;
    assert_eq!(tickets["tickets"][0]["generated_timestamp"], note_at);

    assert_eq!(sim.write_count(), 1);
    assert_eq!(sim.request_count(&format!("/api/v2/tickets/{id}.json")), 2);
    sim.reset_counters();
    assert_eq!(sim.write_count(), 0);
}

#[tokio::test]
async fn a_ticket_update_sets_status_and_tags_in_one_audit() {
    let (sim, api) = start().await;
    let (customer, _) = customer_and_agent(&sim);
    let severity = sim.add_ticket_field("Severity", "tagger", &[("Severity 1", "severity_1"), ("Severity 2", "severity_2")]);
    let id = sim.create_ticket(NewTicket {
        tags: vec!["vip".to_string(), "old".to_string()],
        ..ticket("Crash", customer)
    });
    sim.advance(5);

    let reply = api
        .put(
            &format!("/api/v2/tickets/{id}.json"),
            &json!({"ticket": {
                "comment": {"body": "Escalated: https://github.example/acme/app/issues/7"},
                "status": "hold",
                "additional_tags": ["rfh_linked", "severity_1"],
                "remove_tags": ["old"],
                "unknown_member": {"ignored": true},
            }}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["ticket"]["status"], "hold");
    assert_eq!(answer["ticket"]["tags"], json!(["vip", "rfh_linked", "severity_1"]));
    assert_eq!(
        answer["ticket"]["custom_fields"],
        json!([{"id": severity, "value": "severity_1"}]),
        "a dropdown follows its option's tag"
    );
    let events = answer["audit"]["events"].as_array().expect("events");
    assert_eq!(events[0]["type"], "Comment");
    assert_eq!(events[0]["public"], true, "a comment is public unless it says otherwise");
    let status = events.iter().find(|e| e["field_name"] == "status").expect("status change");
    assert_eq!(status["type"], "Change");
    assert_eq!(status["value"], "hold");
    assert_eq!(status["previous_value"], "new");
    let tags = events.iter().find(|e| e["field_name"] == "tags").expect("tags change");
    assert_eq!(tags["value"], json!(["vip", "rfh_linked", "severity_1"]));
    assert_eq!(tags["previous_value"], json!(["vip", "old"]));
    // A custom field's change is named by the field's id.
    let severity_field = severity.to_string();
    let field = events
        .iter()
        .find(|e| e["field_name"].as_str() == Some(severity_field.as_str()))
        .expect("dropdown change");
    assert_eq!(field["value"], "severity_1");

    // `tags` in a ticket update replaces them.
    let reply = api
        .put(&format!("/api/v2/tickets/{id}.json"), &json!({"ticket": {"tags": ["only"]}}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["ticket"]["tags"], json!(["only"]));

    // An update that changes nothing leaves the ticket alone: no audit, same updated_at.
    sim.advance(5);
    let reply = api
        .put(&format!("/api/v2/tickets/{id}.json"), &json!({"ticket": {"status": "hold"}}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert!(answer.get("audit").is_none(), "{answer}");
    assert_eq!(answer["ticket"]["updated_at"], "2024-06-03T16:00:05Z");

    sim.advance(60);
    let page = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={T0}")).await;
    assert_eq!(page["count"], 3, "creation and two updates, nothing for the empty one");
    let update = &page["ticket_events"][1]["child_events"];
    assert!(update
        .as_array()
        .expect("children")
        .iter()
        .any(|c| c["status"] == "hold" && c["previous_value"] == "new"));
}

#[tokio::test]
async fn safe_update_with_a_stale_stamp_gets_409_and_writes_nothing() {
    let (sim, api) = start().await;
    let (customer, agent) = customer_and_agent(&sim);
    let id = sim.create_ticket(ticket("Slow queries", customer));
    let stale = api.get_ok(&format!("/api/v2/tickets/{id}.json")).await["ticket"]["updated_at"].clone();
    // An agent answers between the read and the write.
    sim.advance(30);
    sim.add_comment(id, agent, "Here is the fix.", true);
    sim.advance(1);

    let path = format!("/api/v2/tickets/{id}.json");
    let reply = api.put(&path, &safe_note("SLA breached", &stale)).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(reply.json()["error"], "UpdateConflict");
    assert!(reply.json()["description"].is_string());
    assert_eq!(sim.comments(id).len(), 2, "nothing written");

    // Read again, write again: the stamp is compared as a time, whatever its offset notation.
    let fresh = api.get_ok(&path).await["ticket"]["updated_at"].clone();
    assert_eq!(fresh, "2024-06-03T16:00:30Z");
    let reply = api.put(&path, &safe_note("SLA: met", &json!("2024-06-03T09:00:30-07:00"))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(sim.comments(id).len(), 3);

    // Without safe_update a stale stamp does not matter; "true" as a string is honoured.
    let reply = api
        .put(
            &path,
            &json!({"ticket": {"comment": {"body": "x", "public": false}, "updated_stamp": stale}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = api
        .put(
            &path,
            &json!({"ticket": {"comment": {"body": "y", "public": false}, "updated_stamp": stale, "safe_update": "true"}}),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);

    // The tags endpoints take safe_update too.
    let reply = api
        .put(
            &format!("/api/v2/tickets/{id}/tags.json"),
            &json!({"tags": ["x"], "updated_stamp": stale, "safe_update": true}),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    assert_eq!(sim.ticket_json(id).expect("ticket")["tags"], json!([]));
}

#[tokio::test]
async fn per_ticket_updates_are_limited_to_30_per_10_minutes() {
    let (sim, api) = start().await;
    let (customer, _) = customer_and_agent(&sim);
    let busy = sim.create_ticket(ticket("busy", customer));
    let other = sim.create_ticket(ticket("other", customer));
    let path = format!("/api/v2/tickets/{busy}.json");

    for n in 0..30u32 {
        // Half a minute apart from the 20th on: `resets` counts from the oldest update.
        if n >= 20 {
            sim.advance(30);
        }
        let reply = if n % 2 == 0 {
            api.put(&path, &note(&format!("note {n}"))).await
        } else {
            api.put(&format!("/api/v2/tickets/{busy}/tags.json"), &json!({"tags": [format!("t{n}")]}))
                .await
        };
        assert_eq!(reply.status, 200, "update {n}: {}", reply.body);
        let expected_resets = 600 - if n >= 20 { 30 * (n - 19) } else { 0 };
        assert_eq!(
            reply.header(LIMIT_HEADER).map(str::to_string),
            Some(format!("total=30; remaining={}; resets={expected_resets}", 29 - n)),
            "update {n}"
        );
    }
    // 300 s have passed since the first 20 updates.
    let refused = api.put(&path, &note("one too many")).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("300"));
    assert_eq!(refused.header(LIMIT_HEADER), Some("total=30; remaining=0; resets=300"));
    assert_eq!(refused.json()["error"], "TooManyRequests");
    let refused_tags = api
        .post(&format!("/api/v2/tickets/{busy}/tags.json"), &json!({"tags": ["x"]}))
        .await;
    assert_eq!(refused_tags.status, 429);
    assert!(!sim.comments(busy).iter().any(|c| c["body"] == "one too many"));

    // Other tickets have budgets of their own.
    assert_eq!(api.put(&format!("/api/v2/tickets/{other}.json"), &note("fine")).await.status, 200);

    sim.advance(299);
    assert_eq!(api.put(&path, &note("still too early")).await.header("retry-after"), Some("1"));
    sim.advance(1);
    let reply = api.put(&path, &note("the first 20 left the window")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header(LIMIT_HEADER), Some("total=30; remaining=19; resets=30"));
    assert_eq!(sim.comments(busy).len(), 1 + 15 + 1);

    // The limit can be lifted (and lowered) from Rust.
    sim.set_ticket_update_limit(None);
    let reply = api.put(&path, &note("unlimited")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header(LIMIT_HEADER), None);
    sim.set_ticket_update_limit(Some(1));
    assert_eq!(api.put(&path, &note("one")).await.status, 200);
    assert_eq!(api.put(&path, &note("two")).await.status, 429);
}

#[tokio::test]
async fn tags_endpoint_adds_with_put_and_replaces_with_post() {
    let (sim, api) = start().await;
    let (customer, _) = customer_and_agent(&sim);
    let severity = sim.add_ticket_field("Severity", "tagger", &[("Severity 1", "severity_1"), ("Severity 2", "severity_2")]);
    let id = sim.create_ticket(NewTicket {
        tags: vec!["vip".to_string()],
        ..ticket("Tags", customer)
    });
    let path = format!("/api/v2/tickets/{id}/tags.json");
    assert_eq!(api.get_ok(&path).await, json!({"tags": ["vip"]}));
    sim.advance(1);

    let reply = api.put(&path, &json!({"tags": ["rfh", "severity_2", "vip"]})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json(), json!({"tags": ["vip", "rfh", "severity_2"]}));
    assert!(reply.header(LIMIT_HEADER).is_some());
    let t = sim.ticket_json(id).expect("ticket");
    assert_eq!(t["custom_fields"], json!([{"id": severity, "value": "severity_2"}]));
    assert_eq!(t["updated_at"], "2024-06-03T16:00:01Z");

    sim.advance(1);
    let reply = api.post(&path, &json!({"tags": ["linked gh_7"]})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json(), json!({"tags": ["linked", "gh_7"]}), "a tag with a space is two tags");
    assert_eq!(
        sim.ticket_json(id).expect("ticket")["custom_fields"],
        json!([{"id": severity, "value": null}])
    );
    assert_eq!(api.get_ok(&path).await, json!({"tags": ["linked", "gh_7"]}));

    sim.advance(60);
    let page = api.get_ok(&format!("{EVENTS_EXPORT}?start_time={T0}")).await;
    assert_eq!(page["count"], 3);
    let added = &page["ticket_events"][1];
    assert_eq!(added["updater_id"], sim.api_user_id());
    assert_eq!(added["child_events"][0]["event_type"], "Change");
    assert_eq!(added["child_events"][0]["added_tags"], json!(["rfh", "severity_2"]));
    assert_eq!(added["child_events"][0]["removed_tags"], json!([]));
    let replaced = &page["ticket_events"][2]["child_events"][0];
    assert_eq!(replaced["removed_tags"], json!(["vip", "rfh", "severity_2"]));
    assert_eq!(sim.write_count(), 2);
}

#[tokio::test]
async fn bad_writes_get_4xx_never_a_crash_and_change_nothing() {
    let (sim, api) = start().await;
    let (customer, _) = customer_and_agent(&sim);
    let id = sim.create_ticket(ticket("Target", customer));
    let deleted = sim.create_ticket(ticket("Spam", customer));
    sim.delete_ticket(deleted);
    let closed = sim.create_ticket(ticket("Old", customer));
    sim.set_status(closed, "closed", customer);
    let ticket_path = format!("/api/v2/tickets/{id}.json");
    let tags_path = format!("/api/v2/tickets/{id}/tags.json");
    let before = sim.ticket_json(id).expect("ticket");
    let not_found = json!({"error": "RecordNotFound", "description": "Not found"});

    // Unknown and deleted tickets.
    for (method, path) in [
        (reqwest::Method::PUT, "/api/v2/tickets/424242.json".to_string()),
        (reqwest::Method::PUT, format!("/api/v2/tickets/{deleted}.json")),
        (reqwest::Method::PUT, format!("/api/v2/tickets/{deleted}/tags.json")),
        (reqwest::Method::POST, format!("/api/v2/tickets/{deleted}/tags.json")),
    ] {
        let body = if path.ends_with("/tags.json") {
            json!({"tags": ["x"]})
        } else {
            note("hello")
        };
        let reply = api.write(method, &path, &body.to_string()).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        assert_eq!(reply.json(), not_found);
    }
    assert_eq!(api.get(&format!("/api/v2/tickets/{deleted}/tags.json")).await.status, 404);

    // Bodies that are not what the endpoint takes.
    for (path, body) in [
        (&ticket_path, "{not json"),
        (&ticket_path, ""),
        (&ticket_path, "[1, 2]"),
        (&ticket_path, r#"{"comment": {"body": "no ticket wrapper"}}"#),
        (&ticket_path, r#"{"ticket": "a string"}"#),
        (&ticket_path, r#"{"ticket": {"comment": {"body": "x"}, "safe_update": true}}"#),
        (
            &ticket_path,
            r#"{"ticket": {"comment": {"body": "x"}, "safe_update": true, "updated_stamp": "yesterday"}}"#,
        ),
        (&ticket_path, r#"{"ticket": {"comment": {"body": "x"}, "safe_update": 7}}"#),
        (&tags_path, r#"{"tag": ["x"]}"#),
        (&tags_path, "\u{0}\u{1}"),
    ] {
        let reply = api.write(reqwest::Method::PUT, path, body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.json()["error"], "InvalidValue", "{body}");
    }
    // Values Zendesk refuses.
    for body in [
        json!({"ticket": {"status": "deleted"}}),
        json!({"ticket": {"status": "escalated"}}),
        json!({"ticket": {"status": 3}}),
        json!({"ticket": {"comment": {"body": "   "}}}),
        json!({"ticket": {"comment": {"body": 12}}}),
        json!({"ticket": {"comment": "just a string"}}),
        json!({"ticket": {"comment": {"body": "x", "public": "no"}}}),
        json!({"ticket": {"comment": {"body": "x", "author_id": 987_654_321}}}),
        json!({"ticket": {"comment": {"body": "x", "author_id": "me"}}}),
        json!({"ticket": {"tags": [1, 2]}}),
        json!({"ticket": {"additional_tags": {"a": 1}}}),
    ] {
        let reply = api.put(&ticket_path, &body).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        assert_eq!(reply.json()["error"], "RecordInvalid", "{body}");
    }
    assert_eq!(api.put(&tags_path, &json!({"tags": [null]})).await.status, 422);
    // A closed ticket takes no more updates.
    let reply = api.put(&format!("/api/v2/tickets/{closed}.json"), &note("too late")).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.json()["details"]["status"][0]["description"],
        "Status: closed prevents ticket update"
    );

    // Methods and paths the sim does not write to.
    for (method, path) in [
        (reqwest::Method::POST, ticket_path.clone()),
        (reqwest::Method::DELETE, ticket_path.clone()),
        (reqwest::Method::PATCH, ticket_path.clone()),
        (reqwest::Method::DELETE, tags_path.clone()),
        (reqwest::Method::PUT, format!("/api/v2/tickets/{id}/comments.json")),
        (reqwest::Method::PUT, "/api/v2/users.json".to_string()),
        (reqwest::Method::POST, "/api/v2/tickets/abc.json".to_string()),
        (reqwest::Method::POST, CURSOR_EXPORT.to_string()),
    ] {
        let reply = api.write(method.clone(), &path, &note("x").to_string()).await;
        assert_eq!(reply.status, 405, "{method} {path}: {}", reply.body);
        assert_eq!(reply.json()["error"], "MethodNotAllowed");
    }

    // Unauthenticated writes are refused; injected faults hit writes too.
    let anonymous = api
        .send(api.http.put(format!("{}{ticket_path}", api.base)).body(note("anon").to_string()))
        .await;
    assert_eq!(anonymous.status, 401);
    sim.fail_next(1, 503);
    assert_eq!(api.put(&ticket_path, &note("during an outage")).await.status, 503);

    assert_eq!(sim.ticket_json(id).expect("ticket"), before, "nothing changed");
    assert_eq!(sim.comments(id).len(), 1);
    // Still serving, and the ticket still takes a good write.
    assert_eq!(api.put(&ticket_path, &note("finally")).await.status, 200);
    assert_eq!(sim.comments(id).len(), 2);
    assert!(sim.write_count() >= 30, "{}", sim.write_count());
}

#[tokio::test]
async fn comments_read_newest_first_and_in_pages() {
    let (sim, api) = start().await;
    let (customer, agent) = customer_and_agent(&sim);
    let id = sim.create_ticket(ticket("Chatty", customer));
    for n in 1..5 {
        sim.advance(1);
        sim.add_comment(id, agent, &format!("reply {n}"), true);
    }
    let bodies = |page: &Value| -> Vec<String> {
        page["comments"]
            .as_array()
            .expect("comments")
            .iter()
            .map(|c| c["body"].as_str().expect("body").to_string())
            .collect()
    };
    let path = format!("/api/v2/tickets/{id}/comments.json");
    let all = api.get_ok(&path).await;
    assert_eq!(bodies(&all), ["Chatty: please help", "reply 1", "reply 2", "reply 3", "reply 4"]);
    assert_eq!(all["meta"]["has_more"], false);

    // What the daemon asks for: the latest first, offset pages.
    let latest = api.get_ok(&format!("{path}?sort_order=desc&per_page=2")).await;
    assert_eq!(bodies(&latest), ["reply 4", "reply 3"]);
    assert_eq!(latest["count"], 5);
    let next = api.get_ok(latest["next_page"].as_str().expect("next_page")).await;
    assert_eq!(bodies(&next), ["reply 2", "reply 1"]);

    // Cursor pages, as in the recorded response.
    let first = api.get_ok(&format!("{path}?page[size]=3")).await;
    assert_eq!(bodies(&first), ["Chatty: please help", "reply 1", "reply 2"]);
    assert_eq!(first["meta"]["has_more"], true);
    let rest = api.get_ok(first["links"]["next"].as_str().expect("next")).await;
    assert_eq!(bodies(&rest), ["reply 3", "reply 4"]);
    assert_eq!(rest["meta"]["has_more"], false);

    for bad in ["sort_order=sideways", "page[size]=0", "page[after]=%%%", "per_page=x"] {
        assert_eq!(api.get(&format!("{path}?{bad}")).await.status, 400, "{bad}");
    }
}

// ---- the account reads of a config preflight, through the client ----------------------------

/// The daemon's client, pointed at the sim with its token; a 5xx would be retried up to three
/// times, nothing else.
fn client(sim: &SimZendesk) -> slawatch::zendesk::client::ZendeskClient {
    use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};
    let options = ClientOptions {
        base_url: sim.base_url(),
        auth: Auth::ApiToken {
            email: EMAIL.to_string(),
            token: TOKEN.to_string(),
        },
        requests_per_minute: 1000,
        export_requests_per_minute: 100,
        timeout: std::time::Duration::from_secs(10),
        max_attempts: 3,
        backoff: std::time::Duration::from_millis(1),
        max_backoff: std::time::Duration::from_millis(1),
    };
    ZendeskClient::new(options, slawatch::clock::Clock::system()).expect("client")
}

fn option(name: &str, value: &str) -> slawatch::zendesk::account::FieldOption {
    slawatch::zendesk::account::FieldOption {
        name: name.to_string(),
        value: value.to_string(),
    }
}

#[tokio::test]
async fn ticket_fields_carry_options_and_active_and_take_a_new_option() {
    let (sim, api) = start().await;
    let zendesk = client(&sim);
    let severity = sim.add_ticket_field("Severity", "tagger", &[("Severity 1", "sev_1"), ("Severity 2", "sev_2")]);
    let version = sim.add_ticket_field("Product version", "text", &[]);
    let areas = sim.add_ticket_field("Areas", "multiselect", &[]);
    sim.set_ticket_field_active(version, false);

    let fields = zendesk.ticket_fields().await.expect("ticket fields");
    assert!(
        fields.iter().any(|f| f.field_type == "status" && f.active),
        "system fields are listed"
    );
    let dropdown = fields.iter().find(|f| f.id == severity).expect("severity");
    assert_eq!(dropdown.title, "Severity");
    assert_eq!(dropdown.field_type, "tagger");
    assert!(dropdown.active);
    assert_eq!(dropdown.options, vec![option("Severity 1", "sev_1"), option("Severity 2", "sev_2")]);
    let text = fields.iter().find(|f| f.id == version).expect("version");
    assert!(!text.active && text.options.is_empty());
    assert!(fields.iter().any(|f| f.id == areas && f.options.is_empty()));

    // The members as Zendesk writes them; a dropdown without options still lists an empty array.
    let raw = api.get_ok("/api/v2/ticket_fields.json").await;
    let list = raw["ticket_fields"].as_array().expect("fields");
    let field = |id: u64| list.iter().find(|f| f["id"] == id).expect("a field").clone();
    assert_eq!(field(version)["active"], false);
    assert_eq!(field(version)["key"], Value::Null);
    assert!(field(version).get("custom_field_options").is_none());
    assert_eq!(field(areas)["custom_field_options"], json!([]));
    let first = &field(severity)["custom_field_options"][0];
    for member in ["id", "name", "raw_name", "value", "position", "default"] {
        assert!(first.get(member).is_some(), "{member} in {first}");
    }
    assert!(field(severity).get("tag").is_some());

    // Cursor pages, as the client reads them.
    let page = api.get_ok("/api/v2/ticket_fields.json?page%5Bsize%5D=2").await;
    assert_eq!(page["ticket_fields"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["meta"]["has_more"], true);
    assert!(page["links"]["next"].as_str().is_some_and(|l| l.contains("page%5Bafter%5D")));

    // An admin adds a severity while slawatch runs: the next read has it, and its tag sets the
    // dropdown as any option's does.
    sim.advance(60);
    assert!(sim.add_ticket_field_option(severity, "Severity 3", "sev_3").is_some());
    assert_eq!(sim.add_ticket_field_option(999, "Nowhere", "nowhere"), None);
    let fields = zendesk.ticket_fields().await.expect("ticket fields");
    let dropdown = fields.iter().find(|f| f.id == severity).expect("severity");
    assert_eq!(dropdown.options.last(), Some(&option("Severity 3", "sev_3")));
    let (customer, _) = customer_and_agent(&sim);
    let id = sim.create_ticket(NewTicket {
        tags: vec!["sev_3".to_string()],
        ..ticket("Slow", customer)
    });
    let rendered = sim.ticket_json(id).expect("ticket");
    let value = rendered["custom_fields"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["id"] == severity))
        .map(|f| f["value"].clone());
    assert_eq!(value, Some(json!("sev_3")));
}

#[tokio::test]
async fn organization_fields_are_defined_by_the_organizations_that_hold_them() {
    let (sim, api) = start().await;
    let zendesk = client(&sim);
    // Whatever the account starts with, these keys are not among it.
    let before: Vec<u64> = zendesk.organization_fields().await.expect("fields").iter().map(|f| f.id).collect();

    let mut fields = Map::new();
    fields.insert("support_tier".to_string(), json!("self_hosted"));
    let acme = sim.add_organization("Acme", &[], fields);
    sim.set_organization_field(acme, "region", json!("emea"));
    let mut read = zendesk.organization_fields().await.expect("fields");
    read.retain(|f| !before.contains(&f.id));
    let keys: Vec<(&str, &str, &str)> = read
        .iter()
        .map(|f| (f.key.as_str(), f.title.as_str(), f.field_type.as_str()))
        .collect();
    assert_eq!(keys, [("support_tier", "Support tier", "text"), ("region", "Region", "text")]);
    assert!(read.iter().all(|f| f.active && f.options.is_empty()));

    // A dropdown, and a key held already redefined as one in place.
    let contract = sim.add_organization_field(
        "contract",
        "Contract",
        "dropdown",
        &[("Enterprise Plus", "enterprise_plus"), ("Elite", "elite")],
    );
    let tier = read[0].id;
    assert_eq!(
        sim.add_organization_field(
            "support_tier",
            "Support tier",
            "dropdown",
            &[("Self-hosted", "self_hosted"), ("Managed", "managed")]
        ),
        tier
    );
    sim.set_organization_field_active(contract, false);
    let read = zendesk.organization_fields().await.expect("fields");
    assert_eq!(read.len(), before.len() + 3);
    let tier_field = read.iter().find(|f| f.id == tier).expect("tier");
    assert_eq!(tier_field.field_type, "dropdown");
    assert_eq!(
        tier_field.options,
        vec![option("Self-hosted", "self_hosted"), option("Managed", "managed")]
    );
    let contract_field = read.iter().find(|f| f.id == contract).expect("contract");
    assert_eq!((contract_field.key.as_str(), contract_field.active), ("contract", false));
    assert_eq!(contract_field.options.len(), 2);

    // Zendesk's members, and its cursor pages.
    let raw = api.get_ok("/api/v2/organization_fields.json?page%5Bsize%5D=2").await;
    let first = &raw["organization_fields"][0];
    for member in [
        "id",
        "url",
        "key",
        "type",
        "title",
        "raw_title",
        "description",
        "position",
        "active",
        "created_at",
        "updated_at",
    ] {
        assert!(first.get(member).is_some(), "{member} in {first}");
    }
    assert_eq!(raw["meta"]["has_more"], true);
    let next = raw["links"]["next"].as_str().expect("next");
    let rest = api.get_ok(next).await;
    assert_eq!(
        rest["organization_fields"].as_array().map(Vec::len),
        Some((before.len() + 3 - 2).min(2))
    );
    assert_eq!(rest["meta"]["has_more"], before.len() + 3 > 4);
    // The organization still carries its values by key.
    let orgs = api.get_ok("/api/v2/organizations.json").await;
    assert_eq!(
        orgs["organizations"][0]["organization_fields"],
        json!({"support_tier": "self_hosted", "region": "emea"})
    );
}

#[tokio::test]
async fn groups_are_listed_by_cursor_past_a_hundred_deleted_ones_too() {
    let (sim, api) = start().await;
    let zendesk = client(&sim);
    let support = sim.add_group("Support");
    let mut added = vec![support];
    for n in 1..130 {
        added.push(sim.add_group(&format!("Team {n}")));
    }
    // A group a ticket names that was never added is there too.
    let (customer, agent) = customer_and_agent(&sim);
    let id = sim.create_ticket(NewTicket {
        group_id: Some(42),
        ..ticket("Routed", customer)
    });
    sim.set_group(id, Some(43), agent);
    sim.delete_group(added[5]);

    sim.reset_counters();
    let groups = zendesk.groups().await.expect("groups");
    assert_eq!(sim.request_count("/api/v2/groups.json"), 2, "two cursor pages of 100");
    assert_eq!(groups.len(), 132);
    assert_eq!(groups.iter().filter(|g| g.deleted).map(|g| g.id).collect::<Vec<_>>(), [added[5]]);
    let named = |id: u64| groups.iter().find(|g| g.id == id).map(|g| g.name.clone());
    assert_eq!(named(support).as_deref(), Some("Support"));
    assert_eq!(named(42).as_deref(), Some("Group 42"));
    assert_eq!(named(43).as_deref(), Some("Group 43"));

    let raw = api.get_ok("/api/v2/groups.json?exclude_deleted=true").await;
    assert_eq!(raw["count"], 131);
    let first = &raw["groups"][0];
    for member in ["id", "url", "name", "description", "default", "deleted", "created_at", "updated_at"] {
        assert!(first.get(member).is_some(), "{member} in {first}");
    }
}

#[tokio::test]
async fn me_is_the_token_user_and_an_agent_token_cannot_read_the_exports() {
    let (sim, api) = start().await;
    let zendesk = client(&sim);
    let me = zendesk.me().await.expect("me");
    assert_eq!((me.id, me.email.as_str(), me.role.as_str()), (sim.api_user_id(), EMAIL, "admin"));
    assert_eq!(me.name, "API User");
    assert!(zendesk
        .ticket_page(&slawatch::zendesk::client::ExportStart::StartTime(T0 - 3600), 100)
        .await
        .is_ok());

    sim.set_api_user_role("agent");
    assert_eq!(zendesk.me().await.expect("me").role, "agent");
    let raw = api.get_ok("/api/v2/users/me.json").await;
    assert_eq!(raw["user"]["role"], "agent");
    for export in [
        format!("{CURSOR_EXPORT}?start_time={}", T0 - 3600),
        format!("{EVENTS_EXPORT}?start_time={}", T0 - 3600),
    ] {
        let refused = api.get(&export).await;
        assert_eq!(refused.status, 403, "{export}: {}", refused.body);
        assert_eq!(
            refused.json(),
            json!({"error": "Forbidden", "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."})
        );
    }
    // The client gives up at once: a 403 is no reason to try again.
    sim.reset_counters();
    let error = zendesk
        .ticket_page(&slawatch::zendesk::client::ExportStart::StartTime(T0 - 3600), 100)
        .await
        .expect_err("refused");
    assert!(
        matches!(error, slawatch::zendesk::client::ZendeskError::Status { status: 403, .. }),
        "{error}"
    );
    assert_eq!(sim.request_count(CURSOR_EXPORT), 1);
    assert!(zendesk.event_page(T0 - 3600).await.is_err());
    // Everything else an agent may read.
    assert!(zendesk.ticket_fields().await.is_ok() && zendesk.groups().await.is_ok());
}

#[tokio::test]
async fn schedules_come_with_their_holidays_and_none_without_the_plan() {
    let (sim, api) = start().await;
    let zendesk = client(&sim);
    assert_eq!(
        zendesk.schedules().await.expect("schedules"),
        Some(Vec::new()),
        "available, none yet"
    );

    // Mon-Fri 09:00-17:00.
    let weekdays: Vec<(u32, u32)> = (1..=5).map(|day| (day * 1440 + 540, day * 1440 + 1020)).collect();
    let pacific = sim.add_schedule("Self-hosted", "Pacific Time (US & Canada)", &weekdays);
    let london = sim.add_schedule("EMEA", "London", &[(1980, 2460)]);
    sim.add_schedule_holiday(pacific, "Christmas", "2024-12-24", "2024-12-25")
        .expect("added");
    sim.add_schedule_holiday(pacific, "New Year", "2025-01-01", "2025-01-01")
        .expect("added");
    assert_eq!(sim.add_schedule_holiday(999, "Nowhere", "2024-01-01", "2024-01-01"), None);

    let schedules = zendesk.schedules().await.expect("schedules").expect("the plan has them");
    assert_eq!(schedules.len(), 2);
    let first = &schedules[0];
    assert_eq!(
        (first.id, first.name.as_str(), first.time_zone.as_str()),
        (pacific, "Self-hosted", "Pacific Time (US & Canada)")
    );
    assert_eq!(first.intervals, weekdays);
    let holidays: Vec<(&str, &str, &str)> = first
        .holidays
        .iter()
        .map(|h| (h.name.as_str(), h.start_date.as_str(), h.end_date.as_str()))
        .collect();
    assert_eq!(
        holidays,
        [("Christmas", "2024-12-24", "2024-12-25"), ("New Year", "2025-01-01", "2025-01-01")]
    );
    assert_eq!((schedules[1].id, schedules[1].intervals.as_slice()), (london, &[(1980, 2460)][..]));
    assert!(schedules[1].holidays.is_empty());

    let raw = api.get_ok("/api/v2/business_hours/schedules.json").await;
    assert_eq!(raw["schedules"][0]["intervals"][0], json!({"start_time": 1980, "end_time": 2460}));
    let raw = api
        .get_ok(&format!("/api/v2/business_hours/schedules/{pacific}/holidays.json"))
        .await;
    let holiday = &raw["holidays"][0];
    assert!(holiday["id"].is_u64());
    assert_eq!(holiday["start_date"], "2024-12-24");
    assert_eq!(api.get("/api/v2/business_hours/schedules/999/holidays.json").await.status, 404);

    // A plan without business hours: 403 on both, and the client says there are none.
    sim.set_business_hours_plan(false);
    assert_eq!(api.get("/api/v2/business_hours/schedules.json").await.status, 403);
    assert_eq!(
        api.get(&format!("/api/v2/business_hours/schedules/{pacific}/holidays.json"))
            .await
            .status,
        403
    );
    assert_eq!(zendesk.schedules().await.expect("schedules"), None);
}
