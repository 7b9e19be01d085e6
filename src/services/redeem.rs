//! Spending points on a reward.
//!
//! 1. One write transaction: lock the member, debit the points (refused below zero, so 50
//!    concurrent redeems of one balance give one success), record a `pending` redemption with
//!    its code, and queue a recovery job.
//! 2. Ask the platform for the code (throttles are retried inside the call).
//! 3. Success → `issued`. Refusal or outage → `failed` and the points come back in the ledger.
//!    An answer that may hide a created code (a timeout, or "code must be unique" on a retry
//!    of an attempt whose answer was lost) is checked by looking the code up; if even that
//!    fails, the redemption stays pending for the recovery job rather than refunding points
//!    for a code that may be live.
//!
//! If the process dies between 1 and 3, the recovery job asks the platform whether the code
//! exists and finishes the redemption either way: no code is handed out twice (codes are unique
//! per shop, single-use and tied to the customer) and no points are lost.
//!
//! A reward given rather than bought (a tier's entry reward) is a redemption of no points
//! whose code a job creates through the same create-or-recover path (`redeem/grant.rs`).
//! Donation and custom rewards need no code: one write transaction spends the points and opens
//! a fulfilment for the owner (`fulfil`), on every platform, with or without store API access.

use chrono::{Duration, NaiveDateTime, Utc};
use secrecy::ExposeSecret;

use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::{Member, Redemption, Shop};
use crate::db::types::RedemptionStatus;
use crate::db::{now, write_transaction, Db, DbConnection, DbError};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::rewards::Reward;
use crate::platform::shopify::api::TokenExpiry;
use crate::platform::{ApiError, PlatformApi, ShopCredentials};
use crate::queue::{self, Job, JobError, JobKind, JobSpec};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};
use crate::services::program::Program;

mod cancel;
mod code;
mod fulfil;
mod grant;
mod settle;

pub use cancel::{
    cancel, settle_cancellation_job, CancelError, CancelStarted, USAGE_SETTLES_AFTER,
};
use code::{bought_title, new_redemption, request};
pub use fulfil::Opened;
pub use grant::{give_up_granted, grant, issue_granted_job};
pub use settle::resolve_job;
pub(crate) use settle::{create as create_code, Created};

/// How long a redemption may stay pending before the recovery job settles it.
pub const RECOVER_AFTER: Duration = Duration::minutes(5);

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("no reward {0:?} in this shop's catalog")]
    UnknownReward(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Invalid(String),
    #[error("only members can redeem; log in first")]
    NotAMember,
    #[error("not enough points: {balance} spendable, {cost} needed")]
    InsufficientPoints { balance: i64, cost: i64 },
    #[error("the shop could not create the code ({0}); your points were returned")]
    Platform(ApiError),
    #[error("the shop has not connected its store API; your points were returned")]
    NotConnected,
    #[error("{0}")]
    Unsupported(ApiError),
    #[error("this reward cannot be redeemed as set up ({0}); your points were returned")]
    InvalidDiscount(ApiError),
    #[error("the shop did not confirm the code in time; your points are held and come back within minutes if it was not created")]
    Unconfirmed,
    #[error("the code took too long to create and the redemption was settled meanwhile; your points were returned")]
    SettledMeanwhile,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Unavailable(#[from] DbError),
}

impl From<LedgerError> for RedeemError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::InsufficientPoints { balance, wanted } => Self::InsufficientPoints {
                balance,
                cost: wanted,
            },
            LedgerError::Database(d) => Self::Database(d),
            other => Self::Invalid(other.to_string()),
        }
    }
}

/// A code handed to the shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub redemption_id: String,
    pub code: String,
    pub points: i64,
    pub expires_at: chrono::DateTime<Utc>,
}

/// What a redemption gave the shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// A discount code to use at checkout.
    Code(Issued),
    /// A donation or custom reward the owner now fulfils.
    Fulfilment(Opened),
}

