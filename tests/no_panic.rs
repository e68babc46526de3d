//! No panic on any input (issue 17, point 9): the Zendesk and GitHub decoders and the config
//! parser are fed random mutations of realistic payloads (tests/fixtures/no_panic/): truncations,
//! values of another type, numbers too large for any integer, lone-surrogate escapes and invalid
//! UTF-8, deep nesting, duplicate keys. Each input goes through the same path the clients and
//! `check-config` take (bytes → serde_json → the models and their readers; text →
//! `Config::parse`) and must come back as a value or a clear error: never a panic (debug builds
//! also panic on arithmetic overflow), never a hang.
//!
//! Every case runs in a thread of its own under `CASE_LIMIT`: a panic or a case still running
//! after it fails the property with the input. 256 cases a property by default;
//! `PROPTEST_CASES=5000 cargo test --test no_panic` looks harder.

use std::fmt;
use std::sync::{mpsc, Arc, LazyLock};
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::TestCaseError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use slawatch::config::{parse_threshold, Config, ConfigError, ConfigErrors};
use slawatch::github::models::{Issue, IssueComment};
use slawatch::retry::{parse_retry_after, MAX_RETRY_AFTER};
use slawatch::sla::policy::Threshold;
use slawatch::sla::time::{format_rfc3339, parse_rfc3339, parse_rfc3339_bytes, Duration as SlaDuration};
use slawatch::zendesk::models::{
    read_records, read_tickets, Change, Comment, EventPage, Organization, Ticket, TicketEvent, TicketPage, User,
};

/// The longest one case may run before it counts as a hang.
const CASE_LIMIT: Duration = Duration::from_secs(10);

fn config() -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES raises it; 256 keeps the file well under a minute in a debug build.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        // Failures become plain regression tests below, not files beside the tests.
        failure_persistence: None,
        // A hang costs CASE_LIMIT a shrink step: do not shrink one for long.
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Running a case under a time bound
// ---------------------------------------------------------------------------------------------

/// Runs `check` on each input in turn, in a thread of its own: a panic, an input still running
/// after `CASE_LIMIT`, or a problem `check` reports fails the property, naming the input.
fn bounded<T, F>(inputs: Vec<T>, check: F) -> Result<(), TestCaseError>
where
    T: fmt::Debug + Send + Sync + 'static,
    F: Fn(&T) -> Result<(), String> + Send + 'static,
{
    /// What the worker tells: it starts on an input, or it found a problem.
    enum Report {
        Starting(usize),
        Failed(usize, String),
    }
    let inputs = Arc::new(inputs);
    let (tell, told) = mpsc::channel();
    let worker = {
        let inputs = inputs.clone();
        std::thread::Builder::new()
            .name("no_panic case".into())
            .spawn(move || {
                for (i, input) in inputs.iter().enumerate() {
                    let _ = tell.send(Report::Starting(i));
                    if let Err(problem) = check(input) {
                        let _ = tell.send(Report::Failed(i, problem));
                        return;
                    }
                }
            })
            .map_err(|e| TestCaseError::fail(format!("cannot start a thread: {e}")))?
    };
    let mut at = 0;
    loop {
        match told.recv_timeout(CASE_LIMIT) {
            Ok(Report::Starting(i)) => at = i,
            Ok(Report::Failed(i, problem)) => {
                let _ = worker.join();
                return Err(TestCaseError::fail(format!("{problem}\non input {:?}", inputs[i])));
            }
            // The thread is left running: nothing can stop it.
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(TestCaseError::fail(format!(
                    "still running after {CASE_LIMIT:?} (a hang) on input {:?}",
                    inputs[at]
                )))
            }
            // Finished, or panicked.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return match worker.join() {
                    Ok(()) => Ok(()),
                    Err(payload) => {
                        let message = payload
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        Err(TestCaseError::fail(format!("panicked: {message}\non input {:?}", inputs[at])))
                    }
                };
            }
        }
    }
}

/// A plain test's `bounded`: panics with the problem.
fn bounded_test<T, F>(inputs: Vec<T>, check: F)
where
    T: fmt::Debug + Send + Sync + 'static,
    F: Fn(&T) -> Result<(), String> + Send + 'static,
{
    if let Err(e) = bounded(inputs, check) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// The payloads, and how the clients decode them
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    /// `GET /api/v2/incremental/tickets/cursor.json` (`ZendeskClient::ticket_page`).
    ZendeskTicketPage,
    /// `GET /api/v2/incremental/ticket_events.json` (`event_page`, then the poll reads its events).
    ZendeskEventPage,
    /// `GET /api/v2/users.json` (`agents`, through `list_all`).
    ZendeskUserPage,
    /// `GET /api/v2/users/show_many.json` (`users_by_id`).
    ZendeskUsersById,
    /// `GET /api/v2/organizations.json` (`organizations`, through `list_all`).
    ZendeskOrganizationPage,
    /// `GET /api/v2/tickets/{id}.json` (`ticket`).
    ZendeskTicket,
    /// `GET /api/v2/tickets/{id}/comments.json` (`latest_comments`).
    ZendeskComments,
    /// `GET /repos/{repo}/issues/{n}` and `POST /repos/{repo}/issues` (`issue`, `create_issue`).
    GithubIssue,
    /// `GET /repos/{repo}/issues?state=all` (`find_by_marker`).
    GithubIssues,
    /// `GET /search/issues` (`find_by_marker`).
    GithubSearch,
    /// `GET /repos/{repo}/issues/{n}/comments` (`comments`).
    GithubComments,
    /// `POST /repos/{repo}/issues/{n}/comments` (`comment`).
    GithubComment,
}

const PAYLOADS: [Payload; 12] = [
    Payload::ZendeskTicketPage,
    Payload::ZendeskEventPage,
    Payload::ZendeskUserPage,
    Payload::ZendeskUsersById,
    Payload::ZendeskOrganizationPage,
    Payload::ZendeskTicket,
    Payload::ZendeskComments,
    Payload::GithubIssue,
    Payload::GithubIssues,
    Payload::GithubSearch,
    Payload::GithubComments,
    Payload::GithubComment,
];

