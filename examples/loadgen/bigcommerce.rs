//! The BigCommerce path of a load run: thin webhooks carrying the shop's header secret, and a
//! fake BigCommerce API in this process that answers the app's reads of each order (the order,
//! its products, no coupons, no refunds) from what the run sent. The app reads every order
//! back through it, so "applied" includes one API read per order, as in production.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Orders the fake knows: id → (customer id, whole units).
pub type Orders = Arc<Mutex<HashMap<u64, (u64, u64)>>>;

/// Starts the fake API on `addr` (the shop was added with `--api-base http://{addr}`).
pub async fn serve(addr: &str, template: Value, orders: Orders) -> anyhow::Result<MockServer> {
    let listener = std::net::TcpListener::bind(addr)?;
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("GET"))
        .respond_with(FakeApi { template, orders })
        .mount(&server)
        .await;
    Ok(server)
}

struct FakeApi {
    /// `tests/fixtures/bigcommerce/order_document.json`: its order and first product.
    template: Value,
    orders: Orders,
}

impl Respond for FakeApi {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let not_found = || {
            ResponseTemplate::new(404).set_body_json(
                json!([{"status": 404, "message": "The requested resource was not found."}]),
            )
        };
        if path.ends_with("/v2/store") {
            return ResponseTemplate::new(200).set_body_json(
                json!({"currency": "USD", "timezone": {"name": "Etc/UTC"}, "language": "en"}),
            );
        }
        // …/v2/orders/{id}[/products|/coupons] or …/v3/orders/{id}/payment_actions/refunds
        let mut parts = path.split('/').skip_while(|p| *p != "orders").skip(1);
        let Some(id) = parts.next().and_then(|id| id.parse::<u64>().ok()) else {
            return not_found();
        };
        let known = self.orders.lock().ok().and_then(|o| o.get(&id).copied());
        let Some((customer, units)) = known else {
            return not_found();
        };
        let first_page = request
            .url
            .query_pairs()
            .all(|(k, v)| k != "page" || v == "1");
        match parts.next() {
            None => ResponseTemplate::new(200).set_body_json(self.order(id, customer, units)),
            Some("products") if first_page => {
                ResponseTemplate::new(200).set_body_json(json!([self.product(id, units)]))
            }
            Some("products" | "coupons") => ResponseTemplate::new(204),
            Some("payment_actions") => {
                ResponseTemplate::new(200).set_body_json(json!({"data": []}))
            }
            Some(_) => not_found(),
        }
    }
}

impl FakeApi {
    fn order(&self, id: u64, customer: u64, units: u64) -> Value {
        let mut order = self.template.get("order").cloned().unwrap_or_default();
        let price = format!("{units}.0000");
        let now = crate::platform::placed_now().to_rfc2822();
        if let Some(o) = order.as_object_mut() {
            for (key, value) in [
                ("id", json!(id)),
                ("customer_id", json!(customer)),
                ("status_id", json!(11)),
                ("date_created", json!(now)),
                ("date_modified", json!(now)),
                ("subtotal_ex_tax", json!(price)),
                ("subtotal_inc_tax", json!(price)),
                ("subtotal_tax", json!("0.0000")),
                ("total_ex_tax", json!(price)),
                ("total_inc_tax", json!(price)),
                ("total_tax", json!("0.0000")),
                ("discount_amount", json!("0.0000")),
                ("coupon_discount", json!("0.0000")),
                ("items_total", json!(1)),
            ] {
                o.insert(key.into(), value);
            }
            if let Some(billing) = o.get_mut("billing_address").and_then(Value::as_object_mut) {
                billing.insert(
                    "email".into(),
                    json!(format!("load-{customer}@example.com")),
                );
            }
        }
        order
    }

    fn product(&self, order_id: u64, units: u64) -> Value {
        let mut product = self
            .template
            .pointer("/products/0")
            .cloned()
            .unwrap_or_default();
        let price = format!("{units}.0000");
        if let Some(p) = product.as_object_mut() {
            for (key, value) in [
                ("id", json!(order_id * 10)),
                ("order_id", json!(order_id)),
                ("quantity", json!(1)),
                ("base_price", json!(price)),
                ("price_ex_tax", json!(price)),
                ("price_inc_tax", json!(price)),
                ("price_tax", json!("0.0000")),
                ("base_total", json!(price)),
                ("total_ex_tax", json!(price)),
                ("total_inc_tax", json!(price)),
                ("total_tax", json!("0.0000")),
                ("applied_discounts", json!([])),
                ("discounted_total_inc_tax", json!(price)),
            ] {
                p.insert(key.into(), value);
            }
        }
        product
    }
}

/// The thin body BigCommerce sends for `order_id`; `hash` is the delivery's own.
pub fn thin_webhook(store_hash: &str, order_id: u64, hash: &str) -> String {
    json!({
        "scope": "store/order/created",
        "store_id": "1001",
        "data": {"type": "order", "id": order_id},
        "hash": hash,
        "created_at": chrono::Utc::now().timestamp(),
        "producer": format!("stores/{store_hash}"),
    })
    .to_string()
}
