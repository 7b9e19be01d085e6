//! Redemption hardening (issue 18): one free unit for a free product, codes whose create
//! answer was lost or came too late, platforms without an adapter. Cancellation is in
//! `cancelling.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::db::models::Shop;
use boomerang::db::types::{Platform, RedemptionStatus};
use boomerang::platform::shopify::api::{RetryPolicy, ShopifyApi};
use boomerang::platform::{ApiError, DiscountRequest, PlatformApi, ShopCredentials};
use boomerang::services::redeem::{self, RedeemError, RECOVER_AFTER};

use crate::helpers::{session_token, TestApp};
use crate::rewards::{
    balance, created, redeem_as, redemption, run_jobs_due_by, setup, APP_SECRET, SHOP,
};

fn keys() -> boomerang::crypto::Keys {
    boomerang::crypto::Keys::derive(&APP_SECRET.to_owned().into())
}

async fn shop(app: &TestApp) -> Shop {
    app.with_db(|c| {
        Shop::find_by_domain(c, Platform::Shopify, SHOP)
            .unwrap()
            .unwrap()
    })
    .await
}

/// A client that gives up on an answer after 300 ms, so a lost answer is quick to fake.
fn impatient_api() -> ShopifyApi {
    ShopifyApi::new(
        "2025-10",
        RetryPolicy {
            attempts: 2,
            base_delay: StdDuration::from_millis(5),
            max_delay: StdDuration::from_millis(20),
            timeout: StdDuration::from_millis(300),
        },
    )
    .unwrap()
}

fn found(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"data": {"codeDiscountNodeByCode": {"id": id}}}))
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_free_product_code_takes_one_unit_off_whatever_the_quantity() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("productVariant(id:"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"productVariant": {"price": "24.00"}}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let app = setup(&server, 1000).await;
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(
            &json!({"rewards": [{"id": "free-mug", "title": "A free mug", "kind": "free_product",
            "variant_id": "4001", "points_cost": 300}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let resp = redeem_as(&app, "7001", json!({"reward_id": "free-mug"})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(balance(&app).await, 700);
    let sent = bodies(&server).await;
    assert_eq!(
        sent[0]["variables"],
        json!({"id": "gid://shopify/ProductVariant/4001"})
    );
    let input = &sent[1]["variables"]["input"];
    // The variant's price, split across however many units the cart holds: one unit free.
    assert_eq!(
        input["customerGets"],
        json!({"value": {"discountAmount": {"amount": "24.00", "appliesOnEachItem": false}},
               "items": {"products": {"productVariantsToAdd": ["gid://shopify/ProductVariant/4001"]}}})
    );
    assert_eq!(input["usageLimit"], 1);
    assert_eq!(
        input["context"],
        json!({"customers": {"add": ["gid://shopify/Customer/7001"]}})
    );
}

#[tokio::test]
async fn a_create_that_timed_out_after_shopify_made_the_code_hands_out_that_code() {
    let server = MockServer::start().await;
    // The first attempt is carried out but its answer is lost; the retry finds the code taken.
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created().set_delay(StdDuration::from_secs(1)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "code"],
            "message": "Code must be unique. Please try a different code.", "code": "TAKEN"}]}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("codeDiscountNodeByCode"))
        .respond_with(found("gid://shopify/DiscountCodeNode/41"))
        .expect(1)
        .mount(&server)
        .await;
    let app = setup(&server, 500).await;
    let redeem::Redeemed::Code(issued) = redeem::redeem(
        &app.db,
        &impatient_api(),
        &keys(),
        &shop(&app).await,
        "7001",
        "5-off",
        None,
    )
    .await
    .unwrap() else {
        panic!("a discount reward gives a code");
    };
    assert_eq!(issued.points, 500);
    assert_eq!(balance(&app).await, 0, "the points paid for the live code");
    let (_, status) = redemption(&app).await;
    assert_eq!(status, "issued");
    let sent = bodies(&server).await;
    assert_eq!(sent.last().unwrap()["variables"]["code"], issued.code);
}

