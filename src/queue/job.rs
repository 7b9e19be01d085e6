//! The queue's row: one per unit of background work, enqueued in the same transaction as the
//! change that needs it, claimed by one worker at a time, retried with backoff.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::jobs;
use crate::db::types::JobStatus;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: String,
    pub shop_id: String,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    #[diesel(deserialize_as = String)]
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    /// A claimed job's lease; a worker that died lets it lapse and another worker takes the job.
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct NewJob {
    pub id: String,
    pub shop_id: String,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    #[diesel(serialize_as = String)]
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewJob {
    /// Enqueues the job; with a dedupe key, does nothing if the same job is already queued or
    /// running. Returns whether a row was added.
    pub fn enqueue(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(jobs::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted == 1)
    }
}

impl Job {
    /// Claims the next due job (queued and due, or running with a lapsed lease) for `lease`.
    ///
    /// PostgreSQL: `FOR UPDATE SKIP LOCKED`, so many instances claim different jobs without
    /// waiting on each other. SQLite: the caller's `BEGIN IMMEDIATE` already makes this exclusive.
    pub fn claim_next(
        conn: &mut DbConnection,
        now: NaiveDateTime,
        lease_until: NaiveDateTime,
    ) -> QueryResult<Option<Job>> {
        let due = jobs::table
            .filter(
                jobs::status
                    .eq(JobStatus::Queued.as_str())
                    .and(jobs::run_at.le(now))
                    .or(jobs::status
                        .eq(JobStatus::Running.as_str())
                        .and(jobs::locked_until.lt(now))),
            )
            .order(jobs::run_at.asc());
        let job = match conn {
            DbConnection::Postgresql(c) => due
                .select(Job::as_select())
                .for_update()
                .skip_locked()
                .first(c)
                .optional()?,
            DbConnection::Sqlite(c) => due.select(Job::as_select()).first(c).optional()?,
        };
        let Some(job) = job else { return Ok(None) };
        start_running(conn, std::slice::from_ref(&job.id), now, lease_until)?;
        jobs::table
            .find(&job.id)
            .select(Job::as_select())
            .first(conn)
            .map(Some)
    }

    /// Claims up to `limit` more due jobs of `first`'s kind and shop, in the caller's claiming
    /// transaction, for the same lease: jobs that are cheaper together (reading a burst of one
    /// shop's orders: the reads overlap, the results are stored in one transaction) run as one
    /// batch. Each job keeps its own row, attempts and outcome.
    pub fn claim_more_like(
        conn: &mut DbConnection,
        first: &Job,
        limit: usize,
        now: NaiveDateTime,
        lease_until: NaiveDateTime,
    ) -> QueryResult<Vec<Job>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let due = jobs::table
            .filter(jobs::shop_id.eq(&first.shop_id))
            .filter(jobs::kind.eq(&first.kind))
            .filter(jobs::id.ne(&first.id))
            .filter(
                jobs::status
                    .eq(JobStatus::Queued.as_str())
                    .and(jobs::run_at.le(now))
                    .or(jobs::status
                        .eq(JobStatus::Running.as_str())
                        .and(jobs::locked_until.lt(now))),
            )
            .order(jobs::run_at.asc())
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .select(jobs::id);
        let ids: Vec<String> = match conn {
            DbConnection::Postgresql(c) => due.for_update().skip_locked().load(c)?,
            DbConnection::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        start_running(conn, &ids, now, lease_until)?;
        jobs::table
            .filter(jobs::id.eq_any(&ids))
            .order(jobs::run_at.asc())
            .select(Job::as_select())
            .load(conn)
    }

    /// Marks the job done, if `claim` still holds it; returns whether it did.
    ///
    /// Each claim adds one to `attempts`, so the attempt number identifies the claim: a worker
    /// whose lease ran out and was taken over finds its attempt number gone and changes nothing
    /// (the new holder reports the outcome).
    pub fn finish(conn: &mut DbConnection, claim: &Job, now: NaiveDateTime) -> QueryResult<bool> {
        let changed = diesel::update(
            jobs::table
                .filter(jobs::id.eq(&claim.id))
                .filter(jobs::status.eq(JobStatus::Running.as_str()))
                .filter(jobs::attempts.eq(claim.attempts)),
        )
        .set((
            jobs::status.eq(JobStatus::Done.as_str()),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// Records a failed attempt: back to the queue at `retry_at`, or failed for good. Like
    /// [`Job::finish`], only while `claim` still holds the job; returns whether it did.
    pub fn fail(
        conn: &mut DbConnection,
        claim: &Job,
        error: &str,
        retry_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let (status, run_at) = match retry_at {
            Some(at) => (JobStatus::Queued, at),
            None => (JobStatus::Failed, now),
        };
        let changed = diesel::update(
            jobs::table
                .filter(jobs::id.eq(&claim.id))
                .filter(jobs::status.eq(JobStatus::Running.as_str()))
                .filter(jobs::attempts.eq(claim.attempts)),
        )
        .set((
            jobs::status.eq(status.as_str()),
            jobs::run_at.eq(run_at),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(Some(error)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// Extends the lease of a job `claim` still holds (the heartbeat of a long job); returns
    /// whether it still held it.
    pub fn extend_lease(
        conn: &mut DbConnection,
        claim: &Job,
        lease_until: NaiveDateTime,
    ) -> QueryResult<bool> {
        let changed = diesel::update(
            jobs::table
                .filter(jobs::id.eq(&claim.id))
                .filter(jobs::status.eq(JobStatus::Running.as_str()))
                .filter(jobs::attempts.eq(claim.attempts)),
        )
        .set(jobs::locked_until.eq(Some(lease_until)))
        .execute(conn)?;
        Ok(changed == 1)
    }

    pub fn count_by_status(conn: &mut DbConnection, status: JobStatus) -> QueryResult<i64> {
        jobs::table
            .filter(jobs::status.eq(status.as_str()))
            .count()
            .get_result(conn)
    }
}

/// Marks claimed jobs running under the claimer's lease, counting the attempt.
fn start_running(
    conn: &mut DbConnection,
    ids: &[String],
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(jobs::table.filter(jobs::id.eq_any(ids)))
        .set((
            jobs::status.eq(JobStatus::Running.as_str()),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::locked_until.eq(Some(lease_until)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}
