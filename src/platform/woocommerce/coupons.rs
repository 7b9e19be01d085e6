//! The WooCommerce coupon a discount request becomes (`POST /wp-json/wc/v3/coupons`), built
//! without I/O so every kind of reward can be checked here.
//!
//! - One customer's code is bound to their e-mail (`email_restrictions`): WooCommerce has no
//!   restriction by customer id. Single use (`usage_limit` 1) and once per customer.
//! - Amount off the cart: `fixed_cart`; percentage: `percent`; free shipping: `free_shipping`
//!   with no amount (WooCommerce cannot cap the shipping it waives: a cap is left out); one
//!   free unit of a product: 100 % off that product, limited to one item.
//! - The expiry goes as `date_expires_gmt` (exact, UTC) and `date_expires` (same instant, for
//!   sites that only read the local field); WooCommerce writes the GMT one last, so it wins.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::platform::{ApiError, DiscountRequest, DiscountValue};

/// WooCommerce's date-time format (no offset).
pub fn woo_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The coupon body for `req`; `email`: the customer's e-mail when the code is theirs alone.
pub fn coupon_body(req: &DiscountRequest, email: Option<&str>) -> Result<Value, ApiError> {
    req.check()?;
    let mut body = Map::new();
    body.insert("code".into(), json!(req.code));
    body.insert("description".into(), json!(req.title));
    let (kind, amount) = match &req.value {
        DiscountValue::Amount(amount) => ("fixed_cart", amount.clone()),
        DiscountValue::Percent(pct) => ("percent", pct.to_string()),
        DiscountValue::FreeShipping { .. } => {
            body.insert("free_shipping".into(), json!(true));
            ("fixed_cart", "0".to_owned())
        }
        DiscountValue::FreeVariant(product) => {
            let id: u64 = product.parse().map_err(|_| {
                ApiError::InvalidDiscount(format!("product id {product:?} must be numeric"))
            })?;
            body.insert("product_ids".into(), json!([id]));
            body.insert("limit_usage_to_x_items".into(), json!(1));
            ("percent", "100".to_owned())
        }
    };
    body.insert("discount_type".into(), json!(kind));
    body.insert("amount".into(), json!(amount));
    if let Some(email) = email {
        body.insert("email_restrictions".into(), json!([email]));
    }
    if let Some(limit) = req.usage_limit {
        body.insert("usage_limit".into(), json!(limit));
    }
    if req.once_per_customer {
        body.insert("usage_limit_per_user".into(), json!(1));
    }
    if let Some(min) = &req.min_subtotal {
        body.insert("minimum_amount".into(), json!(min));
    }
    if let Some(ends) = req.ends_at {
        body.insert("date_expires".into(), json!(woo_time(ends)));
        body.insert("date_expires_gmt".into(), json!(woo_time(ends)));
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::tests::reward_request as request;

    #[test]
    fn an_amount_off_is_a_single_use_cart_coupon_for_one_email() {
        let body = coupon_body(
            &request(DiscountValue::Amount("5.00".into())),
            Some("jo@example.com"),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"code": "BMR-ABC123", "description": "5 off (500 points)", "discount_type": "fixed_cart",
                   "amount": "5.00", "email_restrictions": ["jo@example.com"], "usage_limit": 1,
                   "usage_limit_per_user": 1, "date_expires": "2026-12-20T10:00:00",
                   "date_expires_gmt": "2026-12-20T10:00:00"})
        );
    }

    #[test]
    fn percent_free_shipping_and_free_product() {
        let pct = coupon_body(&request(DiscountValue::Percent(10)), None).unwrap();
        assert_eq!(
            (pct["discount_type"].as_str(), pct["amount"].as_str()),
            (Some("percent"), Some("10"))
        );
        assert!(pct.get("email_restrictions").is_none());
        let ship = coupon_body(
            &request(DiscountValue::FreeShipping { max_shipping: None }),
            None,
        )
        .unwrap();
        assert_eq!(ship["free_shipping"], true);
        assert_eq!(ship["amount"], "0");
        let free = coupon_body(&request(DiscountValue::FreeVariant("4001".into())), None).unwrap();
        assert_eq!(free["product_ids"], json!([4001]));
        assert_eq!(free["limit_usage_to_x_items"], 1);
        assert_eq!(free["amount"], "100");
    }

    #[test]
    fn a_bad_request_is_refused_before_any_call() {
        assert!(matches!(
            coupon_body(&request(DiscountValue::Amount("0.00".into())), None),
            Err(ApiError::InvalidDiscount(_))
        ));
        let mut unlimited = request(DiscountValue::Percent(5));
        unlimited.usage_limit = None;
        unlimited.ends_at = None;
        unlimited.once_per_customer = false;
        let body = coupon_body(&unlimited, None).unwrap();
        assert!(body.get("usage_limit").is_none() && body.get("date_expires").is_none());
    }
}
