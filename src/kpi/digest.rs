//! The weekly digest: which period a firing of `[report.digest] cron` covers, and the message
//! (each KPI against its target, the change since the period before, the breached tickets).

use chrono::TimeZone;
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::format::{mark, percent};
use super::report::{Attainment, Report};
use crate::notify::wording;
use crate::sla::time::Timestamp;

/// The firing a digest is owed for, and the two periods it compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firing {
    /// The firing: the end (exclusive) of the period reported.
    pub at: Timestamp,
    /// The firing before: the period's start, and the end of the period compared with.
    pub previous: Timestamp,
    /// The one before that: the start of the period compared with.
    pub before: Timestamp,
}

/// The firings at or before `now`, latest first, each with the two before it.
pub fn firings_back(cron: &cron::Schedule, zone: Tz, now: Timestamp) -> impl Iterator<Item = Firing> + '_ {
    let after = zone.timestamp_opt(now + 1, 0).single();
    let mut back = after
        .into_iter()
        .flat_map(move |after| cron.after_owned(after).rev().map(|t| t.timestamp()));
    let mut window = [back.next(), back.next(), back.next()];
    std::iter::from_fn(move || {
        let [Some(at), Some(previous), Some(before)] = window else {
            return None;
        };
        window = [Some(previous), Some(before), back.next()];
        Some(Firing { at, previous, before })
    })
}

/// The latest firing at or before `now`, with the two before it.
pub fn latest_firing(cron: &cron::Schedule, zone: Tz, now: Timestamp) -> Option<Firing> {
    firings_back(cron, zone, now).next()
}

/// The first firing after `now`.
pub fn next_firing(cron: &cron::Schedule, zone: Tz, now: Timestamp) -> Option<Timestamp> {
    let at = zone.timestamp_opt(now, 0).single()?;
    cron.after(&at).next().map(|t| t.timestamp())
}

/// A ticket of the period whose contractual clock breached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreachedTicket {
    pub id: u64,
    pub subject: String,
    pub url: String,
    /// `first response`, `resolution`.
    pub metrics: Vec<&'static str>,
}

/// Everything the digest says, gathered when it is sent.
pub struct Digest<'a> {
    pub report: &'a Report,
    pub previous: &'a Report,
    /// Listed in full up to a limit; `breached_total` counts them all.
    pub breached: &'a [BreachedTicket],
    pub breached_total: u64,
    /// Where the period's bounds are shown.
    pub zone: Tz,
    pub from: Timestamp,
    pub to: Timestamp,
}

fn points(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(n), Some(b)) => {
            let delta = (n - b) * 100.0;
            if delta.abs() < 0.05 {
                format!("unchanged from {}", percent(Some(b)))
            } else {
                format!("{:+.1} pts from {}", delta, percent(Some(b)))
            }
        }
        (_, None) => "nothing to compare with the period before".to_string(),
        (None, Some(b)) => format!("was {}", percent(Some(b))),
    }
}

/// One KPI line: its name, result and target, its mark, and the change.
struct Line {
    name: &'static str,
    result: String,
    target: String,
    mark: &'static str,
    change: String,
}

fn attainment_line(name: &'static str, now: &Attainment, before: &Attainment) -> Line {
    Line {
        name,
        result: format!(
            "{} ({} met, {} breached, {} running)",
            percent(now.attainment),
            now.met,
            now.breached,
            now.running
        ),
        target: percent(Some(now.target)),
        mark: mark(now.on_target()),
        change: points(now.attainment, before.attainment),
    }
}

