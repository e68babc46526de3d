//! A simulated Zendesk account: a stateful world (users, organizations and their
//! fields, ticket fields, groups, business-hours schedules, tickets, comments, audits)
//! served over HTTP with the real API's paths, shapes and quirks, for the end-to-end
//! tests and `slawatch demo`.
//!
//! What it speaks (HTTP Basic `{email}/token:{token}` or `Bearer {token}`):
//! - `GET /api/v2/incremental/tickets/cursor.json` (`start_time` then `cursor`, `per_page`)
//! - `GET /api/v2/incremental/ticket_events.json` (`start_time`, `include=comment_events`, `per_page`)
//! - `GET /api/v2/users.json` (`role`, `role[]`, `page`, `per_page`), `/api/v2/users/show_many.json?ids=`
//! - `GET /api/v2/users/me.json` (the API user, [`SimZendesk::api_user_id`], with its role)
//! - `GET /api/v2/organizations.json`, `/api/v2/ticket_fields.json` (`active`, `tag`, `key`, and
//!   `custom_field_options` for dropdowns), `/api/v2/organization_fields.json`,
//!   `/api/v2/groups.json` (deleted ones too, unless `exclude_deleted=true`): offset pagination
//!   (`page`, `per_page`; refused past page 100) or cursor pagination (`page[size]`,
//!   `page[after]`; `meta.has_more`, `links.next`)
//! - `GET /api/v2/business_hours/schedules.json` (Rails zone names, intervals in minutes from
//!   Sunday 00:00) and `/api/v2/business_hours/schedules/{id}/holidays.json`; both 403 when the
//!   plan has no business hours ([`SimZendesk::set_business_hours_plan`])
//! - `GET /api/v2/tickets/{id}.json`, `/api/v2/tickets/{id}/comments.json`, `/api/v2/tickets/{id}/audits.json`
//!   (cursor pages), `/api/v2/tickets/{id}/tags.json`
//!   (live reads)
//! - `PUT /api/v2/tickets/{id}.json` (`{"ticket": {"comment": {"body", "public", "author_id"}, "status",
//!   "tags", "additional_tags", "remove_tags", "updated_stamp", "safe_update"}}`), answered
//!   `{"ticket", "audit"}`; `PUT /api/v2/tickets/{id}/tags.json` adds tags, `POST` replaces them
//!   (`{"tags": [...]}`, `updated_stamp`/`safe_update` too), answered `{"tags"}`. Writes are live
//!   (no horizon), are made by the API user (an admin with the options' e-mail, see
//!   [`SimZendesk::api_user_id`]) and land in one audit each, shown by the exports a minute later
//!   with `via` "Web service". A safe update whose `updated_stamp` is not the ticket's
//!   `updated_at` gets 409 `UpdateConflict`; a closed ticket 422; at most 30 updates per ticket per
//!   10 minutes of world time (header `zendesk-ratelimit-per-ticket-updates`, then 429).
//!
//! The quirks kept on purpose: the exports never show the last minute of world
//! time; the cursor is base64 of `"<generated_timestamp>.0||<id>|"`; the events
//! export pages end on whole seconds and the next page re-delivers the last
//! second; deleted tickets are exported with `"status": "deleted"` and are not
//! found by live reads; system changes carry `updater_id: -1`; dropdown
//! (`tagger`) fields and tags move together; the incremental exports answer 403
//! unless the API user is an admin ([`SimZendesk::set_api_user_role`]). The account
//! stays consistent: an organization holding a value of an undefined field defines
//! it (type `text`), and a group id a ticket names that was never added is added as
//! "Group <id>".
//!
//! With [`SimZendesk::set_webhook`], or once a webhook is created through `POST
//! /api/v2/webhooks` (and, for a trigger webhook, `POST /api/v2/triggers.json`), every ticket
//! change is also posted to it, signed as Zendesk signs it (see `webhooks`); `GET
//! /api/v2/webhooks`, `/api/v2/webhooks/{id}/signing_secret` and `/api/v2/triggers.json` answer
//! what was created.
//!
//! Time is the world's, not the wall clock's: it moves only through
//! [`SimZendesk::set_now`] and [`SimZendesk::advance`]. Rate limits and
//! `Retry-After` are counted in world seconds too.

