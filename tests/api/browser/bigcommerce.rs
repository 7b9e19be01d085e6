//! The widget on a BigCommerce (Stencil) storefront in a real browser: the store's page (a
//! fake of the store's origin) carries the documented snippet, the widget fetches
//! `/customer/current.jwt` from that origin and the app shows the logged-in shopper's points.

use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{assert_clean_text, browser, driver, element, wait_for};
use crate::bigcommerce_coupons::{fresh_token, setup, CLIENT_ID, SHOP};

#[tokio::test]
async fn a_bigcommerce_shopper_is_recognised_by_the_stores_current_customer_token() {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let api = MockServer::start().await;
    let (app, _) = setup(&api).await;
    let store = MockServer::start().await;
    // The snippet as a Stencil theme renders it (`store-{{settings.store_hash}}`).
    let page = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Store</title></head>
<body><h1>Store</h1><script src="{app}/widget.js" defer data-base="{app}/widget/v1"
data-shop="{SHOP}" data-platform="bigcommerce" data-client-id="{CLIENT_ID}"></script></body></html>"#,
        app = app.address
    );
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=utf-8"))
        .mount(&store)
        .await;
    Mock::given(method("GET"))
        .and(path("/customer/current.jwt"))
        .and(query_param("app_client_id", CLIENT_ID))
        .respond_with(ResponseTemplate::new(200).set_body_string(fresh_token()))
        .expect(1..)
        .mount(&store)
        .await;
    let client = browser(&driver, &chromium).await;
    let result = async {
        client.goto(&store.uri()).await.unwrap();
        element(&client, "the launcher", "button.l")
            .await
            .click()
            .await
            .unwrap();
        let balance = wait_for(
            &client,
            "the shopper's balance",
            "const b = root.querySelector('.big'); return b && b.textContent;",
        )
        .await;
        assert_eq!(balance, json!("1,000"));
        assert_clean_text(&client).await;
    }
    .await;
    client.close().await.unwrap();
    result
}
