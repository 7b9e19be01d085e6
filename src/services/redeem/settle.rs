//! Settling a redemption after the fact: the recovery job for one left pending by a crash, and
//! the owner's cancellation.

use crate::crypto::Keys;
use crate::db::models::{Redemption, Shop};
use crate::db::types::RedemptionStatus;
use crate::db::{write_transaction, Db, DbConnection, DbError};
use crate::jobs;
use crate::platform::{ApiError, PlatformApi, StoreApi};

use super::{credentials, refund};

/// The `resolve_redemption` job: settles a redemption still pending after `RECOVER_AFTER`
/// (the process died mid-redemption) by asking the platform whether its code exists.
pub fn resolve_job(
    conn: &mut DbConnection,
    ctx: &jobs::JobContext,
    job: &crate::db::models::Job,
) -> Result<(), jobs::JobError> {
    let id = serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|p| p.get("redemption_id")?.as_str().map(str::to_owned))
        .ok_or_else(|| jobs::JobError::Permanent("job payload lacks redemption_id".into()))?;
    let redemption = Redemption::find(conn, &job.shop_id, &id)?;
    if redemption.status != RedemptionStatus::Pending {
        return Ok(());
    }
    let shop = Shop::find(conn, &job.shop_id)?;
    let Some(creds) = credentials(&shop, &ctx.keys) else {
        write_transaction(conn, |c| {
            refund(
                c,
                &shop.id,
                &id,
                RedemptionStatus::Failed,
                "no store API access",
            )
        })?;
        return Ok(());
    };
    match ctx
        .runtime
        .block_on(StoreApi::for_shop(&shop, &ctx.shopify).find_discount(&creds, &redemption.code))
    {
        Ok(Some(discount_id)) => {
            Redemption::transition(
                conn,
                &shop.id,
                &id,
                RedemptionStatus::Pending,
                RedemptionStatus::Issued,
                Some(&discount_id),
                None,
            )?;
            Ok(())
        }
        Ok(None) => {
            write_transaction(conn, |c| {
                refund(
                    c,
                    &shop.id,
                    &id,
                    RedemptionStatus::Failed,
                    "the code was never created",
                )
            })?;
            Ok(())
        }
        Err(e) if e.is_transient() => Err(jobs::JobError::Retry(e.to_string())),
        Err(e) => Err(jobs::JobError::Permanent(e.to_string())),
    }
}

/// Why an owner's cancellation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such redemption")]
    NotFound,
    #[error("the redemption is already {0}")]
    Settled(RedemptionStatus),
    #[error("the code was already used on an order; the points stay spent")]
    Used,
    #[error("the shop could not cancel the code: {0}")]
    Platform(ApiError),
    #[error(transparent)]
    Unavailable(#[from] DbError),
}

/// The owner cancels a redemption: the code is removed from the shop and the points come back,
/// unless the code was already used.
pub async fn cancel(
    db: &Db,
    api: &impl PlatformApi,
    keys: &Keys,
    shop: &Shop,
    id: &str,
) -> Result<(), CancelError> {
    let (shop_id, rid) = (shop.id.clone(), id.to_owned());
    let r = db
        .run(move |c| Redemption::find(c, &shop_id, &rid).map_err(DbError::from))
        .await
        .map_err(|e| match e {
            DbError::Query(diesel::result::Error::NotFound) => CancelError::NotFound,
            other => CancelError::Unavailable(other),
        })?;
    if !matches!(
        r.status,
        RedemptionStatus::Pending | RedemptionStatus::Issued
    ) {
        return Err(CancelError::Settled(r.status));
    }
    if let (Some(discount_id), Some(creds)) = (&r.platform_discount_id, credentials(shop, keys)) {
        if api
            .discount_used(&creds, discount_id)
            .await
            .map_err(CancelError::Platform)?
        {
            return Err(CancelError::Used);
        }
        api.delete_discount(&creds, discount_id)
            .await
            .map_err(CancelError::Platform)?;
    }
    let (shop_id, rid) = (shop.id.clone(), id.to_owned());
    db.run(move |c| {
        write_transaction(c, |c| {
            refund(
                c,
                &shop_id,
                &rid,
                RedemptionStatus::Cancelled,
                "cancelled by the shop",
            )
        })
        .map_err(DbError::from)
    })
    .await?;
    Ok(())
}
