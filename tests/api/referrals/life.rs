//! A referral's whole life: click → claim → the friend's order on another device carrying only
//! the code → pending → approved after the return window → the referrer rewarded once. And the
//! ways it ends otherwise: a refund before approval voids it; one referral per friend ever.

use serde_json::json;

use super::*;

#[tokio::test]
async fn click_claim_order_on_another_device_approval_and_one_reward() {
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    assert_eq!(code.len(), 8);
    assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");

    // The link: the click is recorded and the visitor sent to the storefront with the code.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirects
        .get(app.url(&format!("/r/{code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(
        resp.headers()["location"],
        format!("https://{SHOP}/?ref={code}").as_str()
    );
    assert_eq!(count(&app, "referral_clicks").await, 1);
    // A code typed in lower case with a dash is the same code.
    let typed = format!("{}-{}", &code[..4].to_lowercase(), &code[4..]);
    let resp = no_redirects
        .get(app.url(&format!("/r/{typed}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);

    // The widget of the referrer shows the link.
    let state: Value = app
        .get(&format!("/proxy/state?{}", proxy_query(SHOP, "7001")))
        .await
        .json()
        .await
        .unwrap();
    assert!(state["member"]["referral_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/r/{code}")));
    assert_eq!(state["referral"]["referrer_points"], 500);
    assert_eq!(state["referral"]["friend_offer"], "10.00 USD off");

    // The friend claims on their phone: a single-use code anyone can use once.
    let resp = claim(&app, &code, "Bea.Friend@example.com").await;
    assert_eq!(resp.status(), 200);
    let claimed: Value = resp.json().await.unwrap();
    let friend_code = claimed["discount_code"].as_str().unwrap().to_owned();
    assert!(claimed["expires_at"].as_str().unwrap().contains('T'));
    let creates: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .filter(|b| {
            b["query"]
                .as_str()
                .unwrap_or("")
                .contains("discountCodeBasicCreate")
        })
        .collect();
    assert_eq!(creates.len(), 1);
    let input = &creates[0]["variables"]["input"];
    assert_eq!(input["code"], friend_code.as_str());
    assert_eq!(input["usageLimit"], 1);
    assert_eq!(input["context"], json!({"all": "ALL"}));
    assert_eq!(
        input["minimumRequirement"]["subtotal"]["greaterThanOrEqualToSubtotal"],
        "30.00"
    );
    // Asking again with the same mailbox (another spelling) gives the same code, no new call.
    let again: Value = claim(&app, &code, " bea.friend@EXAMPLE.com")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["discount_code"], friend_code.as_str());
    assert_eq!(count(&app, "referral_claims").await, 1);

    // Days later, on a laptop: the order carries only the friend's code.
    let mut order = order_days_ago(2001, (8001, "bea.friend@example.com"), 20, "45.00");
    order["discount_codes"] =
        json!([{"code": friend_code.to_lowercase(), "amount": "10.00", "type": "fixed_amount"}]);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "bea-1", &order).await,
        "accepted"
    );
    let pending = referrals(&app, Some("pending")).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    let r = &pending[0];
    assert_eq!(r["referrer_customer_id"], "7001");
    assert_eq!(r["friend_customer_id"], "8001");
    assert_eq!(r["friend_email"], "bea.friend@example.com");
    assert_eq!(r["order_id"], "2001");
    assert_eq!(r["via"], "discount_code");
    assert_eq!(r["signals"], json!([]));
    assert_eq!(r["risk_score"], 0);
    assert!(
        referral_lines(&app, "7001").await.is_empty(),
        "no reward before approval"
    );

    // The same order again (another topic) changes nothing.
    assert_eq!(
        app.deliver(SHOP, "orders/updated", "bea-1b", &order).await,
        "accepted"
    );
    assert_eq!(referrals(&app, None).await.len(), 1);

    // The order was placed 20 days ago: its 14-day window has passed, so the job approves.
    settle_after(&app, &shop_id, 0).await;
    let approved = referrals(&app, Some("approved")).await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["decided_by"], "auto");
    let lines = referral_lines(&app, "7001").await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["delta"], 500);
    assert_eq!(lines[0]["status"], "confirmed");
    let balance = app.customer(SHOP, "7001").await["points_balance"]
        .as_i64()
        .unwrap();

    // Settling again, and a later refund, change nothing: the reward is given once and kept.
    settle_after(&app, &shop_id, 30).await;
    let refund = crate::helpers::refund_json(9001, 2001, &[(20010, 1, "45.00")], "45.00");
    assert_eq!(
        app.deliver(SHOP, "refunds/create", "bea-refund", &refund)
            .await,
        "accepted"
    );
    assert_eq!(referral_lines(&app, "7001").await.len(), 1);
    assert_eq!(referrals(&app, Some("approved")).await.len(), 1);
    assert_eq!(
        app.customer(SHOP, "7001").await["points_balance"]
            .as_i64()
            .unwrap(),
        balance
    );

    // One referral per friend, ever: their next order through another link refers no one.
    let mut next = order_days_ago(2002, (8001, "bea.friend@example.com"), 2, "80.00");
    next["note_attributes"] = json!([{"name": "boomerang_ref", "value": code}]);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "bea-2", &next).await,
        "accepted"
    );
    assert_eq!(referrals(&app, None).await.len(), 1);
}

