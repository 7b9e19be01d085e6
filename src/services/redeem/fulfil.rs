//! Redeeming a reward the owner gives by hand (a donation, a custom reward): one write
//! transaction spends the points and opens the fulfilment. No platform is asked anything, so
//! it works on every platform and for shops without store API access.
//!
//! The debit is the same ledger posting as a discount code's (kind `redeem`, refused when
//! short) and takes the member's row lock, so concurrent redeems of one balance never overspend.

use chrono::NaiveDateTime;

use crate::db::models::{Fulfilment, Shop};
use crate::db::types::FulfilmentStatus;
use crate::db::{new_id, now, write_transaction, Db, DbConnection};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::rewards::RewardKind;
use crate::services::fulfilments::LEDGER_SOURCE;
use crate::services::ledger::{self, Posting, WhenShort};

use super::{eligible, RedeemError};

/// A fulfilment opened for the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub fulfilment_id: String,
    /// `donation` or `custom`.
    pub kind: &'static str,
    pub points: i64,
}

/// Spends the points on `reward_id` (a donation or custom reward) and opens its fulfilment.
pub(super) async fn open(
    db: &Db,
    shop: &Shop,
    customer_id: &str,
    reward_id: &str,
    asked: Option<i64>,
) -> Result<Opened, RedeemError> {
    let (shop, customer, reward_id) = (shop.clone(), customer_id.to_owned(), reward_id.to_owned());
    // As for codes: a PostgreSQL deadlock victim wrote nothing, so run it again.
    db.run(move |c| {
        crate::db::retry_conflicts(
            |e: &RedeemError| {
                matches!(e, RedeemError::Database(d) if crate::db::is_retryable_conflict(d))
            },
            || write_transaction(c, |c| debit(c, &shop, &customer, &reward_id, asked, now())),
        )
    })
    .await
}

fn debit(
    conn: &mut DbConnection,
    shop: &Shop,
    customer_id: &str,
    reward_id: &str,
    asked: Option<i64>,
    at: NaiveDateTime,
) -> Result<Opened, RedeemError> {
    let (member, reward, cost) = eligible(conn, shop, customer_id, reward_id, asked)?;
    let (charity, amount_minor, description) = match &reward.kind {
        RewardKind::Donation {
            charity,
            amount_minor,
        } => (Some(charity.clone()), Some(*amount_minor), None),
        RewardKind::Custom { description } => (None, None, Some(description.clone())),
        _ => {
            return Err(RedeemError::Invalid(
                "this reward gives a discount code, not a fulfilment".into(),
            ))
        }
    };
    let posting = Posting {
        shop_id: shop.id.clone(),
        member_id: member.id.clone(),
        delta: -cost,
        kind: LedgerKind::Redeem,
        status: LedgerStatus::Confirmed,
        reason: Some(reward.title.clone()),
        source: LEDGER_SOURCE.into(),
        source_id: new_id(),
        action: "debit".into(),
        detail: Some(serde_json::json!({ "reward_id": reward.id, "kind": reward.kind.name() })),
        confirms_at: None,
        when_short: WhenShort::Refuse,
    };
    ledger::post(conn, &posting, at)?;
    let fulfilment = Fulfilment {
        id: posting.source_id.clone(),
        shop_id: shop.id.clone(),
        member_id: member.id.clone(),
        ledger_key: posting.idempotency_key(),
        reward_id: reward.id.clone(),
        reward_title: reward.title.clone(),
        kind: reward.kind.name().to_owned(),
        charity,
        amount_minor,
        description,
        points: cost,
        status: FulfilmentStatus::Open,
        done_at: None,
        done_by: None,
        created_at: at,
        updated_at: at,
    };
    fulfilment.insert(conn)?;
    // Told in the same transaction: a refused or rolled-back redeem tells nothing.
    crate::services::outgoing::reward_fulfilment_opened(conn, &fulfilment, &member, at)?;
    Ok(Opened {
        fulfilment_id: fulfilment.id,
        kind: reward.kind.name(),
        points: cost,
    })
}
