//! The retention roll-ups an applier batch moved, kept in `rollup_backlog` to be written later.
//!
//! The roll-ups (customer metrics, spells and day changes, product purchases, the members'
//! purchase facts, engagement days) are the owner's reporting: nothing a shopper sees and
//! nothing an order's application reads. Writing them was a fifth of the applier's time per
//! event (docs/PERFORMANCE.md, twenty-second session). So an applier batch that is still
//! working through a backlog of deliveries (its claim came back full) writes one row per shop
//! instead: the ids of the orders whose rows changed, the members' fact changes in the order they
//! were made, the engaged days. Points, orders and tiers are applied as before. The batch's
//! messages (points and tier mail and the like) are kept in the same row and written with its
//! roll-ups, oldest first: they were a tenth of the applier's time per event while a burst is
//! applied (docs/PERFORMANCE.md, twenty-fifth session), and nothing a shopper's points wait
//! for. Survey mail is written with the batch, as later orders read the survey rows.
//!
//! The rows are written as roll-ups ([`catch_up`]) once a batch's claim comes back short (the
//! inbox is caught up: at the end of a burst, or at once when deliveries arrive one by one): in
//! the applier's next transaction, as that batch keeps its own back too while rows wait, so its
//! events are applied without waiting for the backlog's catch-up (a catch-up of ~2,000 kept-back
//! orders is ~0.1–0.2 s on SQLite; docs/PERFORMANCE.md, twenty-sixth session); and by the
//! applier after [`CATCH_UP_AT_LEAST_EVERY`] however busy it is; several
//! batches' rows are written together, so a customer with orders in many batches is recounted
//! once. Anything that reads or rewrites the roll-ups while applying (a guest claimed by an
//! account, a merge, a redaction) first writes its shop's rows ([`catch_up_shop`], through
//! `rollups::flush`).
//!
//! Writing a row later gives what writing it in its batch gave: an order's roll-ups follow from
//! its row as it is (read again here, so the latest row wins), purchase facts move from what is
//! stored and remember orders by key (a change applied twice or late converges), and engaged
//! days are a set. On PostgreSQL the rows are claimed `FOR UPDATE SKIP LOCKED`, so two instances
//! write different ones; the roll-ups take their own per-customer locks as they did in a batch.
//! A row that cannot be written (its JSON unreadable, a constraint refusing it) keeps its error
//! and is skipped, so it never blocks the inbox; transient errors roll the batch back whole. The
//! owner sees how many of the shop's rows are set aside in the alerts and puts them back in
//! line once the cause is fixed ([`set_aside_count`], [`retry_set_aside`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::facts::FactChange;
use super::rollups::{Changed, Pending, ShopFacts};
use crate::db::in_list::in_list;
use crate::db::models::Order;
use crate::db::schema::{orders, rollup_backlog, shops};
use crate::db::{is_transient, new_id, now, DbConnection};
use crate::domain::calendar;
use crate::services::mail::Queued;

/// However busy the inbox, the applier writes the backlog at least this often: the owner's
/// figures are never further behind than this under a load that never lets the inbox catch up.
pub const CATCH_UP_AT_LEAST_EVERY: Duration = Duration::from_secs(30);

/// Orders written per catch-up transaction at most (beyond the first row), so an
/// acknowledgement waiting for SQLite's write lock never waits long and a catch-up's memory
/// stays near a batch's. Measured on SQLite after a 20,000-order burst (twenty-second session):
/// 4,096 wrote the backlog in ~1.0 s with a peak of 199–218 MB, 1,024 in ~1.27 s with 173–177 MB
/// (a burst without the backlog: ~155 MB).
pub const CATCH_UP_ORDERS: usize = 2048;

/// Rows looked at per catch-up.
const ROWS_PER_CATCH_UP: i64 = 64;

/// One backlog row's work (the `work` column), as an applier batch collected it for one shop.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct Work {
    /// The orders whose rows changed, with whether their member is an account when the applier
    /// knew it (`None`: read when written).
    #[serde(default)]
    orders: Vec<(String, Option<bool>)>,
    /// The members' purchase-fact changes, in the order they were made.
    #[serde(default)]
    facts: Vec<FactChange>,
    /// When the fact changes were made.
    #[serde(default)]
    facts_at: Option<NaiveDateTime>,
    /// Engaged days by member.
    #[serde(default)]
    engaged: BTreeMap<String, BTreeSet<NaiveDate>>,
    /// The batch's messages (points mail and the like, not survey mail), written with the
    /// roll-ups: nothing a shopper's points wait for.
    #[serde(default)]
    messages: Vec<Queued>,
}

