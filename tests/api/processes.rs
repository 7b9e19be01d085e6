//! Driving real `boomerang` processes (the crash and two-instance tests): wait until one
//! answers, deliver a signed Shopify order to it.

use std::time::{Duration, Instant};

/// Waits until `base` answers `/readyz` (at most a minute: a cold start migrates first).
pub(crate) async fn wait_ready(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{base} did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Delivers `body` as `orders/paid` of `shop` with webhook id `id`, signed with `secret`;
/// the status, or `None` when the process did not answer (killed, or not up).
pub(crate) async fn deliver_order(
    client: &reqwest::Client,
    base: &str,
    (shop, secret): (&str, &str),
    id: &str,
    body: &str,
) -> Option<u16> {
    client
        .post(format!("{base}/webhooks/shopify"))
        .header("Content-Type", "application/json")
        .header("X-Shopify-Topic", "orders/paid")
        .header("X-Shopify-Shop-Domain", shop)
        .header("X-Shopify-Webhook-Id", id)
        .header(
            "X-Shopify-Hmac-Sha256",
            boomerang::platform::shopify::webhook::sign(body.as_bytes(), secret),
        )
        .body(body.to_owned())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}
