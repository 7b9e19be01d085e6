//! Reading a member's points and changing them by hand (the shop owner's adjustments).

pub mod enrol;
pub mod export;
pub mod import;
pub mod search;

use serde::Serialize;

use crate::db::models::{LedgerEntry, Member, Shop};
use crate::db::{now, write_transaction, DbConnection};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posted, Posting, WhenShort};
use crate::services::program::Program;
use crate::services::tiers::{self, TierView};
use diesel::QueryResult;

/// The admin view of a member (CONTRACT.md).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CustomerView {
    pub customer_id: String,
    pub email: Option<String>,
    pub points_balance: i64,
    pub pending_points: i64,
    pub lifetime_points: i64,
    pub referral_code: Option<String>,
    /// `tier`, `tier_name`, `next_tier`, `to_next_tier`, `to_keep_tier`, `tier_review_at`…
    #[serde(flatten)]
    pub tier: TierView,
}

impl CustomerView {
    /// The member with their tier as of now (names in the shop's widget language).
    pub fn of(conn: &mut DbConnection, shop: &Shop, m: Member) -> QueryResult<Self> {
        let program = Program::of(shop);
        let tier = tiers::member_view(
            conn,
            shop,
            &program,
            &m,
            program.widget.default_locale,
            now(),
        )?;
        Ok(Self {
            customer_id: m.platform_customer_id.unwrap_or_default(),
            email: m.email,
            points_balance: m.points_balance,
            pending_points: m.pending_points,
            lifetime_points: m.lifetime_points,
            referral_code: m.referral_code,
            tier,
        })
    }
}

/// One ledger line as the admin API and the widget show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerLineView {
    pub id: String,
    pub delta: i64,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub source: String,
    pub source_id: String,
    /// When a pending line becomes spendable.
    pub confirms_at: Option<String>,
    pub created_at: String,
}

/// A stored UTC time as the API shows it (RFC 3339, whole seconds, `Z`).
pub(crate) fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl From<LedgerEntry> for LedgerLineView {
    fn from(e: LedgerEntry) -> Self {
        Self {
            id: e.id,
            delta: e.delta,
            kind: e.kind,
            status: e.status,
            reason: e.reason,
            source: e.source,
            source_id: e.source_id,
            confirms_at: e.confirms_at.map(rfc3339),
            created_at: rfc3339(e.created_at),
        }
    }
}

/// What is wrong with an adjustment the owner asked for (the admin UI says it in the shop's
/// language, next to the field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidAdjustment {
    #[error("reason is required")]
    ReasonMissing,
    #[error("reason is longer than 500 characters")]
    ReasonTooLong,
    #[error(
        "points must be a non-zero whole number between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}"
    )]
    PointsOutOfRange,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("no customer {0} in this shop's program")]
    NotFound(String),
    #[error("{0}")]
    Invalid(InvalidAdjustment),
    /// The `Idempotency-Key` was already used for this customer with other points or reason.
    #[error("Idempotency-Key {0:?} was already used for this customer with a different points or reason; send a new key for a new adjustment")]
    KeyReused(String),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl From<diesel::result::Error> for CustomerError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Ledger(e.into())
    }
}

pub fn find(
    conn: &mut DbConnection,
    shop_id: &str,
    customer_id: &str,
) -> Result<Member, CustomerError> {
    Member::find_by_customer_id(conn, shop_id, customer_id)?
        .ok_or_else(|| CustomerError::NotFound(customer_id.to_owned()))
}

pub fn ledger(
    conn: &mut DbConnection,
    shop_id: &str,
    customer_id: &str,
    limit: i64,
) -> Result<Vec<LedgerLineView>, CustomerError> {
    let member = find(conn, shop_id, customer_id)?;
    Ok(
        LedgerEntry::list_for_member(conn, shop_id, &member.id, limit)?
            .into_iter()
            .map(Into::into)
            .collect(),
    )
}

/// An owner's adjustment request.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub points: i64,
    pub reason: String,
    /// The client's `Idempotency-Key`, so a retried request is applied once.
    pub idempotency_key: Option<String>,
}

/// The largest single adjustment; guards against a slipped finger adding a billion points.
pub const MAX_ADJUSTMENT: i64 = 10_000_000;

/// Applies an adjustment, confirmed at once; refused if it would take the balance below zero.
/// Returns the member after the change and whether it was new (false: a replay).
pub fn adjust(
    conn: &mut DbConnection,
    shop: &Shop,
    customer_id: &str,
    adjustment: &Adjustment,
) -> Result<(CustomerView, bool), CustomerError> {
    let reason = adjustment.reason.trim();
    if reason.is_empty() {
        return Err(CustomerError::Invalid(InvalidAdjustment::ReasonMissing));
    }
    if reason.chars().count() > 500 {
        return Err(CustomerError::Invalid(InvalidAdjustment::ReasonTooLong));
    }
    // `unsigned_abs`: `i64::MIN.abs()` overflows (it wrapped to a negative that passed the check).
    if adjustment.points == 0 || adjustment.points.unsigned_abs() > MAX_ADJUSTMENT.unsigned_abs() {
        return Err(CustomerError::Invalid(InvalidAdjustment::PointsOutOfRange));
    }
    let shop_id = shop.id.as_str();
    write_transaction(conn, |conn| {
        let member = find(conn, shop_id, customer_id)?;
        // The key is the client's name for one request to one customer: scoped to the member,
        // so the same key sent for another customer is another adjustment.
        let source_id = match &adjustment.idempotency_key {
            Some(key) => format!("{}:{key}", member.id),
            None => crate::db::new_id(),
        };
        let posting = Posting {
            shop_id: shop_id.to_owned(),
            member_id: member.id.clone(),
            delta: adjustment.points,
            kind: LedgerKind::Adjustment,
            status: LedgerStatus::Confirmed,
            reason: Some(reason.to_owned()),
            source: "admin".into(),
            source_id,
            action: "adjust".into(),
            detail: None,
            confirms_at: None,
            when_short: WhenShort::Refuse,
        };
        let posted = ledger::post(conn, &posting, now())?;
        if posted == Posted::AlreadyPosted {
            // A replay must be the same request (draft-ietf-httpapi-idempotency-key-header:
            // 422 when a key is reused with another payload); answering 200 to a different one
            // would tell the owner it was applied when nothing was posted.
            let first = LedgerEntry::find_by_key(conn, shop_id, &posting.idempotency_key())?;
            let same = first.is_some_and(|e| {
                e.delta == adjustment.points && e.reason.as_deref() == Some(reason)
            });
            if !same {
                let key = adjustment.idempotency_key.clone().unwrap_or_default();
                return Err(CustomerError::KeyReused(key));
            }
        }
        let after = Member::find(conn, shop_id, &member.id)?;
        Ok((
            CustomerView::of(conn, shop, after)?,
            matches!(posted, Posted::New { .. }),
        ))
    })
}