fn fixture(name: &str) -> Value {
    let text = match name {
        "tickets" => include_str!("fixtures/no_panic/zendesk-tickets-page.json"),
        "events" => include_str!("fixtures/no_panic/zendesk-ticket-events-page.json"),
        "users" => include_str!("fixtures/no_panic/zendesk-users-page.json"),
        "organizations" => include_str!("fixtures/no_panic/zendesk-organizations-page.json"),
        "ticket" => include_str!("fixtures/no_panic/zendesk-ticket.json"),
        "comments" => include_str!("fixtures/no_panic/zendesk-comments-page.json"),
        "issue" => include_str!("fixtures/no_panic/github-issue.json"),
        "issues" => include_str!("fixtures/no_panic/github-issues-list.json"),
        "search" => include_str!("fixtures/no_panic/github-search-issues.json"),
        "issue_comments" => include_str!("fixtures/no_panic/github-issue-comments.json"),
        _ => unreachable!("no fixture {name}"),
    };
    serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

impl Payload {
    /// The fixture, parsed once.
    fn seed(self) -> &'static Value {
        static SEEDS: LazyLock<Vec<Value>> = LazyLock::new(|| PAYLOADS.iter().map(|p| p.load()).collect());
        &SEEDS[self as usize]
    }

    /// The fixture, pretty-printed (whitespace for the byte mutations to land in).
    fn pretty(self) -> &'static [u8] {
        static PRETTY: LazyLock<Vec<Vec<u8>>> =
            LazyLock::new(|| PAYLOADS.iter().map(|p| serde_json::to_vec_pretty(p.seed()).unwrap()).collect());
        &PRETTY[self as usize]
    }

    fn load(self) -> Value {
        match self {
            Payload::ZendeskTicketPage => fixture("tickets"),
            Payload::ZendeskEventPage => fixture("events"),
            Payload::ZendeskUserPage | Payload::ZendeskUsersById => fixture("users"),
            Payload::ZendeskOrganizationPage => fixture("organizations"),
            Payload::ZendeskTicket => fixture("ticket"),
            Payload::ZendeskComments => fixture("comments"),
            Payload::GithubIssue => fixture("issue"),
            Payload::GithubIssues => fixture("issues"),
            Payload::GithubSearch => fixture("search"),
            Payload::GithubComments => fixture("issue_comments"),
            Payload::GithubComment => fixture("issue_comments")[0].clone(),
        }
    }

    /// Decodes `bytes` as the client does. `Ok(None)`: refused with an error that says why.
    fn decode(self, bytes: &[u8]) -> Result<Option<Decoded>, String> {
        match self {
            Payload::ZendeskTicketPage => {
                let Some(mut page) = json::<TicketPage>(bytes)? else {
                    return Ok(None);
                };
                let values = std::mem::take(&mut page.tickets);
                let count = values.len() as u64;
                let read = read_tickets(values);
                if read.tickets.len() as u64 + read.skipped != count {
                    return Err(format!(
                        "{count} tickets on the page, {} read and {} skipped: one went uncounted",
                        read.tickets.len(),
                        read.skipped
                    ));
                }
                for (id, _) in &read.unknown {
                    if !read.tickets.iter().any(|t| t.id == *id) {
                        return Err(format!("an unknown value noted for ticket {id}, which was not read"));
                    }
                }
                Ok(Some(Decoded::Tickets(read.tickets, read.skipped)))
            }
            Payload::ZendeskEventPage => {
                let Some(page) = json::<EventPage>(bytes)? else { return Ok(None) };
                let events: Vec<TicketEvent> = records(page.ticket_events)?;
                let changes = events.iter().map(|e| (e.creates(), e.changes())).collect();
                Ok(Some(Decoded::Events(events, changes)))
            }
            Payload::ZendeskUserPage => {
                let Some((items, _next)) = listing(bytes, "users")? else {
                    return Ok(None);
                };
                Ok(Some(Decoded::Users(records::<User>(items)?)))
            }
            Payload::ZendeskUsersById => {
                /// `users_by_id`'s wrapper.
                #[derive(Deserialize)]
                struct Many {
                    #[serde(default)]
                    users: Vec<Value>,
                }
                let Some(many) = json::<Many>(bytes)? else { return Ok(None) };
                Ok(Some(Decoded::Users(records::<User>(many.users)?)))
            }
            Payload::ZendeskOrganizationPage => {
                let Some((items, _next)) = listing(bytes, "organizations")? else {
                    return Ok(None);
                };
                Ok(Some(Decoded::Organizations(records::<Organization>(items)?)))
            }
            Payload::ZendeskTicket => {
                /// `ticket`'s wrapper.
                #[derive(Deserialize)]
                struct One {
                    ticket: Value,
                }
                let Some(one) = json::<One>(bytes)? else { return Ok(None) };
                let mut unknown = Vec::new();
                match Ticket::read(&one.ticket, &mut unknown) {
                    Ok(ticket) => Ok(Some(Decoded::Tickets(vec![ticket], 0))),
                    Err(reason) if reason.trim().is_empty() => Err("a ticket refused without a reason".into()),
                    Err(_) => Ok(None),
                }
            }
            Payload::ZendeskComments => {
                /// `latest_comments`' wrapper.
                #[derive(Deserialize)]
                struct Page {
                    #[serde(default)]
                    comments: Vec<Value>,
                }
                let Some(page) = json::<Page>(bytes)? else { return Ok(None) };
                let comments = records::<Comment>(page.comments)?;
                // What `add_internal_note_once` does with them.
                let _ = comments.iter().any(|c| c.body.contains("<!-- slawatch:101:sev1 -->"));
                Ok(Some(Decoded::Comments(comments)))
            }
            Payload::GithubIssue => Ok(json::<Issue>(bytes)?.map(|i| Decoded::Issues(vec![i]))),
            Payload::GithubIssues => Ok(json::<Vec<Issue>>(bytes)?.map(Decoded::Issues)),
            Payload::GithubSearch => {
                /// `github::models::SearchResult` (crate-private), field for field.
                #[derive(Deserialize)]
                struct SearchResult {
                    #[serde(default)]
                    items: Vec<Issue>,
                }
                Ok(json::<SearchResult>(bytes)?.map(|s| Decoded::Issues(s.items)))
            }
            Payload::GithubComments => Ok(json::<Vec<IssueComment>>(bytes)?.map(Decoded::IssueComments)),
            Payload::GithubComment => Ok(json::<IssueComment>(bytes)?.map(|c| Decoded::IssueComments(vec![c]))),
        }
    }
}

/// What a payload decoded to (compared in the seeds' own tests; otherwise only made).
#[derive(Debug)]
#[allow(dead_code)]
enum Decoded {
    Tickets(Vec<Ticket>, u64),
    Events(Vec<TicketEvent>, Vec<(bool, Vec<Change>)>),
    Users(Vec<User>),
    Organizations(Vec<Organization>),
    Comments(Vec<Comment>),
    Issues(Vec<Issue>),
    IssueComments(Vec<IssueComment>),
}

/// `serde_json::from_slice`, as every client calls it; an error must say something.
fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, String> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.to_string().trim().is_empty() => Err("refused without a message".into()),
        Err(_) => Ok(None),
    }
}

/// `read_records`, checking that every record is read or skipped and counted.
fn records<T: DeserializeOwned>(values: Vec<Value>) -> Result<Vec<T>, String> {
    let count = values.len() as u64;
    let mut skipped = 0;
    let read: Vec<T> = read_records(values, &mut skipped);
    if read.len() as u64 + skipped != count {
        return Err(format!(
            "{count} records, {} read and {skipped} skipped: one went uncounted",
            read.len()
        ));
    }
    Ok(read)
}

/// A page of a cursor-paginated list: its items, and the next page's path.
type Listing = (Vec<Value>, Option<String>);

/// One page of `ZendeskClient::list_all`: the items under `key`, and the next page's path.
fn listing(bytes: &[u8], key: &str) -> Result<Option<Listing>, String> {
    let Some(mut page) = json::<Value>(bytes)? else { return Ok(None) };
    let mut items = Vec::new();
    if let Some(Value::Array(found)) = page.get_mut(key).map(Value::take) {
        items = found;
    }
    let has_more = page.pointer("/meta/has_more").and_then(Value::as_bool).unwrap_or(false);
    let next = page
        .pointer("/links/next")
        .and_then(Value::as_str)
        .filter(|_| has_more)
        .and_then(|url| url.find("/api/v2/").map(|i| url[i..].to_string()));
    Ok(Some((items, next)))
}

/// A payload's bytes, shown so that they can be pasted into a regression test (`b"..."`).
struct Input {
    payload: Payload,
    bytes: Vec<u8>,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} b\"{}\"", self.payload, self.bytes.escape_ascii())
    }
}

fn decode_input(input: &Input) -> Result<(), String> {
    input.payload.decode(&input.bytes).map(drop)
}

// ---------------------------------------------------------------------------------------------
// Mutating JSON: the value tree, and the raw text
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    At(usize),
}

/// Every node's path, root first, in document order.
fn paths(value: &Value) -> Vec<Vec<Step>> {
    fn walk(value: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(here.clone());
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    here.push(Step::At(i));
                    walk(item, here, out);
                    here.pop();
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    here.push(Step::Key(key.clone()));
                    walk(item, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn node_mut<'a>(root: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |value, step| match step {
        Step::Key(key) => value.get_mut(key.as_str()),
        Step::At(i) => value.get_mut(*i),
    })
}

