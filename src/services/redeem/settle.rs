//! Settling a redemption: the outcome of the create call, and the recovery job for one left
//! pending (a crash, or an answer that never came).

use crate::crypto::Keys;
use crate::db::models::{Redemption, Shop};
use crate::db::types::RedemptionStatus;
use crate::db::{write_transaction, Db, DbConnection, DbError};
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::{ApiError, DiscountRequest, PlatformApi, ShopCredentials, StoreApi};
use crate::queue::{Job, JobError};

use super::{credentials, refund, Issued, RedeemError};

/// The `resolve_redemption` job: settles a redemption still pending after `RECOVER_AFTER`
/// (the process died mid-redemption) by asking the platform whether its code exists.
pub fn resolve_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    job: &Job,
) -> Result<(), JobError> {
    let Some(redemption) = super::redemption_of_job(conn, job, RedemptionStatus::Pending)? else {
        return Ok(());
    };
    let id = redemption.id.clone();
    let shop = Shop::find(conn, &job.shop_id)?;
    let Some(creds) = credentials(&shop, keys) else {
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
    match runtime
        .block_on(StoreApi::for_shop(&shop, shopify).find_discount(&creds, &redemption.code))
    {
        Ok(Some(discount_id)) => {
            super::mark_issued(conn, &shop.id, &id, &discount_id)?;
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
        Err(e @ (ApiError::Unsupported(_) | ApiError::NoApiKeys(_))) => {
            write_transaction(conn, |c| {
                refund(c, &shop.id, &id, RedemptionStatus::Failed, &e.to_string())
            })?;
            Ok(())
        }
        Err(e) if e.is_transient() => Err(JobError::Retry(e.to_string())),
        Err(e) => Err(JobError::Permanent(e.to_string())),
    }
}

/// What became of a create call.
pub(crate) enum Created {
    Yes(String),
    /// The platform did not create the code.
    No(ApiError),
    /// The code may or may not exist, and the platform could not be asked.
    Unknown(ApiError),
}

/// Asks the platform for the code. A failure that may hide a created code (a lost answer,
/// or "code must be unique" because the lost attempt made it) is checked by looking the code
/// up: codes carry ~49 random bits, so a code with this text in this shop is the one asked for.
pub(crate) async fn create(
    api: &impl PlatformApi,
    creds: &ShopCredentials,
    req: &DiscountRequest,
) -> Created {
    match api.create_discount(creds, req).await {
        Ok(id) => Created::Yes(id),
        Err(e) if e.may_have_created() => match api.find_discount(creds, &req.code).await {
            Ok(Some(id)) => Created::Yes(id),
            Ok(None) => Created::No(e),
            Err(lookup) => {
                tracing::warn!(error = %lookup, "looking up a code after a failed create");
                Created::Unknown(e)
            }
        },
        Err(e) => Created::No(e),
    }
}

/// Marks the redemption issued and hands the code out. If the recovery job settled it
/// meanwhile (the call outlasted `RECOVER_AFTER`), the code is handed out only if the job found
/// it; otherwise the points were returned and the code just created is removed again.
pub(super) async fn hand_out(
    db: &Db,
    api: &impl PlatformApi,
    creds: &ShopCredentials,
    shop: &Shop,
    redemption: Redemption,
    discount_id: &str,
) -> Result<Issued, RedeemError> {
    let (shop_id, id, did) = (
        shop.id.clone(),
        redemption.id.clone(),
        discount_id.to_owned(),
    );
    let current = db
        .run(move |c| {
            super::mark_issued(c, &shop_id, &id, &did)?;
            Redemption::find(c, &shop_id, &id).map_err(DbError::from)
        })
        .await?;
    let ours = current.status == RedemptionStatus::Issued
        && current.platform_discount_id.as_deref() == Some(discount_id);
    if !ours {
        if let Err(e) = api.delete_discount(creds, discount_id).await {
            tracing::error!(error = %e, redemption = %redemption.id, discount_id, "could not remove a code created after its redemption was settled");
        }
        return Err(RedeemError::SettledMeanwhile);
    }
    Ok(Issued {
        redemption_id: redemption.id,
        code: redemption.code,
        points: redemption.points,
        expires_at: redemption.expires_at.and_utc(),
    })
}
