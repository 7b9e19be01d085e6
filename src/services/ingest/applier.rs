//! The applier threads' loop (and SQLite's checkpointer beside them): how large a batch each
//! takes, when it lets the acknowledgements go first, and when it looks for work unasked.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::pending::{
    apply_pending_up_to, Applied, APPLY_BATCH_UNCONTENDED, APPLY_BATCH_UNCONTENDED_SQLITE,
};
use super::wake::{Wake, Woken};
use super::Counters;
use crate::db::{wal, Backend, Db};
use crate::services::retention::backlog::CATCH_UP_AT_LEAST_EVERY;

/// How often the applier looks for pending events without being woken.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Events per applier batch: large throughout, a batch's own statements and commit shared by
/// many events. Nothing the acknowledging writer does waits for an applier's transaction: on
/// PostgreSQL its rows are not the appliers', on SQLite it writes the arrivals file while the
/// applier writes the main one (`db::arrivals`). Before that file, SQLite's applier took two
/// events at a time while a burst was acknowledged, each delaying the acknowledgements, and
/// applied the burst afterwards alone (docs/PERFORMANCE.md, twentieth and twenty-fourth
/// sessions).
fn batch_size(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => APPLY_BATCH_UNCONTENDED_SQLITE,
        Backend::Postgres => APPLY_BATCH_UNCONTENDED,
    }
}

/// How long the applier lets waiting acknowledgements go first before it takes its turn.
const YIELD_TO_WRITER: Duration = Duration::from_millis(20);

/// Copies SQLite's committed log pages into the database file beside the writers, so no commit
/// of an acknowledgement or an applier batch pays for it (see [`crate::db::wal`]). Stops with
/// the writer.
pub(super) fn checkpointer(db: &Db, wake: &Wake) {
    while !wake.closed_within(wal::CHECKPOINT_EVERY) {
        if let Err(e) = wal::checkpoint(db) {
            tracing::warn!(error = %e, "checkpointing the SQLite log failed; trying again shortly");
        }
    }
}

pub(super) fn applier(db: &Db, wake: &Wake, counters: &Counters) {
    let backlog = &counters.backlog;
    let mut seen = wake.seen();
    // Since when the retention roll-ups' backlog may have rows this applier has not written:
    // once that is longer than CATCH_UP_AT_LEAST_EVERY, every batch writes some until none is
    // left, however busy the inbox.
    let mut rollups_current_at = Instant::now();
    // The last batch kept its roll-ups back although its claim came back short: the next one
    // writes the backlog.
    let mut catch_up_next = false;
    loop {
        loop {
            // On PostgreSQL acknowledgements first: they are what the platform waits for (and
            // times out on). SQLite's writer does not wait for the applier (`db::arrivals`).
            let since = Instant::now();
            while db.backend() == Backend::Postgres
                && counters.queued.load(Ordering::Acquire) > 0
                && since.elapsed() < YIELD_TO_WRITER
            {
                std::thread::sleep(Duration::from_micros(200));
            }
            let counted = backlog.load(Ordering::Acquire);
            let rollups_due =
                catch_up_next || rollups_current_at.elapsed() >= CATCH_UP_AT_LEAST_EVERY;
            catch_up_next = false;
            match apply_pending_up_to(db, batch_size(db.backend()), rollups_due) {
                Ok(Applied {
                    events: 0,
                    rollup_rows: 0,
                    ..
                }) => {
                    // Nothing pending: no backlog, whatever the count says (others may have
                    // applied some), unless the writer deferred more meanwhile.
                    let _ =
                        backlog.compare_exchange(counted, 0, Ordering::AcqRel, Ordering::Acquire);
                    rollups_current_at = Instant::now();
                    break;
                }
                Ok(applied) => {
                    catch_up_next = applied.catch_up_next;
                    if applied.caught_up && applied.rollup_rows == 0 {
                        rollups_current_at = Instant::now();
                    }
                    let _ = backlog.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                        Some(n.saturating_sub(applied.events))
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "applying pending webhooks failed; retrying shortly");
                    break;
                }
            }
        }
        if wake.wait(&mut seen, SWEEP_EVERY) == Woken::Closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appliers_take_large_batches_on_either_engine() {
        assert_eq!(batch_size(Backend::Sqlite), APPLY_BATCH_UNCONTENDED_SQLITE);
        assert_eq!(batch_size(Backend::Postgres), APPLY_BATCH_UNCONTENDED);
        const { assert!(APPLY_BATCH_UNCONTENDED_SQLITE >= APPLY_BATCH_UNCONTENDED) };
    }
}
