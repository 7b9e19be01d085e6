//! What every handler can reach, passed as `web::Data<AppState>`.

use std::sync::Arc;

use crate::config::Config;
use crate::crypto::Keys;
use crate::db::Db;
use crate::http::pages::Pages;
use crate::metrics::Metrics;
use crate::platform::shopify::api::ShopifyApi;
use crate::services::ingest::Ingest;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// Where verified webhooks go: stored with group commit, then applied.
    pub ingest: Ingest,
    pub config: Arc<Config>,
    pub keys: Keys,
    pub metrics: Arc<Metrics>,
    pub pages: Arc<Pages>,
    pub shopify: ShopifyApi,
    /// Shopify's token endpoint (install, token exchange, refresh).
    pub shopify_oauth: crate::platform::shopify::oauth::OAuthClient,
    /// The mail transport and sender (one pool of SMTP connections per process).
    pub mail: crate::services::mail::MailSetup,
    /// Per-process limits on referral claims.
    pub claim_limits: Arc<crate::http::referrals::ClaimLimits>,
}

impl AppState {
    /// What background jobs need from the app.
    pub fn job_context(&self) -> crate::jobs::JobContext {
        crate::jobs::JobContext {
            keys: self.keys.clone(),
            shopify: self.shopify.clone(),
            runtime: tokio::runtime::Handle::current(),
            webhook_retention_days: self.config.webhook_retention_days,
            mail: self.mail.clone(),
            bigcommerce_api_base: self.config.bigcommerce.api_base.clone(),
        }
    }
}