#[derive(Debug, Clone)]
enum JsonMutation {
    /// The node becomes a value of another type (or another value of its type).
    Replace(Index, Value),
    /// The node becomes raw JSON text: numbers no integer holds, escapes, nesting, garbage.
    Raw(Index, String),
    /// The node is removed from its object or array.
    Remove(Index),
    /// The object at (or around) the node gets one more key with a raw value: one of its own
    /// keys again (a duplicate) when `key` is None.
    AddKey(Index, Option<String>, String),
    /// The node is wrapped in `depth` arrays (or objects).
    Nest(Index, usize, bool),
}

/// The seed's text after `mutations`: raw parts go in as markers, swapped for their text last.
fn mutate_json(seed: &Value, mutations: &[JsonMutation]) -> Vec<u8> {
    let mut tree = seed.clone();
    let mut raws: Vec<(String, String)> = Vec::new();
    for mutation in mutations {
        let all = paths(&tree);
        let path = |at: &Index| all[at.index(all.len())].clone();
        match mutation {
            JsonMutation::Replace(at, value) => {
                if let Some(node) = node_mut(&mut tree, &path(at)) {
                    *node = value.clone();
                }
            }
            JsonMutation::Raw(at, raw) => {
                let marker = format!("@@raw{}@@", raws.len());
                if let Some(node) = node_mut(&mut tree, &path(at)) {
                    *node = Value::String(marker.clone());
                    raws.push((format!("\"{marker}\""), raw.clone()));
                }
            }
            JsonMutation::Remove(at) => {
                let path = path(at);
                if let Some((last, parent)) = path.split_last() {
                    match (node_mut(&mut tree, parent), last) {
                        (Some(Value::Object(map)), Step::Key(key)) => {
                            map.remove(key);
                        }
                        (Some(Value::Array(items)), Step::At(i)) if *i < items.len() => {
                            items.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            JsonMutation::AddKey(at, key, raw) => {
                // The object at the node, else the nearest object around it.
                let mut path = path(at);
                loop {
                    if matches!(node_mut(&mut tree, &path), Some(Value::Object(_))) || path.is_empty() {
                        break;
                    }
                    path.pop();
                }
                if let Some(Value::Object(map)) = node_mut(&mut tree, &path) {
                    let key = match key {
                        Some(key) => key.clone(),
                        None => serde_json::to_string(map.keys().next_back().map_or("id", String::as_str)).unwrap_or_default(),
                    };
                    let n = raws.len();
                    let (key_marker, value_marker) = (format!("@@key{n}@@"), format!("@@raw{n}@@"));
                    map.insert(key_marker.clone(), Value::String(value_marker.clone()));
                    raws.push((format!("\"{key_marker}\":\"{value_marker}\""), format!("{key}:{raw}")));
                }
            }
            JsonMutation::Nest(at, depth, objects) => {
                if let Some(node) = node_mut(&mut tree, &path(at)) {
                    let mut value = node.take();
                    for _ in 0..*depth {
                        value = if *objects {
                            Value::Object([("a".to_string(), value)].into_iter().collect())
                        } else {
                            Value::Array(vec![value])
                        };
                    }
                    *node = value;
                }
            }
        }
    }
    let mut text = serde_json::to_string(&tree).unwrap_or_default();
    for (marker, raw) in &raws {
        text = text.replacen(marker, raw, 1);
    }
    text.into_bytes()
}

#[derive(Debug, Clone)]
enum ByteMutation {
    /// Cut at this byte.
    Truncate(Index),
    /// Insert these bytes here.
    Insert(Index, Vec<u8>),
    /// Set this byte.
    Set(Index, u8),
    /// Remove up to this many bytes here.
    Delete(Index, usize),
    /// Repeat the next bytes here (duplicate keys, doubled brackets).
    Repeat(Index, usize),
}

fn mutate_bytes(seed: &[u8], mutations: &[ByteMutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        let len = bytes.len();
        let at = |i: &Index| i.index(len + 1);
        match mutation {
            ByteMutation::Truncate(i) => bytes.truncate(at(i)),
            ByteMutation::Insert(i, inserted) => {
                let at = at(i);
                bytes.splice(at..at, inserted.iter().copied());
            }
            ByteMutation::Set(i, b) if len > 0 => bytes[i.index(len)] = *b,
            ByteMutation::Set(..) => {}
            ByteMutation::Delete(i, n) => {
                let at = at(i);
                bytes.drain(at..(at + n).min(len));
            }
            ByteMutation::Repeat(i, n) => {
                let at = at(i);
                let span: Vec<u8> = bytes[at..(at + n).min(len)].to_vec();
                bytes.splice(at..at, span);
            }
        }
    }
    bytes
}

/// Names the decoders look for, so that generated objects look like real records.
const FIELD_NAMES: [&str; 28] = [
    "id",
    "ticket_id",
    "created_at",
    "updated_at",
    "status",
    "priority",
    "tags",
    "custom_fields",
    "value",
    "via",
    "channel",
    "score",
    "event_type",
    "type",
    "field_name",
    "child_events",
    "custom_ticket_fields",
    "author_id",
    "body",
    "public",
    "timestamp",
    "role",
    "organization_fields",
    "number",
    "state",
    "user",
    "login",
    "items",
];

/// Strings a decoder may choke on: ids and numbers as text, timestamps at and past the edges of
/// what exists, unicode, control characters, what the readers match on.
fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "",
            " ",
            "360012345",
            " 42 ",
            "-1",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775809",
            "1e308",
            "NaN",
            "2026-11-30T17:00:00Z",
            "0000-01-01T00:00:00Z",
            "0000-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-23:59",
            "2026-02-29T00:00:00Z",
            "2024-02-29T24:00:00Z",
            "2026-12-01T10:00:60Z",
            "2026-12-01T10:00:00.99999999999999999999999999Z",
            "2026-12-01T10:00:00+99:99",
            "+2026-12-01T10:00:00Z",
            "20261-12-01T10:00:00Z",
            "2026-12-01T10:00:00",
            "Comment",
            "Create",
            "Change",
            "tags",
            "priority",
            "status",
            "360000000001",
            "open",
            "DELETED",
            "\u{0}",
            "\u{feff}",
            "ü",
            "日本語のチケット",
            "💥",
            "\u{10ffff}",
            "/api/v2/",
            "https://acme.zendesk.com/api/v2/",
            "<!-- slawatch:101:sev1 -->",
        ])
        .prop_map(str::to_string),
        "\\PC{0,24}",
        "[0-9]{15,40}",
        (
            0u32..=9999,
            0u32..=13,
            0u32..=32,
            0u32..=25,
            0u32..=61,
            0u32..=61,
            select(vec!["Z", "z", "+00:00", "-23:59", "+24:00", ".5Z", ""])
        )
            .prop_map(|(y, mo, d, h, mi, s, zone)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{zone}")),
    ]
}

fn key_string() -> impl Strategy<Value = String> {
    prop_oneof![select(FIELD_NAMES.to_vec()).prop_map(str::to_string), odd_string()]
}

/// A value of any JSON type, leaning on the ones that overflow or mislead.
fn odd_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        select(vec![
            0i64,
            -1,
            1,
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            1_796_058_000,
            -62_167_219_200,
            253_402_300_799
        ])
        .prop_map(Value::from),
        select(vec![u64::MAX, u64::MAX - 1, 1 << 63, 1 << 53]).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        select(vec![
            1e308,
            -1e308,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            0.5,
            -0.0,
            1.8446744073709552e19,
            9.3e18,
            12.5
        ])
        .prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        odd_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key_string(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `n` openers (closed again when `close`) around a 1.
fn deep(opener: &str, closer: &str, n: usize, close: bool) -> String {
    let mut text = opener.repeat(n);
    text.push('1');
    if close {
        text.push_str(&closer.repeat(n));
    }
    text
}

/// Raw JSON text for a value: what serde_json's `Value` cannot hold, and what is not JSON.
fn raw_json() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "18446744073709551616",
            "-9223372036854775809",
            "18446744073709551615",
            "-9223372036854775808",
            "123456789012345678901234567890",
            "1e308",
            "-1e308",
            "1e309",
            "-1e400",
            "1e-400",
            "4.9e-324",
            "0.000000000000000000000000000000000001",
            "-0",
            "-0.0",
            "1E+2",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\uDFFF\\uD800\"",
            "\"\\ud800\\ud800\"",
            "\"\\ud800\\u0041\"",
            "\"\\udbff\\udfff\"",
            "\"a\\ud83d\"",
            "\"\\ud83d\\ude00\"",
            "\"\\u0000\"",
            "\"2026-12-01T10:00:00\\ud800Z\"",
            "\"\\u12\"",
            "\"\\x41\"",
            "\"\\",
            "\"\t\"",
            "\"unterminated",
            "NaN",
            "Infinity",
            "-",
            "01",
            "1.",
            ".5",
            "+1",
            "tru",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "[",
            "{",
            "}",
            "]",
            "",
        ])
        .prop_map(str::to_string),
        "-?[0-9]{19,45}",
        "-?[0-9]{1,5}(\\.[0-9]{1,20})?[eE][-+]?[0-9]{2,5}",
        (
            1usize..6000,
            select(vec![("[", "]"), ("{\"a\":", "}"), ("[{\"id\":", "}]")]),
            any::<bool>()
        )
            .prop_map(|(n, (open, close), closed)| deep(open, close, n, closed)),
    ]
}

