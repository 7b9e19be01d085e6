//! The Shopify Admin GraphQL API over reqwest: timeouts, retries with exponential backoff and
//! jitter for transient failures (network, 429, 5xx), and pacing on `THROTTLED` from the cost
//! the API reports (`extensions.cost.throttleStatus.restoreRate`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// What the client needs to call one shop.
#[derive(Debug, Clone)]
pub struct ShopCredentials {
    pub domain: String,
    pub access_token: SecretString,
    /// Overrides `SHOPIFY_API_BASE` for this shop (`shop add --api-base`).
    pub api_base: Option<String>,
    /// Set for an expiring offline token: the client renews it before it runs out.
    pub expiry: Option<TokenExpiry>,
}

/// When a shop's expiring access token runs out, and whose it is.
#[derive(Debug, Clone)]
pub struct TokenExpiry {
    pub shop_id: String,
    pub expires_at: NaiveDateTime,
}

impl TokenExpiry {
    /// The expiry of a shop's token, if it expires (`shops.access_token_expires_at`).
    pub fn of(shop_id: &str, expires_at: Option<NaiveDateTime>) -> Option<Self> {
        expires_at.map(|expires_at| Self {
            shop_id: shop_id.to_owned(),
            expires_at,
        })
    }
}

/// A token this close to its expiry is renewed before a call (a page of orders and its
/// retries must not outlive it).
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Renews a shop's expiring access token (with its refresh token) and stores the new pair;
/// implemented over the database by `services::install::tokens`.
pub trait TokenRefresher: Send + Sync + std::fmt::Debug {
    /// Renews the token unless `rejected` is `None` and the stored one is still good for a
    /// while; with `rejected` (a token Shopify answered 401 to before its time, e.g. revoked
    /// by a rotated secret), renews unless another call already replaced that token.
    fn refresh<'a>(
        &'a self,
        shop_id: &'a str,
        rejected: Option<&'a SecretString>,
    ) -> Pin<Box<dyn Future<Output = Result<SecretString, ApiError>> + Send + 'a>>;
}

/// A failed API call, typed so callers can decide what a retry or a refund of points means.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiError {
    #[error("the shop refused the access token (HTTP {0}); reinstall the app")]
    Unauthorized(u16),
    #[error("still throttled by the platform after {0} attempts")]
    Throttled(u32),
    #[error("the platform answered HTTP {status} after {attempts} attempts")]
    Server { status: u16, attempts: u32 },
    #[error("the platform did not answer in time after {0} attempts")]
    Timeout(u32),
    #[error("cannot reach the platform: {0}")]
    Network(String),
    #[error("the platform rejected the request: {0}")]
    Rejected(String),
    #[error("unexpected answer from the platform: {0}")]
    InvalidResponse(String),
    /// The platform already has a discount with this code: an earlier attempt whose answer was
    /// lost may have created it, so the caller looks the code up before calling it refused.
    #[error("the shop already has a discount with this code")]
    CodeTaken,
    /// The app built a discount no platform should get (an amount of zero or less, a
    /// percentage out of range); caught before any call is made.
    #[error("the discount is invalid: {0}")]
    InvalidDiscount(String),
    /// The shop's platform has no store adapter yet, so it cannot issue or remove codes.
    #[error(
        "rewards cannot be redeemed in {0} shops yet: the app cannot create their discount codes"
    )]
    Unsupported(crate::db::types::Platform),
    /// The shop was added without the REST API keys its platform needs for discount codes.
    #[error(
        "rewards cannot be redeemed in this {0} shop: the app was given no REST API keys to create its coupons"
    )]
    NoApiKeys(crate::db::types::Platform),
}

impl ApiError {
    /// Whether the same call may succeed later (a job should retry it).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Throttled(_) | Self::Server { .. } | Self::Timeout(_) | Self::Network(_)
        )
    }

    /// The error to report once `attempts` tries failed with `self` last. A call whose outcome is
    /// unknown (a try may have reached the platform before its answer was lost) reports a
    /// timeout, so the caller checks before it calls the call refused.
    pub fn after_retries(self, attempts: u32, outcome_unknown: bool) -> ApiError {
        match self {
            ApiError::Timeout(_) => ApiError::Timeout(attempts),
            ApiError::Throttled(_) | ApiError::Server { .. } | ApiError::Network(_)
                if outcome_unknown =>
            {
                ApiError::Timeout(attempts)
            }
            ApiError::Throttled(_) => ApiError::Throttled(attempts),
            other => other,
        }
    }

    /// Whether a failed create may still have made the discount: an answer was lost on the
    /// way back (`Timeout`, see `graphql`), or the shop says the code is taken. The caller
    /// looks the code up before it calls the create refused.
    pub fn may_have_created(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::CodeTaken)
    }
}

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    /// Fits inside a shopper's request: at most ~4 tries in a few seconds.
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry `attempt`: exponential, capped, with jitter.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1 << attempt.min(10));
        let capped = exp.min(self.max_delay);
        let jitter = rand::thread_rng().gen_range(0..=capped.as_millis() as u64 / 2);
        capped + Duration::from_millis(jitter)
    }
}

