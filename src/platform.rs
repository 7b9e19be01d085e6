//! Platform adapters: verify what a platform sends, map it to internal events, and talk back to
//! the platform's API. Nothing platform-specific leaks past this module.

pub mod bigcommerce;
pub mod demo;
mod rest;
pub mod shopify;
pub mod woocommerce;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use demo::StoreApi;
pub use shopify::api::{ApiError, ShopCredentials};

/// What a discount code gives. Amounts are decimal strings in the shop's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountValue {
    Amount(String),
    Percent(u32),
    FreeShipping { max_shipping: Option<String> },
    FreeVariant(String),
}

impl DiscountValue {
    /// Refuses a value no platform should be sent: an amount of zero or less (a platform may
    /// read `-1.00` as a surcharge or reject it after the points were spent), a percentage
    /// outside 1–100, a shipping cap of zero or less. Every adapter checks this before calling.
    pub fn check(&self) -> Result<(), ApiError> {
        let bad = |why: String| Err(ApiError::InvalidDiscount(why));
        match self {
            Self::Amount(amount) if !is_positive_decimal(amount) => {
                bad(format!("amount off {amount:?} must be above zero"))
            }
            Self::Percent(pct) if !(1..=100).contains(pct) => {
                bad(format!("percentage {pct} must be 1–100"))
            }
            Self::FreeShipping {
                max_shipping: Some(max),
            } if !is_positive_decimal(max) => {
                bad(format!("shipping cap {max:?} must be above zero"))
            }
            Self::FreeVariant(variant) if !is_numeric_id(variant) => {
                bad(format!("variant id {variant:?} must be numeric"))
            }
            _ => Ok(()),
        }
    }
}

/// A plain decimal (`12`, `0.50`) above zero: no sign, no exponent, one point at most.
pub fn is_positive_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction) && text.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

/// Whether `id` is a numeric platform id (`719`): digits only, at least one. The REST
/// platforms put ids into URL paths, so only such an id may go there (never `../orders`).
pub fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// `id` itself when it is numeric, ready for a path; else an error naming it as `what` ("a
/// WooCommerce coupon"). The ids checked here are ones the platform gave us earlier, so one
/// that is not numeric is an answer the app should never have taken.
pub fn checked_id<'a>(id: &'a str, what: &str) -> Result<&'a str, ApiError> {
    if is_numeric_id(id) {
        Ok(id)
    } else {
        Err(ApiError::InvalidResponse(format!(
            "{id:?} is not {what} id"
        )))
    }
}

/// The numeric `id` of `answer` (`{"id": 719}`, or `"719"` as some answers quote it) as text,
/// as [`checked_id`] takes it back; `what` names the thing answered ("the coupon").
pub fn numeric_id(answer: &Value, what: &str) -> Result<String, ApiError> {
    match answer.get("id") {
        Some(Value::Number(n)) if n.is_u64() => Ok(n.to_string()),
        Some(Value::String(s)) if is_numeric_id(s) => Ok(s.clone()),
        _ => Err(ApiError::InvalidResponse(format!(
            "{what} has no numeric id"
        ))),
    }
}

/// Who may use a discount code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Only this customer (the platform's customer id): a redeemed reward.
    Customer(String),
    /// Whoever has the code: a friend's referral code (the friend may have no account yet) or
    /// an affiliate's public code.
    Anyone,
}

/// A discount code to create on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountRequest {
    pub code: String,
    pub title: String,
    pub audience: Audience,
    pub value: DiscountValue,
    pub min_subtotal: Option<String>,
    pub starts_at: DateTime<Utc>,
    /// `None`: the code never expires (an affiliate's public code).
    pub ends_at: Option<DateTime<Utc>>,
    /// Orders the code may be used on in all; `None` for unlimited (an affiliate's public
    /// code). `Some(1)` for a reward or a friend's code.
    pub usage_limit: Option<u32>,
    /// Whether one customer may use it on one order only.
    pub once_per_customer: bool,
}

impl DiscountRequest {
    /// Refuses a request no platform should be sent: a value [`DiscountValue::check`] refuses,
    /// or a usage limit of zero (a code nobody could use, after points may have been spent on
    /// it). Every adapter checks this before calling.
    pub fn check(&self) -> Result<(), ApiError> {
        if self.usage_limit == Some(0) {
            return Err(ApiError::InvalidDiscount(
                "a usage limit of 0 makes a code nobody can use".to_owned(),
            ));
        }
        self.value.check()
    }
}

