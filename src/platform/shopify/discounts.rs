//! Discount codes through the Admin GraphQL API: a single-use code per redemption, limited to
//! the customer, or a code for anyone (a friend's single-use code, an affiliate's unlimited
//! one), each with an expiry. Who may use it goes in `context` on API 2025-10 and later
//! (`{customers: {add: [gid]}}` or `{all: ALL}`), in `customerSelection` before
//! (`{customers: {add: [gid]}}` or `{all: true}`) (PLATFORMS.md §5).
//!
//! A free product is one unit of the variant, however many the cart holds. A basic code with
//! `percentage: 1.0` on the variant would take every unit off. Shopify's per-quantity value
//! (`discountOnQuantity`) exists only in buy-X-get-Y discounts, and those need the shopper to
//! buy something first (the same variant in "buys" and "gets" means two units in the cart).
//! So the code is a basic one on that variant for a fixed amount, the variant's price read
//! when redeemed, with `appliesOnEachItem: false`: the amount is split across the entitled
//! units, so the discount totals one unit's price whatever the quantity.

use serde_json::{json, Value};

use super::api::{ApiError, ShopCredentials, ShopifyApi};
use crate::platform::{is_positive_decimal, Audience, DiscountRequest, DiscountValue, PlatformApi};

const BASIC: &str = r#"mutation BoomerangBasic($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) { codeDiscountNode { id } userErrors { field message code } }
}"#;

const FREE_SHIPPING: &str = r#"mutation BoomerangFreeShipping($input: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) { codeDiscountNode { id } userErrors { field message code } }
}"#;

const VARIANT_PRICE: &str =
    r#"query BoomerangVariantPrice($id: ID!) { productVariant(id: $id) { price } }"#;

const DEACTIVATE: &str = r#"mutation BoomerangDeactivate($id: ID!) {
  discountCodeDeactivate(id: $id) { codeDiscountNode { id } userErrors { field message } }
}"#;

const BY_CODE: &str =
    r#"query BoomerangCode($code: String!) { codeDiscountNodeByCode(code: $code) { id } }"#;

const USAGE: &str = r#"query BoomerangUsage($id: ID!) {
  codeDiscountNode(id: $id) { codeDiscount {
    ... on DiscountCodeBasic { asyncUsageCount }
    ... on DiscountCodeFreeShipping { asyncUsageCount }
  } }
}"#;

const DELETE: &str = r#"mutation BoomerangDelete($id: ID!) {
  discountCodeDelete(id: $id) { deletedCodeDiscountId userErrors { field message } }
}"#;

/// The `DiscountCode…Input` for a request, in the shape of `api_version`. A free product needs
/// the variant's `unit_price` (see the module docs). Values no shop should get are refused here,
/// before any call.
pub fn discount_input(
    req: &DiscountRequest,
    api_version: &str,
    unit_price: Option<&str>,
) -> Result<Value, ApiError> {
    req.check()?;
    let mut input = serde_json::Map::new();
    input.insert("title".into(), json!(req.title));
    input.insert("code".into(), json!(req.code));
    input.insert("startsAt".into(), json!(req.starts_at.to_rfc3339()));
    if let Some(ends_at) = req.ends_at {
        input.insert("endsAt".into(), json!(ends_at.to_rfc3339()));
    }
    // Left out, the code has no limit on its uses.
    if let Some(limit) = req.usage_limit {
        input.insert("usageLimit".into(), json!(limit));
    }
    input.insert(
        "appliesOncePerCustomer".into(),
        json!(req.once_per_customer),
    );
    let (key, buyers) = audience(&req.audience, api_version);
    input.insert(key.into(), buyers);
    if let Some(min) = &req.min_subtotal {
        input.insert(
            "minimumRequirement".into(),
            json!({ "subtotal": { "greaterThanOrEqualToSubtotal": min } }),
        );
    }
    let gets = |value: Value, items: Value| json!({ "value": value, "items": items });
    match &req.value {
        DiscountValue::Amount(amount) => {
            let value =
                json!({ "discountAmount": { "amount": amount, "appliesOnEachItem": false } });
            input.insert("customerGets".into(), gets(value, json!({ "all": true })));
        }
        DiscountValue::Percent(pct) => {
            let value = json!({ "percentage": f64::from(*pct) / 100.0 });
            input.insert("customerGets".into(), gets(value, json!({ "all": true })));
        }
        DiscountValue::FreeVariant(variant) => {
            let price = unit_price.unwrap_or_default();
            if !is_positive_decimal(price) {
                return Err(ApiError::InvalidDiscount(format!(
                    "variant {variant} has no price above zero ({price:?})"
                )));
            }
            let items = json!({ "products": { "productVariantsToAdd": [variant_gid(variant)] } });
            // Split across the units, not per unit: one unit's price off in total.
            let value =
                json!({ "discountAmount": { "amount": price, "appliesOnEachItem": false } });
            input.insert("customerGets".into(), gets(value, items));
        }
        DiscountValue::FreeShipping { max_shipping } => {
            input.insert("destination".into(), json!({ "all": true }));
            if let Some(max) = max_shipping {
                input.insert("maximumShippingPrice".into(), json!(max));
            }
        }
    }
    Ok(Value::Object(input))
}

