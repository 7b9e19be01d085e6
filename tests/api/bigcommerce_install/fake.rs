//! A fake BigCommerce: the login service's token exchange and a store's REST API (`v2/store`
//! and `v3/hooks`, which keeps the hooks it is given, so a reinstall sees the first one's).

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const CLIENT_ID: &str = "bc-client-id";
pub const CLIENT_SECRET: &str = "bc-client-secret";
pub const HASH: &str = "abc123";
pub const DOMAIN: &str = "store-abc123";
pub const TOKEN: &str = "bc-access-token";
pub const GOOD_CODE: &str = "good-code";

/// The store's hooks, as the fake API keeps them.
#[derive(Clone, Default)]
pub struct Hooks(pub Arc<Mutex<Vec<Value>>>);

impl Hooks {
    pub fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }
}

impl Respond for Hooks {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let token = request
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok());
        if token != Some(TOKEN) {
            return ResponseTemplate::new(401).set_body_json(json!({"status": 401, "title": "no"}));
        }
        let mut hooks = self.0.lock().unwrap();
        let id = request
            .url
            .path_segments()
            .and_then(|mut s| s.nth(4))
            .and_then(|id| id.parse::<i64>().ok());
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match (request.method.as_str(), id) {
            ("GET", None) => ResponseTemplate::new(200).set_body_json(json!({
                "data": *hooks,
                "meta": {"pagination": {"total": hooks.len(), "total_pages": 1, "current_page": 1}},
            })),
            ("GET", Some(id)) => match hooks.iter().find(|h| h["id"] == id) {
                Some(h) => ResponseTemplate::new(200).set_body_json(json!({"data": h})),
                None => ResponseTemplate::new(404)
                    .set_body_json(json!({"status": 404, "title": "not found"})),
            },
            ("POST", None) => {
                let id = hooks
                    .iter()
                    .filter_map(|h| h["id"].as_i64())
                    .max()
                    .unwrap_or(100)
                    + 1;
                let mut hook = body;
                hook["id"] = json!(id);
                hooks.push(hook.clone());
                ResponseTemplate::new(200).set_body_json(json!({"data": hook}))
            }
            ("PUT", Some(id)) => match hooks.iter_mut().find(|h| h["id"] == id) {
                Some(h) => {
                    let mut hook = body;
                    hook["id"] = json!(id);
                    *h = hook.clone();
                    ResponseTemplate::new(200).set_body_json(json!({"data": hook}))
                }
                None => ResponseTemplate::new(404)
                    .set_body_json(json!({"status": 404, "title": "not found"})),
            },
            ("DELETE", Some(id)) => {
                hooks.retain(|h| h["id"] != id);
                ResponseTemplate::new(204)
            }
            _ => ResponseTemplate::new(405),
        }
    }
}

/// A running fake with the token exchange (for [`GOOD_CODE`] and `stores/{HASH}`; any other
/// code is refused as BigCommerce does), the store's settings and its hooks.
pub async fn bigcommerce(redirect_uri: &str) -> (MockServer, Hooks) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(body_partial_json(json!({
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": GOOD_CODE,
            "context": format!("stores/{HASH}"),
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN,
            "scope": "store_v2_orders store_v2_information",
            "user": {"id": 24654, "username": "Owner", "email": "owner@shop.example"},
            "owner": {"id": 24654, "username": "Owner", "email": "owner@shop.example"},
            "context": format!("stores/{HASH}"),
            "account_uuid": "6f2d5c4e-0000-4000-8000-000000000001",
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "Invalid code"})))
        .with_priority(5)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{HASH}/v2/store")))
        .and(header("x-auth-token", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": HASH, "name": "Test Store", "currency": "EUR", "language": "de",
            "timezone": {"name": "Europe/Berlin", "raw_offset": 3600, "dst_offset": 7200},
            "control_panel_base_url": format!("https://store-{HASH}.mybigcommerce.com"),
        })))
        .mount(&server)
        .await;
    let hooks = Hooks::default();
    Mock::given(path_regex(format!("^/stores/{HASH}/v3/hooks")))
        .respond_with(hooks.clone())
        .mount(&server)
        .await;
    (server, hooks)
}

/// A `signed_payload_jwt` for `stores/{hash}`, signed with `secret`; `tweak` edits the claims.
pub fn signed_payload(hash: &str, secret: &str, tweak: impl FnOnce(&mut Value)) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "aud": CLIENT_ID, "iss": "bc", "iat": now, "nbf": now - 5, "exp": now + 86_400,
        "jti": uuid::Uuid::new_v4().to_string(), "sub": format!("stores/{hash}"),
        "user": {"id": 24654, "email": "owner@shop.example", "locale": "en-US"},
        "owner": {"id": 24654, "email": "owner@shop.example"},
        "url": "/", "channel_id": null,
    });
    tweak(&mut claims);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}
