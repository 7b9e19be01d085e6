//! Many confirmed credits posted together (a customer import's balances): the same lines, keys
//! and cached balances as posting each with [`super::post`] in order, in a few set-based
//! statements per batch instead of a dozen round trips per line.
//!
//! Invariants kept, as `post` keeps them: a key already in the ledger (or earlier in the batch)
//! posts nothing; every credited member's row is locked before its balance is read; a credit that
//! would take the member past `MAX_BALANCE` (held or lifetime) is refused on its own, the others
//! still post; the cached balances move by exactly the lines written, and every line goes through
//! the same hooks (engagement, daily metrics, bonus tier activity) as a line `post` writes.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{bonus_counts_for_tiers, LedgerError, Posted, Posting, WhenShort};
use crate::db::in_list::in_list;
use crate::db::models::{Member, NewLedgerEntry};
use crate::db::schema::{ledger_entries, members};
use crate::db::{new_id, DbConnection};
use crate::domain::outgoing::Topic;
use crate::domain::points::{credit_fits, LedgerKind, LedgerStatus};

/// Rows per multi-row statement: well inside both backends' limits on bound parameters
/// (16 columns a line).
const CHUNK: usize = 500;

/// What every credit of a batch shares: the shop, and the line's kind, reason, source and action.
#[derive(Debug, Clone)]
pub struct Credits {
    pub shop_id: String,
    pub kind: LedgerKind,
    pub reason: Option<String>,
    pub source: String,
    pub action: String,
}

impl Credits {
    /// The posting `post` would have been given for `line`.
    fn posting(&self, line: &NewLedgerEntry) -> Posting {
        Posting {
            shop_id: self.shop_id.clone(),
            member_id: line.member_id.clone(),
            delta: line.delta,
            kind: self.kind,
            status: LedgerStatus::Confirmed,
            reason: self.reason.clone(),
            source: self.source.clone(),
            source_id: line.source_id.clone(),
            action: self.action.clone(),
            detail: None,
            confirms_at: None,
            when_short: WhenShort::Refuse,
        }
    }
}

/// One member's credit; its idempotency key is `{source}:{source_id}:{action}`.
#[derive(Debug, Clone)]
pub struct Credit {
    pub member_id: String,
    /// Points to add (more than 0).
    pub points: i64,
    pub source_id: String,
}

/// Posts `credits` as confirmed lines, each as `post` would have in the order given. Answers one
/// result per credit; a database error fails the whole call (the caller's transaction rolls
/// back). Call inside a write transaction.
pub fn post_credits(
    conn: &mut DbConnection,
    batch: &Credits,
    credits: &[Credit],
    now: NaiveDateTime,
) -> QueryResult<Vec<Result<Posted, LedgerError>>> {
    if credits.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = credits
        .iter()
        .map(|c| format!("{}:{}:{}", batch.source, c.source_id, batch.action))
        .collect();
    // Keys posted before need no lock: importing a file again locks and writes nothing.
    let mut posted = existing_keys(conn, &batch.shop_id, &keys)?;
    let fresh: Vec<(&Credit, &String)> = credits
        .iter()
        .zip(&keys)
        .filter(|(_, key)| !posted.contains(*key))
        .collect();
    let member_ids: Vec<&str> = fresh.iter().map(|(c, _)| c.member_id.as_str()).collect();
    let mut held: HashMap<String, Member> = lock_members(conn, &batch.shop_id, member_ids)?
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    // Read again under the locks: a concurrent poster of one of these keys holds the member's
    // lock while it writes, so what is read now cannot change before commit.
    let fresh_keys: Vec<String> = fresh.iter().map(|(_, key)| (*key).clone()).collect();
    posted.extend(existing_keys(conn, &batch.shop_id, &fresh_keys)?);
    let counts_lifetime = batch.kind.counts_towards_lifetime();
    // Subscribers are told of each line (`points.changed`), with the member as it was before it.
    let tell = crate::services::outgoing::wants(conn, &batch.shop_id, Topic::PointsChanged)?;
    let mut befores = Vec::new();
    let mut results = Vec::with_capacity(credits.len());
    let mut lines = Vec::new();
    for (credit, key) in credits.iter().zip(keys) {
        debug_assert!(credit.points > 0, "a credit adds points");
        if posted.contains(&key) {
            results.push(Ok(Posted::AlreadyPosted));
            continue;
        }
        let member = held
            .get_mut(&credit.member_id)
            .ok_or(diesel::result::Error::NotFound)?;
        let holding = member.points_balance.saturating_add(member.pending_points);
        if !credit_fits(holding, credit.points)
            || (counts_lifetime && !credit_fits(member.lifetime_points, credit.points))
        {
            results.push(Err(LedgerError::BalanceLimit {
                held: holding,
                lifetime: member.lifetime_points,
                credit: credit.points,
            }));
            continue;
        }
        if tell {
            befores.push(member.clone());
        }
        member.points_balance += credit.points;
        if counts_lifetime {
            member.lifetime_points += credit.points;
        }
        let entry_id = new_id();
        lines.push(NewLedgerEntry {
            id: entry_id.clone(),
            shop_id: batch.shop_id.clone(),
            member_id: credit.member_id.clone(),
            delta: credit.points,
            kind: batch.kind.as_str().into(),
            status: LedgerStatus::Confirmed.as_str().into(),
            reason: batch.reason.clone(),
            source: batch.source.clone(),
            source_id: credit.source_id.clone(),
            action: batch.action.clone(),
            idempotency_key: key.clone(),
            detail: None,
            confirms_at: None,
            expires_at: None,
            created_at: now,
            updated_at: now,
        });
        posted.insert(key);
        results.push(Ok(Posted::New {
            entry_id,
            applied: credit.points,
            shortfall: 0,
        }));
    }
    for chunk in lines.chunks(CHUNK) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(ledger_entries::table)
            .values(chunk)
            .execute(c))?;
    }
    add_to_balances(conn, &batch.shop_id, &lines, counts_lifetime, now)?;
    after_lines(conn, batch, &lines, now)?;
    for (line, before) in lines.iter().zip(&befores) {
        let posting = batch.posting(line);
        crate::services::outgoing::points_changed(
            conn, &posting, before, line.delta, &line.id, now,
        )?;
    }
    Ok(results)
}

