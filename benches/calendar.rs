//! Business-time calculator benchmarks (docs/PERFORMANCE.md has the figures).
//!
//! Everything runs on the default configuration's `business-hours` schedule: the
//! self-hosted one, Mon–Fri 09:00–17:00 America/Los_Angeles, closed 12-24, 12-25
//! and 01-01.
//!
//! - `deadline/{24h,40h,72h}`: `Schedule::deadline` from pseudo-random instants at
//!   any second of 2025–2028 (open, closed, weekends, holidays, both DST sides).
//! - `elapsed/{1h,1w,1mo,1y}`: `Schedule::elapsed` over spans of that length from
//!   the same kind of instants.
//! - `batch/*`: `cli::calc::run_batch` in-process over 1,000,000 generated lines,
//!   parsing and formatting included (what `deadline --batch` / `elapsed --batch`
//!   do after startup, minus the pipe).
//! - `startup/*`: building the configuration and the schedule table, done once.
//!
//! Run with `cargo bench --bench calendar`; figures are elements (questions or
//! lines) per second.

use std::hint::black_box;
use std::io;
use std::time::Duration as StdDuration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use slawatch::cli::calc::{run_batch, Question};
use slawatch::config::Config;
use slawatch::sla::calendar::{Schedule, RANGE_END, RANGE_START};
use slawatch::sla::time::{write_rfc3339, Duration, Timestamp, DAY, HOUR, MINUTE};

/// 2025-01-01T00:00:00Z.
const SPREAD_START: Timestamp = 1_735_689_600;
/// 2029-01-01T00:00:00Z.
const SPREAD_END: Timestamp = 1_861_920_000;

/// How many instants one measured iteration of a single-question benchmark walks through.
const INSTANTS: usize = 10_000;
/// Lines in one in-process batch.
const BATCH_LINES: usize = 1_000_000;

/// SplitMix64: a tiny deterministic generator, so every run measures the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Any second of 2025–2028.
    fn instant(&mut self) -> Timestamp {
        SPREAD_START + self.below((SPREAD_END - SPREAD_START) as u64) as i64
    }
}

fn business_hours(config: &Config) -> &Schedule {
    let policy = &config.policy;
    let id = policy.schedule_id("business-hours").expect("the defaults define business-hours");
    policy.schedule(id)
}

fn instants(seed: u64, n: usize) -> Vec<Timestamp> {
    let mut rng = Rng(seed);
    (0..n).map(|_| rng.instant()).collect()
}

/// Offsets the generated lines are written in: UTC, US, Europe, India, Nepal, Pacific.
const OFFSETS: [i64; 8] = [
    0,
    -8 * HOUR,
    -7 * HOUR,
    -5 * HOUR,
    HOUR,
    5 * HOUR + 30 * MINUTE,
    5 * HOUR + 45 * MINUTE,
    12 * HOUR,
];

/// Appends `at` as RFC 3339 in the given UTC offset, e.g. `2026-03-02T09:30:00-08:00`,
/// or with `Z` for offset zero.
fn write_time(at: Timestamp, offset: i64, out: &mut Vec<u8>) {
    write_rfc3339(at + offset, out);
    if offset == 0 {
        return;
    }
    out.pop(); // the `Z`
    let (sign, magnitude) = if offset < 0 { (b'-', -offset) } else { (b'+', offset) };
    let (h, m) = (magnitude / HOUR, magnitude % HOUR / MINUTE);
    out.push(sign);
    out.extend_from_slice(format!("{h:02}:{m:02}").as_bytes());
}

/// `FROM DURATION` lines: instants over 2025–2028 in mixed offsets, targets of 24h, 40h and 72h.
fn deadline_lines(seed: u64, n: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n * 32);
    for _ in 0..n {
        let offset = OFFSETS[rng.below(OFFSETS.len() as u64) as usize];
        write_time(rng.instant(), offset, &mut out);
        out.extend_from_slice([&b" 24h\n"[..], b" 40h\n", b" 72h\n"][rng.below(3) as usize]);
    }
    out
}

/// `FROM TO` lines: spans from zero up to a year, in mixed offsets.
fn elapsed_lines(seed: u64, n: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n * 56);
    for _ in 0..n {
        let from = rng.instant();
        let to = from + rng.below(365 * DAY as u64) as i64;
        write_time(from, OFFSETS[rng.below(OFFSETS.len() as u64) as usize], &mut out);
        out.push(b' ');
        write_time(to, OFFSETS[rng.below(OFFSETS.len() as u64) as usize], &mut out);
        out.push(b'\n');
    }
    out
}

