//! The job registry: from each [`JobKind`] to the service function that runs it, so any job's
//! behaviour is one hop from here.

use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::{now, write_transaction, DbConnection};
use crate::platform::shopify::api::ShopifyApi;
use crate::queue::{Job, JobError, JobKind};

/// What jobs need besides the database.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub keys: Keys,
    pub shopify: ShopifyApi,
    /// For jobs that call platform APIs from the blocking worker thread.
    pub runtime: tokio::runtime::Handle,
    /// `WEBHOOK_RETENTION_DAYS`, for the retention job.
    pub webhook_retention_days: u32,
    /// The mail transport and sender, for the outbox.
    pub mail: crate::services::mail::MailSetup,
    /// `BIGCOMMERCE_API_BASE`: where BigCommerce shops added without their own `--api-base`
    /// are called.
    pub bigcommerce_api_base: String,
}

/// How many due jobs of `kind` (one shop's) one claim takes to run together; 1 for kinds that
/// run one at a time.
pub(super) fn batch_limit(kind: &str) -> usize {
    if kind == JobKind::FetchBigCommerceOrder.as_str() {
        crate::services::reconcile::bigcommerce::fetch::BATCH
    } else {
        1
    }
}

/// Runs the jobs of one claim (see [`batch_limit`]); one outcome per job, in order.
pub(super) fn execute_batch(
    conn: &mut DbConnection,
    ctx: &JobContext,
    jobs: &[Job],
) -> Vec<Result<(), JobError>> {
    match jobs {
        [first, ..] if first.kind == JobKind::FetchBigCommerceOrder.as_str() => {
            crate::services::reconcile::bigcommerce::fetch::fetch_batch(
                conn,
                &ctx.runtime,
                &ctx.shopify,
                &ctx.keys,
                &ctx.bigcommerce_api_base,
                jobs,
            )
        }
        _ => jobs.iter().map(|job| execute(conn, ctx, job)).collect(),
    }
}