/// Spends `customer_id`'s points on `reward_id` (`points` for variable rewards).
pub async fn redeem(
    db: &Db,
    api: &impl PlatformApi,
    keys: &Keys,
    shop: &Shop,
    customer_id: &str,
    reward_id: &str,
    points: Option<i64>,
) -> Result<Redeemed, RedeemError> {
    // Decided on the same catalog the debit reads (`shop`'s program), before the platform
    // checks: a reward the owner gives by hand needs no adapter and no access token.
    let owner_fulfils = Program::of(shop)
        .catalog()
        .iter()
        .any(|r| r.id == reward_id && r.kind.fulfilled_by_owner());
    if owner_fulfils {
        return fulfil::open(db, shop, customer_id, reward_id, points)
            .await
            .map(Redeemed::Fulfilment);
    }
    issue_code(db, api, keys, shop, customer_id, reward_id, points)
        .await
        .map(Redeemed::Code)
}

/// Spends the points on a discount code (the module docs tell the steps).
async fn issue_code(
    db: &Db,
    api: &impl PlatformApi,
    keys: &Keys,
    shop: &Shop,
    customer_id: &str,
    reward_id: &str,
    points: Option<i64>,
) -> Result<Issued, RedeemError> {
    // Before any points move: a shop whose platform has no adapter cannot get a code.
    api.check_supported().map_err(RedeemError::Unsupported)?;
    let credentials = credentials(shop, keys);
    let (shop_row, customer, reward_id) =
        (shop.clone(), customer_id.to_owned(), reward_id.to_owned());
    // A redeem waiting for a member's row lock can be chosen as a deadlock's victim on
    // PostgreSQL (batched webhook applies lock several members); it wrote nothing, so run it again.
    let (redemption, reward) = db
        .run(move |c| {
            crate::db::retry_conflicts(
                |e: &RedeemError| {
                    matches!(e, RedeemError::Database(d) if crate::db::is_retryable_conflict(d))
                },
                || {
                    write_transaction(c, |c| {
                        debit(c, &shop_row, &customer, &reward_id, points, now())
                    })
                },
            )
        })
        .await?;
    let Some(creds) = credentials else {
        refund_failed(db, shop, &redemption.id, "no store API access").await?;
        return Err(RedeemError::NotConnected);
    };
    let title = bought_title(&reward, redemption.points);
    let Some(req) = request(shop, customer_id, &redemption, &reward, title) else {
        // Unreachable through `redeem`, which sends these rewards to `fulfil`; refusing here
        // keeps a code from ever being made for a reward that has none.
        refund_failed(db, shop, &redemption.id, "this reward gives no code").await?;
        return Err(RedeemError::Invalid(
            "this reward gives no discount code".into(),
        ));
    };
    match settle::create(api, &creds, &req).await {
        Created::Yes(discount_id) => {
            settle::hand_out(db, api, &creds, shop, redemption, &discount_id).await
        }
        Created::No(e) => {
            refund_failed(db, shop, &redemption.id, &e.to_string()).await?;
            Err(match e {
                ApiError::InvalidDiscount(_) => RedeemError::InvalidDiscount(e),
                _ => RedeemError::Platform(e),
            })
        }
        // Refunding now could leave a live code the shopper never sees with the points back;
        // the recovery job queued with the debit looks the code up again and settles it.
        Created::Unknown(e) => {
            tracing::warn!(error = %e, redemption = %redemption.id, "code creation unconfirmed; left to the recovery job");
            Err(RedeemError::Unconfirmed)
        }
    }
}

/// Ends a redemption whose code was not created as `failed`, giving the points back.
async fn refund_failed(db: &Db, shop: &Shop, id: &str, why: &str) -> Result<(), RedeemError> {
    let (shop_id, id, why) = (shop.id.clone(), id.to_owned(), why.to_owned());
    db.run(move |c| {
        write_transaction(c, |c| {
            refund(c, &shop_id, &id, RedemptionStatus::Failed, &why)
        })
        .map_err(DbError::from)
    })
    .await?;
    Ok(())
}

