//! Pending lines becoming spendable when their return window ends.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::LedgerError;
use crate::db::models::Member;
use crate::db::schema::{ledger_entries, members};
use crate::db::DbConnection;
use crate::domain::points::LedgerStatus;

/// Confirms every pending line of the shop that is due at `now`, member by member, moving the
/// points from pending to spendable. Returns how many lines were confirmed.
pub fn confirm_due(
    conn: &mut DbConnection,
    shop_id: &str,
    now: NaiveDateTime,
) -> Result<usize, LedgerError> {
    let due: Vec<(String, String, i64)> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::status.eq(LedgerStatus::Pending.as_str()))
        .filter(ledger_entries::confirms_at.le(now))
        .order((
            ledger_entries::member_id.asc(),
            ledger_entries::confirms_at.asc(),
        ))
        .select((
            ledger_entries::id,
            ledger_entries::member_id,
            ledger_entries::delta,
        ))
        .load(conn)?;
    let mut confirmed = 0;
    for (member_id, lines) in group_by_member(due) {
        // Lock first so a concurrent redemption sees either all or none of the confirmation.
        Member::lock(conn, shop_id, &member_id)?;
        // A reversal is pending with its award's date, so a member's due lines net to >= 0; if
        // that were ever broken, the CHECK on points_balance fails the transaction loudly rather
        // than letting the balance and the ledger disagree.
        //
        // Only the lines this run's update moved count: another run (a job whose lease ran out,
        // `jobs run-once` beside the scheduler) may have confirmed some of them between the read
        // above and the lock, and adding what was read would credit them twice.
        let mut net: i64 = 0;
        let mut moved_here = 0;
        for (id, delta) in &lines {
            let moved = diesel::update(
                ledger_entries::table
                    .filter(ledger_entries::shop_id.eq(shop_id))
                    .filter(ledger_entries::id.eq(id))
                    .filter(ledger_entries::status.eq(LedgerStatus::Pending.as_str())),
            )
            .set((
                ledger_entries::status.eq(LedgerStatus::Confirmed.as_str()),
                ledger_entries::updated_at.eq(now),
            ))
            .execute(conn)?;
            if moved == 1 {
                net += delta;
                moved_here += 1;
                // The metrics count confirmed points on the day the line was written.
                let (created_at, kind): (NaiveDateTime, String) = ledger_entries::table
                    .filter(ledger_entries::shop_id.eq(shop_id))
                    .filter(ledger_entries::id.eq(id))
                    .select((ledger_entries::created_at, ledger_entries::kind))
                    .first(conn)?;
                crate::services::retention::metrics::ledger_confirmed(
                    conn, shop_id, created_at, &kind, *delta,
                )?;
            }
        }
        if moved_here == 0 {
            continue;
        }
        confirmed += moved_here;
        diesel::update(
            members::table
                .filter(members::shop_id.eq(shop_id))
                .filter(members::id.eq(&member_id)),
        )
        .set((
            members::points_balance.eq(members::points_balance + net),
            members::pending_points.eq(members::pending_points - net),
            members::updated_at.eq(now),
        ))
        .execute(conn)?;
        crate::services::outgoing::points_confirmed(conn, shop_id, &member_id, net, now)?;
        if net > 0 {
            spendable_mail(conn, shop_id, &member_id, net, now)?;
        }
    }
    Ok(confirmed)
}

/// Tells the member their points became spendable (one message a day at most).
fn spendable_mail(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    points: i64,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let shop = crate::db::models::Shop::find(conn, shop_id)?;
    let program = crate::services::program::Program::of(&shop);
    if !program
        .emails
        .is_enabled(crate::domain::mail::Kind::PointsSpendable)
    {
        return Ok(());
    }
    let member = Member::find(conn, shop_id, member_id)?;
    crate::services::mail::queue(
        conn,
        &shop,
        &program,
        &member,
        crate::domain::mail::Kind::PointsSpendable,
        &format!("spendable:{}", now.date()),
        serde_json::json!({ "points": points }),
        now,
    )?;
    Ok(())
}

fn group_by_member(rows: Vec<(String, String, i64)>) -> Vec<(String, Vec<(String, i64)>)> {
    let mut groups: Vec<(String, Vec<(String, i64)>)> = Vec::new();
    for (id, member_id, delta) in rows {
        match groups.last_mut() {
            Some((m, lines)) if *m == member_id => lines.push((id, delta)),
            _ => groups.push((member_id, vec![(id, delta)])),
        }
    }
    groups
}
