//! The daily expiry run of a shop: expire each lot's unspent remainder when its time has come
//! (one `expiry` ledger line per lot, keyed by the lot, so reruns change nothing), and record a
//! reminder for points expiring within the reminder window.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{LedgerEntry, Member, Shop};
use crate::db::schema::{ledger_entries, members, point_reminders};
use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::expiry::{plan, ExpiryPolicy, Lot};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};
use crate::services::program::Program;

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryReport {
    pub expired_points: i64,
    pub reminders: usize,
}

/// Runs expiry for every member of the shop with spendable points, one transaction each.
pub fn run(
    conn: &mut DbConnection,
    shop: &Shop,
    now: NaiveDateTime,
) -> Result<ExpiryReport, LedgerError> {
    let Some(policy) = Program::of(shop).expiry else {
        return Ok(ExpiryReport::default());
    };
    let holders: Vec<String> = members::table
        .filter(members::shop_id.eq(&shop.id))
        .filter(members::points_balance.gt(0))
        .select(members::id)
        .load(conn)?;
    let mut report = ExpiryReport::default();
    for member_id in holders {
        let (expired, reminded) = write_transaction(conn, |c| {
            expire_member(c, &shop.id, &member_id, &policy, now)
        })?;
        report.expired_points += expired;
        report.reminders += reminded;
    }
    Ok(report)
}

fn expire_member(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    policy: &ExpiryPolicy,
    now: NaiveDateTime,
) -> Result<(i64, usize), LedgerError> {
    Member::lock(conn, shop_id, member_id)?;
    let lines: Vec<LedgerEntry> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::member_id.eq(member_id))
        .filter(ledger_entries::status.eq(LedgerStatus::Confirmed.as_str()))
        .order((ledger_entries::created_at.asc(), ledger_entries::id.asc()))
        .select(LedgerEntry::as_select())
        .load(conn)?;
    let (lots, consumed, last_activity) = lots_of(&lines);
    let Some(last_activity) = last_activity else {
        return Ok((0, 0));
    };
    let (due, soon) = plan(policy, &lots, consumed, last_activity, now);
    let mut expired = 0;
    for e in &due {
        // Points can come back to a lot after it expired (an unused code taken back, or a late
        // confirmation moving oldest-first attribution), so a lot may expire more than once:
        // each time under a new key, numbered by the lot's expiry lines so far.
        let earlier = lines
            .iter()
            .filter(|l| l.kind == LedgerKind::Expiry.as_str() && l.source_id == e.lot_id)
            .count();
        let action = match earlier {
            0 => "expire".to_owned(),
            n => format!("expire-{n}"),
        };
        let posted = ledger::post(
            conn,
            &Posting {
                shop_id: shop_id.to_owned(),
                member_id: member_id.to_owned(),
                delta: -e.points,
                kind: LedgerKind::Expiry,
                status: LedgerStatus::Confirmed,
                reason: Some(format!("{} points expired", e.points)),
                source: "lot".into(),
                source_id: e.lot_id.clone(),
                action,
                detail: Some(
                    serde_json::json!({ "expires_at": e.expires_at.and_utc().to_rfc3339() }),
                ),
                confirms_at: None,
                when_short: WhenShort::TakeWhatIsThere,
            },
            now,
        )?;
        if let ledger::Posted::New { applied, .. } = posted {
            expired -= applied;
        }
    }
    // One reminder per expiry date, with the points expiring then.
    let mut by_date: HashMap<NaiveDateTime, i64> = HashMap::new();
    for e in &soon {
        *by_date.entry(e.expires_at).or_default() += e.points;
    }
    let mut reminded = 0;
    for (expires_at, points) in by_date {
        let inserted =
            crate::per_backend!(&mut *conn, |c| diesel::insert_into(point_reminders::table)
                .values((
                    point_reminders::id.eq(new_id()),
                    point_reminders::shop_id.eq(shop_id),
                    point_reminders::member_id.eq(member_id),
                    point_reminders::points.eq(points),
                    point_reminders::expires_at.eq(expires_at),
                    point_reminders::status.eq("due"),
                    point_reminders::created_at.eq(now),
                    point_reminders::updated_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c))?;
        reminded += inserted;
        if inserted == 1 {
            reminder_mail(conn, shop_id, member_id, points, expires_at, now)?;
        }
    }
    Ok((expired, reminded))
}

