//! sled 0.34.7 could stop every writer for good in `SegmentAccountant::bump_tip`
//! (spacejam/sled#1412): a file truncation queued on sled's thread pool behind log writes
//! whose threads all waited for the mutex `bump_tip` held while waiting for the truncation.
//! The vendored sled (vendor/sled/README.md) truncates inline instead. This is the
//! reproduction, with sled's public API alone: several trees, three small transactions per
//! id, 1.5 KB values, the id 1000 back deleted as it goes (a sliding window), paced 1 ms
//! every 5 ids with unpaced bursts of 100 ids every 300. A watchdog declares a hang after
//! 6 s without a completed transaction, names it, and ends the process (a hung sled cannot
//! be recovered from within it: the pool is process-wide).
//!
//! `cargo test --test sled_deadlock` runs a short version (4,000 ids, 64 KiB segments, 3-4 s
//! here): a check that the workload runs, truncates the file and keeps the right data. In a
//! debug build the writer is too slow to pile up the IO backlog the hang needs, so it seldom
//! hangs even unpatched (1 run in 20 here). The full one, in release and each run in its own
//! process:
//!
//! ```text
//! SLED_STRESS_RUNS=20 cargo test --release --test sled_deadlock -- --ignored full_runs --nocapture
//! ```
//!
//! (`SLED_STRESS_IDS`, default 48,000, and `SLED_STRESS_SEGMENT_KIB`, default 512, size a run;
//! with `SLED_STRESS_GDB=1` a hung run prints every thread's stack through gdb first.) The
//! published 0.34.7 hung in 12 of 20 such runs here, the patched one in none of 50
//! (docs/PERFORMANCE.md).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

/// No transaction completed for this long: sled is wedged.
const WATCHDOG: Duration = Duration::from_secs(6);
/// The exit code of a process the watchdog ended.
const HANG_EXIT: i32 = 3;
/// The ids kept: each id deletes the one this far back.
const WINDOW: u64 = 1000;
const VALUE_BYTES: usize = 1536;

type TxResult = Result<(), ConflictableTransactionError<()>>;

fn due_key(id: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&(id % 86_400).to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

fn value(id: u64) -> Vec<u8> {
    let mut value = vec![(id % 251) as u8; VALUE_BYTES];
    value[..8].copy_from_slice(&id.to_be_bytes());
    value
}

/// What a run is doing, for the watchdog's report.
const STAGES: [&str; 6] = [
    "writing",
    "checking",
    "flushing",
    "closing (Drop)",
    "reopening",
    "checking the reopened store",
];

/// What a run did.
struct Run {
    ids: u64,
    elapsed: Duration,
    /// The flush after the writes, and the Drop after it.
    flush: Duration,
    close: Duration,
    /// Times the file was seen shorter than before: truncations, the path that hung.
    shrinks: u64,
}

/// Bytes the process has read and written through system calls (`rchar` + `wchar` of
/// /proc/self/io), 0 where that cannot be read.
fn io_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .filter_map(|line| line.strip_prefix("rchar: ").or_else(|| line.strip_prefix("wchar: ")))
        .filter_map(|n| n.trim().parse::<u64>().ok())
        .sum()
}