impl Digest<'_> {
    fn lines(&self) -> Vec<Line> {
        let (r, p) = (self.report, self.previous);
        let w = &r.sev2_resolved_within_week;
        let e = &r.engineering_help;
        let c = &r.csat;
        let created_change = match p.tickets_created {
            0 => "none the period before".to_string(),
            n => format!("{:+} from {n}", r.tickets_created as i64 - n as i64),
        };
        vec![
            Line {
                name: "Tickets created",
                result: r.tickets_created.to_string(),
                target: String::new(),
                mark: "",
                change: created_change,
            },
            attainment_line("SLA first response", &r.first_response, &p.first_response),
            attainment_line("SLA resolution", &r.resolution, &p.resolution),
            Line {
                name: "Severity 2 resolved within a week",
                result: format!("{} ({} within, {} late, {} pending)", percent(w.share), w.within, w.late, w.pending),
                target: percent(Some(w.target)),
                mark: mark(w.share.map(|s| s >= w.target)),
                change: points(w.share, p.sev2_resolved_within_week.share),
            },
            Line {
                name: "Needed engineering help",
                result: format!("{} ({} of {} tickets)", percent(e.share), e.requests, e.tickets),
                target: format!("at most {}", percent(Some(e.target_max))),
                mark: mark(e.share.map(|_| !e.over)),
                change: points(e.share, p.engineering_help.share),
            },
            Line {
                name: "CSAT",
                result: format!("{} ({} good, {} bad)", percent(c.score), c.good, c.bad),
                target: percent(Some(c.target)),
                mark: mark(c.score.map(|s| s >= c.target)),
                change: points(c.score, p.csat.score),
            },
        ]
    }

    fn period(&self) -> String {
        format!("{} – {}", wording::local(self.from, self.zone), wording::local(self.to, self.zone))
    }

    fn warning(&self) -> Option<String> {
        let e = &self.report.engineering_help;
        e.over.then(|| {
            format!(
                "Warning: {} of tickets needed engineering help, over the {} limit.",
                percent(e.share),
                percent(Some(e.target_max))
            )
        })
    }

    fn breached_more(&self) -> Option<String> {
        let more = self.breached_total.saturating_sub(self.breached.len() as u64);
        (more > 0).then(|| format!("…and {more} more (slawatch report lists them all)"))
    }

    /// Plain text: Slack's notification text, the generic webhook's, and the demo's print.
    pub fn text(&self) -> String {
        let mut out = format!("Support KPIs for tickets created {}\n", self.period());
        for line in self.lines() {
            let target = if line.target.is_empty() {
                String::new()
            } else {
                format!(" (target {}) {}", line.target, line.mark)
            };
            out.push_str(&format!("{}: {}{}; {}\n", line.name, line.result, target, line.change));
        }
        if let Some(warning) = self.warning() {
            out.push_str(&format!("{warning}\n"));
        }
        if self.breached_total == 0 {
            out.push_str("No breached tickets.\n");
        } else {
            out.push_str(&format!("Breached tickets ({}):\n", self.breached_total));
            for t in self.breached {
                out.push_str(&format!("#{} {} — {} breached\n", t.id, t.subject, t.metrics.join(" and ")));
            }
            if let Some(more) = self.breached_more() {
                out.push_str(&format!("{more}\n"));
            }
        }
        out
    }

    /// Block Kit: a header, each KPI as a field against its target, the warning, the breaches.
    pub fn slack(&self) -> Value {
        let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": "Support KPIs digest"}}),
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("Tickets created {}", self.period())}]}),
        ];
        let fields: Vec<Value> = self
            .lines()
            .into_iter()
            .map(|l| {
                let target = if l.target.is_empty() {
                    String::new()
                } else {
                    format!(" {} target {}", l.mark, l.target)
                };
                json!({"type": "mrkdwn", "text": format!("*{}*\n{}{}\n_{}_", l.name, l.result, target, l.change)})
            })
            .collect();
        // Slack allows ten fields a section.
        for chunk in fields.chunks(10) {
            blocks.push(json!({"type": "section", "fields": chunk}));
        }
        if let Some(warning) = self.warning() {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(":warning: *{}*", escape(&warning))}}));
        }
        let breached = if self.breached_total == 0 {
            "*Breached tickets:* none".to_string()
        } else {
            let mut text = format!("*Breached tickets ({})*", self.breached_total);
            for t in self.breached {
                text.push_str(&format!(
                    "\n• <{}|#{}> {} — {} breached",
                    t.url,
                    t.id,
                    escape(&t.subject),
                    t.metrics.join(" and ")
                ));
            }
            if let Some(more) = self.breached_more() {
                text.push_str(&format!("\n{more}"));
            }
            text
        };
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": breached}}));
        json!({"text": self.text(), "blocks": blocks})
    }

    /// The generic webhook: the text and the report itself.
    pub fn webhook(&self) -> Value {
        json!({"text": self.text(), "report": self.report, "previous": self.previous})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_latest_firing_includes_now_and_names_the_two_before() {
        let (Ok(cron), Ok(zone)) = (cron::Schedule::from_str("0 0 9 * * Mon"), "America/Los_Angeles".parse::<Tz>()) else {
            panic!("cron and zone parse");
        };
        let monday_9 = crate::sla::time::parse_rfc3339("2026-11-30T09:00:00-08:00").unwrap_or_default();
        let firing = latest_firing(&cron, zone, monday_9);
        assert_eq!(
            firing,
            Some(Firing {
                at: monday_9,
                previous: monday_9 - 7 * 86_400,
                before: monday_9 - 14 * 86_400
            })
        );
        assert_eq!(latest_firing(&cron, zone, monday_9 - 1).map(|f| f.at), Some(monday_9 - 7 * 86_400));
        assert_eq!(next_firing(&cron, zone, monday_9), Some(monday_9 + 7 * 86_400));
    }
}
