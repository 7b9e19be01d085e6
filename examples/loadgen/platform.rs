//! What differs between platforms in a load run: the order body a platform sends, how it signs
//! it, how the owner authenticates to the admin API, and how a storefront proves its shopper.

use serde_json::{json, Value};

use crate::bigcommerce::{thin_webhook, Orders};
use crate::Prepared;

/// The platform whose webhook path is loaded.
pub enum Target {
    /// Signed with the app's secret; admin calls with session tokens; state reads through the
    /// signed app proxy.
    Shopify {
        shop: String,
        api_key: String,
        secret: String,
        template: Value,
    },
    /// Signed with the shop's own webhook secret; admin calls with the shop's API key; state
    /// reads through `/widget/v1` with the customer digest (the shop's widget secret).
    WooCommerce {
        shop: String,
        webhook_secret: String,
        shop_api_key: String,
        /// Read from `GET /api/admin/v1/shop` before the run.
        widget_secret: String,
        template: Value,
    },
    /// Thin webhooks with the shop's header secret; the order read back from the fake API in
    /// this process (`orders` is what it answers); admin and state reads as WooCommerce's.
    BigCommerce {
        shop: String,
        header_secret: String,
        shop_api_key: String,
        widget_secret: String,
        orders: Orders,
        /// Kept alive for the run.
        _fake_api: wiremock::MockServer,
    },
}

fn set(order: &mut Value, key: &str, value: Value) {
    if let Some(map) = order.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
}

impl Target {
    /// The `Authorization: Bearer` value of one admin API call. Shopify's session tokens live
    /// a minute (the app refuses longer ones), so one is made per call.
    pub fn admin_bearer(&self) -> String {
        match self {
            Self::Shopify {
                shop,
                api_key,
                secret,
                ..
            } => session_token(shop, api_key, secret),
            Self::WooCommerce { shop_api_key, .. } | Self::BigCommerce { shop_api_key, .. } => {
                shop_api_key.clone()
            }
        }
    }

    /// One signed delivery of a paid order of `units` whole units by `customer_id`;
    /// `delivery_id` is the platform's id of this delivery (the same for a redelivery).
    pub fn delivery(
        &self,
        base_url: &str,
        order_id: u64,
        customer_id: u64,
        units: u64,
        delivery_id: &str,
    ) -> Prepared {
        match self {
            Self::Shopify {
                shop,
                secret,
                template,
                ..
            } => {
                let body = shopify_order(template, order_id, customer_id, units);
                Prepared {
                    url: format!("{base_url}/webhooks/shopify"),
                    headers: vec![
                        ("Content-Type", "application/json".into()),
                        ("X-Shopify-Topic", "orders/paid".into()),
                        ("X-Shopify-Shop-Domain", shop.clone()),
                        ("X-Shopify-Webhook-Id", delivery_id.to_owned()),
                        (
                            "X-Shopify-Hmac-Sha256",
                            boomerang::platform::shopify::webhook::sign(body.as_bytes(), secret),
                        ),
                    ],
                    body: Some(body),
                }
            }
            Self::WooCommerce {
                shop,
                webhook_secret,
                template,
                ..
            } => {
                let body = woocommerce_order(template, order_id, customer_id, units);
                Prepared {
                    url: format!("{base_url}/webhooks/woocommerce/{shop}"),
                    headers: vec![
                        ("Content-Type", "application/json".into()),
                        ("X-WC-Webhook-Topic", "order.updated".into()),
                        ("X-WC-Webhook-Delivery-ID", delivery_id.to_owned()),
                        (
                            "X-WC-Webhook-Signature",
                            boomerang::platform::woocommerce::sign(body.as_bytes(), webhook_secret),
                        ),
                    ],
                    body: Some(body),
                }
            }
            Self::BigCommerce {
                shop,
                header_secret,
                orders,
                ..
            } => {
                if let Ok(mut known) = orders.lock() {
                    known.insert(order_id, (customer_id, units));
                }
                let store_hash = shop.strip_prefix("store-").unwrap_or(shop);
                Prepared {
                    url: format!("{base_url}/webhooks/bigcommerce/{shop}"),
                    headers: vec![
                        ("Content-Type", "application/json".into()),
                        ("X-Boomerang-Webhook-Secret", header_secret.clone()),
                    ],
                    body: Some(thin_webhook(store_hash, order_id, delivery_id)),
                }
            }
        }
    }

