//! What an applier batch on PostgreSQL holds to its end. First, a new order's award: the lines
//! go in one multi-row insert and their balance moves in one update for all the batch's members,
//! instead of a balance update and a line insert per order (two round trips each). Only on
//! PostgreSQL: on SQLite a statement is a function call, and holding measured slower there
//! (0.93 of the rate posting at once, `docs/PERFORMANCE.md`; the multi-row insert is prepared
//! again every batch). Outside a batch, on SQLite, or when someone is told of each balance
//! (`points.changed` subscribers, whose message carries the balance as it was), the award is
//! posted at once by [`super::post_expecting_new`].
//!
//! An order's tier activity row that does not count yet is held the same way
//! ([`hold_activity`]) and written in one multi-row upsert per batch: assessments read only
//! rows that count, and the write fails the batch if a row was stored counting already.
//!
//! A new order's row is held too ([`hold_order`]) and inserted with the batch's others; the
//! insert fails the batch if one of them was stored meanwhile.
//!
//! Nothing in the batch may read what is held, so it is written ([`write_held`]) before
//! anything reads a balance, an order's row, lines or tier row:
//! - any other posting ([`super::post`]: a reversal, a referral reward) and a guest merge;
//! - a read of a member's orders: their survey count (`nps`), their purchase facts
//!   (`retention::facts`), a referral's checks (`referrals`);
//! - an event about an order whose row, award or tier row is held ([`write_held_for_order`],
//!   before the event reads its member);
//! - anything that is not an order or a refund, and the batch's end (`services::batch`).
//!
//! The member the event read does not see the moves held for its earlier orders in the batch:
//! they are added to it for the limit check and for what follows the line (`line_posted`).
//! The writes check again what `post_expecting_new` checks: a key already in the ledger, or a
//! credit that no longer fits under `MAX_BALANCE` (a concurrent posting moved the member since
//! the read), fails the write, and the batch is rolled back and applied again event by event,
//! where nothing is held.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::PgConnection;

use super::{line_posted, new_line, post_expecting_new, LedgerError, Moved, Posted, Posting};
use crate::db::models::{Member, NewLedgerEntry, NewOrder};
use crate::db::schema::{ledger_entries, orders};
use crate::db::DbConnection;
use crate::domain::outgoing::Topic;
use crate::domain::points::{credit_fits, LedgerStatus, MAX_BALANCE};
use crate::services::batch;
use crate::services::tiers::NewActivity;

/// Rows per multi-row insert: well inside PostgreSQL's limit on bound parameters (17 an order
/// row, 16 a ledger line).
const CHUNK: usize = 500;

/// What an applier batch holds (part of its state, `services::batch`).
#[derive(Debug, Default)]
pub(crate) struct HeldWrites {
    lines: Vec<NewLedgerEntry>,
    /// The sum of each member's held moves, by (shop, member): written in this order, so two
    /// batches lock the members they share in the same order.
    moves: BTreeMap<(String, String), Moved>,
    /// The orders whose row, award or tier row is held, by (shop, platform order id).
    orders: HashSet<(String, String)>,
    /// Orders' tier activity rows that do not count yet (`tiers::activity`).
    activity: Vec<NewActivity>,
    /// New orders' rows (`earn`).
    order_rows: Vec<NewOrder>,
}

impl HeldWrites {
    fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.activity.is_empty() && self.order_rows.is_empty()
    }
}

/// How many of the new orders the open batch holds pass `counts` (none outside a batch): a
/// count of stored orders adds them instead of writing what is held first.
pub(crate) fn held_orders_counting(counts: impl Fn(&NewOrder) -> bool) -> u32 {
    batch::with_state(|s| {
        s.map_or(0, |s| {
            let n = s.held.order_rows.iter().filter(|o| counts(o)).count();
            u32::try_from(n).unwrap_or(u32::MAX)
        })
    })
}

