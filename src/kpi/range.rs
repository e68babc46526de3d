//! A report's range from the command line: `--month 2026-11`, `--quarter 2026-Q4`, or
//! `--from`/`--to` as dates (midnight in the report's zone) or RFC 3339 instants; and the
//! period `--compare-to` names (a month, a quarter, or `FROM..TO`). `to` is exclusive.
//!
//! Quarters count from `[report] fiscal_year_start`, and a fiscal year is named for the
//! calendar year it ends in (with a February start, FY2022 runs from February 2021 to January
//! 2022, as Sourcegraph's handbook counts): `2026-Q4`, `FY2026-Q4` and `FY26-Q4` are the same
//! quarter. With the default January start, 2026-Q4 is October to December 2026.

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

use crate::sla::time::{parse_rfc3339, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("--month {0:?}: expected YYYY-MM, e.g. 2026-11")]
    Month(String),
    #[error("{flag} {text:?}: expected a date (YYYY-MM-DD) or an RFC 3339 instant (2026-11-01T00:00:00-08:00)")]
    Instant { flag: &'static str, text: String },
    #[error("--from must be before --to")]
    Empty,
    #[error("give --month, --quarter, or both --from and --to")]
    Missing,
    #[error("{0:?}: expected a quarter such as 2026-Q4 (or FY2026-Q4, FY26-Q4)")]
    Quarter(String),
    #[error("{0:?}: expected a month (2026-10), a quarter (2026-Q3) or a range (2026-07-01..2026-10-01)")]
    Period(String),
}

/// A named stretch of ticket creation: `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// As the reports show it: `2026-11`, `2026-Q4`, `2026-07-01..2026-10-01`.
    pub label: String,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// The first local instant of `date`'s day, `months` months on (the day kept: it is at most
/// the 28th).
fn months_on(date: NaiveDate, months: u32, zone: Tz) -> Option<Timestamp> {
    let date = date.checked_add_months(chrono::Months::new(months))?;
    Some(start_of_day(date, zone))
}

/// A quarter: the whole, and its three (fiscal) months in order.
pub fn quarter(text: &str, fiscal_year_start: (u32, u32), zone: Tz) -> Result<(Period, Vec<Period>), RangeError> {
    let error = || RangeError::Quarter(text.to_string());
    let upper = text.trim().to_ascii_uppercase();
    let (year, q) = upper.split_once("-Q").ok_or_else(error)?;
    let year = year.strip_prefix("FY").unwrap_or(year);
    let mut year: i32 = year.parse().map_err(|_| error())?;
    if year < 100 && upper.starts_with("FY") {
        year += 2000;
    }
    let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(error)?;
    let (month, day) = fiscal_year_start;
    // Named for the year it ends in: a year starting in January starts in that year.
    let start_year = if month == 1 && day == 1 { year } else { year - 1 };
    let fiscal_start = NaiveDate::from_ymd_opt(start_year, month, day).ok_or_else(error)?;
    let first = (q - 1) * 3;
    let bounds: Vec<Timestamp> = (first..=first + 3)
        .map(|m| months_on(fiscal_start, m, zone))
        .collect::<Option<_>>()
        .ok_or_else(error)?;
    let label = format!("{year}-Q{q}");
    let months = bounds
        .windows(2)
        .map(|w| Period {
            label: month_label(w[0], zone),
            from: w[0],
            to: w[1],
        })
        .collect();
    Ok((
        Period {
            label,
            from: bounds[0],
            to: bounds[3],
        },
        months,
    ))
}

/// `2026-11` for the month starting at `at` (or `2026-11-15` for a fiscal month that starts
/// mid-month).
fn month_label(at: Timestamp, zone: Tz) -> String {
    match zone.timestamp_opt(at, 0).single() {
        Some(local) if chrono::Datelike::day(&local) == 1 => local.format("%Y-%m").to_string(),
        Some(local) => local.format("%Y-%m-%d").to_string(),
        None => at.to_string(),
    }
}

/// What `--compare-to` names: a month, a quarter, or `FROM..TO`.
pub fn period(text: &str, fiscal_year_start: (u32, u32), zone: Tz) -> Result<Period, RangeError> {
    let error = || RangeError::Period(text.to_string());
    let text = text.trim();
    if let Some((from, to)) = text.split_once("..") {
        let (from, to) = (
            instant(from, zone, "--compare-to").map_err(|_| error())?,
            instant(to, zone, "--compare-to").map_err(|_| error())?,
        );
        if from >= to {
            return Err(RangeError::Empty);
        }
        return Ok(Period {
            label: text.to_string(),
            from,
            to,
        });
    }
    if text.to_ascii_uppercase().contains("-Q") {
        return quarter(text, fiscal_year_start, zone).map(|(whole, _)| whole).map_err(|_| error());
    }
    let (from, to) = month(text, zone).map_err(|_| error())?;
    Ok(Period {
        label: text.to_string(),
        from,
        to,
    })
}

/// The first instant of a local day: midnight, or (where midnight does not exist, a DST gap
/// at midnight) the first instant after it.
fn start_of_day(date: NaiveDate, zone: Tz) -> Timestamp {
    let mut at = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..4 {
        if let Some(local) = zone.from_local_datetime(&at).earliest() {
            return local.timestamp();
        }
        at += chrono::Duration::minutes(30);
    }
    zone.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default()).timestamp()
}