/// The Shopify Admin API client, shared by all shops.
#[derive(Debug, Clone)]
pub struct ShopifyApi {
    http: reqwest::Client,
    api_version: String,
    policy: RetryPolicy,
    /// `SHOPIFY_API_BASE`, `{shop}` standing for the domain.
    base: String,
    refresher: Option<Arc<dyn TokenRefresher>>,
    /// `BIGCOMMERCE_API_BASE`: this client's pool also carries BigCommerce's calls.
    bigcommerce_api_base: Option<String>,
}

impl ShopifyApi {
    pub fn new(api_version: &str, policy: RetryPolicy) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(policy.timeout)
            .user_agent(concat!("boomerang/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        Ok(Self {
            http,
            api_version: api_version.to_owned(),
            policy,
            base: "https://{shop}".into(),
            refresher: None,
            bigcommerce_api_base: None,
        })
    }

    /// Calls go to `template` with `{shop}` replaced by the shop's domain.
    pub fn with_api_base(mut self, template: &str) -> Self {
        template.clone_into(&mut self.base);
        self
    }

    /// BigCommerce calls of shops without their own `api_base` go to `base`.
    pub fn with_bigcommerce_api_base(mut self, base: &str) -> Self {
        self.bigcommerce_api_base = Some(base.to_owned());
        self
    }

    /// Where BigCommerce calls go when the shop names no `api_base` (`None`: BigCommerce's).
    pub(crate) fn bigcommerce_api_base(&self) -> Option<&str> {
        self.bigcommerce_api_base.as_deref()
    }

    /// Expiring tokens are renewed through `refresher` before a call.
    pub fn with_token_refresher(mut self, refresher: Arc<dyn TokenRefresher>) -> Self {
        self.refresher = Some(refresher);
        self
    }

    /// The base URL calls about `domain` go to (`override_base`: the shop's own `api_base`).
    pub fn base_for(&self, domain: &str, override_base: Option<&str>) -> String {
        super::api_base(&self.base, domain, override_base)
    }

    /// The token to send: the shop's, or a renewed one when it is about to expire. This is the
    /// one place an expiring token is refreshed, so every Admin API call gets it.
    async fn token(&self, shop: &ShopCredentials) -> Result<SecretString, ApiError> {
        match (&shop.expiry, &self.refresher) {
            (Some(expiry), Some(refresher))
                if expiry.expires_at - REFRESH_MARGIN <= chrono::Utc::now().naive_utc() =>
            {
                refresher.refresh(&expiry.shop_id, None).await
            }
            _ => Ok(shop.access_token.clone()),
        }
    }

    /// The HTTP client and retry policy, shared with the other platforms' clients (one
    /// connection pool, one set of timeouts).
    pub(crate) fn http(&self) -> (&reqwest::Client, RetryPolicy) {
        (&self.http, self.policy)
    }

    /// The Admin API version calls use (`YYYY-MM`).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    fn endpoint(&self, shop: &ShopCredentials) -> String {
        format!(
            "{}/admin/api/{}/graphql.json",
            self.base_for(&shop.domain, shop.api_base.as_deref()),
            self.api_version
        )
    }

    /// Runs a GraphQL query or mutation and returns its `data`.
    pub async fn graphql(
        &self,
        shop: &ShopCredentials,
        query: &str,
        variables: Value,
    ) -> Result<Value, ApiError> {
        let token = self.token(shop).await?;
        let body = serde_json::json!({ "query": query, "variables": variables });
        match (
            self.call(shop, &token, &body).await,
            &shop.expiry,
            &self.refresher,
        ) {
            // An expiring token refused before its time (revoked, or the app's secret
            // rotated): renewed once and the call made again. Shopify refuses a token before
            // doing anything, so the second call cannot repeat the first one's work.
            (Err(ApiError::Unauthorized(401)), Some(expiry), Some(refresher)) => {
                tracing::info!(shop = %shop.domain, "Shopify refused the access token early; renewing it");
                let renewed = refresher.refresh(&expiry.shop_id, Some(&token)).await?;
                self.call(shop, &renewed, &body).await
            }
            (result, _, _) => result,
        }
    }

    /// One call with `token`, retried while Shopify is throttling or failing.
    async fn call(
        &self,
        shop: &ShopCredentials,
        token: &SecretString,
        body: &Value,
    ) -> Result<Value, ApiError> {
        let url = self.endpoint(shop);
        let mut last = ApiError::Network("no attempt made".into());
        // An attempt that timed out or broke after connecting may have been carried out by
        // Shopify; whatever later attempts answer, the call's outcome is unknown: say Timeout.
        let mut outcome_unknown = false;
        for attempt in 1..=self.policy.attempts {
            let sent = self
                .http
                .post(&url)
                .header("X-Shopify-Access-Token", token.expose_secret())
                .json(body)
                .send()
                .await;
            let wait = match sent {
                Err(e) if e.is_timeout() => {
                    outcome_unknown = true;
                    last = ApiError::Timeout(attempt);
                    self.policy.backoff(attempt)
                }
                Err(e) => {
                    // Only a failed connect proves the request never reached Shopify.
                    outcome_unknown |= !e.is_connect();
                    last = ApiError::Network(e.without_url().to_string());
                    self.policy.backoff(attempt)
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match status {
                        401 | 403 => return Err(ApiError::Unauthorized(status)),
                        429 => {
                            last = ApiError::Throttled(attempt);
                            retry_after(&resp).unwrap_or_else(|| self.policy.backoff(attempt))
                        }
                        500..=599 => {
                            last = ApiError::Server {
                                status,
                                attempts: attempt,
                            };
                            self.policy.backoff(attempt)
                        }
                        200..=299 => {
                            // A body cut off by the timeout: Shopify did the work, the
                            // answer is lost (callers treat Timeout as an unknown outcome).
                            let json: Value = resp.json().await.map_err(|e| {
                                if e.is_timeout() {
                                    ApiError::Timeout(attempt)
                                } else {
                                    ApiError::InvalidResponse(e.to_string())
                                }
                            })?;
                            match classify(json) {
                                Reply::Data(data) => return Ok(data),
                                Reply::Throttled(wait) => {
                                    last = ApiError::Throttled(attempt);
                                    wait.min(self.policy.max_delay.saturating_mul(2))
                                }
                                Reply::Failed(e) => return Err(e),
                            }
                        }
                        other => return Err(ApiError::Rejected(format!("HTTP {other}"))),
                    }
                }
            };
            if attempt < self.policy.attempts {
                tracing::debug!(attempt, ?wait, error = %last, "retrying a Shopify call");
                tokio::time::sleep(wait).await;
            }
        }
        Err(last.after_retries(self.policy.attempts, outcome_unknown))
    }
}

