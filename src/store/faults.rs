//! Faults of the disk under the store, for end-to-end tests of the real binary only, set by
//! `SLAWATCH_TEST_STORE` (read once): `slow:MS` makes every write and flush take MS milliseconds
//! longer (a slow disk); `wedge-when:PATH` makes every write and flush block for ever once PATH
//! exists (the store wedged, as sled 0.34.7's deadlock did). Unset, this costs one load of a
//! static per write.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, PartialEq, Eq)]
enum Fault {
    None,
    Slow(Duration),
    WedgeWhen(PathBuf),
}

fn fault() -> &'static Fault {
    static FAULT: OnceLock<Fault> = OnceLock::new();
    FAULT.get_or_init(|| parse(std::env::var("SLAWATCH_TEST_STORE").ok().as_deref()))
}

fn parse(value: Option<&str>) -> Fault {
    match value.and_then(|v| v.split_once(':')) {
        Some(("slow", ms)) => ms.parse().map_or(Fault::None, |ms| Fault::Slow(Duration::from_millis(ms))),
        Some(("wedge-when", path)) => Fault::WedgeWhen(PathBuf::from(path)),
        _ => Fault::None,
    }
}

/// Called before every write and flush of the store.
pub(super) fn before_write() {
    match fault() {
        Fault::None => {}
        Fault::Slow(d) => std::thread::sleep(*d),
        Fault::WedgeWhen(path) => {
            if path.exists() {
                tracing::warn!("SLAWATCH_TEST_STORE: the store is wedged on purpose");
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_read_from_their_setting() {
        assert_eq!(parse(None), Fault::None);
        assert_eq!(parse(Some("slow:250")), Fault::Slow(Duration::from_millis(250)));
        assert_eq!(parse(Some("wedge-when:/tmp/x")), Fault::WedgeWhen(PathBuf::from("/tmp/x")));
        assert_eq!(parse(Some("slow:soon")), Fault::None);
    }
}