mod http;
mod webhooks;
mod world;

pub use webhooks::{Sent as WebhookSent, WebhookShape};

use crate::clock::Clock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use world::World;

/// How a simulated account starts.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The API user's e-mail: Basic auth user is `{email}/token`.
    pub email: String,
    /// The API token (Basic password) or OAuth bearer token.
    pub token: String,
    /// The world's initial `now()`, Unix seconds.
    pub start_time: i64,
    /// Most items one export page holds (`per_page` may only lower it). Zendesk's is 1000.
    pub page_size: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            email: "agent@example.com".to_string(),
            token: "sim-token".to_string(),
            // Monday 2024-06-03 16:00:00 UTC (09:00 in Los Angeles).
            start_time: 1_717_430_400,
            page_size: 1000,
        }
    }
}

/// A ticket to create. `Default` gives a public first comment, status `new`,
/// submitter = requester and the requester's organization.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub subject: String,
    /// The first comment's body (the ticket's `description`).
    pub body: String,
    /// Whether the first comment is public.
    pub public: bool,
    pub requester_id: u64,
    /// Author of the first comment; the requester when None.
    pub submitter_id: Option<u64>,
    /// The requester's organization when None.
    pub organization_id: Option<u64>,
    pub status: String,
    pub priority: Option<String>,
    pub tags: Vec<String>,
    /// (ticket field id, value); a dropdown's value is its option's tag.
    pub custom_fields: Vec<(u64, Value)>,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
}

impl Default for NewTicket {
    fn default() -> Self {
        NewTicket {
            subject: String::new(),
            body: String::new(),
            public: true,
            requester_id: 0,
            submitter_id: None,
            organization_id: None,
            status: "new".to_string(),
            priority: None,
            tags: Vec::new(),
            custom_fields: Vec::new(),
            assignee_id: None,
            group_id: None,
        }
    }
}

/// A running simulated Zendesk. Clones share the same world and server; the
/// server stops on [`SimZendesk::shutdown`] or when the last clone is dropped.
#[derive(Clone)]
pub struct SimZendesk {
    handle: Arc<super::Handle<State>>,
}

impl std::fmt::Debug for SimZendesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimZendesk")
            .field("base_url", &self.handle.state.base_url)
            .field("now", &self.now())
            .finish()
    }
}

/// Everything the HTTP handlers share with the Rust-side handle.
struct State {
    email: String,
    token: String,
    page_size: usize,
    base_url: String,
    clock: Clock,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    counters: Mutex<HashMap<String, u64>>,
    /// The user API writes are made by.
    api_user_id: u64,
    /// PUT and POST requests received.
    writes: AtomicU64,
    /// Zendesk's per-ticket update limit: world times of the updates admitted per ticket.
    ticket_updates: Mutex<TicketUpdates>,
    /// Where the account's webhook posts, once set.
    webhook: Mutex<Option<webhooks::Target>>,
    webhook_log: Mutex<Vec<webhooks::Sent>>,
    /// How many webhook posts are logged, for those waiting on them.
    posted: tokio::sync::watch::Sender<usize>,
    /// Woken when the world changed while a webhook listens.
    changed: tokio::sync::Notify,
    /// Webhooks and triggers created through the API.
    registry: Mutex<webhooks::Registry>,
}

/// The world, locked; when let go with changes a webhook has not posted, its sender is woken.
struct WorldGuard<'a> {
    guard: MutexGuard<'a, World>,
    changed: &'a tokio::sync::Notify,
}

impl std::ops::Deref for WorldGuard<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.guard
    }
}

impl std::ops::DerefMut for WorldGuard<'_> {
    fn deref_mut(&mut self) -> &mut World {
        &mut self.guard
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        if self.guard.has_changed() {
            self.changed.notify_one();
        }
    }
}

/// Zendesk's per-ticket update limit (30 per ticket per 10 minutes), in world time.
struct TicketUpdates {
    limit: Option<u32>,
    admitted: HashMap<u64, Vec<i64>>,
}

