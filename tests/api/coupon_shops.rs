//! What the REST platforms' coupon tests share (`bigcommerce_coupons.rs`,
//! `woocommerce/coupons.rs`): a shopper who is a member with points to spend, their balance and
//! redemption read back, and the coupon bodies the platform's fake API was sent.

use serde_json::{json, Value};
use wiremock::MockServer;

use boomerang::db::DbConnection;

use crate::helpers::TestApp;

/// Makes the platform's customer `customer` (`email`) a member of `shop_id`.
pub(crate) fn add_member(c: &mut DbConnection, shop_id: &str, customer: u64, email: &str) {
    crate::helpers::insert_member(c, shop_id, Some(&customer.to_string()), Some(email));
}

/// Gives `customer` `points` to spend, as the owner would through the admin API.
pub(crate) async fn grant_points(app: &TestApp, token: &str, customer: u64, points: i64) {
    let resp = app
        .admin_post(
            token,
            &format!("/api/admin/v1/customers/{customer}/adjustments"),
            json!({"points": points, "reason": "test"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

/// The points `customer` can spend.
pub(crate) async fn balance(app: &TestApp, token: &str, customer: u64) -> i64 {
    let resp = app
        .admin_get(token, &format!("/api/admin/v1/customers/{customer}"))
        .await;
    resp.json::<Value>().await.unwrap()["points_balance"]
        .as_i64()
        .unwrap()
}

/// The (id, status, platform discount id) of the only redemption.
pub(crate) async fn redemption(app: &TestApp) -> (String, String, Option<String>) {
    app.with_db(|c| {
        use boomerang::db::schema::redemptions;
        use diesel::prelude::*;
        redemptions::table
            .select((
                redemptions::id,
                redemptions::status,
                redemptions::platform_discount_id,
            ))
            .first::<(String, String, Option<String>)>(c)
            .unwrap()
    })
    .await
}

/// The bodies of the coupons `server` was asked to create at `path`, in order.
pub(crate) async fn coupon_posts(server: &MockServer, path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == path)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}
