//! The applier threads' loop (and SQLite's checkpointer beside them): how large a batch each
//! takes, when it lets the acknowledgements go first, and when it looks for work unasked.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::pending::{
    apply_pending_up_to, Applied, APPLY_BATCH_UNCONTENDED, APPLY_BATCH_UNCONTENDED_SQLITE,
    APPLY_BATCH_WHILE_ACKNOWLEDGING_SQLITE,
};
use super::wake::{Wake, Woken};
use super::{millis, Counters};
use crate::db::{wal, Backend, Db};
use crate::services::retention::backlog::CATCH_UP_AT_LEAST_EVERY;

/// How often the applier looks for pending events without being woken.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// How long the writer must have stored nothing before the appliers take large batches.
const WRITER_QUIET_FOR: Duration = Duration::from_millis(50);

impl Counters {
    /// Events per applier batch now (see [`batch_size`]).
    fn apply_batch_size(&self, backend: Backend) -> usize {
        let quiet_since = self.last_stored.load(Ordering::Acquire);
        let quiet_for = Duration::from_millis(millis().saturating_sub(quiet_since));
        batch_size(self.queued.load(Ordering::Acquire), quiet_for, backend)
    }
}

/// Events per applier batch. On SQLite an acknowledgement waits for the applier's batch to
/// commit, so batches are small while webhooks are being acknowledged and large once none is
/// queued and the writer has stored nothing for [`WRITER_QUIET_FOR`] (the rest of a burst).
/// On PostgreSQL nothing the writer does waits for an applier's transaction, so batches are
/// large throughout: a batch's own statements and commit are shared by eight times as many
/// events while the burst is still arriving (applied ×1.09–1.12, PostgreSQL's CPU per run −10 %;
/// acknowledgements share the two cores with more applying then, ~5,000/s instead of ~6,300/s).
fn batch_size(queued: usize, writer_quiet_for: Duration, backend: Backend) -> usize {
    let writer_quiet = queued == 0 && writer_quiet_for >= WRITER_QUIET_FOR;
    match (writer_quiet, backend) {
        (false, Backend::Sqlite) => APPLY_BATCH_WHILE_ACKNOWLEDGING_SQLITE,
        (true, Backend::Sqlite) => APPLY_BATCH_UNCONTENDED_SQLITE,
        (_, Backend::Postgres) => APPLY_BATCH_UNCONTENDED,
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
    loop {
        loop {
            // Acknowledgements first: they are what the platform waits for (and times out on).
            let since = Instant::now();
            while counters.queued.load(Ordering::Acquire) > 0 && since.elapsed() < YIELD_TO_WRITER {
                std::thread::sleep(Duration::from_micros(200));
            }
            let counted = backlog.load(Ordering::Acquire);
            let rollups_due = rollups_current_at.elapsed() >= CATCH_UP_AT_LEAST_EVERY;
            match apply_pending_up_to(db, counters.apply_batch_size(db.backend()), rollups_due) {
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
    fn the_sqlite_applier_takes_small_batches_while_webhooks_are_acknowledged_and_large_ones_after()
    {
        let quiet = WRITER_QUIET_FOR;
        let just_stored = Duration::ZERO;
        let sqlite = Backend::Sqlite;
        assert_eq!(
            batch_size(1, quiet * 10, sqlite),
            APPLY_BATCH_WHILE_ACKNOWLEDGING_SQLITE,
            "one is queued"
        );
        assert_eq!(
            batch_size(0, just_stored, sqlite),
            APPLY_BATCH_WHILE_ACKNOWLEDGING_SQLITE
        );
        assert_eq!(
            batch_size(0, quiet - Duration::from_millis(1), sqlite),
            APPLY_BATCH_WHILE_ACKNOWLEDGING_SQLITE
        );
        assert_eq!(batch_size(0, quiet, sqlite), APPLY_BATCH_UNCONTENDED_SQLITE);
    }

    #[test]
    fn postgresql_appliers_take_large_batches_throughout() {
        let quiet = WRITER_QUIET_FOR;
        for (queued, quiet_for) in [(1, quiet * 10), (0, Duration::ZERO), (0, quiet)] {
            assert_eq!(
                batch_size(queued, quiet_for, Backend::Postgres),
                APPLY_BATCH_UNCONTENDED
            );
        }
    }
}