fn instant(text: &str, zone: Tz, flag: &'static str) -> Result<Timestamp, RangeError> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(start_of_day(date, zone));
    }
    parse_rfc3339(text).map_err(|_| RangeError::Instant {
        flag,
        text: text.to_string(),
    })
}

/// `[from, to)` of a calendar month in `zone`.
pub fn month(text: &str, zone: Tz) -> Result<(Timestamp, Timestamp), RangeError> {
    let error = || RangeError::Month(text.to_string());
    let (year, month) = text.split_once('-').ok_or_else(error)?;
    let (year, month): (i32, u32) = (year.parse().map_err(|_| error())?, month.parse().map_err(|_| error())?);
    let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(error)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .ok_or_else(error)?;
    Ok((start_of_day(first, zone), start_of_day(next, zone)))
}

/// The range the command line asks for.
pub fn parse(month_arg: Option<&str>, from: Option<&str>, to: Option<&str>, zone: Tz) -> Result<(Timestamp, Timestamp), RangeError> {
    let (from, to) = match (month_arg, from, to) {
        (Some(m), None, None) => month(m, zone)?,
        (None, Some(from), Some(to)) => (instant(from, zone, "--from")?, instant(to, zone, "--to")?),
        _ => return Err(RangeError::Missing),
    };
    if from >= to {
        return Err(RangeError::Empty);
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_read_in_the_report_zone() {
        let la: Tz = "America/Los_Angeles".parse().unwrap_or(Tz::UTC);
        // November 2026 in Los Angeles: from PDT midnight to PST midnight (DST ends Nov 1).
        assert_eq!(
            month("2026-11", la),
            Ok((
                parse_rfc3339("2026-11-01T00:00:00-07:00").unwrap_or_default(),
                parse_rfc3339("2026-12-01T00:00:00-08:00").unwrap_or_default()
            ))
        );
        assert_eq!(month("2026-13", la), Err(RangeError::Month("2026-13".into())));
    }

    fn at(text: &str) -> Timestamp {
        parse_rfc3339(text).unwrap_or_default()
    }

    #[test]
    fn a_quarter_is_three_months_of_the_fiscal_year_named_for_the_year_it_ends_in() {
        let la: Tz = "America/Los_Angeles".parse().unwrap_or(Tz::UTC);
        let (whole, months) = quarter("2026-Q4", (1, 1), la).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (whole.label.as_str(), whole.from, whole.to),
            ("2026-Q4", at("2026-10-01T00:00:00-07:00"), at("2027-01-01T00:00:00-08:00"))
        );
        let labels: Vec<&str> = months.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["2026-10", "2026-11", "2026-12"]);
        // The DST change inside November moves no boundary off local midnight.
        assert_eq!(months[1].from, at("2026-11-01T00:00:00-07:00"));
        assert_eq!(months[2].from, at("2026-12-01T00:00:00-08:00"));
        // A February fiscal year: FY2022 Q1 is February to April 2021.
        for name in ["2022-Q1", "FY2022-Q1", "fy22-q1"] {
            let (q1, _) = quarter(name, (2, 1), Tz::UTC).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((q1.from, q1.to), (at("2021-02-01T00:00:00Z"), at("2021-05-01T00:00:00Z")), "{name}");
        }
        // A fiscal year starting mid-month has mid-month fiscal months.
        let (_, mid) = quarter("2026-Q1", (4, 15), Tz::UTC).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mid[0].label, "2025-04-15");
        assert_eq!(mid[2].to, at("2025-07-15T00:00:00Z"));
        for bad in ["2026-Q5", "2026Q4", "Q4", "FYxx-Q1"] {
            assert_eq!(
                quarter(bad, (1, 1), Tz::UTC).map(|_| ()),
                Err(RangeError::Quarter(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_period_to_compare_to_is_a_month_a_quarter_or_a_range() {
        let utc = Tz::UTC;
        let p = |text: &str| period(text, (1, 1), utc).map(|p| (p.from, p.to));
        assert_eq!(p("2026-10"), Ok((at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z"))));
        assert_eq!(p("2026-Q3"), Ok((at("2026-07-01T00:00:00Z"), at("2026-10-01T00:00:00Z"))));
        assert_eq!(
            p("2026-07-01..2026-07-15T12:00:00Z"),
            Ok((at("2026-07-01T00:00:00Z"), at("2026-07-15T12:00:00Z")))
        );
        assert_eq!(p("last month"), Err(RangeError::Period("last month".into())));
        assert_eq!(p("2026-07-15..2026-07-01"), Err(RangeError::Empty));
    }

    #[test]
    fn dates_and_instants_are_both_accepted_and_to_is_after_from() {
        let utc = Tz::UTC;
        let (from, to) = parse(None, Some("2026-11-02"), Some("2026-11-09T00:00:00Z"), utc).unwrap_or_default();
        assert_eq!(to - from, 7 * 86_400);
        assert_eq!(parse(None, Some("2026-11-09"), Some("2026-11-02"), utc), Err(RangeError::Empty));
        assert_eq!(parse(None, Some("2026-11-09"), None, utc), Err(RangeError::Missing));
        assert!(matches!(
            parse(None, Some("yesterday"), Some("2026-11-02"), utc),
            Err(RangeError::Instant { .. })
        ));
    }
}
