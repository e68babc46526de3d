//! Business time on a schedule, proven against hand-checked answers (SPEC §2 "Business time").
//!
//! Every expected answer in the tables below was worked out by hand from the schedule's hours
//! and holidays, and every local time is written with the UTC offset the zone really has at
//! that instant (checked independently with Python's `zoneinfo`, not with the code under test).
//! Instants are written as local wall-clock times with their offset so that a reader can check
//! a row against a wall calendar; the comparison itself is on the UTC instant.
//!
//! The property tests then check the algebra that ties `deadline`, `elapsed`, `is_open` and
//! `next_opening` together, and compare `is_open`/`elapsed` with a brute-force oracle that
//! converts each instant to local time on its own (chrono-tz, one instant at a time).

use std::sync::LazyLock;

use chrono::{Datelike, Timelike};
use proptest::prelude::*;
use slawatch::config::Config;
use slawatch::sla::calendar::Schedule;
use slawatch::sla::time::{format_rfc3339, parse_rfc3339, Duration};

const WEEKDAYS_9_TO_5: &str = r#"
hours.mon = ["09:00-17:00"]
hours.tue = ["09:00-17:00"]
hours.wed = ["09:00-17:00"]
hours.thu = ["09:00-17:00"]
hours.fri = ["09:00-17:00"]
"#;

/// The schedules under test, all built through the public configuration API.
static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let text = format!(
        r#"
# The SPEC §2 business hours plus a one-off holiday (the Friday after Thanksgiving 2026).
[schedules.pacific]
time_zone = "America/Los_Angeles"
{WEEKDAYS_9_TO_5}
holidays = ["12-24", "12-25", "01-01", "2026-11-27"]

# The same, named the way Zendesk names zones.
[schedules.pacific-rails]
time_zone = "Pacific Time (US & Canada)"
{WEEKDAYS_9_TO_5}
holidays = ["12-24", "12-25", "01-01", "2026-11-27"]

# A business schedule that is open around the clock: its time is the zone's real elapsed time,
# so the spring-forward Sunday has 23 hours and the fall-back Sunday 25.
[schedules.la-all-day]
time_zone = "America/Los_Angeles"
hours.mon = ["00:00-24:00"]
hours.tue = ["00:00-24:00"]
hours.wed = ["00:00-24:00"]
hours.thu = ["00:00-24:00"]
hours.fri = ["00:00-24:00"]
hours.sat = ["00:00-24:00"]
hours.sun = ["00:00-24:00"]

# Open only 01:00-03:00 on Sundays: exactly the hours the US DST changes play with.
[schedules.la-sunday-night]
time_zone = "America/Los_Angeles"
hours.sun = ["01:00-03:00"]

# Southern hemisphere: DST ends 2026-04-05 (03:00 AEDT -> 02:00 AEST), starts 2026-10-04
# (02:00 AEST -> 03:00 AEDT). Easter 2026 is Fri 04-03 .. Mon 04-06.
[schedules.sydney]
time_zone = "Australia/Sydney"
{WEEKDAYS_9_TO_5}
holidays = ["01-26", "12-25", "2026-04-03", "2026-04-06"]

# Half-hour offset (+09:30 / +10:30) and southern DST on the same Sundays as Sydney, with a
# weekend window that runs through midnight (Sat 18:00-24:00, Sun 00:00-06:00) and so contains
# the DST change.
[schedules.adelaide]
time_zone = "Australia/Adelaide"
{WEEKDAYS_9_TO_5}
hours.sat = ["18:00-24:00"]
hours.sun = ["00:00-06:00"]
holidays = ["12-25"]

# Half-hour offset (+05:30, no DST), a lunch break, a short Saturday, yearly and one-off holidays.
[schedules.kolkata-lunch]
time_zone = "Asia/Kolkata"
hours.mon = ["09:00-12:30", "13:30-18:00"]
hours.tue = ["09:00-12:30", "13:30-18:00"]
hours.wed = ["09:00-12:30", "13:30-18:00"]
hours.thu = ["09:00-12:30", "13:30-18:00"]
hours.fri = ["13:30-18:00", "09:00-12:30"] # listed out of order on purpose
hours.sat = ["10:00-14:00"]
holidays = ["08-15", "10-02", "2026-03-04"]
"#
    );
    Config::parse("calendar-test.toml", &text).unwrap()
});

fn schedule(name: &str) -> &'static Schedule {
    let config: &'static Config = &CONFIG;
    let id = config.policy.schedule_id(name).unwrap_or_else(|| panic!("no schedule {name}"));
    config.policy.schedule(id)
}

fn ts(text: &str) -> i64 {
    parse_rfc3339(text).unwrap_or_else(|e| panic!("{e}"))
}