/// Keys to add: a lone surrogate, a NUL, a key the decoders read.
fn raw_key() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => select(vec!["\"\\ud800\"", "\"\\u0000\"", "\"\"", "\"id\"", "\"tickets\"", "\"child_events\"", "\"\\u0069\\u0064\""])
            .prop_map(|k| Some(k.to_string())),
        1 => key_string().prop_map(|k| Some(serde_json::to_string(&k).unwrap_or_default())),
    ]
}

fn json_mutation() -> impl Strategy<Value = JsonMutation> {
    prop_oneof![
        4 => (any::<Index>(), odd_value()).prop_map(|(i, v)| JsonMutation::Replace(i, v)),
        3 => (any::<Index>(), raw_json()).prop_map(|(i, r)| JsonMutation::Raw(i, r)),
        2 => any::<Index>().prop_map(JsonMutation::Remove),
        2 => (any::<Index>(), raw_key(), raw_json()).prop_map(|(i, k, r)| JsonMutation::AddKey(i, k, r)),
        1 => (any::<Index>(), 1usize..300, any::<bool>()).prop_map(|(i, d, o)| JsonMutation::Nest(i, d, o)),
    ]
}

/// Bytes to insert: invalid UTF-8, an escape cut short, structure.
fn inserted_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        select(INSERTED.to_vec()).prop_map(<[u8]>::to_vec),
        prop::collection::vec(any::<u8>(), 1..8),
        (1usize..6000, select(OPENERS.to_vec())).prop_map(|(n, opener)| opener.repeat(n)),
    ]
}

/// Invalid UTF-8 (a lone lead byte, a lone continuation, an overlong form, an encoded surrogate,
/// past U+10FFFF, cut short), a BOM, a NUL, escapes cut short, structure.
const INSERTED: [&[u8]; 26] = [
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\x80",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xe2\x82",
    b"\xef\xbb\xbf",
    b"\0",
    b"\\ud800",
    b"\\udc00\\ud800",
    b"\\u",
    b"\\",
    b"\"",
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"id\":",
    b"-",
    b"e999",
    b"99999999999999999999",
];

const OPENERS: [&[u8]; 2] = [b"[", b"{\"a\":"];

fn byte_mutation() -> impl Strategy<Value = ByteMutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(ByteMutation::Truncate),
        4 => (any::<Index>(), inserted_bytes()).prop_map(|(i, b)| ByteMutation::Insert(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteMutation::Set(i, b)),
        1 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| ByteMutation::Delete(i, n)),
        1 => (any::<Index>(), 1usize..64).prop_map(|(i, n)| ByteMutation::Repeat(i, n)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Mutating TOML
// ---------------------------------------------------------------------------------------------

const EXAMPLE: &str = include_str!("../config.example.toml");
const EVERY_SECTION: &str = include_str!("fixtures/no_panic/config-every-section.toml");

/// A config text, shown so that it can be pasted into a regression test.
struct TomlInput(String);

impl fmt::Debug for TomlInput {
    /// A short text whole; a long one as where it leaves the closer of the two seeds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = &self.0;
        if text.len() <= 600 {
            return write!(f, "{text:?}");
        }
        let common = |seed: &str| seed.bytes().zip(text.bytes()).take_while(|(a, b)| a == b).count();
        let (name, seed) = [("config.example.toml", EXAMPLE), ("config-every-section.toml", EVERY_SECTION)]
            .into_iter()
            .max_by_key(|(_, seed)| common(seed))
            .unwrap_or(("config.example.toml", EXAMPLE));
        let at = char_boundary(text, common(seed));
        let line = text[..at].matches('\n').count() + 1;
        let from = char_boundary(text, at.saturating_sub(120));
        let to = char_boundary(text, at + 300);
        write!(
            f,
            "{name} ({} bytes, {} here) changed from line {line}: ...{:?}...",
            seed.len(),
            text.len(),
            &text[from..to]
        )
    }
}

/// `Config::parse`: a config or errors that each say what is wrong, and where (a line, or the
/// key, or the built-in default).
fn parse_config(input: &TomlInput) -> Result<(), String> {
    check_config_errors(&input.0, Config::parse("mutated.toml", &input.0))
}

fn check_config_errors<T>(text: &str, parsed: Result<T, ConfigErrors>) -> Result<(), String> {
    let Err(ConfigErrors(errors)) = parsed else { return Ok(()) };
    if errors.is_empty() {
        return Err("refused with no error".into());
    }
    let lines = text.lines().count() + 1;
    for e in &errors {
        if e.problem.trim().is_empty() {
            return Err(format!("an error without a problem: {e:?}"));
        }
        if e.file != "mutated.toml" {
            return Err(format!("an error naming another file: {e:?}"));
        }
        if e.line.is_none() && e.key.is_empty() && e.default_hint.is_none() {
            return Err(format!("an error naming neither a line nor a key: {e}"));
        }
        if e.line.is_some_and(|line| line == 0 || line > lines) {
            return Err(format!("an error at a line the file does not have: {e}"));
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum TomlMutation {
    /// Cut at this character.
    Truncate(Index),
    /// The value of this `key = value` line becomes raw TOML text.
    Value(Index, String),
    /// Insert this text at this character.
    Insert(Index, String),
    /// Write this line twice (a duplicate key, a table defined twice).
    DuplicateLine(Index),
}

fn char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The byte range of each `key = value` line's value.
fn value_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') && !trimmed.starts_with('[') {
            if let Some(eq) = line.find('=') {
                let end = line.trim_end_matches(['\n', '\r']).len();
                spans.push(start + eq + 1..start + end);
            }
        }
        start += line.len();
    }
    spans
}

fn mutate_toml(seed: &str, mutations: &[TomlMutation]) -> String {
    let mut text = seed.to_string();
    for mutation in mutations {
        match mutation {
            TomlMutation::Truncate(i) => {
                let at = char_boundary(&text, i.index(text.len() + 1));
                text.truncate(at);
            }
            TomlMutation::Value(i, raw) => {
                let spans = value_spans(&text);
                if !spans.is_empty() {
                    let span = spans[i.index(spans.len())].clone();
                    text.replace_range(span, &format!(" {raw}"));
                }
            }
            TomlMutation::Insert(i, inserted) => {
                let at = char_boundary(&text, i.index(text.len() + 1));
                text.insert_str(at, inserted);
            }
            TomlMutation::DuplicateLine(i) => {
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                if !lines.is_empty() {
                    let n = i.index(lines.len());
                    let mut out: String = lines[..=n].concat();
                    if !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(lines[n]);
                    out.push_str(&lines[n + 1..].concat());
                    text = out;
                }
            }
        }
    }
    text
}

/// Durations at and past every limit, and not durations at all.
fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "999999999999999d",
            "999999999999h",
            "-1s",
            "0s",
            "0w",
            "520w",
            "520w1s",
            "521w",
            "1s",
            "9223372036854775807s",
            "9223372036854775808s",
            "15250284452471w",
            "99999999999999999999w",
            "1w1w",
            "1h30",
            "5400",
            "",
            " 1h",
            "1h ",
            "1ʰ",
            "１h",
            "1.5h",
            "h",
            "1H",
            "💥",
            "\u{0}",
        ])
        .prop_map(str::to_string),
        "[0-9]{1,25}[wdhms]",
        "-?[0-9]{1,20}[wdhms]([0-9]{1,20}[wdhms]){0,3}",
        "\\PC{0,12}",
    ]
}