#[tokio::test]
async fn a_refund_before_approval_voids_the_referral_and_nothing_is_rewarded() {
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    // Attributed through the cart attribute the widget set, inside the return window.
    let mut order = order_days_ago(3001, (8101, "cy@example.com"), 3, "60.00");
    order["note_attributes"] = json!([{"name": "boomerang_ref", "value": code}]);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "cy-1", &order).await,
        "accepted"
    );
    let pending = referrals(&app, Some("pending")).await;
    assert_eq!(pending[0]["via"], "cart_attribute");

    // Not yet due: the job leaves it pending.
    settle_after(&app, &shop_id, 0).await;
    assert_eq!(referrals(&app, Some("pending")).await.len(), 1);

    let refund = crate::helpers::refund_json(9101, 3001, &[(30010, 1, "60.00")], "60.00");
    assert_eq!(
        app.deliver(SHOP, "refunds/create", "cy-refund", &refund)
            .await,
        "accepted"
    );
    assert_eq!(referrals(&app, Some("void")).await.len(), 1);
    settle_after(&app, &shop_id, 30).await;
    assert_eq!(referrals(&app, Some("void")).await.len(), 1);
    assert!(referral_lines(&app, "7001").await.is_empty());
}

#[tokio::test]
async fn a_cancelled_order_voids_and_a_landing_page_ref_attributes() {
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    let mut order = order_days_ago(3101, (8201, "di@example.com"), 1, "55.00");
    order["landing_site"] = json!(format!(
        "/products/mug?utm_source=x&ref={}",
        code.to_lowercase()
    ));
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "di-1", &order).await,
        "accepted"
    );
    assert_eq!(
        referrals(&app, Some("pending")).await[0]["via"],
        "landing_site"
    );
    order["cancelled_at"] = json!(Utc::now().to_rfc3339());
    order["updated_at"] = json!(Utc::now().to_rfc3339());
    assert_eq!(
        app.deliver(SHOP, "orders/cancelled", "di-cancel", &order)
            .await,
        "accepted"
    );
    assert_eq!(referrals(&app, Some("void")).await.len(), 1);
    settle_after(&app, &shop_id, 30).await;
    assert!(referral_lines(&app, "7001").await.is_empty());
}

#[tokio::test]
async fn unpaid_and_unattributed_orders_make_no_referral() {
    let server = platform().await;
    let (app, _) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    let mut unpaid = order_days_ago(3201, (8301, "ed@example.com"), 1, "55.00");
    unpaid["financial_status"] = json!("pending");
    unpaid["note_attributes"] = json!([{"name": "boomerang_ref", "value": code}]);
    assert_eq!(
        app.deliver(SHOP, "orders/create", "ed-1", &unpaid).await,
        "accepted"
    );
    let plain = order_days_ago(3202, (8302, "fay@example.com"), 1, "55.00");
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "fay-1", &plain).await,
        "accepted"
    );
    let mut unknown = order_days_ago(3203, (8303, "gus@example.com"), 1, "55.00");
    unknown["note_attributes"] = json!([{"name": "boomerang_ref", "value": "ZZZZ2345"}]);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "gus-1", &unknown).await,
        "accepted"
    );
    assert!(referrals(&app, None).await.is_empty());
    // Once paid, the first order is attributed.
    unpaid["financial_status"] = json!("paid");
    unpaid["updated_at"] = json!(Utc::now().to_rfc3339());
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "ed-2", &unpaid).await,
        "accepted"
    );
    assert_eq!(referrals(&app, None).await.len(), 1);
}
