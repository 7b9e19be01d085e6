//! A BigCommerce shop's program refuses a free-product reward when it is saved (a BigCommerce
//! coupon discounts every unit of the product, so one free unit cannot be given), through the
//! admin API (422 naming the reward) and the admin UI's program editor (the message in the
//! owner's language); a Shopify shop keeps saving the same reward.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{add_bc_shop, spawn, SECRET, SHOP};
use crate::admin_ui::{client, sign_in};
use crate::helpers::{session_token, TestApp};

fn with_free_mug() -> Value {
    json!({"rewards": [
        {"id": "five-off", "title": "$5 off", "kind": "fixed_amount", "amount_minor": 500,
         "points_cost": 500},
        {"id": "free-mug", "title": "A free mug", "kind": "free_product", "variant_id": "4001",
         "points_cost": 300}
    ]})
}

async fn put_program(app: &TestApp, token: &str, program: &Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(token)
        .json(program)
        .send()
        .await
        .unwrap()
}

async fn stored_program(app: &TestApp, shop_id: &str) -> String {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        boomerang::db::models::Shop::find(c, &shop_id)
            .unwrap()
            .program
    })
    .await
}

#[tokio::test]
async fn the_admin_api_refuses_a_free_product_for_a_bigcommerce_shop_only() {
    let app = spawn().await;
    let (shop_id, token) = add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    let before = stored_program(&app, &shop_id).await;
    let resp = put_program(&app, &token, &with_free_mug()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("\"free-mug\"") && message.contains("BigCommerce"),
        "{body}"
    );
    assert_eq!(
        stored_program(&app, &shop_id).await,
        before,
        "nothing saved"
    );
    // Without the free product the same catalog is saved.
    let mut fixed_only = with_free_mug();
    fixed_only["rewards"].as_array_mut().unwrap().pop();
    assert_eq!(
        put_program(&app, &token, &fixed_only).await.status(),
        StatusCode::OK
    );

    let shopify = "bc-program-other.myshopify.com";
    app.add_shop_with_member(shopify, "7001", "ada@example.com")
        .await;
    let resp = put_program(&app, &session_token(shopify), &with_free_mug()).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "a Shopify code gives one unit"
    );
}

#[tokio::test]
async fn the_editor_says_which_reward_cannot_be_given_in_english_and_arabic() {
    let app = spawn().await;
    let (shop_id, _) = add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    // A program saved before saving refused free products: the next save shows why it stops.
    let (id, program) = (shop_id.clone(), with_free_mug().to_string());
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table.find(id))
            .set(shops::program.eq(program))
            .execute(c)
            .unwrap();
    })
    .await;
    let save = |cookie: String, csrf: String| {
        let url = app.url("/app/program");
        async move {
            client()
                .post(url)
                .header("Cookie", cookie)
                .form(&[("csrf", csrf.as_str()), ("earning.signup_points", "10")])
                .send()
                .await
                .unwrap()
        }
    };
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let resp = save(cookie, csrf).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains(
            "The reward “free-mug” gives a free product, which a BigCommerce shop cannot give"
        ),
        "{page}"
    );

    let id = shop_id.clone();
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table.find(id))
            .set(shops::locale.eq("ar"))
            .execute(c)
            .unwrap();
    })
    .await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let resp = save(cookie, csrf).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains("free-mug"), "{page}");
    assert!(page.contains("تمنح منتجًا مجانيًا"), "{page}");
    assert!(
        stored_program(&app, &shop_id).await.contains("free-mug"),
        "the stored program is as it was"
    );
}
