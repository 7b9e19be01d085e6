//! Dead letters: jobs that used up their attempts stay `failed` (with the last error) until the
//! owner or the operator retries them (back to the queue, due now, attempts reset) or dismisses
//! them (kept as `dismissed` and pruned with the finished rows). Listing and both changes are
//! scoped to one shop whenever a shop asks, so a shop never sees or touches another's jobs.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::Job;
use crate::db::schema::jobs;
use crate::db::types::JobStatus;
use crate::db::DbConnection;

/// Why a dead letter could not be retried or dismissed.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// No job with this id (of this shop).
    #[error("no such background task")]
    NotFound,
    /// Only a failed job can be retried or dismissed.
    #[error("only a failed background task can be {action}; this one is {status}")]
    NotFailed {
        action: &'static str,
        status: JobStatus,
    },
    /// The same periodic or deduplicated work is already queued or running.
    #[error("the same task is already queued (as {0}); it will run on its own")]
    AlreadyQueued(String),
    /// Running it again cannot help: giving up already settled its outcome.
    #[error("this task cannot run again: {0}")]
    Settled(&'static str),
    #[error(transparent)]
    Database(#[from] DieselError),
}

/// Which jobs a listing or a change may see: one shop's, or (the operator) every shop's.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Shop(&'a str),
    AllShops,
}

/// A page of the jobs in `status`, newest first (ids are time-ordered), after `cursor` (the
/// last id of the previous page). Returns the page and the cursor of the next one, if any.
pub fn page(
    conn: &mut DbConnection,
    scope: Scope<'_>,
    status: JobStatus,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<Job>, Option<String>)> {
    let mut query = jobs::table
        .filter(jobs::status.eq(status.as_str()))
        .order(jobs::id.desc())
        // One more than asked, to know whether there is a next page.
        .limit(limit + 1)
        .select(Job::as_select())
        .into_boxed();
    if let Scope::Shop(shop_id) = scope {
        query = query.filter(jobs::shop_id.eq(shop_id.to_owned()));
    }
    if let Some(after) = cursor {
        query = query.filter(jobs::id.lt(after.to_owned()));
    }
    let mut rows = query.load(conn)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        rows.last().map(|j| j.id.clone())
    } else {
        None
    };
    Ok((rows, next))
}

/// How many of the shop's jobs failed for good and wait for the owner.
pub fn count_failed(conn: &mut DbConnection, shop_id: &str) -> QueryResult<i64> {
    jobs::table
        .filter(jobs::shop_id.eq(shop_id))
        .filter(jobs::status.eq(JobStatus::Failed.as_str()))
        .count()
        .get_result(conn)
}

/// The job `id` within `scope`.
pub fn find(conn: &mut DbConnection, scope: Scope<'_>, id: &str) -> Result<Job, DeadLetterError> {
    let mut query = jobs::table
        .filter(jobs::id.eq(id.to_owned()))
        .select(Job::as_select())
        .into_boxed();
    if let Scope::Shop(shop_id) = scope {
        query = query.filter(jobs::shop_id.eq(shop_id.to_owned()));
    }
    query
        .first(conn)
        .optional()?
        .ok_or(DeadLetterError::NotFound)
}

/// Puts a failed job back in the queue, due at `now`, with its attempts reset; call in a write
/// transaction. `settled` says why a job's kind cannot usefully run again, if it cannot.
pub fn retry(
    conn: &mut DbConnection,
    scope: Scope<'_>,
    id: &str,
    settled: impl Fn(&Job) -> Option<&'static str>,
    now: NaiveDateTime,
) -> Result<Job, DeadLetterError> {
    let job = failed(conn, scope, id, "retried")?;
    if let Some(why) = settled(&job) {
        return Err(DeadLetterError::Settled(why));
    }
    if let Some(key) = &job.dedupe_key {
        // The dedupe index allows one live job per key: say which one instead of a bare conflict.
        let live: Option<String> = jobs::table
            .filter(jobs::shop_id.eq(&job.shop_id))
            .filter(jobs::kind.eq(&job.kind))
            .filter(jobs::dedupe_key.eq(key))
            .filter(jobs::status.eq_any([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]))
            .select(jobs::id)
            .first(conn)
            .optional()?;
        if let Some(live) = live {
            return Err(DeadLetterError::AlreadyQueued(live));
        }
    }
    let changed = diesel::update(
        jobs::table
            .filter(jobs::id.eq(&job.id))
            .filter(jobs::status.eq(JobStatus::Failed.as_str())),
    )
    .set((
        jobs::status.eq(JobStatus::Queued.as_str()),
        jobs::attempts.eq(0),
        jobs::run_at.eq(now),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::updated_at.eq(now),
    ))
    .execute(conn);
    match changed {
        Ok(1) => {}
        // Another retry of the same job (another instance) got there first.
        Ok(_) => return Err(not_failed(conn, &job.id, "retried")),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(DeadLetterError::AlreadyQueued(
                "a job queued at the same moment".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    find(conn, scope, id)
}

/// Marks a failed job `dismissed`: nobody will retry it, so retention prunes it with the
/// finished rows. Call in a write transaction.
pub fn dismiss(
    conn: &mut DbConnection,
    scope: Scope<'_>,
    id: &str,
    now: NaiveDateTime,
) -> Result<Job, DeadLetterError> {
    let job = failed(conn, scope, id, "dismissed")?;
    let changed = diesel::update(
        jobs::table
            .filter(jobs::id.eq(&job.id))
            .filter(jobs::status.eq(JobStatus::Failed.as_str())),
    )
    .set((
        jobs::status.eq(JobStatus::Dismissed.as_str()),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Err(not_failed(conn, &job.id, "dismissed"));
    }
    find(conn, scope, id)
}

/// The job `id` within `scope`, if it is failed.
fn failed(
    conn: &mut DbConnection,
    scope: Scope<'_>,
    id: &str,
    action: &'static str,
) -> Result<Job, DeadLetterError> {
    let job = find(conn, scope, id)?;
    if job.status != JobStatus::Failed {
        return Err(DeadLetterError::NotFailed {
            action,
            status: job.status,
        });
    }
    Ok(job)
}

/// The error for a job that stopped being failed between reading and changing it.
fn not_failed(conn: &mut DbConnection, id: &str, action: &'static str) -> DeadLetterError {
    match jobs::table.find(id).select(Job::as_select()).first(conn) {
        Ok(job) => DeadLetterError::NotFailed {
            action,
            status: job.status,
        },
        Err(DieselError::NotFound) => DeadLetterError::NotFound,
        Err(e) => e.into(),
    }
}
