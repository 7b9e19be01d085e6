//! The demo shop a newcomer clicks through: created by `boomerang demo`, and on the first start
//! of an empty SQLite database. It uses the public demo app secret, so the README's one-line
//! signed webhook works against it.

use diesel::prelude::*;
use serde::Serialize;

use crate::crypto::Keys;
use crate::db::models::{Member, NewMember, Shop};
use crate::db::schema::shops;
use crate::db::types::Platform;
use crate::db::{new_id, now, write_transaction, DbConnection};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, Posting, WhenShort};
use crate::services::shops::{add_shop, AddShopError, ShopSpec};
use crate::services::tiers;

mod program;

pub use program::{demo_program, upgrade_order, UpgradeOrder, MAX_DEMO_ORDER_DOLLARS};

pub const DEMO_SHOP_DOMAIN: &str = "boomerang-demo.myshopify.com";

/// A demo customer as Shopify would know them.
#[derive(Debug, Clone, Copy)]
pub struct DemoCustomer {
    pub customer_id: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: &'static str,
    pub starting_points: i64,
    /// The customer's language as the platform reports it; `None` is the shop's.
    pub locale: Option<&'static str>,
}

/// The demo customers. Ada can afford every reward and is Gold, Grace some and is Silver, Alan
/// none yet and is Bronze (the tiers of [`demo_program`], reached by these points). Layla shops
/// in Arabic, so her mail and widget show the right-to-left side of everything.
pub const DEMO_CUSTOMERS: &[DemoCustomer] = &[
    DemoCustomer {
        customer_id: "7001",
        first_name: "Ada",
        last_name: "Lovelace",
        email: "ada@example.com",
        starting_points: 2400,
        locale: None,
    },
    DemoCustomer {
        customer_id: "7002",
        first_name: "Grace",
        last_name: "Hopper",
        email: "grace@example.com",
        starting_points: 650,
        locale: None,
    },
    DemoCustomer {
        customer_id: "7003",
        first_name: "Alan",
        last_name: "Turing",
        email: "alan@example.com",
        starting_points: 0,
        locale: None,
    },
    DemoCustomer {
        customer_id: "7004",
        first_name: "ليلى",
        last_name: "حداد",
        email: "layla@example.com",
        starting_points: 700,
        locale: Some("ar"),
    },
];

/// A small but real-shaped `orders/paid` payload for the demo customer Ada (120.00 USD subtotal).
pub const DEMO_ORDER_JSON: &str = r##"{"id":5001,"admin_graphql_api_id":"gid://shopify/Order/5001","name":"#1001","email":"ada@example.com","created_at":"2026-11-23T10:00:00Z","updated_at":"2026-11-23T10:00:05Z","currency":"USD","financial_status":"paid","cancelled_at":null,"test":false,"subtotal_price":"120.00","total_discounts":"0.00","total_tax":"9.60","total_price":"134.60","total_shipping_price_set":{"shop_money":{"amount":"5.00","currency_code":"USD"}},"customer":{"id":7001,"email":"ada@example.com"},"line_items":[{"id":9001,"product_id":3001,"variant_id":4001,"quantity":2,"current_quantity":2,"price":"60.00","total_discount":"0.00","gift_card":false}],"discount_codes":[],"note_attributes":[]}"##;

