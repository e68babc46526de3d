//! Zendesk's business-hours schedules as `[schedules.NAME]`: the week's intervals (minutes from
//! Sunday 00:00, which may run past midnight) split into each day's "HH:MM-HH:MM", the Rails
//! zone name turned into its IANA one, and each holiday's date range into its days.

use chrono::NaiveDate;

use crate::zendesk::account::BusinessSchedule;

/// The config's weekday keys, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const DAY: u32 = 24 * 60;
const WEEK: u32 = 7 * DAY;
/// A holiday longer than this is taken for a mistake in Zendesk (a year typed wrong), not
/// written out day by day.
const LONGEST_HOLIDAY_DAYS: i64 = 366;

/// One Zendesk schedule, converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// Its name in the config (`[schedules.NAME]`).
    pub name: String,
    pub zendesk_id: u64,
    pub zendesk_name: String,
    /// The zone as Zendesk names it ("Eastern Time (US & Canada)").
    pub zendesk_zone: String,
    /// The IANA name; None when the zone is neither a Rails nor an IANA name.
    pub zone: Option<String>,
    /// Monday first: each day's open intervals, minutes from the day's 00:00 (end up to 1440),
    /// sorted, touching ones joined.
    pub days: [Vec<(u32, u32)>; 7],
    pub holidays: Vec<Holiday>,
    /// Holidays that could not be read: (name, why).
    pub skipped_holidays: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: String,
    /// Each day it covers, `YYYY-MM-DD`.
    pub dates: Vec<String>,
}

impl Converted {
    /// Why it cannot be written as a live schedule (the config would refuse it), if it cannot.
    pub fn unusable(&self) -> Option<String> {
        if self.zone.is_none() {
            return Some(format!("its time zone {:?} is not one slawatch knows", self.zendesk_zone));
        }
        if self.days.iter().all(Vec::is_empty) {
            return Some("it has no open hours".to_string());
        }
        None
    }

    /// Open minutes a week.
    pub fn weekly_minutes(&self) -> u32 {
        self.days.iter().flatten().map(|(start, end)| end - start).sum()
    }
}

/// Every schedule converted, with names unique in the config (and never the calendar's `24x7`).
pub fn convert_all(schedules: &[BusinessSchedule]) -> Vec<Converted> {
    let mut out: Vec<Converted> = Vec::new();
    for schedule in schedules {
        let mut name = slug(&schedule.name);
        if name.is_empty() {
            name = format!("schedule-{}", schedule.id);
        }
        if name == crate::config::CALENDAR_SCHEDULE || out.iter().any(|c| c.name == name) {
            name = format!("{name}-{}", schedule.id);
        }
        out.push(convert(schedule, name));
    }
    out
}

pub fn convert(schedule: &BusinessSchedule, name: String) -> Converted {
    let mut holidays = Vec::new();
    let mut skipped_holidays = Vec::new();
    for holiday in &schedule.holidays {
        match holiday_dates(&holiday.start_date, &holiday.end_date) {
            Ok(dates) => holidays.push(Holiday {
                name: holiday.name.clone(),
                dates,
            }),
            Err(why) => skipped_holidays.push((holiday.name.clone(), why)),
        }
    }
    Converted {
        name,
        zendesk_id: schedule.id,
        zendesk_name: schedule.name.clone(),
        zendesk_zone: schedule.time_zone.clone(),
        zone: iana_zone(&schedule.time_zone),
        days: split_week(&schedule.intervals),
        holidays,
        skipped_holidays,
    }
}

/// The IANA name of a zone Zendesk names the Rails way (or already the IANA way).
pub fn iana_zone(name: &str) -> Option<String> {
    if let Some(iana) = crate::sla::zones::iana_name_for_rails_zone(name) {
        return Some(iana.to_string());
    }
    name.parse::<chrono_tz::Tz>().ok().map(|_| name.to_string())
}

/// Zendesk's week (minutes from Sunday 00:00) as each day's intervals, Monday first. An
/// interval past midnight is split at it; one past the week's end wraps to Sunday.
pub fn split_week(intervals: &[(u32, u32)]) -> [Vec<(u32, u32)>; 7] {
    let mut days: [Vec<(u32, u32)>; 7] = Default::default();
    for &(start, end) in intervals {
        // An interval longer than the week covers all of it.
        let end = end.min(start.saturating_add(WEEK));
        let mut at = start;
        while at < end {
            let day_start = at - at % DAY;
            let until = end.min(day_start + DAY);
            // Zendesk's day 0 is Sunday; the config's is Monday.
            let weekday = ((day_start / DAY) % 7 + 6) % 7;
            days[weekday as usize].push((at - day_start, until - day_start));
            at = until;
        }
    }
    for day in &mut days {
        day.sort_unstable();
        let mut joined: Vec<(u32, u32)> = Vec::with_capacity(day.len());
        for &(start, end) in day.iter() {
            match joined.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => joined.push((start, end)),
            }
        }
        *day = joined;
    }
    days
}

