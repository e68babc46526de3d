//! Business time on a schedule: the deadline after a duration of business
//! time, the business time between two instants, the next opening.
//!
//! A schedule's weekly hours and holidays are wall-clock facts in its time
//! zone. They are turned once, when the schedule is built, into the sorted
//! list of UTC intervals during which the schedule is open, with the running
//! total of business seconds at the end of each. Every question is then a
//! lookup: an instant finds its interval through a per-UTC-day index, and a
//! deadline is found by galloping over the running totals, so the cost does
//! not grow with the span asked about.
//!
//! An instant is open when its wall-clock time, in the zone's offset at that
//! instant, falls inside the day's hours and its local date is not a holiday.
//! That one definition settles DST: hours inside a spring-forward gap do not
//! exist and are not counted; hours inside a fall-back overlap happen twice
//! and are counted twice.

use std::fmt;
use std::sync::OnceLock;

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

use super::time::{civil_from_days, weekday_from_days, Duration, Timestamp, DAY, HOUR};

/// The first instant a business schedule answers for: 1970-01-01T00:00:00Z.
pub const RANGE_START: Timestamp = 0;
/// The end (exclusive) of what a business schedule answers for: 2200-01-01T00:00:00Z.
pub const RANGE_END: Timestamp = 7_258_118_400;

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} is outside the supported range 1970-01-01 to 2199-12-31")]
    OutOfRange(String),
    #[error("the duration must not be negative")]
    NegativeDuration,
}

fn out_of_range(ts: Timestamp) -> CalendarError {
    CalendarError::OutOfRange(super::time::format_rfc3339(ts))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{day}: the interval ends at {end} which is not after its start {start}")]
    EndNotAfterStart { day: &'static str, start: String, end: String },
    #[error("{day}: intervals {first} and {second} overlap")]
    Overlap { day: &'static str, first: String, second: String },
    #[error("{day}: {value} is past 24:00")]
    PastMidnight { day: &'static str, value: String },
    #[error("the week has no open hours")]
    EmptyWeek,
}

/// Seconds from local midnight, `0..=86400`, shown as `HH:MM[:SS]`.
fn clock_text(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// One open interval of a day, in seconds from local midnight; `end` may be 86400 (24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayInterval {
    pub start: u32,
    pub end: u32,
}

impl fmt::Display for DayInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", clock_text(self.start), clock_text(self.end))
    }
}

/// Open intervals per weekday, Monday first; sorted and disjoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyHours([Vec<DayInterval>; 7]);

impl WeeklyHours {
    /// Validates each day: every interval ends after it starts and by 24:00, and no two overlap
    /// (touching, as 12:00-13:00 and 13:00-17:00, is fine). At least one day must be open.
    pub fn new(mut days: [Vec<DayInterval>; 7]) -> Result<WeeklyHours, ScheduleError> {
        for (index, intervals) in days.iter_mut().enumerate() {
            let day = WEEKDAYS[index];
            for iv in intervals.iter() {
                if iv.end > DAY as u32 {
                    return Err(ScheduleError::PastMidnight {
                        day,
                        value: clock_text(iv.end),
                    });
                }
                if iv.end <= iv.start {
                    return Err(ScheduleError::EndNotAfterStart {
                        day,
                        start: clock_text(iv.start),
                        end: clock_text(iv.end),
                    });
                }
            }
            intervals.sort();
            for pair in intervals.windows(2) {
                if pair[1].start < pair[0].end {
                    return Err(ScheduleError::Overlap {
                        day,
                        first: pair[0].to_string(),
                        second: pair[1].to_string(),
                    });
                }
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err(ScheduleError::EmptyWeek);
        }
        Ok(WeeklyHours(days))
    }

    pub fn day(&self, weekday: usize) -> &[DayInterval] {
        &self.0[weekday]
    }

    /// Open seconds in a week without holidays.
    pub fn seconds_per_week(&self) -> i64 {
        self.0.iter().flatten().map(|iv| i64::from(iv.end - iv.start)).sum()
    }
}

/// Whole local days on which the schedule is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    /// (month, day) closed every year; 02-29 only in leap years.
    pub yearly: Vec<(u32, u32)>,
    /// Single dates, as day numbers from 1970-01-01.
    pub once: Vec<i64>,
}

impl Holidays {
    fn contains(&self, day_number: i64) -> bool {
        if self.once.contains(&day_number) {
            return true;
        }
        if self.yearly.is_empty() {
            return false;
        }
        let (_, month, day) = civil_from_days(day_number);
        self.yearly.contains(&(month, day))
    }
}

/// What a business schedule is made of, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    pub zone: Tz,
    pub hours: WeeklyHours,
    pub holidays: Holidays,
}

