//! The owner's customer tools, black-box on both backends: search by e-mail, name or platform id
//! (case-insensitive, wildcards taken literally), paging, tenancy, and bad input refused.

use serde_json::{json, Value};

use crate::helpers::{error_code, fixture, session_token, TestApp};

const SHOP: &str = "customer-search.myshopify.com";
const OTHER: &str = "customer-search-other.myshopify.com";

/// A `customers/create` webhook for a customer with this id, e-mail and name.
fn customer(id: u64, email: &str, first: &str, last: &str) -> Value {
    let mut body: Value = serde_json::from_str(&fixture("shopify/customers_create.json")).unwrap();
    body["id"] = json!(id);
    body["email"] = json!(email);
    body["first_name"] = json!(first);
    body["last_name"] = json!(last);
    body
}

async fn enrol(app: &TestApp, shop: &str, id: u64, email: &str, first: &str, last: &str) {
    let status = app
        .deliver(
            shop,
            "customers/create",
            &format!("create-{shop}-{id}"),
            &customer(id, email, first, last),
        )
        .await;
    assert_eq!(status, "accepted", "customer {id}");
}

/// The customer ids a search answers with, and the answer's cursor.
async fn search(app: &TestApp, shop: &str, query: &str) -> (Vec<String>, Value) {
    let resp = app
        .admin_get(
            &session_token(shop),
            &format!("/api/admin/v1/customers?{query}"),
        )
        .await;
    assert_eq!(resp.status(), 200, "{query}");
    let body: Value = resp.json().await.unwrap();
    let ids = body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_owned())
        .collect();
    (ids, body["next_cursor"].clone())
}

async fn shop_with_customers() -> TestApp {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "EUR").await;
    app.add_shop(OTHER, "EUR").await;
    enrol(&app, SHOP, 101, "ann.lee@example.com", "Ann", "Lee").await;
    enrol(&app, SHOP, 102, "bo@shop.test", "Bo", "Annersen").await;
    enrol(&app, SHOP, 103, "layla@example.com", "ليلى", "حداد").await;
    enrol(&app, SHOP, 104, "percent%@example.com", "Zed", "Zero").await;
    enrol(&app, OTHER, 201, "ann.other@example.com", "Ann", "Other").await;
    app
}

#[tokio::test]
async fn search_matches_email_name_and_platform_id_within_the_shop_only() {
    let app = shop_with_customers().await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // "ann" is in Ann Lee's name and e-mail and in Bo Annersen's last name; never the other
    // shop's Ann.
    let (ids, _) = search(&app, SHOP, "q=ANN").await;
    assert_eq!(sorted(ids), ["101", "102"]);
    let (ids, _) = search(&app, SHOP, "q=ann%20lee").await;
    assert_eq!(ids, ["101"], "first and last name together");
    let (ids, _) = search(&app, SHOP, "q=shop.test").await;
    assert_eq!(ids, ["102"]);
    let (ids, _) = search(&app, SHOP, "q=103").await;
    assert_eq!(ids, ["103"], "the platform id, exactly");
    let (ids, _) = search(&app, SHOP, "q=%D9%84%D9%8A%D9%84%D9%89").await;
    assert_eq!(ids, ["103"], "a name in Arabic");
    // `%` and `_` are characters to find, not wildcards.
    let (ids, _) = search(&app, SHOP, "q=%25").await;
    assert_eq!(ids, ["104"]);
    let (ids, _) = search(&app, SHOP, "q=_").await;
    assert!(ids.is_empty(), "{ids:?}");
    let (ids, _) = search(&app, SHOP, "q=nobody").await;
    assert!(ids.is_empty());
    let (ids, _) = search(&app, OTHER, "q=ann").await;
    assert_eq!(ids, ["201"]);
}

#[tokio::test]
async fn everyone_pages_with_a_cursor_and_bad_searches_are_refused() {
    let app = shop_with_customers().await;
    let (first, cursor) = search(&app, SHOP, "limit=3").await;
    assert_eq!(first.len(), 3);
    let cursor = cursor
        .as_str()
        .expect("a cursor after a full page")
        .to_owned();
    let (rest, end) = search(&app, SHOP, &format!("limit=3&cursor={cursor}")).await;
    assert_eq!(rest.len(), 1);
    assert!(end.is_null());
    let mut all: Vec<String> = first.into_iter().chain(rest).collect();
    all.sort();
    assert_eq!(all, ["101", "102", "103", "104"]);

    let token = session_token(SHOP);
    let long = "x".repeat(201);
    for query in [
        format!("q={long}"),
        "segment=gone".into(),
        "limit=0".into(),
        "sort=name".into(),
    ] {
        let resp = app
            .admin_get(&token, &format!("/api/admin/v1/customers?{query}"))
            .await;
        assert_eq!(resp.status(), 400, "{query}");
        assert!(!error_code(resp).await.is_empty());
    }
}