#[tokio::test]
async fn a_code_that_cannot_be_confirmed_waits_for_the_recovery_job_instead_of_returning_the_points(
) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created().set_delay(StdDuration::from_secs(1)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("codeDiscountNodeByCode"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let app = setup(&server, 500).await;
    let outcome = redeem::redeem(
        &app.db,
        &impatient_api(),
        &keys(),
        &shop(&app).await,
        "7001",
        "5-off",
        None,
    )
    .await;
    assert!(
        matches!(outcome, Err(RedeemError::Unconfirmed)),
        "{outcome:?}"
    );
    assert_eq!(balance(&app).await, 0, "held: the code may be live");
    assert_eq!(redemption(&app).await.1, "pending");
    // Shopify answers again: the code was created after all.
    server.reset().await;
    Mock::given(method("POST"))
        .and(body_string_contains("codeDiscountNodeByCode"))
        .respond_with(found("gid://shopify/DiscountCodeNode/42"))
        .expect(1)
        .mount(&server)
        .await;
    run_jobs_due_by(&app, RECOVER_AFTER).await;
    assert_eq!(redemption(&app).await.1, "issued");
    assert_eq!(balance(&app).await, 0);
}

/// A store whose create answers only after the recovery job has settled the redemption as
/// never created; it records the codes it is asked to delete.
struct AnswersTooLate {
    db: boomerang::db::Db,
    shop_id: String,
    deleted: Arc<Mutex<Vec<String>>>,
}

impl PlatformApi for AnswersTooLate {
    async fn create_discount(
        &self,
        _: &ShopCredentials,
        req: &DiscountRequest,
    ) -> Result<String, ApiError> {
        let (shop_id, code) = (self.shop_id.clone(), req.code.clone());
        self.db
            .run(move |c| {
                use boomerang::db::schema::redemptions;
                use diesel::prelude::*;
                let id: String = redemptions::table
                    .filter(redemptions::code.eq(&code))
                    .select(redemptions::id)
                    .first(c)
                    .unwrap();
                boomerang::db::write_transaction(c, |c| {
                    redeem::refund(
                        c,
                        &shop_id,
                        &id,
                        RedemptionStatus::Failed,
                        "the code was never created",
                    )
                })
                .map_err(boomerang::db::DbError::from)
            })
            .await
            .unwrap();
        Ok("gid://shopify/DiscountCodeNode/77".into())
    }
    async fn find_discount(
        &self,
        _: &ShopCredentials,
        _: &str,
    ) -> Result<Option<String>, ApiError> {
        unreachable!()
    }
    async fn discount_used(&self, _: &ShopCredentials, _: &str) -> Result<bool, ApiError> {
        unreachable!()
    }
    async fn deactivate_discount(&self, _: &ShopCredentials, _: &str) -> Result<(), ApiError> {
        unreachable!()
    }
    async fn delete_discount(&self, _: &ShopCredentials, id: &str) -> Result<(), ApiError> {
        self.deleted.lock().unwrap().push(id.to_owned());
        Ok(())
    }
}

#[tokio::test]
async fn a_code_created_after_its_redemption_was_settled_is_removed_again() {
    let server = MockServer::start().await;
    let app = setup(&server, 500).await;
    let shop = shop(&app).await;
    let deleted = Arc::new(Mutex::new(Vec::new()));
    let api = AnswersTooLate {
        db: app.db.clone(),
        shop_id: shop.id.clone(),
        deleted: deleted.clone(),
    };
    let outcome = redeem::redeem(&app.db, &api, &keys(), &shop, "7001", "5-off", None).await;
    assert!(
        matches!(outcome, Err(RedeemError::SettledMeanwhile)),
        "{outcome:?}"
    );
    assert_eq!(
        *deleted.lock().unwrap(),
        ["gid://shopify/DiscountCodeNode/77"]
    );
    assert_eq!(balance(&app).await, 500, "returned once, by the settlement");
    assert_eq!(redemption(&app).await.1, "failed");
}

#[tokio::test]
async fn a_woocommerce_shop_without_rest_api_keys_cannot_redeem() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;
    let app = setup(&server, 0).await;
    let api_base = server.uri();
    let shop_id = app
        .with_db(move |c| {
            let spec = boomerang::services::shops::ShopSpec {
                platform: Some(Platform::WooCommerce),
                domain: "woo.example".into(),
                access_token: Some("ck_test".into()),
                webhook_secret: Some("woo-secret".into()),
                api_base: Some(api_base),
                currency: Some("USD".into()),
                ..Default::default()
            };
            let shop = boomerang::services::shops::add_shop(c, &keys(), &spec)
                .unwrap()
                .shop;
            crate::helpers::insert_member(c, &shop.id, Some("31"), Some("woo@example.com"));
            shop.id
        })
        .await;
    let digest = hex::encode(boomerang::crypto::hmac_sha256(
        keys().widget_secret(&shop_id).as_bytes(),
        b"31",
    ));
    let resp = app
        .client
        .post(app.url(&format!(
            "/widget/v1/redeem?shop=woo.example&customer=31&digest={digest}"
        )))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("this woocommerce shop: the app was given no REST API keys"),
        "{body}"
    );
    let rows = app
        .with_db(|c| {
            use boomerang::db::schema::{ledger_entries, redemptions};
            use diesel::prelude::*;
            let r: i64 = redemptions::table.count().get_result(c).unwrap();
            let l: i64 = ledger_entries::table
                .filter(ledger_entries::kind.like("redeem%"))
                .count()
                .get_result(c)
                .unwrap();
            (r, l)
        })
        .await;
    assert_eq!(rows, (0, 0), "no points taken, nothing recorded");
}