/// A TOML string literal holding `text`.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Raw TOML text for a value.
fn raw_toml() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec![
            // Integers at and past i64, and past the u32 and usize keys.
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "4294967295",
            "4294967296",
            "17592186044416",
            "17592186044415",
            "-1",
            "0",
            "+0",
            "-0",
            "00",
            "1__0",
            "0x7fffffffffffffff",
            "0xffffffffffffffff",
            "0o777",
            "0b1",
            // Floats.
            "1e308",
            "1e400",
            "-1e400",
            "inf",
            "-inf",
            "nan",
            "0.5",
            // Other types.
            "true",
            "[]",
            "[[]]",
            "[1, \"a\"]",
            "[\"a\", [\"b\"]]",
            "{}",
            "{ a = 1 }",
            "{ target = \"24h\", thresholds = [\"75%\", 3] }",
            "{ target = 24, thresholds = \"x\" }",
            "{ target = \"24h\", other = 1 }",
            "{ first_response = \"999999999999h\" }",
            "2026-12-01T00:00:00Z",
            "1979-05-27",
            "07:32:00",
            "1979-05-27T07:32:00.999999999999",
            "9999-12-31T23:59:59.999999999999999999+23:59",
            // Strings the keys read, and unicode.
            "\"150%\"",
            "\"-5%\"",
            "\"0%\"",
            "\"255%\"",
            "\"256%\"",
            "\"+5%\"",
            "\"NaN%\"",
            "\"inf%\"",
            "\"1e400%\"",
            "\"100.0000000001%\"",
            "\"99999999999999999999%\"",
            "\"999999999999h before\"",
            "\"-1s before\"",
            "\"0s before\"",
            "\"521w before\"",
            "\"before\"",
            "\"24:00-24:00\"",
            "\"00:00-24:00\"",
            "\"23:59-24:01\"",
            "\"9-17\"",
            "\"٠٩:٠٠-١٧:٠٠\"",
            "\"09:00-17:00-18:00\"",
            "\"9999-12-31\"",
            "\"0000-02-29\"",
            "\"02-30\"",
            "\"1979-02-29\"",
            "\"0000-01-01T00:00:00Z\"",
            "\"9999-12-31T23:59:59+23:59\"",
            "\"99999-01-01T00:00:00Z\"",
            "\"Mars/Olympus_Mons\"",
            "\"Etc/GMT+14\"",
            "\"0 0 0 31 2 *\"",
            "\"* * * * * * 99999\"",
            "\"0-4294967296 * * * * *\"",
            "\"99999999999999999999 * * * * *\"",
            "\"*/0 * * * * *\"",
            "\"1-0 * * * * *\"",
            "\"0 0 0 29 2 * 2100\"",
            "\"60 * * * * *\"",
            "\"@yearly\"",
            "\"0.0.0.0:99999\"",
            "\"[::1]:0\"",
            "\"[::]:9187\"",
            "\"localhost:9187\"",
            "\"(\"",
            "\"a{4294967295}\"",
            "\"(a{1000}){1000}\"",
            "\"\\\\p{Nope}\"",
            "\"{\"",
            "\"}\"",
            "\"{nope}\"",
            "\"{subject\"",
            "\"{💥}\"",
            "\"a/b/c\"",
            "\"-a/b\"",
            "\"ü/b\"",
            "\"💥\"",
            "\"\\u0000\"",
            "\"\\uD800\"",
            "\"\\U00110000\"",
            "\"\\U0010FFFF\"",
            "'literal\\'",
            "\"\"\"multi\nline\"\"\"",
            "\"unterminated",
            "",
        ])
        .prop_map(str::to_string),
        2 => duration_text().prop_map(|d| toml_string(&d)),
        1 => "-?[0-9]{19,30}",
        1 => "\\PC{0,12}".prop_map(|s| toml_string(&s)),
        1 => (1usize..5000, select(vec![("[", "]"), ("{ a = ", " }"), ("[{ a = ", " }]")]), any::<bool>())
            .prop_map(|(n, (open, close), closed)| deep(open, close, n, closed)),
    ]
}

fn inserted_text() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "\n[zendesk]\n",
            "\n[[goals]]\n",
            "\n[schedules.x]\n",
            "\nunknown = 1\n",
            "\n",
            "=",
            "\"",
            "'''",
            "[",
            "]",
            "{",
            "\u{feff}",
            "\r",
            "\0",
            "💥",
            "\u{10ffff}",
        ])
        .prop_map(str::to_string),
        "\\PC{1,8}",
        raw_toml(),
    ]
}

fn toml_mutation() -> impl Strategy<Value = TomlMutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(TomlMutation::Truncate),
        4 => (any::<Index>(), raw_toml()).prop_map(|(i, r)| TomlMutation::Value(i, r)),
        2 => (any::<Index>(), inserted_text()).prop_map(|(i, t)| TomlMutation::Insert(i, t)),
        1 => any::<Index>().prop_map(TomlMutation::DuplicateLine),
    ]
}

/// A TOML value of another type, for the tree-level swaps.
fn odd_toml_value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        select(vec![i64::MIN, i64::MAX, -1, 0, 1, 4_294_967_296, 17_592_186_044_416]).prop_map(toml::Value::Integer),
        select(vec![f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e308, -0.0, 0.5]).prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        duration_text().prop_map(toml::Value::String),
        odd_string().prop_map(toml::Value::String),
        Just(toml::Value::Datetime("2026-12-01T00:00:00Z".parse().expect("a TOML datetime"))),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4).prop_map(|m| toml::Value::Table(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone, PartialEq)]
enum TomlStep {
    Key(String),
    At(usize),
}

