//! The tier's customer tag on the platform (Shopify `tagsAdd` / `tagsRemove`), so themes,
//! checkout and the shop's own segments can use it.
//!
//! A change only queues a job with the member's id; the job reads the member's tier when it
//! runs, so several quick changes converge on the last one with one call pair. Why that
//! holds even when a change lands while the job runs:
//! - a change made before the job reads the tier is seen by that read (PostgreSQL: the read
//!   takes a share lock, so it waits for a change that holds the member's row);
//! - a change made after the job was claimed finds it `running` and queues one follow-up job,
//!   which reads the tier again.
//!
//! Only Shopify shops with an access token get tags; WooCommerce and BigCommerce come with
//! their adapters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::Keys;
use crate::db::models::{Member, Shop};
use crate::db::schema::{jobs, members};
use crate::db::types::{JobStatus, Platform};
use crate::db::DbConnection;
use crate::domain::tiers::TierProgram;
use crate::platform::shopify::api::ShopifyApi;
use crate::queue::{self, Job, JobError, JobKind, JobSpec};
use crate::services::program::Program;
use crate::services::redeem::credentials;

/// Attempts before a tag sync is left failed for the operator (backoff doubles to an hour).
const SYNC_ATTEMPTS: i32 = 12;

/// Whether the shop's members get tier tags at all.
pub(super) fn wanted(shop: &Shop, tiers: &TierProgram) -> bool {
    matches!(shop.platform, Platform::Shopify)
        && !shop.is_demo
        && shop.access_token_enc.is_some()
        && tiers.has_customer_tags()
}

/// Queues the tag sync of `member` (one live job per member). Call inside the transaction
/// that changed the member's tier.
pub(super) fn queue_sync(
    conn: &mut DbConnection,
    shop: &Shop,
    member: &Member,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if member.platform_customer_id.is_none()
        || member.merged_into.is_some()
        || member.redacted_at.is_some()
    {
        return Ok(());
    }
    let spec = |dedupe_key: String| JobSpec {
        shop_id: shop.id.clone(),
        kind: JobKind::SyncCustomerTags,
        payload: serde_json::json!({ "member_id": member.id }),
        dedupe_key: Some(dedupe_key),
        run_at: now,
        max_attempts: SYNC_ATTEMPTS,
    };
    if queue::enqueue(conn, spec(member.id.clone()))? {
        return Ok(());
    }
    // A queued job will read this change. A running one may have read the tier before it:
    // one follow-up per running job reads it again.
    let running: Option<String> = jobs::table
        .filter(jobs::shop_id.eq(&shop.id))
        .filter(jobs::kind.eq(JobKind::SyncCustomerTags.as_str()))
        .filter(jobs::dedupe_key.eq(&member.id))
        .filter(jobs::status.eq(JobStatus::Running.as_str()))
        .select(jobs::id)
        .first(conn)
        .optional()?;
    if let Some(running) = running {
        queue::enqueue(conn, spec(format!("{}/after/{running}", member.id)))?;
    }
    Ok(())
}

/// The `sync_customer_tags` job: puts the current tier's tag on the member's customer and
/// takes the other levels' tags off.
pub fn sync_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    job: &Job,
) -> Result<(), JobError> {
    let member_id = serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|p| p.get("member_id")?.as_str().map(str::to_owned))
        .ok_or_else(|| JobError::Permanent("job payload lacks member_id".into()))?;
    let shop = Shop::find(conn, &job.shop_id)?;
    let Some(member) = current(conn, &shop.id, &member_id)? else {
        return Ok(());
    };
    let Some(customer) = member.platform_customer_id.as_deref() else {
        return Ok(());
    };
    if member.merged_into.is_some() || member.redacted_at.is_some() {
        return Ok(());
    }
    let creds = credentials(&shop, keys)
        .ok_or_else(|| JobError::Permanent("no store API access".into()))?;
    let changes = Program::of(&shop)
        .tier_program()
        .tag_changes(member.tier.as_deref());
    // Add first: a member moving between tiers is never left without one for long.
    if !changes.add.is_empty() {
        runtime.block_on(shopify.add_customer_tags(&creds, customer, &changes.add))?;
    }
    if !changes.remove.is_empty() {
        runtime.block_on(shopify.remove_customer_tags(&creds, customer, &changes.remove))?;
    }
    tracing::info!(member = %member.id, tier = ?member.tier, "customer tags synced");
    Ok(())
}

/// The member as committed; on PostgreSQL the share lock waits for a transaction changing
/// the member's tier (it holds the row) to end, so the job never reads a tier about to change.
fn current(conn: &mut DbConnection, shop_id: &str, member_id: &str) -> QueryResult<Option<Member>> {
    let query = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::id.eq(member_id));
    match conn {
        DbConnection::Postgresql(c) => query
            .select(Member::as_select())
            .for_share()
            .first(c)
            .optional(),
        DbConnection::Sqlite(c) => query.select(Member::as_select()).first(c).optional(),
    }
}
