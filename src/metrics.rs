//! The daemon's Prometheus metrics (`/metrics`, OpenMetrics text). Counters and histograms are
//! moved where things happen (the engine, the API clients); gauges of state (tickets, outbox,
//! poll lag, the month's KPIs) are set from the store when scraped.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// `warning`, `breach`, `reminder`.
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub channel: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BreachLabels {
    pub metric: String,
    pub tier: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `zendesk`, `github`.
    pub service: String,
    pub endpoint: String,
    /// The HTTP status code, or `error` when no response came.
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub service: String,
    pub endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    pub service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TicketLabels {
    pub tier: String,
    pub severity: String,
    pub metric: String,
    /// The clock's state: `running`, `paused`, `breached`...
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KpiLabels {
    /// `first_response`, `resolution`, `sev2_resolved_within_week`, `engineering_help`, `csat`,
    /// `documentation`.
    pub kpi: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FallbackLabels {
    /// `severity`, `tier`.
    pub dimension: String,
    /// `field_missing`, `field_empty`, `not_mapped`, `no_organization`.
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    /// `mismatch`, `warning`.
    pub level: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EscalationLabels {
    /// `pending` (not filed or not told yet), `open`, `closed`, `failed` (GitHub refused it for
    /// good), `gone` (its issue deleted or its repository gone).
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PageLabels {
    pub channel: String,
    /// `triggered`, `resolved`, `failed` (an attempt of either that failed).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// Every metric, registered once; clones share the values.
pub struct Metrics {
    registry: Registry,
    pub alerts_decided: Family<AlertLabels, Counter>,
    pub deliveries_sent: Family<DeliveryLabels, Counter>,
    pub deliveries_failed: Family<DeliveryLabels, Counter>,
    pub breaches: Family<BreachLabels, Counter>,
    pub api_requests: Family<RequestLabels, Counter>,
    pub api_latency: Family<EndpointLabels, Histogram>,
    pub rate_limit_waits: Family<ServiceLabels, Counter>,
    pub rate_limit_wait_seconds: Family<ServiceLabels, Counter<f64, AtomicU64>>,
    pub polls_failed: Counter,
    pub tickets_tracked: Gauge,
    pub store_size: Gauge,
    pub open_clocks: Family<TicketLabels, Gauge>,
    pub outbox_depth: Gauge,
    pub outbox_oldest_age: Gauge,
    pub poll_lag: Gauge,
    pub records_skipped: Gauge,
    pub kpi_month: Family<KpiLabels, Gauge<f64, AtomicU64>>,
    pub fallback_tickets: Family<FallbackLabels, Gauge>,
    pub fallback_share: Gauge<f64, AtomicU64>,
    pub config_findings: Family<FindingLabels, Gauge>,
    pub escalations_failed: Counter,
    pub escalation_requests: Family<EscalationLabels, Gauge>,
    pub escalation_notes_refused: Gauge,
    pub pages: Family<PageLabels, Counter>,
    pub webhook_events: Family<OutcomeLabels, Counter>,
    pub pushed_reads: Family<OutcomeLabels, Counter>,
    pub push_latency: Histogram,
    pub push_queue_depth: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("slawatch");
        let alerts_decided = Family::<AlertLabels, Counter>::default();
        registry.register("alerts_decided", "Alerts decided, by kind", alerts_decided.clone());
        let deliveries_sent = Family::<DeliveryLabels, Counter>::default();
        registry.register("alerts_sent", "Alert deliveries made, by channel and kind", deliveries_sent.clone());
        let deliveries_failed = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "alerts_failed",
            "Alert delivery attempts that failed, by channel and kind",
            deliveries_failed.clone(),
        );
        let breaches = Family::<BreachLabels, Counter>::default();
        registry.register("breaches", "SLA breaches decided, by metric and tier", breaches.clone());
        let api_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "api_requests",
            "Requests to Zendesk and GitHub, by endpoint and status code",
            api_requests.clone(),
        );
        let api_latency = Family::<EndpointLabels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.01, 2.0, 12)));
        registry.register_with_unit(
            "api_request_duration",
            "Time to a response from Zendesk and GitHub, by endpoint",
            Unit::Seconds,
            api_latency.clone(),
        );
        let rate_limit_waits = Family::<ServiceLabels, Counter>::default();
        registry.register(
            "rate_limit_waits",
            "Waits for a rate limit (the configured budget or a 429 Retry-After)",
            rate_limit_waits.clone(),
        );
        let rate_limit_wait_seconds = Family::<ServiceLabels, Counter<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "rate_limit_wait",
            "Time spent waiting for rate limits",
            Unit::Seconds,
            rate_limit_wait_seconds.clone(),
        );
        let polls_failed = Counter::default();
        registry.register("polls_failed", "Poll cycles that failed (the cursors stay)", polls_failed.clone());
        let tickets_tracked = Gauge::default();
        registry.register("tickets_tracked", "Tickets in the store", tickets_tracked.clone());
        let store_size = Gauge::default();
        registry.register_with_unit(
            "store_size",
            "The store's files on disk (`slawatch compact-store` gives back what sled's log keeps)",
            Unit::Bytes,
            store_size.clone(),
        );
        let open_clocks = Family::<TicketLabels, Gauge>::default();
        registry.register(
            "open_ticket_clocks",
            "Contractual clocks of open tickets, by tier, severity, metric and state",
            open_clocks.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register("outbox_depth", "Deliveries waiting in the outbox", outbox_depth.clone());
        let outbox_oldest_age = Gauge::default();
        registry.register_with_unit(
            "outbox_oldest_age",
            "Age of the oldest alert waiting for delivery (0 when none)",
            Unit::Seconds,
            outbox_oldest_age.clone(),
        );
        let poll_lag = Gauge::default();
        registry.register_with_unit(
            "poll_lag",
            "Now minus the instant the events export has been applied through",
            Unit::Seconds,
            poll_lag.clone(),
        );
        let records_skipped = Gauge::default();
        registry.register(
            "records_skipped",
            "Stored records that could not be read and were skipped",
            records_skipped.clone(),
        );
        let kpi_month = Family::<KpiLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "kpi_current_month",
            "This month's KPIs as shares (attainment, engineering-help share, CSAT, documentation share); absent when nothing to measure",
            kpi_month.clone(),
        );
        let fallback_tickets = Family::<FallbackLabels, Gauge>::default();
        registry.register(
            "fallback_tickets",
            "Tickets created in the last day that got the default severity or tier, by reason",
            fallback_tickets.clone(),
        );
        let fallback_share = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "fallback_share",
            "Share of the last day's tickets that fell back to a default for a reason that is config drift ([admin] fallback_max degrades /readyz)",
            fallback_share.clone(),
        );
        let config_findings = Family::<FindingLabels, Gauge>::default();
        registry.register(
            "config_findings",
            "What the last check of the config against the account found, by level (a mismatch: a field, value, group or user the account lacks)",
            config_findings.clone(),
        );
        let escalations_failed = Counter::default();
        registry.register(
            "escalations_failed",
            "Requests for engineering GitHub refused for good (repository gone, issues disabled, archived, invalid): no issue filed",
            escalations_failed.clone(),
        );
        let escalation_requests = Family::<EscalationLabels, Gauge>::default();
        registry.register(
            "escalation_requests",
            "Requests for engineering in the store, by state",
            escalation_requests.clone(),
        );
        let escalation_notes_refused = Gauge::default();
        registry.register(
            "escalation_notes_refused",
            "Notes of engineering's issues (a link, a comment, a close) Zendesk refused for good, in the store: mostly tickets closed before the news",
            escalation_notes_refused.clone(),
        );
        let webhook_events = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_events",
            "Zendesk webhook requests, by outcome: queued, coalesced (a read of the ticket waited already), ignored (no ticket named), unverified (401), full (429)",
            webhook_events.clone(),
        );
        let pushed_reads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "pushed_reads",
            "Reads of tickets Zendesk pushed, by outcome: read, gone (left to the exports), failed (left to the exports)",
            pushed_reads.clone(),
        );
        let push_latency = Histogram::new(exponential_buckets(0.05, 2.0, 10));
        registry.register_with_unit(
            "push_latency",
            "From a verified webhook to its ticket's facts applied",
            Unit::Seconds,
            push_latency.clone(),
        );
        let push_queue_depth = Gauge::default();
        registry.register(
            "push_queue_depth",
            "Pushed tickets waiting for their read",
            push_queue_depth.clone(),
        );
        let pages = Family::<PageLabels, Counter>::default();
        registry.register(
            "pages",
            "Pages (PagerDuty, Opsgenie) by channel and outcome: triggered, resolved, failed (an attempt refused or unanswered)",
            pages.clone(),
        );
        registry.register(
            "build",
            "The running slawatch",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_string(),
            }),
        );
        Metrics {
            registry,
            alerts_decided,
            deliveries_sent,
            deliveries_failed,
            breaches,
            api_requests,
            api_latency,
            rate_limit_waits,
            rate_limit_wait_seconds,
            polls_failed,
            tickets_tracked,
            store_size,
            open_clocks,
            outbox_depth,
            outbox_oldest_age,
            poll_lag,
            records_skipped,
            kpi_month,
            fallback_tickets,
            fallback_share,
            config_findings,
            escalations_failed,
            escalation_requests,
            escalation_notes_refused,
            pages,
            webhook_events,
            pushed_reads,
            push_latency,
            push_queue_depth,
        }
    }

    /// One request to an external API: its status (None: no response) and how long it took.
    pub fn api_request(&self, service: &str, endpoint: &str, status: Option<u16>, took: Duration) {
        self.api_requests
            .get_or_create(&RequestLabels {
                service: service.to_string(),
                endpoint: endpoint.to_string(),
                status: status.map_or("error".to_string(), |s| s.to_string()),
            })
            .inc();
        self.api_latency
            .get_or_create(&EndpointLabels {
                service: service.to_string(),
                endpoint: endpoint.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// The `kind` label of an alert point.
    pub fn point_kind(point: crate::sla::clock::AlertPoint) -> &'static str {
        match point {
            crate::sla::clock::AlertPoint::Warning(_) => "warning",
            crate::sla::clock::AlertPoint::Breach => "breach",
            crate::sla::clock::AlertPoint::Reminder(_) => "reminder",
        }
    }

    /// An alert decided to be sent; a breach of a contractual target counts as a breach too.
    pub fn alert_decided(&self, point: crate::sla::clock::AlertPoint, goal: bool, metric: &str, tier: &str) {
        self.alerts_decided
            .get_or_create(&AlertLabels {
                kind: Metrics::point_kind(point).to_string(),
            })
            .inc();
        if point == crate::sla::clock::AlertPoint::Breach && !goal {
            self.breaches
                .get_or_create(&BreachLabels {
                    metric: metric.to_string(),
                    tier: tier.to_string(),
                })
                .inc();
        }
    }

    /// One delivery attempt's outcome.
    pub fn delivery(&self, channel: &str, point: crate::sla::clock::AlertPoint, sent: bool) {
        let labels = DeliveryLabels {
            channel: channel.to_string(),
            kind: Metrics::point_kind(point).to_string(),
        };
        let family = if sent { &self.deliveries_sent } else { &self.deliveries_failed };
        family.get_or_create(&labels).inc();
    }

    /// A page's trigger or resolve: `triggered`, `resolved` or `failed`.
    pub fn page(&self, channel: &str, outcome: &str) {
        self.pages
            .get_or_create(&PageLabels {
                channel: channel.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// A wait for a rate limit.
    pub fn webhook_event(&self, outcome: &str) {
        self.webhook_events
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// A pushed ticket's read, `waited` after its webhook was verified.
    pub fn pushed_read(&self, outcome: &str, waited: Duration) {
        self.pushed_reads
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
        if outcome == "read" {
            self.push_latency.observe(waited.as_secs_f64());
        }
    }

    pub fn rate_limit_wait(&self, service: &str, waited: Duration) {
        let labels = ServiceLabels {
            service: service.to_string(),
        };
        self.rate_limit_waits.get_or_create(&labels).inc();
        self.rate_limit_wait_seconds.get_or_create(&labels).inc_by(waited.as_secs_f64());
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        out
    }
}
