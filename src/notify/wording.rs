//! How times read to a person under pressure: business time in business hours, calendar
//! time in days and hours, and instants in the schedule's own zone. Figures are rounded
//! down, so "29 min left" is never more than the truth.

use chrono::TimeZone;
use chrono_tz::Tz;

use crate::sla::time::{DAY, HOUR, MINUTE};

/// Calendar time: `1d 2h`, `2h 24m`, `29 min`, `under a minute` (sign dropped).
pub fn calendar(seconds: i64) -> String {
    let s = seconds.unsigned_abs() as i64;
    let (d, h, m) = (s / DAY, s % DAY / HOUR, s % HOUR / MINUTE);
    match (d, h, m) {
        (0, 0, 0) => "under a minute".to_string(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Business time: `51 business hours`, `2 business hours 24 min`, `29 business minutes`
/// (sign dropped). Never days: a business day is not 24 hours.
pub fn business(seconds: i64) -> String {
    let s = seconds.unsigned_abs() as i64;
    let (h, m) = (s / HOUR, s % HOUR / MINUTE);
    let hours = |h: i64| {
        if h == 1 {
            "1 business hour".to_string()
        } else {
            format!("{h} business hours")
        }
    };
    match (h, m) {
        (0, 0) => "under a business minute".to_string(),
        (0, 1) => "1 business minute".to_string(),
        (0, m) => format!("{m} business minutes"),
        (h, 0) => hours(h),
        (h, m) => format!("{} {m} min", hours(h)),
    }
}

/// Clock time as its clock counts it.
pub fn clock_time(seconds: i64, business_clock: bool) -> String {
    if business_clock {
        business(seconds)
    } else {
        calendar(seconds)
    }
}

/// An instant in `zone`: `Tue 1 Dec 18:30 PST`.
pub fn local(at: i64, zone: Tz) -> String {
    zone.timestamp_opt(at, 0).single().map_or_else(
        || crate::sla::time::format_rfc3339(at),
        |t| t.format("%a %-d %b %H:%M %Z").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_their_clock_counts() {
        assert_eq!(calendar(29 * MINUTE + 59), "29 min");
        assert_eq!(calendar(2 * HOUR + 24 * MINUTE), "2h 24m");
        assert_eq!(calendar(DAY + 2 * HOUR + 5 * MINUTE), "1d 2h");
        assert_eq!(calendar(-(2 * HOUR + 10 * MINUTE)), "2h 10m");
        assert_eq!(calendar(59), "under a minute");
        assert_eq!(business(51 * HOUR), "51 business hours");
        assert_eq!(business(HOUR + 30), "1 business hour");
        assert_eq!(business(2 * HOUR + 24 * MINUTE), "2 business hours 24 min");
        assert_eq!(business(29 * MINUTE), "29 business minutes");
        assert_eq!(local(1_796_178_600, chrono_tz::America::Los_Angeles), "Tue 1 Dec 18:30 PST");
        assert_eq!(local(1_796_178_600, chrono_tz::UTC), "Wed 2 Dec 02:30 UTC");
    }
}