/// Writes `ids` ids into a store at `dir` with `segment_size`, under the watchdog, checks the
/// window left and reopens the store to check it again. On a hang the watchdog ends the
/// process with `HANG_EXIT`.
///
/// Progress, for the watchdog: a completed transaction while writing; after that (when the
/// final flush drains sled's backlog of log writes, which took up to 21 s here) a byte
/// read or written, as a wedged sled does no IO at all.
fn run(dir: &Path, ids: u64, segment_size: usize) -> Run {
    let progress = Arc::new(AtomicU64::new(0));
    let stage = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let shrinks = Arc::new(AtomicU64::new(0));
    let watchdog = {
        let (progress, stage, done, shrinks) = (progress.clone(), stage.clone(), done.clone(), shrinks.clone());
        let file = dir.join("db");
        thread::spawn(move || {
            let signal = || {
                let stage = stage.load(Ordering::SeqCst);
                (progress.load(Ordering::SeqCst), if stage == 0 { 0 } else { io_bytes() })
            };
            let (mut seen, mut since) = (signal(), Instant::now());
            let mut len = 0;
            while !done.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(20));
                if let Ok(meta) = std::fs::metadata(&file) {
                    if meta.len() < len {
                        shrinks.fetch_add(1, Ordering::SeqCst);
                    }
                    len = meta.len();
                }
                let now = signal();
                if now != seen {
                    (seen, since) = (now, Instant::now());
                } else if since.elapsed() >= WATCHDOG {
                    let transactions = seen.0.min(ids * 3);
                    eprintln!(
                        "HANG: no progress for {} s while {}, after {} of {} ids and {} of the next one's 3 transactions: \
                         sled wedged (its bump_tip deadlock is spacejam/sled#1412)",
                        WATCHDOG.as_secs(),
                        STAGES[stage.load(Ordering::SeqCst) as usize],
                        transactions / 3,
                        ids,
                        transactions % 3,
                    );
                    if std::env::var_os("SLED_STRESS_GDB").is_some() {
                        // Every thread's stack, to see where sled waits.
                        let _ = Command::new("gdb")
                            .args(["-p", &std::process::id().to_string(), "-batch", "-ex", "thread apply all bt"])
                            .status();
                    }
                    std::process::exit(HANG_EXIT);
                }
            }
        })
    };

    // Each stage after the writes counts as progress when it begins.
    let next_stage = || {
        stage.fetch_add(1, Ordering::SeqCst);
        progress.fetch_add(1, Ordering::SeqCst);
    };
    let start = Instant::now();
    let (flush, closing);
    {
        let db = sled::Config::new().path(dir).segment_size(segment_size).open().expect("open");
        write(&db, ids, &progress);
        next_stage();
        check(&db, ids);
        next_stage();
        let flushing = Instant::now();
        db.flush().expect("flush");
        flush = flushing.elapsed();
        next_stage();
        closing = Instant::now();
        // Dropping flushes again: still under the watchdog.
    }
    let close = closing.elapsed();
    let elapsed = start.elapsed();
    next_stage();
    {
        // sled's pool threads can keep the file (and its lock) a moment after the Drop.
        let reopening = Instant::now();
        let db = loop {
            match sled::Config::new().path(dir).segment_size(segment_size).open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") && reopening.elapsed() < WATCHDOG => {
                    thread::sleep(Duration::from_millis(50))
                }
                Err(e) => panic!("reopen: {e}"),
            }
        };
        next_stage();
        check(&db, ids);
    }
    done.store(true, Ordering::SeqCst);
    watchdog.join().expect("watchdog");
    Run {
        ids,
        elapsed,
        flush,
        close,
        shrinks: shrinks.load(Ordering::SeqCst),
    }
}

