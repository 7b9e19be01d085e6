//! The friend's claim and the referral link under bad input: unknown codes, another shop's
//! code, invalid e-mails, self-referral, existing customers, a platform that refuses, and
//! floods — each a clear error, with nothing stored.

use serde_json::json;

use super::*;

#[tokio::test]
async fn bad_claims_get_clear_errors_and_store_nothing() {
    let server = platform().await;
    let (app, _) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    // Another shop's member and code.
    app.add_api_shop(OTHER, &server.uri(), APP_SECRET).await;
    assert_eq!(
        put_program(&app, OTHER, referral_program("auto", 10))
            .await
            .status(),
        200
    );
    let theirs = order_days_ago(5001, (9001, "zed@example.com"), 10, "30.00");
    assert_eq!(
        app.deliver(OTHER, "orders/paid", "zed", &theirs).await,
        "accepted"
    );
    let other_code = code_of(&app, OTHER, "9001").await;
    // A customer of this shop already.
    let max = order_days_ago(5002, (8701, "max@example.com"), 10, "30.00");
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "max", &max).await,
        "accepted"
    );

    let cases: Vec<(String, &str, u16, &str)> = vec![
        ("ZZZZ2345".into(), "new@example.com", 404, "not_found"),
        ("<script>".into(), "new@example.com", 404, "not_found"),
        (other_code.clone(), "new@example.com", 404, "not_found"),
        (code.clone(), "not-an-email", 422, "validation_failed"),
        (code.clone(), "two@@example.com", 422, "validation_failed"),
        (
            code.clone(),
            "inject@example.com\r\nBcc: all@example.com",
            422,
            "validation_failed",
        ),
        (code.clone(), "", 422, "validation_failed"),
        (
            code.clone(),
            "ADA.LOVELACE+gift@gmail.com",
            422,
            "self_referral",
        ),
        (code.clone(), "Max@Example.com", 422, "existing_customer"),
    ];
    for (i, (code, email, status, error)) in cases.iter().enumerate() {
        let resp = claim_from(&app, SHOP, code, email, &format!("198.51.100.{i}")).await;
        assert_eq!(resp.status(), *status, "{code} {email}");
        assert_eq!(
            crate::helpers::error_code(resp).await,
            *error,
            "{code} {email}"
        );
    }
    // The referrer logged in, claiming with any e-mail, is still themself.
    let resp = app
        .client
        .post(app.url(&format!(
            "/proxy/referrals/claim?{}",
            proxy_query(SHOP, "7001")
        )))
        .json(&json!({"code": code, "email": "someone.else@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(crate::helpers::error_code(resp).await, "self_referral");
    // Unknown fields and missing ones are refused too.
    let resp = app
        .client
        .post(app.url(&format!("/proxy/referrals/claim?{}", proxy_query(SHOP, ""))))
        .json(&json!({"code": code, "email": "x@example.com", "points": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(count(&app, "referral_claims").await, 0);
    let creates = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("discountCodeBasicCreate"))
        .count();
    assert_eq!(creates, 0, "no code was made for a bad claim");

    // The other shop's friend can claim their own shop's code.
    let resp = claim_from(&app, OTHER, &other_code, "new@example.com", "198.51.100.99").await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_code_the_platform_refuses_leaves_no_claim_behind() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "customerGets"], "message": "Value is invalid", "code": "INVALID"}]}}})))
        .mount(&server)
        .await;
    let (app, _) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    let resp = claim(&app, &code, "bea@example.com").await;
    assert_eq!(resp.status(), 502);
    assert_eq!(crate::helpers::error_code(resp).await, "platform_error");
    assert_eq!(count(&app, "referral_claims").await, 0);
}

#[tokio::test]
async fn floods_of_claims_are_limited_per_code_and_per_network() {
    let server = platform().await;
    let (app, _) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    // One network: ten claims (a household claiming for friends), then 429.
    for i in 0..10 {
        let resp = claim_from(
            &app,
            SHOP,
            &code,
            &format!("f{i}@example.com"),
            "192.0.2.50",
        )
        .await;
        assert_eq!(resp.status(), 200, "claim {i}");
    }
    let resp = claim_from(&app, SHOP, &code, "f10@example.com", "192.0.2.50").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(crate::helpers::error_code(resp).await, "too_many_requests");
    assert_eq!(count(&app, "referral_claims").await, 10);
    // One code from many networks: thirty in all, then 429 whatever the network.
    for i in 10..30 {
        let resp = claim_from(
            &app,
            SHOP,
            &code,
            &format!("f{i}@example.com"),
            &format!("192.0.2.{i}"),
        )
        .await;
        assert_eq!(resp.status(), 200, "claim {i}");
    }
    let resp = claim_from(&app, SHOP, &code, "late@example.com", "192.0.2.200").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(count(&app, "referral_claims").await, 30);
}

#[tokio::test]
async fn unknown_and_switched_off_links_answer_a_page_not_an_error_dump() {
    let server = platform().await;
    let (app, _) = setup(&server, referral_program("auto", 10)).await;
    let code = referrer(&app).await;
    for path in [
        "/r/ZZZZ2345".to_owned(),
        "/r/%3Cscript%3E".to_owned(),
        "/r/x".to_owned(),
    ] {
        let resp = app.get(&path).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(resp
            .text()
            .await
            .unwrap()
            .contains("This referral link does not work"));
    }
    // Referrals switched off: links stop, claims are refused, the widget offers nothing.
    let mut off = referral_program("auto", 10);
    off["referrals"]["enabled"] = json!(false);
    assert_eq!(put_program(&app, SHOP, off).await.status(), 200);
    assert_eq!(app.get(&format!("/r/{code}")).await.status(), 404);
    let resp = claim(&app, &code, "bea@example.com").await;
    assert_eq!(resp.status(), 404);
    let state: Value = app
        .get(&format!("/proxy/state?{}", proxy_query(SHOP, "7001")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["referral"], Value::Null);
    assert_eq!(state["member"]["referral_url"], Value::Null);
    assert_eq!(count(&app, "referral_clicks").await, 0);
}

#[tokio::test]
async fn bad_referral_settings_are_refused_whole() {
    let server = platform().await;
    let (app, _) = setup(&server, referral_program("auto", 10)).await;
    let before: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    for (pointer, value) in [
        ("/referrals/friend_reward/amount_minor", json!(-5)),
        ("/referrals/referrer_reward/points", json!(0)),
        ("/referrals/review", json!("never")),
        ("/referrals/max_rewards_per_month", json!(0)),
        ("/referrals/friend_reward/expires_days", json!(9999)),
    ] {
        let mut program = referral_program("auto", 10);
        *program.pointer_mut(pointer).unwrap() = value;
        let resp = put_program(&app, SHOP, program).await;
        assert_eq!(resp.status(), 422, "{pointer}");
        let message = resp.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        let field = pointer.rsplit('/').next().unwrap();
        assert!(message.contains(field), "{pointer}: {message}");
    }
    let after: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
}
