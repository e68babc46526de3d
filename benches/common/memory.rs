//! The process's memory as the kernel counts it, for the benches that report it.

/// A `/proc/self/status` field in KiB: `VmRSS:` (resident now) or `VmHWM:` (the peak).
pub fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
