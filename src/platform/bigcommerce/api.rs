//! The BigCommerce REST client: `{base}/stores/{hash}/{v2|v3}/…` with the shop's
//! `X-Auth-Token`, JSON in and out, and the retry rules of `platform::rest`: network errors,
//! 429 (waiting out `X-Rate-Limit-Time-Reset-Ms`, BigCommerce's own header, or `Retry-After`)
//! and 5xx are retried; 401/403 mean the token is wrong or lacks a scope; any other 4xx is a
//! refusal, worded from BigCommerce's answer.
//!
//! `base` is `https://api.bigcommerce.com` unless the shop was added with `--api-base` (a
//! proxy, or a local fake in tests). Plain http is refused except on a loopback host: the token
//! travels in every request.

use std::time::Duration;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::platform::rest::{self, Dialect};
use crate::platform::shopify::api::{retry_after, RetryPolicy};
use crate::platform::{ApiError, ShopCredentials};

/// Where BigCommerce's API lives when a shop names no `--api-base`.
pub const DEFAULT_API_BASE: &str = "https://api.bigcommerce.com";

/// How BigCommerce asks a throttled call to wait and words a refusal.
const DIALECT: Dialect = Dialect {
    name: "BigCommerce",
    throttle_wait,
    refusal,
};

/// The longest a throttled call waits before trying again (BigCommerce's windows are seconds).
const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(15);

/// The REST client for BigCommerce shops, shared by all of them (the pool is the app's).
#[derive(Debug, Clone, Copy)]
pub struct BcApi<'a> {
    http: &'a reqwest::Client,
    policy: RetryPolicy,
    /// `BIGCOMMERCE_API_BASE`, for shops added without their own `--api-base`.
    default_base: Option<&'a str>,
}

/// What a successful call answered: the JSON (`Null` for an empty body, e.g. a `204`).
pub type Answer = Value;

impl<'a> BcApi<'a> {
    pub fn new(http: &'a reqwest::Client, policy: RetryPolicy) -> Self {
        Self {
            http,
            policy,
            default_base: None,
        }
    }

    /// Calls for shops without their own `api_base` go to `base` (`BIGCOMMERCE_API_BASE`)
    /// rather than to BigCommerce's.
    pub fn with_default_base(mut self, base: Option<&'a str>) -> Self {
        self.default_base = base;
        self
    }

    /// The URL of `path` (`v2/orders/250`, `v3/hooks`, with any query) in `shop`'s store.
    pub fn url(shop: &ShopCredentials, path: &str) -> Result<String, ApiError> {
        Self::url_at(shop, shop.api_base.as_deref(), path)
    }

    fn url_at(shop: &ShopCredentials, base: Option<&str>, path: &str) -> Result<String, ApiError> {
        let hash = super::store_hash(&shop.domain).ok_or_else(|| {
            ApiError::Rejected(format!(
                "{:?} is not a BigCommerce store (store-{{hash}})",
                shop.domain
            ))
        })?;
        let base = api_base(base).map_err(ApiError::Rejected)?;
        Ok(format!(
            "{base}/stores/{hash}/{}",
            path.trim_start_matches('/')
        ))
    }

