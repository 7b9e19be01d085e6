//! Applying one batch of import rows in a handful of set-based statements: the members are
//! found or enrolled together, the points posted through the ledger's batch posting, the tiers
//! granted with one query for those granted before and one insert, the birthdays set with one
//! update per date. Every row's fate is decided before anything is written (a row refused by the
//! ledger gets neither its tier nor its birthday), so a refused row leaves nothing behind, as
//! the savepoint per row used to guarantee.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::{Outcome, IMPORTED_TIER_DAYS, IMPORT_MEMBERSHIP};
use crate::db::models::Shop;
use crate::db::schema::{members, tier_grants};
use crate::db::{new_id, DbConnection};
use crate::domain::customer_import::{ImportRow, RowProblem};
use crate::domain::points::LedgerKind;
use crate::domain::tiers::Occasion;
use crate::services::ledger::{self, Credit, Credits, LedgerError, Posted};
use crate::services::program::Program;
use crate::services::tiers;

/// Each row's outcome, in order (`rows`: line numbers and what was read). Call inside a write transaction; a database error fails the
/// batch as a whole.
pub fn apply(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    rows: &[(u64, Result<ImportRow, RowProblem>)],
    now: NaiveDateTime,
) -> QueryResult<Vec<Result<Outcome, RowProblem>>> {
    let readable: Vec<&ImportRow> = rows.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    let members = super::members::resolve_batch(conn, &shop.id, &readable, now)?;
    // The row's fate so far, with its member and key while it is still going.
    let mut fates: Vec<Result<Row, RowProblem>> = Vec::with_capacity(rows.len());
    let mut members = members.into_iter();
    for (_, row) in rows {
        fates.push(match row {
            Err(problem) => Err(problem.clone()),
            Ok(row) => {
                let member = members.next().ok_or(diesel::result::Error::NotFound)?;
                if member.redacted_at.is_some() || member.merged_into.is_some() {
                    Err(RowProblem::Erased)
                } else {
                    Ok(Row {
                        key: format!("{}:{}", member.id, row.key()),
                        member_id: member.id,
                        member_birthday: member.birthday,
                        row,
                        changed: false,
                    })
                }
            }
        });
    }
    post_points(conn, shop, &mut fates, now)?;
    grant_tiers(conn, shop, program, &mut fates, now)?;
    set_birthdays(conn, shop, &mut fates, now)?;
    Ok(fates
        .into_iter()
        .map(|fate| {
            fate.map(|r| {
                if r.changed {
                    Outcome::Imported
                } else {
                    Outcome::Unchanged
                }
            })
        })
        .collect())
}

struct Row<'a> {
    row: &'a ImportRow,
    member_id: String,
    member_birthday: Option<NaiveDate>,
    /// The row's identity for this member: its ledger line's and tier grant's key.
    key: String,
    changed: bool,
}

/// The rows' points as one `import` line each, through the ledger; a row the ledger refuses
/// (the member would pass the balance limit) goes no further.
fn post_points(
    conn: &mut DbConnection,
    shop: &Shop,
    fates: &mut [Result<Row, RowProblem>],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let crediting = |fate: &Result<Row, RowProblem>| matches!(fate, Ok(r) if r.row.points > 0);
    let credits: Vec<Credit> = fates
        .iter()
        .filter(|f| crediting(f))
        .filter_map(|f| f.as_ref().ok())
        .map(|r| Credit {
            member_id: r.member_id.clone(),
            points: r.row.points,
            source_id: r.key.clone(),
        })
        .collect();
    let batch = Credits {
        shop_id: shop.id.clone(),
        kind: LedgerKind::Import,
        reason: Some("Imported balance".into()),
        source: "import".into(),
        action: "import".into(),
    };
    let results = ledger::post_credits(conn, &batch, &credits, now)?;
    // The same rows in the same order as `credits`: nothing changed `fates` in between.
    for (fate, result) in fates.iter_mut().filter(|f| crediting(f)).zip(results) {
        match result {
            Ok(Posted::New { .. }) => {
                if let Ok(r) = fate {
                    r.changed = true;
                }
            }
            Ok(Posted::AlreadyPosted) => {}
            Err(LedgerError::BalanceLimit {
                held,
                lifetime,
                credit,
            }) => {
                *fate = Err(RowProblem::BalanceLimit {
                    held,
                    lifetime,
                    credit,
                });
            }
            Err(LedgerError::Database(e)) => return Err(e),
            // A confirmed credit is never short of points nor of a wrong status.
            Err(other) => {
                return Err(diesel::result::Error::QueryBuilderError(
                    other.to_string().into(),
                ))
            }
        }
    }
    Ok(())
}

