//! `deadline` and `elapsed`: the business-time calculator, one question or a
//! batch of them on stdin. The batch path parses and formats by hand and
//! writes in large blocks: it is meant for millions of lines.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use crate::config::Config;
use crate::sla::calendar::{CalendarError, Schedule};
use crate::sla::time::{parse_rfc3339_bytes, write_rfc3339, Duration, TimeParseError};

#[derive(Clone, Copy)]
pub enum Question {
    /// `FROM DURATION` → the deadline.
    Deadline,
    /// `FROM TO` → business seconds.
    Elapsed,
}

/// Answers one question (`a`, `b`) or, with `batch`, every line of stdin.
pub fn run(config: &Config, schedule_name: &str, question: Question, a: Option<&str>, b: Option<&str>, batch: bool) -> ExitCode {
    let Some(id) = config.policy.schedule_id(schedule_name) else {
        let known: Vec<&str> = config.policy.schedules.iter().map(|s| s.name.as_str()).collect();
        eprintln!("error: schedule {schedule_name:?} is not defined (defined: {})", known.join(", "));
        return ExitCode::from(2);
    };
    let schedule = config.policy.schedule(id);
    if batch {
        return match run_batch(schedule, question, io::stdin().lock(), io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut out = Vec::with_capacity(32);
    match answer(
        schedule,
        question,
        a.unwrap_or_default().as_bytes(),
        b.unwrap_or_default().as_bytes(),
        &mut out,
    ) {
        Ok(()) => {
            out.push(b'\n');
            let _ = io::stdout().write_all(&out);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error(transparent)]
    Parse(#[from] TimeParseError),
    #[error("expected two fields, got {0:?}")]
    Fields(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn answer(schedule: &Schedule, question: Question, a: &[u8], b: &[u8], out: &mut Vec<u8>) -> Result<(), LineError> {
    let from = parse_rfc3339_bytes(a).ok_or_else(|| TimeParseError::BadTimestamp(text(a)))?;
    match question {
        Question::Deadline => {
            let duration = Duration::parse_bytes(b).ok_or_else(|| TimeParseError::BadDuration(text(b)))?;
            write_rfc3339(schedule.deadline(from, duration)?, out);
        }
        Question::Elapsed => {
            let to = parse_rfc3339_bytes(b).ok_or_else(|| TimeParseError::BadTimestamp(text(b)))?;
            let seconds = schedule.elapsed(from, to)?;
            out.extend_from_slice(seconds.to_string().as_bytes());
        }
    }
    Ok(())
}

/// Splits a line into exactly two whitespace-separated fields.
fn two_fields(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut fields = line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty());
    let pair = (fields.next()?, fields.next()?);
    fields.next().is_none().then_some(pair)
}

/// Answers each line of `input` on its own line of `output`, in order; a bad
/// line gets `error: …` and the batch goes on.
pub fn run_batch(schedule: &Schedule, question: Question, mut input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    const BLOCK: usize = 1 << 20;
    let mut pending: Vec<u8> = Vec::with_capacity(BLOCK * 2);
    let mut out: Vec<u8> = Vec::with_capacity(BLOCK + 4096);
    let mut eof = false;
    while !eof {
        let start = pending.len();
        pending.resize(start + BLOCK, 0);
        let n = input.read(&mut pending[start..])?;
        pending.truncate(start + n);
        eof = n == 0;
        let mut consumed = 0;
        while let Some(pos) = pending[consumed..].iter().position(|&b| b == b'\n') {
            answer_line(schedule, question, &pending[consumed..consumed + pos], &mut out);
            consumed += pos + 1;
            if out.len() >= BLOCK {
                output.write_all(&out)?;
                out.clear();
            }
        }
        if eof && consumed < pending.len() {
            answer_line(schedule, question, &pending[consumed..], &mut out);
            consumed = pending.len();
        }
        pending.drain(..consumed);
    }
    output.write_all(&out)?;
    output.flush()
}

fn answer_line(schedule: &Schedule, question: Question, line: &[u8], out: &mut Vec<u8>) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mark = out.len();
    let result = match two_fields(line) {
        Some((a, b)) => answer(schedule, question, a, b, out),
        None => Err(LineError::Fields(text(line))),
    };
    if let Err(e) = result {
        out.truncate(mark);
        out.extend_from_slice(b"error: ");
        out.extend_from_slice(e.to_string().as_bytes());
    }
    out.push(b'\n');
}
