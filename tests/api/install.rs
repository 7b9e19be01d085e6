//! Installing on Shopify both ways against a local fake of Shopify's OAuth and Admin API
//! (wiremock, reached through `SHOPIFY_API_BASE`): the authorization-code grant with its
//! checks, token exchange, refresh of an expired token, uninstall and reinstall, `shop/update`,
//! and the history backfill.

use diesel::prelude::*;
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::config::{DEFAULT_SHOPIFY_SCOPES, DEMO_SHOPIFY_API_KEY};
use boomerang::crypto::{SealedField, SealedFor};
use boomerang::db::models::Shop;
use boomerang::db::types::{InstallState, Platform};
use boomerang::platform::shopify::oauth::sign_query;

use crate::helpers::{error_code, session_token, TestApp, SECRET};

const GRAPHQL: &str = "/admin/api/2025-10/graphql.json";
const TOKEN: &str = "/admin/oauth/access_token";

fn grant(access: &str, refresh: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access, "scope": DEFAULT_SHOPIFY_SCOPES, "expires_in": 3600,
        "refresh_token": refresh, "refresh_token_expires_in": 7_776_000,
    }))
}

/// Answers the shop settings query sent with `token`.
async fn mount_settings(server: &MockServer, token: &str, currency: &str, tz: &str) {
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("X-Shopify-Access-Token", token))
        .and(body_string_contains("ShopSettings"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"shop": {
            "currencyCode": currency, "ianaTimezone": tz,
            "primaryDomain": {"localization": {"defaultLocale": "de"}}}}})),
        )
        .mount(server)
        .await;
}

