//! Reward codes as BigCommerce coupons, over the v2 Coupons API (`{store}/v2/coupons`).
//!
//! Why v2 coupons rather than v3 Promotions: a v2 coupon is one object made by one call, with
//! its code, limits and expiry together, found again by its code (`?code=`), its uses counted
//! (`num_uses`), switched off (`enabled: false`) and deleted by id. A v3 promotion needs the
//! promotion and then a code on it: two calls, so a crash or a taken code between them leaves
//! a promotion behind to clean up. Neither API can limit a code to one customer account (v3
//! targets customer groups or segments only), so nothing is lost there. What v2 costs:
//! - One customer's code is not bound to their account: it is single use (`max_uses` 1, once
//!   per customer) and carries ~49 random bits, so only the shopper it was shown to has it.
//! - BigCommerce applies these coupons in the store's default currency only.
//! - One free unit of a product cannot be given: a v2 coupon discounts every unit of the
//!   products it applies to. Such a reward is refused before any call, so no points move.
//!
//! Kinds: amount off the order `per_total_discount`; percentage `percentage_discount`; free
//! shipping `free_shipping`, or with a cap `shipping_discount` of the cap (shipping off up to
//! that amount is exactly free shipping up to it). Every coupon applies to the whole catalogue
//! (`applies_to` the categories `[0]`). A coupon is live once made: codes are made when they
//! start, so `starts_at` needs no field.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::api::{refused_with, BcApi};
use crate::platform::{
    checked_id, numeric_id, ApiError, DiscountRequest, DiscountValue, PlatformApi, ShopCredentials,
};

/// BigCommerce's limits on a coupon's name (unique in the store) and code.
const MAX_NAME_CHARS: usize = 100;
const MAX_CODE_CHARS: usize = 50;

/// The whole catalogue: BigCommerce reads category `0` as every category.
fn whole_catalogue() -> Value {
    json!({"entity": "categories", "ids": [0]})
}

/// The coupon body for `req`, refusing before any call what BigCommerce cannot make.
pub fn coupon_body(req: &DiscountRequest) -> Result<Value, ApiError> {
    req.check()?;
    check_code(&req.code)?;
    let (kind, amount) = match &req.value {
        DiscountValue::Amount(amount) => ("per_total_discount", amount.clone()),
        DiscountValue::Percent(pct) => ("percentage_discount", pct.to_string()),
        DiscountValue::FreeShipping { max_shipping: None } => ("free_shipping", "0".to_owned()),
        DiscountValue::FreeShipping {
            max_shipping: Some(cap),
        } => ("shipping_discount", cap.clone()),
        DiscountValue::FreeVariant(_) => {
            return Err(ApiError::InvalidDiscount(
                "BigCommerce coupons cannot give one free unit of a product (they discount \
                 every unit in the cart); offer an amount or a percentage off instead"
                    .to_owned(),
            ))
        }
    };
    let mut body = Map::new();
    body.insert("name".into(), json!(coupon_name(&req.title, &req.code)));
    body.insert("code".into(), json!(req.code));
    body.insert("type".into(), json!(kind));
    body.insert("amount".into(), json!(amount));
    body.insert("enabled".into(), json!(true));
    body.insert("applies_to".into(), whole_catalogue());
    // 0 is BigCommerce's "unlimited" for both limits.
    body.insert("max_uses".into(), json!(req.usage_limit.unwrap_or(0)));
    body.insert(
        "max_uses_per_customer".into(),
        json!(u32::from(req.once_per_customer)),
    );
    if let Some(min) = &req.min_subtotal {
        body.insert("min_purchase".into(), json!(min));
    }
    if let Some(ends) = req.ends_at {
        body.insert("expires".into(), json!(ends.to_rfc2822()));
    }
    Ok(Value::Object(body))
}

/// Letters, digits, spaces, `_` and `-`, at most 50: what BigCommerce accepts in a code.
fn check_code(code: &str) -> Result<(), ApiError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-');
    if code.trim().is_empty() || code.chars().count() > MAX_CODE_CHARS || !code.chars().all(allowed)
    {
        return Err(ApiError::InvalidDiscount(format!(
            "code {code:?} must be 1–{MAX_CODE_CHARS} letters, digits, spaces, _ or -"
        )));
    }
    Ok(())
}

/// The coupon's name in the store's admin. Names must be unique in a store and titles repeat
/// ("5 off (500 points)"), so the code goes in the name unless the title already shows it.
fn coupon_name(title: &str, code: &str) -> String {
    if title.contains(code) {
        return title.chars().take(MAX_NAME_CHARS).collect();
    }
    let room = MAX_NAME_CHARS.saturating_sub(code.chars().count() + 3);
    let title: String = title.chars().take(room).collect();
    format!("{} ({code})", title.trim_end())
}

fn coupon_path(discount_id: &str) -> Result<String, ApiError> {
    let id = checked_id(discount_id, "a BigCommerce coupon")?;
    Ok(format!("v2/coupons/{id}"))
}