/// A clock: the calendar itself (`24x7`), or business hours.
#[derive(Debug, Clone)]
pub enum Schedule {
    Calendar,
    Business(Box<BusinessSchedule>),
}

#[derive(Clone, Copy, Debug)]
struct Open {
    start: Timestamp,
    end: Timestamp,
    /// Business seconds from RANGE_START to `end`.
    total_at_end: i64,
}

#[derive(Debug, Clone)]
pub struct BusinessSchedule {
    pub hours: BusinessHours,
    /// Built on first use (about 10 ms and 1.7 MB): a schedule no ticket uses costs nothing.
    table: OnceLock<OpenTable>,
}

/// The schedule's open intervals from RANGE_START to RANGE_END.
#[derive(Debug, Clone)]
struct OpenTable {
    /// Sorted, disjoint, non-touching; ends with a zero-length sentinel at RANGE_END.
    open: Vec<Open>,
    /// For UTC day k from RANGE_START: the first interval whose end is after that day's start.
    first_open_of_day: Vec<u32>,
}

impl BusinessSchedule {
    fn table(&self) -> &OpenTable {
        self.table.get_or_init(|| OpenTable::build(&self.hours))
    }

    /// The UTC open intervals overlapping `[from, to)`, for display and tests.
    pub fn open_intervals(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let open = &self.table().open;
        let start = open.partition_point(|o| o.end <= from);
        open[start..]
            .iter()
            .take_while(|o| o.start < to && o.start < o.end)
            .map(|o| (o.start, o.end))
            .collect()
    }
}

impl Schedule {
    pub fn business(hours: BusinessHours) -> Schedule {
        Schedule::Business(Box::new(BusinessSchedule {
            hours,
            table: OnceLock::new(),
        }))
    }

    pub fn is_calendar(&self) -> bool {
        matches!(self, Schedule::Calendar)
    }

    /// The earliest instant at or after `from` by which `duration` of this
    /// schedule's time has passed. A deadline that uses up the last second
    /// of an interval is that interval's closing instant; a zero duration is
    /// `from` itself.
    pub fn deadline(&self, from: Timestamp, duration: Duration) -> Result<Timestamp, CalendarError> {
        if duration.0 < 0 {
            return Err(CalendarError::NegativeDuration);
        }
        match self {
            Schedule::Calendar => from.checked_add(duration.0).ok_or_else(|| out_of_range(from)),
            Schedule::Business(b) => b.table().deadline(from, duration.0),
        }
    }

    /// Business seconds from `from` to `to`; negative when `to` is before `from`.
    pub fn elapsed(&self, from: Timestamp, to: Timestamp) -> Result<i64, CalendarError> {
        match self {
            Schedule::Calendar => to.checked_sub(from).ok_or_else(|| out_of_range(to)),
            Schedule::Business(b) => {
                let table = b.table();
                Ok(table.locate(to)?.0 - table.locate(from)?.0)
            }
        }
    }

    /// `at` itself when the schedule is open then, else the next opening.
    pub fn next_opening(&self, at: Timestamp) -> Result<Timestamp, CalendarError> {
        match self {
            Schedule::Calendar => Ok(at),
            Schedule::Business(b) => {
                let table = b.table();
                let (_, index) = table.locate(at)?;
                let open = table.open[index];
                if index + 1 == table.open.len() {
                    return Err(out_of_range(at));
                }
                Ok(at.max(open.start))
            }
        }
    }

    /// Builds the schedule's table now rather than at its first use (10 ms in a release build,
    /// most of a second in a debug one), so no alert or digest waits on it.
    pub fn prepare(&self) {
        if let Schedule::Business(b) = self {
            b.table();
        }
    }

    pub fn is_open(&self, at: Timestamp) -> Result<bool, CalendarError> {
        match self {
            Schedule::Calendar => Ok(true),
            Schedule::Business(b) => {
                let table = b.table();
                let (_, index) = table.locate(at)?;
                Ok(table.open[index].start <= at)
            }
        }
    }
}

