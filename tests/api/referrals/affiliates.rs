//! Affiliates: one public multi-use platform code each, every paid order using it attributed,
//! commission on net revenue (refunds and cancellations subtract), the report.

use serde_json::json;

use super::*;

fn new_affiliate(code: &str, pct: f64) -> Value {
    json!({"name": "Anna Blogs", "email": "anna@blog.example", "code": code, "commission_pct": pct,
           "customer_discount": {"kind": "percent", "percent": 10}})
}

#[tokio::test]
async fn an_affiliates_code_attributes_every_paid_order_and_commission_is_on_net_revenue() {
    let server = platform().await;
    let (app, _) = setup(&server, json!({})).await;
    let token = session_token(SHOP);
    let resp = app
        .admin_post(
            &token,
            "/api/admin/v1/affiliates",
            new_affiliate("anna10", 12.5),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let affiliate: Value = resp.json().await.unwrap();
    assert_eq!(affiliate["code"], "ANNA10");
    assert_eq!(affiliate["status"], "active");
    assert_eq!(affiliate["commission_pct"], 12.5);
    let id = affiliate["id"].as_str().unwrap().to_owned();
    let create: Value = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .find(|b| {
            b["query"]
                .as_str()
                .unwrap_or("")
                .contains("discountCodeBasicCreate")
        })
        .unwrap();
    let input = &create["variables"]["input"];
    assert_eq!(input["code"], "ANNA10");
    assert_eq!(input["context"], json!({"all": "ALL"}));
    assert_eq!(input["appliesOncePerCustomer"], false);
    assert!(input.get("usageLimit").is_none(), "multi-use: {input}");
    assert!(input.get("endsAt").is_none(), "never expires: {input}");

    // Bad affiliates and a taken code: refused, nothing stored.
    for bad in [
        new_affiliate("A", 10.0),
        new_affiliate("ANNA11", 150.0),
        json!({"name": "x"}),
    ] {
        let resp = app
            .admin_post(&token, "/api/admin/v1/affiliates", bad.clone())
            .await;
        assert!([400, 422].contains(&resp.status().as_u16()), "{bad}");
    }
    let resp = app
        .admin_post(
            &token,
            "/api/admin/v1/affiliates",
            new_affiliate("Anna10", 5.0),
        )
        .await;
    assert_eq!(resp.status(), 409);
    assert_eq!(count(&app, "affiliates").await, 1);

    let with_code = |id: u64, customer: u64, amount: &str, code: &str| {
        let mut order = order_days_ago(
            id,
            (customer, &format!("c{customer}@example.com")),
            2,
            amount,
        );
        order["discount_codes"] = json!([{"code": code, "amount": "1.00", "type": "percentage"}]);
        order
    };
    // Two paid orders with the code (any case), one unpaid, one without the code.
    assert_eq!(
        app.deliver(
            SHOP,
            "orders/paid",
            "a1",
            &with_code(6001, 8801, "45.00", "anna10")
        )
        .await,
        "accepted"
    );
    assert_eq!(
        app.deliver(
            SHOP,
            "orders/paid",
            "a2",
            &with_code(6002, 8802, "100.00", "ANNA10")
        )
        .await,
        "accepted"
    );
    let mut unpaid = with_code(6003, 8803, "70.00", "ANNA10");
    unpaid["financial_status"] = json!("pending");
    assert_eq!(
        app.deliver(SHOP, "orders/create", "a3", &unpaid).await,
        "accepted"
    );
    assert_eq!(
        app.deliver(
            SHOP,
            "orders/paid",
            "a4",
            &order_days_ago(6004, (8804, "d@example.com"), 2, "80.00")
        )
        .await,
        "accepted"
    );
    // 30.00 of the second order refunded (no lines: an amount), the first cancelled.
    let refund = crate::helpers::refund_json(9601, 6002, &[], "30.00");
    assert_eq!(
        app.deliver(SHOP, "refunds/create", "a2-refund", &refund)
            .await,
        "accepted"
    );
    let mut cancelled = with_code(6001, 8801, "45.00", "anna10");
    cancelled["cancelled_at"] = json!(Utc::now().to_rfc3339());
    cancelled["updated_at"] = json!(Utc::now().to_rfc3339());
    assert_eq!(
        app.deliver(SHOP, "orders/cancelled", "a1-cancel", &cancelled)
            .await,
        "accepted"
    );

    let today = Utc::now().date_naive();
    let path = format!(
        "/api/admin/v1/affiliates/{id}/report?from={}&to={today}",
        today - Duration::days(7)
    );
    let report: Value = app.admin_get(&token, &path).await.json().await.unwrap();
    assert_eq!(report["orders"], 2, "{report}");
    assert_eq!(report["refunded_minor"], 4500 + 3000, "{report}");
    assert_eq!(report["revenue_minor"], 7000, "{report}");
    assert_eq!(report["commission_minor"], 875, "{report}");
    // Before the orders: nothing.
    let early = format!("/api/admin/v1/affiliates/{id}/report?from=2020-01-01&to=2020-01-31");
    let none: Value = app.admin_get(&token, &early).await.json().await.unwrap();
    assert_eq!(
        (none["orders"].as_i64(), none["commission_minor"].as_i64()),
        (Some(0), Some(0))
    );

    // Another shop's owner sees no such affiliate; a reversed period is a bad request.
    app.add_shop(OTHER, "USD").await;
    assert_eq!(
        app.admin_get(&session_token(OTHER), &path).await.status(),
        404
    );
    let backwards = format!("/api/admin/v1/affiliates/{id}/report?from={today}&to=2020-01-01");
    assert_eq!(app.admin_get(&token, &backwards).await.status(), 400);
    let list: Value = app
        .admin_get(&token, "/api/admin/v1/affiliates")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["affiliates"].as_array().unwrap().len(), 1);
    let other_list: Value = app
        .admin_get(&session_token(OTHER), "/api/admin/v1/affiliates")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other_list["affiliates"], json!([]));
}

#[tokio::test]
async fn an_affiliate_code_the_platform_refuses_is_not_kept() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "code"], "message": "Code is invalid", "code": "INVALID"}]}}})))
        .mount(&server)
        .await;
    let (app, _) = setup(&server, json!({})).await;
    let resp = app
        .admin_post(
            &session_token(SHOP),
            "/api/admin/v1/affiliates",
            new_affiliate("ANNA10", 10.0),
        )
        .await;
    assert_eq!(resp.status(), 502);
    assert_eq!(count(&app, "affiliates").await, 0);
}