impl PlatformApi for BcApi<'_> {
    async fn create_discount(
        &self,
        shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> Result<String, ApiError> {
        let body = coupon_body(req)?;
        match self
            .call(shop, Method::POST, "v2/coupons", Some(&body))
            .await
        {
            Ok(created) => numeric_id(&created, "the coupon"),
            // A coupon's code and name are its only unique fields, and the name carries the
            // code: a conflict is this code existing, maybe from our own lost attempt.
            Err(e) if refused_with(&e, 409) => Err(ApiError::CodeTaken),
            Err(e) => Err(e),
        }
    }

    async fn find_discount(
        &self,
        shop: &ShopCredentials,
        code: &str,
    ) -> Result<Option<String>, ApiError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", code)
            .finish();
        // An empty listing is a `204` (`Null`).
        let found = self
            .call(shop, Method::GET, &format!("v2/coupons?{query}"), None)
            .await?;
        let listed = found.as_array().map(Vec::as_slice).unwrap_or_default();
        // Checkout matches codes without regard to case; so does this.
        listed
            .iter()
            .find(|c| {
                c.get("code")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.eq_ignore_ascii_case(code))
            })
            .map(|coupon| numeric_id(coupon, "the coupon"))
            .transpose()
    }

    async fn discount_used(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<bool, ApiError> {
        let coupon = self
            .call(shop, Method::GET, &coupon_path(discount_id)?, None)
            .await?;
        let uses = coupon
            .get("num_uses")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::InvalidResponse("the coupon has no num_uses".into()))?;
        Ok(uses > 0)
    }

    async fn deactivate_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        // A PUT without `applies_to` clears it: it is sent again as it was made.
        let body = json!({"enabled": false, "applies_to": whole_catalogue()});
        self.call(shop, Method::PUT, &coupon_path(discount_id)?, Some(&body))
            .await
            .map(|_| ())
    }

    async fn delete_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        match self
            .call(shop, Method::DELETE, &coupon_path(discount_id)?, None)
            .await
        {
            // Already gone (the owner deleted it in the store): what was asked is done.
            Err(e) if refused_with(&e, 404) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::tests::reward_request as request;
    use crate::platform::Audience;

    #[test]
    fn an_amount_off_is_a_single_use_coupon_on_the_whole_order() {
        let body = coupon_body(&request(DiscountValue::Amount("5.00".into()))).unwrap();
        assert_eq!(
            body,
            json!({"name": "5 off (500 points) (BMR-ABC123)", "code": "BMR-ABC123",
                   "type": "per_total_discount", "amount": "5.00", "enabled": true,
                   "applies_to": {"entity": "categories", "ids": [0]}, "max_uses": 1,
                   "max_uses_per_customer": 1, "expires": "Sun, 20 Dec 2026 10:00:00 +0000"})
        );
    }

    #[test]
    fn percent_free_shipping_and_a_capped_shipping_discount() {
        let mut pct = request(DiscountValue::Percent(10));
        pct.min_subtotal = Some("25.00".into());
        let pct = coupon_body(&pct).unwrap();
        assert_eq!(
            (&pct["type"], &pct["amount"], &pct["min_purchase"]),
            (&json!("percentage_discount"), &json!("10"), &json!("25.00"))
        );
        let free = coupon_body(&request(DiscountValue::FreeShipping { max_shipping: None }));
        assert_eq!(free.unwrap()["type"], "free_shipping");
        let capped = coupon_body(&request(DiscountValue::FreeShipping {
            max_shipping: Some("8.00".into()),
        }))
        .unwrap();
        assert_eq!(
            (&capped["type"], &capped["amount"]),
            (&json!("shipping_discount"), &json!("8.00"))
        );
    }

    #[test]
    fn an_unlimited_public_code_has_no_limits_and_no_expiry() {
        let mut public = request(DiscountValue::Percent(5));
        public.audience = Audience::Anyone;
        public.usage_limit = None;
        public.ends_at = None;
        public.once_per_customer = false;
        let body = coupon_body(&public).unwrap();
        assert_eq!(
            (&body["max_uses"], &body["max_uses_per_customer"]),
            (&json!(0), &json!(0))
        );
        assert!(body.get("expires").is_none());
    }

    #[test]
    fn what_bigcommerce_cannot_make_is_refused_before_any_call() {
        let refused =
            |req: DiscountRequest| matches!(coupon_body(&req), Err(ApiError::InvalidDiscount(_)));
        assert!(refused(request(DiscountValue::FreeVariant("4001".into()))));
        assert!(refused(request(DiscountValue::Amount("0".into()))));
        let mut odd = request(DiscountValue::Percent(5));
        odd.code = "BMR/ABC".into();
        assert!(refused(odd.clone()));
        odd.code = "A".repeat(51);
        assert!(refused(odd));
    }

    #[test]
    fn names_are_unique_by_their_code_and_fit_bigcommerces_limit() {
        assert_eq!(coupon_name("Win-back (WB-1)", "WB-1"), "Win-back (WB-1)");
        let long = coupon_name(&"é".repeat(150), "BMR-ABC123");
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with(" (BMR-ABC123)"));
    }

    #[test]
    fn coupon_ids_are_numeric() {
        assert_eq!(coupon_path("719").unwrap(), "v2/coupons/719");
        assert!(coupon_path("../orders").is_err());
    }
}