/// `540` → `09:00`; `1440` → `24:00` (a day's end).
pub fn clock_time(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Each day from `start` to `end` (inclusive), `YYYY-MM-DD`.
pub fn holiday_dates(start: &str, end: &str) -> Result<Vec<String>, String> {
    let read = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{text:?} is not a date YYYY-MM-DD"));
    let first = read(start)?;
    let last = if end.is_empty() { first } else { read(end)? };
    let days = (last - first).num_days();
    if days < 0 {
        return Err(format!("it ends ({end}) before it starts ({start})"));
    }
    if days >= LONGEST_HOLIDAY_DAYS {
        return Err(format!("{start} to {end} is longer than a year"));
    }
    Ok(first
        .iter_days()
        .take(days as usize + 1)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect())
}

/// A config name from a Zendesk one: lower case, words joined by `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zendesk::account::ScheduleHoliday;

    const MON: u32 = DAY;

    #[test]
    fn weekday_intervals_land_on_their_days_monday_first() {
        // Zendesk's "Monday to Friday 09:00-17:00".
        let week: Vec<(u32, u32)> = (1..=5).map(|d| (d * DAY + 540, d * DAY + 1020)).collect();
        let days = split_week(&week);
        for day in &days[..5] {
            assert_eq!(day, &vec![(540, 1020)]);
        }
        assert!(days[5].is_empty() && days[6].is_empty());
    }

    #[test]
    fn an_interval_past_midnight_is_split_at_it() {
        // Friday 20:00 to Saturday 02:00; Sunday 22:00 to Monday 06:00.
        let fri = 5 * DAY;
        let days = split_week(&[(fri + 1200, fri + DAY + 120), (1320, MON + 360)]);
        assert_eq!(days[4], vec![(1200, DAY)], "friday to 24:00");
        assert_eq!(days[5], vec![(0, 120)], "saturday from 00:00");
        assert_eq!(days[6], vec![(1320, DAY)], "sunday");
        assert_eq!(days[0], vec![(0, 360)], "monday");
        assert_eq!(clock_time(DAY), "24:00");
    }

    #[test]
    fn past_the_weeks_end_wraps_to_sunday_and_touching_intervals_join() {
        // Saturday 22:00 to the week's end and 2 h past it; Monday 09:00-12:00 and 12:00-17:00.
        let sat = 6 * DAY;
        let days = split_week(&[(sat + 1320, 7 * DAY + 120), (MON + 540, MON + 720), (MON + 720, MON + 1020)]);
        assert_eq!(days[5], vec![(1320, DAY)]);
        assert_eq!(days[6], vec![(0, 120)]);
        assert_eq!(days[0], vec![(540, 1020)]);
        // The whole week, as Zendesk writes a 24/7 schedule.
        let all = split_week(&[(0, 7 * DAY)]);
        assert!(all.iter().all(|d| d == &vec![(0, DAY)]));
    }

    #[test]
    fn a_holiday_range_is_each_of_its_days_across_a_year_end() {
        assert_eq!(
            holiday_dates("2026-12-30", "2027-01-02").unwrap(),
            ["2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"]
        );
        assert_eq!(
            holiday_dates("2028-02-28", "2028-03-01").unwrap(),
            ["2028-02-28", "2028-02-29", "2028-03-01"]
        );
        assert_eq!(holiday_dates("2026-07-04", "2026-07-04").unwrap(), ["2026-07-04"]);
        assert_eq!(holiday_dates("2026-07-04", "").unwrap(), ["2026-07-04"]);
        assert!(holiday_dates("2026-07-05", "2026-07-04").unwrap_err().contains("before it starts"));
        assert!(holiday_dates("2026-07-04", "2036-07-04")
            .unwrap_err()
            .contains("longer than a year"));
        assert!(holiday_dates("04/07/2026", "").unwrap_err().contains("not a date"));
    }

    #[test]
    fn zones_names_and_unusable_schedules() {
        assert_eq!(iana_zone("Pacific Time (US & Canada)").as_deref(), Some("America/Los_Angeles"));
        assert_eq!(iana_zone("Europe/Berlin").as_deref(), Some("Europe/Berlin"));
        assert_eq!(iana_zone("Atlantis"), None);
        let schedule = |id: u64, name: &str, zone: &str, intervals: Vec<(u32, u32)>| BusinessSchedule {
            id,
            name: name.into(),
            time_zone: zone.into(),
            intervals,
            holidays: vec![
                ScheduleHoliday {
                    name: "Christmas".into(),
                    start_date: "2026-12-24".into(),
                    end_date: "2026-12-25".into(),
                },
                ScheduleHoliday {
                    name: "Typo".into(),
                    start_date: "2026-13-01".into(),
                    end_date: "2026-13-01".into(),
                },
            ],
        };
        let all = convert_all(&[
            schedule(1, "Support Hours (EMEA)", "London", vec![(MON + 540, MON + 1020)]),
            schedule(2, "Support hours: EMEA", "Atlantis", vec![(MON + 540, MON + 1020)]),
            schedule(3, "24x7", "UTC", vec![]),
            schedule(4, "☃", "UTC", vec![(0, 60)]),
        ]);
        let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["support-hours-emea", "support-hours-emea-2", "24x7-3", "schedule-4"]);
        assert_eq!(all[0].zone.as_deref(), Some("Europe/London"));
        assert_eq!(all[0].unusable(), None);
        assert_eq!(all[0].weekly_minutes(), 480);
        assert_eq!(
            all[0].holidays,
            vec![Holiday {
                name: "Christmas".into(),
                dates: vec!["2026-12-24".into(), "2026-12-25".into()]
            }]
        );
        assert_eq!(all[0].skipped_holidays.len(), 1);
        assert!(all[1].unusable().unwrap().contains("Atlantis"));
        assert_eq!(all[2].unusable().as_deref(), Some("it has no open hours"));
    }
}
