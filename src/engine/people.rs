//! Whom an alert mentions, found in Slack: each agent `[people]` does not map is looked up by
//! their Zendesk e-mail (`users.lookupByEmail`) in the background, once a day, so an alert
//! never waits for Slack; an alert before the first answer (or while Slack refuses) names the
//! assignee in words.

use std::sync::Arc;
use std::time::Duration;

use super::engine::Engine;
use crate::sync::lock;

/// How long a lookup's answer (a member, or none) is kept before it is asked again.
const LOOKUP_KEPT_MS: i64 = 86_400_000;
/// Between two lookups: Slack allows `users.lookupByEmail` about 50 a minute.
const LOOKUP_PACE: Duration = Duration::from_millis(1_500);

impl Engine {
    /// The Slack member of an agent, as a lookup found it (None: not looked up, or not in Slack).
    pub(super) fn looked_up_member(&self, agent: u64) -> Option<String> {
        lock(&self.slack_members).get(&agent).and_then(|(member, _)| member.clone())
    }

    /// Looks up every agent with an e-mail that `[people]` does not map and that was not looked
    /// up in the last day; returns how many answers came. Stops at the first refusal (a bad
    /// token refuses every lookup alike), keeping what was found before.
    pub async fn look_up_people(&self) -> usize {
        let Some(slack) = &self.slack else { return 0 };
        let directory = self.directory();
        let mut answered = 0;
        for (&agent, email) in directory.emails.iter() {
            if self.config.people.slack_member(agent, Some(email)).is_some() {
                continue;
            }
            let now_ms = self.clock.now_ms();
            let fresh = lock(&self.slack_members)
                .get(&agent)
                .is_some_and(|(_, at)| now_ms - at < LOOKUP_KEPT_MS);
            if fresh || self.shutdown.is_cancelled() {
                continue;
            }
            let _asking = crate::liveness::waiting(Duration::from_secs(10));
            match slack.member_by_email(email).await {
                Ok(member) => {
                    lock(&self.slack_members).insert(agent, (member, now_ms));
                    answered += 1;
                }
                Err(error) => {
                    tracing::warn!(agent, %error, "cannot look the agent up in Slack; alerts name them in words until it can");
                    break;
                }
            }
            let _ = crate::retry::wait(&self.clock, &self.shutdown, LOOKUP_PACE).await;
        }
        answered
    }
}

/// Looks agents up in Slack now and then (hourly; each answer is kept a day); until shutdown.
pub async fn people_loop(engine: Arc<Engine>) {
    loop {
        let step = crate::liveness::step("looking agents up in Slack");
        engine.look_up_people().await;
        drop(step);
        if crate::retry::wait(&engine.clock, &engine.shutdown, Duration::from_secs(3600))
            .await
            .is_err()
        {
            break;
        }
    }
}
