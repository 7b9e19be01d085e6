//! Coupons over the WooCommerce REST API (`{site}/wp-json/wc/v3/…`, Basic auth with the shop's
//! consumer key and secret), with the retry rules of `platform::rest`: network errors, 429
//! (waiting out `Retry-After`) and 5xx are retried; 401/403 mean the keys are wrong; any other
//! 4xx is a refusal, except "code already exists", which may be our own lost attempt.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::coupons::{coupon_body, woo_time};
use crate::platform::rest::{self, Dialect};
use crate::platform::shopify::api::{retry_after, RetryPolicy};
use crate::platform::{
    checked_id, is_numeric_id, numeric_id, ApiError, Audience, DiscountRequest, PlatformApi,
    ShopCredentials,
};

/// The REST client for WooCommerce shops. `ShopCredentials::access_token` holds the shop's
/// `consumer_key:consumer_secret` pair, exactly what Basic auth sends (see
/// `services::redeem::credentials`).
#[derive(Debug, Clone, Copy)]
pub struct WooApi<'a> {
    http: &'a reqwest::Client,
    policy: RetryPolicy,
}

/// How WooCommerce asks a throttled call to wait (`Retry-After`) and words a refusal.
const DIALECT: Dialect = Dialect {
    name: "WooCommerce",
    throttle_wait: retry_after,
    refusal,
};

/// The Basic-auth pair of a shop's consumer key and secret.
pub fn key_pair(consumer_key: &str, consumer_secret: &str) -> SecretString {
    SecretString::from(format!("{consumer_key}:{consumer_secret}"))
}

impl<'a> WooApi<'a> {
    pub fn new(http: &'a reqwest::Client, policy: RetryPolicy) -> Self {
        Self { http, policy }
    }

    fn url(shop: &ShopCredentials, path: &str) -> Result<String, ApiError> {
        let base =
            super::site_base(&shop.domain, shop.api_base.as_deref()).map_err(ApiError::Rejected)?;
        Ok(format!("{base}/wp-json/wc/v3/{path}"))
    }

    /// One call, retried while the site is throttling or failing; returns the JSON answer.
    async fn call(
        &self,
        shop: &ShopCredentials,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        self.call_paged(shop, method, path, body)
            .await
            .map(|(answer, _)| answer)
    }

    /// As [`Self::call`], with the number of pages a listing has (`X-WP-TotalPages`), when the
    /// site says.
    async fn call_paged(
        &self,
        shop: &ShopCredentials,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(Value, Option<u32>), ApiError> {
        let url = Self::url(shop, path)?;
        let pair = shop.access_token.expose_secret();
        let (key, secret) = pair.split_once(':').ok_or(ApiError::Unauthorized(401))?;
        let request = || {
            let request = self
                .http
                .request(method.clone(), &url)
                .basic_auth(key, Some(secret));
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        };
        let delivered = rest::send(self.policy, &DIALECT, request).await?;
        let pages = total_pages(&delivered.response);
        Ok((delivered.json().await?, pages))
    }

    /// One page (from 1) of the orders modified after `after` (UTC, `YYYY-MM-DDTHH:MM:SS`),
    /// oldest change first, 100 a page; with the number of pages when the site says.
    pub async fn orders_modified_after(
        &self,
        shop: &ShopCredentials,
        after: &str,
        page: u32,
    ) -> Result<OrdersPage, ApiError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("modified_after", after)
            .append_pair("dates_are_gmt", "true")
            .append_pair("per_page", "100")
            .append_pair("page", &page.to_string())
            .append_pair("orderby", "modified")
            .append_pair("order", "asc")
            .finish();
        let (answer, total_pages) = self
            .call_paged(shop, Method::GET, &format!("orders?{query}"), None)
            .await?;
        let Value::Array(orders) = answer else {
            return Err(ApiError::InvalidResponse(
                "the order listing is not a JSON array".into(),
            ));
        };
        Ok(OrdersPage {
            orders,
            total_pages,
        })
    }