/// The wait a 429 asks for (`Retry-After` in seconds, at most 10 s).
pub(crate) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let secs: f64 = resp
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(10.0)))
}

enum Reply {
    Data(Value),
    Throttled(Duration),
    Failed(ApiError),
}

/// Sorts a 200 answer: data, a THROTTLED error (with the wait the cost report implies), or
/// another GraphQL error.
fn classify(mut json: Value) -> Reply {
    let errors = json
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if errors.is_empty() {
        return match json.get_mut("data").map(Value::take) {
            Some(data) if !data.is_null() => Reply::Data(data),
            _ => Reply::Failed(ApiError::InvalidResponse("no data in the answer".into())),
        };
    }
    let throttled = errors
        .iter()
        .any(|e| e.pointer("/extensions/code").and_then(Value::as_str) == Some("THROTTLED"));
    if throttled {
        return Reply::Throttled(throttle_wait(&json));
    }
    let messages: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("message")?.as_str())
        .collect();
    Reply::Failed(ApiError::Rejected(messages.join("; ")))
}

/// How long until the bucket holds enough points for the query again.
fn throttle_wait(json: &Value) -> Duration {
    let cost = json.pointer("/extensions/cost");
    let number = |path: &str| cost.and_then(|c| c.pointer(path)).and_then(Value::as_f64);
    let requested = number("/requestedQueryCost").unwrap_or(10.0);
    let available = number("/throttleStatus/currentlyAvailable").unwrap_or(0.0);
    let restore = number("/throttleStatus/restoreRate")
        .filter(|r| *r > 0.0)
        .unwrap_or(50.0);
    let secs = ((requested - available) / restore).clamp(0.05, 10.0);
    Duration::from_secs_f64(secs)
}

/// The numeric id at the end of a GraphQL global id (`gid://shopify/Order/123` → `123`).
pub fn legacy_id(gid: &str) -> Option<&str> {
    let id = gid.rsplit('/').next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn throttle_wait_follows_the_restore_rate() {
        let answer = json!({"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],
            "extensions":{"cost":{"requestedQueryCost":110,"throttleStatus":{"maximumAvailable":2000,"currentlyAvailable":10,"restoreRate":100}}}});
        assert_eq!(throttle_wait(&answer), Duration::from_secs(1));
        assert!(matches!(classify(answer), Reply::Throttled(_)));
    }

    #[test]
    fn other_graphql_errors_are_rejections() {
        let answer = json!({"errors":[{"message":"Field 'x' doesn't exist"}]});
        assert!(
            matches!(classify(answer), Reply::Failed(ApiError::Rejected(m)) if m.contains("doesn't exist"))
        );
        assert!(matches!(
            classify(json!({"data": null})),
            Reply::Failed(ApiError::InvalidResponse(_))
        ));
        assert!(matches!(
            classify(json!({"data": {"a": 1}})),
            Reply::Data(_)
        ));
    }

    #[test]
    fn legacy_ids_come_from_gids() {
        assert_eq!(
            legacy_id("gid://shopify/Order/450789469"),
            Some("450789469")
        );
        assert_eq!(legacy_id("gid://shopify/Order/"), None);
        assert_eq!(legacy_id("gid://shopify/Order/x1"), None);
    }

    #[test]
    fn backoff_is_capped_with_jitter() {
        let p = RetryPolicy::default();
        for attempt in 0..20 {
            let d = p.backoff(attempt);
            assert!(d <= p.max_delay + p.max_delay / 2, "{d:?}");
        }
    }
}
