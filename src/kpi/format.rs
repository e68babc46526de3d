//! The report as people and tools read it: JSON (the shape `/report` serves), CSV (`metric,value`
//! rows with dotted keys) and Markdown (tables with each KPI against its target, ✓ or ✗).

use std::fmt::Write;

use serde_json::Value;

use super::figures;
use super::report::{Attainment, Rejudged, Report};
use crate::notify::wording;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        match text {
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            other => Err(format!("{other:?} is not one of md, json, csv")),
        }
    }
}

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Json => json(report),
        Format::Csv => csv(report),
        Format::Markdown => markdown(report),
    }
}

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// A text cell: quoted where needed, and one a spreadsheet would take for a formula (an
/// organization named `=HYPERLINK(…)`) led by an apostrophe, so it stays text.
pub fn csv_field(text: &str) -> String {
    let guarded;
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{text}");
        guarded.as_str()
    } else {
        text
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, value, out);
            }
        }
        Value::Null => {
            let _ = writeln!(out, "{},", csv_field(prefix));
        }
        Value::String(s) => {
            let _ = writeln!(out, "{},{}", csv_field(prefix), csv_field(s));
        }
        other => {
            let _ = writeln!(out, "{},{}", csv_field(prefix), other);
        }
    }
}

/// `metric,value` rows; the customers, a table of their own, are left to `--by-customer`.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("metric,value\n");
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("customers");
    }
    flatten("", &value, &mut out);
    out
}

/// `95.0%`, or `—` when there is nothing to measure.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// A target as written: `95%`, `100%`, `7%` (no float noise).
pub fn target_percent(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

pub fn mark(on_target: Option<bool>) -> &'static str {
    match on_target {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "–",
    }
}

fn attainment_cell(a: &Attainment) -> String {
    format!(
        "{} ({} met, {} breached; {} running, {} not applicable)",
        percent(a.attainment),
        a.met,
        a.breached,
        a.running,
        a.not_applicable
    )
}

fn short_cell(a: &Attainment) -> String {
    match a.on_target() {
        None if a.running > 0 => format!("— ({} running)", a.running),
        None => "—".to_string(),
        Some(_) => format!(
            "{} {} ({} of {} met)",
            percent(a.attainment),
            mark(a.on_target()),
            a.met,
            a.met + a.breached
        ),
    }
}

fn table(out: &mut String, heading: &str, column: &str, rows: &std::collections::BTreeMap<String, u64>) {
    let _ = writeln!(out, "\n### {heading}\n\n| {column} | Tickets |\n| --- | ---: |");
    for (key, n) in rows {
        let _ = writeln!(out, "| {} | {n} |", key.replace('|', "\\|"));
    }
}

pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Support KPIs\n");
    let _ = writeln!(out, "Tickets created from {} to {} ({}).\n", r.from, r.to, r.time_zone);
    if let Some(j) = &r.rejudged {
        let _ = writeln!(out, "{}\n", rejudged_notice(j));
    }
    let _ = writeln!(out, "| KPI | Result | Target | |\n| --- | --- | --- | :-: |");
    let _ = writeln!(out, "| Tickets created | {} | | |", r.tickets_created);
    for (name, a) in [("SLA first response", &r.first_response), ("SLA resolution", &r.resolution)] {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            attainment_cell(a),
            target_percent(a.target),
            mark(a.on_target())
        );
    }
    let w = &r.sev2_resolved_within_week;
    let _ = writeln!(
        out,
        "| Severity 2 resolved within a week | {} ({} within, {} late; {} pending) | {} | {} |",
        percent(w.share),
        w.within,
        w.late,
        w.pending,
        target_percent(w.target),
        mark(w.share.map(|s| s >= w.target))
    );
    let e = &r.engineering_help;
    let _ = writeln!(
        out,
        "| Needed engineering help | {} ({} of {} tickets) | at most {} | {} |",
        percent(e.share),
        e.requests,
        e.tickets,
        target_percent(e.target_max),
        mark(e.share.map(|_| !e.over))
    );
    let c = &r.csat;
    let _ = writeln!(
        out,
        "| CSAT | {} ({} good, {} bad) | {} | {} |",
        percent(c.score),
        c.good,
        c.bad,
        target_percent(c.target),
        mark(c.score.map(|s| s >= c.target))
    );
    let d = &r.documentation;
    if d.configured {
        let _ = writeln!(
            out,
            "| Questions answered with the docs | {} ({} of {} solved questions linked the docs; {} open) | {} | {} |",
            percent(d.share),
            d.with_docs_link,
            d.solved_questions,
            d.open_questions,
            target_percent(d.target),
            mark(d.share.map(|s| s >= d.target))
        );
    } else {
        let _ = writeln!(
            out,
            "| Questions answered with the docs | not measured: set [report] question_types and docs_url_prefixes | {} | – |",
            target_percent(d.target)
        );
    }
    if e.over {
        let _ = writeln!(
            out,
            "\n> **Warning:** {} of tickets needed engineering help, over the {} limit.",
            percent(e.share),
            target_percent(e.target_max)
        );
    }
    let _ = writeln!(out, "\n## Team health\n\n| Measure | Value |\n| --- | ---: |");
    let number = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"));
    let wait = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |s| wording::calendar(s.round() as i64));
    let t = &r.avg_time_between_replies_seconds;
    let _ = writeln!(out, "| Cases per customer | {} |", number(r.cases_per_customer));
    let _ = writeln!(out, "| Replies per ticket (mean) | {} |", number(r.replies_per_ticket));
    let _ = writeln!(out, "| Replies per ticket (median) | {} |", number(r.replies_per_ticket_median));
    let _ = writeln!(
        out,
        "| Engineering-help requests per month | {} (over {:.2} months) |",
        number(r.engineering_help.requests_per_month),
        r.engineering_help.months
    );
    let _ = writeln!(out, "| Average wait for a support reply | {} |", wait(t.support));
    let _ = writeln!(out, "| Average wait for a customer reply | {} |", wait(t.customer));
    let _ = writeln!(out, "\n## Volume");
    table(&mut out, "By type", "Type", &r.volume.by_type);
    table(&mut out, "By product area", "Product area", &r.volume.by_product_area);
    table(&mut out, "By customer", "Customer", &r.volume.by_customer);
    table(&mut out, "By region (open hours at creation)", "Region", &r.volume.by_region);
    for (heading, column, rows) in [("Per severity", "Severity", &r.per_severity), ("Per tier", "Tier", &r.per_tier)] {
        let _ = writeln!(
            out,
            "\n## {heading}\n\n| {column} | First response (target {}) | Resolution (target {}) |\n| --- | --- | --- |",
            target_percent(r.first_response.target),
            target_percent(r.resolution.target)
        );
        for (key, clocks) in rows {
            let _ = writeln!(
                out,
                "| {key} | {} | {} |",
                short_cell(&clocks.first_response),
                short_cell(&clocks.resolution)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n## Times\n\nOn each ticket's own clock: business hours for business-hours clocks, pauses left out. \
         Median and 90th percentile interpolate as a spreadsheet's MEDIAN and PERCENTILE.INC do.\n\n\
         | Severity or tier | First response: median | p90 | answered | Resolution: median | p90 | solved |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (prefix, rows) in [("", &r.per_severity), ("tier ", &r.per_tier)] {
        for (key, clocks) in rows {
            let (f, s) = (&clocks.first_response_time, &clocks.resolution_time);
            let _ = writeln!(
                out,
                "| {prefix}{} | {} | {} | {} | {} | {} | {} |",
                key.replace('|', "\\|"),
                hours(f.median_seconds),
                hours(f.p90_seconds),
                f.count,
                hours(s.median_seconds),
                hours(s.p90_seconds),
                s.count
            );
        }
    }
    out
}

/// Seconds as hours, `—` when there is nothing to measure.
fn hours(seconds: Option<f64>) -> String {
    figures::show(figures::Kind::Seconds, seconds)
}

/// What `--rejudge` says above its figures.
pub fn rejudged_notice(j: &Rejudged) -> String {
    format!(
        "> **Re-judged under today's policy, on purpose (`--rejudge`)**: {} tickets judged again from their stored facts, \
         {} of them differently from the stored history; {} compacted tickets counted as stored. \
         Nothing was written: without `--rejudge` the report shows the history as it was frozen.",
        j.tickets, j.changed, j.kept_as_stored
    )
}
