//! The report's headline figures as a flat list, for reading periods side by side (a quarter
//! month by month) and against a baseline (`--compare-to`): each figure has a stable key (the
//! JSON path of its value), a label, and a kind that says how it and its change are written.

use std::collections::BTreeMap;

use super::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Count,
    /// A share from 0 to 1: written as a percentage, its change in percentage points.
    Share,
    Number,
    /// Seconds on each ticket's own clock: written in hours.
    Seconds,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub key: String,
    pub label: String,
    pub kind: Kind,
    pub value: Option<f64>,
}

fn figure(key: impl Into<String>, label: impl Into<String>, kind: Kind, value: Option<f64>) -> Figure {
    Figure {
        key: key.into(),
        label: label.into(),
        kind,
        value,
    }
}

/// The headline figures of a report, in the order they are read.
pub fn figures(r: &Report) -> Vec<Figure> {
    use Kind::*;
    let mut out = vec![
        figure("tickets_created", "Tickets created", Count, Some(r.tickets_created as f64)),
        figure(
            "first_response.attainment",
            "SLA first response",
            Share,
            r.first_response.attainment,
        ),
        figure("resolution.attainment", "SLA resolution", Share, r.resolution.attainment),
        figure(
            "sev2_resolved_within_week.share",
            "Severity 2 resolved within a week",
            Share,
            r.sev2_resolved_within_week.share,
        ),
        figure("engineering_help.share", "Needed engineering help", Share, r.engineering_help.share),
        figure(
            "engineering_help.requests",
            "Engineering-help requests",
            Count,
            Some(r.engineering_help.requests as f64),
        ),
        figure(
            "engineering_help.requests_per_month",
            "Engineering-help requests per month",
            Number,
            r.engineering_help.requests_per_month,
        ),
        figure("csat.score", "CSAT", Share, r.csat.score),
    ];
    if r.documentation.configured {
        out.push(figure(
            "documentation.share",
            "Questions answered with the docs",
            Share,
            r.documentation.share,
        ));
    }
    out.extend([
        figure("replies_per_ticket", "Replies per ticket (mean)", Number, r.replies_per_ticket),
        figure(
            "replies_per_ticket_median",
            "Replies per ticket (median)",
            Number,
            r.replies_per_ticket_median,
        ),
        figure(
            "avg_time_between_replies_seconds.support",
            "Average wait for a support reply",
            Seconds,
            r.avg_time_between_replies_seconds.support,
        ),
    ]);
    for (group, name, map) in [("per_severity", "", &r.per_severity), ("per_tier", "tier ", &r.per_tier)] {
        for (key, clocks) in map {
            for (metric, words, d) in [
                ("first_response_time", "First response", &clocks.first_response_time),
                ("resolution_time", "Resolution", &clocks.resolution_time),
            ] {
                for (stat, stat_words, value) in [
                    ("median_seconds", "median", d.median_seconds),
                    ("p90_seconds", "p90", d.p90_seconds),
                ] {
                    out.push(figure(
                        format!("{group}.{key}.{metric}.{stat}"),
                        format!("{words} time, {name}{key}: {stat_words}"),
                        Seconds,
                        value,
                    ));
                }
            }
        }
    }
    out
}

/// The figures of several reports side by side: each row a figure (in the order first seen),
/// each column a report (None where that report has no such figure).
pub fn side_by_side(reports: &[&Report]) -> Vec<(Figure, Vec<Option<f64>>)> {
    let mut rows: Vec<(Figure, Vec<Option<f64>>)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (column, report) in reports.iter().enumerate() {
        for f in figures(report) {
            let row = *index.entry(f.key.clone()).or_insert_with(|| {
                rows.push((f.clone(), vec![None; reports.len()]));
                rows.len() - 1
            });
            rows[row].1[column] = f.value;
        }
    }
    rows
}

/// A figure's change from `baseline` to `value`: percentage points for shares, the difference
/// otherwise.
pub fn change(value: Option<f64>, baseline: Option<f64>) -> Option<f64> {
    Some(value? - baseline?)
}

/// A value as the Markdown tables write it.
pub fn show(kind: Kind, value: Option<f64>) -> String {
    let Some(v) = value else { return "—".to_string() };
    match kind {
        Kind::Count => format!("{v:.0}"),
        Kind::Share => format!("{:.1}%", v * 100.0),
        Kind::Number => format!("{v:.2}"),
        Kind::Seconds => format!("{:.1} h", v / 3600.0),
    }
}

/// A change as the Markdown tables write it: signed, shares in percentage points, counts also
/// as a percentage of the baseline.
pub fn show_change(kind: Kind, value: Option<f64>, baseline: Option<f64>) -> String {
    let Some(delta) = change(value, baseline) else {
        return "—".to_string();
    };
    let sign = |v: f64| {
        if v > 0.0 {
            "+"
        } else if v < 0.0 {
            "−"
        } else {
            "±"
        }
    };
    match kind {
        Kind::Share => format!("{}{:.1} pp", sign(delta), delta.abs() * 100.0),
        Kind::Count => match baseline.filter(|b| *b != 0.0) {
            Some(b) => format!(
                "{}{:.0} ({}{:.1}%)",
                sign(delta),
                delta.abs(),
                sign(delta),
                (delta / b).abs() * 100.0
            ),
            None => format!("{}{:.0}", sign(delta), delta.abs()),
        },
        Kind::Number => format!("{}{:.2}", sign(delta), delta.abs()),
        Kind::Seconds => format!("{}{:.1} h", sign(delta), delta.abs() / 3600.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_signed_shares_in_points_counts_also_in_percent() {
        assert_eq!(show_change(Kind::Share, Some(0.95), Some(0.90)), "+5.0 pp");
        assert_eq!(show_change(Kind::Count, Some(90.0), Some(120.0)), "−30 (−25.0%)");
        assert_eq!(show_change(Kind::Count, Some(3.0), Some(0.0)), "+3");
        assert_eq!(show_change(Kind::Seconds, Some(7200.0), Some(3600.0)), "+1.0 h");
        assert_eq!(show_change(Kind::Number, Some(2.0), Some(2.0)), "±0.00");
        assert_eq!(show_change(Kind::Share, None, Some(0.5)), "—");
    }
}
