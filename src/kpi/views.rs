//! What `slawatch report` prints beyond one range's report: the customers' vitals
//! (`--by-customer`), a quarter month by month beside its total (`--quarter`), and each figure's
//! change against a baseline period (`--compare-to`), in Markdown (for a slide), CSV (for a
//! spreadsheet: raw numbers, shares as fractions, times in seconds) and JSON.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::customers::CustomerVitals;
use super::figures::{self, change, show, show_change, side_by_side};
use super::format::{self, csv_field, percent, Format};
use super::report::Report;

/// A report with the name of its period.
#[derive(Debug, Clone)]
pub struct Labeled {
    pub label: String,
    pub report: Report,
}

/// What was asked for.
pub struct View {
    /// The range's report, or the quarter's total.
    pub whole: Labeled,
    /// A quarter's months, in order (empty for a month or a range).
    pub months: Vec<Labeled>,
    pub compare_to: Option<Labeled>,
    pub by_customer: bool,
}

pub fn render(view: &View, format: Format) -> String {
    match format {
        Format::Json => json_of(view),
        Format::Csv => csv_of(view),
        Format::Markdown => markdown_of(view),
    }
}

fn labeled(l: &Labeled) -> Value {
    json!({"period": l.label, "report": l.report})
}

fn changes(whole: &Report, baseline: &Report) -> Value {
    let rows = side_by_side(&[whole, baseline]);
    let map: Map<String, Value> = rows
        .into_iter()
        .map(|(f, values)| (f.key, json!(change(values[0], values[1]))))
        .collect();
    Value::Object(map)
}

fn json_of(view: &View) -> String {
    if view.months.is_empty() && view.compare_to.is_none() {
        return format::json(&view.whole.report);
    }
    let mut out = Map::new();
    if view.months.is_empty() {
        out.insert("period".into(), json!(view.whole.label));
        out.insert("report".into(), json!(view.whole.report));
    } else {
        out.insert("quarter".into(), json!(view.whole.label));
        out.insert("months".into(), Value::Array(view.months.iter().map(labeled).collect()));
        out.insert("total".into(), json!(view.whole.report));
    }
    if let Some(baseline) = &view.compare_to {
        out.insert("compare_to".into(), labeled(baseline));
        out.insert("changes".into(), changes(&view.whole.report, &baseline.report));
    }
    serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default() + "\n"
}

/// A number as a spreadsheet reads it (empty when there is none).
fn raw(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

fn csv_of(view: &View) -> String {
    if view.by_customer {
        return customers_csv(&view.whole.report.customers);
    }
    if view.months.is_empty() && view.compare_to.is_none() {
        return format::csv(&view.whole.report);
    }
    let mut columns: Vec<&Labeled> = view.months.iter().collect();
    columns.push(&view.whole);
    columns.extend(view.compare_to.as_ref());
    let reports: Vec<&Report> = columns.iter().map(|l| &l.report).collect();
    let mut out = String::from("metric");
    for l in &columns {
        let _ = write!(out, ",{}", csv_field(&l.label));
    }
    if let Some(b) = &view.compare_to {
        let _ = write!(out, ",{}", csv_field(&format!("change since {}", b.label)));
    }
    out.push('\n');
    for (figure, values) in side_by_side(&reports) {
        out.push_str(&csv_field(&figure.key));
        for v in &values {
            let _ = write!(out, ",{}", raw(*v));
        }
        if view.compare_to.is_some() {
            let whole = values[view.months.len()];
            let _ = write!(out, ",{}", raw(change(whole, values[values.len() - 1])));
        }
        out.push('\n');
    }
    out
}

fn markdown_of(view: &View) -> String {
    let whole = &view.whole.report;
    let mut out = if view.by_customer {
        let mut out = format!(
            "# Customers\n\nTickets created from {} to {} ({}).\n\n",
            whole.from, whole.to, whole.time_zone
        );
        if let Some(j) = &whole.rejudged {
            let _ = writeln!(out, "{}\n", format::rejudged_notice(j));
        }
        out + &customers_markdown(&whole.customers)
    } else if view.months.is_empty() {
        format::markdown(whole)
    } else {
        quarter_markdown(view)
    };
    if let Some(baseline) = &view.compare_to {
        let _ = write!(
            out,
            "\n## Compared with {} ({} to {})\n\n| KPI | {} | {} | Change |\n| --- | ---: | ---: | ---: |\n",
            baseline.label, baseline.report.from, baseline.report.to, view.whole.label, baseline.label
        );
        for (f, values) in side_by_side(&[whole, &baseline.report]) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                f.label,
                show(f.kind, values[0]),
                show(f.kind, values[1]),
                show_change(f.kind, values[0], values[1])
            );
        }
    }
    out
}

