//! The qualifying activity of members: one row per settled order (or bonus line), holding
//! what still stands of it in every basis, written in the transaction that changed it.
//!
//! A row is rewritten whole from the stored facts (the order row and its ledger lines) each
//! time, never adjusted by a delta: replays, reordered deliveries and several refunds all
//! converge on the same row. It counts once `counts_from` (the end of the order's return
//! window) has passed; the confirmation job flips `counted` for rows that came due.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::PgConnection;

use crate::db::in_list::in_list;
use crate::db::models::{Order, Shop};
use crate::db::schema::{ledger_entries, tier_activity, tier_grants};
use crate::db::DbConnection;
use crate::domain::calendar;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::tiers::{Activity, Basis, Contribution};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tier_activity)]
pub(crate) struct NewActivity {
    pub(crate) shop_id: String,
    source: String,
    member_id: String,
    occurred_on: NaiveDate,
    points: i64,
    spent_minor: i64,
    orders: i64,
    counts_from: NaiveDateTime,
    counted: bool,
    updated_at: NaiveDateTime,
}

/// Writes (or rewrites) one source's contribution. The first write fixes when it counts;
/// later ones only change the amounts (and the member, after a guest merge). Returns whether
/// the row counts: `row.counted` for a new row, the stored flag for one rewritten.
fn upsert(conn: &mut DbConnection, row: &NewActivity) -> QueryResult<bool> {
    // Kept prepared (`db::fixed`): one runs for every order.
    crate::per_backend!(&mut *conn, |c| crate::fixed!(diesel::insert_into(
        tier_activity::table
    )
    .values(row.clone())
    .on_conflict((tier_activity::shop_id, tier_activity::source))
    .do_update()
    .set((
        tier_activity::member_id.eq(&row.member_id),
        tier_activity::points.eq(row.points),
        tier_activity::spent_minor.eq(row.spent_minor),
        tier_activity::orders.eq(row.orders),
        tier_activity::updated_at.eq(row.updated_at),
    ))
    .returning(tier_activity::counted))
    .get_result(c))
}

/// Whether the row of `source` exists, and if so whether it counts already.
fn counted(conn: &mut DbConnection, shop_id: &str, source: &str) -> QueryResult<Option<bool>> {
    tier_activity::table
        .filter(tier_activity::shop_id.eq(shop_id))
        .filter(tier_activity::source.eq(source))
        .select(tier_activity::counted)
        .first::<bool>(conn)
        .optional()
}

/// Brings an order's row up to date from the stored order and its ledger lines. Returns its
/// member when the change counts already (the caller re-evaluates them). `eligible`: whether a
/// paid, non-test order; anything but `Some(true)` only updates a row that exists.
/// `net_points`: what the order's earn and reversal lines sum to, when the caller knows it
/// (it has just written the order's only line); read from the ledger otherwise.
pub fn record_order(
    conn: &mut DbConnection,
    shop: &Shop,
    pending_days: u32,
    order: &Order,
    eligible: Option<bool>,
    net_points: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let Some(member_id) = order.member_id.clone() else {
        return Ok(None);
    };
    let source = format!("order:{}", order.platform_order_id);
    // An eligible order's row is written whatever is there, and the write tells whether it
    // counts; anything else only rewrites a row that exists.
    if eligible != Some(true) && counted(conn, &shop.id, &source)?.is_none() {
        return Ok(None);
    }
    let net_points = match net_points {
        Some(known) => known,
        None => order_net_points(conn, &shop.id, &order.platform_order_id)?,
    };
    let c = Contribution::of_order(
        order.subtotal_minor,
        order.total_minor,
        order.refunded_minor,
        order.cancelled,
        net_points,
    );
    let counts_from = order.placed_at + Duration::days(i64::from(pending_days));
    let row = NewActivity {
        shop_id: shop.id.clone(),
        source: source.clone(),
        member_id: member_id.clone(),
        occurred_on: calendar::local_date(calendar::zone(&shop.timezone), order.placed_at),
        points: c.points,
        spent_minor: c.spent_minor,
        orders: c.orders,
        counts_from,
        counted: counts_from <= now,
        updated_at: now,
    };
    // A row that does not count yet is nothing an assessment reads: in an applier batch on
    // PostgreSQL it is written with the batch's others at its end (`ledger::write_held`, which
    // also writes it before another event of the order reads it, and fails the batch if the
    // row was stored counting already).
    if eligible == Some(true)
        && !row.counted
        && crate::services::ledger::hold_activity(conn, &order.platform_order_id, row.clone())
    {
        return Ok(None);
    }
    let counts = upsert(conn, &row)?;
    Ok(counts.then_some(member_id))
}

