//! An issue's news is told exactly once everywhere: decided and stored before anything is sent,
//! each destination marked once done, and the note and the GitHub comment looked for before a
//! retry writes them. Killed (the engine dropped and the store reopened) at each step, the
//! world still receives one note, one Slack message and one comment.

mod common;

use common::escalation::*;
use common::Harness;
use slawatch::marker::{self, CommentAbout, NoteAbout};
use slawatch::store::{News, NewsWhat, Owed};

fn news(h: &Harness, id: u64) -> Vec<News> {
    h.engine.store.escalation(id).unwrap().unwrap().requests[0]
        .issue
        .clone()
        .unwrap()
        .news
}

fn slack_saying(h: &Harness, words: &str) -> usize {
    h.slack.messages_for("eng").iter().filter(|m| m.text.contains(words)).count()
}

fn notes_saying(h: &Harness, id: u64, words: &str) -> usize {
    engineering_notes(h, id).iter().filter(|n| n.contains(words)).count()
}

/// Retries are due again (past the 600 s Zendesk's per-ticket limit asks to wait), and one
/// more sync pass.
async fn retry(h: &Harness) {
    h.advance(601);
    h.engine.sync_issues().await.unwrap();
}

#[tokio::test]
async fn killed_after_a_comment_was_decided_before_anything_was_told() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.comment(REPO, 1, "eng-alice", "Reproduced; fix in 4.2.1.");
    // Neither Zendesk nor Slack takes anything for now: the news is decided and stored, nothing
    // is told.
    h.sim.set_ticket_update_limit(Some(0));
    h.slack.set_down(true);
    sync(&h).await;
    let owed = news(&h, id);
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert!(
        owed[0].note.is_owed() && owed[0].channels.iter().all(|d| d.sent_at.is_none()),
        "{owed:?}"
    );
    assert_eq!(notes_saying(&h, id, "eng-alice commented"), 0);

    h.restart().await;
    h.sim.set_ticket_update_limit(None);
    h.slack.set_down(false);
    retry(&h).await;
    for _ in 0..3 {
        sync(&h).await;
    }
    assert_eq!(notes_saying(&h, id, "eng-alice commented"), 1);
    assert_eq!(slack_saying(&h, "eng-alice commented"), 1);
    assert!(news(&h, id).is_empty(), "told everywhere, forgotten");
}

#[tokio::test]
async fn killed_after_the_note_was_written_before_it_was_marked() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.set_open(REPO, 1, false);
    h.sim.set_ticket_update_limit(Some(0));
    sync(&h).await;
    let owed = news(&h, id);
    assert_eq!(owed[0].key, "closed 1");
    // The note landed (as the daemon's API user), but its answer never came back.
    let about = NoteAbout::News {
        repository: REPO.into(),
        issue: 1,
        key: owed[0].key.clone(),
    };
    let landed = format!(
        "slawatch: engineering closed the issue.\n\n{}",
        marker::note_line(&h.engine.account(), &about)
    );
    h.sim.add_comment(id, h.sim.api_user_id(), &landed, false);

    h.restart().await;
    h.sim.set_ticket_update_limit(None);
    retry(&h).await;
    sync(&h).await;
    assert_eq!(
        notes_saying(&h, id, "engineering closed"),
        1,
        "found by its marker, not written again"
    );
    assert_eq!(slack_saying(&h, "engineering closed"), 1);
}

#[tokio::test]
async fn a_marker_someone_else_wrote_does_not_stop_the_note() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.set_open(REPO, 1, false);
    // An agent pastes the marker the close's note will carry into a note of their own.
    let about = NoteAbout::News {
        repository: REPO.into(),
        issue: 1,
        key: "closed 1".into(),
    };
    let pasted = format!("copied from elsewhere\n{}", marker::note_line(&h.engine.account(), &about));
    h.sim.add_comment(id, h.agent, &pasted, false);
    sync(&h).await;
    assert_eq!(notes_saying(&h, id, "slawatch: engineering closed"), 1);
}

