//! Each fraud signal, computed from what the friend's order and the referrer's records hold;
//! the review queue; monthly caps; nothing held is ever approved by time passing.

use serde_json::json;

use super::*;

/// A friend's paid order of `amount`, attributed to `code` through the cart, 20 days ago.
fn referred(id: u64, customer: u64, email: &str, amount: &str, code: &str) -> Value {
    let mut order = order_days_ago(id, (customer, email), 20, amount);
    order["note_attributes"] = json!([{"name": "boomerang_ref", "value": code}]);
    order
}

fn signals_of(referral: &Value) -> Vec<String> {
    referral["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

async fn referral_of(app: &TestApp, order_id: u64) -> Value {
    referrals(app, None)
        .await
        .into_iter()
        .find(|r| r["order_id"].as_str().and_then(|s| s.parse().ok()) == Some(order_id))
        .unwrap_or_else(|| panic!("no referral for order {order_id}"))
}

#[tokio::test]
async fn each_signal_comes_from_what_the_order_and_our_records_hold() {
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("auto", 100)).await;
    let code = referrer(&app).await;

    let mut cases: Vec<(u64, Value, &str)> = Vec::new();
    // Her mailbox spelled another way (dots, +tag, the old Gmail domain).
    cases.push((
        4002,
        referred(
            4002,
            8402,
            "Ada.Love.lace+deals@googlemail.com",
            "50.00",
            &code,
        ),
        "same_email_normalized",
    ));
    let mut address = referred(4003, 8403, "hal@example.com", "50.00", &code);
    address["shipping_address"] = json!({"address1": "12 main st.", "address2": "apartment 4", "city": "SPRINGFIELD", "zip": "12345", "country_code": "us"});
    cases.push((4003, address, "same_address"));
    let mut phone = referred(4004, 8404, "ivy@example.com", "50.00", &code);
    phone["phone"] = json!("555.010.2030");
    cases.push((4004, phone, "same_phone"));
    let mut ip = referred(4005, 8405, "jo@example.com", "50.00", &code);
    ip["client_details"] = json!({"browser_ip": "203.0.113.7", "user_agent": "x"});
    cases.push((4005, ip, "same_ip"));
    let mut card = referred(4006, 8406, "kim@example.com", "50.00", &code);
    card["payment_details"] = json!({"credit_card_bin": "424242", "credit_card_number": "XXXX-XXXX-XXXX-4242", "credit_card_company": "Visa"});
    cases.push((4006, card, "same_card"));
    cases.push((
        4007,
        referred(4007, 8407, "lou@example.com", "20.00", &code),
        "below_min_order",
    ));
    // A customer who ordered before the referral.
    let earlier = order_days_ago(4080, (8408, "max@example.com"), 60, "35.00");
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "max-0", &earlier).await,
        "accepted"
    );
    cases.push((
        4008,
        referred(4008, 8408, "max@example.com", "50.00", &code),
        "existing_customer",
    ));

    for (id, order, _) in &cases {
        assert_eq!(
            app.deliver(SHOP, "orders/paid", &format!("o-{id}"), order)
                .await,
            "accepted"
        );
    }
    for (id, _, signal) in &cases {
        let r = referral_of(&app, *id).await;
        assert!(
            signals_of(&r).contains(&(*signal).to_owned()),
            "{signal}: {r}"
        );
        assert!(r["risk_score"].as_i64().unwrap() > 0, "{signal}: {r}");
        assert_eq!(r["status"], "pending");
    }
    // Each raises only its own signal; a stranger raises nothing.
    assert_eq!(
        signals_of(&referral_of(&app, 4004).await),
        vec!["same_phone"]
    );
    let stranger = referred(4009, 8409, "ned@example.com", "50.00", &code);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-4009", &stranger).await,
        "accepted"
    );
    assert!(signals_of(&referral_of(&app, 4009).await).is_empty());
    // The same mailbox weighs more than a shared café network.
    assert!(
        referral_of(&app, 4002).await["risk_score"].as_i64()
            > referral_of(&app, 4005).await["risk_score"].as_i64()
    );

    // Settled under automatic review: every referral with a signal is held; the clean one paid.
    settle_after(&app, &shop_id, 0).await;
    assert_eq!(referrals(&app, Some("flagged")).await.len(), cases.len());
    assert_eq!(referrals(&app, Some("approved")).await.len(), 1);
    assert_eq!(referral_lines(&app, "7001").await.len(), 1);
    // Nothing held is approved by time passing.
    settle_after(&app, &shop_id, 400).await;
    assert_eq!(referrals(&app, Some("flagged")).await.len(), cases.len());
    assert_eq!(referral_lines(&app, "7001").await.len(), 1);
}

