//! The status page at `/`, as a support lead meets it: one self-contained document behind the
//! admin token, and, in a real headless Chromium, the tickets of `/status` with countdowns
//! that move without a refresh, the month's KPIs and the daemon's health.
//!
//! The browser test needs Debian's `chromium` (`.ci/run` installs it). Without it the test says
//! loudly that it did not run, unless `CI` or `SLAWATCH_REQUIRE_BROWSER=1` is set: then it fails.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Harness;
use regex::Regex;
use serde_json::{json, Map, Value};
use slawatch::sim::zendesk::NewTicket;
use slawatch::sla::clock::Event;
use slawatch::store::{StoredEvent, TicketRecord};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "page-admin-token";
/// Customer text that would be markup if the page wrote it as HTML.
const TRICKY_SUBJECT: &str = r#"<img src=x onerror="document.title='owned'"> Login <b>fails</b> & SSO"#;

struct World {
    h: Harness,
    base: String,
    stop: CancellationToken,
    /// First response due 6 h before now.
    breached: u64,
    /// First response due in 23 h.
    soon: u64,
    /// First response due in 166 h.
    later: u64,
}

/// Three open tickets of a managed customer (the calendar clock: sev1 first response in 24 h,
/// sev2 in a week), created so their deadlines sit around the real now: the browser counts
/// them down with its own clock. The daemon's (virtual) clock stops at the real now, after a
/// poll; the admin HTTP serves it with a token. With `poll_error`, the polls since then failed so
/// long that `/readyz`'s poll check fails.
async fn world_with(poll_error: Option<&str>) -> World {
    let real_now = slawatch::clock::Clock::system().now();
    let mut h = Harness::build(real_now - 30 * 3600, 1000, |_| String::new()).await;
    let org = h
        .sim
        .add_organization("Globex", &[], Map::from_iter([("deployment".to_string(), json!("managed"))]));
    let customer = h.sim.add_user("Gale Customer", "gale@globex.example", "end-user", Some(org));
    let ticket = |h: &Harness, subject: &str, severity: &str| {
        h.sim.create_ticket(NewTicket {
            subject: subject.into(),
            body: "It stopped working this morning.".into(),
            requester_id: customer,
            tags: vec![severity.into()],
            ..NewTicket::default()
        })
    };
    let breached = ticket(&h, "Export stalls after the upgrade", "sev1");
    h.clock.set(real_now - 2 * 3600);
    let later = ticket(&h, "Dashboard slow on Mondays", "sev2");
    h.clock.set(real_now - 3600);
    let soon = ticket(&h, TRICKY_SUBJECT, "sev1");
    h.clock.set(real_now - 61);
    assert!(h.poll().await.complete);
    h.engine.health.poll_succeeded(h.clock.now_ms());
    if let Some(error) = poll_error {
        h.clock.set(real_now + 3600);
        h.engine.health.poll_failed(error.to_string());
    }

    let (base, stop) = serve(&mut h).await;
    World {
        h,
        base,
        stop,
        breached,
        soon,
        later,
    }
}

async fn world() -> World {
    world_with(None).await
}

