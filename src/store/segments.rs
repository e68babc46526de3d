//! sled's segment size: the write buffer and the unit its log is reclaimed in. sled refuses to
//! open a store with another size than the one it was created with, so a store keeps its own.
//!
//! With sled's default of 512 KiB the file grew without bound under slawatch's writes (a soak of
//! two simulated years: 2,957 MB for 389 MB of live data), while with 8 MiB it stays near what a
//! fresh copy of the same data takes (docs/PERFORMANCE.md § Soak).

use std::path::Path;

/// The segment size of every store created from now on.
pub const SEGMENT_BYTES: usize = 8 << 20;

/// sled's configuration for the store at `path`: its own segment size, or today's for a new one.
/// For the store's own use, and for tests and benchmarks that look at sled's files directly.
pub fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new()
        .path(path)
        .segment_size(existing_segment_size(path).unwrap_or(SEGMENT_BYTES))
}

/// The segment size the store at `path` was created with, from the `conf` file sled writes
/// beside its log (`segment_size: N` lines); `None` for a new store (or a `conf` that cannot
/// be read, which sled itself then reports when opening).
pub fn existing_segment_size(path: &Path) -> Option<usize> {
    let bytes = std::fs::read(path.join("conf")).ok()?;
    String::from_utf8_lossy(&bytes)
        .lines()
        .find_map(|line| line.strip_prefix("segment_size: ")?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_keeps_the_segment_size_it_was_created_with() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(existing_segment_size(dir.path()), None);
        let old = sled::Config::new().path(dir.path()).segment_size(512 * 1024).open().unwrap();
        old.flush().unwrap();
        drop(old);
        assert_eq!(existing_segment_size(dir.path()), Some(512 * 1024));
    }
}