fn toml_paths(value: &toml::Value) -> Vec<Vec<TomlStep>> {
    fn walk(value: &toml::Value, here: &mut Vec<TomlStep>, out: &mut Vec<Vec<TomlStep>>) {
        out.push(here.clone());
        match value {
            toml::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    here.push(TomlStep::At(i));
                    walk(item, here, out);
                    here.pop();
                }
            }
            toml::Value::Table(table) => {
                for (key, item) in table {
                    here.push(TomlStep::Key(key.clone()));
                    walk(item, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    // Not the root: a config is a table.
    out.remove(0);
    out
}

fn toml_node_mut<'a>(root: &'a mut toml::Value, path: &[TomlStep]) -> Option<&'a mut toml::Value> {
    path.iter().try_fold(root, |value, step| match step {
        TomlStep::Key(key) => value.get_mut(key.as_str()),
        TomlStep::At(i) => value.get_mut(*i),
    })
}

/// The seed, parsed, with nodes swapped for values of another type, written out again.
fn swap_toml_values(seed: &str, swaps: &[(Index, toml::Value)]) -> Option<String> {
    let mut tree = toml::Value::Table(toml::from_str(seed).ok()?);
    for (at, value) in swaps {
        let all = toml_paths(&tree);
        if all.is_empty() {
            break;
        }
        if let Some(node) = toml_node_mut(&mut tree, &all[at.index(all.len())]) {
            *node = value.clone();
        }
    }
    toml::to_string(&tree).ok()
}

/// Where the line `key = ...` of `[section]` starts and ends in `text`, or fails the test.
fn find_key(text: &str, section: &str, key: &str) -> std::ops::Range<usize> {
    let header = format!("[{section}]\n");
    let start = text.find(&header).unwrap_or_else(|| panic!("no [{section}]")) + header.len();
    let prefix = format!("{key} = ");
    let at = text[start..]
        .split_inclusive('\n')
        .scan(start, |offset, line| {
            let here = *offset;
            *offset += line.len();
            Some((here, line))
        })
        .find(|(_, line)| line.starts_with(&prefix))
        .map(|(at, _)| at)
        .unwrap_or_else(|| panic!("no {key} in [{section}]"));
    at..at + text[at..].find('\n').unwrap_or(text.len() - at)
}

/// Sets `key` in `[section]` of `text` to `value` (raw TOML).
fn set(text: &str, section: &str, key: &str, value: &str) -> String {
    let line = find_key(text, section, key);
    format!("{}{key} = {value}{}", &text[..line.start], &text[line.end..])
}

/// The line of `key` in `[section]` of `text`.
fn key_line(text: &str, section: &str, key: &str) -> usize {
    text[..find_key(text, section, key).start].matches('\n').count() + 1
}

/// The duration keys of the every-section config: (section, key, the key errors name).
const DURATION_KEYS: [(&str, &str, &str); 12] = [
    ("alerts", "reminder_every", "alerts.reminder_every"),
    ("zendesk", "poll_interval", "zendesk.poll_interval"),
    ("zendesk", "timeout", "zendesk.timeout"),
    ("zendesk", "directory_refresh", "zendesk.directory_refresh"),
    ("store", "retain_closed", "store.retain_closed"),
    ("admin", "outbox_stuck_after", "admin.outbox_stuck_after"),
    ("notify", "backfill_window", "notify.backfill_window"),
    ("notify", "max_backoff", "notify.max_backoff"),
    ("escalation", "sync_interval", "escalation.sync_interval"),
    ("[goals]", "target", "goals[0].target"),
    ("tiers.premium", "targets.sev2", "tiers.premium.targets.sev2.first_response"),
    (
        "contracts.acme-elite",
        "targets.sev1",
        "contracts.acme-elite.targets.sev1.first_response",
    ),
];

/// The integer keys of the every-section config: (section, key, the key errors name).
const INTEGER_KEYS: [(&str, &str, &str); 11] = [
    ("store", "cache_mb", "store.cache_mb"),
    ("zendesk", "requests_per_minute", "zendesk.requests_per_minute"),
    ("zendesk", "export_requests_per_minute", "zendesk.export_requests_per_minute"),
    ("zendesk", "page_size", "zendesk.page_size"),
    ("first_response", "min_length", "first_response.min_length"),
    ("severity", "field_id", "severity.field_id"),
    ("report", "type_field", "report.type_field"),
    ("report", "product_area_field", "report.product_area_field"),
    ("escalation", "team_field", "escalation.team_field"),
    ("escalation", "request_type_field", "escalation.request_type_field"),
    ("escalation", "link_field", "escalation.link_field"),
];

/// A key's value, written the way the key takes it.
fn set_key(section: &str, key: &str, value: &str) -> String {
    let value = match key {
        // A tier's or contract's target: inside its inline table.
        "targets.sev2" | "targets.sev1" => format!("{{ first_response = {value} }}"),
        _ => value.to_string(),
    };
    set(EVERY_SECTION, section, key, &value)
}

/// Parses `text` (the every-section config with the key `name` set, at `line`): an error about
/// the key must name it and its line (a TOML syntax error names no key: its line is enough).
fn parse_naming(text: &str, name: &str, line: usize) -> Result<(), String> {
    let parsed = Config::parse("mutated.toml", text);
    check_config_errors(text, parsed.as_ref().map(drop).map_err(|e| e.clone()))?;
    if let Err(ConfigErrors(errors)) = parsed {
        let named = |e: &ConfigError| (e.key.starts_with(name) && e.line.is_some()) || (e.key.is_empty() && e.line == Some(line));
        if !errors.iter().any(named) {
            let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(format!(
                "refused, but no error names {name} and its line ({line}): {}",
                all.join(" | ")
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The seeds decode, and the config seeds parse: the properties start from real payloads
// ---------------------------------------------------------------------------------------------

#[test]
fn the_seeds_decode_into_every_record() {
    for payload in PAYLOADS {
        let bytes = serde_json::to_vec(payload.seed()).unwrap();
        let decoded = payload
            .decode(&bytes)
            .unwrap()
            .unwrap_or_else(|| panic!("{payload:?} does not decode"));
        let records = match &decoded {
            Decoded::Tickets(tickets, skipped) => {
                assert_eq!(*skipped, 0, "{payload:?}");
                tickets.len()
            }
            Decoded::Events(events, changes) => {
                let comments = changes
                    .iter()
                    .flat_map(|(_, c)| c)
                    .filter(|c| matches!(c, Change::Comment { .. }))
                    .count();
                assert_eq!(comments, 3, "comment events");
                assert!(changes[0].0, "the first audit creates its ticket");
                events.len()
            }
            Decoded::Users(users) => users.len(),
            Decoded::Organizations(organizations) => organizations.len(),
            Decoded::Comments(comments) => comments.len(),
            Decoded::Issues(issues) => issues.len(),
            Decoded::IssueComments(comments) => comments.len(),
        };
        let want = match payload {
            Payload::ZendeskTicketPage | Payload::ZendeskEventPage | Payload::ZendeskUserPage | Payload::ZendeskUsersById => 3,
            Payload::GithubIssues => 3,
            Payload::ZendeskOrganizationPage | Payload::ZendeskComments | Payload::GithubComments => 2,
            Payload::ZendeskTicket | Payload::GithubIssue | Payload::GithubSearch | Payload::GithubComment => 1,
        };
        assert_eq!(records, want, "{payload:?}: {decoded:?}");
    }
    let (_, next) = listing(&serde_json::to_vec(&fixture("users")).unwrap(), "users").unwrap().unwrap();
    assert!(next.unwrap().starts_with("/api/v2/users.json?page%5Bafter%5D="));
}

#[test]
fn the_config_seeds_parse() {
    for (name, text) in [("config.example.toml", EXAMPLE), ("config-every-section.toml", EVERY_SECTION)] {
        if let Err(e) = Config::parse(name, text) {
            panic!("{e}");
        }
    }
    let config = Config::parse("every", EVERY_SECTION).unwrap();
    assert!(config.zendesk.is_some() && config.escalation.is_some() && config.report.digest.is_some());
    assert_eq!(config.policy.goals.len(), 2);
    // The helpers that set one key find each key they are given.
    for (section, key, _) in DURATION_KEYS.iter().chain(&INTEGER_KEYS) {
        let _ = set_key(section, key, "1");
    }
    assert!(!value_spans(EXAMPLE).is_empty());
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Values of another type, raw numbers and escapes, removed nodes, added and duplicate
    /// keys, nesting: applied to every payload.
    #[test]
    fn json_value_mutations_decode_or_fail_clearly(mutations in prop::collection::vec(json_mutation(), 1..5)) {
        let inputs: Vec<Input> = PAYLOADS
            .iter()
            .map(|&payload| Input { payload, bytes: mutate_json(payload.seed(), &mutations) })
            .collect();
        bounded(inputs, decode_input)?;
    }

    /// Truncations, invalid UTF-8, cut escapes, deep nesting, changed and repeated bytes, in
    /// the raw (pretty-printed) text of every payload.
    #[test]
    fn json_byte_mutations_decode_or_fail_clearly(mutations in prop::collection::vec(byte_mutation(), 1..4)) {
        let inputs: Vec<Input> = PAYLOADS
            .iter()
            .map(|&payload| Input { payload, bytes: mutate_bytes(payload.pretty(), &mutations) })
            .collect();
        bounded(inputs, decode_input)?;
    }

    /// Bytes that were never JSON.
    #[test]
    fn arbitrary_bytes_decode_or_fail_clearly(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let inputs: Vec<Input> = PAYLOADS.iter().map(|&payload| Input { payload, bytes: bytes.clone() }).collect();
        bounded(inputs, decode_input)?;
    }

    /// Truncations, values of another type, huge integers, invalid durations and thresholds,
    /// unicode, deep inline tables and arrays, duplicate lines: in both config seeds.
    #[test]
    fn toml_text_mutations_parse_or_fail_clearly(
        seed in select(vec![EXAMPLE, EVERY_SECTION]),
        mutations in prop::collection::vec(toml_mutation(), 1..4),
    ) {
        bounded(vec![TomlInput(mutate_toml(seed, &mutations))], parse_config)?;
    }

    /// Any node of a config seed swapped for a value of another type.
    #[test]
    fn toml_value_swaps_parse_or_fail_clearly(
        seed in select(vec![EXAMPLE, EVERY_SECTION]),
        swaps in prop::collection::vec((any::<Index>(), odd_toml_value()), 1..4),
    ) {
        if let Some(text) = swap_toml_values(seed, &swaps) {
            bounded(vec![TomlInput(text)], parse_config)?;
        }
    }

    /// Text that was never a config.
    #[test]
    fn arbitrary_text_parses_or_fails_clearly(text in "\\PC{0,200}") {
        bounded(vec![TomlInput(text)], parse_config)?;
    }

    /// Every duration key, set to durations past every limit: a value, or an error naming the
    /// key and its line.
    #[test]
    fn config_durations_are_read_or_refused_by_name(
        (section, key, name) in select(DURATION_KEYS.to_vec()),
        duration in duration_text(),
    ) {
        let text = set_key(section, key, &toml_string(&duration));
        let line = key_line(&text, section, key);
        bounded(vec![(name, line, TomlInput(text))], |(name, line, input)| parse_naming(&input.0, name, *line))?;
    }

    /// Every integer key, set to integers past every type's range.
    #[test]
    fn config_integers_are_read_or_refused_by_name(
        (section, key, name) in select(INTEGER_KEYS.to_vec()),
        number in prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            select(vec![i64::MIN, i64::MAX, -1, 0, 4_294_967_296, 17_592_186_044_416]).prop_map(|n| n.to_string()),
            "-?[0-9]{19,30}",
        ],
    ) {
        let text = set_key(section, key, &number);
        let line = key_line(&text, section, key);
        bounded(vec![(name, line, TomlInput(text))], |(name, line, input)| parse_naming(&input.0, name, *line))?;
    }

    /// Alert thresholds: read within their bounds, or refused naming `alerts.thresholds`.
    #[test]
    fn thresholds_are_read_within_bounds_or_refused(
        text in prop_oneof![
            select(vec!["75%", "0%", "100%", "255%", "256%", "-1%", "+5%", "%", " 5 % ", "NaN%", "1e400%", "2h before", "0s before", "-1s before", "521w before", "999999999999999d before", "99999999999999999999w before", "before", "1h  before"]).prop_map(str::to_string),
            "[0-9]{1,25}%",
            duration_text().prop_map(|d| format!("{d} before")),
            "\\PC{0,16}",
        ]
    ) {
        bounded(vec![text], |text| {
            match parse_threshold(text) {
                Some(Threshold::Percent(p)) if !(1..=99).contains(&p) => Err(format!("{p}% read")),
                Some(Threshold::Before(d)) if d.0 <= 0 => Err(format!("a lead of {d:?} read")),
                _ => Ok(()),
            }?;
            let config = set(EVERY_SECTION, "alerts", "thresholds", &format!("[{}]", toml_string(text)));
            parse_naming(&config, "alerts.thresholds", key_line(&config, "alerts", "thresholds"))
        })?;
    }

    /// Durations: read as a non-negative count of seconds that prints back to itself, or refused.
    #[test]
    fn durations_are_read_exactly_or_refused(text in duration_text()) {
        bounded(vec![text], |text| match SlaDuration::parse(text) {
            Ok(d) if d.0 < 0 => Err(format!("{d:?} read")),
            Ok(d) if SlaDuration::parse(&d.to_string()) != Ok(d) => Err(format!("{d:?} prints as {d}, which reads otherwise")),
            Ok(_) => Ok(()),
            Err(e) if e.to_string().is_empty() => Err("refused without a message".into()),
            Err(_) => Ok(()),
        })?;
    }

    /// Timestamps with absurd years, months, offsets and fractions: an instant within the years
    /// RFC 3339 can write (0000-9999, give or take a day of offset), or refused.
    #[test]
    fn timestamps_are_read_within_range_or_refused(
        text in prop_oneof![
            odd_string(),
            (
                prop_oneof![Just("0000".to_string()), Just("9999".to_string()), "[0-9]{1,6}", "-[0-9]{4}", "\\+[0-9]{4,6}"],
                0u32..=99, 0u32..=99, 0u32..=99, 0u32..=99, 0u32..=99,
                prop_oneof![Just(String::new()), "\\.[0-9]{0,40}"],
                select(vec!["Z", "z", "+23:59", "-23:59", "+24:00", "+00:60", "-99:99", "+0100", "", "Z ", "ZZ", "+1:00"]),
                select(vec!["T", "t", " ", "_"]),
            )
                .prop_map(|(y, mo, d, h, mi, s, frac, zone, sep)| format!("{y}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{frac}{zone}")),
        ]
    ) {
        const EARLIEST: i64 = -62_167_219_200 - 86_400; // 0000-01-01T00:00:00Z, less a day
        const LATEST: i64 = 253_402_300_799 + 86_400; // 9999-12-31T23:59:59Z, and a day
        bounded(vec![text], |text| match parse_rfc3339(text) {
            Ok(t) if !(EARLIEST..=LATEST).contains(&t) => Err(format!("read as {t}, outside the years RFC 3339 writes")),
            Ok(t) => {
                let _ = format_rfc3339(t);
                Ok(())
            }
            Err(_) => Ok(()),
        })?;
    }

    /// Timestamps as raw bytes, and any instant formatted.
    #[test]
    fn timestamp_bytes_and_instants_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..40), t in any::<i64>()) {
        bounded(vec![(bytes, t)], |(bytes, t)| {
            let _ = parse_rfc3339_bytes(bytes);
            let _ = format_rfc3339(*t);
            Ok(())
        })?;
    }

    /// Retry-After: delay-seconds past u64, negative, HTTP dates with absurd years and zones,
    /// garbage; at any "now". Always None or a wait within 1 s ..= MAX_RETRY_AFTER.
    #[test]
    fn retry_after_is_clamped_or_refused(
        value in prop_oneof![
            select(vec!["0", "30", "-1", "18446744073709551615", "18446744073709551616", "99999999999999999999999", "1e3", "+5", " 7 ", "", "Wed, 02 Dec 2026 06:01:30 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Fri, 31 Dec 9999 23:59:59 -2359", "Mon, 01 Jan 0000 00:00:00 +2359"]).prop_map(str::to_string),
            "[0-9]{1,30}",
            "-[0-9]{1,20}",
            (
                select(vec!["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Xyz"]),
                0u32..=40,
                select(vec!["Jan", "Feb", "Dec", "Foo"]),
                prop_oneof![0i64..=99_999, any::<i64>()],
                0u32..=99, 0u32..=99, 0u32..=99,
                select(vec!["GMT", "UT", "UTC", "Z", "+0000", "-2359", "+2400", "+9999", "EST", "PDT", "A", ""]),
            )
                .prop_map(|(wd, d, mo, y, h, mi, s, zone)| format!("{wd}, {d:02} {mo} {y} {h:02}:{mi:02}:{s:02} {zone}")),
            "\\PC{0,40}",
        ],
        now in prop_oneof![any::<i64>(), select(vec![i64::MIN, i64::MAX, 0, -1]), 0i64..4_000_000_000],
    ) {
        bounded(vec![(value, now)], |(value, now)| match parse_retry_after(Some(value), *now) {
            Some(wait) if wait < Duration::from_secs(1) || wait > MAX_RETRY_AFTER => Err(format!("a wait of {wait:?}")),
            _ => Ok(()),
        })?;
    }
}

// ---------------------------------------------------------------------------------------------
// Exhaustive checks, and the regressions the properties found
// ---------------------------------------------------------------------------------------------

/// Every payload cut at every byte.
#[test]
fn every_truncation_of_every_payload_fails_clearly() {
    let inputs: Vec<Input> = PAYLOADS
        .iter()
        .flat_map(|&payload| {
            let seed = payload.pretty();
            (0..seed.len()).map(move |at| Input {
                payload,
                bytes: seed[..at].to_vec(),
            })
        })
        .collect();
    bounded_test(inputs, |input| match input.payload.decode(&input.bytes)? {
        Some(decoded) => Err(format!("a cut payload decoded: {decoded:?}")),
        None => Ok(()),
    });
}

/// Both config seeds cut inside every line that is not a comment: in its middle, and before
/// its last character (a closing quote or bracket). Cuts at a line's end are mostly valid TOML,
/// and the random truncations above cover them.
#[test]
fn every_line_of_the_config_seeds_cut_fails_clearly() {
    let mut inputs = Vec::new();
    for seed in [EXAMPLE, EVERY_SECTION] {
        let mut start = 0;
        for line in seed.split_inclusive('\n') {
            let content = line.trim_end();
            if !content.trim_start().starts_with('#') && content.len() > 1 {
                for cut in [content.len() / 2, content.len() - 1] {
                    inputs.push(TomlInput(seed[..char_boundary(seed, start + cut)].to_string()));
                }
            }
            start += line.len();
        }
    }
    bounded_test(inputs, parse_config);
}

/// Nesting far past any parser's recursion limit, in JSON and in TOML.
#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let mut inputs = Vec::new();
    for payload in PAYLOADS {
        for depth in [127, 128, 129, 1_000, 100_000] {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                inputs.push(Input {
                    payload,
                    bytes: deep(open, close, depth, true).into_bytes(),
                });
                let seed = serde_json::to_string(payload.seed()).unwrap();
                // Deep inside the first value of the payload.
                let at = seed.find(':').map_or(1, |i| i + 1);
                let nested = format!("{}{}{}", &seed[..at], deep(open, close, depth, false), &seed[at..]);
                inputs.push(Input {
                    payload,
                    bytes: nested.into_bytes(),
                });
            }
        }
    }
    bounded_test(inputs, decode_input);
    let mut configs = Vec::new();
    for depth in [10, 100, 1_000, 100_000] {
        for (open, close) in [("[", "]"), ("{ a = ", " }")] {
            configs.push(TomlInput(format!("[alerts]\nthresholds = {}\n", deep(open, close, depth, true))));
            configs.push(TomlInput(set(
                EVERY_SECTION,
                "tiers.premium",
                "targets.sev2",
                &deep(open, close, depth, true),
            )));
        }
    }
    bounded_test(configs, parse_config);
}

/// Lone surrogates, in values and keys: refused by serde_json as the JSON they are not.
#[test]
fn lone_surrogate_escapes_fail_clearly() {
    let cases: [&[u8]; 4] = [
        br#"{"tickets":[{"id":1,"subject":"\ud800","created_at":"2026-11-30T17:00:00Z","updated_at":"2026-11-30T17:00:00Z"}]}"#,
        br#"{"tickets":[{"\udc00":1}]}"#,
        br#"{"ticket_events":[{"id":1,"ticket_id":2,"timestamp":3,"child_events":[{"event_type":"Comment","body":"a\ud83d"}]}]}"#,
        br#"{"items":[{"number":1,"state":"open","body":"\uDFFF\uD800"}]}"#,
    ];
    let inputs: Vec<Input> = PAYLOADS
        .iter()
        .flat_map(|&payload| {
            cases.iter().map(move |bytes| Input {
                payload,
                bytes: bytes.to_vec(),
            })
        })
        .collect();
    bounded_test(inputs, decode_input);
}

/// A config file that is not UTF-8 is refused by `Config::load` as unreadable.
#[test]
fn a_config_file_that_is_not_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let mut bytes = EVERY_SECTION.as_bytes().to_vec();
    bytes.splice(10..10, *b"\xff\xfe\xed\xa0\x80");
    std::fs::write(&path, bytes).unwrap();
    let errors = Config::load(&path).unwrap_err();
    assert!(errors.to_string().contains("cannot read"), "{errors}");
}