/// What the app asks of a shop platform. Shopify implements it over its Admin GraphQL API;
/// WooCommerce and BigCommerce slot in beside it.
pub trait PlatformApi {
    /// Whether this store can take discount calls at all; asked before any points are spent.
    fn check_supported(&self) -> Result<(), ApiError> {
        Ok(())
    }

    /// Creates the code; returns the platform's id for it.
    fn create_discount(
        &self,
        shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> impl std::future::Future<Output = Result<String, ApiError>> + Send;

    /// The id of the discount with this code, if it exists (recovers from a crash mid-redemption).
    fn find_discount(
        &self,
        shop: &ShopCredentials,
        code: &str,
    ) -> impl std::future::Future<Output = Result<Option<String>, ApiError>> + Send;

    /// Whether the discount was already used on an order.
    fn discount_used(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> impl std::future::Future<Output = Result<bool, ApiError>> + Send;

    /// Stops a discount from applying to new orders, keeping it (and its usage count) readable:
    /// the first step of an owner's cancellation.
    fn deactivate_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> impl std::future::Future<Output = Result<(), ApiError>> + Send;

    /// Removes a discount (an owner cancelled the redemption).
    fn delete_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> impl std::future::Future<Output = Result<(), ApiError>> + Send;
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    /// The request a customer's redeemed "5 off (500 points)" reward makes: code `BMR-ABC123`
    /// for customer 31, single use, from 2026-11-20 to 2026-12-20 10:00 UTC; the adapters'
    /// coupon tests start from it.
    pub(crate) fn reward_request(value: DiscountValue) -> DiscountRequest {
        DiscountRequest {
            code: "BMR-ABC123".into(),
            title: "5 off (500 points)".into(),
            audience: Audience::Customer("31".into()),
            value,
            min_subtotal: None,
            starts_at: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
            ends_at: Some(Utc.with_ymd_and_hms(2026, 12, 20, 10, 0, 0).unwrap()),
            usage_limit: Some(1),
            once_per_customer: true,
        }
    }

    #[test]
    fn amounts_of_zero_or_less_never_reach_a_platform() {
        for bad in ["-1.00", "0.00", "0", "", "1e3", "1.2.3", " 5.00", "+5"] {
            assert!(
                matches!(
                    DiscountValue::Amount(bad.into()).check(),
                    Err(ApiError::InvalidDiscount(_))
                ),
                "{bad:?}"
            );
        }
        for good in ["0.01", "5.00", "12", "1000000.50"] {
            assert_eq!(
                DiscountValue::Amount(good.into()).check(),
                Ok(()),
                "{good:?}"
            );
        }
        assert!(DiscountValue::Percent(0).check().is_err());
        assert!(DiscountValue::Percent(101).check().is_err());
        assert!(DiscountValue::FreeShipping {
            max_shipping: Some("-0.01".into())
        }
        .check()
        .is_err());
        assert!(DiscountValue::FreeVariant("gid://x".into())
            .check()
            .is_err());
    }

    #[test]
    fn ids_that_go_into_paths_are_numeric() {
        assert_eq!(checked_id("719", "a coupon"), Ok("719"));
        for bad in ["", "../orders", "71 9", "-1", "７１９"] {
            assert!(checked_id(bad, "a coupon").is_err(), "{bad:?}");
        }
        assert_eq!(
            numeric_id(&json!({"id": 719}), "the coupon").unwrap(),
            "719"
        );
        assert_eq!(
            numeric_id(&json!({"id": "720"}), "the coupon").unwrap(),
            "720"
        );
        for bad in [
            json!({}),
            json!({"id": "x"}),
            json!({"id": -1}),
            json!({"id": 1.5}),
        ] {
            assert!(
                matches!(numeric_id(&bad, "the coupon"), Err(ApiError::InvalidResponse(m)) if m == "the coupon has no numeric id"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_code_nobody_can_use_never_reaches_a_platform() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let request = |usage_limit| DiscountRequest {
            code: "ADA-FRIEND".into(),
            title: "10 off your first order".into(),
            audience: Audience::Anyone,
            value: DiscountValue::Amount("10.00".into()),
            min_subtotal: None,
            starts_at: at,
            ends_at: Some(at),
            usage_limit,
            once_per_customer: true,
        };
        assert!(matches!(
            request(Some(0)).check(),
            Err(ApiError::InvalidDiscount(_))
        ));
        assert_eq!(request(Some(1)).check(), Ok(()));
        assert_eq!(request(None).check(), Ok(()));
        let bad_value = DiscountRequest {
            value: DiscountValue::Percent(0),
            ..request(Some(1))
        };
        assert!(bad_value.check().is_err());
    }
}
