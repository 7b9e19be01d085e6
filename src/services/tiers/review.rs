//! Time-driven evaluations, in batches so webhooks keep flowing between them: the daily review
//! (grace ends, windows slide, grants end) and the re-evaluation of every member after the
//! owner edits the tiers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::members;
use crate::db::{write_transaction, DbConnection};
use crate::domain::tiers::Occasion;
use crate::services::program::Program;

use super::assess::{assess, today};

/// Members per write transaction: short enough that an order waiting for the write lock
/// (SQLite) or a member's row (PostgreSQL) waits milliseconds, not seconds.
pub const BATCH: i64 = 1000;

/// What a pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub evaluated: usize,
    pub changed: usize,
}

/// The scheduled review: every member whose review day has come.
pub fn review_due(conn: &mut DbConnection, shop: &Shop, now: NaiveDateTime) -> QueryResult<Pass> {
    let program = Program::of(shop);
    let today = today(shop, now);
    let mut pass = Pass::default();
    let mut after = String::new();
    loop {
        let ids: Vec<String> = members::table
            .filter(members::shop_id.eq(&shop.id))
            .filter(members::tier_review_at.le(today))
            .filter(members::id.gt(&after))
            .order(members::id.asc())
            .limit(BATCH)
            .select(members::id)
            .load(conn)?;
        let Some(last) = ids.last().cloned() else {
            return Ok(pass);
        };
        let changes = write_transaction(conn, |c| {
            assess(c, shop, &program, &ids, Occasion::Review, now)
        })?;
        pass.evaluated += ids.len();
        pass.changed += changes.len();
        after = last;
    }
}

/// Re-evaluates every member of the shop against the program now stored (after an edit).
pub fn reevaluate_all(
    conn: &mut DbConnection,
    shop_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Pass> {
    let mut pass = Pass::default();
    let mut after = String::new();
    loop {
        let ids: Vec<String> = members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::merged_into.is_null())
            .filter(members::id.gt(&after))
            .order(members::id.asc())
            .limit(BATCH)
            .select(members::id)
            .load(conn)?;
        let Some(last) = ids.last().cloned() else {
            return Ok(pass);
        };
        let changes = write_transaction(conn, |c| {
            // Read inside the batch's transaction: a second edit made meanwhile applies from
            // the next batch on, and its own pass (queued by that edit) covers the rest.
            let shop = Shop::find(c, shop_id)?;
            let program = Program::of(&shop);
            assess(c, &shop, &program, &ids, Occasion::ProgramChanged, now)
        })?;
        pass.evaluated += ids.len();
        pass.changed += changes.len();
        after = last;
    }
}