async fn get(url: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn get_json(url: &str) -> Value {
    let response = get(url, Some(TOKEN)).await;
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.json().await.unwrap()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The page's `data-config` (the month, its weeks and the Zendesk address), from its HTML.
fn page_config(html: &str) -> Value {
    let attribute = Regex::new(r#"<body data-config="([^"]*)""#).unwrap();
    let found = attribute.captures(html).unwrap_or_else(|| panic!("no data-config in the page"));
    serde_json::from_str(&unescape(&found[1])).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_one_self_contained_document_behind_the_token() {
    let w = world().await;
    let page = format!("{}/", w.base);
    assert_eq!(get(&page, None).await.status(), 401);
    assert_eq!(get(&format!("{page}?token=wrong"), None).await.status(), 401);
    assert_eq!(get(&format!("{page}?token={TOKEN}x"), None).await.status(), 401);
    // The query parameter is for the page alone: the JSON endpoints take the header.
    assert_eq!(get(&format!("{}/status?token={TOKEN}", w.base), None).await.status(), 401);
    assert_eq!(get(&page, Some(TOKEN)).await.status(), 200);

    let response = get(&format!("{page}?token={TOKEN}"), None).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let policy = headers["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.starts_with("default-src 'none'; script-src 'nonce-"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let html = response.text().await.unwrap();

    // Nothing is fetched from elsewhere: no linked file, no source, no CSS import; the only
    // addresses are SVG's namespace and the Zendesk links' base, inside the configuration.
    for asset in ["<link", " src=", "@import", "url(", "<iframe", "<object", "<embed"] {
        assert!(!html.contains(asset), "the page holds {asset:?}");
    }
    let nonce = Regex::new(r"'nonce-([A-Za-z0-9+/=]+)'").unwrap().captures(&policy).unwrap()[1].to_string();
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(html.contains(&format!("<style nonce=\"{nonce}\">")));
    let config = page_config(&html);
    let zendesk = w.h.sim.base_url();
    assert_eq!(config["zendesk"], json!(zendesk.trim_end_matches('/')));
    let addresses = Regex::new(r#"https?://[^"'\s&]*"#).unwrap();
    for address in addresses.find_iter(&html) {
        let address = address.as_str();
        assert!(
            address == "http://www.w3.org/2000/svg" || address.starts_with(zendesk.trim_end_matches('/')),
            "{address} in the page"
        );
    }
    // The month in the report's zone, cut into weeks that cover it.
    let (month_from, month_to) = (config["month"]["from"].as_i64().unwrap(), config["month"]["to"].as_i64().unwrap());
    let now = w.h.clock.now();
    assert!(month_from <= now && now < month_to, "{config}");
    let weeks = config["weeks"].as_array().unwrap();
    assert_eq!(weeks[0]["from"].as_i64(), Some(month_from));
    assert_eq!(weeks.last().unwrap()["to"].as_i64(), Some(month_to));
    // Every request gives a new nonce.
    let again = get(&page, Some(TOKEN)).await;
    assert_ne!(again.headers()["content-security-policy"].to_str().unwrap(), policy);
    w.stop.cancel();
}

/// Chromium, if installed: Debian's `chromium` (or `SLAWATCH_CHROMIUM`).
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SLAWATCH_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Chromium for a browser test; without it, says loudly that the test was not run (or fails,
/// where CI requires it).
fn browser() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        if browser_required() {
            panic!("chromium is not installed, and CI or SLAWATCH_REQUIRE_BROWSER=1 requires the browser test");
        }
        // Straight to the process's stderr: the test harness would hide eprintln! of a test that
        // passes.
        let banner = "!".repeat(78);
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n{banner}\n!! THE STATUS PAGE BROWSER TEST WAS NOT RUN: chromium is not installed.\n\
             !! Install it (apt-get install chromium) or set SLAWATCH_CHROMIUM=/path/to/it.\n{banner}\n"
        );
    }
    found
}

/// Where the browser tests keep their screenshots and DOMs: `target/status-page/`.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("status-page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn browser_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
        || std::env::var("SLAWATCH_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// One headless load of `url`: the DOM once the page's script has run for 3 s of virtual time
/// (fetches pause it), and a screenshot of that moment in `screenshot`.
fn load(chromium: &Path, url: &str, screenshot: &Path) -> String {
    load_with(chromium, url, screenshot, 3000, (1280, 900))
}

/// One headless load of `url` in a window of `window` pixels, the page's script run for
/// `budget_ms` of virtual time (its timers fire as they would in that time).
fn load_with(chromium: &Path, url: &str, screenshot: &Path, budget_ms: u32, window: (u32, u32)) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--window-size={},{}", window.0, window.1))
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--dump-dom")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", chromium.display()));
    // Read as it writes: a DOM of thousands of rows does not fit in the pipe.
    let drain = |mut from: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = from.read_to_end(&mut out);
            out
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within 120 s:\n{}",
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = String::from_utf8_lossy(&stdout.join().unwrap()).to_string();
    assert!(
        status.success() && dom.contains("</html>"),
        "chromium failed ({status}):\n{}",
        String::from_utf8_lossy(&stderr.join().unwrap())
    );
    dom
}

/// A section's rows as the browser rendered them: ticket id and countdown text, in order.
fn rows(dom: &str, section: &str) -> Vec<(u64, String)> {
    let start = dom
        .find(&format!("<section id=\"{section}\">"))
        .unwrap_or_else(|| panic!("no section {section}"));
    let end = start + dom[start..].find("</section>").unwrap();
    let row = Regex::new(r#"(?s)<tr data-ticket-id="(\d+)".*?</tr>"#).unwrap();
    let countdown = Regex::new(r#"<span class="countdown[^"]*"[^>]*>([^<]*)</span>"#).unwrap();
    row.captures_iter(&dom[start..end])
        .map(|r| {
            let text = countdown.captures(&r[0]).map(|c| c[1].to_string()).unwrap_or_default();
            (r[1].parse().unwrap(), text)
        })
        .collect()
}

/// `1d 02h 03m 04s left` or `6h 00m 12s overdue` in seconds, signed (negative: overdue).
fn seconds(countdown: &str) -> i64 {
    let parts = Regex::new(r"^(?:(\d+)d )?(?:(\d+)h )?(\d+)m (\d+)s (left|to the deadline|overdue)$").unwrap();
    let c = parts
        .captures(countdown)
        .unwrap_or_else(|| panic!("{countdown:?} is not a countdown"));
    let n = |i: usize| c.get(i).map_or(0, |m| m.as_str().parse::<i64>().unwrap());
    let total = n(1) * 86_400 + n(2) * 3600 + n(3) * 60 + n(4);
    if &c[5] != "overdue" {
        total
    } else {
        -total
    }
}

/// The text of the element carrying `attribute` (its first text node after the tag).
fn text_after(dom: &str, attribute: &str) -> String {
    let at = dom.find(attribute).unwrap_or_else(|| panic!("no {attribute} in the page"));
    let pattern = Regex::new(r#"<div class="value">([^<]*)</div>"#).unwrap();
    pattern.captures(&dom[at..]).map(|c| c[1].to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_countdowns_move_and_the_rows_are_those_of_status() {
    let Some(chromium) = browser() else { return };
    let w = world().await;
    let status = get_json(&format!("{}/status", w.base)).await;
    let status = status.as_array().unwrap().clone();
    let ids_where = |wanted: &dyn Fn(&Value) -> bool| -> Vec<u64> {
        status
            .iter()
            .filter(|r| wanted(r))
            .map(|r| r["ticket_id"].as_u64().unwrap())
            .collect()
    };
    let state = |r: &Value, metric: &str, s: &str| r["metrics"][metric]["state"] == s;
    let breached_in_status = ids_where(&|r| state(r, "first_response", "breached") || state(r, "resolution", "breached"));
    let running_in_status = ids_where(&|r| {
        !(state(r, "first_response", "breached") || state(r, "resolution", "breached"))
            && (state(r, "first_response", "running") || state(r, "resolution", "running"))
    });
    assert_eq!(breached_in_status, [w.breached]);
    assert_eq!(running_in_status, [w.soon, w.later]);

    let artifacts = artifacts();
    let url = format!("{}/?token={TOKEN}", w.base);
    let shots = [artifacts.join("status-page-1.png"), artifacts.join("status-page-2.png")];
    let (chromium_1, url_1, shot_1) = (chromium.clone(), url.clone(), shots[0].clone());
    let first = tokio::task::spawn_blocking(move || load(&chromium_1, &url_1, &shot_1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (url_2, shot_2) = (url.clone(), shots[1].clone());
    let second = tokio::task::spawn_blocking(move || load(&chromium, &url_2, &shot_2)).await.unwrap();
    std::fs::write(artifacts.join("status-page-1.html"), &first).unwrap();
    std::fs::write(artifacts.join("status-page-2.html"), &second).unwrap();
    for shot in &shots {
        let png = std::fs::read(shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{}", shot.display());
    }
    eprintln!("status page screenshots: {}", artifacts.display());

    // The rows are /status's, in its order: the breached, then the running by time left.
    for dom in [&first, &second] {
        let breached: Vec<u64> = rows(dom, "breached").iter().map(|r| r.0).collect();
        let running: Vec<u64> = rows(dom, "at-risk").iter().map(|r| r.0).collect();
        assert_eq!(breached, breached_in_status, "breached rows");
        assert_eq!(running, running_in_status, "at-risk rows");
    }
    // The countdowns run on the browser's clock, from the deadlines: later load, other text.
    let (before, after) = (
        [rows(&first, "breached"), rows(&first, "at-risk")].concat(),
        [rows(&second, "breached"), rows(&second, "at-risk")].concat(),
    );
    for ((id, was), (_, is)) in before.iter().zip(&after) {
        assert_ne!(was, is, "#{id}'s countdown did not move");
        let moved = seconds(was) - seconds(is);
        assert!((1..=30).contains(&moved), "#{id}: {was:?} then {is:?}");
    }
    // And they say sensible times: due 6 h ago, in 23 h, in 166 h (give or take the run).
    let near = |id: u64, expected: i64| {
        let (_, text) = before.iter().find(|r| r.0 == id).unwrap();
        let got = seconds(text);
        assert!((got - expected).abs() < 120, "#{id}: {text:?}, expected about {expected}s");
    };
    near(w.breached, -6 * 3600);
    near(w.soon, 23 * 3600);
    near(w.later, 166 * 3600);
    // The breached ticket's resolution clock still runs: its row says when it is due.
    let resolution = status.iter().find(|r| r["ticket_id"] == w.breached).unwrap()["metrics"]["resolution"].clone();
    assert_eq!(resolution["state"], "running", "{resolution:#}");
    let due = format!("resolution still running, due {}", resolution["deadline_local"].as_str().unwrap());
    assert!(first.contains(&due), "no {due:?} in the breached row");

    // Customer text is text: the subject is shown escaped, and its markup never ran.
    assert!(first.contains("&lt;img src=x onerror=\"document.title='owned'\"&gt; Login &lt;b&gt;fails&lt;/b&gt; &amp; SSO"));
    assert!(!first.contains("<img") && !first.contains("<b>"));
    assert!(first.contains("<title>slawatch status</title>"));
    // Each ticket links to itself in Zendesk.
    let zendesk = w.h.sim.base_url();
    for id in [w.breached, w.soon, w.later] {
        let link = format!("href=\"{}/agent/tickets/{id}\"", zendesk.trim_end_matches('/'));
        assert!(first.contains(&link), "no {link}");
    }

    // Health: /readyz's checks.
    assert!(first.contains(r#"<span id="health-pill" class="pill ok">ready</span>"#));
    for check in ["store", "poll", "outbox", "config"] {
        assert!(
            first.contains(&format!(r#"<li data-check="{check}"><span class="ok">✓</span>"#)),
            "{check} not shown ok"
        );
    }
    assert!(first.contains("last complete poll "));
    assert!(!first.contains(r#"<span id="error">"#), "the page reports an error");

    // This month's KPIs, as /report has them, with the charts drawn.
    let config = page_config(&first);
    let month = get_json(&format!(
        "{}/report?from={}&to={}",
        w.base, config["month"]["from"], config["month"]["to"]
    ))
    .await;
    assert_eq!(
        text_after(&first, r#"data-kpi="tickets_created""#),
        month["tickets_created"].to_string()
    );
    let first_response = match month["first_response"]["attainment"].as_f64() {
        Some(a) => format!("{:.1}%", a * 100.0),
        None => "–".to_string(),
    };
    assert_eq!(text_after(&first, r#"data-kpi="first_response""#), first_response);
    // Without [report] question_types and docs_url_prefixes the documentation share says so.
    assert_eq!(month["documentation"]["configured"], false);
    assert_eq!(text_after(&first, r#"data-kpi="documentation""#), "–");
    assert!(
        first.contains(r#"<div class="detail">not configured</div>"#),
        "the documentation card does not say not configured"
    );
    assert!(first.contains(r#"aria-label="attainment per week""#));
    assert!(first.contains(r#"class="bar-fr""#), "no weekly first-response bar");
    for (region, count) in month["volume"]["by_region"].as_object().unwrap() {
        assert!(
            first.contains(&format!(r#"data-region="{region}">{count}</text>"#)),
            "region {region} ({count}) not drawn"
        );
    }
    w.stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_a_failing_check_is_shown_failing_with_its_reason() {
    let Some(chromium) = browser() else { return };
    let w = world_with(Some("Zendesk answered 401 Unauthorized")).await;
    let readyz = get(&format!("{}/readyz", w.base), Some(TOKEN)).await;
    assert_eq!(readyz.status(), 503);
    let readyz: Value = readyz.json().await.unwrap();
    let detail = readyz["poll"]["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("401 Unauthorized"), "{readyz:#}");

    let artifacts = artifacts();
    let shot = artifacts.join("status-page-not-ready.png");
    let url = format!("{}/?token={TOKEN}", w.base);
    let dom = tokio::task::spawn_blocking(move || load(&chromium, &url, &shot)).await.unwrap();
    std::fs::write(artifacts.join("status-page-not-ready.html"), &dom).unwrap();
    assert!(
        dom.contains(r#"<span id="health-pill" class="pill bad">not ready</span>"#),
        "the header does not say not ready"
    );
    let failing = format!(
        r#"<li data-check="poll"><span class="bad">✗</span><span>poll</span><span class="detail">{}</span></li>"#,
        detail
    );
    assert!(dom.contains(&failing), "no {failing:?} in the page");
    for check in ["store", "outbox"] {
        assert!(
            dom.contains(&format!(r#"<li data-check="{check}"><span class="ok">✓</span>"#)),
            "{check} not shown ok"
        );
    }
    w.stop.cancel();
}

/// The cells (and headers) the page marked as cut off (their text wider than they are).
fn clipped(dom: &str) -> Vec<String> {
    let cell = Regex::new(r#"<t[dh][^>]*class="[^"]*\bclipped\b[^>]*>"#).unwrap();
    cell.find_iter(dom).map(|m| m.as_str().to_string()).take(5).collect()
}

/// A contract with a long name, to try the tier column's wrapping.
const CONTRACT: &str = "enterprise-plus-elite-worldwide";

/// 10,000 open tickets saved straight to the store, their deadlines around the real now (the
/// browser counts them down on its own clock): business-hours, calendar and contract
/// customers, both severities and none, paused and answered ones, some still waiting for the
/// events export ("syncing"), subjects short, long and with words longer than their column.
async fn world_of_10_000() -> (World, usize) {
    let real_now = slawatch::clock::Clock::system().now();
    let extra = format!(
        "[contracts.{CONTRACT}]\ntier = \"managed\"\n\n[customers]\ntier_field = \"deployment\"\n\
         tier_values = {{ managed = \"managed\", self_hosted = \"self-hosted\" }}\ncontract_field = \"contract\"\n"
    );
    let mut h = Harness::build(real_now, 1000, |_| extra).await;
    let managed = h
        .sim
        .add_organization("Globex", &[], Map::from_iter([("deployment".to_string(), json!("managed"))]));
    let contract = h.sim.add_organization(
        "Initech",
        &[],
        Map::from_iter([
            ("deployment".to_string(), json!("managed")),
            ("contract".to_string(), json!(CONTRACT)),
        ]),
    );
    h.engine.refresh_directory(true).await.unwrap();
    let through = real_now - 600;
    let records: Vec<TicketRecord> = (1..=10_000u64)
        .map(|id| {
            let created = real_now - (id as i64 * 7919) % (9 * 86_400);
            let mut events = vec![StoredEvent {
                audit_id: id * 10,
                event: Event::Status {
                    at: created,
                    status: "new".into(),
                },
            }];
            let status = match id % 10 {
                0 => "pending",
                1 | 2 => {
                    events.push(StoredEvent {
                        audit_id: id * 10 + 1,
                        event: Event::Comment {
                            at: created + 1800,
                            author_id: h.agent,
                            role: slawatch::sla::clock::Role::Agent,
                            public: true,
                            length: 300,
                            acknowledgement: false,
                            docs_link: false,
                        },
                    });
                    "open"
                }
                _ => "open",
            };
            if status == "pending" {
                // Answered, then waiting on the customer: no clock runs.
                events.push(StoredEvent {
                    audit_id: id * 10 + 2,
                    event: Event::Comment {
                        at: created + 30,
                        author_id: h.agent,
                        role: slawatch::sla::clock::Role::Agent,
                        public: true,
                        length: 300,
                        acknowledgement: false,
                        docs_link: false,
                    },
                });
                events.push(StoredEvent {
                    audit_id: id * 10 + 1,
                    event: Event::Status {
                        at: created + 60,
                        status: "pending".into(),
                    },
                });
            }
            let subject = match id % 7 {
                0 => format!("Upgrade to 4.2 fails on the schema migration step with a lock timeout on the audit table, every time, on all three nodes of the cluster ({id})"),
                1 => format!("org.example.connector.internal.ReplicationCoordinatorTimeoutExceptionWhileDraining{id}"),
                _ => format!("Connector crashes on start ({id})"),
            };
            let organization = [h.org, managed, contract][(id % 3) as usize];
            TicketRecord {
                id,
                subject,
                status: status.into(),
                created_at: Some(created),
                updated_at: Some(if id % 20 == 3 { real_now - 30 } else { created + 60 }),
                requester_id: Some(h.customer),
                submitter_id: Some(h.customer),
                organization_id: Some(organization),
                severity: None,
                exported: true,
                events: {
                    let severity = match id % 5 {
                        0 => None,
                        1 | 2 => Some("sev1".to_string()),
                        _ => Some("sev2".to_string()),
                    };
                    if let Some(severity) = severity {
                        events.insert(
                            1,
                            StoredEvent {
                                audit_id: id * 10 + 5,
                                event: Event::Severity {
                                    at: created,
                                    severity: Some(severity),
                                },
                            },
                        );
                    }
                    events
                },
                ..TicketRecord::default()
            }
        })
        .collect();
    for chunk in records.chunks(1000) {
        h.engine.store.save_tickets(chunk).unwrap();
    }
    h.engine
        .store
        .commit(
            &[],
            &slawatch::store::Cursors {
                events_through: Some(through),
                ..slawatch::store::Cursors::default()
            },
        )
        .unwrap();
    h.engine.health.poll_succeeded(h.clock.now_ms());

    let (base, stop) = serve(&mut h).await;
    let world = World {
        h,
        base,
        stop,
        breached: 0,
        soon: 0,
        later: 0,
    };
    (world, records.len())
}

/// The page's lists from `/status`'s rows: the breached by their earliest missed deadline, the
/// running by their soonest deadline, ties by ticket; and how many are neither.
fn lists(status: &[Value]) -> (Vec<u64>, Vec<u64>, usize) {
    let deadline = |m: &Value| m["deadline"].as_str().map(|d| slawatch::sla::time::parse_rfc3339(d).unwrap());
    let earliest = |r: &Value, state: &str| {
        ["first_response", "resolution"]
            .iter()
            .map(|k| &r["metrics"][*k])
            .filter(|m| m["state"] == state)
            .filter_map(deadline)
            .min()
    };
    let is = |r: &Value, state: &str| ["first_response", "resolution"].iter().any(|k| r["metrics"][*k]["state"] == state);
    let mut breached: Vec<(i64, u64)> = Vec::new();
    let mut running: Vec<(i64, u64)> = Vec::new();
    let mut others = 0;
    for r in status {
        let id = r["ticket_id"].as_u64().unwrap();
        if is(r, "breached") {
            breached.push((earliest(r, "breached").unwrap_or(0), id));
        } else if let Some(at) = earliest(r, "running") {
            running.push((at, id));
        } else {
            others += 1;
        }
    }
    breached.sort_unstable();
    running.sort_unstable();
    (
        breached.into_iter().map(|(_, id)| id).collect(),
        running.into_iter().map(|(_, id)| id).collect(),
        others,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_10_000_rows_are_all_listed_legibly_and_then_only_changes_are_fetched() {
    let Some(chromium) = browser() else { return };
    let (w, open) = world_of_10_000().await;
    let response = get(&format!("{}/status", w.base), Some(TOKEN)).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let status: Vec<Value> = response.json().await.unwrap();
    assert_eq!(status.len(), open);
    let (breached, running, others) = lists(&status);
    assert!(
        breached.len() > 1000 && running.len() > 1000 && others > 500,
        "{} / {} / {others}",
        breached.len(),
        running.len()
    );
    assert!(status.iter().any(|r| r["contract"] == CONTRACT) && status.iter().any(|r| r["facts_complete"] == false));
    assert!(status.iter().any(|r| r["metrics"]["first_response"]["business_clock"] == true));

    // Every row, in the narrowest window that still has the side panel, for 65 s of the page's
    // time: its first fetch reads every row, the two after ask only for changes (none: 304).
    let artifacts = artifacts();
    let url = format!("{}/?token={TOKEN}&rows=all", w.base);
    let shot = artifacts.join("status-page-10000.png");
    let (chromium_1, shot_1) = (chromium.clone(), shot.clone());
    let dom = tokio::task::spawn_blocking(move || load_with(&chromium_1, &url, &shot_1, 65_000, (1201, 900)))
        .await
        .unwrap();
    std::fs::write(artifacts.join("status-page-10000.html"), &dom).unwrap();
    let shown_breached = rows(&dom, "breached");
    let shown_running = rows(&dom, "at-risk");
    assert_eq!(shown_breached.iter().map(|r| r.0).collect::<Vec<_>>(), breached, "breached rows");
    assert_eq!(shown_running.iter().map(|r| r.0).collect::<Vec<_>>(), running, "at-risk rows");
    assert!(dom.contains(&format!("{others} other open tickets with no clock running")));
    for (id, text) in shown_breached.iter().chain(&shown_running) {
        seconds(text);
        assert!(!text.is_empty(), "#{id} has no countdown");
    }
    assert!(dom.contains("to the deadline"), "no business-hours countdown");
    // No cell is cut off: the page marks any whose text overflows it.
    assert!(clipped(&dom).is_empty(), "cells cut off: {:?}", clipped(&dom));
    let version = etag.trim_start_matches("W/").trim_matches('"');
    assert!(
        dom.contains(&format!(r#"data-fetch="unchanged" data-version="{version}""#))
            || dom.contains(&format!(r#"data-version="{version}" data-fetch="unchanged""#)),
        "the page did not ask for changes since {version}"
    );

    // The default view: the 100 most urgent of each list, the rest one click away; narrow
    // window, one column.
    let url = format!("{}/?token={TOKEN}", w.base);
    let shot = artifacts.join("status-page-10000-narrow.png");
    let dom = tokio::task::spawn_blocking(move || load_with(&chromium, &url, &shot, 3000, (760, 900)))
        .await
        .unwrap();
    std::fs::write(artifacts.join("status-page-10000-narrow.html"), &dom).unwrap();
    assert_eq!(rows(&dom, "breached").len(), 100);
    assert_eq!(rows(&dom, "at-risk").len(), 100);
    assert!(dom.contains(&format!("and {} more breached tickets · ", breached.len() - 100)));
    assert!(dom.contains(&format!(">show all {}</a>", running.len())));
    assert!(clipped(&dom).is_empty(), "cells cut off in a narrow window: {:?}", clipped(&dom));
    w.stop.cancel();
}

/// An organization name that would be markup if the page wrote it as HTML, with a word longer
/// than its column.
const TRICKY_ORGANIZATION: &str =
    r#"<img src=x onerror="document.title='owned'"> Vereinigte-Elektrizitäts-und-Bergwerks-Aktiengesellschaft-International & Sons"#;

/// Thirteen organizations with tickets created this (virtual) month, Monday 2 to Wednesday 4
/// November 2026: a contract customer with a long, markup-like name whose Severity 1 ticket was
/// never answered (breached) and whose question was answered with a link to the documentation
/// and solved in 3 hours; Acme (self-hosted, business hours) whose question was answered without
/// one and solved after 14 business hours, and one ticket still open; and eleven managed
/// customers with a ticket each, answered and open. The daemon's clock stays in November.
async fn world_of_customers() -> World {
    let mut h = Harness::build(common::t("2026-11-02T09:00:00-08:00"), 1000, |sim| {
        let field = sim.add_ticket_field("Type", "tagger", &[("Question", "question"), ("Problem", "problem")]);
        format!(
            "[contracts.{CONTRACT}]\ntier = \"managed\"\n\n[customers]\ntier_field = \"deployment\"\n\
             tier_values = {{ managed = \"managed\", self_hosted = \"self-hosted\" }}\ncontract_field = \"contract\"\n\n\
             [report]\ntype_field = {field}\nquestion_types = [\"question\"]\ndocs_url_prefixes = [\"https://docs.example.com\"]\n"
        )
    })
    .await;
    let field = h.engine.config.report.type_field.unwrap();
    let managed = || Map::from_iter([("deployment".to_string(), json!("managed"))]);
    let tricky = h.sim.add_organization(
        TRICKY_ORGANIZATION,
        &[],
        Map::from_iter([
            ("deployment".to_string(), json!("managed")),
            ("contract".to_string(), json!(CONTRACT)),
        ]),
    );
    let others: Vec<u64> = (1..=11)
        .map(|i| h.sim.add_organization(&format!("Customer {i:02}"), &[], managed()))
        .collect();
    let ticket = |requester: u64, severity: &str, kind: Option<&str>| {
        h.sim.create_ticket(NewTicket {
            subject: "How do I rotate the signing key?".into(),
            body: "Where is this described?".into(),
            requester_id: requester,
            tags: vec![severity.into()],
            custom_fields: kind.map(|k| vec![(field, json!(k))]).unwrap_or_default(),
            ..NewTicket::default()
        })
    };
    let tricky_user = h.sim.add_user("Tess Tricky", "tess@tricky.example", "end-user", Some(tricky));
    let _never_answered = ticket(tricky_user, "sev1", None);
    let linked = ticket(tricky_user, "sev2", Some("question"));
    let unlinked = ticket(h.customer, "sev1", Some("question"));
    let _open = ticket(h.customer, "sev2", None);
    let quiet: Vec<u64> = others
        .iter()
        .enumerate()
        .map(|(i, &org)| {
            let user = h
                .sim
                .add_user(&format!("User {i}"), &format!("user{i}@customer.example"), "end-user", Some(org));
            ticket(user, "sev2", None)
        })
        .collect();
    h.poll().await;
    h.at("2026-11-02T10:00:00-08:00");
    let docs = "See https://docs.example.com/admin/keys#rotate for the steps, and write back if they fail.";
    h.sim.add_comment(linked, h.agent, docs, true);
    h.sim.add_comment(unlinked, h.agent, common::ANSWER, true);
    for &id in &quiet {
        h.sim.add_comment(id, h.agent, common::ANSWER, true);
    }
    h.at("2026-11-02T12:00:00-08:00");
    h.sim.set_status(linked, "solved", h.agent);
    h.poll().await;
    h.at("2026-11-03T15:00:00-08:00");
    h.sim.set_status(unlinked, "solved", h.agent);
    h.poll().await;
    h.at("2026-11-04T12:00:00-08:00");
    h.poll().await;
    h.poll().await;
    h.engine.health.poll_succeeded(h.clock.now_ms());

    let (base, stop) = serve(&mut h).await;
    World {
        h,
        base,
        stop,
        breached: 0,
        soon: 0,
        later: 0,
    }
}

/// The customers panel's rows as the browser rendered them: each row's `data-customer` and its
/// cells' inner HTML.
fn customer_rows(dom: &str) -> Vec<(String, Vec<String>)> {
    let start = dom.find(r#"<section id="customers">"#).expect("no customers section");
    let end = start + dom[start..].find("</section>").unwrap();
    let row = Regex::new(r#"(?s)<tr data-customer="([^"]+)">(.*?)</tr>"#).unwrap();
    let cell = Regex::new(r#"(?s)<td[^>]*>(.*?)</td>"#).unwrap();
    row.captures_iter(&dom[start..end])
        .map(|r| (r[1].to_string(), cell.captures_iter(&r[2]).map(|c| c[1].to_string()).collect()))
        .collect()
}

/// A share as the page writes it: `50.0%`, or `–` with nothing to measure.
fn page_percent(share: &Value) -> String {
    share.as_f64().map_or_else(|| "–".to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// Seconds as the page writes them: `45m`, `5.2h`, `3.1d`, or `–`.
fn hours_or_days(seconds: &Value) -> String {
    match seconds.as_f64() {
        None => "–".to_string(),
        Some(s) if s < 3600.0 => format!("{}m", (s / 60.0).round()),
        Some(s) if s < 48.0 * 3600.0 => format!("{:.1}h", s / 3600.0),
        Some(s) => format!("{:.1}d", s / 86_400.0),
    }
}

/// Text as the browser serializes a text node.
fn as_text_node(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_the_customers_most_at_risk_and_the_documentation_share_are_shown_in_full() {
    let Some(chromium) = browser() else { return };
    let w = world_of_customers().await;
    let html = get(&format!("{}/?token={TOKEN}", w.base), None).await.text().await.unwrap();
    let config = page_config(&html);
    assert_eq!(config["month"]["label"], "November 2026", "{config}");
    let month = get_json(&format!(
        "{}/report?from={}&to={}",
        w.base, config["month"]["from"], config["month"]["to"]
    ))
    .await;
    let customers = month["customers"].as_array().unwrap().clone();
    assert_eq!(customers.len(), 13, "{customers:#?}");
    let docs = &month["documentation"];
    assert_eq!(
        (&docs["configured"], &docs["solved_questions"], &docs["with_docs_link"]),
        (&json!(true), &json!(2), &json!(1)),
        "{docs}"
    );

    let artifacts = artifacts();
    let url = format!("{}/?token={TOKEN}", w.base);
    let (chromium_1, url_1, shot) = (chromium.clone(), url.clone(), artifacts.join("status-page-customers.png"));
    let dom = tokio::task::spawn_blocking(move || load(&chromium_1, &url_1, &shot)).await.unwrap();
    std::fs::write(artifacts.join("status-page-customers.html"), &dom).unwrap();
    assert!(!dom.contains(r#"<span id="error">"#), "the page reports an error");

    // The documentation card: the share against its target, and what it counts.
    assert_eq!(text_after(&dom, r#"data-kpi="documentation""#), "50.0%");
    assert!(
        dom.contains(r#"<div class="card off" data-kpi="documentation">"#),
        "not shown below target"
    );
    assert!(dom.contains("1 of 2 solved questions linked the docs"));

    // The first ten customers, in the report's order, each figure as /report has it.
    let rows = customer_rows(&dom);
    assert_eq!(rows.len(), 10);
    assert!(
        dom.contains(r#"<span class="count">10 of 13</span>"#),
        "the count does not say 10 of 13"
    );
    for ((id, cells), c) in rows.iter().zip(&customers) {
        assert_eq!(id, &c["organization_id"].to_string(), "row order");
        let mut tags = format!(r#"<span class="tag">{}</span>"#, c["tier"].as_str().unwrap());
        if let Some(contract) = c["contract"].as_str() {
            tags.push_str(&format!(r#"<span class="tag">{contract}</span>"#));
        }
        let expected = [
            format!(r#"{}<div class="sub">{tags}</div>"#, as_text_node(c["name"].as_str().unwrap())),
            c["tickets_created"].to_string(),
            c["open_now"].to_string(),
            c["breached_tickets"].to_string(),
            page_percent(&c["first_response"]["attainment"]),
            page_percent(&c["resolution"]["attainment"]),
            page_percent(&c["csat"]["score"]),
            hours_or_days(&c["median_resolution_seconds"]),
        ];
        assert_eq!(cells, &expected, "customer {id}");
    }
    // The most at risk first: the breach (its ticket still open); the median on the ticket's own clock (the contract's
    // calendar: 3 hours; Acme's business hours: Monday 09:00 to Tuesday 15:00 is 14 hours).
    let (first, second) = (&rows[0].1, &rows[1].1);
    assert!(
        first[0].starts_with("&lt;img src=x onerror=\"document.title='owned'\"&gt; Vereinigte"),
        "{first:?}"
    );
    assert!(first[0].ends_with(&format!(
        r#"<div class="sub"><span class="tag">managed</span><span class="tag">{CONTRACT}</span></div>"#
    )));
    assert_eq!(first[1..4], ["2", "1", "1"]);
    assert_eq!(first[4], "50.0%");
    assert_eq!(first[7], "3.0h");
    assert_eq!(second[0], r#"Acme<div class="sub"><span class="tag">self-hosted</span></div>"#);
    assert_eq!(second[7], "14.0h");
    assert!(!dom.contains("<img") && dom.contains("<title>slawatch status</title>"));
    assert!(
        dom.contains("business hours for business-hours tiers"),
        "the own clock is not explained"
    );
    assert!(clipped(&dom).is_empty(), "cells cut off: {:?}", clipped(&dom));

    // A narrow window: one column, nothing cut off either.
    let shot = artifacts.join("status-page-customers-narrow.png");
    let dom = tokio::task::spawn_blocking(move || load_with(&chromium, &url, &shot, 3000, (760, 900)))
        .await
        .unwrap();
    std::fs::write(artifacts.join("status-page-customers-narrow.html"), &dom).unwrap();
    assert_eq!(customer_rows(&dom).len(), 10);
    assert!(clipped(&dom).is_empty(), "cells cut off in a narrow window: {:?}", clipped(&dom));
    w.stop.cancel();
}

/// The harness's engine served on loopback with the admin token: its base URL, and how to stop it.
async fn serve(h: &mut Harness) -> (String, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let engine = Arc::new(h.take_engine());
    let stop = CancellationToken::new();
    tokio::spawn(slawatch::admin::serve(listener, engine, Some(TOKEN.to_string()), stop.clone()));
    (base, stop)
}
