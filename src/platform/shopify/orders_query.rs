//! Reconciliation reads recent orders through the Admin GraphQL API. Each order node is turned
//! into the REST webhook shape (`orders/updated`, `refunds/create`), so reconciled orders take the
//! very same mapping and inbox path as webhooks and deduplicate against them.

use serde_json::{json, Map, Value};

use super::api::legacy_id;

/// Orders updated after `$query`'s bound, oldest update first, with their lines and refunds.
pub const ORDERS_UPDATED_SINCE: &str = r#"
query BoomerangReconcile($cursor: String, $query: String!) {
  orders(first: 50, after: $cursor, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId name email createdAt processedAt updatedAt cancelledAt test
      displayFinancialStatus currencyCode
      customer { legacyResourceId email }
      subtotalPriceSet { shopMoney { amount currencyCode } }
      totalDiscountsSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount currencyCode } }
      totalPriceSet { shopMoney { amount } }
      lineItems(first: 250) {
        nodes {
          id title quantity currentQuantity isGiftCard
          product { legacyResourceId }
          variant { legacyResourceId }
          originalUnitPriceSet { shopMoney { amount } }
          totalDiscountSet { shopMoney { amount } }
        }
      }
      refunds {
        legacyResourceId createdAt
        refundLineItems(first: 250) {
          nodes { lineItem { id } quantity subtotalSet { shopMoney { amount } } }
        }
        transactions(first: 50) { nodes { kind status amountSet { shopMoney { amount } } } }
        refundShippingLines(first: 10) {
          nodes { subtotalAmountSet { shopMoney { amount } } taxAmountSet { shopMoney { amount } } }
        }
      }
    }
  }
}"#;

/// The search query for orders updated strictly after `since` (RFC 3339).
pub fn updated_since_filter(since: &str) -> String {
    format!("updated_at:>'{since}'")
}