/// The window of the per-ticket update limit, seconds.
const TICKET_UPDATE_WINDOW: i64 = 600;
/// Zendesk's per-ticket update limit in that window.
const TICKET_UPDATE_LIMIT: u32 = 30;

#[derive(Default)]
struct Faults {
    fail_next: u32,
    fail_status: u16,
    malformed_next: u32,
    delay: Duration,
    rate_limit: Option<u32>,
    /// World times of the requests admitted within the rate window.
    admitted: Vec<i64>,
    /// A storm: every n-th request admitted gets this status; every m-th answer is cut in half.
    fail_every: Option<(u64, u16)>,
    truncate_every: Option<u64>,
    /// Text that answers carry as a lone surrogate escape (`\ud800`) instead, as a garbled
    /// record in a real export page would.
    garble: Option<String>,
    /// Requests admitted, counted for the storm.
    admitted_count: u64,
    /// Every request to this path is answered with this status until cleared.
    refuse: Option<(String, u16)>,
}

/// Locks without propagating a poisoned lock: the data stays usable after a panicking test thread.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    fn now(&self) -> i64 {
        self.clock.now()
    }

    fn world(&self) -> WorldGuard<'_> {
        WorldGuard {
            guard: lock(&self.world),
            changed: &self.changed,
        }
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
}

impl SimZendesk {
    /// Binds 127.0.0.1 on an ephemeral port and serves the API from a spawned task, on a
    /// manual clock of its own starting at `options.start_time`.
    pub async fn start(options: SimOptions) -> std::io::Result<SimZendesk> {
        let clock = Clock::manual(options.start_time);
        SimZendesk::start_with_clock(options, clock).await
    }

