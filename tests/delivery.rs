//! Delivery under pressure: a slow Zendesk never holds up Slack, a hostile `Retry-After` is
//! clamped, and nothing new goes out once shutdown is asked for.

mod common;

use std::time::{Duration, Instant};

use common::{t, Harness};
use slawatch::engine::alerts::{AlertReport, NOTE_CHANNEL};
use slawatch::retry::MAX_RETRY_AFTER;

const SUPPORT_AND_NOTES: &str = r#"
[notify]
internal_notes = "all"
max_backoff = "5m"
[notify.channels.support]
kind = "slack"
url_env = "UNUSED"
[[notify.routes]]
channels = ["support"]
"#;

/// A sev1 ticket whose 50% warning is decided (and stored) on Tuesday 13:00, not yet delivered.
async fn decided(h: &Harness) -> u64 {
    let id = h.ticket("sev1");
    h.poll().await;
    h.clock.set(t("2026-12-01T13:00:00-08:00"));
    h.engine.decide_due(&mut AlertReport::default()).await.unwrap();
    assert_eq!(h.engine.store.outbox("support").unwrap().len(), 1);
    assert_eq!(h.engine.store.outbox(NOTE_CHANNEL).unwrap().len(), 1);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_zendesk_never_holds_up_slack() {
    let h = Harness::new(SUPPORT_AND_NOTES).await;
    let id = decided(&h).await;
    // Zendesk takes a second to answer anything: the note is slow to write.
    h.sim.set_delay(Duration::from_secs(1));
    let started = Instant::now();
    let note = async {
        h.engine.deliver_channel(NOTE_CHANNEL, &mut AlertReport::default()).await.unwrap();
        started.elapsed()
    };
    let slack = async {
        h.engine.deliver_channel("support", &mut AlertReport::default()).await.unwrap();
        started.elapsed()
    };
    let (note_done, slack_done) = tokio::join!(note, slack);
    assert!(
        slack_done < note_done,
        "Slack at {slack_done:?} waited for the note at {note_done:?}"
    );
    assert_eq!(h.slack.messages().len(), 1);
    assert_eq!(h.sim.comments(id).iter().filter(|c| c["public"] == false).count(), 1);
}

#[tokio::test]
async fn a_huge_retry_after_is_clamped_not_overflowed() {
    let h = Harness::new(SUPPORT_AND_NOTES).await;
    decided(&h).await;
    for hostile in ["18446744073709551615", "99999999999", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        h.slack.set_retry_after(hostile);
        h.slack.fail_next(1, 429);
        let now_ms = h.clock.now_ms();
        let next = h.engine.deliver_channel("support", &mut AlertReport::default()).await.unwrap();
        let next = next.expect("a retry is scheduled");
        let limit = now_ms + MAX_RETRY_AFTER.as_millis() as i64;
        assert!(next > now_ms && next <= limit, "{hostile}: next attempt at {next}, now {now_ms}");
        // The retry comes when it is due, and Slack gets the alert once.
        h.clock.set(next.div_euclid(1000) + 1);
    }
    h.engine.deliver_channel("support", &mut AlertReport::default()).await.unwrap();
    assert_eq!(h.slack.messages().len(), 1);
}

#[tokio::test]
async fn nothing_new_is_sent_once_shutdown_is_asked_for_and_nothing_decided_is_lost() {
    let mut h = Harness::new(SUPPORT_AND_NOTES).await;
    decided(&h).await;
    h.engine.shutdown.cancel();
    let result = h.engine.deliver_all(&mut AlertReport::default()).await;
    assert!(result.is_err_and(|e| e.is_cancelled()));
    assert!(h.slack.messages().is_empty());
    assert_eq!(h.sim.write_count(), 0, "no note written after the signal");
    // After the restart both deliveries are still owed, and go out.
    h.restart().await;
    assert_eq!(h.engine.store.outbox("support").unwrap().len(), 1);
    h.engine.fire_due().await.unwrap();
    assert_eq!(h.slack.messages().len(), 1);
    assert_eq!(h.engine.store.outbox_len(), 0);
}