    /// One call, retried while BigCommerce is throttling or failing; returns the JSON answer.
    pub async fn call(
        &self,
        shop: &ShopCredentials,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ApiError> {
        let url = Self::url_at(shop, shop.api_base.as_deref().or(self.default_base), path)?;
        let token = shop.access_token.expose_secret();
        let request = || {
            let request = self
                .http
                .request(method.clone(), &url)
                .header("X-Auth-Token", token)
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(self.policy.timeout);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        rest::send(self.policy, &DIALECT, request)
            .await?
            .json_or_null()
            .await
    }

    /// `GET` of one resource; `Ok(None)` when BigCommerce answers `404` (an order deleted
    /// since its webhook was sent, a coupon removed by the owner).
    pub async fn get_optional(
        &self,
        shop: &ShopCredentials,
        path: &str,
    ) -> Result<Option<Answer>, ApiError> {
        match self.call(shop, Method::GET, path, None).await {
            Err(ApiError::Rejected(why)) if why.starts_with(NOT_FOUND) => Ok(None),
            other => other.map(Some),
        }
    }
}

/// How a refusal for an unknown resource begins (see [`refusal`]).
const NOT_FOUND: &str = "BigCommerce answered HTTP 404";

/// Whether `error` is BigCommerce refusing with HTTP `status` (a `409` for a coupon code that
/// exists, a `404` for one already deleted).
pub fn refused_with(error: &ApiError, status: u16) -> bool {
    matches!(error, ApiError::Rejected(why)
        if why.starts_with(&format!("BigCommerce answered HTTP {status}:")))
}

/// The API base: the shop's `--api-base` or BigCommerce's, https unless loopback.
pub fn api_base(api_base: Option<&str>) -> Result<String, String> {
    let base = api_base.unwrap_or(DEFAULT_API_BASE);
    let url = url::Url::parse(base).map_err(|e| format!("API base {base:?}: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(base.trim_end_matches('/').to_owned()),
        "http" if loopback => Ok(base.trim_end_matches('/').to_owned()),
        _ => Err(format!(
            "API base {base:?} must use https (plain http only for a loopback host)"
        )),
    }
}

/// The wait a 429 asks for: `X-Rate-Limit-Time-Reset-Ms` (BigCommerce's quota window), else
/// `Retry-After`; never more than [`MAX_THROTTLE_WAIT`].
fn throttle_wait(resp: &reqwest::Response) -> Option<Duration> {
    let reset_ms = resp
        .headers()
        .get("x-rate-limit-time-reset-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    reset_ms
        .or_else(|| retry_after(resp))
        .map(|wait| wait.min(MAX_THROTTLE_WAIT))
}

/// A 4xx other than 401/403/429, as BigCommerce words it: v3 answers
/// `{"status","title","errors":{field: why}}`, v2 answers `[{"status","message"}]`.
pub fn refusal(status: u16, answer: &Value) -> ApiError {
    let first = answer
        .as_array()
        .and_then(|all| all.first())
        .unwrap_or(answer);
    let mut message = first
        .get("title")
        .or_else(|| first.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned();
    if let Some(errors) = first.get("errors").and_then(Value::as_object) {
        for (field, why) in errors {
            let why = why
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| why.to_string());
            message.push_str(&format!("; {field}: {why}"));
        }
    }
    ApiError::Rejected(format!("BigCommerce answered HTTP {status}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use serde_json::json;

    fn shop(domain: &str, api_base: Option<&str>) -> ShopCredentials {
        ShopCredentials {
            domain: domain.into(),
            access_token: SecretString::from("token".to_owned()),
            api_base: api_base.map(str::to_owned),
            expiry: None,
        }
    }

    #[test]
    fn calls_go_to_the_stores_own_path() {
        assert_eq!(
            BcApi::url(&shop("store-abc123", None), "v2/orders/250").unwrap(),
            "https://api.bigcommerce.com/stores/abc123/v2/orders/250"
        );
        assert_eq!(
            BcApi::url(
                &shop("store-abc123", Some("http://127.0.0.1:9/")),
                "/v3/hooks"
            )
            .unwrap(),
            "http://127.0.0.1:9/stores/abc123/v3/hooks"
        );
        assert!(BcApi::url(&shop("shop.example", None), "v2/orders").is_err());
        assert!(BcApi::url(&shop("store-abc", Some("http://api.example")), "v2/orders").is_err());
    }

    #[test]
    fn refusals_name_what_bigcommerce_said() {
        let v3 = json!({"status": 422, "title": "JSON data is missing or invalid",
                        "errors": {"destination": "must be https"}});
        assert!(matches!(refusal(422, &v3),
            ApiError::Rejected(m) if m.contains("HTTP 422") && m.contains("destination: must be https")));
        let v2 = json!([{"status": 409, "message": "The field 'code' must be unique."}]);
        assert!(matches!(refusal(409, &v2), ApiError::Rejected(m) if m.contains("must be unique")));
        assert!(
            matches!(refusal(404, &Value::Null), ApiError::Rejected(m) if m.starts_with(NOT_FOUND))
        );
        assert!(refused_with(&refusal(409, &v2), 409));
        assert!(!refused_with(&refusal(409, &v2), 40));
        assert!(!refused_with(&ApiError::CodeTaken, 409));
    }
}
