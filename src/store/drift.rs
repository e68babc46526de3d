//! The last state of config drift told to the team, so that a restart neither repeats the
//! message nor forgets one still owed.

use serde::{Deserialize, Serialize};

use super::{decode, encode, Store, StoreError};

const DRIFT_NOTICE: &[u8] = b"drift_notice";

/// Whether drift degraded readiness when last measured, and the channels not yet told of that
/// state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftNotice {
    pub degraded: bool,
    pub owed: Vec<String>,
}

impl Store {
    pub fn drift_notice(&self) -> Result<Option<DriftNotice>, StoreError> {
        match self.meta.get(DRIFT_NOTICE)? {
            None => Ok(None),
            Some(bytes) => decode("drift notice", &bytes).map(Some),
        }
    }

    /// Written to disk before anything is posted: a crash then posts at most once more.
    pub fn set_drift_notice(&self, notice: &DriftNotice) -> Result<(), StoreError> {
        self.meta.insert(DRIFT_NOTICE, encode("drift notice", notice)?)?;
        self.flush()
    }
}
