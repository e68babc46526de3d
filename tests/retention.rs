//! Retention: closed and deleted tickets unchanged for `retain_closed` are compacted away with
//! everything kept for them; open tickets, recent ones and the reports inside the window stay.

mod common;

use common::{t, Harness, ANSWER, SUPPORT_ONLY};
use slawatch::engine::status::open_tickets;

fn report_count(h: &Harness, from: &str, to: &str) -> u64 {
    let report = slawatch::engine::kpis::report(&h.engine.config, &h.engine.store, t(from), t(to), h.clock.now()).unwrap();
    report.tickets_created
}

#[tokio::test]
async fn closed_tickets_older_than_the_retention_go_and_nothing_inside_it_changes() {
    let h = Harness::new(SUPPORT_ONLY).await;
    // November 30, 2026: one ticket closed at once, one deleted, one left open for good.
    let closed = h.ticket("sev1");
    let deleted = h.ticket("sev1");
    let open = h.ticket("sev2");
    h.poll().await;
    h.advance(3600);
    h.sim.add_comment(closed, h.agent, ANSWER, true);
    h.sim.set_status(closed, "closed", h.agent);
    h.sim.delete_ticket(deleted);
    h.poll().await;
    // A year and a bit later: a ticket closed last week.
    h.at("2028-01-10T09:00:00-08:00");
    let recent = h.ticket("sev1");
    h.poll().await;
    h.advance(3600);
    h.sim.add_comment(recent, h.agent, ANSWER, true);
    h.sim.set_status(recent, "closed", h.agent);
    h.poll().await;
    let january = report_count(&h, "2028-01-01T00:00:00-08:00", "2028-02-01T00:00:00-08:00");
    let open_before = open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();

    // The daily job packed 2026's rows long ago: compacting must take the row out of its day.
    assert!(h.engine.pack_kpi_days().unwrap().rows >= 2);
    let removed = h.engine.compact_closed().unwrap();
    assert_eq!(removed, 2, "the closed and the deleted ticket of 2026");
    assert!(h.engine.store.ticket(closed).unwrap().is_none());
    assert!(h.engine.store.ticket(deleted).unwrap().is_none());
    assert!(h.engine.store.alerts_of(closed).unwrap().is_empty());
    assert!(h.engine.store.ticket(open).unwrap().is_some(), "an open ticket stays, however old");
    assert!(h.engine.store.ticket(recent).unwrap().is_some());
    // The old month's closed ticket is gone from its report; the open one stays counted.
    assert_eq!(report_count(&h, "2026-11-01T00:00:00-07:00", "2026-12-01T00:00:00-08:00"), 1);
    // Inside the window nothing moved.
    assert_eq!(report_count(&h, "2028-01-01T00:00:00-08:00", "2028-02-01T00:00:00-08:00"), january);
    let open_after = open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    assert_eq!(open_after, open_before);
    assert_eq!(h.engine.compact_closed().unwrap(), 0, "nothing more to remove");
    // Packed again, the removals folded in: the same counts.
    assert!(h.engine.pack_kpi_days().unwrap().deleted >= 1);
    assert_eq!(report_count(&h, "2026-11-01T00:00:00-07:00", "2026-12-01T00:00:00-08:00"), 1);
    assert_eq!(report_count(&h, "2028-01-01T00:00:00-08:00", "2028-02-01T00:00:00-08:00"), january);
}

#[test]
fn a_retention_shorter_than_a_month_is_refused() {
    let error = slawatch::config::Config::parse("config.toml", "[store]\nretain_closed = \"7d\"\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "config.toml:2: store.retain_closed: \"7d\" is shorter than 32d: a month's report would lose tickets"
    );
}