fn deadlines(c: &mut Criterion) {
    let config = Config::defaults();
    let schedule = business_hours(&config);
    let froms = instants(1, INSTANTS);
    let mut group = c.benchmark_group("deadline");
    group.throughput(Throughput::Elements(froms.len() as u64));
    for hours in [24, 40, 72] {
        let target = Duration(hours * HOUR);
        group.bench_with_input(BenchmarkId::from_parameter(format!("{hours}h")), &target, |b, &target| {
            b.iter(|| {
                let target = black_box(target);
                let mut sum = 0i64;
                for &from in &froms {
                    sum = sum.wrapping_add(schedule.deadline(black_box(from), target).expect("in range"));
                }
                sum
            })
        });
    }
    group.finish();
}

fn elapsed(c: &mut Criterion) {
    let config = Config::defaults();
    let schedule = business_hours(&config);
    let froms = instants(2, INSTANTS);
    let mut group = c.benchmark_group("elapsed");
    group.throughput(Throughput::Elements(froms.len() as u64));
    for (name, span) in [("1h", HOUR), ("1w", 7 * DAY), ("1mo", 30 * DAY), ("1y", 365 * DAY)] {
        let pairs: Vec<(Timestamp, Timestamp)> = froms.iter().map(|&from| (from, from + span)).collect();
        group.bench_with_input(BenchmarkId::from_parameter(name), &pairs, |b, pairs| {
            b.iter(|| {
                let mut sum = 0i64;
                for &(from, to) in pairs {
                    sum = sum.wrapping_add(schedule.elapsed(black_box(from), black_box(to)).expect("in range"));
                }
                sum
            })
        });
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let config = Config::defaults();
    let schedule = business_hours(&config);
    let inputs = [
        ("deadline", Question::Deadline, deadline_lines(3, BATCH_LINES)),
        ("elapsed", Question::Elapsed, elapsed_lines(4, BATCH_LINES)),
    ];
    // Every generated line must get an answer, not an error.
    for (name, question, input) in &inputs {
        let mut output = Vec::new();
        run_batch(schedule, *question, &input[..], &mut output).expect("writing to memory");
        let lines = output.split(|&b| b == b'\n').filter(|l| !l.is_empty());
        assert_eq!(lines.clone().count(), BATCH_LINES, "{name}");
        assert!(
            lines.clone().all(|l| !l.starts_with(b"error")),
            "{name}: a generated line was refused"
        );
    }
    let mut group = c.benchmark_group("batch");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(StdDuration::from_secs(5));
    group.throughput(Throughput::Elements(BATCH_LINES as u64));
    for (name, question, input) in &inputs {
        group.bench_with_input(BenchmarkId::from_parameter(name), input, |b, input| {
            b.iter(|| run_batch(schedule, *question, black_box(&input[..]), io::sink()).expect("sink never fails"))
        });
    }
    group.finish();
}

fn startup(c: &mut Criterion) {
    let config = Config::defaults();
    let Schedule::Business(business) = business_hours(&config) else {
        panic!("business-hours is a business schedule");
    };
    let intervals = business.open_intervals(RANGE_START, RANGE_END).len() + 1; // + the sentinel
    let days = ((RANGE_END - RANGE_START) / DAY) as usize;
    eprintln!(
        "business-hours table: {intervals} open intervals x 24 B + {days} UTC days x 4 B = {:.1} KiB",
        (intervals * 24 + days * 4) as f64 / 1024.0
    );
    let hours = business.hours.clone();

    let mut group = c.benchmark_group("startup");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(StdDuration::from_secs(3));
    // The whole configuration: TOML, validation, acknowledgement regexes. Schedule tables are
    // built on first use, so this no longer includes them.
    group.bench_function("config_defaults", |b| b.iter(Config::defaults));
    // The schedule table alone, from already-parsed business hours: built by the first question.
    group.bench_function("business_schedule", |b| {
        b.iter(|| {
            let schedule = Schedule::business(black_box(hours.clone()));
            schedule.is_open(RANGE_START).expect("in range");
            schedule
        })
    });
    group.finish();
}

fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(3))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = deadlines, elapsed, batch, startup
}
criterion_main!(benches);