#[tokio::test]
async fn a_referrer_ordering_through_their_own_link_is_held() {
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    let own = referred(4001, 7001, "ada.lovelace@gmail.com", "50.00", &code);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "ada-self", &own).await,
        "accepted"
    );
    let r = referral_of(&app, 4001).await;
    let raised = signals_of(&r);
    for signal in [
        "same_customer",
        "same_email_normalized",
        "existing_customer",
    ] {
        assert!(raised.contains(&signal.to_owned()), "{signal}: {r}");
    }
    assert_eq!(r["risk_score"], 100);
    settle_after(&app, &shop_id, 0).await;
    assert_eq!(referral_of(&app, 4001).await["status"], "flagged");
    assert!(referral_lines(&app, "7001").await.is_empty());
}

#[tokio::test]
async fn the_monthly_cap_holds_the_referrals_past_it() {
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("auto", 1)).await;
    let code = referrer(&app).await;
    let first = referred(4101, 8501, "ola@example.com", "50.00", &code);
    let second = referred(4102, 8502, "pam@example.com", "50.00", &code);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "ola", &first).await,
        "accepted"
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "pam", &second).await,
        "accepted"
    );
    settle_after(&app, &shop_id, 0).await;
    assert_eq!(referrals(&app, Some("approved")).await.len(), 1);
    let held = referrals(&app, Some("flagged")).await;
    assert_eq!(held.len(), 1);
    assert_eq!(signals_of(&held[0]), vec!["over_monthly_cap"]);
    assert_eq!(referral_lines(&app, "7001").await.len(), 1);
}

#[tokio::test]
async fn the_review_queue_records_who_decided_and_decides_once() {
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("manual", 10)).await;
    let code = referrer(&app).await;
    for (id, customer, email) in [
        (4201, 8601, "quin@example.com"),
        (4202, 8602, "rae@example.com"),
    ] {
        let order = referred(id, customer, email, "50.00", &code);
        assert_eq!(
            app.deliver(SHOP, "orders/paid", email, &order).await,
            "accepted"
        );
    }
    // Manual review holds even clean referrals.
    settle_after(&app, &shop_id, 0).await;
    let queue = referrals(&app, Some("flagged")).await;
    assert_eq!(queue.len(), 2);
    assert!(queue.iter().all(|r| r["signals"] == json!([])));
    let (a, b) = (
        queue[0]["id"].as_str().unwrap(),
        queue[1]["id"].as_str().unwrap(),
    );

    let token = session_token(SHOP);
    let approve = |id: &str| format!("/api/admin/v1/referrals/{id}/approve");
    let reject = |id: &str| format!("/api/admin/v1/referrals/{id}/reject");
    // Another shop's owner cannot decide this shop's referrals.
    app.add_shop(OTHER, "USD").await;
    let resp = app
        .admin_post(&session_token(OTHER), &approve(a), json!({}))
        .await;
    assert_eq!(resp.status(), 404);

    let resp = app.admin_post(&token, &approve(a), json!({})).await;
    assert_eq!(resp.status(), 200);
    let decided: Value = resp.json().await.unwrap();
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["decided_by"], "1");
    assert!(decided["decided_at"].as_str().is_some());
    assert_eq!(referral_lines(&app, "7001").await.len(), 1);
    let resp = app.admin_post(&token, &approve(a), json!({})).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(crate::helpers::error_code(resp).await, "conflict");
    assert_eq!(
        app.admin_post(&token, &reject(a), json!({})).await.status(),
        409
    );
    assert_eq!(
        referral_lines(&app, "7001").await.len(),
        1,
        "still rewarded once"
    );

    assert_eq!(
        app.admin_post(&token, &reject(b), json!({})).await.status(),
        200
    );
    assert_eq!(
        app.admin_post(&token, &approve(b), json!({}))
            .await
            .status(),
        409
    );
    assert_eq!(referrals(&app, Some("rejected")).await.len(), 1);
    assert_eq!(referral_lines(&app, "7001").await.len(), 1);
    assert_eq!(
        app.admin_post(&token, &approve("no-such-referral"), json!({}))
            .await
            .status(),
        404
    );
    let resp = app
        .admin_get(&token, "/api/admin/v1/referrals?status=maybe")
        .await;
    assert_eq!(resp.status(), 400);
}

