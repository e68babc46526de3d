//! The status page at `/`: one self-contained HTML page (its CSS and script inline, nothing
//! fetched from elsewhere) that a support lead keeps open on a second screen. Its script reads
//! `/status`, `/readyz` and `/report` with the token the page was opened with, and counts the
//! deadlines down itself every second. What it needs from the configuration (the Zendesk
//! address its links go to, the current month and its weeks in the report's zone) is written
//! into the page here, HTML-escaped.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use rand::RngCore;
use serde::Serialize;

use crate::config::Config;
use crate::engine::Engine;
use crate::sla::time::Timestamp;

const TEMPLATE: &str = include_str!("page.html");

/// A range of ticket creation the page asks `/report` for: `[from, to)`, Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Span {
    label: String,
    from: Timestamp,
    to: Timestamp,
    /// Starts after now: nothing to report yet.
    future: bool,
}

/// What the page's script reads from its `data-config` attribute.
#[derive(Debug, Serialize)]
struct PageConfig {
    /// Tickets link to `{zendesk}/agent/tickets/{id}`; empty without a `[zendesk]` section.
    zendesk: String,
    /// The report's zone, where the month and its weeks are read.
    zone: String,
    month: Span,
    /// The month's weeks, Monday to Sunday, the first and last cut at the month's ends.
    weeks: Vec<Span>,
    /// The severity of the "resolved within a week" KPI.
    within_week_severity: String,
    /// The daemon's clock when the page was served (Unix seconds).
    served_at: Timestamp,
}

/// `GET /`: the page, never cached (it carries nothing secret, but the token is in its URL).
pub(super) async fn page(State(engine): State<Arc<Engine>>) -> Response {
    let nonce = nonce();
    let html = render(&engine.config, engine.clock.now(), &nonce);
    // Only this response's own inline script and style run; the script talks to this server
    // alone. A slip in the page's escaping would still run nothing.
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; img-src data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::REFERRER_POLICY, "no-referrer".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CONTENT_SECURITY_POLICY, policy),
        ],
        html,
    )
        .into_response()
}

fn nonce() -> String {
    let mut bytes = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The page at `now`, its script and style allowed by `nonce`.
fn render(config: &Config, now: Timestamp, nonce: &str) -> String {
    let zone = config.report.time_zone;
    let (month, weeks) = month_and_weeks(now, zone);
    let page = PageConfig {
        zendesk: config.zendesk.as_ref().map(|z| z.base_url.clone()).unwrap_or_default(),
        zone: zone.name().to_string(),
        month,
        weeks,
        within_week_severity: config.report.within_week_severity.clone(),
        served_at: now,
    };
    let json = serde_json::to_string(&page).unwrap_or_else(|_| "{}".to_string());
    fill(TEMPLATE, |name| match name {
        "config" => Some(escape(&json)),
        "nonce" => Some(escape(nonce)),
        _ => None,
    })
}

/// Replaces each `{{name}}` in one pass (a value is never read again for placeholders);
/// unknown names stay as they are.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 1024);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| value(&after[..end]).map(|v| (end, v))) {
            Some((end, v)) => {
                out.push_str(&v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text made safe for HTML content and quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The first instant of a local day, as `slawatch report --from DATE` reads it.
fn start_of_day(date: NaiveDate, zone: Tz) -> Timestamp {
    let text = date.format("%Y-%m-%d").to_string();
    match crate::kpi::range::parse(None, Some(&text), Some("2199-12-31"), zone) {
        Ok((from, _)) => from,
        Err(_) => zone.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default()).timestamp(),
    }
}

/// The month `now` falls in (in `zone`), and its weeks.
fn month_and_weeks(now: Timestamp, zone: Tz) -> (Span, Vec<Span>) {
    let today = zone
        .timestamp_opt(now, 0)
        .single()
        .map(|local| local.date_naive())
        .unwrap_or_default();
    let first = today.with_day(1).unwrap_or(today);
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    let span = |from: NaiveDate, to: NaiveDate, label: String| {
        let start = start_of_day(from, zone);
        Span {
            label,
            from: start,
            to: start_of_day(to, zone),
            future: start > now,
        }
    };
    let month = span(first, next, first.format("%B %Y").to_string());
    let mut weeks = Vec::new();
    let mut day = first;
    while day < next {
        let monday_after = day + Duration::days(7 - i64::from(day.weekday().num_days_from_monday()));
        let end = monday_after.min(next);
        let sunday = end - Duration::days(1);
        let label = if sunday == day {
            day.format("%-d %b").to_string()
        } else {
            format!("{}–{}", day.format("%-d"), sunday.format("%-d %b"))
        };
        weeks.push(span(day, end, label));
        day = end;
    }
    (month, weeks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la() -> Tz {
        "America/Los_Angeles".parse().unwrap_or(Tz::UTC)
    }

    fn at(text: &str) -> Timestamp {
        crate::sla::time::parse_rfc3339(text).unwrap_or_default()
    }

    #[test]
    fn text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            escape(r#"<img src=x onerror="alert('1')"> & co"#),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt; &amp; co"
        );
    }

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_read_again() {
        let filled = fill("a {{x}} b {{y}} {{unknown}} {{", |name| match name {
            "x" => Some("{{y}}".to_string()),
            "y" => Some("Y".to_string()),
            _ => None,
        });
        assert_eq!(filled, "a {{y}} b Y {{unknown}} {{");
    }

    #[test]
    fn a_month_is_cut_into_monday_weeks_in_the_report_zone() {
        // Wednesday 2 December 2026, 09:16 PST.
        let (month, weeks) = month_and_weeks(at("2026-12-02T17:16:00Z"), la());
        assert_eq!(month.label, "December 2026");
        assert_eq!(
            (month.from, month.to),
            (at("2026-12-01T00:00:00-08:00"), at("2027-01-01T00:00:00-08:00"))
        );
        let labels: Vec<&str> = weeks.iter().map(|w| w.label.as_str()).collect();
        assert_eq!(labels, ["1–6 Dec", "7–13 Dec", "14–20 Dec", "21–27 Dec", "28–31 Dec"]);
        assert_eq!(weeks[0].from, month.from);
        assert_eq!(weeks[1].from, at("2026-12-07T00:00:00-08:00"));
        assert_eq!(weeks[4].to, month.to);
        assert!(weeks.windows(2).all(|w| w[0].to == w[1].from));
        assert_eq!(weeks.iter().map(|w| w.future).collect::<Vec<_>>(), [false, true, true, true, true]);
        // November 2026 starts on a Sunday (and in daylight time): a one-day first week.
        let (month, weeks) = month_and_weeks(at("2026-11-30T17:00:00Z"), la());
        assert_eq!(month.from, at("2026-11-01T00:00:00-07:00"));
        assert_eq!(weeks[0].label, "1 Nov");
        assert_eq!(weeks[0].to, at("2026-11-02T00:00:00-08:00"));
        assert_eq!(weeks.last().map(|w| w.label.as_str()), Some("30 Nov"));
    }
}