impl OpenTable {
    fn build(hours: &BusinessHours) -> OpenTable {
        let lo = RANGE_START - 2 * DAY;
        let hi = RANGE_END + 2 * DAY;
        let segments = offset_segments(hours.zone, lo, hi);
        let mut pieces: Vec<(Timestamp, Timestamp)> = Vec::new();
        for (index, &(seg_start, offset)) in segments.iter().enumerate() {
            let seg_end = segments.get(index + 1).map_or(hi, |s| s.0);
            // Within one offset, wall time is UTC + offset: take the day's hours in wall
            // time, clip them to the segment's wall-time range, and shift back to UTC.
            let (wall_lo, wall_hi) = (seg_start + offset, seg_end + offset);
            for day in wall_lo.div_euclid(DAY)..=(wall_hi - 1).div_euclid(DAY) {
                let day_hours = hours.hours.day(weekday_from_days(day));
                if day_hours.is_empty() || hours.holidays.contains(day) {
                    continue;
                }
                for iv in day_hours {
                    let a = (day * DAY + i64::from(iv.start)).max(wall_lo);
                    let b = (day * DAY + i64::from(iv.end)).min(wall_hi);
                    if a < b {
                        pieces.push((a - offset, b - offset));
                    }
                }
            }
        }
        pieces.sort_unstable();

        let mut open: Vec<Open> = Vec::with_capacity(pieces.len() + 1);
        let mut total = 0;
        for (start, end) in pieces {
            let (start, end) = (start.max(RANGE_START), end.min(RANGE_END));
            if start >= end {
                continue;
            }
            total += end - start;
            match open.last_mut() {
                Some(last) if last.end >= start => {
                    last.end = end;
                    last.total_at_end = total;
                }
                _ => open.push(Open {
                    start,
                    end,
                    total_at_end: total,
                }),
            }
        }
        open.push(Open {
            start: RANGE_END,
            end: RANGE_END,
            total_at_end: total,
        });

        let days = ((RANGE_END - RANGE_START) / DAY) as usize;
        let mut first_open_of_day = Vec::with_capacity(days);
        let mut index = 0usize;
        for k in 0..days {
            let day_start = RANGE_START + k as i64 * DAY;
            while open[index].end <= day_start && index + 1 < open.len() {
                index += 1;
            }
            first_open_of_day.push(index as u32);
        }
        OpenTable { open, first_open_of_day }
    }

    /// Business seconds from RANGE_START to `at`, and the first interval ending after `at`.
    #[inline]
    fn locate(&self, at: Timestamp) -> Result<(i64, usize), CalendarError> {
        if !(RANGE_START..RANGE_END).contains(&at) {
            return Err(out_of_range(at));
        }
        let mut index = self.first_open_of_day[((at - RANGE_START) / DAY) as usize] as usize;
        while self.open[index].end <= at {
            index += 1;
        }
        let open = self.open[index];
        let into = (at - open.start).max(0);
        Ok((open.total_at_end - (open.end - open.start) + into, index))
    }

    #[inline]
    fn deadline(&self, from: Timestamp, duration: i64) -> Result<Timestamp, CalendarError> {
        let (before, index) = self.locate(from)?;
        if duration == 0 {
            return Ok(from);
        }
        let last = self.open.len() - 1;
        let wanted = before.saturating_add(duration);
        if self.open[last].total_at_end < wanted {
            return Err(CalendarError::OutOfRange(format!(
                "{} after {}",
                Duration(duration),
                super::time::format_rfc3339(from)
            )));
        }
        // Gallop forward to bracket the first interval whose running total reaches `wanted`,
        // then bisect: the cost grows with the logarithm of the span, not the span.
        let (mut lo, mut hi) = (index, index);
        let mut step = 1;
        while self.open[hi].total_at_end < wanted {
            lo = hi + 1;
            hi = (hi + step).min(last);
            step *= 2;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.open[mid].total_at_end < wanted {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let open = self.open[lo];
        Ok(open.end - (open.total_at_end - wanted))
    }
}

fn offset_at(zone: Tz, at: Timestamp) -> i64 {
    let utc = chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().naive_utc();
    i64::from(zone.offset_from_utc_datetime(&utc).fix().local_minus_utc())
}

/// The zone's UTC offsets over `[lo, hi)` as (first instant, offset) runs. Offsets are sampled
/// every 12 hours and each change is bisected to its exact second; tzdb never changes a
/// zone's offset twice within 12 hours.
fn offset_segments(zone: Tz, lo: Timestamp, hi: Timestamp) -> Vec<(Timestamp, i64)> {
    const STEP: i64 = 12 * HOUR;
    let mut segments = vec![(lo, offset_at(zone, lo))];
    let mut t = lo;
    while t < hi {
        let next = (t + STEP).min(hi);
        let mut from = t;
        loop {
            let current = segments.last().map_or(0, |s| s.1);
            let at_next = offset_at(zone, next);
            if at_next == current {
                break;
            }
            let (mut same, mut changed) = (from, next);
            while changed - same > 1 {
                let mid = same + (changed - same) / 2;
                if offset_at(zone, mid) == current {
                    same = mid;
                } else {
                    changed = mid;
                }
            }
            segments.push((changed, offset_at(zone, changed)));
            from = changed;
        }
        t = next;
    }
    segments
}