/// Found by `config_integers_are_read_or_refused_by_name`: the store's cache in bytes
/// (`cache_mb` × 1 MiB) overflowed u64: a panic in debug builds, a tiny cache in release ones.
#[test]
fn a_cache_too_large_to_count_in_bytes_is_refused_by_name() {
    for mb in ["9223372036854775807", "17592186044416"] {
        let errors = Config::parse("mutated.toml", &format!("[store]\ncache_mb = {mb}\n")).unwrap_err();
        assert_eq!(
            errors.to_string(),
            format!("mutated.toml:2: store.cache_mb: {mb} MiB is too large (at most 17592186044415)")
        );
    }
    let config = Config::parse("mutated.toml", "[store]\ncache_mb = 17592186044415\n").unwrap();
    assert_eq!(config.store.cache_bytes, 17_592_186_044_415 << 20, "the largest that fits is kept");
}

/// Found by `config_integers_are_read_or_refused_by_name`: `zendesk.page_size` out of range was
/// refused without its line.
#[test]
fn a_page_size_out_of_range_is_refused_at_its_line() {
    let text =
        "[zendesk]\nurl = \"https://acme.zendesk.com\"\noauth_token_env = \"ZENDESK_OAUTH_TOKEN\"\npage_size = 9223372036854775807\n";
    let errors = Config::parse("mutated.toml", text).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "mutated.toml:4: zendesk.page_size: 9223372036854775807 is not between 1 and 1000"
    );
}