fn quarter_markdown(view: &View) -> String {
    let whole = &view.whole.report;
    let mut out = format!(
        "# Support KPIs, {}\n\nTickets created from {} to {} ({}), month by month.\n\n",
        view.whole.label, whole.from, whole.to, whole.time_zone
    );
    if let Some(j) = &whole.rejudged {
        let _ = writeln!(out, "{}\n", format::rejudged_notice(j));
    }
    let mut columns: Vec<&Labeled> = view.months.iter().collect();
    columns.push(&view.whole);
    let _ = write!(out, "| KPI |");
    for l in &columns {
        let _ = write!(out, " {} |", l.label);
    }
    let _ = write!(out, "\n| --- |{}\n", " ---: |".repeat(columns.len()));
    let reports: Vec<&Report> = columns.iter().map(|l| &l.report).collect();
    for (f, values) in side_by_side(&reports) {
        let _ = write!(out, "| {} |", f.label);
        for v in values {
            let _ = write!(out, " {} |", show(f.kind, v));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nTimes are in hours on each ticket's own clock (business hours for business-hours clocks). \
         The quarter's figures are computed from its tickets, not averaged from the months'."
    );
    out
}

/// The vitals table: most at risk first (see `kpi::customers` for the order).
pub fn customers_markdown(customers: &[CustomerVitals]) -> String {
    let mut out = String::from(
        "Most at risk first: most tickets with a breached SLA, then the lowest attainment (first response or \
         resolution), then the most bad ratings, then the most tickets open now.\n\n\
         | Customer | Tier | Tickets | Open now | Most severe | First response | Resolution | Breached | Engineering help | CSAT | Median time to resolution |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for c in customers {
        let tier = match &c.contract {
            Some(contract) => format!("{} ({contract})", c.tier),
            None => c.tier.clone(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.name.replace('|', "\\|"),
            tier.replace('|', "\\|"),
            c.tickets_created,
            c.open_now,
            c.most_severe_tickets,
            percent(c.first_response.attainment),
            percent(c.resolution.attainment),
            c.breached_tickets,
            c.engineering_help_requests,
            percent(c.csat.score),
            show(figures::Kind::Seconds, c.median_resolution_seconds)
        );
    }
    out
}

/// One row a customer, with a header: for a spreadsheet.
pub fn customers_csv(customers: &[CustomerVitals]) -> String {
    let mut out = String::from(
        "organization_id,name,tier,contract,tickets_created,open_now,most_severe_tickets,\
         first_response_met,first_response_breached,first_response_running,first_response_attainment,\
         resolution_met,resolution_breached,resolution_running,resolution_attainment,\
         breached_tickets,engineering_help_requests,csat_good,csat_bad,csat_score,median_resolution_seconds\n",
    );
    for c in customers {
        let (f, r) = (&c.first_response, &c.resolution);
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            c.organization_id.map_or_else(String::new, |id| id.to_string()),
            csv_field(&c.name),
            csv_field(&c.tier),
            csv_field(c.contract.as_deref().unwrap_or_default()),
            c.tickets_created,
            c.open_now,
            c.most_severe_tickets,
            f.met,
            f.breached,
            f.running,
            raw(f.attainment),
            r.met,
            r.breached,
            r.running,
            raw(r.attainment),
            c.breached_tickets,
            c.engineering_help_requests,
            c.csat.good,
            c.csat.bad,
            raw(c.csat.score),
            raw(c.median_resolution_seconds)
        );
    }
    out
}
