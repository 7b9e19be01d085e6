//! Each time the owner opens the app (the Load Callback), a job makes sure the store's webhooks
//! are registered: BigCommerce deactivates a hook after two days of failed deliveries and
//! deletes them all on uninstall, and an owner may have removed one by hand. The registration
//! is idempotent (`hooks::register` creates what is missing, updates the app's own, deletes
//! their duplicates), and runs in a job so the load answers without waiting for BigCommerce.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::types::{InstallState, Platform};
use crate::db::DbConnection;
use crate::platform::bigcommerce::api::BcApi;
use crate::platform::bigcommerce::hooks;
use crate::platform::shopify::api::ShopifyApi;
use crate::queue::{self, Job, JobError, JobKind, JobSpec};
use crate::services::reconcile::bigcommerce::fetch;

/// Attempts of one registration: transient API errors are retried with the queue's backoff.
const ATTEMPTS: i32 = 5;

/// Queues a registration of `shop`'s webhooks to `destination` (the app's webhook URL for the
/// shop, from `PUBLIC_URL`); `false` when one is already waiting.
pub fn enqueue(
    conn: &mut DbConnection,
    shop: &Shop,
    destination: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    queue::enqueue(
        conn,
        JobSpec {
            shop_id: shop.id.clone(),
            kind: JobKind::RegisterBigCommerceHooks,
            payload: json!({ "destination": destination }),
            // Many loads while one waits: one registration is enough.
            dedupe_key: Some("bigcommerce-hooks".into()),
            run_at: now,
            max_attempts: ATTEMPTS,
        },
    )
}

/// The `register_bigcommerce_hooks` job.
pub fn run(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    default_base: &str,
    job: &Job,
) -> Result<(), JobError> {
    let destination = serde_json::from_str::<Value>(&job.payload)
        .ok()
        .and_then(|p| Some(p.get("destination")?.as_str()?.to_owned()))
        .ok_or_else(|| JobError::Permanent("job payload lacks the destination".into()))?;
    let shop = Shop::find(conn, &job.shop_id)?;
    if shop.platform != Platform::BigCommerce
        || shop.install_state != InstallState::Installed
        || shop.is_demo
    {
        tracing::info!(shop = %shop.domain, "not an installed BigCommerce shop; no webhooks registered");
        return Ok(());
    }
    let credentials = fetch::credentials(&shop, keys, default_base)
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    let secret = shop
        .webhook_secret_enc
        .as_deref()
        .ok_or_else(|| JobError::Permanent("the shop has no webhook secret".into()))
        .and_then(|sealed| {
            keys.unseal(sealed, SealedFor::new(&shop.id, SealedField::WebhookSecret))
                .map_err(|e| JobError::Permanent(format!("the webhook secret: {e}")))
        })?;
    let (http, policy) = shopify.http();
    let api = BcApi::new(http, policy);
    let done = runtime.block_on(hooks::register(&api, &credentials, &destination, &secret))?;
    tracing::info!(
        shop = %shop.domain,
        created = done.created,
        updated = done.updated,
        deleted = done.deleted,
        "BigCommerce webhooks registered on load"
    );
    Ok(())
}