fn dur(text: &str) -> Duration {
    Duration::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// A signed duration: "8h", "-8h", "0s".
fn signed(text: &str) -> i64 {
    match text.strip_prefix('-') {
        Some(rest) => -dur(rest).0,
        None => dur(text).0,
    }
}

enum Case {
    /// schedule.deadline(from, duration) == want
    Deadline {
        schedule: &'static str,
        from: &'static str,
        duration: &'static str,
        want: &'static str,
        why: &'static str,
    },
    /// schedule.elapsed(from, to) == want (a signed duration)
    Elapsed {
        schedule: &'static str,
        from: &'static str,
        to: &'static str,
        want: &'static str,
        why: &'static str,
    },
}

/// schedule, from, duration, expected deadline, why.
fn d(schedule: &'static str, from: &'static str, duration: &'static str, want: &'static str, why: &'static str) -> Case {
    Case::Deadline {
        schedule,
        from,
        duration,
        want,
        why,
    }
}

/// schedule, from, to, expected business time between them, why.
fn e(schedule: &'static str, from: &'static str, to: &'static str, want: &'static str, why: &'static str) -> Case {
    Case::Elapsed {
        schedule,
        from,
        to,
        want,
        why,
    }
}

#[rustfmt::skip]
fn table() -> Vec<Case> {
    vec![
        // ---- America/Los_Angeles, Mon-Fri 09:00-17:00, holidays 12-24, 12-25, 01-01 yearly and 2026-11-27 once.
        // 2026: DST starts Sun 03-08 (PST -08:00 -> PDT -07:00), ends Sun 11-01 (PDT -> PST).
        d("pacific", "2026-03-09T09:00:00-07:00", "8h", "2026-03-09T17:00:00-07:00", "Mon: 8 h uses the whole day; the deadline is the closing instant, not Tue 09:00"),
        d("pacific", "2026-03-09T09:00:00-07:00", "8h0m1s", "2026-03-10T09:00:01-07:00", "one second more than the day spills 1 s into Tue"),
        d("pacific", "2026-03-09T09:00:00-07:00", "1h0m1s", "2026-03-09T10:00:01-07:00", "seconds are kept"),
        d("pacific", "2026-03-09T16:59:59-07:00", "1h0m1s", "2026-03-10T10:00:00-07:00", "1 s left on Mon, then 1 h on Tue"),
        d("pacific", "2026-03-06T16:00:00-08:00", "24h", "2026-03-11T16:00:00-07:00", "Fri 1 h (PST) + Mon 8 + Tue 8 + Wed 7 (PDT): wall-clock 16:00 across the spring-forward weekend"),
        e("pacific", "2026-03-06T09:00:00-08:00", "2026-03-09T17:00:00-07:00", "16h", "Fri 8 h + Mon 8 h; the weekend's lost hour is not business time"),
        d("pacific", "2026-10-30T13:00:00-07:00", "8h", "2026-11-02T13:00:00-08:00", "Fri 13-17 PDT (4 h) + Mon 09-13 PST (4 h) across the fall-back weekend"),
        e("pacific", "2026-10-30T09:00:00-07:00", "2026-11-02T17:00:00-08:00", "16h", "Fri 8 h + Mon 8 h; the weekend's repeated hour is not business time"),
        d("pacific", "2026-03-07T12:00:00-08:00", "1h", "2026-03-09T10:00:00-07:00", "starts Sat (closed): counts from Mon 09:00 PDT"),
        d("pacific", "2026-03-10T07:30:00-07:00", "1h30m", "2026-03-10T10:30:00-07:00", "starts before opening: counts from 09:00"),
        d("pacific", "2026-03-10T18:00:00-07:00", "8h", "2026-03-11T17:00:00-07:00", "starts after closing: all of Wed, ending at the closing instant"),
        d("pacific", "2026-03-09T09:00:00-07:00", "3d", "2026-03-19T17:00:00-07:00", "3d = 72 business hours = 9 business days: Mon 03-09..Fri 03-13 (40 h) + Mon 03-16..Thu 03-19 (32 h)"),
        d("pacific", "2026-11-23T09:00:00-08:00", "40h", "2026-11-30T17:00:00-08:00", "one business week: Mon-Thu 32 h, Fri 11-27 one-off holiday, Mon 11-30 8 h"),
        d("pacific", "2026-12-23T15:00:00-08:00", "24h", "2026-12-30T15:00:00-08:00", "Wed 2 h; Thu 12-24, Fri 12-25 holidays; Mon 8 + Tue 8; Wed 6 h"),
        d("pacific", "2026-12-24T10:00:00-08:00", "8h", "2026-12-28T17:00:00-08:00", "starts inside a holiday (Thu 12-24, then Fri 12-25 and the weekend): all of Mon 12-28"),
        d("pacific", "2026-12-31T13:00:00-08:00", "8h", "2027-01-04T13:00:00-08:00", "Thu 4 h; Fri 2027-01-01 is the yearly holiday in the next year; Mon 4 h"),
        d("pacific", "2026-11-26T12:00:00-08:00", "8h", "2026-11-30T12:00:00-08:00", "Thanksgiving Thu is open (5 h); Fri 11-27 one-off holiday; Mon 3 h"),
        d("pacific", "2027-11-26T09:00:00-08:00", "8h", "2027-11-26T17:00:00-08:00", "2026-11-27 is a one-off: Fri 2027-11-26 is an ordinary day"),
        e("pacific", "2026-12-21T09:00:00-08:00", "2026-12-28T09:00:00-08:00", "24h", "Mon, Tue, Wed 8 h each; Thu 12-24 and Fri 12-25 closed"),
        e("pacific", "2027-12-20T00:00:00-08:00", "2027-12-27T00:00:00-08:00", "32h", "yearly holidays recur: 2027-12-24/25 are Fri/Sat, so Mon-Thu only (4 x 8 h)"),
        e("pacific", "2026-03-09T17:00:00-07:00", "2026-03-09T09:00:00-07:00", "-8h", "signed: to before from gives a negative answer"),
        e("pacific", "2026-03-06T15:30:00-08:00", "2026-03-07T12:00:00-08:00", "1h30m", "from inside hours to a closed Sat: only Fri 15:30-17:00 counts"),
        e("pacific", "2026-03-09T09:00:00-07:00", "2026-03-09T10:00:01-07:00", "1h0m1s", "seconds are kept"),
        e("pacific", "2026-03-07T00:00:00-08:00", "2026-03-08T23:59:59-07:00", "0s", "a weekend has no business time"),
        e("pacific", "2026-12-25T09:00:00-08:00", "2026-12-25T17:00:00-08:00", "0s", "a holiday has no business time"),
        d("pacific", "2026-03-07T12:00:00-08:00", "0s", "2026-03-07T12:00:00-08:00", "zero duration: from itself, even when closed"),
        d("pacific", "2026-12-25T10:00:00-08:00", "0s", "2026-12-25T10:00:00-08:00", "zero duration: from itself, even on a holiday"),
        d("pacific", "2026-03-09T17:00:00-07:00", "0s", "2026-03-09T17:00:00-07:00", "zero duration at a closing instant: that instant"),

        // ---- The same schedule under its Zendesk (Rails) zone name gives the same answers.
        d("pacific-rails", "2026-03-06T16:00:00-08:00", "24h", "2026-03-11T16:00:00-07:00", "as pacific: Fri 1 h + Mon 8 + Tue 8 + Wed 7"),
        d("pacific-rails", "2026-10-30T13:00:00-07:00", "8h", "2026-11-02T13:00:00-08:00", "as pacific: across the fall-back weekend"),
        d("pacific-rails", "2026-12-23T15:00:00-08:00", "24h", "2026-12-30T15:00:00-08:00", "as pacific: yearly holidays"),
        d("pacific-rails", "2026-11-26T12:00:00-08:00", "8h", "2026-11-30T12:00:00-08:00", "as pacific: one-off holiday"),
        e("pacific-rails", "2026-03-06T09:00:00-08:00", "2026-03-09T17:00:00-07:00", "16h", "as pacific"),

        // ---- 24x7: the calendar clock, deadline = from + d in real seconds.
        d("24x7", "2026-03-07T12:00:00-08:00", "24h", "2026-03-08T13:00:00-07:00", "24 real hours across spring-forward: wall clock moves 25 h"),
        d("24x7", "2026-10-31T12:00:00-07:00", "3d", "2026-11-03T11:00:00-08:00", "72 real hours across fall-back: wall clock moves 71 h"),
        d("24x7", "2026-12-25T10:00:00-08:00", "1h0m1s", "2026-12-25T11:00:01-08:00", "the calendar clock has no holidays; seconds kept"),
        e("24x7", "2026-03-09T17:00:00-07:00", "2026-03-06T17:00:00-08:00", "-71h", "signed real time: 3 days minus the lost hour, backwards"),

        // ---- America/Los_Angeles, 00:00-24:00 every day (a business schedule open around the clock).
        e("la-all-day", "2026-03-08T00:00:00-08:00", "2026-03-09T00:00:00-07:00", "23h", "the spring-forward Sunday has 23 h"),
        e("la-all-day", "2026-11-01T00:00:00-07:00", "2026-11-02T00:00:00-08:00", "25h", "the fall-back Sunday has 25 h"),
        e("la-all-day", "2026-11-01T01:00:00-07:00", "2026-11-01T02:00:00-08:00", "2h", "01:00-02:00 happens twice, both count"),
        d("la-all-day", "2026-03-08T01:30:00-08:00", "1h", "2026-03-08T03:30:00-07:00", "02:00-03:00 does not exist on 03-08"),
        d("la-all-day", "2026-11-01T00:30:00-07:00", "2h", "2026-11-01T01:30:00-08:00", "the second 01:30 (PST) of 11-01"),
        d("la-all-day", "2026-03-07T12:00:00-08:00", "24h", "2026-03-08T13:00:00-07:00", "open around the clock = the calendar clock (same as 24x7)"),
        d("la-all-day", "2026-03-08T23:00:00-07:00", "1h", "2026-03-09T00:00:00-07:00", "Sun's 24:00 and Mon's 00:00 are one instant: no gap"),

        // ---- America/Los_Angeles, Sundays 01:00-03:00 only.
        e("la-sunday-night", "2026-03-08T00:00:00-08:00", "2026-03-08T12:00:00-07:00", "1h", "spring-forward: only 01:00-02:00 PST exists, 02:00-03:00 is skipped"),
        e("la-sunday-night", "2026-11-01T00:00:00-07:00", "2026-11-01T12:00:00-08:00", "3h", "fall-back: 01:00-02:00 PDT, 01:00-02:00 PST, 02:00-03:00 PST"),
        e("la-sunday-night", "2026-03-15T00:00:00-07:00", "2026-03-16T00:00:00-07:00", "2h", "an ordinary Sunday: 2 h"),
        d("la-sunday-night", "2026-03-08T01:30:00-08:00", "30m", "2026-03-08T03:00:00-07:00", "uses the last second before the jump: the closing instant 03:00 PDT"),
        d("la-sunday-night", "2026-03-08T01:30:00-08:00", "31m", "2026-03-15T01:01:00-07:00", "1 min more runs into next Sunday"),
        d("la-sunday-night", "2026-11-01T01:30:00-07:00", "1h", "2026-11-01T01:30:00-08:00", "from the first 01:30 (PDT) to the second (PST)"),
        d("la-sunday-night", "2026-11-01T00:00:00-07:00", "3h", "2026-11-01T03:00:00-08:00", "all 3 h of the fall-back night: the closing instant"),
        d("la-sunday-night", "2026-10-31T12:00:00-07:00", "2h30m", "2026-11-01T02:30:00-08:00", "starts closed; 01:00 PDT + 2h30m = 02:30 PST"),

        // ---- Australia/Sydney, Mon-Fri 09:00-17:00 (AEDT +11:00 in summer, AEST +10:00 in winter).
        d("sydney", "2026-04-02T15:00:00+11:00", "8h", "2026-04-07T15:00:00+10:00", "Thu 2 h; Good Fri and Easter Mon (one-off) closed, DST ends between; Tue 6 h"),
        e("sydney", "2026-04-02T09:00:00+11:00", "2026-04-07T17:00:00+10:00", "16h", "Thu + Tue; the repeated hour on Sun 04-05 is not business time"),
        e("sydney", "2026-10-02T09:00:00+10:00", "2026-10-05T17:00:00+11:00", "16h", "Fri (AEST) + Mon (AEDT) across the spring-forward weekend"),
        d("sydney", "2026-10-02T16:00:00+10:00", "2h", "2026-10-05T10:00:00+11:00", "Fri 1 h, Mon 1 h, across DST start"),
        d("sydney", "2027-01-25T09:00:00+11:00", "16h", "2027-01-27T17:00:00+11:00", "Mon 8 h; Tue 01-26 yearly holiday; Wed 8 h"),
        e("sydney", "2026-12-24T09:00:00+11:00", "2026-12-26T09:00:00+11:00", "8h", "12-25 is a local day: Fri 09-17 AEDT (12-24T22:00Z..12-25T06:00Z) is closed"),

        // ---- Australia/Adelaide (ACDT +10:30 / ACST +09:30), Mon-Fri 09-17, Sat 18:00-24:00, Sun 00:00-06:00.
        e("adelaide", "2026-04-04T18:00:00+10:30", "2026-04-05T06:00:00+09:30", "13h", "Sat 6 h + Sun 00-06 with 02:00-03:00 twice (7 h)"),
        e("adelaide", "2026-10-03T18:00:00+09:30", "2026-10-04T06:00:00+10:30", "11h", "Sat 6 h + Sun 00-06 without 02:00-03:00 (5 h)"),
        d("adelaide", "2026-10-03T23:00:00+09:30", "3h30m", "2026-10-04T03:30:00+10:30", "Sat 23-24 (1 h), Sun 00-02 ACST (2 h), then 03:00 ACDT + 30 min"),
        d("adelaide", "2026-04-05T01:00:00+10:30", "3h", "2026-04-05T03:00:00+09:30", "01-03 ACDT (2 h) then 02-03 ACST again (1 h)"),
        d("adelaide", "2026-06-15T16:00:00+09:30", "2h", "2026-06-16T10:00:00+09:30", "Mon 1 h, Tue 1 h at +09:30"),
        e("adelaide", "2026-06-19T17:00:00+09:30", "2026-06-22T09:00:00+09:30", "12h", "Sat 18-24 and Sun 00-06: 24:00 and 00:00 join up"),
        d("adelaide", "2026-06-20T23:59:59+09:30", "2s", "2026-06-21T00:00:01+09:30", "runs through Sat 24:00 into Sun without a gap"),
        d("adelaide", "2026-06-20T20:00:00+09:30", "4h", "2026-06-21T00:00:00+09:30", "uses up Sat to 24:00: the deadline is midnight"),
        d("adelaide", "2026-12-24T16:00:00+10:30", "2h", "2026-12-26T19:00:00+10:30", "Thu 1 h; Fri 12-25 holiday; then the Saturday-evening window: 18:00 + 1 h"),

        // ---- Asia/Kolkata (+05:30), Mon-Fri 09:00-12:30 and 13:30-18:00, Sat 10:00-14:00.
        d("kolkata-lunch", "2026-06-15T11:00:00+05:30", "2h", "2026-06-15T14:00:00+05:30", "1.5 h before lunch, 0.5 h after"),
        d("kolkata-lunch", "2026-06-15T09:00:00+05:30", "3h30m", "2026-06-15T12:30:00+05:30", "uses up the morning: the lunch-time closing instant, not 13:30"),
        d("kolkata-lunch", "2026-06-15T12:45:00+05:30", "1h", "2026-06-15T14:30:00+05:30", "starts in the lunch break: counts from 13:30"),
        e("kolkata-lunch", "2026-06-15T12:00:00+05:30", "2026-06-15T14:00:00+05:30", "1h", "30 min before lunch + 30 min after"),
        e("kolkata-lunch", "2026-06-15T00:00:00+05:30", "2026-06-16T00:00:00+05:30", "8h", "a full weekday is 3.5 h + 4.5 h"),
        d("kolkata-lunch", "2026-06-19T17:00:00+05:30", "3h", "2026-06-20T12:00:00+05:30", "Fri 1 h, Sat 10:00 + 2 h"),
        d("kolkata-lunch", "2026-08-14T17:00:00+05:30", "2h", "2026-08-17T10:00:00+05:30", "Fri 1 h; Sat 08-15 yearly holiday; Sun closed; Mon 1 h"),
        e("kolkata-lunch", "2026-10-01T09:00:00+05:30", "2026-10-05T09:00:00+05:30", "12h", "Thu 8 h, Fri 10-02 yearly holiday, Sat 4 h"),
        d("kolkata-lunch", "2026-03-03T18:00:00+05:30", "8h", "2026-03-05T18:00:00+05:30", "Wed 2026-03-04 one-off holiday; all of Thu"),
        d("kolkata-lunch", "2026-06-15T12:29:59+05:30", "2s", "2026-06-15T13:30:01+05:30", "1 s before lunch, 1 s after: seconds kept"),
    ]
}

#[test]
fn hand_checked_table() {
    let cases = table();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for (row, case) in cases.iter().enumerate() {
        match *case {
            Case::Deadline {
                schedule: name,
                from,
                duration,
                want,
                why,
            } => {
                let got = schedule(name).deadline(ts(from), dur(duration));
                if got != Ok(ts(want)) {
                    failures.push(format!(
                        "row {row}: {name}: deadline({from}, {duration}): want {want} = {}, got {:?} ({why})",
                        format_rfc3339(ts(want)),
                        got.map(format_rfc3339)
                    ));
                }
            }
            Case::Elapsed {
                schedule: name,
                from,
                to,
                want,
                why,
            } => {
                let got = schedule(name).elapsed(ts(from), ts(to));
                if got != Ok(signed(want)) {
                    failures.push(format!(
                        "row {row}: {name}: elapsed({from}, {to}): want {want} = {} s, got {:?} s ({why})",
                        signed(want),
                        got
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// An independent oracle: the schedules above, restated, and the definition of "open" applied to
// one instant at a time (convert to local time with chrono-tz, look at the date and the clock).

const H: u32 = 3600;
const M: u32 = 60;

struct Spec {
    name: &'static str,
    zone: chrono_tz::Tz,
    /// Monday first; seconds from local midnight, end exclusive (24:00 = 86400).
    hours: [&'static [(u32, u32)]; 7],
    yearly: &'static [(u32, u32)],
    once: &'static [(i32, u32, u32)],
}

const NINE_TO_FIVE: &[(u32, u32)] = &[(9 * H, 17 * H)];
const LUNCH: &[(u32, u32)] = &[(9 * H, 12 * H + 30 * M), (13 * H + 30 * M, 18 * H)];
const ALL_DAY: &[(u32, u32)] = &[(0, 24 * H)];

fn specs() -> Vec<Spec> {
    use chrono_tz::{America, Asia, Australia};
    let pacific = |name| Spec {
        name,
        zone: America::Los_Angeles,
        hours: [NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, &[], &[]],
        yearly: &[(12, 24), (12, 25), (1, 1)],
        once: &[(2026, 11, 27)],
    };
    vec![
        pacific("pacific"),
        pacific("pacific-rails"),
        Spec {
            name: "la-all-day",
            zone: America::Los_Angeles,
            hours: [ALL_DAY; 7],
            yearly: &[],
            once: &[],
        },
        Spec {
            name: "la-sunday-night",
            zone: America::Los_Angeles,
            hours: [&[], &[], &[], &[], &[], &[], &[(H, 3 * H)]],
            yearly: &[],
            once: &[],
        },
        Spec {
            name: "sydney",
            zone: Australia::Sydney,
            hours: [NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, NINE_TO_FIVE, &[], &[]],
            yearly: &[(1, 26), (12, 25)],
            once: &[(2026, 4, 3), (2026, 4, 6)],
        },
        Spec {
            name: "adelaide",
            zone: Australia::Adelaide,
            hours: [
                NINE_TO_FIVE,
                NINE_TO_FIVE,
                NINE_TO_FIVE,
                NINE_TO_FIVE,
                NINE_TO_FIVE,
                &[(18 * H, 24 * H)],
                &[(0, 6 * H)],
            ],
            yearly: &[(12, 25)],
            once: &[],
        },
        Spec {
            name: "kolkata-lunch",
            zone: Asia::Kolkata,
            hours: [LUNCH, LUNCH, LUNCH, LUNCH, LUNCH, &[(10 * H, 14 * H)], &[]],
            yearly: &[(8, 15), (10, 2)],
            once: &[(2026, 3, 4)],
        },
    ]
}

static SPECS: LazyLock<Vec<Spec>> = LazyLock::new(specs);

fn spec(name: &str) -> &'static Spec {
    SPECS.iter().find(|s| s.name == name).unwrap()
}

fn oracle_open(spec: &Spec, t: i64) -> bool {
    let local = chrono::DateTime::from_timestamp(t, 0).unwrap().with_timezone(&spec.zone);
    let date = local.date_naive();
    if spec.yearly.contains(&(date.month(), date.day())) || spec.once.contains(&(date.year(), date.month(), date.day())) {
        return false;
    }
    let second = local.num_seconds_from_midnight();
    spec.hours[date.weekday().num_days_from_monday() as usize]
        .iter()
        .any(|&(a, b)| a <= second && second < b)
}

/// Walks `[start, start + days)` minute by minute (every opening, closing and offset change of
/// these schedules falls on a whole minute) and checks `is_open` and the running `elapsed`
/// against the oracle, and `deadline` at every minute where business time accrued.
fn sweep(name: &str, start: &str, days: i64) {
    let (s, spec) = (schedule(name), spec(name));
    let from = ts(start);
    let mut total = 0i64;
    for minute in 0..days * 24 * 60 {
        let t = from + minute * 60;
        assert_eq!(s.elapsed(from, t), Ok(total), "{name}: elapsed({start}, {})", format_rfc3339(t));
        let open = oracle_open(spec, t);
        assert_eq!(s.is_open(t), Ok(open), "{name}: is_open({})", format_rfc3339(t));
        assert_eq!(s.is_open(t + 59), Ok(open), "{name}: is_open({})", format_rfc3339(t + 59));
        if open {
            total += 60;
            // The deadline that uses up this minute is its end, not the next opening.
            assert_eq!(
                s.deadline(from, Duration(total)),
                Ok(t + 60),
                "{name}: deadline({start}, {total} s)"
            );
        }
    }
}

#[test]
fn sweeps_match_the_oracle_around_dst_changes_and_holidays() {
    // A week (or more) around each DST change of 2026 and the year-end holidays, per schedule.
    for name in ["pacific", "pacific-rails", "la-all-day", "la-sunday-night"] {
        sweep(name, "2026-03-05T00:00:00Z", 7);
        sweep(name, "2026-10-29T00:00:00Z", 7);
        sweep(name, "2026-12-20T00:00:00Z", 14);
    }
    for name in ["sydney", "adelaide"] {
        sweep(name, "2026-04-01T00:00:00Z", 8);
        sweep(name, "2026-09-30T00:00:00Z", 7);
        sweep(name, "2026-12-20T00:00:00Z", 14);
        sweep(name, "2027-01-21T00:00:00Z", 7);
    }
    sweep("kolkata-lunch", "2026-02-28T00:00:00Z", 10);
    sweep("kolkata-lunch", "2026-08-10T00:00:00Z", 7);
    sweep("kolkata-lunch", "2026-09-28T00:00:00Z", 7);
    // Far from 2026: the rules of other years (pre-2007 US DST, leap days, the 2100s).
    sweep("pacific", "2004-03-28T00:00:00Z", 9);
    sweep("pacific", "2004-10-24T00:00:00Z", 9);
    sweep("la-sunday-night", "2004-04-01T00:00:00Z", 7);
    sweep("adelaide", "2199-12-24T00:00:00Z", 7);
    sweep("kolkata-lunch", "2028-02-26T00:00:00Z", 7);
}

#[test]
fn zendesk_zone_name_is_the_iana_zone() {
    let (iana, rails) = (schedule("pacific"), schedule("pacific-rails"));
    let mut t = ts("1970-01-01T00:00:00Z");
    let end = ts("2199-12-31T00:00:00Z");
    while t < end {
        assert_eq!(iana.is_open(t), rails.is_open(t), "{}", format_rfc3339(t));
        assert_eq!(iana.next_opening(t), rails.next_opening(t), "{}", format_rfc3339(t));
        assert_eq!(iana.deadline(t, dur("40h")), rails.deadline(t, dur("40h")), "{}", format_rfc3339(t));
        t += 3 * 86_400 + 3_607;
    }
    assert_eq!(iana.elapsed(0, end), rails.elapsed(0, end));
}

// ---------------------------------------------------------------------------------------------
// The supported range: 1970-01-01T00:00:00Z to 2199-12-31T23:59:59Z for business schedules.

#[test]
fn outside_the_supported_range_is_an_error_not_a_panic() {
    let first = ts("1970-01-01T00:00:00Z");
    let last = ts("2199-12-31T23:59:59Z");
    let outside = [
        first - 1,
        last + 1,
        ts("1900-01-01T00:00:00Z"),
        ts("9999-12-31T23:59:59Z"),
        i64::MIN,
        i64::MAX,
    ];
    for spec in SPECS.iter() {
        let s = schedule(spec.name);
        let name = spec.name;
        for t in outside {
            assert!(s.is_open(t).is_err(), "{name}: is_open({t})");
            assert!(s.next_opening(t).is_err(), "{name}: next_opening({t})");
            assert!(s.deadline(t, dur("1h")).is_err(), "{name}: deadline({t}, 1h)");
            assert!(s.deadline(t, Duration(0)).is_err(), "{name}: deadline({t}, 0s)");
            assert!(s.elapsed(t, ts("2026-01-01T00:00:00Z")).is_err(), "{name}: elapsed({t}, 2026)");
            assert!(s.elapsed(ts("2026-01-01T00:00:00Z"), t).is_err(), "{name}: elapsed(2026, {t})");
        }
        // The edges themselves are inside.
        assert!(s.is_open(first).is_ok() && s.is_open(last).is_ok(), "{name}");
        assert!(s.elapsed(first, last).is_ok(), "{name}");
        assert_eq!(s.deadline(last, Duration(0)), Ok(last), "{name}");
        // A deadline that would fall after 2199 is an error too.
        assert!(s.deadline(ts("2199-12-01T00:00:00Z"), dur("2000h")).is_err(), "{name}");
        assert!(s.deadline(ts("2026-01-01T00:00:00Z"), dur("10000w")).is_err(), "{name}");
        // Negative durations are refused.
        assert!(s.deadline(ts("2026-01-01T00:00:00Z"), Duration(-1)).is_err(), "{name}");
    }
    // Nothing is open on 2199-12-31 (a Tuesday) after 03:00 on the Sunday-night schedule: the next
    // opening would be in 2200.
    assert!(schedule("la-sunday-night").next_opening(ts("2199-12-30T12:00:00Z")).is_err());
    // The calendar clock has no business range, but still refuses to overflow.
    assert!(schedule("24x7").deadline(i64::MAX, dur("1s")).is_err());
    assert_eq!(
        schedule("24x7").deadline(ts("2300-01-01T00:00:00Z"), dur("1h")),
        Ok(ts("2300-01-01T01:00:00Z"))
    );
}

/// A duration so long that business-seconds-so-far + duration overflows `i64` must be an error
/// (its deadline is far past 2199), not an arithmetic-overflow panic. "15250284452471w" is accepted
/// by `Duration::parse` (and so by the configuration): it is 315007 s short of `i64::MAX`.
#[test]
fn huge_durations_are_an_error_not_a_panic() {
    let huge = dur("15250284452471w");
    assert_eq!(huge, Duration(9_223_372_036_854_460_800));
    let from = ts("2026-01-01T00:00:00Z");
    let mut problems = Vec::new();
    for spec in SPECS.iter() {
        let s = schedule(spec.name);
        for d in [huge, Duration(i64::MAX)] {
            let got = std::panic::catch_unwind(|| s.deadline(from, d));
            if !matches!(got, Ok(Err(_))) {
                let got = match got {
                    Ok(result) => format!("{:?}", result.map(format_rfc3339)),
                    Err(_) => "a panic".to_string(),
                };
                problems.push(format!(
                    "{}: deadline(2026-01-01T00:00:00Z, {} s): want Err, got {got}",
                    spec.name, d.0
                ));
            }
        }
    }
    assert!(schedule("24x7").deadline(from, Duration(i64::MAX)).is_err());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Properties, over several schedules, with `from` in 2000..2100.

const PROPERTY_SCHEDULES: [&str; 7] = [
    "pacific",
    "kolkata-lunch",
    "adelaide",
    "sydney",
    "la-all-day",
    "la-sunday-night",
    "24x7",
];

fn any_schedule() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&PROPERTY_SCHEDULES[..])
}

/// Mostly uniform over 2000..2100, sometimes within a day or so of the night of a DST change
/// (a day in March, April, October or November; the UTC span covers both hemispheres' nights).
fn instant() -> impl Strategy<Value = i64> {
    let uniform = ts("2000-01-01T00:00:00Z")..ts("2100-01-01T00:00:00Z");
    let near_dst = (
        2000i64..2100,
        proptest::sample::select(&[3u32, 4, 10, 11][..]),
        1u32..=28,
        0i64..3 * 86_400,
    )
        .prop_map(|(y, m, d, s)| ts(&format!("{y:04}-{m:02}-{d:02}T00:00:00Z")) - 86_400 + s);
    prop_oneof![3 => uniform, 2 => near_dst]
}

/// Business durations from zero to ~2000 h, seconds included.
fn duration() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), 1i64..=600, 0i64..=3 * 86_400, 0i64..=2000 * 3600]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn elapsed_to_the_deadline_is_the_duration(name in any_schedule(), from in instant(), d in duration()) {
        let s = schedule(name);
        let t = s.deadline(from, Duration(d)).unwrap();
        prop_assert!(t >= from);
        prop_assert_eq!(s.elapsed(from, t).unwrap(), d);
    }

    #[test]
    fn the_deadline_is_the_earliest_such_instant(name in any_schedule(), from in instant(), d in 1i64..=2000 * 3600) {
        let s = schedule(name);
        let t = s.deadline(from, Duration(d)).unwrap();
        // One second earlier, one business second is still missing: the last second used was open.
        prop_assert_eq!(s.elapsed(from, t - 1).unwrap(), d - 1);
        prop_assert!(s.elapsed(from, t - 1).unwrap() < d);
        prop_assert!(s.is_open(t - 1).unwrap());
    }

    #[test]
    fn deadline_is_monotonic_in_from(name in any_schedule(), from in instant(), later in prop_oneof![0i64..=120, 0i64..=14 * 86_400], d in duration()) {
        let s = schedule(name);
        prop_assert!(s.deadline(from, Duration(d)).unwrap() <= s.deadline(from + later, Duration(d)).unwrap());
    }

    #[test]
    fn deadline_is_monotonic_in_the_duration(name in any_schedule(), from in instant(), d in duration(), more in prop_oneof![0i64..=2, 0i64..=100 * 3600]) {
        let s = schedule(name);
        let (a, b) = (s.deadline(from, Duration(d)).unwrap(), s.deadline(from, Duration(d + more)).unwrap());
        prop_assert!(a <= b);
        // and the extra duration is exactly the business time between them
        prop_assert_eq!(s.elapsed(a, b).unwrap(), more);
    }

    #[test]
    fn elapsed_is_additive(name in any_schedule(), a in instant(), b in instant(), c in instant()) {
        let s = schedule(name);
        let (ab, bc, ac) = (s.elapsed(a, b).unwrap(), s.elapsed(b, c).unwrap(), s.elapsed(a, c).unwrap());
        prop_assert_eq!(ab + bc, ac);
        prop_assert_eq!(s.elapsed(b, a).unwrap(), -ab);
        prop_assert_eq!(s.elapsed(a, a).unwrap(), 0);
        prop_assert!(ab.abs() <= (b - a).abs());
    }

    #[test]
    fn open_and_next_opening_agree_with_the_oracle(name in proptest::sample::select(&PROPERTY_SCHEDULES[..6]), t in instant()) {
        let s = schedule(name);
        let open = oracle_open(spec(name), t);
        prop_assert_eq!(s.is_open(t).unwrap(), open);
        prop_assert_eq!(s.elapsed(t, t + 1).unwrap(), i64::from(open));
        let next = s.next_opening(t).unwrap();
        prop_assert!(next >= t);
        prop_assert!(s.is_open(next).unwrap() && oracle_open(spec(name), next));
        prop_assert_eq!(s.elapsed(t, next).unwrap(), 0);
        prop_assert_eq!(next == t, open);
        if next > t {
            // an opening: closed the second before
            prop_assert!(!oracle_open(spec(name), next - 1));
        }
    }

    #[test]
    fn all_day_business_schedule_is_the_calendar_clock(from in instant(), to in instant(), d in duration()) {
        let (all_day, calendar) = (schedule("la-all-day"), schedule("24x7"));
        prop_assert_eq!(all_day.deadline(from, Duration(d)).unwrap(), from + d);
        prop_assert_eq!(calendar.deadline(from, Duration(d)).unwrap(), from + d);
        prop_assert_eq!(all_day.elapsed(from, to).unwrap(), to - from);
        prop_assert_eq!(calendar.elapsed(from, to).unwrap(), to - from);
    }

    #[test]
    fn zendesk_and_iana_names_agree(from in instant(), to in instant(), d in duration()) {
        let (iana, rails) = (schedule("pacific"), schedule("pacific-rails"));
        prop_assert_eq!(iana.deadline(from, Duration(d)), rails.deadline(from, Duration(d)));
        prop_assert_eq!(iana.elapsed(from, to), rails.elapsed(from, to));
    }
}
