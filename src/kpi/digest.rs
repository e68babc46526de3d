//! The weekly digest: which period a firing of `[report.digest] cron` covers, and the message
//! (each KPI against its target, the change since the period before, the breached tickets).

use std::str::FromStr;

use chrono::{NaiveDateTime, TimeDelta, TimeZone, Utc};
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

/// How far the wall clock can be set back (a repeated hour): a wall time later than `now`'s may
/// have had its instant already (01:30 PDT comes before 01:15 PST).
const WALL_CLOCK_SETBACK_SECS: i64 = 86_400;

/// Every zone's offset from UTC is within a day of it.
const MAX_OFFSET_SECS: i64 = 86_400;

/// The wall time of an instant in `zone`.
fn wall_time(zone: Tz, at: Timestamp) -> Option<NaiveDateTime> {
    zone.timestamp_opt(at, 0).single().map(|t| t.naive_local())
}

/// The cron's wall times, from `from` (exclusive) on: the cron read in UTC, which has no DST,
/// gives `zone`'s wall clock without the crate's handling of its gaps and overlaps (it fires
/// twice in a repeated hour and never in a skipped one).
fn wall_times(cron: &cron::Schedule, from: NaiveDateTime) -> cron::OwnedScheduleIterator<Utc> {
    cron.after_owned(Utc.from_utc_datetime(&from))
}

/// When a firing at wall time `local` happens: the first instant whose wall time in `zone`
/// reaches it. In a repeated hour that is its first pass, so the firing happens once; in a
/// skipped hour it is the first instant after the gap (03:00 for 02:30 on the night the clocks
/// go forward).
fn instant_of(zone: Tz, local: NaiveDateTime) -> Option<Timestamp> {
    if let Some(at) = zone.from_local_datetime(&local).earliest() {
        return Some(at.timestamp());
    }
    // In a gap, the wall time is before `local` until the gap's end and after it from then on.
    let guess = local.and_utc().timestamp();
    let (mut before, mut after) = (guess - MAX_OFFSET_SECS, guess + MAX_OFFSET_SECS);
    while after - before > 1 {
        let middle = before + (after - before) / 2;
        if wall_time(zone, middle)? >= local {
            after = middle;
        } else {
            before = middle;
        }
    }
    Some(after)
}

/// The instants of the firings after `after`, earliest first, each once.
pub fn firings_after(cron: &cron::Schedule, zone: Tz, after: Timestamp) -> impl Iterator<Item = Timestamp> + '_ {
    // Every wall time up to `after`'s has had its instant by `after`.
    let mut last = after;
    wall_time(zone, after)
        .into_iter()
        .flat_map(move |from| wall_times(cron, from))
        .filter_map(move |wall| instant_of(zone, wall.naive_utc()))
        // Several wall times in one gap happen at its end, once.
        .filter(move |&at| {
            let later = at > last;
            if later {
                last = at;
            }
            later
        })
}

/// The instants of the firings at or before `now`, latest first, each once.
fn instants_back(cron: &cron::Schedule, zone: Tz, now: Timestamp) -> impl Iterator<Item = Timestamp> + '_ {
    // Wall times up to a day past `now`'s may have had their instants (a repeated hour); those
    // whose instants are after `now` are passed over.
    let mut last = now + 1;
    wall_time(zone, now)
        .map(|wall| wall + TimeDelta::seconds(WALL_CLOCK_SETBACK_SECS))
        .into_iter()
        .flat_map(move |until| wall_times(cron, until).rev())
        .filter_map(move |wall| instant_of(zone, wall.naive_utc()))
        .filter(move |&at| {
            let earlier = at < last;
            if earlier {
                last = at;
            }
            earlier
        })
}

/// The firings at or before `now`, latest first, each with the two before it.
pub fn firings_back(cron: &cron::Schedule, zone: Tz, now: Timestamp) -> impl Iterator<Item = Firing> + '_ {
    let mut back = instants_back(cron, zone, now);
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
    firings_after(cron, zone, now).next()
}

/// The schedule digests are decided under, as the store keeps it: the zone, then the cron.
pub fn schedule_key(cron: &cron::Schedule, zone: Tz) -> String {
    format!("{} {}", zone.name(), cron.source())
}