async fn spawn(server: &MockServer) -> TestApp {
    TestApp::spawn_with(&[("SHOPIFY_API_BASE", &server.uri())]).await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn shop(app: &TestApp, domain: &str) -> Option<Shop> {
    let domain = domain.to_owned();
    app.with_db(move |c| Shop::find_by_domain(c, Platform::Shopify, &domain).unwrap())
        .await
}

/// The shop's (access, refresh) tokens, unsealed.
async fn tokens(app: &TestApp, shop: &Shop) -> (Option<String>, Option<String>) {
    use boomerang::db::schema::shops;
    use secrecy::ExposeSecret;
    let id = shop.id.clone();
    let (access, refresh): (Option<String>, Option<String>) = app
        .with_db(move |c| {
            shops::table
                .find(&id)
                .select((shops::access_token_enc, shops::refresh_token_enc))
                .first(c)
                .unwrap()
        })
        .await;
    let open = |v: Option<String>, field| {
        v.map(|s| {
            let plain = app
                .keys
                .unseal(&s, SealedFor::new(&shop.id, field))
                .unwrap();
            assert!(!s.contains(plain.expose_secret()), "sealed at rest");
            plain.expose_secret().to_owned()
        })
    };
    (
        open(access, SealedField::AccessToken),
        open(refresh, SealedField::RefreshToken),
    )
}

/// `/auth` then Shopify's redirect back: returns (state, cookie) from `/auth`.
async fn begin(app: &TestApp, domain: &str) -> (String, String) {
    let resp = no_redirects()
        .get(app.url(&format!("/auth?shop={domain}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    assert_eq!(url.path(), "/admin/oauth/authorize");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], DEMO_SHOPIFY_API_KEY);
    assert_eq!(q["scope"], DEFAULT_SHOPIFY_SCOPES);
    assert_eq!(q["redirect_uri"], "http://localhost:8080/auth/callback");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let cookie = cookie.split(';').next().unwrap().to_owned();
    (q["state"].clone(), cookie)
}

fn signed_query(pairs: &[(&str, &str)], secret: &str) -> String {
    let mut owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let hmac = sign_query(&owned, secret);
    owned.push(("hmac".into(), hmac));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(owned)
        .finish()
}

async fn callback(app: &TestApp, query: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = no_redirects().get(app.url(&format!("/auth/callback?{query}")));
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

fn now_secs() -> String {
    chrono::Utc::now().timestamp().to_string()
}

#[tokio::test]
async fn the_authorization_code_grant_installs_with_sealed_expiring_tokens() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "grant.myshopify.com";
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains("expiring=1"))
        .respond_with(grant("shpat_1", "shprt_1"))
        .expect(1)
        .mount(&server)
        .await;
    mount_settings(&server, "shpat_1", "EUR", "Europe/Berlin").await;
    let (state, cookie) = begin(&app, SHOP).await;
    let ts = now_secs();
    let q = signed_query(
        &[
            ("code", "the-code"),
            ("host", "aG9zdA=="),
            ("shop", SHOP),
            ("state", &state),
            ("timestamp", &ts),
        ],
        SECRET,
    );
    let resp = callback(&app, &q, Some(&cookie)).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        resp.headers()["location"],
        format!("https://{SHOP}/admin/apps/{}", DEMO_SHOPIFY_API_KEY).as_str()
    );
    let shop = shop(&app, SHOP).await.expect("installed");
    assert_eq!(shop.install_state, InstallState::Installed);
    assert_eq!(
        (
            shop.currency.as_str(),
            shop.timezone.as_str(),
            shop.locale.as_str()
        ),
        ("EUR", "Europe/Berlin", "de")
    );
    assert_eq!(
        tokens(&app, &shop).await,
        (Some("shpat_1".into()), Some("shprt_1".into()))
    );
    let expires = shop.access_token_expires_at.unwrap() - boomerang::db::now();
    assert!(expires > chrono::Duration::minutes(55) && expires <= chrono::Duration::hours(1));
    let resp = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/shop")
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["timezone"],
        "Europe/Berlin"
    );
    // The history backfill was started with the install.
    let resp = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/backfill")
        .await;
    let status: Value = resp.json().await.unwrap();
    assert_eq!(
        (status["status"].as_str(), status["award_points"].as_bool()),
        (Some("running"), Some(false))
    );
}

#[tokio::test]
async fn forged_hmac_wrong_state_stale_and_foreign_domains_store_nothing() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "careful.myshopify.com";
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(grant("shpat_x", "shprt_x"))
        .expect(0)
        .mount(&server)
        .await;
    let resp = app.get("/auth?shop=shop.example.com").await;
    assert_eq!(resp.status(), 400);
    assert_eq!(app.get("/auth").await.status(), 400);
    let (state, cookie) = begin(&app, SHOP).await;
    let ts = now_secs();
    let pairs = |shop: &'static str, state: String, ts: String| {
        move |secret: &str| {
            signed_query(
                &[
                    ("code", "c"),
                    ("shop", shop),
                    ("state", &state),
                    ("timestamp", &ts),
                ],
                secret,
            )
        }
    };
    // Signed with another secret: 401, whatever else is right.
    let forged = pairs(SHOP, state.clone(), ts.clone())("not-the-app-secret");
    let resp = callback(&app, &forged, Some(&cookie)).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "invalid_signature");
    // A changed parameter after signing.
    let tampered = pairs(SHOP, state.clone(), ts.clone())(SECRET).replace("code=c", "code=d");
    assert_eq!(callback(&app, &tampered, Some(&cookie)).await.status(), 401);
    // Signed but older than 90 s.
    let old = (chrono::Utc::now().timestamp() - 600).to_string();
    assert_eq!(
        callback(
            &app,
            &pairs(SHOP, state.clone(), old)(SECRET),
            Some(&cookie)
        )
        .await
        .status(),
        401
    );
    // A state that is not this browser's, or no cookie at all: 403.
    let wrong = pairs(SHOP, "another-nonce".into(), ts.clone())(SECRET);
    let resp = callback(&app, &wrong, Some(&cookie)).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(error_code(resp).await, "forbidden");
    let good = pairs(SHOP, state.clone(), ts.clone())(SECRET);
    assert_eq!(callback(&app, &good, None).await.status(), 403);
    // The cookie of another shop's install does not complete this one.
    let (other_state, other_cookie) = begin(&app, "other.myshopify.com").await;
    let crossed = pairs(SHOP, other_state, ts.clone())(SECRET);
    assert_eq!(
        callback(&app, &crossed, Some(&other_cookie)).await.status(),
        403
    );
    // A signed callback for a domain that is not *.myshopify.com.
    let foreign = pairs("evil.example", state.clone(), ts.clone())(SECRET);
    let resp = callback(&app, &foreign, Some(&cookie)).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(error_code(resp).await, "bad_request");
    for domain in [SHOP, "other.myshopify.com", "evil.example"] {
        assert!(shop(&app, domain).await.is_none(), "{domain} stored");
    }
}