/// Writes rows an applier batch held, as [`upsert`] writes each; returns whether one of them
/// counts (it was stored counting already, and an assessment was due).
pub(crate) fn upsert_held(conn: &mut PgConnection, rows: &[NewActivity]) -> QueryResult<bool> {
    use diesel::upsert::excluded;
    let mut any_counts = false;
    // 10 parameters a row: well inside PostgreSQL's limit.
    for chunk in rows.chunks(500) {
        let counted: Vec<bool> = diesel::insert_into(tier_activity::table)
            .values(chunk)
            .on_conflict((tier_activity::shop_id, tier_activity::source))
            .do_update()
            .set((
                tier_activity::member_id.eq(excluded(tier_activity::member_id)),
                tier_activity::points.eq(excluded(tier_activity::points)),
                tier_activity::spent_minor.eq(excluded(tier_activity::spent_minor)),
                tier_activity::orders.eq(excluded(tier_activity::orders)),
                tier_activity::updated_at.eq(excluded(tier_activity::updated_at)),
            ))
            .returning(tier_activity::counted)
            .get_results(conn)?;
        any_counts |= counted.into_iter().any(|c| c);
    }
    Ok(any_counts)
}

/// What an order's earn and reversal lines sum to. An order has a handful of lines; summed here
/// because SQL's SUM of a BIGINT is NUMERIC.
fn order_net_points(
    conn: &mut DbConnection,
    shop_id: &str,
    platform_order_id: &str,
) -> QueryResult<i64> {
    Ok(ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::source.eq("order"))
        .filter(ledger_entries::source_id.eq(platform_order_id))
        .filter(in_list(
            ledger_entries::kind,
            &[LedgerKind::Earn.as_str(), LedgerKind::Reversal.as_str()],
        ))
        .filter(ledger_entries::status.ne(LedgerStatus::Void.as_str()))
        .select(ledger_entries::delta)
        .load::<i64>(conn)?
        .iter()
        .sum())
}

/// Records a bonus line (sign-up, birthday, owner adjustment) under its ledger key; it counts
/// once confirmed. Returns its member when it counts now.
#[expect(
    clippy::too_many_arguments,
    reason = "one row's fields; a struct would only rename them"
)]
pub fn record_bonus(
    conn: &mut DbConnection,
    shop_id: &str,
    timezone: &str,
    member_id: &str,
    ledger_key: &str,
    points: i64,
    counts_from: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let c = Contribution::of_points(points);
    let row = NewActivity {
        shop_id: shop_id.to_owned(),
        source: format!("ledger:{ledger_key}"),
        member_id: member_id.to_owned(),
        occurred_on: calendar::local_date(calendar::zone(timezone), counts_from.min(now)),
        points: c.points,
        spent_minor: 0,
        orders: 0,
        counts_from,
        counted: counts_from <= now,
        updated_at: now,
    };
    upsert(conn, &row)?;
    Ok(row.counted.then(|| member_id.to_owned()))
}

/// Marks the shop's rows whose return window has passed as counting; returns their members.
pub fn count_due(
    conn: &mut DbConnection,
    shop_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let due: Vec<(String, String)> = tier_activity::table
        .filter(tier_activity::shop_id.eq(shop_id))
        .filter(tier_activity::counted.eq(false))
        .filter(tier_activity::counts_from.le(now))
        .select((tier_activity::source, tier_activity::member_id))
        .load(conn)?;
    for chunk in due.chunks(500) {
        let sources: Vec<&str> = chunk.iter().map(|(s, _)| s.as_str()).collect();
        diesel::update(
            tier_activity::table
                .filter(tier_activity::shop_id.eq(shop_id))
                .filter(in_list(tier_activity::source, sources)),
        )
        .set(tier_activity::counted.eq(true))
        .execute(conn)?;
    }
    let mut members: Vec<String> = due.into_iter().map(|(_, m)| m).collect();
    members.sort();
    members.dedup();
    Ok(members)
}

/// The counted activity of each of `member_ids`, in the basis's unit, grouped by member.
pub fn of_members(
    conn: &mut DbConnection,
    shop_id: &str,
    member_ids: &[String],
    basis: Basis,
) -> QueryResult<std::collections::HashMap<String, Vec<Activity>>> {
    let rows: Vec<(String, NaiveDate, i64, i64, i64)> = tier_activity::table
        .filter(tier_activity::shop_id.eq(shop_id))
        .filter(in_list(tier_activity::member_id, member_ids))
        .filter(tier_activity::counted.eq(true))
        .select((
            tier_activity::member_id,
            tier_activity::occurred_on,
            tier_activity::points,
            tier_activity::spent_minor,
            tier_activity::orders,
        ))
        .load(conn)?;
    let mut by_member: std::collections::HashMap<String, Vec<Activity>> = Default::default();
    for (member, on, points, spent_minor, orders) in rows {
        let amount = Contribution {
            points,
            spent_minor,
            orders,
        }
        .in_basis(basis);
        by_member
            .entry(member)
            .or_default()
            .push(Activity { on, amount });
    }
    Ok(by_member)
}

/// Moves a merged guest's activity and grants to the account it was merged into.
pub fn move_to(
    conn: &mut DbConnection,
    shop_id: &str,
    from_member: &str,
    to_member: &str,
) -> QueryResult<usize> {
    diesel::update(
        tier_grants::table
            .filter(tier_grants::shop_id.eq(shop_id))
            .filter(tier_grants::member_id.eq(from_member)),
    )
    .set(tier_grants::member_id.eq(to_member))
    .execute(conn)?;
    diesel::update(
        tier_activity::table
            .filter(tier_activity::shop_id.eq(shop_id))
            .filter(tier_activity::member_id.eq(from_member)),
    )
    .set(tier_activity::member_id.eq(to_member))
    .execute(conn)
}
