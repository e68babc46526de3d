//! The digests tree: one record per firing of the digest's cron, written before it is sent and
//! marked (on disk) as each channel gets it.

use super::{decode, encode, DigestRecord, Store, StoreError};
use crate::sla::time::Timestamp;

const DIGEST_SINCE: &[u8] = b"digest_since";
/// The schedule (`kpi::digest::schedule_key`) firings are owed under since `DIGEST_SINCE`.
const DIGEST_SCHEDULE: &[u8] = b"digest_schedule";

fn key(fired_at: Timestamp) -> [u8; 8] {
    fired_at.to_be_bytes()
}

impl Store {
    /// Since when digests are owed: firings before slawatch first ran with a digest are not.
    pub fn digest_since(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .meta
            .get(DIGEST_SINCE)?
            .and_then(|v| v.as_ref().try_into().ok().map(i64::from_be_bytes)))
    }

    /// The schedule the digests are decided under; None before the first digest, and in a store
    /// from before the schedule was kept.
    pub fn digest_schedule(&self) -> Result<Option<String>, StoreError> {
        Ok(self.meta.get(DIGEST_SCHEDULE)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Owes the firings of `schedule` since `since`: both written at once, on disk before it
    /// returns (a crash cannot leave a new schedule with the old one's start).
    pub fn set_digest_schedule(&self, schedule: &str, since: Timestamp) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(DIGEST_SINCE, &since.to_be_bytes());
        batch.insert(DIGEST_SCHEDULE, schedule.as_bytes());
        self.meta.apply_batch(batch)?;
        self.flush()?;
        Ok(())
    }

    /// The digest of the latest firing recorded.
    pub fn latest_digest(&self) -> Result<Option<DigestRecord>, StoreError> {
        match self.digests.last()? {
            None => Ok(None),
            Some((_, bytes)) => decode("latest digest", &bytes).map(Some),
        }
    }

    pub fn digest(&self, fired_at: Timestamp) -> Result<Option<DigestRecord>, StoreError> {
        match self.digests.get(key(fired_at))? {
            None => Ok(None),
            Some(bytes) => decode(&format!("digest {fired_at}"), &bytes).map(Some),
        }
    }

    /// Records a digest unless one is recorded for its firing already; on disk before it
    /// returns. Returns whether it was recorded now.
    pub fn record_digest(&self, record: &DigestRecord) -> Result<bool, StoreError> {
        let bytes = encode(&format!("digest {}", record.fired_at), record)?;
        let inserted = self
            .digests
            .compare_and_swap(key(record.fired_at), None as Option<&[u8]>, Some(bytes))?
            .is_ok();
        self.flush()?;
        Ok(inserted)
    }

    /// Changes a recorded digest; on disk before it returns (a delivery marked sent must stay so).
    pub fn update_digest(&self, fired_at: Timestamp, change: impl Fn(&mut DigestRecord)) -> Result<Option<DigestRecord>, StoreError> {
        let Some(mut record) = self.digest(fired_at)? else {
            return Ok(None);
        };
        change(&mut record);
        self.digests
            .insert(key(fired_at), encode(&format!("digest {fired_at}"), &record)?)?;
        self.flush()?;
        Ok(Some(record))
    }

    /// Digests with a delivery still to make, oldest first.
    pub fn outstanding_digests(&self) -> Result<Vec<DigestRecord>, StoreError> {
        let all: Vec<DigestRecord> = self.read_all(&self.digests, "digest")?;
        Ok(all.into_iter().filter(DigestRecord::is_outstanding).collect())
    }
}