fn money(node: &Value, field: &str) -> Value {
    node.pointer(&format!("/{field}/shopMoney/amount"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn id_of(node: &Value, pointer: &str) -> Value {
    match node.pointer(pointer).and_then(Value::as_str) {
        Some(id) => Value::String(legacy_id(id).unwrap_or(id).to_owned()),
        None => Value::Null,
    }
}

fn nodes<'a>(node: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    node.pointer(&format!("/{field}/nodes"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// An order node as the REST `orders/updated` body.
pub fn order_as_rest(node: &Value) -> Value {
    let lines: Vec<Value> = nodes(node, "lineItems")
        .map(|line| {
            json!({
                "id": id_of(line, "/id"),
                "product_id": id_of(line, "/product/legacyResourceId"),
                "variant_id": id_of(line, "/variant/legacyResourceId"),
                "quantity": line.get("quantity").cloned().unwrap_or(Value::Null),
                "current_quantity": line.get("currentQuantity").cloned().unwrap_or(Value::Null),
                "price": money(line, "originalUnitPriceSet"),
                "total_discount": money(line, "totalDiscountSet"),
                "gift_card": line.get("isGiftCard").cloned().unwrap_or(Value::Bool(false)),
                "title": line.get("title").cloned().unwrap_or(Value::Null),
            })
        })
        .collect();
    let customer = match node.get("customer") {
        Some(c) if !c.is_null() => json!({
            "id": id_of(c, "/legacyResourceId"),
            "email": c.get("email").cloned().unwrap_or(Value::Null),
        }),
        _ => Value::Null,
    };
    let status = node
        .get("displayFinancialStatus")
        .and_then(Value::as_str)
        .map(|s| Value::String(s.to_ascii_lowercase()))
        .unwrap_or(Value::Null);
    let mut order = Map::new();
    order.insert("id".into(), id_of(node, "/legacyResourceId"));
    for (rest, gql) in [
        ("name", "name"),
        ("email", "email"),
        ("created_at", "createdAt"),
        ("processed_at", "processedAt"),
        ("updated_at", "updatedAt"),
        ("cancelled_at", "cancelledAt"),
        ("test", "test"),
        ("currency", "currencyCode"),
    ] {
        order.insert(rest.into(), node.get(gql).cloned().unwrap_or(Value::Null));
    }
    order.insert("financial_status".into(), status);
    order.insert("customer".into(), customer);
    order.insert("subtotal_price".into(), money(node, "subtotalPriceSet"));
    order.insert("total_discounts".into(), money(node, "totalDiscountsSet"));
    order.insert("total_tax".into(), money(node, "totalTaxSet"));
    order.insert("total_price".into(), money(node, "totalPriceSet"));
    order.insert(
        "total_shipping_price_set".into(),
        json!({ "shop_money": { "amount": money(node, "totalShippingPriceSet") } }),
    );
    order.insert("line_items".into(), Value::Array(lines));
    order.insert("discount_codes".into(), json!([]));
    order.insert("note_attributes".into(), json!([]));
    Value::Object(order)
}

/// The order's refunds as REST `refunds/create` bodies.
pub fn refunds_as_rest(node: &Value) -> Vec<Value> {
    let order_id = id_of(node, "/legacyResourceId");
    node.get("refunds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|refund| {
            let lines: Vec<Value> = nodes(refund, "refundLineItems")
                .map(|l| {
                    json!({
                        "line_item_id": id_of(l, "/lineItem/id"),
                        "quantity": l.get("quantity").cloned().unwrap_or(Value::Null),
                        "subtotal": money(l, "subtotalSet"),
                    })
                })
                .collect();
            let transactions: Vec<Value> = nodes(refund, "transactions")
                .map(|t| {
                    json!({
                        "kind": t.get("kind").and_then(Value::as_str).map(str::to_ascii_lowercase),
                        "status": t.get("status").and_then(Value::as_str).map(str::to_ascii_lowercase),
                        "amount": money(t, "amountSet"),
                    })
                })
                .collect();
            // Shipping refunded, so that a shipping-only refund is not taken for goods.
            let shipping_lines: Vec<Value> = nodes(refund, "refundShippingLines")
                .map(|s| {
                    json!({
                        "subtotal_amount": money(s, "subtotalAmountSet"),
                        "tax_amount": money(s, "taxAmountSet"),
                    })
                })
                .collect();
            json!({
                "id": id_of(refund, "/legacyResourceId"),
                "order_id": order_id,
                "created_at": refund.get("createdAt").cloned().unwrap_or(Value::Null),
                "refund_line_items": lines,
                "refund_shipping_lines": shipping_lines,
                "transactions": transactions,
                "order_adjustments": [],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Value {
        json!({
            "legacyResourceId": "5001", "name": "#1001", "email": "a@example.com",
            "createdAt": "2026-11-01T10:00:00Z", "updatedAt": "2026-11-02T10:00:00Z",
            "cancelledAt": null, "test": false, "displayFinancialStatus": "PARTIALLY_REFUNDED",
            "currencyCode": "EUR", "customer": {"legacyResourceId": "7001", "email": "a@example.com"},
            "subtotalPriceSet": {"shopMoney": {"amount": "100.0", "currencyCode": "EUR"}},
            "totalDiscountsSet": {"shopMoney": {"amount": "0.0"}},
            "totalTaxSet": {"shopMoney": {"amount": "19.0"}},
            "totalShippingPriceSet": {"shopMoney": {"amount": "5.0", "currencyCode": "EUR"}},
            "totalPriceSet": {"shopMoney": {"amount": "124.0"}},
            "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/9001", "quantity": 2, "currentQuantity": 1,
                "isGiftCard": false, "product": {"legacyResourceId": "3001"}, "variant": null,
                "originalUnitPriceSet": {"shopMoney": {"amount": "50.0"}},
                "totalDiscountSet": {"shopMoney": {"amount": "0.0"}}}]},
            "refunds": [{"legacyResourceId": "8001", "createdAt": "2026-11-02T09:00:00Z",
                "refundLineItems": {"nodes": [{"lineItem": {"id": "gid://shopify/LineItem/9001"}, "quantity": 1,
                    "subtotalSet": {"shopMoney": {"amount": "50.0"}}}]},
                "transactions": {"nodes": [{"kind": "REFUND", "status": "SUCCESS", "amountSet": {"shopMoney": {"amount": "59.5"}}}]}}]
        })
    }

    #[test]
    fn orders_take_the_rest_shape() {
        let rest = order_as_rest(&node());
        assert_eq!(rest["id"], "5001");
        assert_eq!(rest["financial_status"], "partially_refunded");
        assert_eq!(rest["customer"]["id"], "7001");
        assert_eq!(rest["subtotal_price"], "100.0");
        assert_eq!(
            rest["total_shipping_price_set"]["shop_money"]["amount"],
            "5.0"
        );
        assert_eq!(rest["line_items"][0]["id"], "9001");
        assert_eq!(rest["line_items"][0]["product_id"], "3001");
        assert_eq!(rest["line_items"][0]["variant_id"], Value::Null);
        assert_eq!(rest["line_items"][0]["price"], "50.0");
    }

    #[test]
    fn refunds_take_the_rest_shape() {
        let refunds = refunds_as_rest(&node());
        assert_eq!(refunds.len(), 1);
        assert_eq!(refunds[0]["id"], "8001");
        assert_eq!(refunds[0]["order_id"], "5001");
        assert_eq!(refunds[0]["refund_line_items"][0]["line_item_id"], "9001");
        assert_eq!(refunds[0]["transactions"][0]["kind"], "refund");
        assert_eq!(refunds[0]["transactions"][0]["status"], "success");
    }
}
