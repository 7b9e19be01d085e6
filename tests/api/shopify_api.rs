//! The Shopify Admin API client against a local fake (wiremock).

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::platform::shopify::api::{ApiError, RetryPolicy, ShopCredentials, ShopifyApi};

const GRAPHQL: &str = "/admin/api/2025-10/graphql.json";

fn client() -> ShopifyApi {
    ShopifyApi::new(
        "2025-10",
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            timeout: Duration::from_millis(300),
        },
    )
    .unwrap()
}

fn shop(server: &MockServer) -> ShopCredentials {
    ShopCredentials {
        domain: "fake.myshopify.com".into(),
        access_token: "shpat_test".to_owned().into(),
        api_base: Some(server.uri()),
        expiry: None,
    }
}

#[tokio::test]
async fn returns_data_and_sends_the_access_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("X-Shopify-Access-Token", "shpat_test"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"shop": {"name": "Fake"}}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let data = client()
        .graphql(&shop(&server), "{ shop { name } }", json!({}))
        .await
        .unwrap();
    assert_eq!(data["shop"]["name"], "Fake");
}

#[tokio::test]
async fn waits_out_a_throttle_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 12, "throttleStatus":
                {"maximumAvailable": 1000, "currentlyAvailable": 2, "restoreRate": 1000}}}
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"ok": true}})))
        .expect(1)
        .mount(&server)
        .await;
    let data = client()
        .graphql(&shop(&server), "{ ok }", json!({}))
        .await
        .unwrap();
    assert_eq!(data["ok"], true);
}

#[tokio::test]
async fn retries_a_server_error_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"ok": 1}})))
        .mount(&server)
        .await;
    assert!(client()
        .graphql(&shop(&server), "{ ok }", json!({}))
        .await
        .is_ok());
}

#[tokio::test]
async fn gives_up_on_a_persistent_outage_with_a_transient_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;
    let err = client()
        .graphql(&shop(&server), "{ ok }", json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ApiError::Server {
            status: 502,
            attempts: 3
        }
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn times_out_a_silent_server() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(2))
                .set_body_json(json!({"data": {}})),
        )
        .mount(&server)
        .await;
    let err = client()
        .graphql(&shop(&server), "{ ok }", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err, ApiError::Timeout(3));
}

#[tokio::test]
async fn a_refused_token_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let err = client()
        .graphql(&shop(&server), "{ ok }", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err, ApiError::Unauthorized(401));
    assert!(!err.is_transient());
}

#[tokio::test]
async fn graphql_errors_are_rejections_not_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"errors": [{"message": "Field 'nope' doesn't exist on type 'QueryRoot'"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client()
        .graphql(&shop(&server), "{ nope }", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Rejected(m) if m.contains("nope")));
}

#[tokio::test]
async fn a_timeout_then_server_errors_leaves_the_outcome_unknown() {
    let server = MockServer::start().await;
    // The first attempt may have been carried out; the 503s after it say nothing about it.
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(2))
                .set_body_json(json!({"data": {}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let err = client()
        .graphql(&shop(&server), "{ ok }", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err, ApiError::Timeout(3));
    assert!(err.may_have_created());
}