    /// As `start`, on a clock shared with the daemon (virtual time in tests, accelerated in the
    /// demo): waiting out a `Retry-After` then moves the world's time too.
    pub async fn start_with_clock(options: SimOptions, clock: Clock) -> std::io::Result<SimZendesk> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mut world = World::new(base_url.clone(), clock.now());
        let api_user_id = world.add_user("API User", &options.email, "admin", None, clock.now());
        let state = Arc::new(State {
            email: options.email,
            token: options.token,
            page_size: options.page_size.max(1),
            world: Mutex::new(world),
            base_url,
            clock,
            faults: Mutex::new(Faults {
                fail_status: 500,
                ..Faults::default()
            }),
            counters: Mutex::new(HashMap::new()),
            api_user_id,
            writes: AtomicU64::new(0),
            ticket_updates: Mutex::new(TicketUpdates {
                limit: Some(TICKET_UPDATE_LIMIT),
                admitted: HashMap::new(),
            }),
            webhook: Mutex::new(None),
            webhook_log: Mutex::new(Vec::new()),
            posted: tokio::sync::watch::channel(0).0,
            changed: tokio::sync::Notify::new(),
            registry: Mutex::new(webhooks::Registry::default()),
        });
        let stop = CancellationToken::new();
        // Idle until a webhook listens and the world changes.
        tokio::spawn(webhooks::sender(state.clone(), stop.clone()));
        let app = http::router(state.clone());
        Ok(SimZendesk {
            handle: super::Handle::serve_until(listener, app, state, "zendesk", stop),
        })
    }

    fn state(&self) -> &State {
        &self.handle.state
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.state().base_url.clone()
    }

    /// Stops accepting requests; requests in flight finish.
    pub fn shutdown(&self) {
        self.handle.stop.cancel();
    }

    // ---- the world's clock -----------------------------------------------------------

    /// The world's clock, Unix seconds.
    pub fn now(&self) -> i64 {
        self.state().now()
    }

    /// Sets the world's clock (a manual one; an accelerated clock runs by itself).
    pub fn set_now(&self, unix: i64) {
        self.state().clock.set(unix);
    }

    pub fn advance(&self, secs: i64) {
        let clock = &self.state().clock;
        clock.set(clock.now() + secs);
    }

    /// The world's clock.
    pub fn clock(&self) -> Clock {
        self.state().clock.clone()
    }

    // ---- the world -------------------------------------------------------------------

    /// The API user (role `admin`, e-mail = the options' `email`), created with the world: the
    /// author of every comment and the updater of every change written over HTTP.
    pub fn api_user_id(&self) -> u64 {
        self.state().api_user_id
    }

    /// Adds a user; `role` is `end-user`, `agent` or `admin` (anything else is kept as is).
    pub fn add_user(&self, name: &str, email: &str, role: &str, organization_id: Option<u64>) -> u64 {
        let now = self.now();
        self.state().world().add_user(name, email, role, organization_id, now)
    }

    /// Changes a user's role (an end user made an agent, say): the next agents listing shows it.
    pub fn set_user_role(&self, user: u64, role: &str) {
        self.state().world().set_user_role(user, role);
    }

    pub fn add_organization(&self, name: &str, tags: &[&str], fields: Map<String, Value>) -> u64 {
        let now = self.now();
        self.state().world().add_organization(name, tags, fields, now)
    }

    pub fn set_organization_field(&self, org: u64, key: &str, value: Value) {
        let now = self.now();
        self.state().world().set_organization_field(org, key, value, now);
    }

    pub fn set_organization_tags(&self, org: u64, tags: &[&str]) {
        let now = self.now();
        self.state().world().set_organization_tags(org, tags, now);
    }

    /// Adds a custom ticket field; `options` are (name, tag value) for a `tagger` dropdown.
    pub fn add_ticket_field(&self, title: &str, field_type: &str, options: &[(&str, &str)]) -> u64 {
        let now = self.now();
        self.state().world().add_ticket_field(title, field_type, options, now)
    }

    /// Activates or deactivates a ticket field (system fields too); an inactive field is still
    /// listed, with `active: false`.
    pub fn set_ticket_field_active(&self, id: u64, active: bool) {
        let now = self.now();
        self.state().world().set_ticket_field_active(id, active, now);
    }

    /// Appends an option (name, tag value) to a ticket field, as an admin adding a severity
    /// while slawatch runs; the option's id, None for an unknown field. Tags naming it set the
    /// dropdown from then on.
    pub fn add_ticket_field_option(&self, field_id: u64, name: &str, value: &str) -> Option<u64> {
        let now = self.now();
        self.state().world().add_ticket_field_option(field_id, name, value, now)
    }

    /// Defines an organization field (`text`, `dropdown`, `checkbox`, `integer`...; `options`
    /// are (name, tag value) for a dropdown). A key defined already (say as `text`, by
    /// `add_organization` holding it) is redefined in place and keeps its id.
    pub fn add_organization_field(&self, key: &str, title: &str, field_type: &str, options: &[(&str, &str)]) -> u64 {
        let now = self.now();
        self.state().world().add_organization_field(key, title, field_type, options, now)
    }

    /// Activates or deactivates an organization field; still listed, with `active: false`.
    pub fn set_organization_field_active(&self, id: u64, active: bool) {
        let now = self.now();
        self.state().world().set_organization_field_active(id, active, now);
    }

    /// Adds a group of agents. (A group id a ticket names that was never added is added by
    /// itself, as "Group <id>".)
    pub fn add_group(&self, name: &str) -> u64 {
        let now = self.now();
        self.state().world().add_group(name, now)
    }

    /// Deletes a group: still listed, with `deleted: true` (unless `exclude_deleted=true`).
    pub fn delete_group(&self, id: u64) {
        let now = self.now();
        self.state().world().delete_group(id, now);
    }

    /// The API user's role (`admin` at start). With `agent` the incremental exports answer
    /// 403, as Zendesk's do for a token that is not an admin's.
    pub fn set_api_user_role(&self, role: &str) {
        let id = self.api_user_id();
        self.state().world().set_user_role(id, role);
    }

    /// Adds a business-hours schedule: `time_zone` a Rails zone name ("Pacific Time (US &
    /// Canada)"), `intervals` (start, end) in minutes from Sunday 00:00.
    pub fn add_schedule(&self, name: &str, time_zone: &str, intervals: &[(u32, u32)]) -> u64 {
        let now = self.now();
        self.state().world().add_schedule(name, time_zone, intervals, now)
    }

    /// Adds a holiday to a schedule, dates `YYYY-MM-DD` (inclusive); its id, None for an
    /// unknown schedule.
    pub fn add_schedule_holiday(&self, schedule: u64, name: &str, start_date: &str, end_date: &str) -> Option<u64> {
        let now = self.now();
        self.state().world().add_schedule_holiday(schedule, name, start_date, end_date, now)
    }

    /// Whether the account's plan has business hours (default true): without, the schedules
    /// endpoints answer 403.
    pub fn set_business_hours_plan(&self, available: bool) {
        self.state().world().set_business_hours_plan(available);
    }

    /// Creates a ticket with its first comment, at `now()`.
    pub fn create_ticket(&self, ticket: NewTicket) -> u64 {
        let now = self.now();
        self.state().world().create_ticket(ticket, now)
    }

    pub fn add_comment(&self, ticket: u64, author_id: u64, body: &str, public: bool) {
        let now = self.now();
        self.state().world().add_comment(ticket, author_id, body, public, now);
    }

    /// Any status string, including unknown ones and `deleted`.
    pub fn set_status(&self, ticket: u64, status: &str, updater_id: u64) {
        let now = self.now();
        self.state()
            .world()
            .set_status(ticket, status, i64::try_from(updater_id).unwrap_or(i64::MAX), now);
    }

    /// Sets a custom field; for a `tagger` dropdown the old option's tag leaves the ticket's tags
    /// and the new one's joins them.
    pub fn set_custom_field(&self, ticket: u64, field_id: u64, value: Value, updater_id: u64) {
        let now = self.now();
        self.state().world().set_custom_field(ticket, field_id, value, updater_id, now);
    }

    /// Replaces the ticket's tags; dropdowns follow (a removed option tag clears its dropdown,
    /// an added one sets an empty dropdown).
    pub fn set_tags(&self, ticket: u64, tags: &[&str], updater_id: u64) {
        let now = self.now();
        self.state().world().set_tags(ticket, tags, updater_id, now);
    }

    pub fn set_priority(&self, ticket: u64, priority: Option<&str>, updater_id: u64) {
        let now = self.now();
        self.state().world().set_priority(ticket, priority, updater_id, now);
    }

    pub fn set_assignee(&self, ticket: u64, assignee_id: Option<u64>, updater_id: u64) {
        let now = self.now();
        self.state().world().set_assignee(ticket, assignee_id, updater_id, now);
    }

    /// The requester rates the ticket (`good`, `bad`, or `offered`/`unoffered`).
    pub fn rate_ticket(&self, ticket: u64, score: &str, updater_id: u64) {
        let now = self.now();
        self.state().world().rate(ticket, score, updater_id, now);
    }

    pub fn set_group(&self, ticket: u64, group_id: Option<u64>, updater_id: u64) {
        let now = self.now();
        self.state().world().set_group(ticket, group_id, updater_id, now);
    }

    /// Deletes the ticket: exported with status `deleted` (changed by the system, `updater_id`
    /// -1), no longer found by live reads.
    pub fn delete_ticket(&self, ticket: u64) {
        let now = self.now();
        self.state().world().set_status(ticket, "deleted", world::SYSTEM_UPDATER, now);
    }

    /// Restores a deleted ticket (an admin's undo from Deleted tickets): open again, an audit
    /// by the system.
    pub fn restore_ticket(&self, ticket: u64) {
        let now = self.now();
        self.state().world().set_status(ticket, "open", world::SYSTEM_UPDATER, now);
    }

    /// From now on, posts every ticket change to `url`, signed with `secret`, shaped as `shape`
    /// (see `webhooks`); changes made before are not posted.
    pub fn set_webhook(&self, url: &str, secret: &str, shape: WebhookShape) {
        self.state().listen(webhooks::Target {
            url: url.to_string(),
            secret: secret.to_string(),
            shape,
        });
    }

    /// Every webhook post so far, oldest first.
    pub fn webhook_log(&self) -> Vec<WebhookSent> {
        lock(&self.state().webhook_log).clone()
    }

    /// Returns once at least `n` webhook posts are logged.
    pub async fn wait_for_posts(&self, n: usize) {
        let mut posted = self.state().posted.subscribe();
        let _ = posted.wait_for(|&count| count >= n).await;
    }

    /// The ticket as the API renders it (deleted ones included), or None if it never existed.
    pub fn ticket_json(&self, ticket: u64) -> Option<Value> {
        self.state().world().ticket_json(ticket)
    }

    /// Every comment of the ticket in order (deleted tickets' too; none for an unknown ticket), as
    /// the comments endpoint renders them: `id`, `author_id`, `body`, `public`, `created_at`, ...
    pub fn comments(&self, ticket: u64) -> Vec<Value> {
        self.state().world().comments_json(ticket)
    }

    /// Members merged into (and overriding) every ticket the API renders.
    pub fn set_extra_ticket_fields(&self, extra: Map<String, Value>) {
        self.state().world().set_extra_ticket_fields(extra);
    }

    // ---- failure switches (API only) -------------------------------------------------

    /// The next `n` authenticated requests within the rate get `status` with a JSON error body.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut faults = self.state().faults();
        faults.fail_next = n;
        faults.fail_status = status;
    }

    /// A fault storm: every `fail_every.0`-th request within the rate gets status `fail_every.1`,
    /// and every `truncate_every`-th answer is cut off halfway (a truncated JSON body). None
    /// calms each.
    /// Answers every request to `path` (`/api/v2/incremental/ticket_events.json`, say) with
    /// `status` until called again with None: an endpoint down while the others answer.
    pub fn refuse(&self, path: Option<&str>, status: u16) {
        self.state().faults().refuse = path.map(|p| (p.to_string(), status));
    }

    pub fn set_storm(&self, fail_every: Option<(u64, u16)>, truncate_every: Option<u64>) {
        let mut faults = self.state().faults();
        faults.fail_every = fail_every.filter(|(n, _)| *n > 0);
        faults.truncate_every = truncate_every.filter(|n| *n > 0);
        faults.admitted_count = 0;
    }

    /// Every answer carries `text` (say, a ticket's subject) as a lone surrogate escape, which
    /// no strict JSON reader takes; None stops it.
    pub fn set_garble(&self, text: Option<&str>) {
        self.state().faults().garble = text.map(str::to_string);
    }

    /// The next `n` authenticated requests within the rate get 200 with a body that is not JSON.
    pub fn malformed_next(&self, n: u32) {
        self.state().faults().malformed_next = n;
    }

    /// Every response waits this long (a tokio sleep) before anything else happens.
    pub fn set_delay(&self, delay: Duration) {
        self.state().faults().delay = delay;
    }

    /// At most `per_minute` requests per rolling minute of world time; past it, 429 with
    /// `Retry-After` in world seconds. None lifts the limit and forgets past requests.
    pub fn set_rate_limit(&self, per_minute: Option<u32>) {
        let mut faults = self.state().faults();
        faults.rate_limit = per_minute;
        if per_minute.is_none() {
            faults.admitted.clear();
        }
    }

    /// Zendesk's per-ticket update limit (default 30 per 10 minutes of world time) for API
    /// writes; None lifts it. Either way past updates are forgotten.
    pub fn set_ticket_update_limit(&self, per_ten_minutes: Option<u32>) {
        let mut updates = lock(&self.state().ticket_updates);
        updates.limit = per_ten_minutes;
        updates.admitted.clear();
    }

    // ---- counters --------------------------------------------------------------------

    /// Requests received for `path` (no query), whatever their answer.
    pub fn request_count(&self, path: &str) -> u64 {
        lock(&self.state().counters).get(path).copied().unwrap_or(0)
    }

    pub fn total_requests(&self) -> u64 {
        lock(&self.state().counters).values().sum()
    }

    /// PUT and POST requests received, whatever their answer.
    pub fn write_count(&self) -> u64 {
        self.state().writes.load(Ordering::SeqCst)
    }

    /// Zeroes `request_count`, `total_requests` and `write_count`.
    pub fn reset_counters(&self) {
        lock(&self.state().counters).clear();
        self.state().writes.store(0, Ordering::SeqCst);
    }
}
