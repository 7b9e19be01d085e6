//! Discount codes through the Admin GraphQL API: one single-use code per redemption, limited to
//! the customer, with an expiry. API 2025-10 and later take `context`; older versions
//! `customerSelection` (PLATFORMS.md §5).

use serde_json::{json, Value};

use super::api::{ApiError, ShopCredentials, ShopifyApi};
use crate::platform::{DiscountRequest, DiscountValue, PlatformApi};

const BASIC: &str = r#"mutation BoomerangBasic($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) { codeDiscountNode { id } userErrors { field message } }
}"#;

const FREE_SHIPPING: &str = r#"mutation BoomerangFreeShipping($input: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $input) { codeDiscountNode { id } userErrors { field message } }
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

/// The `DiscountCode…Input` for a request, in the shape of `api_version`.
pub fn discount_input(req: &DiscountRequest, api_version: &str) -> Value {
    let mut input = serde_json::Map::new();
    input.insert("title".into(), json!(req.title));
    input.insert("code".into(), json!(req.code));
    input.insert("startsAt".into(), json!(req.starts_at.to_rfc3339()));
    input.insert("endsAt".into(), json!(req.ends_at.to_rfc3339()));
    input.insert("usageLimit".into(), json!(1));
    input.insert("appliesOncePerCustomer".into(), json!(true));
    // `context` replaced `customerSelection` in 2025-10.
    let audience = if api_version >= "2025-10" {
        "context"
    } else {
        "customerSelection"
    };
    let customer = format!("gid://shopify/Customer/{}", req.customer_id);
    input.insert(
        audience.into(),
        json!({ "customers": { "add": [customer] } }),
    );
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
            let items = json!({ "products": { "productVariantsToAdd": [format!("gid://shopify/ProductVariant/{variant}")] } });
            input.insert(
                "customerGets".into(),
                gets(json!({ "percentage": 1.0 }), items),
            );
        }
        DiscountValue::FreeShipping { max_shipping } => {
            input.insert("destination".into(), json!({ "all": true }));
            if let Some(max) = max_shipping {
                input.insert("maximumShippingPrice".into(), json!(max));
            }
        }
    }
    Value::Object(input)
}

fn user_errors(payload: Option<&Value>) -> Option<String> {
    let errors = payload?.get("userErrors")?.as_array()?;
    let messages: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("message")?.as_str())
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

impl PlatformApi for ShopifyApi {
    async fn create_discount(
        &self,
        shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> Result<String, ApiError> {
        let (query, field) = match req.value {
            DiscountValue::FreeShipping { .. } => (FREE_SHIPPING, "discountCodeFreeShippingCreate"),
            _ => (BASIC, "discountCodeBasicCreate"),
        };
        let data = self
            .graphql(
                shop,
                query,
                json!({ "input": discount_input(req, self.api_version()) }),
            )
            .await?;
        let payload = data.get(field);
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
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn request(value: DiscountValue) -> DiscountRequest {
        DiscountRequest {
            code: "GLOW-ABCDE-FGHJK".into(),
            title: "5 off your order".into(),
            customer_id: "7001".into(),
            value,
            min_subtotal: Some("50.00".into()),
            starts_at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
                .unwrap(),
            ends_at: chrono::Utc
                .with_ymd_and_hms(2026, 12, 23, 10, 0, 0)
                .unwrap(),
        }
    }

    #[test]
    fn a_fixed_amount_code_is_single_use_and_for_one_customer() {
        let input = discount_input(&request(DiscountValue::Amount("5.00".into())), "2025-10");
        assert_eq!(input["code"], "GLOW-ABCDE-FGHJK");
        assert_eq!(input["usageLimit"], 1);
        assert_eq!(
            input["context"]["customers"]["add"][0],
            "gid://shopify/Customer/7001"
        );
        assert!(input.get("customerSelection").is_none());
        assert_eq!(
            input["customerGets"]["value"]["discountAmount"]["amount"],
            "5.00"
        );
        assert_eq!(
            input["minimumRequirement"]["subtotal"]["greaterThanOrEqualToSubtotal"],
            "50.00"
        );
        assert_eq!(input["endsAt"], "2026-12-23T10:00:00+00:00");
    }

    #[test]
    fn older_api_versions_use_customer_selection() {
        let input = discount_input(&request(DiscountValue::Percent(10)), "2025-07");
        assert_eq!(
            input["customerSelection"]["customers"]["add"][0],
            "gid://shopify/Customer/7001"
        );
        assert!(input.get("context").is_none());
        assert_eq!(input["customerGets"]["value"]["percentage"], 0.1);
    }

    #[test]
    fn free_shipping_and_free_products_take_their_shapes() {
        let ship = discount_input(
            &request(DiscountValue::FreeShipping {
                max_shipping: Some("20.00".into()),
            }),
            "2025-10",
        );
        assert_eq!(ship["destination"]["all"], true);
        assert_eq!(ship["maximumShippingPrice"], "20.00");
        assert!(ship.get("customerGets").is_none());
        let product = discount_input(
            &request(DiscountValue::FreeVariant("4001".into())),
            "2025-10",
        );
        assert_eq!(
            product["customerGets"]["items"]["products"]["productVariantsToAdd"][0],
            "gid://shopify/ProductVariant/4001"
        );
    }
}
