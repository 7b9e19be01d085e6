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

mod confirm;
mod credits;
mod expected_new;
mod held;
mod pending;

pub use confirm::confirm_due;
pub use credits::{post_credits, Credit, Credits};
pub use expected_new::post_expecting_new;
pub(crate) use held::HeldWrites;
pub(crate) use held::{held_orders_counting, hold_activity, hold_order};
pub use held::{post_award, write_held, write_held_for_order};
pub use pending::{pending_by_day, PendingDay};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{Member, NewLedgerEntry};
use crate::db::schema::members;
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
    // Awards an applier batch holds move balances this posting reads.
    write_held(conn)?;
    let key = p.idempotency_key();
    let (member, already_posted) = Member::lock_for_posting(conn, &p.shop_id, &p.member_id, &key)?;
    if already_posted {
        return Ok(Posted::AlreadyPosted);
    }
    // Maybe not its event's member (a referrer's reward): what an applier batch read of this
    // one is stale from here.
    crate::services::batch::forget_member(&p.shop_id, &member.id);
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
    let Some(entry_id) = insert_line(conn, p, applied, shortfall, key, now)? else {
        // Lost a race with the same posting on another connection (PostgreSQL): it won.
        return Ok(Posted::AlreadyPosted);
    };
    let moved = Moved::of(p, applied);
    // Native connection: this runs for every line posted (see `Shop::find_by_domain`).
    crate::per_backend!(conn, |c| diesel::update(
        members::table
            .filter(members::shop_id.eq(&p.shop_id))
            .filter(members::id.eq(&p.member_id)),
    )
    .set(moved.changeset(now))
    .execute(c))?;
    line_posted(conn, p, &member, applied, &entry_id, now)?;
    Ok(Posted::New {
        entry_id,
        applied,
        shortfall,
    })
}

/// How a line moves its member's cached balances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Moved {
    spendable: i64,
    pending: i64,
    lifetime: i64,
}

/// `column = column + amount`.
type Shift<C> = diesel::dsl::Eq<C, diesel::dsl::Add<C, i64>>;

/// The SET clause of [`Moved::changeset`].
pub(crate) type MoveBalances = (
    Shift<members::points_balance>,
    Shift<members::pending_points>,
    Shift<members::lifetime_points>,
    diesel::dsl::Eq<members::updated_at, NaiveDateTime>,
);

impl Moved {
    /// Everything `member` holds, to move it to another account (a guest merged into a
    /// customer's).
    pub(crate) fn holdings_of(member: &Member) -> Self {
        Self {
            spendable: member.points_balance,
            pending: member.pending_points,
            lifetime: member.lifetime_points,
        }
    }

    /// `member` with this move made to its balances.
    pub(crate) fn added_to(self, member: &Member) -> Member {
        Member {
            points_balance: member.points_balance + self.spendable,
            pending_points: member.pending_points + self.pending,
            lifetime_points: member.lifetime_points + self.lifetime,
            ..member.clone()
        }
    }

    /// This move and `other` made together.
    fn plus(self, other: Self) -> Self {
        Self {
            spendable: self.spendable + other.spendable,
            pending: self.pending + other.pending,
            lifetime: self.lifetime + other.lifetime,
        }
    }

    /// The opposite move, to undo this one.
    fn reversed(self) -> Self {
        Self {
            spendable: -self.spendable,
            pending: -self.pending,
            lifetime: -self.lifetime,
        }
    }

    /// The SET clause that adds these amounts to a member's three balances (written relative to
    /// the stored values, so concurrent moves of one member add up instead of overwriting).
    pub(crate) fn changeset(self, now: NaiveDateTime) -> MoveBalances {
        (
            members::points_balance.eq(members::points_balance + self.spendable),
            members::pending_points.eq(members::pending_points + self.pending),
            members::lifetime_points.eq(members::lifetime_points + self.lifetime),
            members::updated_at.eq(now),
        )
    }

    fn of(p: &Posting, applied: i64) -> Self {
        let (spendable, pending) = match p.status {
            LedgerStatus::Pending => (0, applied),
            _ => (applied, 0),
        };
        Self {
            spendable,
            pending,
            lifetime: if p.kind.counts_towards_lifetime() {
                applied
            } else {
                0
            },
        }
    }
}

/// Writes the line unless its key is in the ledger; returns its id, `None` when another
/// connection wrote the same key first.
fn insert_line(
    conn: &mut DbConnection,
    p: &Posting,
    applied: i64,
    shortfall: i64,
    key: String,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let line = new_line(p, applied, shortfall, key, now);
    let entry_id = line.id.clone();
    Ok(line.insert_once(conn)?.then_some(entry_id))
}

/// The line a posting writes, with a new id.
fn new_line(
    p: &Posting,
    applied: i64,
    shortfall: i64,
    key: String,
    now: NaiveDateTime,
) -> NewLedgerEntry {
    let mut detail = p.detail.clone();
    if shortfall > 0 {
        let obj = detail.get_or_insert_with(|| serde_json::json!({}));
        if let Some(map) = obj.as_object_mut() {
            map.insert("shortfall".into(), shortfall.into());
        }
    }
    NewLedgerEntry {
        id: new_id(),
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
}

/// What follows every new line, its member's balances moved: the engagement and daily
/// metrics, the outgoing `points.changed` webhook, and a bonus's tier activity. `before` is
/// the member as they were before the line.
fn line_posted(
    conn: &mut DbConnection,
    p: &Posting,
    before: &Member,
    applied: i64,
    entry_id: &str,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    crate::services::retention::metrics_engagement::member_line_posted(conn, before, p.kind, now)?;
    if p.status == LedgerStatus::Confirmed {
        crate::services::retention::metrics::ledger_confirmed(
            conn,
            &p.shop_id,
            now,
            p.kind.as_str(),
            applied,
        )?;
    }
    crate::services::outgoing::points_changed(conn, p, before, applied, entry_id, now)?;
    if is_bonus(p.kind) {
        bonus_counts_for_tiers(conn, p, applied, now)?;
    }
    Ok(())
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

    #[test]
    fn a_move_adds_to_the_stored_balances_and_its_reverse_takes_the_same_back() {
        let moved = Moved {
            spendable: 5,
            pending: -2,
            lifetime: 7,
        };
        assert_eq!(moved.reversed().reversed(), moved);
        assert_eq!(
            moved.reversed(),
            Moved {
                spendable: -5,
                pending: 2,
                lifetime: -7
            }
        );
        let now = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(
            &diesel::update(members::table).set(moved.changeset(now)),
        )
        .to_string();
        assert!(
            sql.contains("`points_balance` = (`members`.`points_balance` + ?)")
                && sql.contains("`pending_points` = (`members`.`pending_points` + ?)")
                && sql.contains("`lifetime_points` = (`members`.`lifetime_points` + ?)")
                && sql.contains("binds: [5, -2, 7, "),
            "{sql}"
        );
    }
}