/// The `points_expiring` mail of a new reminder.
fn reminder_mail(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    points: i64,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let shop = Shop::find(conn, shop_id)?;
    let member = Member::find(conn, shop_id, member_id)?;
    crate::services::mail::queue(
        conn,
        &shop,
        &Program::of(&shop),
        &member,
        crate::domain::mail::Kind::PointsExpiring,
        &format!("expiry:{}", expires_at.date()),
        serde_json::json!({ "points": points, "expiring_on": expires_at.date() }),
        now,
    )?;
    Ok(())
}

/// Lots (oldest first), points consumed, and the last activity, from confirmed ledger lines.
fn lots_of(lines: &[LedgerEntry]) -> (Vec<Lot>, i64, Option<NaiveDateTime>) {
    let mut lots: Vec<Lot> = Vec::new();
    let mut award_lot: HashMap<&str, usize> = HashMap::new();
    let mut consumed = 0;
    let mut last_activity = None;
    for line in lines {
        let kind = line.kind.parse::<LedgerKind>().ok();
        if matches!(
            kind,
            Some(LedgerKind::Earn | LedgerKind::Redeem | LedgerKind::Signup | LedgerKind::Birthday)
        ) {
            last_activity = Some(line.created_at);
        }
        match kind {
            Some(LedgerKind::Earn) => {
                award_lot.insert(line.source_id.as_str(), lots.len());
                lots.push(Lot {
                    id: line.id.clone(),
                    earned_at: line.created_at,
                    points: line.delta,
                });
            }
            // Bonuses and imported balances are lots of their own: they age and expire like
            // any points (before, a referral's points offset spending instead, never expiring).
            Some(
                LedgerKind::Signup
                | LedgerKind::Birthday
                | LedgerKind::Referral
                | LedgerKind::Import,
            ) => {
                lots.push(Lot {
                    id: line.id.clone(),
                    earned_at: line.created_at,
                    points: line.delta,
                });
            }
            Some(LedgerKind::Adjustment) if line.delta > 0 => {
                lots.push(Lot {
                    id: line.id.clone(),
                    earned_at: line.created_at,
                    points: line.delta,
                });
            }
            // A refund's reversal shrinks the lot its order earned.
            Some(LedgerKind::Reversal) => match award_lot
                .get(line.source_id.as_str())
                .and_then(|i| lots.get_mut(*i))
            {
                Some(lot) => lot.points += line.delta,
                None => consumed -= line.delta,
            },
            _ => consumed -= line.delta,
        }
    }
    (
        lots,
        consumed,
        last_activity.or_else(|| lines.last().map(|l| l.created_at)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, kind: LedgerKind, delta: i64, day: u32) -> LedgerEntry {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, day)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default();
        LedgerEntry {
            id: id.into(),
            shop_id: "s".into(),
            member_id: "m".into(),
            delta,
            kind: kind.as_str().into(),
            status: "confirmed".into(),
            reason: None,
            source: "test".into(),
            source_id: id.into(),
            action: "test".into(),
            idempotency_key: id.into(),
            detail: None,
            confirms_at: None,
            expires_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn referral_and_imported_points_are_lots_that_age_like_any_other() {
        let lines = [
            line("imp", LedgerKind::Import, 500, 1),
            line("ref", LedgerKind::Referral, 200, 2),
            line("red", LedgerKind::Redeem, -100, 3),
        ];
        let (lots, consumed, _) = lots_of(&lines);
        let ids: Vec<(&str, i64)> = lots.iter().map(|l| (l.id.as_str(), l.points)).collect();
        assert_eq!(ids, [("imp", 500), ("ref", 200)]);
        assert_eq!(
            consumed, 100,
            "spending is taken from the lots, not offset by a bonus"
        );
    }
}