/// The admin UI's review queue decides through the same decision: with the session's CSRF
/// token only, once (a second decision is shown as refused, nothing changes), and another
/// shop's session sees none of it.
#[tokio::test]
async fn the_review_page_decides_once_and_only_with_the_sessions_token() {
    use crate::admin_ui::{get, post, sign_in};
    let server = platform().await;
    let (app, shop_id) = setup(&server, referral_program("manual", 10)).await;
    let code = referrer(&app).await;
    let order = referred(4301, 8701, "sol@example.com", "50.00", &code);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "sol", &order).await,
        "accepted"
    );
    settle_after(&app, &shop_id, 0).await;
    let held = referrals(&app, Some("flagged")).await;
    let id = held[0]["id"].as_str().unwrap().to_owned();

    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let page = get(&app, &cookie, "/app/referrals").await;
    assert!(page.contains(&format!("/app/referrals/{id}")), "{page}");
    assert!(page.contains("#4301"));
    let other_id = app.add_shop(OTHER, "USD").await;
    let (other_cookie, other_csrf) = sign_in(&app, &other_id).await;
    assert!(!get(&app, &other_cookie, "/app/referrals")
        .await
        .contains("#4301"));
    let path = format!("/app/referrals/{id}");
    // Another shop's session, a missing or wrong token: refused, nothing decided.
    let resp = post(
        &app,
        &other_cookie,
        &path,
        &[("csrf", other_csrf.as_str()), ("decision", "approve")],
    )
    .await;
    assert_eq!(resp.status(), 404);
    let resp = post(
        &app,
        &cookie,
        &path,
        &[("csrf", "forged"), ("decision", "approve")],
    )
    .await;
    assert_eq!(resp.status(), 403);
    let resp = post(
        &app,
        &cookie,
        &path,
        &[("csrf", csrf.as_str()), ("decision", "maybe")],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(referrals(&app, Some("flagged")).await.len(), 1);

    let resp = post(
        &app,
        &cookie,
        &path,
        &[("csrf", csrf.as_str()), ("decision", "approve")],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/app/referrals?decided=approve");
    assert_eq!(referral_lines(&app, "7001").await.len(), 1);
    let shown = get(
        &app,
        &cookie,
        "/app/referrals?status=approved&decided=approve",
    )
    .await;
    assert!(shown.contains("#4301") && shown.contains("role=\"status\""));
    let again = post(
        &app,
        &cookie,
        &path,
        &[("csrf", csrf.as_str()), ("decision", "reject")],
    )
    .await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("role=\"alert\""));
    assert_eq!(referrals(&app, Some("approved")).await.len(), 1);
    assert_eq!(referral_lines(&app, "7001").await.len(), 1, "rewarded once");
    // The referrer's profile lists what they referred.
    let profile = get(&app, &cookie, "/app/customers/7001").await;
    assert!(
        profile.contains("#4301") && profile.contains("Approved"),
        "{profile}"
    );
    assert_eq!(
        crate::admin_ui::client()
            .get(app.url("/app/referrals?status=everything"))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
}
