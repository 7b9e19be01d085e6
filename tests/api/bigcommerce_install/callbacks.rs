//! What the callbacks refuse, and the load, uninstall and remove-user callbacks of an
//! installed store.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use boomerang::db::types::InstallState;

use super::fake::{self, signed_payload, CLIENT_SECRET, HASH};
use super::{
    admin_page, bc_shops, get, install_path, installs, session_cookie, spawn, the_shop,
    REDIRECT_URI,
};
use crate::helpers::{error_code, TestApp};

fn load_path(token: &str) -> String {
    format!("/auth/bigcommerce/load?signed_payload_jwt={token}")
}

#[tokio::test]
async fn a_refused_code_bad_parameters_or_an_unconfigured_app_store_nothing() {
    let (fake, hooks) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    let refused = get(&app, &install_path("used-code")).await;
    assert_eq!(refused.status(), 502);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "platform_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Invalid code") && message.contains("install the app again"),
        "{message}"
    );

    for path in [
        "/auth/bigcommerce/install".to_owned(),
        format!("/auth/bigcommerce/install?code={}&scope=x", fake::GOOD_CODE),
        format!("/auth/bigcommerce/install?code=&scope=x&context=stores%2F{HASH}"),
        format!(
            "/auth/bigcommerce/install?code={}&scope=x&context=stores%2F..%2Fx",
            fake::GOOD_CODE
        ),
        format!(
            "/auth/bigcommerce/install?code={}&scope=x&context=store-abc",
            fake::GOOD_CODE
        ),
    ] {
        let resp = get(&app, &path).await;
        assert_eq!(resp.status(), 400, "{path}");
        assert_eq!(error_code(resp).await, "bad_request");
    }
    assert!(bc_shops(&app).await.is_empty());
    assert!(hooks.all().is_empty());

    let unconfigured = TestApp::spawn_with(&[
        ("BIGCOMMERCE_LOGIN_BASE", &fake.uri()),
        ("BIGCOMMERCE_API_BASE", &fake.uri()),
    ])
    .await;
    let resp = get(&unconfigured, &install_path(fake::GOOD_CODE)).await;
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("BIGCOMMERCE_CLIENT_ID"));
    assert!(bc_shops(&unconfigured).await.is_empty());
    let load = get(
        &unconfigured,
        &load_path(&signed_payload(HASH, CLIENT_SECRET, |_| {})),
    )
    .await;
    assert_eq!(load.status(), 503);
}

#[tokio::test]
async fn a_refusal_of_the_hooks_is_surfaced_and_the_owner_can_still_open_the_app() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    Mock::given(method("POST"))
        .and(path(format!("/stores/{HASH}/v3/hooks")))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "status": 422, "title": "JSON data is missing or invalid",
            "errors": {"destination": "must be https on port 443"},
        })))
        .with_priority(1)
        .mount(&fake)
        .await;
    let app = spawn(&fake.uri()).await;
    let resp = get(&app, &install_path(fake::GOOD_CODE)).await;
    assert_eq!(resp.status(), 502);
    let body: serde_json::Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("must be https on port 443") && message.contains("PUBLIC_URL"),
        "{message}"
    );
    // The token works: the shop is installed and the owner gets in from the control panel.
    assert_eq!(the_shop(&app).await.install_state, InstallState::Installed);
    let load = get(
        &app,
        &load_path(&signed_payload(HASH, CLIENT_SECRET, |_| {})),
    )
    .await;
    session_cookie(&load);
}

