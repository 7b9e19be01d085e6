//! The HTTP edge under hostile input: tenant taken from an unsigned header, unbounded metric
//! labels, bodies that never arrive, NUL characters, bodies that are not UTF-8 or are
//! compressed, and the one JSON error shape for every refusal.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use boomerang::db::schema::{inbox_events, members};
use boomerang::platform::shopify::webhook::sign;

use crate::helpers::{error_code, fixture, order_json, session_token, TestApp, SECRET};

const SHOP: &str = "edge.myshopify.com";
const OTHER_SHOP: &str = "victim.myshopify.com";

async fn inbox_count(app: &TestApp) -> i64 {
    app.with_db(|c| inbox_events::table.count().get_result::<i64>(c).unwrap())
        .await
}

/// Posts raw bytes to the Shopify webhook endpoint with the given signature and extra headers.
async fn post_webhook_bytes(
    app: &TestApp,
    shop: &str,
    body: Vec<u8>,
    signature: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/webhooks/shopify"))
        .header("Content-Type", "application/json")
        .header("X-Shopify-Topic", "orders/paid")
        .header("X-Shopify-Shop-Domain", shop)
        .header("X-Shopify-Webhook-Id", uuid::Uuid::new_v4().to_string())
        .header("X-Shopify-Hmac-Sha256", signature);
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    req.body(body).send().await.unwrap()
}

/// The error message of a JSON error response, after checking its shape and status.
async fn error_message(resp: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status(), status);
    let body: Value = resp.json().await.expect("a JSON error body");
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

// Item 14.
#[tokio::test]
async fn a_signed_shop_redact_replayed_under_another_shops_domain_erases_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "1", "a@example.com").await;
    let (victim_id, _) = app
        .add_shop_with_member(OTHER_SHOP, "2", "v@example.com")
        .await;
    let mut captured: Value = serde_json::from_str(&fixture("shopify/shop_redact.json")).unwrap();
    captured["shop_domain"] = json!(SHOP);
    for topic in ["shop/redact", "customers/redact", "app/uninstalled"] {
        let mut body = captured.clone();
        if topic == "app/uninstalled" {
            body = json!({"id": 1, "myshopify_domain": SHOP, "domain": OTHER_SHOP});
        }
        let resp = app
            .post_shopify_webhook(
                topic,
                OTHER_SHOP,
                &format!("replay-{topic}"),
                &body.to_string(),
            )
            .await;
        assert_eq!(resp.status(), 400, "{topic}");
        assert_eq!(error_code(resp).await, "bad_request");
    }
    assert_eq!(inbox_count(&app).await, 0, "nothing stored");
    let victim_members = app
        .with_db(move |c| {
            members::table
                .filter(members::shop_id.eq(&victim_id))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(victim_members, 1, "the other shop keeps its data");
    assert_eq!(
        app.customer(OTHER_SHOP, "2").await["customer_id"],
        "2",
        "the other shop is still installed"
    );
    // The genuine delivery, under its own shop's header, is taken (domain case aside).
    let resp = app
        .post_shopify_webhook(
            "shop/redact",
            "EDGE.myshopify.com",
            "genuine",
            &captured.to_string(),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

// Item 24.
#[tokio::test]
async fn made_up_http_methods_do_not_add_metric_series() {
    let app = TestApp::spawn().await;
    for i in 0..40 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        for path in ["/healthz", &format!("/nowhere/{i}")] {
            let resp = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_client_error(), "{path}");
        }
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(!text.contains("MADEUP"), "{text}");
    assert!(!text.contains("/nowhere"), "{text}");
    assert!(
        text.contains(
            r#"boomerang_http_requests_total{method="OTHER",route="/healthz",status="405"} 40"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"boomerang_http_requests_total{method="OTHER",route="unmatched",status="404"} 40"#
        ),
        "{text}"
    );
}

/// Sends a request head announcing a large body (`framing`), then one byte, and returns what
/// the server answered and how long it took to close the connection.
async fn announce_and_stall(app: &TestApp, head: &str, framing: &str) -> (String, Duration) {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(format!("{head}{framing}").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the connection is still open after {:?}; answer: {}",
                started.elapsed(),
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

// Item 26.
#[tokio::test]
async fn a_client_that_announces_a_body_and_sends_one_byte_gets_408_and_is_dropped() {
    let app = TestApp::spawn_with(&[("BODY_READ_TIMEOUT_SECS", "1")]).await;
    app.add_shop(SHOP, "USD").await;
    let webhook = format!(
        "POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Shopify-Topic: orders/paid\r\nX-Shopify-Shop-Domain: {SHOP}\r\n"
    );
    let program = format!(
        "PUT /api/admin/v1/program HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\n",
        session_token(SHOP)
    );
    let framings = [
        "Content-Length: 100000\r\n\r\n{",
        "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
    ];
    for (head, framing) in [webhook, program]
        .iter()
        .flat_map(|h| framings.map(|f| (h, f)))
    {
        let (answer, took) = announce_and_stall(&app, head, framing).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
        assert!(took < Duration::from_secs(5), "closed after {took:?}");
    }
    assert_eq!(inbox_count(&app).await, 0);
}

// Item 27.
#[tokio::test]
async fn a_webhook_carrying_a_nul_is_kept_as_failed_and_listed() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "7001", "ada@example.com")
        .await;
    let mut order = order_json(
        501,
        Some((7001, "ada@example.com")),
        "paid",
        &[(1, 1, "40.00")],
    );
    order["note"] = json!("gift\u{0}wrap");
    assert!(order.to_string().contains("\\u0000"));
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "nul-1", &order).await,
        "accepted"
    );
    let listed: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/webhooks?status=failed")
        .await
        .json()
        .await
        .unwrap();
    let events = listed["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{listed}");
    assert!(
        events[0]["error"].as_str().unwrap().contains("NUL"),
        "{listed}"
    );
    let pending: Value = app
        .admin_get(
            &session_token(SHOP),
            "/api/admin/v1/webhooks?status=pending",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["events"], json!([]), "nothing stays pending");
}