/// What the shop's store API is called with: the access token (Shopify; BigCommerce, whose
/// calls go to the shop's `api_base`, else `BIGCOMMERCE_API_BASE`: see `BcApi`), or for
/// WooCommerce the consumer key and secret as the `key:secret` pair Basic auth sends. `None`:
/// the shop gave the app no access.
pub(crate) fn credentials(shop: &Shop, keys: &Keys) -> Option<ShopCredentials> {
    if shop.is_demo {
        return Some(crate::platform::demo::DemoStore::credentials(shop));
    }
    if shop.platform == crate::db::types::Platform::WooCommerce {
        let unseal = |sealed: Option<&str>, field| {
            keys.unseal(sealed?, SealedFor::new(&shop.id, field)).ok()
        };
        let key = unseal(shop.consumer_key_enc.as_deref(), SealedField::ConsumerKey)?;
        let secret = unseal(
            shop.consumer_secret_enc.as_deref(),
            SealedField::ConsumerSecret,
        )?;
        return Some(ShopCredentials {
            domain: shop.domain.clone(),
            access_token: crate::platform::woocommerce::api::key_pair(
                key.expose_secret(),
                secret.expose_secret(),
            ),
            api_base: shop.api_base.clone(),
            expiry: None,
        });
    }
    let token = keys
        .unseal(
            shop.access_token_enc.as_deref()?,
            SealedFor::new(&shop.id, SealedField::AccessToken),
        )
        .ok()?;
    Some(ShopCredentials {
        domain: shop.domain.clone(),
        access_token: token,
        api_base: shop.api_base.clone(),
        expiry: TokenExpiry::of(&shop.id, shop.access_token_expires_at),
    })
}

/// The redemption a redemption job is about, if it is still in `status` (a job that finds it
/// moved on has nothing left to do).
fn redemption_of_job(
    conn: &mut DbConnection,
    job: &Job,
    status: RedemptionStatus,
) -> Result<Option<Redemption>, JobError> {
    let id = serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|p| p.get("redemption_id")?.as_str().map(str::to_owned))
        .ok_or_else(|| JobError::Permanent("job payload lacks redemption_id".into()))?;
    let redemption = Redemption::find(conn, &job.shop_id, &id)?;
    Ok((redemption.status == status).then_some(redemption))
}

/// The member, the reward and its price, if this member may redeem it now.
fn eligible(
    conn: &mut DbConnection,
    shop: &Shop,
    customer_id: &str,
    reward_id: &str,
    asked: Option<i64>,
) -> Result<(Member, Reward, i64), RedeemError> {
    let member =
        Member::find_by_customer_id(conn, &shop.id, customer_id)?.ok_or(RedeemError::NotAMember)?;
    let program = Program::of(shop);
    let reward = program
        .catalog()
        .iter()
        .find(|r| r.id == reward_id)
        .cloned()
        .ok_or_else(|| RedeemError::UnknownReward(reward_id.to_owned()))?;
    if !reward.active {
        return Err(RedeemError::NotAllowed(
            "this reward is not available now".into(),
        ));
    }
    if let Some(tier) = &reward.tier {
        // This tier and every higher one; a tier no longer in the program admits no one.
        let tiers = program.tier_program();
        let held = member.tier.as_deref().and_then(|t| tiers.rank(t));
        let needed = tiers.rank(tier);
        if needed.is_none() || held < needed {
            let name = tiers.level(tier).map_or(tier.as_str(), |l| l.name.as_str());
            return Err(RedeemError::NotAllowed(format!(
                "this reward is for {name} members and above"
            )));
        }
    }
    let cost = reward
        .price(asked)
        .map_err(|e| RedeemError::Invalid(e.into()))?;
    Ok((member, reward, cost))
}