#[tokio::test]
async fn load_signs_in_with_bigcommerces_payload_only() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    let unknown = get(
        &app,
        &load_path(&signed_payload(HASH, CLIENT_SECRET, |_| {})),
    )
    .await;
    assert_eq!(unknown.status(), 401, "a store that never installed");
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("has not installed this app"));

    installs(&app).await;
    let good = get(
        &app,
        &load_path(&signed_payload(HASH, CLIENT_SECRET, |_| {})),
    )
    .await;
    let cookie = session_cookie(&good);
    assert_eq!(admin_page(&app, &cookie).await.status(), 200);

    let now = chrono::Utc::now().timestamp();
    let refused = [
        ("forged", signed_payload(HASH, "not-the-secret", |_| {})),
        (
            "expired",
            signed_payload(HASH, CLIENT_SECRET, |c| {
                c["iat"] = json!(now - 90_000);
                c["nbf"] = json!(now - 90_000);
                c["exp"] = json!(now - 3_600);
            }),
        ),
        (
            "another app",
            signed_payload(HASH, CLIENT_SECRET, |c| c["aud"] = json!("another-client")),
        ),
        (
            "another issuer",
            signed_payload(HASH, CLIENT_SECRET, |c| c["iss"] = json!("evil")),
        ),
        (
            "another store",
            signed_payload("zzz999", CLIENT_SECRET, |_| {}),
        ),
        (
            "not a store",
            signed_payload(HASH, CLIENT_SECRET, |c| c["sub"] = json!("users/1")),
        ),
        ("garbage", "not.a.jwt".to_owned()),
        ("empty", String::new()),
    ];
    for (why, token) in refused {
        let resp = get(&app, &load_path(&token)).await;
        assert_eq!(resp.status(), 401, "{why}");
        assert!(resp.headers().get("set-cookie").is_none(), "{why}");
        assert_eq!(error_code(resp).await, "unauthorized", "{why}");
    }
    let missing = get(&app, "/auth/bigcommerce/load").await;
    assert_eq!(missing.status(), 401);
}

#[tokio::test]
async fn uninstall_marks_the_shop_uninstalled_once_and_closes_its_admin() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    let cookie = installs(&app).await;

    let forged = get(
        &app,
        &format!(
            "/auth/bigcommerce/uninstall?signed_payload_jwt={}",
            signed_payload(HASH, "forged", |_| {})
        ),
    )
    .await;
    assert_eq!(forged.status(), 401);
    assert_eq!(the_shop(&app).await.install_state, InstallState::Installed);

    let token = signed_payload(HASH, CLIENT_SECRET, |_| {});
    let path = format!("/auth/bigcommerce/uninstall?signed_payload_jwt={token}");
    let first = get(&app, &path).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.json::<serde_json::Value>().await.unwrap()["status"],
        "uninstalled"
    );
    let shop = the_shop(&app).await;
    assert_eq!(shop.install_state, InstallState::Uninstalled);
    assert!(shop.uninstalled_at.is_some());
    assert_eq!(shop.access_token_enc, None, "the dead token is dropped");

    // BigCommerce calling again (with a payload of its own: each is good once).
    let again = get(
        &app,
        &format!(
            "/auth/bigcommerce/uninstall?signed_payload_jwt={}",
            signed_payload(HASH, CLIENT_SECRET, |_| {})
        ),
    )
    .await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["status"],
        "not_installed"
    );
    assert_eq!(
        admin_page(&app, &cookie).await.status(),
        401,
        "the session ended with the install"
    );
    let load = get(
        &app,
        &load_path(&signed_payload(HASH, CLIENT_SECRET, |_| {})),
    )
    .await;
    assert_eq!(load.status(), 401, "the store has uninstalled the app");
}

#[tokio::test]
async fn remove_user_is_verified_and_changes_nothing() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let before = the_shop(&app).await;
    let good = get(
        &app,
        &format!(
            "/auth/bigcommerce/remove_user?signed_payload_jwt={}",
            signed_payload(HASH, CLIENT_SECRET, |_| {})
        ),
    )
    .await;
    assert_eq!(good.status(), 200);
    assert_eq!(
        good.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let forged = get(
        &app,
        &format!(
            "/auth/bigcommerce/remove_user?signed_payload_jwt={}",
            signed_payload(HASH, "forged", |_| {})
        ),
    )
    .await;
    assert_eq!(forged.status(), 401);
    let after = the_shop(&app).await;
    assert_eq!(after.updated_at, before.updated_at);
    assert_eq!(after.install_state, InstallState::Installed);
}