/// Runs one claimed job.
fn execute(conn: &mut DbConnection, ctx: &JobContext, job: &Job) -> Result<(), JobError> {
    let kind: JobKind = job
        .kind
        .parse()
        .map_err(|e: crate::db::types::UnknownValue| JobError::Permanent(e.to_string()))?;
    match kind {
        JobKind::ApplyInboxEvent => crate::services::apply::run_job(conn, job),
        JobKind::ConfirmPoints => {
            write_transaction(conn, |c| {
                let now = now();
                crate::services::ledger::confirm_due(c, &job.shop_id, now)?;
                // Orders whose return window passed start counting for tiers: upgrades happen
                // in this same transaction.
                let shop = Shop::find(c, &job.shop_id)?;
                crate::services::tiers::count_and_assess(c, &shop, now)
                    .map_err(crate::services::ledger::LedgerError::from)?;
                // Referrals settle when their order's points would confirm.
                crate::services::referrals::settle_due(c, &shop, now)
            })?;
            Ok(())
        }
        JobKind::TierReview => {
            let shop = Shop::find(conn, &job.shop_id)?;
            let pass = crate::services::tiers::review_due(conn, &shop, now())?;
            tracing::info!(?pass, "tier review ran");
            Ok(())
        }
        JobKind::ReevaluateTiers => {
            let pass = crate::services::tiers::reevaluate_all(conn, &job.shop_id, now())?;
            tracing::info!(?pass, "tiers re-evaluated after a program change");
            Ok(())
        }
        JobKind::SyncCustomerTags => {
            crate::services::tiers::sync_tags_job(conn, &ctx.runtime, &ctx.shopify, &ctx.keys, job)
        }
        JobKind::DeliverEmails => {
            crate::services::mail::deliver_job(conn, &ctx.runtime, &ctx.mail, &ctx.keys, job)
        }
        JobKind::DeliverWebhooks => {
            crate::services::outgoing::deliver_job(conn, &ctx.runtime, &ctx.keys, job)
        }
        JobKind::IssueGrantedReward => crate::services::redeem::issue_granted_job(
            conn,
            &ctx.runtime,
            &ctx.shopify,
            &ctx.keys,
            job,
        ),
        JobKind::AwardBirthdays => {
            write_transaction(conn, |c| {
                let shop = Shop::find(c, &job.shop_id)?;
                let zone = crate::domain::calendar::zone(&shop.timezone);
                let today = crate::domain::calendar::local_date(zone, now());
                crate::services::birthdays::award_due(c, &shop, today)
            })?;
            Ok(())
        }
        JobKind::ResolveRedemption => {
            crate::services::redeem::resolve_job(conn, &ctx.runtime, &ctx.shopify, &ctx.keys, job)
        }
        JobKind::SettleCancellation => crate::services::redeem::settle_cancellation_job(
            conn,
            &ctx.runtime,
            &ctx.shopify,
            &ctx.keys,
            job,
        ),
        JobKind::EraseWebhookBodies => {
            let erased = crate::services::compliance::erase_webhook_bodies(conn, job)?;
            tracing::info!(
                erased,
                "erased the stored webhook bodies of a redacted customer"
            );
            Ok(())
        }
        JobKind::Retention => {
            let report = crate::services::data_retention::run(
                conn,
                &job.shop_id,
                ctx.webhook_retention_days,
                now(),
            )?;
            tracing::info!(?report, "retention ran");
            Ok(())
        }
        JobKind::SegmentCustomers => {
            crate::services::retention::daily_job(conn, &ctx.runtime, &ctx.shopify, &ctx.keys, job)
        }
        JobKind::ExpirePoints => {
            let shop = Shop::find(conn, &job.shop_id)?;
            crate::services::expiry::run(conn, &shop, now())?;
            Ok(())
        }
        JobKind::SyncCollections => {
            use crate::services::reconcile::ReconcileError;
            let shop = Shop::find(conn, &job.shop_id)?;
            match crate::services::collections::sync(
                conn,
                &ctx.runtime,
                &ctx.shopify,
                &ctx.keys,
                &shop,
            ) {
                Ok(_) => Ok(()),
                Err(ReconcileError::Skipped(why)) => {
                    tracing::info!(reason = %why, "collection sync skipped");
                    Ok(())
                }
                Err(ReconcileError::Api(e)) if !e.is_transient() => {
                    Err(JobError::Permanent(e.to_string()))
                }
                Err(ReconcileError::Database(e)) => Err(JobError::from(e)),
                Err(e) => Err(JobError::Retry(e.to_string())),
            }
        }
        JobKind::BackfillOrders => crate::services::install::backfill::run(
            conn,
            &ctx.runtime,
            &ctx.shopify,
            &ctx.keys,
            &ctx.bigcommerce_api_base,
            job,
        ),
        JobKind::FetchBigCommerceOrder => {
            crate::services::reconcile::bigcommerce::fetch::fetch_batch(
                conn,
                &ctx.runtime,
                &ctx.shopify,
                &ctx.keys,
                &ctx.bigcommerce_api_base,
                std::slice::from_ref(job),
            )
            .pop()
            .unwrap_or(Ok(()))
        }
        JobKind::RegisterBigCommerceHooks => crate::services::install::bigcommerce::hooks_job::run(
            conn,
            &ctx.runtime,
            &ctx.shopify,
            &ctx.keys,
            &ctx.bigcommerce_api_base,
            job,
        ),
        JobKind::ReconcileOrders => {
            use crate::services::reconcile::{run, ReconcileError};
            match run(
                conn,
                &ctx.runtime,
                &ctx.shopify,
                &ctx.keys,
                &ctx.bigcommerce_api_base,
                &job.shop_id,
            ) {
                Ok(_) => Ok(()),
                Err(ReconcileError::Skipped(why)) => {
                    tracing::info!(reason = %why, "reconciliation skipped");
                    Ok(())
                }
                Err(ReconcileError::Api(e)) if !e.is_transient() => {
                    Err(JobError::Permanent(e.to_string()))
                }
                Err(ReconcileError::Database(e)) => Err(JobError::from(e)),
                Err(e) => Err(JobError::Retry(e.to_string())),
            }
        }
    }
}

/// What a job that gives up leaves for the owner to see.
pub(super) fn gave_up(
    conn: &mut DbConnection,
    job: &Job,
    error: &str,
) -> Result<(), diesel::result::Error> {
    if job.kind == JobKind::ApplyInboxEvent.as_str() {
        // The event stays stored; marked failed, it shows in the owner's list of failed
        // webhooks (and can be replayed) instead of staying `pending` forever.
        crate::services::apply::give_up(conn, job, error)?;
    }
    if job.kind == JobKind::IssueGrantedReward.as_str() {
        // A code never created: the redemption ends `failed` instead of pending forever.
        crate::services::redeem::give_up_granted(conn, job, error)?;
    }
    Ok(())
}

/// Why a failed job cannot usefully run again, if it cannot: giving up settled its outcome, and
/// a retry would end `done` having done nothing (see [`gave_up`]).
pub fn settled_by_giving_up(job: &Job) -> Option<&'static str> {
    (job.kind == JobKind::IssueGrantedReward.as_str()).then_some(
        "giving up marked the reward failed and gave its points back; the member can redeem again",
    )
}
