//! Instants as whole UTC seconds, business durations, and the fast
//! RFC 3339 parsing and formatting the batch calculator needs.
//!
//! The domain works in `i64` Unix seconds: every SLA figure is kept to the
//! second, and integer arithmetic keeps the calendar exact and fast. chrono's
//! own RFC 3339 routines are correct but several times slower than this
//! fixed-format path, which is what `deadline --batch` spends its time on.

use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;
pub const WEEK: i64 = 7 * DAY;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeParseError {
    #[error("{0:?} is not an RFC 3339 time such as 2026-12-01T09:00:00Z")]
    BadTimestamp(String),
    #[error("{0:?} is not a duration such as 90s, 45m, 24h, 1h30m, 3d or 1w")]
    BadDuration(String),
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Monday = 0 … Sunday = 6 for a day number (1970-01-01 was a Thursday).
pub fn weekday_from_days(days: i64) -> usize {
    (days + 3).rem_euclid(7) as usize
}

pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` (a space or `t` also
/// separates date and time). Fractions of a second are dropped: SLA
/// figures are kept to the second.
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeParseError> {
    parse_rfc3339_bytes(text.as_bytes()).ok_or_else(|| TimeParseError::BadTimestamp(text.to_string()))
}

pub fn parse_rfc3339_bytes(s: &[u8]) -> Option<Timestamp> {
    if s.len() < 20 || s[4] != b'-' || s[7] != b'-' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    if !matches!(s[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&s[0..4])? as i64;
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    let hour = digits(&s[11..13])? as i64;
    let minute = digits(&s[14..16])? as i64;
    let second = digits(&s[17..19])? as i64;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // A leap second (:60) is not representable in Unix time; refuse it rather than guess.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &s[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &rest[1 + n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hours = digits(&[*h1, *h2])? as i64;
            let minutes = digits(&[*m1, *m2])? as i64;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = hours * HOUR + minutes * MINUTE;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * DAY + hour * HOUR + minute * MINUTE + second - offset)
}

/// Appends `YYYY-MM-DDTHH:MM:SSZ` to `out`.
pub fn write_rfc3339(ts: Timestamp, out: &mut Vec<u8>) {
    let days = ts.div_euclid(DAY);
    let secs = ts.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        // Outside four-digit years RFC 3339 has no form; chrono's extended form is honest.
        let text = chrono::DateTime::from_timestamp(ts, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| ts.to_string());
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let two = |out: &mut Vec<u8>, v: u32| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    let y = year as u32;
    two(out, y / 100);
    two(out, y % 100);
    out.push(b'-');
    two(out, month);
    out.push(b'-');
    two(out, day);
    out.push(b'T');
    two(out, (secs / HOUR) as u32);
    out.push(b':');
    two(out, (secs % HOUR / MINUTE) as u32);
    out.push(b':');
    two(out, (secs % MINUTE) as u32);
    out.push(b'Z');
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(ts: Timestamp) -> String {
    let mut out = Vec::with_capacity(20);
    write_rfc3339(ts, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A length of time as people read it: `12h`, `2h 24m`, `1d 8h`, `45m` (sign dropped).
pub fn human(seconds: i64) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / DAY, s % DAY / HOUR, s % HOUR / MINUTE);
    match (d, h, m) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// A length of clock time in whole seconds: business seconds on a business
/// schedule, plain seconds on the calendar (`24x7`) one. `1d` is 24 hours of
/// the schedule's time and `1w` 168 hours, not a calendar day or week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Duration(pub i64);

impl Duration {
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// Parses `90s`, `45m`, `24h`, `1h30m`, `3d`, `1w`, `1w2d`: units in
    /// descending order, each at most once.
    pub fn parse(text: &str) -> Result<Duration, TimeParseError> {
        Self::parse_bytes(text.as_bytes()).ok_or_else(|| TimeParseError::BadDuration(text.to_string()))
    }

    pub fn parse_bytes(s: &[u8]) -> Option<Duration> {
        if s.is_empty() {
            return None;
        }
        let mut total: i64 = 0;
        let mut value: Option<i64> = None;
        let mut last_rank = usize::MAX;
        for &b in s {
            if b.is_ascii_digit() {
                let v = value.unwrap_or(0).checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
                value = Some(v);
                continue;
            }
            let (rank, unit) = match b {
                b'w' => (4, WEEK),
                b'd' => (3, DAY),
                b'h' => (2, HOUR),
                b'm' => (1, MINUTE),
                b's' => (0, 1),
                _ => return None,
            };
            if rank >= last_rank {
                return None;
            }
            last_rank = rank;
            total = total.checked_add(value.take()?.checked_mul(unit)?)?;
        }
        if value.is_some() {
            return None;
        }
        Some(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// The shortest form that parses back to the same value, e.g. `1h30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        if rest < 0 {
            f.write_str("-")?;
            rest = -rest;
        }
        for (unit, name) in [(HOUR, "h"), (MINUTE, "m"), (1, "s")] {
            if rest >= unit {
                write!(f, "{}{}", rest / unit, name)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_matches_chrono() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            let date = chrono::NaiveDate::from_ymd_opt(y as i32, m, d).unwrap();
            assert_eq!(
                date.signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                    .num_days(),
                days
            );
        }
    }

    #[test]
    fn parses_and_formats_rfc3339() {
        let cases = [
            ("2026-12-01T17:00:00Z", 1_796_144_400),
            ("2026-12-01T09:00:00-08:00", 1_796_144_400),
            ("2026-12-01t17:00:00.999z", 1_796_144_400),
            ("2026-12-01 22:30:00+05:30", 1_796_144_400),
        ];
        for (text, want) in cases {
            assert_eq!(parse_rfc3339(text), Ok(want), "{text}");
            let chrono = chrono::DateTime::parse_from_rfc3339(&text.replace(' ', "T")).unwrap().timestamp();
            assert_eq!(chrono, want, "{text}");
        }
        assert_eq!(format_rfc3339(1_796_144_400), "2026-12-01T17:00:00Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        for bad in [
            "",
            "2026-12-01",
            "2026-02-30T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T10:00:00",
            "2026-12-01T10:00:00+0100",
            "2026-12-01T10:00:60Z",
            "x026-12-01T10:00:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_durations() {
        let cases = [
            ("90s", 90),
            ("45m", 2700),
            ("24h", 86_400),
            ("1h30m", 5400),
            ("3d", 259_200),
            ("1w", 604_800),
            ("0s", 0),
            ("1w2d3h4m5s", 604_800 + 2 * 86_400 + 3 * 3600 + 245),
        ];
        for (text, want) in cases {
            assert_eq!(Duration::parse(text), Ok(Duration(want)), "{text}");
        }
        for bad in ["", "h", "1", "1x", "30m1h", "1h1h", "-1h", "1.5h", " 1h", "99999999999999999999w"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Duration(5400).to_string(), "1h30m");
        assert_eq!(Duration(259_200).to_string(), "72h");
    }
}
