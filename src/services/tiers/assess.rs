//! Evaluating members and storing the outcome: the member's tier, how they hold it, the next
//! review day, and a durable event for every change (and every start of a grace).
//!
//! Many members at once (a review, a program edit) cost four queries per batch rather than per
//! member: lock the batch's rows, load their activity and grants, write only what changed.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::in_list::in_list;
use crate::db::models::{Member, Shop};
use crate::db::schema::{members, tier_events};
use crate::db::{new_id, DbConnection};
use crate::domain::calendar;
use crate::domain::tiers::{
    evaluate, Change, Evaluation, HeldBy, Occasion, TierProgram, TierState,
};
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
///
/// On PostgreSQL a batch is first evaluated without locks and only the members whose tier
/// state would change are locked and evaluated again: a row lock is a write there, and a
/// re-evaluation after an edit mostly finds nothing to change. (SQLite's writer holds the whole
/// database already.)
pub fn assess(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member_ids: &[String],
    occasion: Occasion,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, Change)>> {
    let tiers = program.tier_program();
    let today = today(shop, now);
    let candidates: Vec<String> = match conn {
        DbConnection::Postgresql(_) if member_ids.len() > 1 => {
            let states = read_states(conn, &shop.id, member_ids, false)?;
            evaluate_batch(conn, &shop.id, &tiers, states, today, occasion)?
                .into_iter()
                .filter(|(_, current, outcome)| outcome.state != *current || outcome.grace_started)
                .map(|(id, _, _)| id)
                .collect()
        }
        _ => member_ids.to_vec(),
    };
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let states = read_states(conn, &shop.id, &candidates, true)?;
    let outcomes = evaluate_batch(conn, &shop.id, &tiers, states, today, occasion)?;
    let mut changes = Vec::new();
    // Written together at the end: members that land in the same state share one UPDATE, and
    // the events go in one multi-row INSERT per batch.
    let mut new_states: HashMap<TierState, Vec<String>> = HashMap::new();
    let mut events = Vec::new();
    for (member_id, current, outcome) in outcomes {
        if outcome.grace_started {
            events.push(event(shop, &member_id, &outcome.state, None, now));
        }
        if let Some(change) = outcome.change {
            events.push(event(shop, &member_id, &outcome.state, Some(&change), now));
            effects::tier_changed(conn, shop, &tiers, &member_id, &change, now)?;
            changes.push((member_id.clone(), change));
        }
        if outcome.state != current {
            new_states.entry(outcome.state).or_default().push(member_id);
        }
    }
    store_states(conn, &shop.id, new_states, now)?;
    for chunk in events.chunks(500) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(tier_events::table)
            .values(chunk.to_vec())
            .execute(c))?;
    }
    for e in &events {
        let Some(kind) = mail_kind(&tiers, e) else {
            continue;
        };
        let member = Member::find(conn, &shop.id, &e.member_id)?;
        crate::services::mail::queue(
            conn,
            shop,
            program,
            &member,
            kind,
            &format!("tier_event:{}", e.id),
            serde_json::json!({
                "tier_id": e.to_tier,
                "previous_tier_id": e.from_tier,
                "keep_tier_by": e.review_on,
            }),
            now,
        )?;
    }
    Ok(changes)
}

/// Evaluates each member of the batch against their activity and grants.
fn evaluate_batch(
    conn: &mut DbConnection,
    shop_id: &str,
    tiers: &TierProgram,
    batch: Vec<(String, TierState)>,
    today: NaiveDate,
    occasion: Occasion,
) -> QueryResult<Vec<(String, TierState, Evaluation)>> {
    // Without tiers, only members still holding one need looking at (to take it away).
    let batch: Vec<(String, TierState)> = batch
        .into_iter()
        .filter(|(_, state)| !tiers.levels.is_empty() || state.tier.is_some())
        .collect();
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
    let mut activity = activity::of_members(conn, shop_id, &ids, tiers.basis)?;
    let mut grants = grants::of_members(conn, shop_id, &ids)?;
    Ok(batch
        .into_iter()
        .map(|(id, current)| {
            let mine = activity.remove(&id).unwrap_or_default();
            let granted = grants.remove(&id).unwrap_or_default();
            let outcome = evaluate(tiers, &current, &mine, &granted, today, occasion);
            (id, current, outcome)
        })
        .collect())
}