/// Found by `toml_text_mutations_parse_or_fail_clearly` and the truncations: toml leaves some
/// syntax errors without a message (a lone carriage return, a NUL, a file cut where a value is
/// expected), and the error said nothing but the line.
#[test]
fn toml_syntax_errors_without_a_message_say_what_is_wrong() {
    let cases = [
        (
            "a = 1\n\rb = 2\n",
            2,
            "invalid TOML: the control character '\\r' is not allowed here",
        ),
        (
            "[alerts]\nthresholds = [\r\"75%\"]\n",
            2,
            "invalid TOML: the control character '\\r' is not allowed here",
        ),
        (
            "# a comment\0\n",
            1,
            "invalid TOML: the control character '\\0' is not allowed here",
        ),
        (
            "[alerts]\nreminder_every = ",
            2,
            "invalid TOML: the file ends where a value, or the end of a string, array or table, is expected",
        ),
        (
            "[alerts]\nthresholds = [\n  # the thresholds",
            3,
            "invalid TOML: the file ends where a value, or the end of a string, array or table, is expected",
        ),
    ];
    for (text, line, problem) in cases {
        let errors = Config::parse("mutated.toml", text).unwrap_err();
        assert_eq!(errors.to_string(), format!("mutated.toml:{line}: {problem}"), "{text:?}");
    }
}
