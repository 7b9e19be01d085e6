//! The points ledger: the only code that changes a balance.
//!
//! Every change is one append-only line with a unique idempotency key
//! `{source}:{source_id}:{action}` per shop, and the member's cached balances are updated in the
//! same transaction, under the member's row lock. So:
//! - replaying any event finds its key and changes nothing;
//! - `points_balance` always equals the sum of confirmed lines and `pending_points` the sum of
//!   pending lines (checked by the property tests in `tests/api/ledger.rs`);
//! - a confirmed balance never goes below zero: a debit takes at most what is there, and either
//!   refuses (adjustments, redemptions) or records the shortfall (reversals of spent points);
//! - no member ever holds (or earns in a lifetime) more than `MAX_BALANCE`: a credit past it is
//!   refused, so the balance columns and the ledger's sums never overflow (SQLite would turn
//!   the sum into a float and PostgreSQL fail with `bigint out of range`).

mod credits;

pub use credits::{post_credits, Credit, Credits};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{Member, NewLedgerEntry};
use crate::db::schema::{ledger_entries, members};
use crate::db::{new_id, DbConnection};
use crate::domain::points::{apply_debit, credit_fits, LedgerKind, LedgerStatus, MAX_BALANCE};

/// What to do when a debit is larger than the spendable balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenShort {
    /// Refuse the whole change (owner adjustments, redemptions).
    Refuse,
    /// Take what is there and record the rest as a shortfall (reversal of points already spent).
    TakeWhatIsThere,
}

/// One change to a member's points.
#[derive(Debug, Clone)]
pub struct Posting {
    pub shop_id: String,
    pub member_id: String,
    pub delta: i64,
    pub kind: LedgerKind,
    /// `Pending` or `Confirmed`; a pending line is confirmed later by `confirm_due`.
    pub status: LedgerStatus,
    pub reason: Option<String>,
    pub source: String,
    pub source_id: String,
    pub action: String,
    pub detail: Option<serde_json::Value>,
    pub confirms_at: Option<NaiveDateTime>,
    pub when_short: WhenShort,
}

impl Posting {
    pub fn idempotency_key(&self) -> String {
        format!("{}:{}:{}", self.source, self.source_id, self.action)
    }
}

/// The result of a posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// A new line; `applied` is the delta written, `shortfall` what could not be taken.
    New {
        entry_id: String,
        applied: i64,
        shortfall: i64,
    },
    /// The same change was posted before; nothing happened.
    AlreadyPosted,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("not enough points: the balance is {balance} and {wanted} were asked for")]
    InsufficientPoints { balance: i64, wanted: i64 },
    #[error("a credit of {credit} points would take this member past the limit of {max} points (they have {held}, {lifetime} earned in all)", max = MAX_BALANCE)]
    BalanceLimit {
        /// Spendable and pending points before the credit.
        held: i64,
        lifetime: i64,
        credit: i64,
    },
    #[error("a ledger posting needs status pending or confirmed, not {0}")]
    InvalidStatus(LedgerStatus),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<LedgerError> for crate::queue::JobError {
    /// A job that posts to the ledger retries what the database may do next time; a refused
    /// posting (not enough points, past the limit) fails the same way every time.
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Database(db) => Self::from(db),
            other => Self::Permanent(other.to_string()),
        }
    }
}

