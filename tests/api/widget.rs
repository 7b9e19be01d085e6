//! The storefront widget from the server's side: the script (size, caching), the state in the
//! shopper's language with the owner's settings, cross-origin storefronts, and the demo
//! storefront (its widget, its signed demo orders, its redeemable rewards).

use serde_json::json;

use boomerang::platform::shopify::app_proxy;

use crate::helpers::{error_code, session_token, TestApp, SECRET};
use crate::ops::seed_demo;

const SHOP: &str = "widget.myshopify.com";
const DEMO: &str = boomerang::services::demo::DEMO_SHOP_DOMAIN;

fn proxy_query(customer: &str, extra: &str) -> String {
    let q = format!(
        "{extra}logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&shop={SHOP}&timestamp={}",
        chrono::Utc::now().timestamp()
    );
    format!("{q}&signature={}", app_proxy::sign(&q, SECRET))
}

async fn proxy_state(app: &TestApp, customer: &str, locale: Option<&str>) -> serde_json::Value {
    let extra = locale.map(|l| format!("locale={l}&")).unwrap_or_default();
    let resp = app
        .get(&format!("/proxy/state?{}", proxy_query(customer, &extra)))
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

impl TestApp {
    /// The `data-*` attributes of the widget's script tag on `/demo{query}`.
    async fn demo_widget_tag(&self, query: &str) -> (String, String) {
        let resp = self.get(&format!("/demo{query}")).await;
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        let start = html.find("<script src=\"").expect("widget tag");
        let tag = html[start..].split('>').next().unwrap().to_owned();
        (html, tag)
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(tag[start..].split('"').next()?.to_owned())
}

#[tokio::test]
async fn the_script_is_small_revalidated_by_etag_and_immutable_when_pinned() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/widget.js"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=300"));
    assert_eq!(headers["access-control-allow-origin"], "*");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", *boomerang::http::widget::HASH));
    // What a storefront downloads, compressed as served: the budget is 15 KB gzipped.
    let shipped = resp.bytes().await.unwrap().len();
    assert!(shipped < 15 * 1024, "widget.js is {shipped} bytes gzipped");
    println!(
        "widget.js: {shipped} bytes gzipped, {} raw",
        boomerang::http::widget::SCRIPT.len()
    );

    let again = app
        .client
        .get(app.url("/widget.js"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    let stale = app
        .client
        .get(app.url("/widget.js"))
        .header("If-None-Match", "\"0000000000000000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    let pinned = app.get(&boomerang::http::widget::versioned_path()).await;
    assert_eq!(pinned.status(), 200);
    assert_eq!(
        pinned.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let body = pinned.text().await.unwrap();
    assert_eq!(body, boomerang::http::widget::SCRIPT);
}

#[test]
fn the_theme_extension_ships_the_same_script_the_app_serves() {
    let asset = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/app-extension/extensions/boomerang-rewards/assets/boomerang-widget.js"
    ))
    .unwrap();
    assert!(
        asset == boomerang::http::widget::SCRIPT,
        "app-extension/extensions/boomerang-rewards/assets/boomerang-widget.js differs from \
         src/http/widget/widget.js: copy it over"
    );
}

#[tokio::test]
async fn the_state_speaks_the_storefront_language_with_the_owners_settings() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;

    let en = proxy_state(&app, "", None).await;
    assert_eq!(
        (en["locale"].as_str(), en["dir"].as_str()),
        (Some("en"), Some("ltr"))
    );
    assert_eq!(en["texts"]["redeem"], "Redeem");
    assert_eq!(en["rewards"][0]["title"], "5 off your order");
    assert_eq!(en["rewards"][0]["description"], "5.00 USD off your order");
    assert_eq!(
        en["ways_to_earn"][0]["title"],
        "1 points for every USD spent"
    );
    assert_eq!(en["widget"]["accent_text_color"], "#ffffff");

    let ar = proxy_state(&app, "", Some("ar-SA")).await;
    assert_eq!(
        (ar["locale"].as_str(), ar["dir"].as_str()),
        (Some("ar"), Some("rtl"))
    );
    assert_eq!(ar["texts"]["redeem"], "استبدال");
    assert_eq!(ar["rewards"][0]["title"], "خصم 5 على طلبك");
    assert_eq!(ar["rewards"][0]["description"], "خصم 5.00 USD على طلبك");
    assert_eq!(ar["ways_to_earn"][0]["title"], "1 نقطة مقابل كل USD تنفقه");
    // A language the widget does not speak falls back to the shop's default.
    assert_eq!(proxy_state(&app, "", Some("fr")).await["locale"], "en");

    // The owner: Arabic by default, a light accent, their own wording.
    let token = session_token(SHOP);
    let mut program: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    program["widget"] = json!({
        "default_locale": "ar",
        "accent_color": "#ffd400",
        "position": "left",
        "texts": {"en": {"guest_heading": "Join the Glow Club"}}
    });
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&token)
        .json(&program)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let fr = proxy_state(&app, "", Some("fr")).await;
    assert_eq!(fr["locale"], "ar");
    assert_eq!(fr["widget"]["position"], "left");
    assert_eq!(
        fr["widget"]["accent_text_color"], "#000000",
        "dark text on yellow"
    );
    let en = proxy_state(&app, "", Some("en")).await;
    assert_eq!(en["texts"]["guest_heading"], "Join the Glow Club");
    assert_eq!(en["texts"]["join"], "Create an account");
}

