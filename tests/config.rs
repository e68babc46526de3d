//! Configuration: typed, validated, unknown keys rejected, and every error
//! naming the file, line, key and problem.

use slawatch::config::{Config, ConfigErrors};
use slawatch::sla::calendar::Schedule;
use slawatch::sla::time::parse_rfc3339;

fn errors(toml: &str) -> Vec<String> {
    match Config::parse("config.toml", toml) {
        Ok(_) => panic!("expected errors for:\n{toml}"),
        Err(ConfigErrors(list)) => list.iter().map(ToString::to_string).collect(),
    }
}

fn one_error(toml: &str) -> String {
    let list = errors(toml);
    assert_eq!(list.len(), 1, "{list:#?}");
    list[0].clone()
}

#[test]
fn a_bad_interval_names_file_line_key_and_problem() {
    let toml = r#"# Acme support
# (thirteen lines of preamble, so the interval sits on line 14)
#
#
#
#
#
#
#
#
#
[schedules.pacific]
time_zone = "America/Los_Angeles"
hours.mon = ["9-17"]
"#;
    assert_eq!(
        one_error(toml),
        r#"config.toml:14: schedules.pacific.hours.mon: "9-17" is not HH:MM-HH:MM"#
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_line() {
    let err = one_error("[schedules.pacific]\ntime_zone = \"UTC\"\nhours.mon = [\"09:00-17:00\"]\nhours.monday = [\"09:00-17:00\"]\n");
    assert!(
        err.starts_with("config.toml:4: schedules.pacific.hours.monday: unknown field `monday`"),
        "{err}"
    );
    let err = one_error("[alerts]\nthresholds = [\"50%\"]\n\n[zendesk]\nsubdomain = \"acme\"\npassword = \"x\"\n");
    assert!(
        err.starts_with("config.toml:6: zendesk.password: unknown field `password`"),
        "{err}"
    );
    let err = one_error("[alerts]\nthresholds = [\"50%\"]\n\n[zendeks]\nurl = \"x\"\n");
    assert!(err.starts_with("config.toml:4: zendeks: unknown field `zendeks`"), "{err}");
    let err = one_error("[policy]\nseverity = \"sev1\"\n");
    assert!(err.starts_with("config.toml:2: policy.severity: unknown field `severity`"), "{err}");
}

#[test]
fn malformed_toml_names_the_line() {
    let err = one_error("[schedules.pacific]\ntime_zone = \"UTC\nhours.mon = []\n");
    assert!(err.starts_with("config.toml:2:"), "{err}");
}

#[test]
fn each_schedule_mistake_gets_a_clear_error() {
    let cases = [
        (
            r#"hours.mon = ["09:00-12:00", "11:00-17:00"]"#,
            r#"config.toml:3: schedules.s.hours.mon: intervals 09:00-12:00 and 11:00-17:00 overlap"#,
        ),
        (
            r#"hours.tue = ["17:00-09:00"]"#,
            r#"config.toml:3: schedules.s.hours.tue: the interval ends at 09:00 which is not after its start 17:00"#,
        ),
        (
            r#"hours.wed = ["10:00-10:00"]"#,
            r#"config.toml:3: schedules.s.hours.wed: the interval ends at 10:00 which is not after its start 10:00"#,
        ),
        (
            r#"hours.thu = ["09:00-24:30"]"#,
            r#"config.toml:3: schedules.s.hours.thu: "09:00-24:30" is not HH:MM-HH:MM"#,
        ),
        (
            r#"hours.fri = ["9:00-17:00"]"#,
            r#"config.toml:3: schedules.s.hours.fri: "9:00-17:00" is not HH:MM-HH:MM"#,
        ),
        ("hours.sat = []", "config.toml:2: schedules.s.hours: the week has no open hours"),
        (
            "hours.mon = [\"09:00-17:00\"]\nholidays = [\"2026-02-30\"]",
            r#"config.toml:4: schedules.s.holidays: "2026-02-30" is not a date (MM-DD for every year, YYYY-MM-DD for one day)"#,
        ),
        (
            "hours.mon = [\"09:00-17:00\"]\nholidays = [\"13-01\"]",
            r#"config.toml:4: schedules.s.holidays: "13-01" is not a date (MM-DD for every year, YYYY-MM-DD for one day)"#,
        ),
    ];
    for (body, want) in cases {
        let toml = format!("[schedules.s]\ntime_zone = \"UTC\"\n{body}\n");
        assert_eq!(one_error(&toml), want, "{toml}");
    }
    let err = one_error("[schedules.s]\ntime_zone = \"Mars/Olympus\"\nhours.mon = [\"09:00-17:00\"]\n");
    assert!(
        err.starts_with(r#"config.toml:2: schedules.s.time_zone: "Mars/Olympus" is not a known time zone"#),
        "{err}"
    );
}

#[test]
fn every_problem_in_a_file_is_reported_in_line_order() {
    let list = errors(
        r#"[schedules.x]
time_zone = "Nowhere"
hours.mon = ["09:00-17:00"]

[tiers.t]
schedule = "nope"
targets.sev3 = { first_response = "1h" }
targets.sev1 = { first_response = "1x", resolution = 5 }

[policy]
default_tier = "t"

[alerts]
thresholds = ["150%", "2h before", "soon"]
reminder_every = "0s"

[first_response]
acknowledgement_patterns = ["(unclosed"]
"#,
    );
    let want = [
        "config.toml:2: schedules.x.time_zone: \"Nowhere\" is not a known time zone",
        "config.toml:6: tiers.t.schedule: schedule \"nope\" is not defined (defined: 24x7, apac-hours, business-hours, europe-hours, us-hours)",
        "config.toml:7: tiers.t.targets.sev3: \"sev3\" is not one of policy.severities (sev1, sev2)",
        "config.toml:8: tiers.t.targets.sev1.first_response: \"1x\" is not a duration",
        "config.toml:8: tiers.t.targets.sev1.resolution: expected a duration such as \"24h\", or a table",
        "config.toml:14: alerts.thresholds: \"150%\" is not a threshold",
        "config.toml:14: alerts.thresholds: \"soon\" is not a threshold",
        "config.toml:15: alerts.reminder_every: must be longer than zero",
        "config.toml:18: first_response.acknowledgement_patterns: \"(unclosed\" is not a regular expression",
    ];
    assert_eq!(list.len(), want.len(), "{list:#?}");
    for (got, want) in list.iter().zip(want) {
        assert!(got.starts_with(want), "got {got}\nwant {want}…");
    }
}

#[test]
fn references_between_sections_are_checked() {
    let err = one_error("[policy]\ndefault_severity = \"p1\"\n");
    assert_eq!(
        err,
        r#"config.toml:2: policy.default_severity: "p1" is not one of policy.severities (sev1, sev2)"#
    );
    let err = one_error("[policy]\ndefault_tier = \"gold\"\n");
    assert_eq!(
        err,
        r#"config.toml:2: policy.default_tier: "gold" is not a tier (tiers: managed, self-hosted)"#
    );
    let err = one_error("[contracts.acme]\ntier = \"gold\"\n");
    assert_eq!(err, r#"config.toml:2: contracts.acme.tier: "gold" is not a tier"#);
    let err = one_error("[[goals]]\nname = \"g\"\nmetric = \"speed\"\ntarget = \"1h\"\nschedule = \"24x7\"\n");
    assert_eq!(
        err,
        r#"config.toml:3: goals[0].metric: "speed" is not a metric (first_response or resolution)"#
    );
    let err = one_error("[[goals]]\nname = \"g\"\nmetric = \"resolution\"\ntarget = \"1h\"\nschedule = \"24x7\"\nattainment = \"95\"\n");
    assert_eq!(err, r#"config.toml:6: goals[0].attainment: "95" is not a percentage such as "95%""#);
}

#[test]
fn the_calendar_schedule_always_exists_and_cannot_be_redefined() {
    let config = Config::parse("config.toml", "").unwrap();
    let id = config.policy.schedule_id("24x7").unwrap();
    assert!(config.policy.schedule(id).is_calendar());
    let err = one_error("[schedules.24x7]\ntime_zone = \"UTC\"\nhours.mon = [\"09:00-17:00\"]\n");
    assert!(err.contains("24x7 is the built-in calendar clock"), "{err}");
}

#[test]
fn zendesk_zone_names_are_accepted() {
    let config = Config::parse(
        "config.toml",
        "[schedules.rails]\ntime_zone = \"Pacific Time (US & Canada)\"\nhours.mon = [\"09:00-17:00\"]\n[schedules.adelaide]\ntime_zone = \"Adelaide\"\nhours.mon = [\"09:00-17:00\"]\n",
    )
    .unwrap();
    let zone = |name: &str| match config.policy.schedule(config.policy.schedule_id(name).unwrap()) {
        Schedule::Business(b) => b.hours.zone,
        Schedule::Calendar => panic!("calendar"),
    };
    assert_eq!(zone("rails"), chrono_tz::America::Los_Angeles);
    assert_eq!(zone("adelaide"), chrono_tz::Australia::Adelaide);
}

#[test]
fn a_user_schedule_of_the_default_name_replaces_the_default() {
    let config = Config::parse(
        "config.toml",
        "[schedules.business-hours]\ntime_zone = \"Europe/London\"\nhours.sat = [\"10:00-12:00\"]\n",
    )
    .unwrap();
    let schedule = config.policy.schedule(config.policy.schedule_id("business-hours").unwrap());
    // Saturday 2026-11-28 10:00 London (UTC+0) + 2h = 12:00.
    let from = parse_rfc3339("2026-11-28T10:00:00Z").unwrap();
    assert_eq!(
        schedule.deadline(from, slawatch::sla::time::Duration(7200)).unwrap(),
        parse_rfc3339("2026-11-28T12:00:00Z").unwrap()
    );
}

#[test]
fn the_example_file_is_valid_and_documents_every_section() {
    let example = include_str!("../config.example.toml");
    Config::parse("config.example.toml", example).unwrap_or_else(|e| panic!("{e}"));
    for section in [
        "[schedules.",
        "[policy]",
        "[tiers.",
        "[contracts.",
        "[first_response]",
        "[alerts]",
        "[[goals]]",
        "[escalation]",
        "[[escalation.rules]]",
    ] {
        assert!(example.contains(section), "config.example.toml does not mention {section}");
    }
    for key in [
        "time_zone",
        "holidays",
        "severities",
        "default_severity",
        "default_tier",
        "pause_statuses",
        "min_length",
        "bot_user_ids",
        "acknowledgement_patterns",
        "thresholds",
        "reminder_every",
        "attainment",
    ] {
        assert!(example.contains(key), "config.example.toml does not document {key}");
    }
}

#[test]
fn a_missing_file_is_named() {
    let err = Config::load(std::path::Path::new("/nonexistent/slawatch.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/nonexistent/slawatch.toml: cannot read:"), "{err}");
}

#[test]
fn values_taken_from_the_defaults_have_no_line_and_say_how_to_change_them() {
    // The default tiers and goal name sev1/sev2: renaming the severities leaves them wrong,
    // and the file cannot be blamed at a line (their spans are in the built-in defaults).
    let list = errors("[policy]\nseverities = [\"p1\", \"p2\"]\ndefault_severity = \"p1\"\n");
    let tier = |tier: &str, sev: &str| {
        format!(
            "config.toml: tiers.{tier}.targets.{sev} (built-in default): {sev:?} is not one of policy.severities (p1, p2); \
             define [tiers.{tier}] in config.toml to replace this default tier"
        )
    };
    assert_eq!(
        list,
        [
            tier("managed", "sev1"),
            tier("managed", "sev2"),
            tier("self-hosted", "sev1"),
            tier("self-hosted", "sev2"),
            "config.toml: goals[0].severities (built-in default): \"sev2\" is not one of policy.severities (p1, p2); \
             define [[goals]] in config.toml to replace the default goals"
                .to_string(),
        ]
    );
    let list = errors("[policy]\nseverities = [\"p1\", \"p2\"]\n");
    assert_eq!(
        list[0],
        "config.toml: policy.default_severity (built-in default): \"sev2\" is not one of policy.severities (p1, p2); \
         set policy.default_severity in config.toml"
    );
    // Replacing what names the old severities makes the file valid.
    let config = Config::parse(
        "config.toml",
        r#"[policy]
severities = ["p1", "p2"]
default_severity = "p2"

[tiers.self-hosted]
schedule = "business-hours"
targets.p1 = { first_response = "8h" }

[tiers.managed]
schedule = "24x7"
targets.p1 = { first_response = "4h" }

[[goals]]
name = "p2-in-a-week"
metric = "resolution"
severities = ["p2"]
target = "1w"
schedule = "24x7"
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.policy.severities, ["p1", "p2"]);
    // A file's own values keep their lines.
    let err = one_error("\n[policy]\nseverities = [\"p1\", \"p2\"]\ndefault_severity = \"p3\"\n[tiers.self-hosted]\nschedule = \"24x7\"\n[tiers.managed]\nschedule = \"24x7\"\n[[goals]]\nname = \"g\"\nmetric = \"resolution\"\ntarget = \"1w\"\nschedule = \"24x7\"\n");
    assert_eq!(
        err,
        r#"config.toml:4: policy.default_severity: "p3" is not one of policy.severities (p1, p2)"#
    );
}

#[test]
fn setting_one_pause_list_keeps_the_default_of_the_other() {
    let config = Config::parse("config.toml", "[policy.pause_statuses]\nfirst_response = [\"hold\"]\n").unwrap();
    assert_eq!(config.policy.pause_first_response, ["hold"]);
    assert_eq!(config.policy.pause_resolution, ["pending"]);
    let config = Config::parse("config.toml", "[policy]\npause_statuses.resolution = [\"Pending\", \"hold\"]\n").unwrap();
    assert!(config.policy.pause_first_response.is_empty());
    assert_eq!(config.policy.pause_resolution, ["pending", "hold"]);
    let config = Config::parse("config.toml", "[policy]\npause_statuses.resolution = []\n").unwrap();
    assert!(config.policy.pause_resolution.is_empty());
}

#[test]
fn pause_statuses_must_be_statuses_that_can_pause_a_clock() {
    let list = errors("[policy.pause_statuses]\nfirst_response = [\"new\", \"open\", \"pending\", \"hold\"]\nresolution = [\n  \"pendng\",\n  \"solved\",\n  \"closed\",\n  \"deleted\",\n]\n");
    let allowed = "(statuses that can pause a clock: new, open, pending, hold)";
    assert_eq!(
        list,
        [
            format!("config.toml:4: policy.pause_statuses.resolution: \"pendng\" is not a Zendesk ticket status {allowed}"),
            format!("config.toml:5: policy.pause_statuses.resolution: \"solved\" ends the clock rather than pausing it {allowed}"),
            format!("config.toml:6: policy.pause_statuses.resolution: \"closed\" ends the clock rather than pausing it {allowed}"),
            format!("config.toml:7: policy.pause_statuses.resolution: \"deleted\" stops every clock rather than pausing it {allowed}"),
        ]
    );
}

#[test]
fn tiers_merge_by_name_like_schedules() {
    // A new tier adds to the defaults.
    let config = Config::parse(
        "config.toml",
        "[tiers.gold]\nschedule = \"24x7\"\ntargets.sev1 = { first_response = \"1h\" }\n[policy]\ndefault_tier = \"gold\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let tiers: Vec<&String> = config.policy.tiers.keys().collect();
    assert_eq!(tiers, ["gold", "managed", "self-hosted"]);
    assert_eq!(config.policy.default_tier, "gold");
    // A tier of a default name replaces that tier only.
    let config = Config::parse("config.toml", "[tiers.managed]\nschedule = \"business-hours\"\n").unwrap();
    let managed = &config.policy.tiers["managed"];
    assert_eq!(config.policy.schedule_name(managed.schedule), "business-hours");
    assert!(managed.targets.is_empty());
    let self_hosted = &config.policy.tiers["self-hosted"];
    assert_eq!(config.policy.schedule_name(self_hosted.schedule), "business-hours");
    assert_eq!(self_hosted.targets.len(), 2);
    // default_tier is still checked against every tier, default or not.
    let err = one_error("[tiers.gold]\nschedule = \"24x7\"\n[policy]\ndefault_tier = \"silver\"\n");
    assert_eq!(
        err,
        r#"config.toml:4: policy.default_tier: "silver" is not a tier (tiers: gold, managed, self-hosted)"#
    );
    // A default tier that is defined but wrong gets its own error only.
    let err = one_error("[tiers.gold]\nschedule = \"nope\"\n[policy]\ndefault_tier = \"gold\"\n");
    assert!(
        err.starts_with("config.toml:2: tiers.gold.schedule: schedule \"nope\" is not defined"),
        "{err}"
    );
}

#[test]
fn a_broken_schedule_is_not_blamed_again_where_it_is_used() {
    // The default tier self-hosted uses business-hours: only the schedule's own error is reported.
    let err = one_error("[schedules.business-hours]\ntime_zone = \"Nowhere\"\nhours.mon = [\"09:00-17:00\"]\n");
    assert!(
        err.starts_with(r#"config.toml:2: schedules.business-hours.time_zone: "Nowhere" is not a known time zone"#),
        "{err}"
    );
}

#[test]
fn thresholds_in_a_target_table_must_be_a_list_of_strings() {
    let key = "tiers.t.targets.sev1.first_response";
    let target = |body: &str| format!("[tiers.t]\nschedule = \"24x7\"\ntargets.sev1 = {{ first_response = {body} }}\n");
    assert_eq!(
        one_error(&target(r#"{ target = "24h", thresholds = "75%" }"#)),
        format!(r#"config.toml:3: {key}.thresholds: expected a list of thresholds such as ["75%", "2h before"], not "75%""#)
    );
    assert_eq!(
        one_error(&target(r#"{ target = "24h", thresholds = [75] }"#)),
        format!(r#"config.toml:3: {key}.thresholds: 75 is not a threshold: write each as a string such as "75%" or "2h before""#)
    );
    assert_eq!(
        one_error(&target(r#"{ target = "24h", thresholds = ["75%", "soon"] }"#)),
        format!(r#"config.toml:3: {key}.thresholds: "soon" is not a threshold such as "75%" or "2h before""#)
    );
    assert_eq!(
        one_error(&target(r#"{ target = 24 }"#)),
        format!(r#"config.toml:3: {key}.target: expected a duration such as "24h", not 24"#)
    );
    assert_eq!(
        one_error(&target(r#"{ thresholds = ["75%"] }"#)),
        format!(r#"config.toml:3: {key}: the table needs target = "<duration>""#)
    );
    let err = one_error(&target(r#"{ target = "24h", threshold = ["75%"] }"#));
    assert!(
        err.starts_with(&format!(r#"config.toml:3: {key}: unknown key "threshold": expected"#)),
        "{err}"
    );
    // The well-formed table is read.
    let config = Config::parse("config.toml", &target(r#"{ target = "24h", thresholds = ["75%", "2h before"] }"#)).unwrap();
    let spec = config.policy.tiers["t"].targets["sev1"].first_response.as_ref().unwrap();
    assert_eq!(spec.duration.0, 24 * 3600);
    assert_eq!(spec.thresholds.as_ref().map(Vec::len), Some(2));
}

#[test]
fn durations_longer_than_ten_years_are_rejected() {
    let too_long = |value: &str| format!("{value:?} is longer than 520w (ten years), the longest allowed");
    let list = errors(
        r#"[tiers.t]
schedule = "24x7"
targets.sev1 = { first_response = "15000000000000w", resolution = { target = "521w" } }
targets.sev2 = { first_response = "520w" }

[alerts]
reminder_every = "520w1s"

[[goals]]
name = "g"
metric = "resolution"
target = "3641d"
schedule = "24x7"
"#,
    );
    assert_eq!(
        list,
        [
            format!(
                "config.toml:3: tiers.t.targets.sev1.first_response: {}",
                too_long("15000000000000w")
            ),
            format!("config.toml:3: tiers.t.targets.sev1.resolution.target: {}", too_long("521w")),
            format!("config.toml:7: alerts.reminder_every: {}", too_long("520w1s")),
            format!("config.toml:12: goals[0].target: {}", too_long("3641d")),
        ]
    );
}

#[test]
fn goal_names_are_unique_and_not_contract() {
    let goal = |name: &str| format!("[[goals]]\nname = \"{name}\"\nmetric = \"resolution\"\ntarget = \"1w\"\nschedule = \"24x7\"\n");
    let list = errors(&[goal("contract"), goal("fast"), goal("slow"), goal("fast")].concat());
    assert_eq!(
        list,
        [
            r#"config.toml:2: goals[0].name: "contract" names the contractual target; choose another name for the goal"#,
            r#"config.toml:17: goals[3].name: "fast" is already the name of goals[1]; goal names must be unique"#,
        ]
    );
}

#[test]
fn interval_errors_point_at_the_interval_concerned() {
    let week = |mon: &str| format!("[schedules.s]\ntime_zone = \"UTC\"\nhours.mon = [\n{mon}]\n");
    // The overlapping interval is the later one in the file, whatever their order in time.
    assert_eq!(
        one_error(&week("  \"09:00-12:00\",\n  \"13:00-14:00\",\n  \"11:00-17:00\",\n")),
        "config.toml:6: schedules.s.hours.mon: intervals 09:00-12:00 and 11:00-17:00 overlap"
    );
    assert_eq!(
        one_error(&week("  \"11:00-17:00\",\n  \"09:00-12:00\",\n")),
        "config.toml:5: schedules.s.hours.mon: intervals 09:00-12:00 and 11:00-17:00 overlap"
    );
    assert_eq!(
        one_error(&week("  \"09:00-12:00\",\n  \"09:00-12:00\",\n")),
        "config.toml:5: schedules.s.hours.mon: intervals 09:00-12:00 and 09:00-12:00 overlap"
    );
    assert_eq!(
        one_error(&week("  \"09:00-12:00\",\n  \"14:00-13:00\",\n")),
        "config.toml:5: schedules.s.hours.mon: the interval ends at 13:00 which is not after its start 14:00"
    );
}

const ESCALATION: &str = r#"
[notify.channels.support]
kind = "slack"
url_env = "SLACK_SUPPORT"

[escalation]
api_url = "https://github.example.com/api/v3/"
token_env = "GITHUB_TOKEN"
request_type_field = 360000000001
team_field = 360000000002
channel = "support"
priority_labels = { sev1 = "p1", sev2 = "p2" }

[[escalation.rules]]
name = "help"
tag = "rfh"
request_type = "help_request"
repository = "acme/support-escalations"
labels = ["rfh", "customer/{org}", "team/{team}", "{priority}"]

[[escalation.rules]]
name = "defects"
kind = "defect"
request_type = "defect"
repository = "acme/product.rs"
title = "[{severity}] {subject}"
assignees = ["octocat"]
"#;

#[test]
fn escalation_rules_resolve_and_check_config_shows_them() {
    let config = Config::parse("test.toml", ESCALATION).unwrap_or_else(|e| panic!("{e}"));
    let e = config.escalation.as_ref().unwrap();
    assert_eq!(e.api_url, "https://github.example.com/api/v3");
    assert_eq!(e.rules.len(), 2);
    assert_eq!(e.rules[0].repository.to_string(), "acme/support-escalations");
    assert_eq!(e.rules[0].title.to_string(), "{subject} ({org}, {severity})", "the default title");
    assert_eq!(e.rules[1].kind, slawatch::config::RequestKind::Defect);
    let text = slawatch::config::describe::describe_ingest(&config);
    assert!(
        text.contains("escalation: GitHub at https://github.example.com/api/v3 (token from $GITHUB_TOKEN)"),
        "{text}"
    );
    assert!(
        text.contains(
            "rule help (help_request): when tag \"rfh\" or request type \"help_request\" → acme/support-escalations: title \"{subject} ({org}, {severity})\", labels [rfh, customer/{org}, team/{team}, {priority}]"
        ),
        "{text}"
    );
    assert!(
        text.contains("rule defects (defect): when request type \"defect\" → acme/product.rs"),
        "{text}"
    );
    assert!(Config::parse("test.toml", "").unwrap().escalation.is_none());
}

#[test]
fn escalation_rules_naming_unknown_fields_or_repository_forms_are_errors_with_lines() {
    let text = r#"
[escalation]
token_env = "GITHUB_TOKEN"
channel = "nowhere"

[[escalation.rules]]
name = "help"
tag = "rfh"
repository = "https://github.com/acme/help"
labels = ["team/{team}", "{customer}"]

[[escalation.rules]]
name = "nothing"
request_type = "defect"
repository = "acme/product"
"#;
    let errors = Config::parse("test.toml", text).unwrap_err().to_string();
    for expected in [
        "test.toml:4: escalation.channel: \"nowhere\" is not a channel in [notify.channels]",
        "test.toml:9: escalation.rules[0].repository: \"https://github.com/acme/help\" is not a repository as owner/name",
        "test.toml:10: escalation.rules[0].labels: {team} needs escalation.team_field",
        "test.toml:10: escalation.rules[0].labels: {customer} is not a placeholder",
        "test.toml:14: escalation.rules[1].request_type: needs escalation.request_type_field",
    ] {
        assert!(errors.contains(expected), "missing {expected:?} in:\n{errors}");
    }
}

#[test]
fn the_report_section_is_checked_line_by_line_and_keeps_the_defaults_it_leaves_out() {
    let toml = r#"[notify.channels.support]
kind = "slack"
url_env = "SLACK_SUPPORT"

[report]
targets = { csat = "ninety" }
regions = { us = "us-hours", mars = "olympus-hours" }

[report.digest]
cron = "0 0 25 * * Mon"
route = ["support", "leads"]
"#;
    assert_eq!(
        errors(toml),
        vec![
            r#"config.toml:6: report.targets.csat: "ninety" is not a percentage such as "95%""#.to_string(),
            r#"config.toml:7: report.regions.mars: schedule "olympus-hours" is not defined (defined: 24x7, apac-hours, business-hours, europe-hours, us-hours)"#.to_string(),
            r#"config.toml:10: report.digest.cron: "0 0 25 * * Mon" is not a cron expression (sec min hour day-of-month month day-of-week, e.g. "0 0 9 * * Mon"): Hours must be less than 23. ('25' specified.)"#.to_string(),
            r#"config.toml:11: report.digest.route: "leads" is not a [notify.channels] channel (defined: support)"#.to_string(),
        ]
    );
    let config = Config::parse("config.toml", "[report]\ntype_field = 7\n[report.digest]\nroute = []\n").unwrap();
    let report = &config.report;
    assert_eq!(report.type_field, Some(7));
    // Left out: the default targets and regions, the default tier's zone; no route, no digest.
    assert_eq!(report.targets, slawatch::config::KpiTargets::default());
    let regions: Vec<&str> = report.regions.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(regions, ["apac", "europe", "us"]);
    assert_eq!(report.time_zone, chrono_tz::America::Los_Angeles);
    assert!(report.digest.is_none());
}

#[test]
fn an_admin_listener_beyond_loopback_needs_a_token() {
    assert_eq!(
        one_error("[admin]\nlisten = \"0.0.0.0:9187\"\n"),
        "config.toml:2: admin.listen: 0.0.0.0:9187 is reachable beyond this machine: set admin.token_env (a bearer token) or listen on 127.0.0.1"
    );
    let config = Config::parse(
        "config.toml",
        "[admin]\nlisten = \"0.0.0.0:9187\"\ntoken_env = \"SLAWATCH_ADMIN_TOKEN\"\n",
    )
    .unwrap();
    assert_eq!(config.admin.token_env.as_deref(), Some("SLAWATCH_ADMIN_TOKEN"));
    assert_eq!(config.admin.outbox_stuck_after, std::time::Duration::from_secs(900));
}

#[test]
fn the_container_configuration_is_the_example_with_the_listener_opened_and_the_token_set() {
    // The two edits deploy/docker/Dockerfile makes to config.example.toml.
    let dockerfile = std::fs::read_to_string("deploy/docker/Dockerfile").unwrap();
    assert!(dockerfile.contains(r#"s|^listen = "127.0.0.1:9187"|listen = "0.0.0.0:9187"|"#));
    assert!(dockerfile.contains(r#"s|^# token_env = "SLAWATCH_ADMIN_TOKEN"|token_env = "SLAWATCH_ADMIN_TOKEN"|"#));
    let example = std::fs::read_to_string("config.example.toml").unwrap();
    let container = example
        .replacen("\nlisten = \"127.0.0.1:9187\"", "\nlisten = \"0.0.0.0:9187\"", 1)
        .replacen(
            "\n# token_env = \"SLAWATCH_ADMIN_TOKEN\"",
            "\ntoken_env = \"SLAWATCH_ADMIN_TOKEN\"",
            1,
        );
    let config = Config::parse("container.toml", &container).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.admin.listen.to_string(), "0.0.0.0:9187");
    assert_eq!(config.admin.token_env.as_deref(), Some("SLAWATCH_ADMIN_TOKEN"));
    // And the Kubernetes ConfigMap's configuration.
    let manifest = std::fs::read_to_string("deploy/kubernetes/configmap.yaml").unwrap();
    let toml: String = manifest
        .split_once("config.toml: |\n")
        .unwrap()
        .1
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let config = Config::parse("configmap", &toml).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.zendesk.is_some());
    assert_eq!(config.admin.token_env.as_deref(), Some("SLAWATCH_ADMIN_TOKEN"));
}

#[test]
fn the_log_section_takes_a_format_and_a_level() {
    let config = Config::parse("config.toml", "[log]\nformat = \"json\"\nlevel = \"warn,slawatch=debug\"\n").unwrap();
    assert!(config.log.json);
    assert_eq!(config.log.level, "warn,slawatch=debug");
    assert!(!Config::defaults().log.json);
    assert_eq!(
        one_error("[log]\nformat = \"yaml\"\n"),
        r#"config.toml:2: log.format: "yaml" is not one of "text", "json""#
    );
}

#[test]
fn people_name_slack_members_and_groups_or_the_key_and_line_are_given() {
    let good = "[people]\nslack_users = { \"360000000123\" = \"U024BE7LH\", \"avery@example.com\" = \"W012A3CDE\" }\nslack_groups = { \"4242\" = \"S0614TZR7\" }\n";
    let config = Config::parse("slawatch.toml", good).unwrap();
    assert_eq!(config.people.slack_member(360000000123, None), Some("U024BE7LH"));
    assert_eq!(config.people.slack_member(7, Some("Avery@Example.com")), Some("W012A3CDE"));
    assert_eq!(config.people.groups.get(&4242).map(String::as_str), Some("S0614TZR7"));

    let bad = "[people]\nslack_users = { \"avery\" = \"U024BE7LH\" }\nslack_groups = { \"4242\" = \"@oncall\" }\n";
    let errors = Config::parse("slawatch.toml", bad).unwrap_err().to_string();
    assert!(
        errors.contains("slawatch.toml:2: people.slack_users.avery: \"avery\" is neither a Zendesk user id nor an e-mail address"),
        "{errors}"
    );
    assert!(
        errors.contains("slawatch.toml:3: people.slack_groups.4242: \"@oncall\" is not a Slack user group id (S…)"),
        "{errors}"
    );
}

#[test]
fn the_report_s_documentation_fiscal_year_and_freeze_keys_are_checked_with_their_lines() {
    let toml = r#"[report]
docs_url_prefixes = ["https://docs.example.com", "docs.example.com"]
question_types = ["question"]
fiscal_year_start = "02-30"
freeze_after = "0s"
targets = { documentation = "most" }
"#;
    assert_eq!(
        errors(toml),
        [
            r#"config.toml:2: report.docs_url_prefixes: "docs.example.com" is not a URL such as "https://docs.example.com""#,
            r#"config.toml:4: report.fiscal_year_start: "02-30" is not a month and day such as "02-01" (the 1st to the 28th, so every year has it)"#,
            r#"config.toml:5: report.freeze_after: must be longer than zero"#,
            r#"config.toml:6: report.targets.documentation: "most" is not a percentage such as "95%""#,
        ]
    );
    let config = Config::parse(
        "config.toml",
        "[report]\ndocs_url_prefixes = [\"HTTPS://Docs.Example.com/\"]\nquestion_types = [\"question\"]\nfiscal_year_start = \"02-01\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.report.docs_url_prefixes, ["https://docs.example.com"]);
    assert_eq!(config.report.fiscal_year_start, (2, 1));
    assert_eq!(config.report.freeze_after.0, 7 * 86_400);
    assert_eq!(config.report.targets.documentation, 0.9);
}