fn debit(
    conn: &mut DbConnection,
    shop: &Shop,
    customer_id: &str,
    reward_id: &str,
    asked: Option<i64>,
    at: NaiveDateTime,
) -> Result<(Redemption, Reward), RedeemError> {
    let (member, reward, cost) = eligible(conn, shop, customer_id, reward_id, asked)?;
    let program = Program::of(shop);
    let redemption = new_redemption(shop, &program, &member.id, &reward, cost, at)
        .map_err(|e| RedeemError::Invalid(e.to_string()))?;
    ledger::post(
        conn,
        &Posting {
            shop_id: shop.id.clone(),
            member_id: member.id.clone(),
            delta: -cost,
            kind: LedgerKind::Redeem,
            status: LedgerStatus::Confirmed,
            reason: Some(reward.title.clone()),
            source: "redemption".into(),
            source_id: redemption.id.clone(),
            action: "debit".into(),
            detail: Some(serde_json::json!({ "reward_id": reward.id, "code": redemption.code })),
            confirms_at: None,
            when_short: WhenShort::Refuse,
        },
        at,
    )?;
    redemption.insert(conn)?;
    queue::enqueue(
        conn,
        JobSpec {
            shop_id: shop.id.clone(),
            kind: JobKind::ResolveRedemption,
            payload: serde_json::json!({ "redemption_id": redemption.id }),
            dedupe_key: Some(redemption.id.clone()),
            run_at: at + RECOVER_AFTER,
            max_attempts: 20,
        },
    )?;
    Ok((redemption, reward))
}

/// Ends a pending, issued or cancelling redemption as `to` and gives the points back, once.
pub fn refund(
    conn: &mut DbConnection,
    shop_id: &str,
    id: &str,
    to: RedemptionStatus,
    why: &str,
) -> Result<bool, diesel::result::Error> {
    let r = Redemption::find(conn, shop_id, id)?;
    if !matches!(
        r.status,
        RedemptionStatus::Pending | RedemptionStatus::Issued | RedemptionStatus::Cancelling
    ) {
        return Ok(false);
    }
    // Guarded by the status it was read in: a concurrent settlement makes this a no-op.
    if !Redemption::transition(
        conn,
        shop_id,
        id,
        r.status,
        to,
        r.platform_discount_id.as_deref(),
        Some(why),
    )? {
        return Ok(false);
    }
    // A reward given rather than bought took no points: there is nothing to give back.
    if r.points == 0 {
        return Ok(true);
    }
    let posted = ledger::post(
        conn,
        &Posting {
            shop_id: shop_id.to_owned(),
            member_id: r.member_id.clone(),
            delta: r.points,
            kind: LedgerKind::RedeemRefund,
            status: LedgerStatus::Confirmed,
            reason: Some(match to {
                RedemptionStatus::Cancelled => "Reward cancelled: points returned".into(),
                _ => "Reward could not be issued: points returned".into(),
            }),
            source: "redemption".into(),
            source_id: id.to_owned(),
            action: "refund".into(),
            detail: Some(serde_json::json!({ "why": why })),
            confirms_at: None,
            when_short: WhenShort::Refuse,
        },
        now(),
    );
    match posted {
        Ok(_) => Ok(true),
        Err(LedgerError::Database(e)) => Err(e),
        Err(other) => Err(diesel::result::Error::QueryBuilderError(
            other.to_string().into(),
        )),
    }
}

/// Marks a pending redemption issued with its platform discount, and queues the
/// `reward_issued` mail in the same transaction. `false` when it was no longer pending.
pub(crate) fn mark_issued(
    conn: &mut DbConnection,
    shop_id: &str,
    redemption_id: &str,
    discount_id: &str,
) -> Result<bool, diesel::result::Error> {
    write_transaction(conn, |c| {
        let moved = Redemption::transition(
            c,
            shop_id,
            redemption_id,
            RedemptionStatus::Pending,
            RedemptionStatus::Issued,
            Some(discount_id),
            None,
        )?;
        if moved {
            let redemption = Redemption::find(c, shop_id, redemption_id)?;
            let shop = Shop::find(c, shop_id)?;
            let member = Member::find(c, shop_id, &redemption.member_id)?;
            let title = serde_json::from_str::<Reward>(&redemption.reward)
                .map(|r| r.title)
                .unwrap_or_else(|_| redemption.reward_id.clone());
            crate::services::outgoing::reward_issued(c, &redemption, &member, &title, now())?;
            crate::services::mail::queue(
                c,
                &shop,
                &Program::of(&shop),
                &member,
                crate::domain::mail::Kind::RewardIssued,
                &format!("redemption:{redemption_id}"),
                serde_json::json!({
                    "reward_title": title,
                    "reward_code": redemption.code,
                    "reward_expires_on": redemption.expires_at.date(),
                    "points": redemption.points,
                }),
                now(),
            )?;
        }
        Ok(moved)
    })
}
