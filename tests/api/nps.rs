//! NPS end to end (issue 14): the survey mail after a member's second order (at most once per
//! 90 days, by the orders' own dates), the survey links (one answer per token), the widget's
//! question (one answer per 90 days), the report, redaction, and shop isolation.

mod links;
mod report;
mod survey;
mod widget;

use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::models::NpsResponse;
use boomerang::platform::shopify::app_proxy;

use crate::helpers::{TestApp, SECRET};

pub(crate) const SHOP: &str = "nps.myshopify.com";

/// A paid order `days_ago` for `customer` (its id and e-mail).
pub(crate) fn order(id: u64, customer: (u64, &str), days_ago: i64) -> Value {
    crate::mail::order(id, customer, "40.00", days_ago)
}

/// Delivers `orders/paid` for `body` to `shop`.
pub(crate) async fn paid(app: &TestApp, shop: &str, body: &Value) {
    let id = format!("nps-{}-{}", body["id"], uuid::Uuid::new_v4());
    assert_eq!(
        app.deliver(shop, "orders/paid", &id, body).await,
        "accepted"
    );
}

/// The shop's survey mail: (occasion, context) of every `nps_survey` row, oldest first.
pub(crate) async fn survey_mails(app: &TestApp, shop_id: &str) -> Vec<(String, Value)> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::emails;
        emails::table
            .filter(emails::shop_id.eq(shop_id))
            .filter(emails::kind.eq("nps_survey"))
            .order(emails::created_at.asc())
            .select((emails::occasion, emails::context))
            .load::<(String, String)>(c)
            .unwrap()
            .into_iter()
            .map(|(o, ctx)| (o, serde_json::from_str(&ctx).unwrap()))
            .collect()
    })
    .await
}

/// The tokens of the shop's surveys, oldest first.
pub(crate) async fn tokens(app: &TestApp, shop_id: &str) -> Vec<String> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::nps_surveys;
        nps_surveys::table
            .filter(nps_surveys::shop_id.eq(shop_id))
            .order((nps_surveys::sent_on.asc(), nps_surveys::created_at.asc()))
            .select(nps_surveys::token)
            .load(c)
            .unwrap()
    })
    .await
}

/// Every response the database holds, of any shop.
pub(crate) async fn responses(app: &TestApp) -> Vec<NpsResponse> {
    app.with_db(|c| {
        use boomerang::db::schema::nps_responses;
        nps_responses::table
            .order(nps_responses::created_at.asc())
            .select(NpsResponse::as_select())
            .load(c)
            .unwrap()
    })
    .await
}

/// A shop with `customer` who has placed two orders (days 100 and 50 ago): surveyed once.
/// Returns the shop id and the survey's token.
pub(crate) async fn surveyed(
    app: &TestApp,
    shop: &str,
    customer: (u64, &str),
    order_ids: (u64, u64),
) -> (String, String) {
    let shop_id = shop_id_of(app, shop).await;
    paid(app, shop, &order(order_ids.0, customer, 100)).await;
    paid(app, shop, &order(order_ids.1, customer, 50)).await;
    let tokens = tokens(app, &shop_id).await;
    let token = tokens
        .last()
        .expect("a survey after the second order")
        .clone();
    (shop_id, token)
}

/// The shop's id, adding it if needed.
pub(crate) async fn shop_id_of(app: &TestApp, shop: &str) -> String {
    let domain = shop.to_owned();
    let found = app
        .with_db(move |c| {
            boomerang::db::models::Shop::find_by_domain(
                c,
                boomerang::db::types::Platform::Shopify,
                &domain,
            )
            .unwrap()
            .map(|s| s.id)
        })
        .await;
    match found {
        Some(id) => id,
        None => app.add_shop(shop, "USD").await,
    }
}

/// The app-proxy query for `customer` ("" for a guest) of `shop`.
pub(crate) fn proxy(shop: &str, customer: &str) -> String {
    let q = format!(
        "shop={shop}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&timestamp={}",
        chrono::Utc::now().timestamp()
    );
    format!("{q}&signature={}", app_proxy::sign(&q, SECRET))
}

/// `POST /proxy/nps` as `customer` of `shop`.
pub(crate) async fn answer(
    app: &TestApp,
    shop: &str,
    customer: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/proxy/nps?{}", proxy(shop, customer))))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `nps.ask` of `GET /proxy/state` for `customer`.
pub(crate) async fn asks(app: &TestApp, shop: &str, customer: &str) -> bool {
    let resp = app
        .get(&format!("/proxy/state?{}", proxy(shop, customer)))
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["nps"], json!({"ask": body["nps"]["ask"]}), "{body}");
    body["nps"]["ask"].as_bool().unwrap()
}