/// Whether a stored `schedule_key` names `cron` in `zone` (the cron's fields are compared:
/// writing "Mon" as "MON" changes nothing).
fn same_schedule(stored: &str, cron: &cron::Schedule, zone: Tz) -> bool {
    stored.split_once(' ').is_some_and(|(stored_zone, source)| {
        stored_zone == zone.name() && cron::Schedule::from_str(source).is_ok_and(|s| s.timeunitspec_eq(cron))
    })
}

/// What the store says of the digests decided before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decided<'a> {
    /// The schedule they were decided under (`schedule_key`); None in a store from before it
    /// was kept.
    pub schedule: Option<&'a str>,
    /// Since when firings were owed.
    pub since: Option<Timestamp>,
    /// The latest recorded digest's firing and its period's start (read only when `schedule` is
    /// None).
    pub latest: Option<(Timestamp, Timestamp)>,
}

/// Since when the firings of the configured schedule are owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owed {
    /// As stored: the schedule is the one the digests were decided under.
    Since(Timestamp),
    /// The first run with a digest: firings before it were never promised.
    First(Timestamp),
    /// A new cron or zone: only its firings from the change on are owed, not every past one.
    Changed(Timestamp),
    /// A store from before the schedule was kept, whose digests agree with this schedule: since
    /// as stored.
    Kept(Timestamp),
}

impl Owed {
    pub fn since(self) -> Timestamp {
        match self {
            Owed::Since(at) | Owed::First(at) | Owed::Changed(at) | Owed::Kept(at) => at,
        }
    }

    /// Whether the schedule is to be stored now, with `since`.
    pub fn is_new(self) -> bool {
        !matches!(self, Owed::Since(_))
    }
}

