//! Erasing a BigCommerce customer: BigCommerce sends no privacy webhooks, so the owner erases a
//! customer who asked through the admin API, and the stored BigCommerce bodies about them (the
//! thin webhooks naming their orders, the order documents naming them) are erased with the
//! rest; another customer's bodies stay.

use serde_json::Value;

use super::{add_bc_shop, deliver, document, run_jobs, serve, spawn, thin, SECRET, SHOP};
use crate::helpers::{job_context, TEST_APP_SECRET};

const CREATED: &str = "Sat, 21 Nov 2026 10:00:00 +0000";

/// Every stored BigCommerce body of the shop with its order key: (order id, erased?).
async fn bodies(app: &crate::helpers::TestApp) -> Vec<(Option<String>, bool)> {
    app.with_db(|c| {
        use boomerang::db::schema::inbox_events;
        use diesel::prelude::*;
        inbox_events::table
            .filter(inbox_events::platform.eq("bigcommerce"))
            .order(inbox_events::received_at)
            .select((inbox_events::order_id, inbox_events::payload))
            .load::<(Option<String>, boomerang::db::stored_body::StoredBody)>(c)
            .unwrap()
            .into_iter()
            .map(|(order, payload)| (order, payload.0 == r#"{"redacted":true}"#))
            .collect()
    })
    .await
}

#[tokio::test]
async fn erasing_a_customer_erases_their_stored_bigcommerce_bodies() {
    let server = wiremock::MockServer::start().await;
    let app = spawn().await;
    let (_, token) = add_bc_shop(&app, SHOP, SECRET, &server.uri()).await;
    let ctx = job_context(TEST_APP_SECRET);
    serve(&server, &document(270, 31, 10, CREATED, &[]), None).await;
    // Another customer, with another e-mail (the erasure also finds members by e-mail).
    let mut other = document(271, 32, 10, CREATED, &[]);
    other["order"]["billing_address"]["email"] = "other@example.com".into();
    serve(&server, &other, None).await;
    deliver(&app, &thin("store/order/created", 270, "h-270")).await;
    deliver(&app, &thin("store/order/created", 271, "h-271")).await;
    run_jobs(&app, &ctx).await;
    // Two thin webhooks and two documents, each keyed by its order.
    let before = bodies(&app).await;
    assert_eq!(before.len(), 4, "{before:?}");
    assert!(before
        .iter()
        .all(|(order, erased)| order.is_some() && !erased));

    let resp = app
        .client
        .delete(app.url("/api/admin/v1/customers/31"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["erased_members"], 1);
    run_jobs(&app, &ctx).await;

    let after = bodies(&app).await;
    for (order, erased) in &after {
        let theirs = order.as_deref() == Some("270");
        assert_eq!(*erased, theirs, "order {order:?}: {after:?}");
    }
    assert_eq!(after.iter().filter(|(_, erased)| *erased).count(), 2);
    // The customer's profile holds no e-mail any more; an unknown customer is a 404.
    let profile: Value = app
        .admin_get(&token, "/api/admin/v1/customers/31")
        .await
        .json()
        .await
        .unwrap();
    assert!(profile["email"].is_null(), "{profile}");
    let missing = app
        .client
        .delete(app.url("/api/admin/v1/customers/999"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