impl Work {
    fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.facts.is_empty()
            && self.engaged.is_empty()
            && self.messages.is_empty()
    }

    /// What bounds a catch-up (the row's `orders`): about one message per order.
    fn units(&self) -> i32 {
        i32::try_from(self.orders.len().max(self.messages.len())).unwrap_or(i32::MAX)
    }
}

/// Keeps what a batch collected, and the messages it keeps back, as backlog rows, one per shop,
/// in the batch's transaction.
pub(super) fn defer(
    conn: &mut DbConnection,
    pending: Pending,
    messages: Vec<Queued>,
) -> QueryResult<()> {
    let mut work: BTreeMap<String, Work> = BTreeMap::new();
    for message in messages {
        work.entry(message.shop_id().to_owned())
            .or_default()
            .messages
            .push(message);
    }
    for ((shop_id, order_id), change) in pending.orders {
        work.entry(shop_id)
            .or_default()
            .orders
            .push((order_id, change.member_is_account));
    }
    for (shop_id, facts) in pending.facts {
        let shop = work.entry(shop_id).or_default();
        shop.facts = facts.changes;
        shop.facts_at = Some(facts.now);
    }
    for (shop_id, days) in pending.engaged {
        work.entry(shop_id).or_default().engaged = days;
    }
    let created_at = now();
    for (shop_id, work) in work.into_iter().filter(|(_, w)| !w.is_empty()) {
        let orders = work.units();
        let json = serde_json::to_string(&work)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        diesel::insert_into(rollup_backlog::table)
            .values((
                rollup_backlog::id.eq(new_id()),
                rollup_backlog::shop_id.eq(&shop_id),
                rollup_backlog::work.eq(json),
                rollup_backlog::orders.eq(orders),
                rollup_backlog::created_at.eq(created_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether any backlog row waits to be written (set-aside rows aside).
pub fn waiting(conn: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        rollup_backlog::table.filter(rollup_backlog::error.is_null()),
    ))
    .get_result(conn)
}

/// Writes the oldest backlog rows of every shop as roll-ups, up to about [`CATCH_UP_ORDERS`]
/// orders, in the caller's transaction; returns how many rows it took (0: nothing waiting).
pub fn catch_up(conn: &mut DbConnection) -> QueryResult<usize> {
    catch_up_some(conn, None, CATCH_UP_ORDERS, None)
}

/// [`catch_up`] ahead of writing `also` (an applier batch's own roll-ups) in the same
/// transaction: the customers of both are locked together (`rollups::write_pending`).
pub(super) fn catch_up_with(conn: &mut DbConnection, also: &Pending) -> QueryResult<usize> {
    catch_up_some(conn, None, CATCH_UP_ORDERS, Some(also))
}

/// Writes every backlog row of the shop as roll-ups, in the caller's transaction: before
/// something reads or rewrites its roll-ups.
pub fn catch_up_shop(conn: &mut DbConnection, shop_id: &str) -> QueryResult<()> {
    while catch_up_some(conn, Some(shop_id), usize::MAX, None)? > 0 {}
    Ok(())
}

fn catch_up_some(
    conn: &mut DbConnection,
    shop: Option<&str>,
    max_orders: usize,
    also: Option<&Pending>,
) -> QueryResult<usize> {
    let heads = claim_heads(conn, shop)?;
    // The oldest rows up to the bound, and always the first.
    let mut taken = Vec::new();
    let mut orders = 0usize;
    for (id, count) in heads {
        let count = usize::try_from(count).unwrap_or(0);
        if !taken.is_empty() && orders + count > max_orders {
            break;
        }
        orders += count;
        taken.push(id);
    }
    if taken.is_empty() {
        return Ok(0);
    }
    let mut rows: Vec<(String, String, String)> = rollup_backlog::table
        .filter(in_list(rollup_backlog::id, &taken))
        .select((
            rollup_backlog::id,
            rollup_backlog::shop_id,
            rollup_backlog::work,
        ))
        .load(conn)?;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut readable = Vec::with_capacity(rows.len());
    for (id, shop_id, json) in rows {
        match serde_json::from_str::<Work>(&json) {
            Ok(work) => readable.push((id, shop_id, work)),
            Err(e) => {
                tracing::error!(error = %e, row = %id, "a retention roll-up backlog row is unreadable; it is set aside");
                set_aside(conn, &[id], &format!("unreadable: {e}"))?;
            }
        }
    }
    let ids: Vec<String> = readable.iter().map(|(id, ..)| id.clone()).collect();
    // In a savepoint: a row the database refuses is set aside, not retried forever.
    let written = conn.transaction(|c| {
        // The shops as they are now, read once for the roll-ups and the mail.
        let zones = zones_of(c, &readable)?;
        let messages = messages_of(&mut readable, &zones);
        let pending = pending_of(c, readable, &zones)?;
        super::rollups::write_pending(c, pending, also)?;
        // Oldest first, as they were queued: of two messages for one occasion the first stays.
        crate::services::mail::write_queued(c, messages)?;
        diesel::delete(rollup_backlog::table.filter(in_list(rollup_backlog::id, &ids))).execute(c)
    });
    match written {
        Ok(_) => Ok(taken.len()),
        Err(e) if is_transient(&e) => Err(e),
        Err(e) => {
            tracing::error!(error = %e, rows = ids.len(), "retention roll-ups could not be written; their backlog rows are set aside");
            set_aside(conn, &ids, &e.to_string())?;
            Ok(taken.len())
        }
    }
}

/// The oldest rows waiting (of the shop, or of every shop): their ids and order counts. On
/// PostgreSQL locked, skipping those another instance is writing.
fn claim_heads(conn: &mut DbConnection, shop: Option<&str>) -> QueryResult<Vec<(String, i32)>> {
    let oldest = rollup_backlog::table
        .filter(rollup_backlog::error.is_null())
        .order(rollup_backlog::id.asc())
        .select((rollup_backlog::id, rollup_backlog::orders))
        .limit(ROWS_PER_CATCH_UP);
    macro_rules! load {
        ($query:expr) => {
            match conn {
                DbConnection::Postgresql(pg) => $query.for_update().skip_locked().load(pg),
                DbConnection::Sqlite(lite) => $query.load(lite),
            }
        };
    }
    match shop {
        Some(shop_id) => load!(oldest.filter(rollup_backlog::shop_id.eq(shop_id))),
        None => load!(oldest),
    }
}

/// How many of the shop's backlog rows are set aside (could not be written): orders missing
/// from the owner's figures until they are retried (`GET /api/admin/v1/alerts`).
pub fn set_aside_count(conn: &mut DbConnection, shop_id: &str) -> QueryResult<i64> {
    rollup_backlog::table
        .filter(rollup_backlog::shop_id.eq(shop_id))
        .filter(rollup_backlog::error.is_not_null())
        .count()
        .get_result(conn)
}

/// Puts the shop's set-aside backlog rows back in line, their errors cleared, once what refused
/// them is fixed: the applier writes them with the rest of the backlog at its next catch-up (at
/// the latest its next sweep while the inbox is idle). A row that fails again is set aside
/// again. Returns how many rows were put back.
pub fn retry_set_aside(conn: &mut DbConnection, shop_id: &str) -> QueryResult<usize> {
    diesel::update(
        rollup_backlog::table
            .filter(rollup_backlog::shop_id.eq(shop_id))
            .filter(rollup_backlog::error.is_not_null()),
    )
    .set(rollup_backlog::error.eq(None::<String>))
    .execute(conn)
}

/// A redaction: drops the messages for `member_ids` from the shop's set-aside rows, which no
/// catch-up writes (and so no erasure of the outbox reaches); their roll-ups stay. A set-aside
/// row that cannot be read and names one of the members is deleted: it could never be written,
/// and it may hold their mail.
pub fn forget_set_aside_messages(
    conn: &mut DbConnection,
    shop_id: &str,
    member_ids: &[String],
) -> QueryResult<()> {
    if member_ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<(String, String)> = rollup_backlog::table
        .filter(rollup_backlog::shop_id.eq(shop_id))
        .filter(rollup_backlog::error.is_not_null())
        .select((rollup_backlog::id, rollup_backlog::work))
        .load(conn)?;
    for (id, json) in rows {
        let Ok(mut work) = serde_json::from_str::<Work>(&json) else {
            if member_ids.iter().any(|m| json.contains(m.as_str())) {
                diesel::delete(rollup_backlog::table.find(&id)).execute(conn)?;
            }
            continue;
        };
        let before = work.messages.len();
        work.messages
            .retain(|m| !member_ids.iter().any(|id| id == m.member_id()));
        if work.messages.len() == before {
            continue;
        }
        let json = serde_json::to_string(&work)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        diesel::update(rollup_backlog::table.find(&id))
            .set((
                rollup_backlog::work.eq(json),
                rollup_backlog::orders.eq(work.units()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn set_aside(conn: &mut DbConnection, ids: &[String], error: &str) -> QueryResult<()> {
    diesel::update(rollup_backlog::table.filter(in_list(rollup_backlog::id, ids)))
        .set(rollup_backlog::error.eq(error))
        .execute(conn)
        .map(|_| ())
}

/// The time zones of the rows' shops that still exist, by shop id.
type Zones = HashMap<String, String>;

fn zones_of(conn: &mut DbConnection, rows: &[(String, String, Work)]) -> QueryResult<Zones> {
    let shop_ids: BTreeSet<&str> = rows.iter().map(|(_, shop, _)| shop.as_str()).collect();
    Ok(shops::table
        .filter(in_list(shops::id, &shop_ids))
        .select((shops::id, shops::timezone))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The messages the rows kept back, taken out of them, oldest row first; those of a shop gone
/// since (not in `zones`) are dropped with it.
fn messages_of(rows: &mut [(String, String, Work)], zones: &Zones) -> Vec<Queued> {
    rows.iter_mut()
        .filter(|(_, shop, _)| zones.contains_key(shop))
        .flat_map(|(_, _, work)| std::mem::take(&mut work.messages))
        .collect()
}

/// The rows' work as the roll-ups take it: each order's row as it is now (an order erased
/// since has nothing to count), the shop's time zone as it is now.
fn pending_of(
    conn: &mut DbConnection,
    rows: Vec<(String, String, Work)>,
    zones: &Zones,
) -> QueryResult<Pending> {
    let order_ids: BTreeSet<&str> = rows
        .iter()
        .flat_map(|(_, _, work)| work.orders.iter().map(|(id, _)| id.as_str()))
        .collect();
    let mut order_rows: HashMap<String, Order> = HashMap::with_capacity(order_ids.len());
    let order_ids: Vec<&str> = order_ids.into_iter().collect();
    for chunk in order_ids.chunks(1024) {
        for order in orders::table
            .filter(in_list(orders::id, chunk))
            .select(Order::as_select())
            .load(conn)?
        {
            order_rows.insert(order.id.clone(), order);
        }
    }
    let mut pending = Pending::default();
    for (_, shop_id, work) in rows {
        // A shop erased since: nothing to count.
        let Some(timezone) = zones.get(&shop_id) else {
            continue;
        };
        let zone = calendar::zone(timezone);
        for (order_id, member_is_account) in work.orders {
            // An order in several rows is counted once, from its row as it is now, with the
            // membership it first counted with (`rollups::keep`).
            let order = match order_rows.remove(&order_id) {
                Some(order) if order.shop_id == shop_id => order,
                Some(_) => continue,
                None => match pending.orders.get(&(shop_id.clone(), order_id)) {
                    Some(kept) => kept.order.clone(),
                    None => continue,
                },
            };
            pending.keep_order(
                &shop_id,
                Changed {
                    order,
                    zone,
                    member_is_account,
                },
            );
        }
        if let Some(at) = work.facts_at {
            let facts = pending
                .facts
                .entry(shop_id.clone())
                .or_insert_with(|| ShopFacts {
                    zone,
                    changes: Vec::new(),
                    now: at,
                });
            facts.now = facts.now.max(at);
            facts.changes.extend(work.facts);
        }
        let engaged = pending.engaged.entry(shop_id).or_default();
        for (member, days) in work.engaged {
            engaged.entry(member).or_default().extend(days);
        }
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::retention::CountedOrder;

    #[test]
    fn a_rows_work_reads_back_as_written() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).expect("a date");
        let work = Work {
            orders: vec![("o1".into(), Some(true)), ("o2".into(), None)],
            facts: vec![FactChange {
                member_id: "m1".into(),
                key: u64::MAX,
                before: None,
                after: CountedOrder::of(day, 1250, 250, false),
            }],
            facts_at: day.and_hms_opt(10, 0, 0),
            engaged: BTreeMap::from([("m1".into(), BTreeSet::from([day]))]),
            messages: vec![message(day)],
        };
        let json = serde_json::to_string(&work).expect("serialises");
        assert_eq!(serde_json::from_str::<Work>(&json).expect("reads"), work);
    }

    /// A points message as a batch keeps it back (its JSON as `Queued` writes it).
    fn message(day: NaiveDate) -> Queued {
        let at = day.and_hms_opt(10, 0, 0).expect("a time");
        let row = crate::db::models::Email {
            id: "e1".into(),
            context: r##"{"order_name":"#1001","points":46}"##.into(),
            ..crate::services::mail::blank(
                "s1",
                "m1",
                crate::domain::mail::Kind::PointsEarned,
                "order:o1",
                "ar",
                at,
            )
        };
        serde_json::from_value(
            serde_json::json!({ "row": row, "check_suppression": "m1@example.com" }),
        )
        .expect("a message")
    }

    #[test]
    fn a_row_missing_parts_reads_as_empty_parts() {
        let work: Work = serde_json::from_str("{}").expect("reads");
        assert!(work.is_empty());
    }
}
