//! Each `signed_payload_jwt` is good once. BigCommerce signs one per callback and it stays
//! valid for a day, so without this a leaked load URL (browser history, a proxy's log, a
//! screenshot) would sign its holder in to the admin again until it expires.
//!
//! A use is a row keyed by (store hash, `jti`), inserted in the write transaction of what the
//! payload does: the primary key makes it insert-once across instances (of two concurrent uses
//! exactly one inserts; the other is refused), a refused replay changes nothing, and a use that
//! fails midway rolls back with its row, so the payload was not spent on nothing. The `jti` is
//! per store: BigCommerce's are UUIDs, but one store cannot spend another's.
//!
//! Rows are kept until the payload's `exp` has passed (after which the verifier refuses it
//! anyway) and then deleted by the daily retention job ([`prune_expired`]).

use chrono::{DateTime, Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::bigcommerce_used_payloads as used;
use crate::db::DbConnection;
use crate::platform::bigcommerce::signed_payload::{SignedPayload, LEEWAY_SECS};

/// Records `payload` as used at `now`. False when it already was: the caller must refuse it.
/// Call in the write transaction of what the payload does.
pub fn record(
    conn: &mut DbConnection,
    payload: &SignedPayload,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    // The verifier bounds `exp` to a day from now, so it is always a representable time.
    let expires_at = DateTime::from_timestamp(payload.expires_at, 0)
        .map_or(NaiveDateTime::MAX, |t| t.naive_utc());
    let row = (
        used::store_hash.eq(&payload.store_hash),
        used::jti.eq(&payload.jti),
        used::expires_at.eq(expires_at),
        used::used_at.eq(now),
    );
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(used::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Deletes the uses whose payloads expired before `now`, with the verifier's leeway (a payload
/// is still accepted [`LEEWAY_SECS`] past its `exp`, so its row must outlive that). The rows are
/// of every store, installed or not (an uninstall's own payload is recorded too), which is why
/// any shop's daily run sweeps them all; the others then find nothing through the index on
/// `expires_at`. One statement: there is about one row per control-panel visit and day.
pub fn prune_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let before = now - Duration::seconds(LEEWAY_SECS as i64);
    diesel::delete(used::table.filter(used::expires_at.lt(before))).execute(conn)
}
