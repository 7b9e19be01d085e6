//! The keys kept beside a stored webhook body (the customer and order it is about), read from
//! the body once when it is stored, so an erasure finds the bodies about a customer without
//! searching their text.

/// Who and what a stored webhook is about: the keys kept beside its body on the inbox row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The platform's customer id: an order's or refund's customer, a customer payload's own
    /// id, a compliance payload's customer.
    pub customer_id: Option<String>,
    /// The platform's order id: an order's own id, a refund's order.
    pub order_id: Option<String>,
}

impl Subject {
    /// Reads the keys from a stored body: a Shopify or WooCommerce order, refund, customer or
    /// compliance payload, or one of BigCommerce's (a thin webhook naming its order or customer
    /// in `data`, an order document `{"order": {…}, "products", …}`). Only those fields are
    /// decoded; a body of another shape is about no one.
    pub fn of(payload: &str) -> Self {
        use serde::de::IgnoredAny;
        #[derive(serde::Deserialize)]
        struct Customer {
            #[serde(default)]
            id: Option<serde_json::Value>,
        }
        /// BigCommerce's thin webhook: `data{type,id}` says what changed, nothing more.
        #[derive(serde::Deserialize)]
        struct Thin {
            #[serde(rename = "type")]
            kind: String,
            id: serde_json::Value,
        }
        /// The `order` of a BigCommerce order document (`customer_id` 0 for a guest).
        #[derive(serde::Deserialize)]
        struct BcOrder {
            id: serde_json::Value,
            #[serde(default)]
            customer_id: Option<serde_json::Value>,
        }
        #[derive(serde::Deserialize)]
        struct Keys {
            #[serde(default)]
            id: Option<serde_json::Value>,
            #[serde(default)]
            order_id: Option<serde_json::Value>,
            #[serde(default)]
            customer: Option<Customer>,
            /// WooCommerce's order names its customer here (0 for a guest).
            #[serde(default)]
            customer_id: Option<serde_json::Value>,
            #[serde(default)]
            line_items: Option<IgnoredAny>,
            #[serde(default, deserialize_with = "if_shaped")]
            data: Option<Thin>,
            #[serde(default, deserialize_with = "if_shaped")]
            order: Option<BcOrder>,
        }
        let text = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        // Only an object: serde would also read a JSON array as the fields in order.
        if !payload.trim_start().starts_with('{') {
            return Self::default();
        }
        let Ok(keys) = serde_json::from_str::<Keys>(payload) else {
            return Self::default();
        };
        if let Some(order) = keys.order {
            return Self {
                customer_id: text(order.customer_id).filter(|id| id != "0"),
                order_id: text(Some(order.id)),
            };
        }
        if let Some(thin) = keys.data {
            let id = text(Some(thin.id));
            return match thin.kind.as_str() {
                "order" => Self {
                    customer_id: None,
                    order_id: id,
                },
                "customer" => Self {
                    customer_id: id,
                    order_id: None,
                },
                _ => Self::default(),
            };
        }
        let is_order = keys.line_items.is_some();
        let is_refund = keys.order_id.is_some();
        let own_id = text(keys.id);
        // A customer payload's own `id` is the customer; an order's is the order.
        let customer_id = text(keys.customer.and_then(|c| c.id))
            .or_else(|| text(keys.customer_id).filter(|id| id != "0"))
            .or_else(|| (!is_order && !is_refund).then(|| own_id.clone()).flatten());
        let order_id = if is_order {
            own_id
        } else {
            text(keys.order_id)
        };
        Self {
            customer_id,
            order_id,
        }
    }
}

/// A field read only when it has the shape asked for, else absent: `data` and `order` are
/// BigCommerce's keys, and another platform's body using those names for something else must
/// still be read for its own keys.
fn if_shaped<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use super::Subject;

    fn subject(customer: Option<&str>, order: Option<&str>) -> Subject {
        Subject {
            customer_id: customer.map(str::to_owned),
            order_id: order.map(str::to_owned),
        }
    }

    #[test]
    fn a_stored_body_is_keyed_by_its_customer_and_order() {
        let order = r#"{"id":500,"line_items":[],"customer":{"id":7001,"email":"a@x.com"}}"#;
        assert_eq!(Subject::of(order), subject(Some("7001"), Some("500")));
        let guest = r#"{"id":501,"line_items":[{"id":1}],"customer":null,"email":"g@x.com"}"#;
        assert_eq!(Subject::of(guest), subject(None, Some("501")));
        let woo = r#"{"id":727,"customer_id":31,"line_items":[]}"#;
        assert_eq!(Subject::of(woo), subject(Some("31"), Some("727")));
        let woo_guest = r#"{"id":727,"customer_id":0,"line_items":[]}"#;
        assert_eq!(Subject::of(woo_guest), subject(None, Some("727")));
        let refund = r#"{"id":900,"order_id":500,"refund_line_items":[]}"#;
        assert_eq!(Subject::of(refund), subject(None, Some("500")));
        let customer = r#"{"id":"7001","email":"a@x.com"}"#;
        assert_eq!(Subject::of(customer), subject(Some("7001"), None));
        let redact = r#"{"shop_id":1,"customer":{"id":7001},"orders_to_redact":[500]}"#;
        assert_eq!(Subject::of(redact), subject(Some("7001"), None));
        assert_eq!(Subject::of("[1,2]"), Subject::default());
        assert_eq!(Subject::of(r#"{"customer":"odd"}"#), Subject::default());
    }

    #[test]
    fn bigcommerce_bodies_are_keyed_by_the_order_and_customer_they_name() {
        let thin = r#"{"scope":"store/order/statusUpdated","store_id":"1025646","data":
            {"type":"order","id":250,"status":{"previous_status_id":0,"new_status_id":11}},
            "hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,
            "producer":"stores/abc123"}"#;
        assert_eq!(Subject::of(thin), subject(None, Some("250")));
        let customer = r#"{"scope":"store/customer/created","data":{"type":"customer","id":32}}"#;
        assert_eq!(Subject::of(customer), subject(Some("32"), None));
        let document = r#"{"order":{"id":250,"customer_id":31,
            "billing_address":{"email":"a@x.com"}},"products":[{"id":1,"order_id":250}],
            "coupons":[],"refunds":[{"id":9,"order_id":250}]}"#;
        assert_eq!(Subject::of(document), subject(Some("31"), Some("250")));
        let guest = r#"{"order":{"id":251,"customer_id":0,"billing_address":{}},"products":[]}"#;
        assert_eq!(Subject::of(guest), subject(None, Some("251")));
        // Something else under BigCommerce's key names is read as before.
        let odd = r#"{"id":7001,"data":"x","order":"y"}"#;
        assert_eq!(Subject::of(odd), subject(Some("7001"), None));
        let unknown = r#"{"scope":"store/product/updated","data":{"type":"product","id":5}}"#;
        assert_eq!(Subject::of(unknown), Subject::default());
    }
}