    /// The e-mail of the customer account a code is bound to.
    async fn customer_email(&self, shop: &ShopCredentials, id: &str) -> Result<String, ApiError> {
        if !is_numeric_id(id) {
            return Err(ApiError::Rejected(format!(
                "customer id {id:?} is not numeric"
            )));
        }
        let customer = self
            .call(shop, Method::GET, &format!("customers/{id}"), None)
            .await?;
        customer
            .get("email")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Rejected(format!("customer {id} has no e-mail address")))
    }
}

/// One page of an order listing.
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersPage {
    /// Each order's whole document, as a webhook would carry it.
    pub orders: Vec<Value>,
    /// `X-WP-TotalPages`: absent (or unreadable) when the site does not say.
    pub total_pages: Option<u32>,
}

fn total_pages(resp: &reqwest::Response) -> Option<u32> {
    resp.headers()
        .get("x-wp-totalpages")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A 4xx other than 401/403/429, as WooCommerce words it (`{"code","message"}`).
fn refusal(status: u16, answer: &Value) -> ApiError {
    let code = answer.get("code").and_then(Value::as_str).unwrap_or("");
    if code.contains("already_exists") || code == "woocommerce_rest_coupon_code_already_exists" {
        return ApiError::CodeTaken;
    }
    let message = answer
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    ApiError::Rejected(format!(
        "WooCommerce answered HTTP {status} ({code}): {message}"
    ))
}

fn coupon_path(discount_id: &str) -> Result<String, ApiError> {
    let id = checked_id(discount_id, "a WooCommerce coupon")?;
    Ok(format!("coupons/{id}"))
}

impl PlatformApi for WooApi<'_> {
    async fn create_discount(
        &self,
        shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> Result<String, ApiError> {
        req.check()?;
        let email = match &req.audience {
            Audience::Customer(id) => Some(self.customer_email(shop, id).await?),
            Audience::Anyone => None,
        };
        let body = coupon_body(req, email.as_deref())?;
        let created = self
            .call(shop, Method::POST, "coupons", Some(&body))
            .await?;
        numeric_id(&created, "the coupon")
    }

    async fn find_discount(
        &self,
        shop: &ShopCredentials,
        code: &str,
    ) -> Result<Option<String>, ApiError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", code)
            .finish();
        let found = self
            .call(shop, Method::GET, &format!("coupons?{query}"), None)
            .await?;
        match found.as_array().and_then(|all| all.first()) {
            Some(coupon) => numeric_id(coupon, "the coupon").map(Some),
            None => Ok(None),
        }
    }

    async fn discount_used(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<bool, ApiError> {
        let coupon = self
            .call(shop, Method::GET, &coupon_path(discount_id)?, None)
            .await?;
        Ok(coupon
            .get("usage_count")
            .and_then(Value::as_i64)
            .is_some_and(|n| n > 0))
    }

    async fn deactivate_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        // WooCommerce coupons have no on/off switch: expiring it now stops it applying while
        // keeping it (and its usage count) readable.
        let now = woo_time(chrono::Utc::now());
        let body = json!({ "date_expires": now, "date_expires_gmt": now });
        self.call(shop, Method::PUT, &coupon_path(discount_id)?, Some(&body))
            .await
            .map(|_| ())
    }

    async fn delete_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        let path = format!("{}?force=true", coupon_path(discount_id)?);
        self.call(shop, Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_code_may_be_our_own_lost_attempt() {
        let taken = json!({"code": "woocommerce_rest_coupon_code_already_exists",
                           "message": "The coupon code already exists", "data": {"status": 400}});
        assert_eq!(refusal(400, &taken), ApiError::CodeTaken);
        let bad = json!({"code": "rest_invalid_param", "message": "Invalid parameter(s): amount"});
        assert!(matches!(refusal(400, &bad), ApiError::Rejected(m) if m.contains("amount")));
        assert!(matches!(refusal(404, &Value::Null), ApiError::Rejected(_)));
    }

    #[test]
    fn coupon_ids_are_numeric() {
        assert_eq!(coupon_path("719").unwrap(), "coupons/719");
        assert!(coupon_path("../orders").is_err());
    }
}