/// The batch's tier states, with `lock` the rows locked in id order. Only the tier columns are
/// read: a re-evaluation of every member parses no timestamps it does not need.
fn read_states(
    conn: &mut DbConnection,
    shop_id: &str,
    ids: &[String],
    lock: bool,
) -> QueryResult<Vec<(String, TierState)>> {
    let query = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(in_list(members::id, ids))
        .filter(members::merged_into.is_null())
        .order(members::id.asc())
        .select((
            members::id,
            members::tier,
            members::tier_held_by,
            members::tier_review_at,
        ));
    type Row = (String, Option<String>, String, Option<NaiveDate>);
    let rows: Vec<Row> = match conn {
        DbConnection::Postgresql(c) if lock => query.for_no_key_update().load(c)?,
        DbConnection::Postgresql(c) => query.load(c)?,
        DbConnection::Sqlite(c) => query.load(c)?,
    };
    Ok(rows
        .into_iter()
        .map(|(id, tier, held_by, review_at)| {
            let state = TierState {
                tier,
                held_by: HeldBy::parse(&held_by).unwrap_or_default(),
                review_at,
            };
            (id, state)
        })
        .collect())
}

/// Writes the new tier states: on SQLite one `UPDATE … WHERE id IN (…)` per distinct state (the
/// writer holds the database; statements are cheap in process); on PostgreSQL one statement for
/// the whole batch joined to `unnest` of its rows, since each statement is a round trip there
/// and rolling windows give nearly every member a review date of their own.
fn store_states(
    conn: &mut DbConnection,
    shop_id: &str,
    states: HashMap<TierState, Vec<String>>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(c) => {
            use diesel::sql_types::{Array, Date, Nullable, Text, Timestamp};
            let mut ids = Vec::new();
            let mut tiers = Vec::new();
            let mut held = Vec::new();
            let mut reviews = Vec::new();
            for (state, members) in states {
                for id in members {
                    ids.push(id);
                    tiers.push(state.tier.clone());
                    held.push(state.held_by.as_str().to_owned());
                    reviews.push(state.review_at);
                }
            }
            if ids.is_empty() {
                return Ok(());
            }
            diesel::sql_query(
                "UPDATE members AS m SET tier = v.tier, tier_held_by = v.held_by, \
                 tier_review_at = v.review_at, updated_at = $5 \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::date[]) \
                      AS v(id, tier, held_by, review_at) \
                 WHERE m.shop_id = $6 AND m.id = v.id",
            )
            .bind::<Array<Text>, _>(ids)
            .bind::<Array<Nullable<Text>>, _>(tiers)
            .bind::<Array<Text>, _>(held)
            .bind::<Array<Nullable<Date>>, _>(reviews)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(shop_id)
            .execute(c)?;
        }
        DbConnection::Sqlite(c) => {
            for (state, ids) in states {
                diesel::update(
                    members::table
                        .filter(members::shop_id.eq(shop_id))
                        .filter(in_list(members::id, &ids)),
                )
                .set((
                    members::tier.eq(&state.tier),
                    members::tier_held_by.eq(state.held_by.as_str()),
                    members::tier_review_at.eq(state.review_at),
                    members::updated_at.eq(now),
                ))
                .execute(c)?;
            }
        }
    }
    Ok(())
}

/// A change (`Some`) or the start of a grace (`None`: from and to are the kept tier).
/// The mail a tier event sends: up, down, or at risk (a grace began). Moves caused by the owner
/// editing the program send nothing: an edit must not mail the whole customer base.
fn mail_kind(tiers: &TierProgram, e: &NewTierEvent) -> Option<crate::domain::mail::Kind> {
    use crate::domain::mail::Kind;
    let rank = |t: &Option<String>| t.as_deref().and_then(|t| tiers.rank(t));
    match e.reason.as_str() {
        "grace_started" => Some(Kind::TierAtRisk),
        "program_changed" => None,
        _ if rank(&e.to_tier) > rank(&e.from_tier) => Some(Kind::TierUp),
        _ if rank(&e.to_tier) < rank(&e.from_tier) => Some(Kind::TierDown),
        _ => None,
    }
}

fn event(
    shop: &Shop,
    member_id: &str,
    state: &TierState,
    change: Option<&Change>,
    now: NaiveDateTime,
) -> NewTierEvent {
    let (from, to, reason) = match change {
        Some(c) => (c.from.clone(), c.to.clone(), c.reason.as_str()),
        None => (state.tier.clone(), state.tier.clone(), "grace_started"),
    };
    NewTierEvent {
        id: new_id(),
        shop_id: shop.id.clone(),
        member_id: member_id.to_owned(),
        from_tier: from,
        to_tier: to,
        reason: reason.to_owned(),
        review_on: state.review_at,
        at: now,
    }
}