// Item 27.
#[tokio::test]
async fn a_nul_in_a_path_query_or_json_body_is_refused_with_400_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "7", "a@example.com").await;
    let token = session_token(SHOP);
    let resp = app.admin_get(&token, "/api/admin/v1/customers/7%00").await;
    assert_eq!(error_code_of(resp, 400).await, "bad_request");
    let resp = app
        .admin_get(&token, "/api/admin/v1/webhooks?status=failed%00")
        .await;
    assert_eq!(error_code_of(resp, 400).await, "bad_request");
    let resp = app
        .get(&format!(
            "/widget/v1/state?shop={SHOP}&customer=7%00&digest=00"
        ))
        .await;
    assert_eq!(error_code_of(resp, 400).await, "bad_request");
    let resp = app
        .admin_post(
            &token,
            "/api/admin/v1/customers/7/adjustments",
            json!({"points": 5, "reason": "thanks\u{0}"}),
        )
        .await;
    assert_eq!(error_code_of(resp, 400).await, "bad_request");
    assert_eq!(app.customer(SHOP, "7").await["points_balance"], 0);
}

async fn error_code_of(resp: reqwest::Response, status: u16) -> String {
    assert_eq!(resp.status(), status);
    error_code(resp).await
}

// Item 28.
#[tokio::test]
async fn a_wrong_method_on_a_served_path_is_405_in_the_json_shape() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (reqwest::Method::POST, "/healthz"),
        (reqwest::Method::DELETE, "/api/admin/v1/program"),
        (reqwest::Method::GET, "/webhooks/shopify"),
    ] {
        let resp = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        let message = error_message(resp, 405, "method_not_allowed").await;
        assert!(message.contains(path), "{method} {path}: {message}");
    }
    let resp = app.get("/api/admin/v1/nothing-here").await;
    error_message(resp, 404, "not_found").await;
}

