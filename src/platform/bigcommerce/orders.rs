//! Reading orders over BigCommerce's REST API: one order's whole state as one document (the
//! thin webhooks say only which order changed), and the orders modified (or created) since a
//! time.
//!
//! The document is `{"order": …, "products": […], "coupons": […], "refunds": […]}` (see
//! `payload`). Its parts are read one after the other; an order deleted in between reads as
//! gone rather than as half a document.

use reqwest::Method;
use serde_json::{json, Value};

use super::api::BcApi;
use crate::platform::{ApiError, ShopCredentials};

/// Lines and coupons per page (BigCommerce's v2 maximum).
const V2_PAGE: usize = 250;
/// A bound on the pages of one order's lines or coupons (62,500 lines).
const MAX_SUBPAGES: usize = 250;

/// The document of order `order_id`; `None` when BigCommerce no longer has it.
pub async fn order_document(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    order_id: u64,
) -> Result<Option<Value>, ApiError> {
    match api
        .get_optional(shop, &format!("v2/orders/{order_id}"))
        .await?
    {
        Some(order) => document_for(api, shop, order).await,
        None => Ok(None),
    }
}

/// The document of an order already read (from a listing); `None` when its parts are gone.
pub async fn document_for(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    order: Value,
) -> Result<Option<Value>, ApiError> {
    let id = order
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::InvalidResponse("an order without a numeric id".into()))?;
    let Some(products) = v2_list(api, shop, &format!("v2/orders/{id}/products")).await? else {
        return Ok(None);
    };
    let Some(coupons) = v2_list(api, shop, &format!("v2/orders/{id}/coupons")).await? else {
        return Ok(None);
    };
    let refunds = if nothing_refunded(&order) {
        Vec::new()
    } else {
        match refunds_of(api, shop, id).await? {
            Some(refunds) => refunds,
            None => return Ok(None),
        }
    };
    Ok(Some(json!({
        "order": order,
        "products": products,
        "coupons": coupons,
        "refunds": refunds,
    })))
}

/// Whether the order itself says no money went back (`refunded_amount` zero, and a status
/// other than refunded or partially refunded): then its refunds list is empty and reading it
/// would spend one of the store's rate-limited calls for nothing. Anything else, or an amount
/// that does not read as a number, is read.
fn nothing_refunded(order: &Value) -> bool {
    let refunded_status = matches!(order.get("status_id").and_then(Value::as_i64), Some(4 | 14));
    let zero = match order.get("refunded_amount") {
        Some(Value::String(amount)) => amount.parse::<f64>().is_ok_and(|a| a == 0.0),
        Some(Value::Number(amount)) => amount.as_f64() == Some(0.0),
        _ => false,
    };
    zero && !refunded_status
}

/// The order's refunds (v3 `payment_actions/refunds`); `None` when the order is gone.
async fn refunds_of(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    id: u64,
) -> Result<Option<Vec<Value>>, ApiError> {
    Ok(Some(
        match api
            .get_optional(shop, &format!("v3/orders/{id}/payment_actions/refunds"))
            .await?
        {
            None => return Ok(None),
            Some(answer) => match answer.get("data") {
                Some(Value::Array(items)) => items.clone(),
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(ApiError::InvalidResponse(
                        "refunds: `data` is not a list".into(),
                    ))
                }
            },
        },
    ))
}

/// Every item of a v2 sub-resource, page by page; `None` on a 404 (the order is gone). v2
/// answers an empty list with `204 No Content`.
async fn v2_list(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    path: &str,
) -> Result<Option<Vec<Value>>, ApiError> {
    let mut all = Vec::new();
    for page in 1..=MAX_SUBPAGES {
        let url = format!("{path}?limit={V2_PAGE}&page={page}");
        let items = match api.get_optional(shop, &url).await? {
            None => return Ok(None),
            Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(ApiError::InvalidResponse(format!(
                    "{path}: the answer is not a list"
                )))
            }
        };
        let last = items.len() < V2_PAGE;
        all.extend(items);
        if last {
            break;
        }
    }
    Ok(Some(all))
}

/// Page `page` (from 1) of the orders modified at or after `since` (RFC 3339), oldest change
/// first, 250 a page. An empty list when there are no more.
pub async fn orders_modified_since(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    since: &str,
    page: u32,
) -> Result<Vec<Value>, ApiError> {
    orders_since(api, shop, "date_modified", since, page).await
}

/// Page `page` (from 1) of the orders created at or after `since` (RFC 3339), oldest first,
/// 250 a page (the history backfill). An empty list when there are no more.
pub async fn orders_created_since(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    since: &str,
    page: u32,
) -> Result<Vec<Value>, ApiError> {
    orders_since(api, shop, "date_created", since, page).await
}

/// The listing filtered by `min_{field}` and sorted by `field`, ascending.
async fn orders_since(
    api: &BcApi<'_>,
    shop: &ShopCredentials,
    field: &str,
    since: &str,
    page: u32,
) -> Result<Vec<Value>, ApiError> {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(&format!("min_{field}"), since)
        .append_pair("sort", &format!("{field}:asc"))
        .append_pair("limit", &V2_PAGE.to_string())
        .append_pair("page", &page.to_string())
        .finish();
    match api
        .call(shop, Method::GET, &format!("v2/orders?{query}"), None)
        .await?
    {
        Value::Null => Ok(Vec::new()),
        Value::Array(orders) => Ok(orders),
        _ => Err(ApiError::InvalidResponse(
            "v2/orders: the answer is not a list".into(),
        )),
    }
}

/// Orders a listing page holds at most: fewer means it was the last.
pub const ORDERS_PAGE: usize = V2_PAGE;

#[cfg(test)]
mod tests {
    use super::nothing_refunded;
    use serde_json::json;

    #[test]
    fn refunds_are_read_unless_the_order_says_none_went_back() {
        let order = |status: i64, amount: serde_json::Value| json!({"id": 1, "status_id": status, "refunded_amount": amount});
        assert!(nothing_refunded(&order(11, json!("0.0000"))));
        assert!(nothing_refunded(&order(2, json!(0))));
        assert!(!nothing_refunded(&order(11, json!("5.0000"))));
        assert!(!nothing_refunded(&order(5, json!("0.0100"))));
        // Refunded statuses are read whatever the amount says.
        assert!(!nothing_refunded(&order(4, json!("0.0000"))));
        assert!(!nothing_refunded(&order(14, json!("0.0000"))));
        // Missing or unreadable: read.
        assert!(!nothing_refunded(&json!({"id": 1, "status_id": 11})));
        assert!(!nothing_refunded(&order(11, json!("n/a"))));
        assert!(!nothing_refunded(&order(11, json!(null))));
    }
}