/// Creates the demo shop and its customers unless it exists; returns it.
pub fn seed(conn: &mut DbConnection, keys: &Keys) -> Result<Shop, AddShopError> {
    write_transaction(conn, |conn| {
        if let Some(shop) = Shop::find_by_domain(conn, Platform::Shopify, DEMO_SHOP_DOMAIN)? {
            return Ok(shop);
        }
        let added = add_shop(
            conn,
            keys,
            &ShopSpec {
                platform: Some(Platform::Shopify),
                domain: DEMO_SHOP_DOMAIN.into(),
                currency: Some("USD".into()),
                is_demo: true,
                ..ShopSpec::default()
            },
        )?;
        // The README's sample order is dated before the demo shop exists; a demo must earn.
        // The program is in place before the customers, so their starting points (owner
        // adjustments, which count for points-earned tiers) qualify them as they are posted.
        let program_json = serde_json::to_string(&demo_program())
            .map_err(|e| AddShopError::Invalid(e.to_string()))?;
        diesel::update(shops::table.find(&added.shop.id))
            .set((
                shops::award_history.eq(true),
                shops::program.eq(program_json),
            ))
            .execute(conn)?;
        let shop = Shop::find(conn, &added.shop.id)?;
        let program = crate::services::program::Program::of(&shop);
        for customer in DEMO_CUSTOMERS {
            let customer_id = customer.customer_id;
            if Member::find_by_customer_id(conn, &added.shop.id, customer_id)?.is_some() {
                continue;
            }
            let at = now();
            let member = NewMember {
                id: new_id(),
                shop_id: added.shop.id.clone(),
                platform_customer_id: Some(customer_id.into()),
                email: Some(customer.email.into()),
                first_name: Some(customer.first_name.into()),
                last_name: Some(customer.last_name.into()),
                birthday: None,
                accepts_marketing: true,
                referral_code: None,
                created_at: at,
                updated_at: at,
                email_verified: false,
                locale: customer.locale.map(Into::into),
            }
            // With its locale before anything is mailed: each message is rendered in the
            // customer's language.
            .insert(conn)?;
            let member = Member::find(conn, &added.shop.id, &member.id)?;
            if customer.starting_points == 0 {
                // Nothing to post: like any new member, Alan holds the first tier (threshold 0).
                tiers::welcome(conn, &shop, &program, &member, at)?;
            } else {
                ledger::post(
                    conn,
                    &Posting {
                        shop_id: added.shop.id.clone(),
                        member_id: member.id.clone(),
                        delta: customer.starting_points,
                        kind: LedgerKind::Adjustment,
                        status: LedgerStatus::Confirmed,
                        reason: Some("Welcome to the demo".into()),
                        source: "demo".into(),
                        source_id: customer_id.into(),
                        action: "seed".into(),
                        detail: None,
                        confirms_at: None,
                        when_short: WhenShort::Refuse,
                    },
                    at,
                )
                .map_err(|e| AddShopError::Invalid(e.to_string()))?;
            }
            // The welcome a new account gets, so the outbox has mail in both languages before
            // the newcomer clicks anything.
            crate::services::mail::queue(
                conn,
                &shop,
                &program,
                &member,
                crate::domain::mail::Kind::Welcome,
                "welcome",
                serde_json::json!({}),
                at,
            )?;
        }
        Ok(Shop::find(conn, &added.shop.id)?)
    })
}

/// The copy-paste shell command that sends [`DEMO_ORDER_JSON`] as a signed `orders/paid` webhook.
pub fn signed_webhook_command(public_url: &str) -> String {
    format!(
        "body='{DEMO_ORDER_JSON}'\n\
         curl -sS {public_url}/webhooks/shopify \\\n  \
         -H 'Content-Type: application/json' \\\n  \
         -H 'X-Shopify-Topic: orders/paid' \\\n  \
         -H 'X-Shopify-Shop-Domain: {DEMO_SHOP_DOMAIN}' \\\n  \
         -H 'X-Shopify-Webhook-Id: readme-demo-1' \\\n  \
         -H \"X-Shopify-Hmac-Sha256: $(printf '%s' \"$body\" | openssl dgst -sha256 -hmac {secret} -binary | base64)\" \\\n  \
         --data \"$body\"",
        secret = crate::config::DEMO_SHOPIFY_API_SECRET,
    )
}

/// A demo order as Shopify would send it: an `orders/paid` webhook, signed with the app secret.
#[derive(Debug, Clone, Serialize)]
pub struct SignedWebhook {
    pub topic: &'static str,
    pub shop_domain: &'static str,
    pub webhook_id: String,
    /// `X-Shopify-Hmac-Sha256`.
    pub hmac: String,
    /// The exact bytes to send.
    pub body: String,
}

/// An `orders/paid` webhook for a demo customer's order of `subtotal_minor` (USD cents),
/// numbered `order_id`, signed with `secret`.
pub fn demo_order(
    customer_id: &str,
    email: &str,
    order_id: i64,
    subtotal_minor: i64,
    secret: &str,
) -> SignedWebhook {
    use crate::domain::money::Money;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let subtotal = Money::new(subtotal_minor).to_decimal_string(2);
    let tax = Money::new(subtotal_minor * 8 / 100).to_decimal_string(2);
    let total = Money::new(subtotal_minor + subtotal_minor * 8 / 100 + 500).to_decimal_string(2);
    let customer: i64 = customer_id.parse().unwrap_or_default();
    let body = serde_json::json!({
        "id": order_id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{order_id}"),
        "name": format!("#D{}", order_id % 100_000),
        "email": email,
        "created_at": at,
        "updated_at": at,
        "currency": "USD",
        "financial_status": "paid",
        "cancelled_at": null,
        "test": false,
        "subtotal_price": subtotal,
        "total_discounts": "0.00",
        "total_tax": tax,
        "total_price": total,
        "total_shipping_price_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}},
        "customer": {"id": customer, "email": email},
        "line_items": [{
            "id": order_id * 10 + 1, "product_id": 3001, "variant_id": 4001, "quantity": 1,
            "current_quantity": 1, "price": subtotal, "total_discount": "0.00", "gift_card": false
        }],
        "discount_codes": [],
        "note_attributes": []
    })
    .to_string();
    SignedWebhook {
        topic: "orders/paid",
        shop_domain: DEMO_SHOP_DOMAIN,
        webhook_id: format!("demo-order-{order_id}"),
        hmac: crate::platform::shopify::webhook::sign(body.as_bytes(), secret),
        body,
    }
}