#[tokio::test]
async fn bad_widget_settings_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let token = session_token(SHOP);
    let before: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    for (widget, needle) in [
        (json!({"accent_color": "purple"}), "accent_color"),
        (json!({"join_url": "javascript:alert(1)"}), "join_url"),
        (json!({"texts": {"ar": {"nope": "x"}}}), "no such text"),
        (
            json!({"texts": {"en": {"points": "{n} {count}"}}}),
            "{count}",
        ),
        (json!({"default_locale": "fr"}), "unknown variant"),
        (json!({"colour": "#000000"}), "unknown field"),
    ] {
        let mut program = before.clone();
        program["widget"] = widget.clone();
        let resp = app
            .client
            .put(app.url("/api/admin/v1/program"))
            .bearer_auth(&token)
            .json(&program)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{widget} was accepted");
        let body: serde_json::Value = resp.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{widget}: {message}");
    }
    let after: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn other_platforms_storefronts_may_call_the_widget_api_cross_origin() {
    let app = TestApp::spawn().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/widget/v1/redeem"))
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(preflight.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    // The admin API is not opened to other origins.
    let admin = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/admin/v1/program"))
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .await
        .unwrap();
    assert!(admin.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_demo_storefront_embeds_the_widget_for_the_chosen_shopper_and_language() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;

    let (html, tag) = app.demo_widget_tag("").await;
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"));
    assert_eq!(
        attribute(&tag, "data-customer").as_deref(),
        Some("7001"),
        "Ada by default"
    );
    assert_eq!(attribute(&tag, "data-base").as_deref(), Some("/widget/v1"));
    let digest = attribute(&tag, "data-digest").unwrap();
    // The page proves the shopper exactly as a platform plugin would.
    let state: serde_json::Value = app
        .get(&format!(
            "/widget/v1/state?shop={DEMO}&customer=7001&digest={digest}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["member"]["points_balance"], 2400);
    assert_eq!(state["rewards"][0]["affordable"], true);
    let forged = app
        .get(&format!(
            "/widget/v1/state?shop={DEMO}&customer=7002&digest={digest}"
        ))
        .await;
    assert_eq!(forged.status(), 401);

    let (html, tag) = app.demo_widget_tag("?as=7003&lang=ar").await;
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert_eq!(attribute(&tag, "data-customer").as_deref(), Some("7003"));
    assert_eq!(attribute(&tag, "data-locale").as_deref(), Some("ar"));

    let (html, tag) = app.demo_widget_tag("?as=guest").await;
    assert!(attribute(&tag, "data-customer").is_none());
    assert!(
        !html.contains("id=\"demo-order\""),
        "guests cannot order in the demo"
    );
}

async fn demo_order(app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    app.client
        .post(app.url("/demo/orders"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_demo_order_goes_through_the_real_signed_webhook_path() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let resp = demo_order(&app, json!({"customer_id": "7002", "amount": 120})).await;
    assert_eq!(resp.status(), 200);
    let signed: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(signed["topic"], "orders/paid");
    assert_eq!(signed["shop_domain"], DEMO);
    let body = signed["body"].as_str().unwrap();
    let send = |hmac: String, body: String| {
        let app = &app;
        let signed = &signed;
        async move {
            app.client
                .post(app.url("/webhooks/shopify"))
                .header("Content-Type", "application/json")
                .header("X-Shopify-Topic", signed["topic"].as_str().unwrap())
                .header("X-Shopify-Shop-Domain", DEMO)
                .header(
                    "X-Shopify-Webhook-Id",
                    signed["webhook_id"].as_str().unwrap(),
                )
                .header("X-Shopify-Hmac-Sha256", hmac)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let hmac = signed["hmac"].as_str().unwrap().to_owned();
    // The signature covers the exact bytes: a changed amount is refused.
    let tampered = send(hmac.clone(), body.replace("120.00", "999.00")).await;
    assert_eq!(tampered.status(), 401);
    let ok = send(hmac.clone(), body.to_owned()).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<serde_json::Value>().await.unwrap()["status"],
        "accepted"
    );
    let again = send(hmac, body.to_owned()).await;
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );
    let grace = app.customer(DEMO, "7002").await;
    assert_eq!(grace["points_balance"], 650);
    assert_eq!(
        grace["pending_points"], 150,
        "{grace}: 120 dollars at Silver's 1.25"
    );
}

#[tokio::test]
async fn demo_orders_refuse_bad_input_and_real_secrets() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    for (body, status, code) in [
        (
            json!({"customer_id": "9999", "amount": 10}),
            404,
            "not_found",
        ),
        (
            json!({"customer_id": "7001", "amount": 0}),
            422,
            "validation_failed",
        ),
        (
            json!({"customer_id": "7001", "amount": 10001}),
            422,
            "validation_failed",
        ),
        (json!({"customer_id": "7001"}), 400, "invalid_json"),
    ] {
        let resp = demo_order(&app, body.clone()).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(error_code(resp).await, code, "{body}");
    }

    // With its own app secret, an instance never signs bodies for anyone.
    let real = TestApp::spawn_with(&[
        ("SHOPIFY_API_KEY", "real-key"),
        ("SHOPIFY_API_SECRET", "a-real-and-private-secret"),
    ])
    .await;
    seed_demo(&real).await;
    let resp = demo_order(&real, json!({"customer_id": "7001", "amount": 10})).await;
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn the_demo_shop_redeems_rewards_without_a_real_store() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let (_, tag) = app.demo_widget_tag("?as=7002").await;
    let digest = attribute(&tag, "data-digest").unwrap();
    let redeem = |reward: &'static str| {
        let url = app.url(&format!(
            "/widget/v1/redeem?shop={DEMO}&customer=7002&digest={digest}"
        ));
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .json(&json!({"reward_id": reward}))
                .send()
                .await
                .unwrap()
        }
    };
    let resp = redeem("5-off").await;
    assert_eq!(resp.status(), 200);
    let issued: serde_json::Value = resp.json().await.unwrap();
    assert!(issued["code"].as_str().unwrap().contains('-'));
    assert_eq!(app.customer(DEMO, "7002").await["points_balance"], 150);
    let broke = redeem("5-off").await;
    assert_eq!(broke.status(), 422);
    assert_eq!(error_code(broke).await, "insufficient_points");
}