// Item 28.
#[tokio::test]
async fn refusals_use_plain_words_not_the_parsers() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "7", "a@example.com").await;
    let token = session_token(SHOP);
    let path = "/api/admin/v1/customers/7/adjustments";
    let post_raw = |body: &'static str| {
        app.client
            .post(app.url(path))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let wordings = ["line", "column", "invalid type", "expected", "Json", "i64"];
    for (body, expected) in [
        (r#"{"points": 5,"#, "the body is not valid JSON"),
        (
            r#"{"points": "5", "reason": "r"}"#,
            "a field has the wrong type or value",
        ),
        (r#"{"points": 5}"#, "the field reason is missing"),
    ] {
        let message = error_message(post_raw(body).await.unwrap(), 400, "invalid_json").await;
        assert_eq!(message, expected, "{body}");
        assert!(wordings.iter().all(|w| !message.contains(w)), "{message}");
    }
    let resp = app
        .admin_get(&token, "/api/admin/v1/webhooks?limit=many")
        .await;
    let message = error_message(resp, 400, "bad_request").await;
    assert!(!message.contains("invalid digit"), "{message}");
    let expired = crate::helpers::session_token_with(SHOP, SECRET, |c| {
        c["exp"] = json!(chrono::Utc::now().timestamp() - 60);
    });
    let resp = app.admin_get(&expired, "/api/admin/v1/program").await;
    let message = error_message(resp, 401, "unauthorized").await;
    assert_eq!(message, "the session token has expired");
}

// Item 29.
#[tokio::test]
async fn a_signed_body_that_is_not_utf8_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let body = b"{\"id\":1,\"note\":\"caf\xe9\"}".to_vec();
    let signature = sign(&body, SECRET);
    let resp = post_webhook_bytes(&app, SHOP, body, &signature, &[]).await;
    let message = error_message(resp, 400, "invalid_json").await;
    assert!(message.contains("UTF-8"), "{message}");
    assert_eq!(inbox_count(&app).await, 0);
}

// Item 29.
#[tokio::test]
async fn a_signed_body_with_a_lone_surrogate_is_refused_on_receipt() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let mut order = order_json(9, None, "paid", &[(1, 1, "10.00")]).to_string();
    order = order.replacen("\"name\":\"#9\"", "\"name\":\"#9\\ud800\"", 1);
    assert!(order.contains("\\ud800"));
    let resp = post_webhook_bytes(
        &app,
        SHOP,
        order.clone().into_bytes(),
        &sign(order.as_bytes(), SECRET),
        &[],
    )
    .await;
    error_message(resp, 400, "invalid_json").await;
    assert_eq!(inbox_count(&app).await, 0);
}

// Item 29.
#[tokio::test]
async fn a_gzipped_webhook_is_verified_over_the_bytes_received() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let json = order_json(10, None, "paid", &[(1, 1, "10.00")]).to_string();
    let gzipped = gzip_stored(json.as_bytes());
    let gzip = [("Content-Encoding", "gzip")];
    // Signed over the decompressed JSON: not what was received.
    let resp = post_webhook_bytes(
        &app,
        SHOP,
        gzipped.clone(),
        &sign(json.as_bytes(), SECRET),
        &gzip,
    )
    .await;
    error_message(resp, 401, "invalid_signature").await;
    // Signed over the bytes received: those are not JSON text.
    let resp =
        post_webhook_bytes(&app, SHOP, gzipped.clone(), &sign(&gzipped, SECRET), &gzip).await;
    error_message(resp, 400, "invalid_json").await;
    assert_eq!(inbox_count(&app).await, 0);
}

/// `data` as a gzip member holding one stored (uncompressed) deflate block.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.push(1); // final block, stored
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