/// Holds a new order's row to the batch's end; false (insert it now) outside a batch or on
/// SQLite.
pub(crate) fn hold_order(conn: &DbConnection, row: &NewOrder) -> bool {
    hold(conn, &row.shop_id, &row.platform_order_id, |held| {
        held.order_rows.push(row.clone());
    })
}

/// Holds an order's tier activity row to the batch's end; false (write it now) outside a batch
/// or on SQLite.
pub(crate) fn hold_activity(
    conn: &DbConnection,
    platform_order_id: &str,
    row: NewActivity,
) -> bool {
    let shop_id = row.shop_id.clone();
    hold(conn, &shop_id, platform_order_id, |held| {
        held.activity.push(row)
    })
}

/// Adds what `add` holds of the order to the open batch (PostgreSQL only); whether it did.
fn hold(
    conn: &DbConnection,
    shop_id: &str,
    platform_order_id: &str,
    add: impl FnOnce(&mut HeldWrites),
) -> bool {
    if !matches!(conn, DbConnection::Postgresql(_)) {
        return false;
    }
    batch::with_state(|s| {
        s.map(|s| {
            s.held
                .orders
                .insert((shop_id.to_owned(), platform_order_id.to_owned()));
            add(&mut s.held);
        })
    })
    .is_some()
}

/// Posts a new order's award as [`post_expecting_new`] does; in an applier batch on PostgreSQL,
/// holds it for the batch's end. `member` is the posting's member as the event read it.
pub fn post_award(
    conn: &mut DbConnection,
    p: &Posting,
    member: &Member,
    now: NaiveDateTime,
) -> Result<Posted, LedgerError> {
    debug_assert_eq!(member.id, p.member_id, "the award's member");
    let holdable = matches!(conn, DbConnection::Postgresql(_))
        && p.delta > 0
        && p.status == LedgerStatus::Pending
        && p.source == "order";
    let member_key = (p.shop_id.clone(), p.member_id.clone());
    // `None`: not holdable, or no batch is open.
    let earlier = holdable
        .then(|| batch::with_state(|s| s.map(|s| s.held.moves.get(&member_key).copied())))
        .flatten();
    let Some(earlier) = earlier else {
        return post_expecting_new(conn, p, now);
    };
    if crate::services::outgoing::wants(conn, &p.shop_id, Topic::PointsChanged)? {
        return post_expecting_new(conn, p, now);
    }
    let before = earlier.unwrap_or_default().added_to(member);
    let moved = Moved::of(p, p.delta);
    let held = before.points_balance.saturating_add(before.pending_points);
    if !credit_fits(held, p.delta)
        || (moved.lifetime > 0 && !credit_fits(before.lifetime_points, p.delta))
    {
        // `post` writes what is held first and refuses the credit as it always does.
        return super::post(conn, p, now);
    }
    let line = new_line(p, p.delta, 0, p.idempotency_key(), now);
    let entry_id = line.id.clone();
    batch::with_state(|s| {
        if let Some(s) = s {
            let held = &mut s.held;
            held.lines.push(line);
            held.orders.insert((p.shop_id.clone(), p.source_id.clone()));
            let sum = held.moves.entry(member_key).or_default();
            *sum = sum.plus(moved);
        }
    });
    line_posted(conn, p, &before, p.delta, &entry_id, now)?;
    Ok(Posted::New {
        entry_id,
        applied: p.delta,
        shortfall: 0,
    })
}

/// Writes what the batch holds if the order's row, award or tier row is among it: an event
/// about the order is about to read them.
pub fn write_held_for_order(
    conn: &mut DbConnection,
    shop_id: &str,
    platform_order_id: &str,
) -> QueryResult<()> {
    let held = batch::with_state(|s| {
        s.is_some_and(|s| {
            s.held
                .orders
                .contains(&(shop_id.to_owned(), platform_order_id.to_owned()))
        })
    });
    if held {
        write_held(conn)?;
    }
    Ok(())
}

