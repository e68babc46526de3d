//! The calculator, check-config and compact-store commands, run as a user runs them.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn slawatch(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slawatch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn config_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("slawatch-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn check_config_prints_the_resolved_policy_or_the_errors() {
    let out = slawatch(&["check-config", "--config", "config.example.toml"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "business-hours: America/Los_Angeles",
        "mon 09:00-17:00",
        "12-25 every year",
        "sev1 first response: 24h",
        "sev2 resolution: no target",
        "sev2-resolved-within-a-week",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }

    let path = config_file(
        "bad",
        "[schedules.pacific]\ntime_zone = \"America/Los_Angeles\"\nhours.mon = [\"9-17\"]\n",
    );
    let out = slawatch(&["check-config", "--config", path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!("{}:3: schedules.pacific.hours.mon: \"9-17\" is not HH:MM-HH:MM\n", path.display())
    );
}

#[test]
fn check_config_warns_when_the_poll_interval_is_shorter_than_the_exports_allow() {
    let path = config_file(
        "pace",
        "[zendesk]\nsubdomain = \"acme\"\nemail = \"a@b.c\"\ntoken_env = \"T\"\npoll_interval = \"5s\"\n",
    );
    let out = slawatch(&["check-config", "--config", path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "warning: zendesk.poll_interval: 5s is shorter than the exports allow: each poll costs two export requests, \
         and at 10 a minute (zendesk.export_requests_per_minute) polls start at most every 12s; \
         /readyz judges the polls against 12s\n"
    );
}

#[test]
fn deadline_and_elapsed_answer_one_question() {
    // Monday 09:00 PST + 24 business hours = Wednesday 17:00 PST.
    let out = slawatch(
        &[
            "deadline",
            "--config",
            "config.example.toml",
            "--schedule",
            "business-hours",
            "--from",
            "2026-11-30T09:00:00-08:00",
            "--duration",
            "24h",
        ],
        "",
    );
    assert_eq!(
        (out.status.code(), stdout(&out).as_str()),
        (Some(0), "2026-12-03T01:00:00Z\n"),
        "{}",
        stderr(&out)
    );
    // Without --config the built-in defaults apply.
    let out = slawatch(
        &[
            "deadline",
            "--schedule",
            "24x7",
            "--from",
            "2026-11-30T09:00:00Z",
            "--duration",
            "1w",
        ],
        "",
    );
    assert_eq!(stdout(&out), "2026-12-07T09:00:00Z\n");
    let out = slawatch(
        &[
            "elapsed",
            "--schedule",
            "business-hours",
            "--from",
            "2026-11-30T09:00:00-08:00",
            "--to",
            "2026-12-01T10:30:01-08:00",
        ],
        "",
    );
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), "34201\n"));
}

#[test]
fn bad_arguments_get_a_clear_error_and_exit_2() {
    let out = slawatch(
        &[
            "deadline",
            "--schedule",
            "nope",
            "--from",
            "2026-11-30T09:00:00Z",
            "--duration",
            "1h",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: schedule \"nope\" is not defined (defined: 24x7, apac-hours, business-hours, europe-hours, us-hours)\n"
    );
    let out = slawatch(&["deadline", "--schedule", "24x7", "--from", "yesterday", "--duration", "1h"], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: \"yesterday\" is not an RFC 3339 time such as 2026-12-01T09:00:00Z\n"
    );
    let out = slawatch(
        &[
            "deadline",
            "--schedule",
            "24x7",
            "--from",
            "2026-11-30T09:00:00Z",
            "--duration",
            "1.5h",
        ],
        "",
    );
    assert_eq!(
        stderr(&out),
        "error: \"1.5h\" is not a duration such as 90s, 45m, 24h, 1h30m, 3d or 1w\n"
    );
    let out = slawatch(
        &[
            "deadline",
            "--schedule",
            "business-hours",
            "--from",
            "2250-01-01T00:00:00Z",
            "--duration",
            "1h",
        ],
        "",
    );
    assert_eq!(
        stderr(&out),
        "error: 2250-01-01T00:00:00Z is outside the supported range 1970-01-01 to 2199-12-31\n"
    );
}

#[test]
fn batches_answer_every_line_in_order_and_go_on_past_bad_ones() {
    let input = "2026-11-30T09:00:00-08:00 24h\n\
                 not-a-time 1h\n\
                 2026-11-30T09:00:00-08:00 8h\n\
                 2026-11-30T09:00:00-08:00\n\
                 2026-12-24T10:00:00-08:00 1h\r\n\
                 2026-11-30T09:00:00-08:00 1x\n\
                 2026-11-30T09:00:00-08:00   3d";
    let out = slawatch(&["deadline", "--schedule", "business-hours", "--batch"], input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "2026-12-03T01:00:00Z\n\
         error: \"not-a-time\" is not an RFC 3339 time such as 2026-12-01T09:00:00Z\n\
         2026-12-01T01:00:00Z\n\
         error: expected two fields, got \"2026-11-30T09:00:00-08:00\"\n\
         2026-12-28T18:00:00Z\n\
         error: \"1x\" is not a duration such as 90s, 45m, 24h, 1h30m, 3d or 1w\n\
         2026-12-11T01:00:00Z\n"
    );

    let input = "2026-11-30T09:00:00-08:00 2026-12-07T09:00:00-08:00\n2026-12-07T09:00:00-08:00 2026-11-30T09:00:00-08:00\n\nbad\n";
    let out = slawatch(&["elapsed", "--schedule", "business-hours", "--batch"], input);
    assert_eq!(
        stdout(&out),
        "144000\n-144000\nerror: expected two fields, got \"\"\nerror: expected two fields, got \"bad\"\n"
    );
}

#[test]
fn compact_store_rewrites_a_stopped_store_and_refuses_a_running_one() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("slawatch.sled");
    let config = config_file("compact", &format!("[store]\npath = {:?}\n", store_path.display().to_string()));
    let store = slawatch::store::Store::open(&store_path, 1 << 20).unwrap();

    let out = slawatch(&["compact-store", "--config", config.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: store {}: in use by another process (is slawatch already running?)\n",
            store_path.display()
        )
    );

    drop(store);
    let out = slawatch(&["compact-store", "--config", config.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("store {}: ", store_path.display())), "{text}");
    assert!(text.contains(" keys rewritten, ") && text.contains(" MB after"), "{text}");
    // Still a store slawatch opens.
    slawatch::store::Store::open(&store_path, 1 << 20).unwrap();
}