/// Holds each row's tier for a year from today (the shop's day), then lets the member's own
/// activity decide, as a paid membership does; once per (member, row). The members granted a
/// tier are assessed together once the grants are in.
fn grant_tiers(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    fates: &mut [Result<Row, RowProblem>],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let grant_key = |r: &Row| format!("import:{}", r.key);
    let keys: Vec<String> = fates
        .iter()
        .filter_map(|f| f.as_ref().ok())
        .filter(|r| r.row.tier.is_some())
        .map(grant_key)
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let mut granted: HashSet<String> = HashSet::new();
    for chunk in keys.chunks(500) {
        // The membership is checked here rather than in SQL: with it there, PostgreSQL may scan
        // every import grant of the shop by (shop, membership) instead of looking the keys up.
        let found: Vec<(String, String)> = tier_grants::table
            .filter(tier_grants::shop_id.eq(&shop.id))
            .filter(tier_grants::platform_order_id.eq_any(chunk))
            .select((tier_grants::platform_order_id, tier_grants::membership_id))
            .load(conn)?;
        granted.extend(
            found
                .into_iter()
                .filter(|(_, membership)| membership == IMPORT_MEMBERSHIP)
                .map(|(key, _)| key),
        );
    }
    let today = tiers::today(shop, now);
    let mut grants = Vec::new();
    let mut assess: Vec<String> = Vec::new();
    for r in fates.iter_mut().filter_map(|f| f.as_mut().ok()) {
        let Some(tier) = &r.row.tier else { continue };
        let key = grant_key(r);
        if !granted.insert(key.clone()) {
            continue;
        }
        grants.push((
            tier_grants::id.eq(new_id()),
            tier_grants::shop_id.eq(shop.id.clone()),
            tier_grants::member_id.eq(r.member_id.clone()),
            tier_grants::membership_id.eq(IMPORT_MEMBERSHIP),
            tier_grants::tier.eq(tier.clone()),
            tier_grants::platform_order_id.eq(key),
            tier_grants::starts_on.eq(today),
            tier_grants::ends_on.eq(today + Duration::days(IMPORTED_TIER_DAYS)),
            tier_grants::created_at.eq(now),
        ));
        if !assess.contains(&r.member_id) {
            assess.push(r.member_id.clone());
        }
        r.changed = true;
    }
    for chunk in grants.chunks(500) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(tier_grants::table)
            .values(chunk)
            .execute(c))?;
    }
    if !assess.is_empty() {
        tiers::assess(conn, shop, program, &assess, Occasion::Activity, now)?;
    }
    Ok(())
}

/// A row's birthday, for a member without one: the platform's own birthday, once known, is not
/// overwritten by an import, and the first row with one wins. One update per date.
fn set_birthdays(
    conn: &mut DbConnection,
    shop: &Shop,
    fates: &mut [Result<Row, RowProblem>],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let mut known: HashMap<String, NaiveDate> = HashMap::new();
    let mut by_date: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for r in fates.iter_mut().filter_map(|f| f.as_mut().ok()) {
        let Some(birthday) = r.row.birthday else {
            continue;
        };
        if r.member_birthday.is_some() || known.contains_key(&r.member_id) {
            continue;
        }
        known.insert(r.member_id.clone(), birthday);
        by_date
            .entry(birthday)
            .or_default()
            .push(r.member_id.clone());
        r.changed = true;
    }
    for (birthday, ids) in by_date {
        for chunk in ids.chunks(500) {
            diesel::update(
                members::table
                    .filter(members::shop_id.eq(&shop.id))
                    .filter(members::id.eq_any(chunk))
                    .filter(members::birthday.is_null()),
            )
            .set((members::birthday.eq(birthday), members::updated_at.eq(now)))
            .execute(conn)?;
        }
    }
    Ok(())
}