/// Posts a change. Call inside a write transaction (`db::write_transaction`).
pub fn post(
    conn: &mut DbConnection,
    p: &Posting,
    now: NaiveDateTime,
) -> Result<Posted, LedgerError> {
    let key = p.idempotency_key();
    let (member, already_posted) = Member::lock_for_posting(conn, &p.shop_id, &p.member_id, &key)?;
    if already_posted {
        return Ok(Posted::AlreadyPosted);
    }
    let (applied, shortfall) = match (p.status, p.delta < 0) {
        (LedgerStatus::Void, _) => return Err(LedgerError::InvalidStatus(p.status)),
        (_, false) => (p.delta, 0),
        (LedgerStatus::Confirmed, true) => {
            let (taken, short) = apply_debit(member.points_balance, -p.delta);
            if short > 0 && p.when_short == WhenShort::Refuse {
                return Err(LedgerError::InsufficientPoints {
                    balance: member.points_balance,
                    wanted: -p.delta,
                });
            }
            (-taken, short)
        }
        (LedgerStatus::Pending, true) => {
            let (taken, short) = apply_debit(member.pending_points, -p.delta);
            if short > 0 && p.when_short == WhenShort::Refuse {
                return Err(LedgerError::InsufficientPoints {
                    balance: member.pending_points,
                    wanted: -p.delta,
                });
            }
            (-taken, short)
        }
    };
    let held = member.points_balance.saturating_add(member.pending_points);
    let counts_lifetime = p.kind.counts_towards_lifetime();
    if !credit_fits(held, applied)
        || (counts_lifetime && !credit_fits(member.lifetime_points, applied))
    {
        return Err(LedgerError::BalanceLimit {
            held,
            lifetime: member.lifetime_points,
            credit: applied,
        });
    }
    let mut detail = p.detail.clone();
    if shortfall > 0 {
        let obj = detail.get_or_insert_with(|| serde_json::json!({}));
        if let Some(map) = obj.as_object_mut() {
            map.insert("shortfall".into(), shortfall.into());
        }
    }
    let entry_id = new_id();
    let inserted = NewLedgerEntry {
        id: entry_id.clone(),
        shop_id: p.shop_id.clone(),
        member_id: p.member_id.clone(),
        delta: applied,
        kind: p.kind.as_str().into(),
        status: p.status.as_str().into(),
        reason: p.reason.clone(),
        source: p.source.clone(),
        source_id: p.source_id.clone(),
        action: p.action.clone(),
        idempotency_key: key,
        detail: detail.map(|d| d.to_string()),
        confirms_at: p.confirms_at.filter(|_| p.status == LedgerStatus::Pending),
        expires_at: None,
        created_at: now,
        updated_at: now,
    }
    .insert_once(conn)?;
    if !inserted {
        // Lost a race with the same posting on another connection (PostgreSQL): it won.
        return Ok(Posted::AlreadyPosted);
    }
    crate::services::retention::metrics_engagement::member_line_posted(conn, &member, p.kind, now)?;
    if p.status == LedgerStatus::Confirmed {
        crate::services::retention::metrics::ledger_confirmed(
            conn,
            &p.shop_id,
            now,
            p.kind.as_str(),
            applied,
        )?;
    }
    let lifetime = if counts_lifetime { applied } else { 0 };
    let (spendable, pending) = match p.status {
        LedgerStatus::Pending => (0, applied),
        _ => (applied, 0),
    };
    // Native connection: this runs for every line posted (see `Shop::find_by_domain`).
    crate::per_backend!(conn, |c| diesel::update(
        members::table
            .filter(members::shop_id.eq(&p.shop_id))
            .filter(members::id.eq(&p.member_id)),
    )
    .set((
        members::points_balance.eq(members::points_balance + spendable),
        members::pending_points.eq(members::pending_points + pending),
        members::lifetime_points.eq(members::lifetime_points + lifetime),
        members::updated_at.eq(now),
    ))
    .execute(c))?;
    crate::services::outgoing::points_changed(conn, p, &member, applied, &entry_id, now)?;
    if is_bonus(p.kind) {
        bonus_counts_for_tiers(conn, p, applied, now)?;
    }
    Ok(Posted::New {
        entry_id,
        applied,
        shortfall,
    })
}

/// Points given outside orders (not imports: those were earned elsewhere).
fn is_bonus(kind: LedgerKind) -> bool {
    matches!(
        kind,
        LedgerKind::Signup | LedgerKind::Birthday | LedgerKind::Adjustment | LedgerKind::Referral
    )
}

/// Points given outside orders count towards a points-earned tier once confirmed (orders are
/// counted from their own facts by `services::tiers::after_order`).
fn bonus_counts_for_tiers(
    conn: &mut DbConnection,
    p: &Posting,
    applied: i64,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let shop = crate::db::models::Shop::find(conn, &p.shop_id)?;
    let counts_from = match p.status {
        LedgerStatus::Pending => p.confirms_at.unwrap_or(now),
        _ => now,
    };
    let counts_now = crate::services::tiers::record_bonus(
        conn,
        &shop.id,
        &shop.timezone,
        &p.member_id,
        &p.idempotency_key(),
        applied,
        counts_from,
        now,
    )?;
    if let Some(member) = counts_now {
        let program = crate::services::program::Program::of(&shop);
        crate::services::tiers::assess(
            conn,
            &shop,
            &program,
            &[member],
            crate::domain::tiers::Occasion::Activity,
            now,
        )?;
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::JobError;

    #[test]
    fn a_job_that_breaks_a_constraint_fails_for_good_and_a_busy_database_is_retried() {
        use diesel::result::{DatabaseErrorKind, Error};
        let db = |kind, message: &str| Error::DatabaseError(kind, Box::new(message.to_owned()));
        let busy = LedgerError::Database(db(DatabaseErrorKind::Unknown, "database is locked"));
        assert!(matches!(JobError::from(busy), JobError::Retry(_)));
        let check = LedgerError::Database(db(DatabaseErrorKind::CheckViolation, "points >= 0"));
        assert!(matches!(JobError::from(check), JobError::Permanent(_)));
        assert!(matches!(
            JobError::from(Error::NotFound),
            JobError::Permanent(_)
        ));
    }
}