    /// One storefront read of `customer_id`'s rewards state, signed as the storefront would.
    pub fn state_read(&self, base_url: &str, customer_id: u64) -> Prepared {
        let url = match self {
            Self::Shopify { shop, secret, .. } => {
                let q = format!(
                    "shop={shop}&logged_in_customer_id={customer_id}&path_prefix=%2Fapps%2Frewards&timestamp={}",
                    chrono::Utc::now().timestamp()
                );
                let signature = boomerang::platform::shopify::app_proxy::sign(&q, secret);
                format!("{base_url}/proxy/state?{q}&signature={signature}")
            }
            Self::WooCommerce {
                shop,
                widget_secret,
                ..
            }
            | Self::BigCommerce {
                shop,
                widget_secret,
                ..
            } => {
                let customer = customer_id.to_string();
                let digest = hex::encode(boomerang::crypto::hmac_sha256(
                    widget_secret.as_bytes(),
                    customer.as_bytes(),
                ));
                format!(
                    "{base_url}/widget/v1/state?shop={shop}&customer={customer}&digest={digest}"
                )
            }
        };
        Prepared {
            url,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// The Shopify fixture as a paid order of `units` whole units, placed now.
fn shopify_order(template: &Value, order_id: u64, customer_id: u64, units: u64) -> String {
    let mut o = template.clone();
    // The fixture's money in shop currency (`*_set`) and net of edits (`current_*`) would take
    // precedence over the plain fields set below: drop them.
    if let Some(map) = o.as_object_mut() {
        map.retain(|k, _| !(k.ends_with("_set") || k.starts_with("current_")));
    }
    let price = format!("{units}.00");
    let email = format!("load-{customer_id}@example.com");
    // Placed now: an order dated before the shop's install is history and earns nothing (a
    // shop added for the run was installed just before it, within the same second perhaps:
    // whole seconds are rounded up, not down).
    let now = placed_now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for key in ["created_at", "processed_at", "updated_at"] {
        set(&mut o, key, json!(now));
    }
    set(&mut o, "id", json!(order_id));
    set(&mut o, "name", json!(format!("#LG{order_id}")));
    set(&mut o, "email", json!(email));
    set(&mut o, "financial_status", json!("paid"));
    set(&mut o, "cancelled_at", Value::Null);
    set(&mut o, "test", json!(false));
    set(&mut o, "currency", json!("USD"));
    set(&mut o, "subtotal_price", json!(price));
    set(&mut o, "total_price", json!(price));
    set(&mut o, "total_discounts", json!("0.00"));
    set(&mut o, "total_tax", json!("0.00"));
    set(
        &mut o,
        "customer",
        json!({"id": customer_id, "email": email}),
    );
    set(&mut o, "shipping_lines", json!([]));
    set(
        &mut o,
        "total_shipping_price_set",
        json!({"shop_money": {"amount": "0.00", "currency_code": "USD"}}),
    );
    set(&mut o, "discount_codes", json!([]));
    set(&mut o, "discount_applications", json!([]));
    set(
        &mut o,
        "line_items",
        json!([{
            "id": order_id * 10, "product_id": 1, "variant_id": 2, "quantity": 1, "current_quantity": 1,
            "price": price, "total_discount": "0.00", "gift_card": false, "title": "Load item",
            "price_set": {"shop_money": {"amount": price, "currency_code": "USD"}},
            "total_discount_set": {"shop_money": {"amount": "0.00", "currency_code": "USD"}},
            "discount_allocations": [], "tax_lines": []
        }]),
    );
    o.to_string()
}

/// The WooCommerce fixture as a paid (`processing`) order of `units` whole units, placed now.
fn woocommerce_order(template: &Value, order_id: u64, customer_id: u64, units: u64) -> String {
    let mut o = template.clone();
    let price = format!("{units}.00");
    let now = placed_now()
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    set(&mut o, "id", json!(order_id));
    set(&mut o, "number", json!(order_id.to_string()));
    set(&mut o, "status", json!("processing"));
    set(&mut o, "currency", json!("USD"));
    for key in ["date_created_gmt", "date_modified_gmt", "date_paid_gmt"] {
        set(&mut o, key, json!(now));
    }
    set(&mut o, "customer_id", json!(customer_id));
    if let Some(billing) = o.get_mut("billing").and_then(Value::as_object_mut) {
        billing.insert(
            "email".into(),
            json!(format!("load-{customer_id}@example.com")),
        );
    }
    set(&mut o, "discount_total", json!("0.00"));
    set(&mut o, "shipping_total", json!("0.00"));
    set(&mut o, "total_tax", json!("0.00"));
    set(&mut o, "total", json!(price));
    set(&mut o, "coupon_lines", json!([]));
    set(&mut o, "refunds", json!([]));
    set(
        &mut o,
        "line_items",
        json!([{"id": order_id * 10, "name": "Load item", "product_id": 1, "variation_id": 0,
                "quantity": 1, "subtotal": price, "subtotal_tax": "0.00", "total": price,
                "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": "", "price": units}]),
    );
    o.to_string()
}

fn session_token(shop: &str, api_key: &str, secret: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"), "aud": api_key,
        "sub": "1", "exp": now + 60, "nbf": now - 1, "iat": now, "jti": now.to_string(), "sid": "loadgen"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// An order date for "now" in whole seconds, rounded up: dates are sent to the second, and one
/// rounded down could fall before the install of a shop added a moment earlier (history, which
/// earns nothing).
pub fn placed_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::seconds(1)
}
