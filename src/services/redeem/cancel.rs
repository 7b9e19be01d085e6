//! The owner's cancellation of a redemption.
//!
//! Shopify counts a code's uses late (`asyncUsageCount` is updated asynchronously), so "unused"
//! read at the moment of cancelling cannot be trusted: a code used minutes ago may still read 0.
//! So cancelling happens in two steps:
//! 1. Now: the code is deactivated on the platform, so no new order can use it. If it already
//!    reads as used, the cancellation is refused (409) and the points stay spent. Otherwise the
//!    redemption becomes `cancelling` and a job is queued `USAGE_SETTLES_AFTER` later.
//! 2. The job reads the usage again, once uses made before the deactivation have been counted:
//!    used → the redemption stays issued, points spent; unused → the code is deleted and only
//!    then the points come back.
//!
//! What is refused, changing nothing: a redemption still pending (its code may be being
//! created right now; the recovery job settles it within minutes), a shop without store API
//! access (the code could not be removed, so the points stay spent), a platform without an
//! adapter.

use chrono::{DateTime, Duration, Utc};

use crate::crypto::Keys;
use crate::db::models::{Redemption, Shop};
use crate::db::types::RedemptionStatus;
use crate::db::{now, write_transaction, Db, DbConnection, DbError};
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::{ApiError, PlatformApi, StoreApi};
use crate::queue::{self, Job, JobError, JobKind, JobSpec};

use super::{credentials, refund};

/// How long after deactivating a code its usage count is trusted to include every use made
/// before. Shopify documents no bound; its counts catch up within seconds to minutes.
pub const USAGE_SETTLES_AFTER: Duration = Duration::minutes(15);

/// Why an owner's cancellation was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such redemption")]
    NotFound,
    #[error("the redemption is already {0}")]
    Settled(RedemptionStatus),
    #[error("the code is still being created; try again in a few minutes")]
    InFlight,
    #[error("the code was already used on an order; the points stay spent")]
    Used,
    #[error("the shop has not connected its store API, so the code cannot be removed; the points stay spent")]
    NotConnected,
    #[error("{0}")]
    Unsupported(ApiError),
    #[error("the shop could not cancel the code: {0}")]
    Platform(ApiError),
    #[error(transparent)]
    Unavailable(#[from] DbError),
}

/// A cancellation under way: the code no longer works; the points come back at
/// `points_return_at` unless the platform then counts a use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelStarted {
    pub points_return_at: DateTime<Utc>,
}

/// The owner cancels an issued redemption (see the module docs).
pub async fn cancel(
    db: &Db,
    api: &impl PlatformApi,
    keys: &Keys,
    shop: &Shop,
    id: &str,
) -> Result<CancelStarted, CancelError> {
    let (shop_id, rid) = (shop.id.clone(), id.to_owned());
    let r = db
        .run(move |c| Redemption::find(c, &shop_id, &rid).map_err(DbError::from))
        .await
        .map_err(|e| match e {
            DbError::Query(diesel::result::Error::NotFound) => CancelError::NotFound,
            other => CancelError::Unavailable(other),
        })?;
    match r.status {
        RedemptionStatus::Issued => {}
        RedemptionStatus::Pending => return Err(CancelError::InFlight),
        other => return Err(CancelError::Settled(other)),
    }
    api.check_supported().map_err(CancelError::Unsupported)?;
    let creds = credentials(shop, keys).ok_or(CancelError::NotConnected)?;
    let discount_id = r.platform_discount_id.clone().ok_or_else(|| {
        CancelError::Platform(ApiError::InvalidResponse(
            "no discount id was recorded for this code".into(),
        ))
    })?;
    api.deactivate_discount(&creds, &discount_id)
        .await
        .map_err(CancelError::Platform)?;
    // A use already counted settles it now (a used single-use code stays deactivated: it is
    // spent either way).
    if api
        .discount_used(&creds, &discount_id)
        .await
        .map_err(CancelError::Platform)?
    {
        return Err(CancelError::Used);
    }
    let (shop_id, rid) = (shop.id.clone(), id.to_owned());
    let at = now();
    db.run(move |c| {
        write_transaction(c, |c| {
            let moved = Redemption::transition(
                c,
                &shop_id,
                &rid,
                RedemptionStatus::Issued,
                RedemptionStatus::Cancelling,
                Some(&discount_id),
                None,
            )?;
            if moved {
                queue::enqueue(
                    c,
                    JobSpec {
                        shop_id: shop_id.clone(),
                        kind: JobKind::SettleCancellation,
                        payload: serde_json::json!({ "redemption_id": rid }),
                        dedupe_key: Some(format!("cancel:{rid}")),
                        run_at: at + USAGE_SETTLES_AFTER,
                        max_attempts: 20,
                    },
                )?;
            }
            Ok::<_, diesel::result::Error>(moved)
        })
        .map_err(DbError::from)
    })
    .await?
    .then_some(CancelStarted {
        points_return_at: (at + USAGE_SETTLES_AFTER).and_utc(),
    })
    // Another cancellation got there first.
    .ok_or(CancelError::Settled(RedemptionStatus::Cancelling))
}

/// The `settle_cancellation` job: once the usage count has settled, returns the points of an
/// unused code (deleting it first) or keeps them spent for a used one.
pub fn settle_cancellation_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    job: &Job,
) -> Result<(), JobError> {
    let Some(r) = super::redemption_of_job(conn, job, RedemptionStatus::Cancelling)? else {
        return Ok(());
    };
    let id = r.id.clone();
    let shop = Shop::find(conn, &job.shop_id)?;
    let api = StoreApi::for_shop(&shop, shopify);
    let (Some(creds), Some(discount_id)) =
        (credentials(&shop, keys), r.platform_discount_id.clone())
    else {
        // Usage cannot be read any more: keep the points spent (the code stays deactivated).
        keep_spent(
            conn,
            &shop.id,
            &id,
            "not cancelled: no store API access to check the code",
        )?;
        return Ok(());
    };
    let platform = |e: ApiError| {
        if e.is_transient() {
            JobError::Retry(e.to_string())
        } else {
            JobError::Permanent(e.to_string())
        }
    };
    let used = runtime
        .block_on(api.discount_used(&creds, &discount_id))
        .map_err(platform)?;
    if used {
        keep_spent(
            conn,
            &shop.id,
            &id,
            "not cancelled: the code was used on an order",
        )?;
        return Ok(());
    }
    runtime
        .block_on(api.delete_discount(&creds, &discount_id))
        .map_err(platform)?;
    write_transaction(conn, |c| {
        refund(
            c,
            &shop.id,
            &id,
            RedemptionStatus::Cancelled,
            "cancelled by the shop",
        )
    })?;
    Ok(())
}

/// Ends a cancellation that cannot return the points: back to `issued`, with the reason.
fn keep_spent(conn: &mut DbConnection, shop_id: &str, id: &str, why: &str) -> Result<(), JobError> {
    let r = Redemption::find(conn, shop_id, id)?;
    Redemption::transition(
        conn,
        shop_id,
        id,
        RedemptionStatus::Cancelling,
        RedemptionStatus::Issued,
        r.platform_discount_id.as_deref(),
        Some(why),
    )?;
    Ok(())
}
