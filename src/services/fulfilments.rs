//! The owner's side of donation and custom rewards: the list of fulfilments, marking one done,
//! cancelling one (the points come back), and the donations report. Redeeming opens them
//! (`services::redeem`).
//!
//! Each change is guarded by the status it starts from (`open`), so two owners clicking at once
//! settle a fulfilment once; the points of a cancellation come back in a ledger line keyed
//! `fulfilment:{id}:refund`, which exists at most once.

use chrono::NaiveDateTime;

use crate::db::models::{Fulfilment, FulfilmentWithCustomer, Member};
use crate::db::types::FulfilmentStatus;
use crate::db::{now, write_transaction, DbConnection};
use crate::domain::donations::{self, Donation, DonationTotals};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};

/// The `source` of the ledger lines a fulfilment writes (`fulfilment:{id}:debit|refund`).
pub const LEDGER_SOURCE: &str = "fulfilment";

/// Why a change to a fulfilment was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum FulfilmentError {
    #[error("no such fulfilment")]
    NotFound,
    #[error("the fulfilment is already {0}")]
    Settled(FulfilmentStatus),
    #[error("the points cannot be returned: {0}")]
    Refund(String),
    #[error(transparent)]
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for FulfilmentError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::NotFound,
            other => Self::Database(other),
        }
    }
}

impl From<LedgerError> for FulfilmentError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Database(d) => d.into(),
            other => Self::Refund(other.to_string()),
        }
    }
}

/// The shop's fulfilments (in `status`, or all), newest first, at most `limit`.
pub fn list(
    conn: &mut DbConnection,
    shop_id: &str,
    status: Option<FulfilmentStatus>,
    limit: i64,
) -> Result<Vec<FulfilmentWithCustomer>, FulfilmentError> {
    Ok(Fulfilment::list(conn, shop_id, status, limit)?)
}

/// Marks an open fulfilment done by `who`. Asking again changes nothing and answers the
/// fulfilment as it is (who marked it done first, and when); a cancelled one is refused.
pub fn mark_done(
    conn: &mut DbConnection,
    shop_id: &str,
    id: &str,
    who: &str,
) -> Result<FulfilmentWithCustomer, FulfilmentError> {
    let done = with_conflict_retry(conn, |c| {
        Fulfilment::close(c, shop_id, id, FulfilmentStatus::Done, Some(who), now())?;
        let current = Fulfilment::find(c, shop_id, id)?;
        match current.status {
            FulfilmentStatus::Done => Ok(current),
            other => Err(FulfilmentError::Settled(other)),
        }
    })?;
    with_customer(conn, done)
}

/// Cancels an open fulfilment and returns its points with a `redeem_refund` line, in one
/// transaction. Asking again changes nothing; a fulfilment already done is refused.
pub fn cancel(
    conn: &mut DbConnection,
    shop_id: &str,
    id: &str,
) -> Result<FulfilmentWithCustomer, FulfilmentError> {
    let cancelled = with_conflict_retry(conn, |c| {
        let at = now();
        if Fulfilment::close(c, shop_id, id, FulfilmentStatus::Cancelled, None, at)? {
            let f = Fulfilment::find(c, shop_id, id)?;
            refund(c, &f, at)?;
        }
        let current = Fulfilment::find(c, shop_id, id)?;
        match current.status {
            FulfilmentStatus::Cancelled => Ok(current),
            other => Err(FulfilmentError::Settled(other)),
        }
    })?;
    with_customer(conn, cancelled)
}

/// The fulfilment with the platform's id of its member, as the owner's list shows it.
fn with_customer(
    conn: &mut DbConnection,
    fulfilment: Fulfilment,
) -> Result<FulfilmentWithCustomer, FulfilmentError> {
    let member = Member::find(conn, &fulfilment.shop_id, &fulfilment.member_id)?;
    Ok(FulfilmentWithCustomer {
        fulfilment,
        customer_id: member.platform_customer_id,
    })
}

fn refund(conn: &mut DbConnection, f: &Fulfilment, at: NaiveDateTime) -> Result<(), LedgerError> {
    ledger::post(
        conn,
        &Posting {
            shop_id: f.shop_id.clone(),
            member_id: f.member_id.clone(),
            delta: f.points,
            kind: LedgerKind::RedeemRefund,
            status: LedgerStatus::Confirmed,
            reason: Some("Reward cancelled: points returned".into()),
            source: LEDGER_SOURCE.into(),
            source_id: f.id.clone(),
            action: "refund".into(),
            detail: Some(serde_json::json!({ "reward_id": f.reward_id })),
            confirms_at: None,
            when_short: WhenShort::Refuse,
        },
        at,
    )?;
    Ok(())
}

/// One write transaction, run again if PostgreSQL chose it as a deadlock's victim (it wrote
/// nothing then).
fn with_conflict_retry<T>(
    conn: &mut DbConnection,
    mut f: impl FnMut(&mut DbConnection) -> Result<T, FulfilmentError>,
) -> Result<T, FulfilmentError> {
    crate::db::retry_conflicts(
        |e: &FulfilmentError| matches!(e, FulfilmentError::Database(d) if crate::db::is_retryable_conflict(d)),
        || write_transaction(conn, &mut f),
    )
}

/// The donations of the shop created in `[start, end)`, cancelled ones left out, per charity.
pub fn donations_report(
    conn: &mut DbConnection,
    shop_id: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Result<DonationTotals, FulfilmentError> {
    let rows = Fulfilment::donations(conn, shop_id, start, end)?;
    Ok(donations::summarise(rows.into_iter().map(|r| Donation {
        charity: r.charity.unwrap_or_default(),
        amount_minor: r.amount_minor.unwrap_or_default(),
        points: r.points,
    })))
}
