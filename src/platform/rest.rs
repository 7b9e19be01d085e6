//! The retrying sender of the REST platforms' clients (BigCommerce, WooCommerce): one place for
//! the rules they share with the Shopify client. Network errors, 429 and 5xx are retried with
//! the policy's backoff (a 429 waits what the platform asks, when it says); 401/403 mean the
//! credentials are wrong or lack a scope; any other 4xx is a refusal, worded by the platform's
//! own mapper. Once an attempt may have reached the platform, a call that still fails reports
//! `Timeout` (its outcome is unknown), so a caller checks before calling a write refused.

use std::time::Duration;

use reqwest::{RequestBuilder, Response};
use serde_json::Value;

use crate::platform::shopify::api::RetryPolicy;
use crate::platform::ApiError;

/// What differs between the REST platforms when a call is throttled or refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// The platform's name, for the retry log.
    pub name: &'static str,
    /// The wait a 429 asks for; `None` falls back to the policy's backoff.
    pub throttle_wait: fn(&Response) -> Option<Duration>,
    /// A 4xx other than 401/403/429, from the platform's JSON answer (`Null` if unreadable).
    pub refusal: fn(u16, &Value) -> ApiError,
}

/// A 2xx answer, its body still unread, and the attempt that got it.
#[derive(Debug)]
pub(crate) struct Delivered {
    pub response: Response,
    attempt: u32,
}

/// Sends what `request` builds (built anew for each attempt: a sent builder is spent) until
/// the platform answers 2xx, refuses, or `policy.attempts` tries have failed.
pub(crate) async fn send(
    policy: RetryPolicy,
    dialect: &Dialect,
    request: impl Fn() -> RequestBuilder,
) -> Result<Delivered, ApiError> {
    let mut last = ApiError::Network("no attempt made".into());
    let mut outcome_unknown = false;
    for attempt in 1..=policy.attempts {
        let wait = match request().send().await {
            Err(e) if e.is_timeout() => {
                outcome_unknown = true;
                last = ApiError::Timeout(attempt);
                policy.backoff(attempt)
            }
            Err(e) => {
                // Only a failed connect proves the request never reached the platform.
                outcome_unknown |= !e.is_connect();
                last = ApiError::Network(e.without_url().to_string());
                policy.backoff(attempt)
            }
            Ok(response) => match response.status().as_u16() {
                status @ (401 | 403) => return Err(ApiError::Unauthorized(status)),
                429 => {
                    last = ApiError::Throttled(attempt);
                    (dialect.throttle_wait)(&response).unwrap_or_else(|| policy.backoff(attempt))
                }
                status @ 500..=599 => {
                    last = ApiError::Server {
                        status,
                        attempts: attempt,
                    };
                    policy.backoff(attempt)
                }
                200..=299 => return Ok(Delivered { response, attempt }),
                status => {
                    let answer: Value = response.json().await.unwrap_or(Value::Null);
                    return Err((dialect.refusal)(status, &answer));
                }
            },
        };
        if attempt < policy.attempts {
            tracing::debug!(attempt, ?wait, error = %last, "retrying a {} call", dialect.name);
            tokio::time::sleep(wait).await;
        }
    }
    Err(last.after_retries(policy.attempts, outcome_unknown))
}

impl Delivered {
    /// The body as JSON. A body cut off by the timeout is a lost answer to work the platform
    /// did (`Timeout`, an unknown outcome); one that cannot be read or parsed is invalid.
    pub async fn json(self) -> Result<Value, ApiError> {
        let attempt = self.attempt;
        self.response.json().await.map_err(|e| {
            if e.is_timeout() {
                ApiError::Timeout(attempt)
            } else {
                ApiError::InvalidResponse(e.to_string())
            }
        })
    }

    /// The body as JSON, `Null` when there is none (a `204`, or a `200` with nothing in it).
    /// A body cut off by the timeout is `Timeout`, as for [`Self::json`]; one lost otherwise
    /// on the way is a network failure, and only a body read whole can be invalid.
    pub async fn json_or_null(self) -> Result<Value, ApiError> {
        let attempt = self.attempt;
        let bytes = self.response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                ApiError::Timeout(attempt)
            } else {
                ApiError::Network(e.without_url().to_string())
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidResponse(e.to_string()))
    }
}