#[tokio::test]
async fn token_exchange_installs_once_and_refuses_bad_session_tokens() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "managed.myshopify.com";
    let session = session_token(SHOP);
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange",
        ))
        .and(body_string_contains(format!("subject_token={session}")))
        .and(body_string_contains("offline-access-token"))
        .and(body_string_contains("expiring=1"))
        .respond_with(grant("shpat_m", "shprt_m"))
        .expect(1)
        .mount(&server)
        .await;
    mount_settings(&server, "shpat_m", "EUR", "America/New_York").await;
    let exchange = |token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/auth/token-exchange"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let resp = exchange(session.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"shop": SHOP, "installed": true, "exchanged": true})
    );
    // Installed with a live token: nothing to exchange (the mock expects one call).
    let again: Value = exchange(session_token(SHOP)).await.json().await.unwrap();
    assert_eq!(again["exchanged"], false);
    let installed = shop(&app, SHOP).await.unwrap();
    assert_eq!(installed.timezone, "America/New_York");
    assert_eq!(tokens(&app, &installed).await.0.as_deref(), Some("shpat_m"));
    let forged = crate::helpers::session_token_with("thief.myshopify.com", "wrong", |_| {});
    assert_eq!(exchange(forged).await.status(), 401);
    assert!(shop(&app, "thief.myshopify.com").await.is_none());
}

/// Several first opens of the app at once (two admin tabs): every one is let in, one shop
/// row exists and one backfill starts. The row's unique domain decides the race; the losers
/// find the winner's row instead of failing.
#[tokio::test]
async fn simultaneous_first_installs_all_succeed_with_one_shop() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "two-tabs.myshopify.com";
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("token-exchange"))
        .respond_with(grant("shpat_t", "shprt_t"))
        .mount(&server)
        .await;
    mount_settings(&server, "shpat_t", "USD", "UTC").await;
    let opens = (0..6).map(|_| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/auth/token-exchange"))
                .bearer_auth(session_token(SHOP))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    for status in futures_util::future::join_all(opens).await {
        assert_eq!(status, 200);
    }
    let installed = shop(&app, SHOP).await.unwrap();
    let id = installed.id.clone();
    let (shops, backfills) = app
        .with_db(move |c| {
            use boomerang::db::schema::{history_backfills, shops};
            let shops: i64 = shops::table
                .filter(shops::domain.eq(SHOP))
                .count()
                .get_result(c)
                .unwrap();
            let backfills: i64 = history_backfills::table
                .filter(history_backfills::shop_id.eq(id))
                .count()
                .get_result(c)
                .unwrap();
            (shops, backfills)
        })
        .await;
    assert_eq!((shops, backfills), (1, 1));
}

/// Installs `domain` (a USD shop) by token exchange with tokens (`access`, `refresh`).
pub async fn install_by_exchange(
    app: &TestApp,
    server: &MockServer,
    domain: &str,
    access: &str,
    refresh: &str,
) -> Shop {
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("token-exchange"))
        .respond_with(grant(access, refresh))
        .up_to_n_times(1)
        .mount(server)
        .await;
    mount_settings(server, access, "USD", "UTC").await;
    let resp = app
        .client
        .post(app.url("/auth/token-exchange"))
        .bearer_auth(session_token(domain))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    shop(app, domain).await.unwrap()
}

mod lifecycle;

#[test]
fn the_app_toml_declares_every_topic_the_scopes_and_the_urls() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/app-extension/shopify.app.toml"
    );
    let toml = std::fs::read_to_string(path).unwrap();
    for topic in boomerang::platform::shopify::webhook::TOPICS {
        assert!(
            toml.contains(&format!("\"{topic}\"")),
            "{topic} not subscribed"
        );
    }
    assert!(toml.contains(&format!("scopes = \"{DEFAULT_SHOPIFY_SCOPES}\"")));
    for line in [
        "embedded = true",
        "application_url = \"https://boomerang.fly.dev/app\"",
        "redirect_urls = [\"https://boomerang.fly.dev/auth/callback\"]",
        "compliance_topics = [\"customers/data_request\", \"customers/redact\", \"shop/redact\"]",
        "[app_proxy]",
    ] {
        assert!(toml.contains(line), "{line}");
    }
}