/// Writes the awards the open batch holds: the balance moves (one update per shop), then the
/// lines. Fails, writing nothing the caller's transaction keeps, when a line's key is in the
/// ledger or a move no longer fits under `MAX_BALANCE`. Nothing to do outside a batch, nor on
/// SQLite, where nothing is held.
pub fn write_held(conn: &mut DbConnection) -> QueryResult<()> {
    let DbConnection::Postgresql(conn) = conn else {
        return Ok(());
    };
    let held = batch::with_state(|s| s.map(|s| std::mem::take(&mut s.held)));
    let Some(held) = held.filter(|h| !h.is_empty()) else {
        return Ok(());
    };
    let mut stored = 0;
    for chunk in held.order_rows.chunks(CHUNK) {
        stored += diesel::insert_into(orders::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    if stored != held.order_rows.len() {
        return Err(refused("an order held as new was stored meanwhile"));
    }
    let mut by_shop: BTreeMap<&str, Vec<(&str, Moved)>> = BTreeMap::new();
    for ((shop_id, member_id), moved) in &held.moves {
        by_shop
            .entry(shop_id)
            .or_default()
            .push((member_id, *moved));
    }
    let now = crate::db::now();
    for (shop_id, moves) in by_shop {
        let moved = move_balances(conn, shop_id, &moves, now)?;
        if moved != moves.len() {
            return Err(refused(
                "a held award no longer fits under the balance limit (or its member is gone)",
            ));
        }
    }
    let mut inserted = 0;
    for chunk in held.lines.chunks(CHUNK) {
        inserted += diesel::insert_into(ledger_entries::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    if inserted != held.lines.len() {
        return Err(refused("a held award's key is in the ledger already"));
    }
    if crate::services::tiers::upsert_held(conn, &held.activity)? {
        return Err(refused("a held tier row was stored counting already"));
    }
    Ok(())
}

/// The batch is applied again event by event, where nothing is held and each posting says
/// what it found.
fn refused(why: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(
        format!("{why}; the batch is applied again event by event").into(),
    )
}

/// Adds each member's held moves to their balances where they still fit; returns how many
/// members were moved.
fn move_balances(
    conn: &mut PgConnection,
    shop_id: &str,
    moves: &[(&str, Moved)],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::sql_types::{Array, BigInt, Text, Timestamp};
    let ids: Vec<&str> = moves.iter().map(|(id, _)| *id).collect();
    let column = |f: fn(&Moved) -> i64| moves.iter().map(|(_, m)| f(m)).collect::<Vec<_>>();
    // `held + credit <= MAX` written so that nothing can overflow, as `post` checks it. The
    // shop is matched per row (`held.shop_id`), not as a constant: PostgreSQL, which keeps no
    // statistics on shop_id, would take a constant shop for 0.5 % of the members and read all
    // of them through an index starting with shop_id to hash-join the list (every member of a
    // young shop per batch, `db::shop_keys`); with no constant to range over, it probes the
    // primary key once per member.
    let shops = vec![shop_id; ids.len()];
    diesel::sql_query(
        "UPDATE members SET \
           points_balance = members.points_balance + held.spendable, \
           pending_points = members.pending_points + held.pending, \
           lifetime_points = members.lifetime_points + held.lifetime, \
           updated_at = $5 \
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $6::text[]) \
           AS held(id, spendable, pending, lifetime, shop_id) \
         WHERE members.id = held.id AND members.shop_id = held.shop_id \
           AND members.points_balance + members.pending_points \
             <= $7 - (held.spendable + held.pending) \
           AND (held.lifetime = 0 OR members.lifetime_points <= $7 - held.lifetime)",
    )
    .bind::<Array<Text>, _>(ids)
    .bind::<Array<BigInt>, _>(column(|m| m.spendable))
    .bind::<Array<BigInt>, _>(column(|m| m.pending))
    .bind::<Array<BigInt>, _>(column(|m| m.lifetime))
    .bind::<Timestamp, _>(now)
    .bind::<Array<Text>, _>(shops)
    .bind::<BigInt, _>(MAX_BALANCE)
    .execute(conn)
}