#[tokio::test]
async fn slack_down_then_back_tells_the_channel_once_and_the_ticket_once() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.comment(REPO, 1, "eng-alice", "Looking at it.");
    h.slack.set_down(true);
    sync(&h).await;
    assert_eq!(notes_saying(&h, id, "eng-alice commented"), 1, "the note does not wait for Slack");
    h.restart().await;
    retry(&h).await;
    assert_eq!(slack_saying(&h, "eng-alice commented"), 0, "still down");
    h.slack.set_down(false);
    for _ in 0..3 {
        h.advance(600);
        h.engine.sync_issues().await.unwrap();
    }
    assert_eq!(slack_saying(&h, "eng-alice commented"), 1);
    assert_eq!(notes_saying(&h, id, "eng-alice commented"), 1);
}

#[tokio::test]
async fn an_edit_after_a_close_repeats_neither_the_note_nor_the_message() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id) = filed(&mut h).await;
    github.set_open(REPO, 1, false);
    h.sim.set_ticket_update_limit(Some(0));
    sync(&h).await;
    // Engineering edits the closed issue (a comment: its updated_at moves); the close's note
    // is still owed, under a key that does not move with it.
    github.comment(REPO, 1, "eng-alice", "Closing: fixed in 4.2.1.");
    h.sim.set_ticket_update_limit(None);
    h.advance(300 * slawatch::engine::escalate::CLOSED_ISSUE_PACE);
    h.engine.sync_issues().await.unwrap();
    for _ in 0..3 {
        h.advance(300 * slawatch::engine::escalate::CLOSED_ISSUE_PACE);
        h.engine.sync_issues().await.unwrap();
    }
    assert_eq!(notes_saying(&h, id, "engineering closed"), 1);
    assert_eq!(slack_saying(&h, "engineering closed"), 1);
    assert_eq!(notes_saying(&h, id, "eng-alice commented"), 1);
    assert_eq!(slack_saying(&h, "eng-alice commented"), 1);
}

/// An issue filed, its ticket solved, and the issue's comment saying so decided and stored, as
/// the sync pass leaves it just before posting; the marker line that comment carries.
async fn solved_and_decided(h: &mut Harness) -> (slawatch::sim::github::SimGithub, u64, String) {
    let (github, id) = filed(h).await;
    h.sim.set_status(id, "solved", h.agent);
    h.poll().await;
    decide_solved(h, id);
    let line = marker::comment_line(&h.engine.account(), id, 1, CommentAbout::TicketSolved);
    (github, id, line)
}

fn decide_solved(h: &Harness, id: u64) {
    let mut record = h.engine.store.escalation(id).unwrap().unwrap();
    let linked = record.requests[0].issue.as_mut().unwrap();
    linked.told_solved = true;
    linked.news.push(News {
        key: "ticket-solved".into(),
        what: NewsWhat::TicketSolved,
        decided_at: h.clock.now(),
        note: Owed::No,
        channels: vec![],
        comment: Owed::Yes,
        attempts: 0,
        next_attempt_ms: h.clock.now_ms(),
        last_error: None,
    });
    h.engine.store.save_escalation(&record).unwrap();
}

#[tokio::test]
async fn killed_after_github_took_the_solved_comment_before_it_was_marked() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, id, line) = solved_and_decided(&mut h).await;
    // The comment reached GitHub; the answer (or the daemon) did not come back.
    github.comment(REPO, 1, "slawatch-bot", &format!("{line}\nThe customer's ticket was solved."));
    h.restart().await;
    sync(&h).await;
    sync(&h).await;
    assert_eq!(
        github.comments_of(REPO, 1).len(),
        1,
        "found by its marker and author, not posted again"
    );
    assert!(news(&h, id).is_empty());
}

#[tokio::test]
async fn killed_after_the_solved_comment_was_decided_posts_it_once() {
    let mut h = Harness::new(ESCALATION).await;
    let (github, _id, line) = solved_and_decided(&mut h).await;
    // Someone else quoting the marker is not slawatch's comment.
    github.comment(REPO, 1, "eng-alice", &format!("{line}\nquoted"));
    h.restart().await;
    sync(&h).await;
    sync(&h).await;
    let comments = github.comments_of(REPO, 1);
    let own: Vec<_> = comments.iter().filter(|(login, _)| login == "slawatch-bot").collect();
    assert_eq!(own.len(), 1, "{comments:?}");
    assert!(own[0].1.starts_with(&line), "{own:?}");
}