/// The input field that says who may use the code, and its value, in the shape of
/// `api_version`: `context` replaced `customerSelection` in 2025-10, and its "everyone" became
/// the enum `ALL` where it was the boolean `true`.
fn audience(audience: &Audience, api_version: &str) -> (&'static str, Value) {
    let current = api_version >= "2025-10";
    let buyers = match audience {
        Audience::Customer(id) => {
            json!({ "customers": { "add": [super::customer_tags::customer_gid(id)] } })
        }
        Audience::Anyone if current => json!({ "all": "ALL" }),
        Audience::Anyone => json!({ "all": true }),
    };
    let key = if current {
        "context"
    } else {
        "customerSelection"
    };
    (key, buyers)
}

fn variant_gid(variant: &str) -> String {
    format!("gid://shopify/ProductVariant/{variant}")
}

/// Whether Shopify refused a create because the code exists (`TAKEN`, "Code must be unique").
fn code_taken(payload: Option<&Value>) -> bool {
    let Some(errors) = payload
        .and_then(|p| p.get("userErrors"))
        .and_then(Value::as_array)
    else {
        return false;
    };
    errors.iter().any(|e| {
        let on_code = e
            .get("field")
            .and_then(Value::as_array)
            .and_then(|f| f.last())
            .and_then(Value::as_str)
            == Some("code");
        let taken = e.get("code").and_then(Value::as_str) == Some("TAKEN")
            || e.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.to_ascii_lowercase().contains("must be unique"));
        on_code && taken
    })
}

/// The messages of a mutation payload's `userErrors`, joined; `None` when there are none.
pub(super) fn user_errors(payload: Option<&Value>) -> Option<String> {
    let errors = payload?.get("userErrors")?.as_array()?;
    let messages: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("message")?.as_str())
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

impl ShopifyApi {
    /// The variant's current price in the shop's currency (a free product's value).
    async fn variant_price(
        &self,
        shop: &ShopCredentials,
        variant: &str,
    ) -> Result<String, ApiError> {
        let data = self
            .graphql(shop, VARIANT_PRICE, json!({ "id": variant_gid(variant) }))
            .await?;
        match data.pointer("/productVariant/price") {
            Some(Value::String(price)) => Ok(price.clone()),
            Some(Value::Number(price)) => Ok(price.to_string()),
            _ => Err(ApiError::Rejected(format!(
                "the shop has no product variant {variant}"
            ))),
        }
    }
}

impl PlatformApi for ShopifyApi {
    async fn create_discount(
        &self,
        shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> Result<String, ApiError> {
        req.check()?;
        let (query, field) = match req.value {
            DiscountValue::FreeShipping { .. } => (FREE_SHIPPING, "discountCodeFreeShippingCreate"),
            _ => (BASIC, "discountCodeBasicCreate"),
        };
        let unit_price = match &req.value {
            DiscountValue::FreeVariant(variant) => Some(self.variant_price(shop, variant).await?),
            _ => None,
        };
        let input = discount_input(req, self.api_version(), unit_price.as_deref())?;
        let data = self.graphql(shop, query, json!({ "input": input })).await?;
        let payload = data.get(field);
        if code_taken(payload) {
            return Err(ApiError::CodeTaken);
        }
        if let Some(messages) = user_errors(payload) {
            return Err(ApiError::Rejected(messages));
        }
        payload
            .and_then(|p| p.pointer("/codeDiscountNode/id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::InvalidResponse(format!("{field} returned no discount id")))
    }

    async fn find_discount(
        &self,
        shop: &ShopCredentials,
        code: &str,
    ) -> Result<Option<String>, ApiError> {
        let data = self.graphql(shop, BY_CODE, json!({ "code": code })).await?;
        Ok(data
            .pointer("/codeDiscountNodeByCode/id")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    async fn discount_used(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<bool, ApiError> {
        let data = self
            .graphql(shop, USAGE, json!({ "id": discount_id }))
            .await?;
        let uses = data
            .pointer("/codeDiscountNode/codeDiscount/asyncUsageCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        Ok(uses > 0)
    }

    async fn deactivate_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        let data = self
            .graphql(shop, DEACTIVATE, json!({ "id": discount_id }))
            .await?;
        match user_errors(data.get("discountCodeDeactivate")) {
            Some(messages) => Err(ApiError::Rejected(messages)),
            None => Ok(()),
        }
    }

    async fn delete_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        let data = self
            .graphql(shop, DELETE, json!({ "id": discount_id }))
            .await?;
        match user_errors(data.get("discountCodeDelete")) {
            Some(messages) => Err(ApiError::Rejected(messages)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