fn write(db: &sled::Db, ids: u64, progress: &AtomicU64) {
    let tree = |name: &str| db.open_tree(name).expect("open tree");
    let (tickets, index, due, outbox) = (tree("tickets"), tree("index"), tree("due"), tree("outbox"));
    for id in 0..ids {
        let key = id.to_be_bytes();
        let value = value(id);
        // The record and its index entry.
        (&tickets, &index)
            .transaction(|(tickets, index)| -> TxResult {
                tickets.insert(&key, value.as_slice())?;
                index.insert(&key, &due_key(id))?;
                Ok(())
            })
            .expect("transaction 1");
        progress.fetch_add(1, Ordering::SeqCst);
        // Its timer.
        (&due, &index)
            .transaction(|(due, index)| -> TxResult {
                due.insert(&due_key(id), &[])?;
                index.insert(&key, &due_key(id)[..8])?;
                Ok(())
            })
            .expect("transaction 2");
        progress.fetch_add(1, Ordering::SeqCst);
        // An outbox entry, and the id WINDOW back gone from every tree.
        (&tickets, &index, &due, &outbox)
            .transaction(|(tickets, index, due, outbox)| -> TxResult {
                outbox.insert(&key, &value[..64])?;
                if let Some(old) = id.checked_sub(WINDOW) {
                    let old_key = old.to_be_bytes();
                    tickets.remove(&old_key)?;
                    index.remove(&old_key)?;
                    due.remove(&due_key(old))?;
                    outbox.remove(&old_key)?;
                }
                Ok(())
            })
            .expect("transaction 3");
        progress.fetch_add(1, Ordering::SeqCst);
        // Paced, 1 ms every 5 ids, but for a burst of 100 ids every 300.
        if id % 300 >= 100 && id % 5 == 4 {
            thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The last WINDOW ids are there, whole, and nothing older.
fn check(db: &sled::Db, ids: u64) {
    let tickets = db.open_tree("tickets").expect("open tree");
    let first = ids.saturating_sub(WINDOW);
    assert_eq!(tickets.len() as u64, ids - first, "tickets kept");
    for (expected, entry) in (first..ids).zip(tickets.iter()) {
        let (key, stored) = entry.expect("read");
        assert_eq!(key.as_ref(), expected.to_be_bytes(), "ticket key");
        assert_eq!(stored.as_ref(), value(expected).as_slice(), "ticket {expected}");
    }
    for name in ["index", "due", "outbox"] {
        assert_eq!(
            db.open_tree(name).expect("open tree").len() as u64,
            ids - first,
            "{name} entries kept"
        );
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn a_sliding_window_of_small_transactions_never_wedges_sled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = run(dir.path(), 4000, 64 * 1024);
    println!(
        "{} ids in {:.1} s, the file cut {} times",
        run.ids,
        run.elapsed.as_secs_f64(),
        run.shrinks
    );
}

/// One full run, in a process of its own (`full_runs` starts it).
#[test]
#[ignore = "a process of full_runs"]
fn one_full_run() {
    if std::env::var_os("SLED_STRESS_CHILD").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let run = run(
        dir.path(),
        env_or("SLED_STRESS_IDS", 48_000),
        env_or("SLED_STRESS_SEGMENT_KIB", 512) * 1024,
    );
    println!(
        "RUN: {} ids in {:.1} s (the last flush {:.2} s, closing {:.2} s), the file cut {} times",
        run.ids,
        run.elapsed.as_secs_f64(),
        run.flush.as_secs_f64(),
        run.close.as_secs_f64(),
        run.shrinks
    );
}

/// SLED_STRESS_RUNS (default 20) full runs, each in its own process; fails naming the runs
/// that hung.
#[test]
#[ignore = "minutes long: run in release, see the module's comment"]
fn full_runs() {
    let runs: u32 = env_or("SLED_STRESS_RUNS", 20);
    let exe = std::env::current_exe().expect("test binary");
    let mut hangs = Vec::new();
    for n in 1..=runs {
        let mut child = Command::new(&exe)
            .args(["one_full_run", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("SLED_STRESS_CHILD", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a run");
        // The watchdog ends a hung run; this bounds a run whose watchdog could not.
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if started.elapsed() > Duration::from_secs(600) {
                child.kill().expect("kill a stuck run");
                child.wait().expect("reap");
                break None;
            }
            thread::sleep(Duration::from_millis(100));
        };
        let output = child.wait_with_output().expect("output");
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        let line = |prefix: &str| text.lines().find_map(|l| l.find(prefix).map(|at| l[at..].to_owned()));
        match status.and_then(|s| s.code()) {
            Some(0) => println!("run {n}/{runs}: {}", line("RUN: ").unwrap_or_default()),
            Some(HANG_EXIT) => {
                let hang = line("HANG: ").unwrap_or_default();
                println!("run {n}/{runs}: {hang}");
                hangs.push(n);
            }
            other => panic!("run {n}/{runs} failed ({other:?}):\n{text}"),
        }
    }
    println!("{} of {runs} runs hung", hangs.len());
    assert!(
        hangs.is_empty(),
        "{} of {runs} runs hung (runs {hangs:?}): sled's bump_tip deadlock",
        hangs.len()
    );
}

/// `Db::flush()` after a small write: SLED_FLUSH_COUNT (default 500) flushes, each after one
/// 200-byte insert, in a store in SLED_FLUSH_DIR (default the temporary directory); prints the
/// median, p90, p99 and max. With the vendored sled each flush ends in an fdatasync; with the
/// published 0.34.7 (the `[patch.crates-io]` line commented out) in a `sync_file_range`.
///
/// ```text
/// cargo test --release --test sled_deadlock flush_latency -- --ignored --nocapture
/// ```
#[test]
#[ignore = "a measurement: run in release, see docs/PERFORMANCE.md"]
fn flush_latency() {
    let count: usize = env_or("SLED_FLUSH_COUNT", 500);
    let parent = std::env::var_os("SLED_FLUSH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(parent).expect("temp dir");
    let db = sled::Config::new().path(dir.path()).open().expect("open");
    let outbox = db.open_tree("outbox").expect("open tree");
    let mut times = Vec::with_capacity(count);
    for i in 0..count + 20 {
        outbox.insert((i as u64).to_be_bytes(), vec![7; 200]).expect("insert");
        let start = Instant::now();
        db.flush().expect("flush");
        if i >= 20 {
            times.push(start.elapsed());
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "FLUSH: {count} flushes after a 200-byte insert: median {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}