/// Which of `keys` the shop's ledger holds.
fn existing_keys(
    conn: &mut DbConnection,
    shop_id: &str,
    keys: &[String],
) -> QueryResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(CHUNK) {
        let rows: Vec<String> = ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .filter(in_list(ledger_entries::idempotency_key, chunk))
            .select(ledger_entries::idempotency_key)
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// The members, locked as [`Member::lock`] locks one (in id order, so two batches sharing
/// members cannot deadlock).
fn lock_members(
    conn: &mut DbConnection,
    shop_id: &str,
    mut ids: Vec<&str>,
) -> QueryResult<Vec<Member>> {
    ids.sort_unstable();
    ids.dedup();
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let query = members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(in_list(members::id, chunk))
            .order(members::id.asc());
        found.extend(match conn {
            DbConnection::Postgresql(c) => query
                .select(Member::as_select())
                .for_no_key_update()
                .load(c)?,
            DbConnection::Sqlite(c) => query.select(Member::as_select()).load(c)?,
        });
    }
    Ok(found)
}

/// Adds each member's new lines to their cached balances: one `UPDATE … FROM unnest(…)` on
/// PostgreSQL, one cheap in-process update per member on SQLite.
fn add_to_balances(
    conn: &mut DbConnection,
    shop_id: &str,
    lines: &[NewLedgerEntry],
    counts_lifetime: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for line in lines {
        *sums.entry(line.member_id.clone()).or_default() += line.delta;
    }
    let sums: Vec<(String, i64)> = sums.into_iter().collect();
    match conn {
        DbConnection::Postgresql(c) => {
            use diesel::sql_types::{Array, BigInt, Bool, Text, Timestamp};
            for chunk in sums.chunks(CHUNK) {
                let (ids, deltas): (Vec<String>, Vec<i64>) = chunk.iter().cloned().unzip();
                diesel::sql_query(
                    "UPDATE members SET \
                       points_balance = members.points_balance + credit.points, \
                       lifetime_points = members.lifetime_points \
                         + CASE WHEN $3 THEN credit.points ELSE 0 END, \
                       updated_at = $4 \
                     FROM (SELECT unnest($1::text[]) AS id, unnest($2::bigint[]) AS points) credit \
                     WHERE members.shop_id = $5 AND members.id = credit.id",
                )
                .bind::<Array<Text>, _>(ids)
                .bind::<Array<BigInt>, _>(deltas)
                .bind::<Bool, _>(counts_lifetime)
                .bind::<Timestamp, _>(now)
                .bind::<Text, _>(shop_id)
                .execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for (member_id, points) in sums {
                let lifetime = if counts_lifetime { points } else { 0 };
                diesel::update(
                    members::table
                        .filter(members::shop_id.eq(shop_id))
                        .filter(members::id.eq(&member_id)),
                )
                .set((
                    members::points_balance.eq(members::points_balance + points),
                    members::lifetime_points.eq(members::lifetime_points + lifetime),
                    members::updated_at.eq(now),
                ))
                .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The hooks `post` runs after writing a confirmed line, for each line written here. (For the
/// kinds they ignore, such as imports, they return before touching the database.)
fn after_lines(
    conn: &mut DbConnection,
    batch: &Credits,
    lines: &[NewLedgerEntry],
    now: NaiveDateTime,
) -> QueryResult<()> {
    for line in lines {
        crate::services::retention::metrics_engagement::line_posted(
            conn,
            &batch.shop_id,
            &line.member_id,
            batch.kind,
            now,
        )?;
        crate::services::retention::metrics::ledger_confirmed(
            conn,
            &batch.shop_id,
            now,
            batch.kind.as_str(),
            line.delta,
        )?;
        if super::is_bonus(batch.kind) {
            let posting = batch.posting(line);
            bonus_counts_for_tiers(conn, &posting, line.delta, now).map_err(|e| match e {
                LedgerError::Database(db) => db,
                // The bonus hook only reads and writes; it refuses nothing.
                other => diesel::result::Error::QueryBuilderError(other.to_string().into()),
            })?;
        }
    }
    Ok(())
}