/// Since when the firings of `cron` in `zone` are owed, `now` being the first moment slawatch
/// runs with them if the store names another schedule. A downtime across several firings of the
/// same schedule still owes each of them.
pub fn owed_since(decided: Decided<'_>, cron: &cron::Schedule, zone: Tz, now: Timestamp) -> Owed {
    let Some(since) = decided.since else {
        return Owed::First(now);
    };
    match decided.schedule {
        Some(stored) if same_schedule(stored, cron, zone) => Owed::Since(since),
        Some(_) => Owed::Changed(now),
        // Decided before the schedule was kept: the latest digest tells whether it was this one.
        None => match decided.latest {
            None => Owed::Kept(since),
            Some((at, from)) => match latest_firing(cron, zone, at) {
                Some(firing) if firing.at == at && firing.previous == from => Owed::Kept(since),
                _ => Owed::Changed(now),
            },
        },
    }
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
        let d = &r.documentation;
        let created_change = match p.tickets_created {
            0 => "none the period before".to_string(),
            n => format!("{:+} from {n}", r.tickets_created as i64 - n as i64),
        };
        let mut lines = vec![
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
        ];
        // Measured only once `[report] question_types` and `docs_url_prefixes` are both set.
        if d.configured {
            lines.push(Line {
                name: "Questions answered with the documentation",
                result: format!(
                    "{} ({} of {} solved questions)",
                    percent(d.share),
                    d.with_docs_link,
                    d.solved_questions
                ),
                target: percent(Some(d.target)),
                mark: mark(d.share.map(|s| s >= d.target)),
                change: points(d.share, p.documentation.share),
            });
        }
        lines
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

    fn digest<'a>(report: &'a Report, previous: &'a Report) -> Digest<'a> {
        Digest {
            report,
            previous,
            breached: &[],
            breached_total: 0,
            zone: Tz::America__Los_Angeles,
            from: at("2026-11-23T09:00:00-08:00"),
            to: at("2026-11-30T09:00:00-08:00"),
        }
    }

    fn documented(solved_questions: u64, with_docs_link: u64) -> Report {
        let documentation = crate::kpi::report::Documentation {
            configured: true,
            solved_questions,
            with_docs_link,
            open_questions: 2,
            share: (solved_questions > 0).then(|| with_docs_link as f64 / solved_questions as f64),
            target: 0.9,
        };
        Report {
            documentation,
            ..Report::default()
        }
    }

    /// The KPI fields of a Slack digest, section by section.
    fn fields(slack: &Value) -> Vec<Vec<String>> {
        let blocks = slack["blocks"].as_array().cloned().unwrap_or_default();
        blocks
            .iter()
            .filter_map(|b| b["fields"].as_array())
            .map(|fields| fields.iter().map(|f| f["text"].as_str().unwrap_or_default().to_string()).collect())
            .collect()
    }

    #[test]
    fn the_documentation_share_is_a_kpi_line_only_once_it_is_configured() {
        let (quiet, before) = (Report::default(), Report::default());
        let unconfigured = digest(&quiet, &before);
        assert!(!unconfigured.text().contains("documentation"), "{}", unconfigured.text());
        let sections = fields(&unconfigured.slack());
        assert_eq!(sections.iter().map(Vec::len).collect::<Vec<_>>(), [6]);

        let (now, before) = (documented(10, 9), documented(5, 4));
        let d = digest(&now, &before);
        let text = d.text();
        assert!(
            text.contains(
                "\nQuestions answered with the documentation: 90.0% (9 of 10 solved questions) (target 90.0%) ✓; +10.0 pts from 80.0%\n"
            ),
            "{text}"
        );
        let sections = fields(&d.slack());
        assert_eq!(sections.iter().map(Vec::len).collect::<Vec<_>>(), [7], "{sections:?}");
        assert_eq!(
            sections[0][6],
            "*Questions answered with the documentation*\n90.0% (9 of 10 solved questions) ✓ target 90.0%\n_+10.0 pts from 80.0%_"
        );

        // Below target, and nothing solved the period before.
        let (now, before) = (documented(4, 3), documented(0, 0));
        let text = digest(&now, &before).text();
        assert!(
            text.contains("Questions answered with the documentation: 75.0% (3 of 4 solved questions) (target 90.0%) ✗; nothing to compare with the period before\n"),
            "{text}"
        );
        // Nothing solved yet: nothing to judge.
        let (now, before) = (documented(0, 0), documented(4, 3));
        let text = digest(&now, &before).text();
        assert!(
            text.contains("Questions answered with the documentation: — (0 of 0 solved questions) (target 90.0%) –; was 75.0%\n"),
            "{text}"
        );
    }

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

    const WEEK: i64 = 7 * 86_400;

    fn schedule(text: &str) -> cron::Schedule {
        cron::Schedule::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn at(text: &str) -> Timestamp {
        crate::sla::time::parse_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    const LA: Tz = Tz::America__Los_Angeles;

    #[test]
    fn a_firing_in_the_repeated_hour_happens_once_at_its_first_pass() {
        // Sun 1 Nov 2026: 02:00 PDT becomes 01:00 PST, so 01:30 comes twice.
        let sunday = schedule("0 30 1 * * Sun");
        let first = at("2026-11-01T01:30:00-07:00");
        let week_before = at("2026-10-25T01:30:00-07:00");
        let week_after = at("2026-11-08T01:30:00-08:00");
        assert_eq!(next_firing(&sunday, LA, first - 1), Some(first));
        for now in [
            first,
            at("2026-11-01T01:00:00-08:00"),
            at("2026-11-01T01:30:00-08:00"),
            at("2026-11-07T23:00:00-08:00"),
        ] {
            let firing = Firing {
                at: first,
                previous: week_before,
                before: week_before - WEEK,
            };
            assert_eq!(latest_firing(&sunday, LA, now), Some(firing), "at {now}");
            assert_eq!(next_firing(&sunday, LA, now), Some(week_after), "at {now}");
        }
        assert_eq!(latest_firing(&sunday, LA, week_after).map(|f| f.previous), Some(first));

        let daily: Vec<Timestamp> = firings_after(&schedule("0 30 1 * * *"), LA, at("2026-10-31T12:00:00-07:00"))
            .take(3)
            .collect();
        assert_eq!(daily, [first, at("2026-11-02T01:30:00-08:00"), at("2026-11-03T01:30:00-08:00")]);
        let hourly: Vec<Timestamp> = firings_after(&schedule("0 0 * * * *"), LA, at("2026-10-31T23:30:00-07:00"))
            .take(3)
            .collect();
        assert_eq!(
            hourly,
            [
                at("2026-11-01T00:00:00-07:00"),
                at("2026-11-01T01:00:00-07:00"),
                at("2026-11-01T02:00:00-08:00")
            ]
        );
        let back = firings_back(&schedule("0 0 * * * *"), LA, at("2026-11-01T02:00:00-08:00"))
            .next()
            .map(|f| [f.at, f.previous, f.before]);
        assert_eq!(
            back,
            Some([
                at("2026-11-01T02:00:00-08:00"),
                at("2026-11-01T01:00:00-07:00"),
                at("2026-11-01T00:00:00-07:00")
            ])
        );
    }

    #[test]
    fn a_firing_in_the_skipped_hour_happens_at_the_first_instant_after_it() {
        // Sun 14 Mar 2027: 02:00 PST becomes 03:00 PDT; 02:30 never comes.
        let sunday = schedule("0 30 2 * * Sun");
        let gap_end = at("2027-03-14T03:00:00-07:00");
        let week_before = at("2027-03-07T02:30:00-08:00");
        let week_after = at("2027-03-21T02:30:00-07:00");
        assert_eq!(next_firing(&sunday, LA, at("2027-03-14T01:59:59-08:00")), Some(gap_end));
        assert_eq!(next_firing(&sunday, LA, gap_end - 1), Some(gap_end));
        assert_eq!(next_firing(&sunday, LA, gap_end), Some(week_after));
        assert_eq!(latest_firing(&sunday, LA, gap_end - 1).map(|f| f.at), Some(week_before));
        assert_eq!(
            latest_firing(&sunday, LA, gap_end),
            Some(Firing {
                at: gap_end,
                previous: week_before,
                before: week_before - WEEK
            })
        );
        assert_eq!(latest_firing(&sunday, LA, week_after).map(|f| f.previous), Some(gap_end));

        // A wall time in the gap and one at its end: one firing.
        let two_and_three = schedule("0 0 2,3 * * *");
        let after: Vec<Timestamp> = firings_after(&two_and_three, LA, at("2027-03-13T12:00:00-08:00")).take(3).collect();
        assert_eq!(after, [gap_end, at("2027-03-15T02:00:00-07:00"), at("2027-03-15T03:00:00-07:00")]);
        let back = latest_firing(&two_and_three, LA, at("2027-03-14T12:00:00-07:00")).map(|f| [f.at, f.previous, f.before]);
        assert_eq!(
            back,
            Some([gap_end, at("2027-03-13T03:00:00-08:00"), at("2027-03-13T02:00:00-08:00")])
        );

        // Lord Howe Island goes forward half an hour (02:00 +10:30 to 02:30 +11:00).
        let lord_howe = Tz::Australia__Lord_Howe;
        assert_eq!(
            next_firing(&schedule("0 15 2 * * *"), lord_howe, at("2026-10-03T12:00:00+10:30")),
            Some(at("2026-10-04T02:30:00+11:00"))
        );
    }

    #[test]
    fn only_the_firings_of_a_new_schedule_after_the_change_are_owed() {
        let monday = schedule("0 0 9 * * Mon");
        let since = at("2026-11-23T09:30:00-08:00");
        let now = at("2026-12-02T10:00:00-08:00");
        let key = schedule_key(&monday, LA);
        assert_eq!(key, "America/Los_Angeles 0 0 9 * * Mon");
        let decided = Decided {
            schedule: Some(&key),
            since: Some(since),
            latest: None,
        };
        assert_eq!(owed_since(decided, &monday, LA, now), Owed::Since(since));
        assert_eq!(owed_since(decided, &schedule("0  0 9 * * MON"), LA, now), Owed::Since(since));
        assert_eq!(owed_since(decided, &schedule("0 0 9 * * Fri"), LA, now), Owed::Changed(now));
        assert_eq!(owed_since(decided, &monday, Tz::Europe__London, now), Owed::Changed(now));
        assert_eq!(owed_since(Decided::default(), &monday, LA, now), Owed::First(now));
        assert!(!Owed::Since(since).is_new());
        assert!(Owed::Changed(now).is_new());

        // A store from before the schedule was kept: its latest digest says which it was.
        let monday_30 = at("2026-11-30T09:00:00-08:00");
        let legacy = |latest| Decided {
            schedule: None,
            since: Some(since),
            latest,
        };
        assert_eq!(owed_since(legacy(None), &monday, LA, now), Owed::Kept(since));
        let mondays = Some((monday_30, monday_30 - WEEK));
        assert_eq!(owed_since(legacy(mondays), &monday, LA, now), Owed::Kept(since));
        assert_eq!(owed_since(legacy(mondays), &schedule("0 0 9 * * Fri"), LA, now), Owed::Changed(now));
        assert_eq!(owed_since(legacy(mondays), &monday, Tz::Europe__London, now), Owed::Changed(now));
    }
}
