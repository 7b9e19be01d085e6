//! Evaluating members and storing the outcome: the member's tier, how they hold it, the next
//! review day, and a durable event for every change (and every start of a grace).
//!
//! Many members at once (a review, a program edit) cost four queries per batch rather than per
//! member: lock the batch's rows, load their activity and grants, write only what changed.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::{Member, Shop};
use crate::db::schema::{members, tier_events};
use crate::db::{new_id, DbConnection};
use crate::domain::calendar;
use crate::domain::tiers::{evaluate, Change, HeldBy, Occasion, TierState};
use crate::services::program::Program;

use super::{activity, effects, grants};

/// One row of `tier_events`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tier_events)]
struct NewTierEvent {
    id: String,
    shop_id: String,
    member_id: String,
    from_tier: Option<String>,
    to_tier: Option<String>,
    reason: String,
    review_on: Option<NaiveDate>,
    at: NaiveDateTime,
}

/// The member's stored tier state.
pub fn state_of(member: &Member) -> TierState {
    TierState {
        tier: member.tier.clone(),
        held_by: HeldBy::parse(&member.tier_held_by).unwrap_or_default(),
        review_at: member.tier_review_at,
    }
}

/// The shop's calendar day at `now`.
pub fn today(shop: &Shop, now: NaiveDateTime) -> NaiveDate {
    calendar::local_date(calendar::zone(&shop.timezone), now)
}

/// Evaluates `member_ids` (locked here, in id order, so a concurrent order of one of them waits
/// rather than being overwritten by this evaluation's older view). Returns the changes made.
/// Call inside a write transaction.
pub fn assess(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member_ids: &[String],
    occasion: Occasion,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, Change)>> {
    let tiers = program.tier_program();
    let batch = lock(conn, &shop.id, member_ids)?;
    // Without tiers, only members still holding one need looking at (to take it away).
    let batch: Vec<Member> = batch
        .into_iter()
        .filter(|m| !tiers.levels.is_empty() || m.tier.is_some())
        .collect();
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = batch.iter().map(|m| m.id.clone()).collect();
    let mut activity = activity::of_members(conn, &shop.id, &ids, tiers.basis)?;
    let mut grants = grants::of_members(conn, &shop.id, &ids)?;
    let today = today(shop, now);
    let mut changes = Vec::new();
    for member in batch {
        let current = state_of(&member);
        let mine = activity.remove(&member.id).unwrap_or_default();
        let granted = grants.remove(&member.id).unwrap_or_default();
        let outcome = evaluate(&tiers, &current, &mine, &granted, today, occasion);
        if outcome.state != current {
            store_state(conn, &shop.id, &member.id, &outcome.state, now)?;
        }
        if outcome.grace_started {
            record(conn, shop, &member.id, &outcome.state, None, now)?;
        }
        if let Some(change) = outcome.change {
            record(conn, shop, &member.id, &outcome.state, Some(&change), now)?;
            effects::tier_changed(conn, shop, &tiers, &member.id, &change, now)?;
            changes.push((member.id.clone(), change));
        }
    }
    Ok(changes)
}

fn lock(conn: &mut DbConnection, shop_id: &str, ids: &[String]) -> QueryResult<Vec<Member>> {
    let query = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::id.eq_any(ids))
        .filter(members::merged_into.is_null())
        .order(members::id.asc());
    match conn {
        DbConnection::Postgresql(c) => query
            .select(Member::as_select())
            .for_no_key_update()
            .load(c),
        DbConnection::Sqlite(c) => query.select(Member::as_select()).load(c),
    }
}

fn store_state(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    state: &TierState,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::id.eq(member_id)),
    )
    .set((
        members::tier.eq(&state.tier),
        members::tier_held_by.eq(state.held_by.as_str()),
        members::tier_review_at.eq(state.review_at),
        members::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

/// A change (`Some`) or the start of a grace (`None`: from and to are the kept tier).
fn record(
    conn: &mut DbConnection,
    shop: &Shop,
    member_id: &str,
    state: &TierState,
    change: Option<&Change>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let (from, to, reason) = match change {
        Some(c) => (c.from.clone(), c.to.clone(), c.reason.as_str()),
        None => (state.tier.clone(), state.tier.clone(), "grace_started"),
    };
    diesel::insert_into(tier_events::table)
        .values(NewTierEvent {
            id: new_id(),
            shop_id: shop.id.clone(),
            member_id: member_id.to_owned(),
            from_tier: from,
            to_tier: to,
            reason: reason.to_owned(),
            review_on: state.review_at,
            at: now,
        })
        .execute(conn)?;
    Ok(())
}
