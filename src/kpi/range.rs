//! A report's range from the command line: `--month 2026-11`, or `--from`/`--to` as dates
//! (midnight in the report's zone) or RFC 3339 instants. `to` is exclusive.

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
    #[error("give --month, or both --from and --to")]
    Missing,
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
