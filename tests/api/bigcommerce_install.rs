//! The BigCommerce app's install, load, uninstall and remove-user callbacks through the real
//! HTTP app, against a fake login service and store API (`fake.rs`); `boomerang shop add
//! --platform bigcommerce` in `cli.rs`; each signed payload used once, and the client-secret
//! rotation, in `replay.rs`.

mod callbacks;
mod cli;
mod fake;
mod load_hooks;
mod replay;

use secrecy::ExposeSecret;
use serde_json::Value;

use boomerang::crypto::{SealedField, SealedFor};
use boomerang::db::models::Shop;
use boomerang::db::types::{InstallState, Platform};

use crate::helpers::TestApp;
use fake::{CLIENT_ID, CLIENT_SECRET, DOMAIN, GOOD_CODE, HASH};

/// The app's Auth Callback URL under the default `PUBLIC_URL`.
const REDIRECT_URI: &str = "http://localhost:8080/auth/bigcommerce/install";

/// An app serving the BigCommerce app, its login and API at `fake`.
async fn spawn(fake: &str) -> TestApp {
    TestApp::spawn_with(&[
        ("BIGCOMMERCE_CLIENT_ID", CLIENT_ID),
        ("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET),
        ("BIGCOMMERCE_LOGIN_BASE", fake),
        ("BIGCOMMERCE_API_BASE", fake),
    ])
    .await
}

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    browser().get(app.url(path)).send().await.unwrap()
}

fn install_path(code: &str) -> String {
    format!("/auth/bigcommerce/install?code={code}&scope=store_v2_orders+store_v2_information&context=stores%2F{HASH}")
}

/// The session cookie a redirect into the admin sets (`name=value`), checked to be the kind
/// a control panel's frame keeps.
fn session_cookie(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), 302, "into the admin");
    assert_eq!(resp.headers()["location"], "/app");
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("bmr_admin="), "{set}");
    assert!(
        set.contains("SameSite=None") && set.contains("Partitioned"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

/// `GET /app` with a session cookie.
async fn admin_page(app: &TestApp, cookie: &str) -> reqwest::Response {
    browser()
        .get(app.url("/app"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

async fn installs(app: &TestApp) -> String {
    let resp = get(app, &install_path(GOOD_CODE)).await;
    session_cookie(&resp)
}

/// The BigCommerce shops stored.
async fn bc_shops(app: &TestApp) -> Vec<Shop> {
    app.with_db(|c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        shops::table
            .filter(shops::platform.eq(Platform::BigCommerce.as_str()))
            .select(Shop::as_select())
            .load(c)
            .unwrap()
    })
    .await
}

async fn the_shop(app: &TestApp) -> Shop {
    let mut shops = bc_shops(app).await;
    assert_eq!(shops.len(), 1, "one BigCommerce shop");
    shops.remove(0)
}

/// The shop's sealed secret, opened.
fn unseal(app: &TestApp, shop: &Shop, sealed: Option<&str>, field: SealedField) -> String {
    app.keys
        .unseal(sealed.expect("sealed"), SealedFor::new(&shop.id, field))
        .unwrap()
        .expose_secret()
        .to_owned()
}

/// The hooks point at the shop's delivery URL with its current secret, one per scope.
fn assert_hooks(hooks: &[Value], secret: &str) {
    assert_eq!(hooks.len(), 5, "{hooks:?}");
    let mut scopes: Vec<&str> = hooks.iter().map(|h| h["scope"].as_str().unwrap()).collect();
    scopes.sort();
    assert_eq!(
        scopes,
        [
            "store/app/uninstalled",
            "store/order/created",
            "store/order/refund/created",
            "store/order/statusUpdated",
            "store/order/updated",
        ]
    );
    for hook in hooks {
        assert_eq!(
            hook["destination"],
            format!("http://localhost:8080/webhooks/bigcommerce/{DOMAIN}")
        );
        assert_eq!(hook["is_active"], true);
        assert_eq!(hook["headers"]["X-Boomerang-Webhook-Secret"], secret);
    }
}

#[tokio::test]
async fn install_creates_the_shop_registers_its_hooks_and_signs_the_owner_in() {
    let (fake, hooks) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    let cookie = installs(&app).await;

    let shop = the_shop(&app).await;
    assert_eq!(shop.domain, DOMAIN);
    assert_eq!(shop.install_state, InstallState::Installed);
    assert_eq!(
        (
            shop.currency.as_str(),
            shop.timezone.as_str(),
            shop.locale.as_str()
        ),
        ("EUR", "Europe/Berlin", "de")
    );
    let token = unseal(
        &app,
        &shop,
        shop.access_token_enc.as_deref(),
        SealedField::AccessToken,
    );
    assert_eq!(token, fake::TOKEN);
    let secret = unseal(
        &app,
        &shop,
        shop.webhook_secret_enc.as_deref(),
        SealedField::WebhookSecret,
    );
    assert!(secret.len() >= 32, "a random secret");
    assert_hooks(&hooks.all(), &secret);

    let page = admin_page(&app, &cookie).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        csp,
        format!("frame-ancestors https://{DOMAIN}.mybigcommerce.com")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(DOMAIN));
    assert!(
        !html.contains("app-bridge.js"),
        "Shopify's App Bridge is for Shopify's admin only"
    );
}

#[tokio::test]
async fn a_reinstall_keeps_the_shop_and_its_members_and_updates_its_hooks_in_place() {
    let (fake, hooks) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let first = the_shop(&app).await;
    let shop_id = first.id.clone();
    app.with_db(move |c| {
        crate::helpers::insert_member(c, &shop_id, Some("11"), Some("shopper@example.com"));
    })
    .await;
    let first_hook_ids: Vec<Value> = hooks.all().iter().map(|h| h["id"].clone()).collect();
    let uninstall = get(
        &app,
        &format!(
            "/auth/bigcommerce/uninstall?signed_payload_jwt={}",
            fake::signed_payload(HASH, CLIENT_SECRET, |_| {})
        ),
    )
    .await;
    assert_eq!(uninstall.status(), 200);

    installs(&app).await;
    let again = the_shop(&app).await;
    assert_eq!(again.id, first.id, "the same shop");
    assert_eq!(again.install_state, InstallState::Installed);
    assert_eq!(again.uninstalled_at, None);
    let id = again.id.clone();
    let members: i64 = app
        .with_db(move |c| {
            use boomerang::db::schema::members;
            use diesel::prelude::*;
            members::table
                .filter(members::shop_id.eq(id))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(members, 1, "members kept");
    let secret = unseal(
        &app,
        &again,
        again.webhook_secret_enc.as_deref(),
        SealedField::WebhookSecret,
    );
    let first_secret = unseal(
        &app,
        &first,
        first.webhook_secret_enc.as_deref(),
        SealedField::WebhookSecret,
    );
    assert_ne!(secret, first_secret, "a fresh secret");
    let now = hooks.all();
    assert_hooks(&now, &secret);
    let ids: Vec<Value> = now.iter().map(|h| h["id"].clone()).collect();
    assert_eq!(ids, first_hook_ids, "updated in place, none stacked");
}

#[tokio::test]
async fn duplicate_hooks_of_the_app_are_removed_and_other_hooks_kept() {
    let (fake, hooks) = fake::bigcommerce(REDIRECT_URI).await;
    {
        let mut kept = hooks.0.lock().unwrap();
        let old = format!("https://old.example/webhooks/bigcommerce/{DOMAIN}");
        kept.push(serde_json::json!({"id": 1, "scope": "store/order/created", "destination": old, "is_active": false, "headers": {}}));
        kept.push(serde_json::json!({"id": 2, "scope": "store/order/created", "destination": old, "is_active": true, "headers": {}}));
        kept.push(serde_json::json!({"id": 3, "scope": "store/order/created", "destination": "https://other-app.example/in", "is_active": true}));
    }
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let all = hooks.all();
    let other: Vec<&Value> = all.iter().filter(|h| h["id"] == 3).collect();
    assert_eq!(other.len(), 1, "another app's hook is left alone");
    let ours: Vec<Value> = all.into_iter().filter(|h| h["id"] != 3).collect();
    let shop = the_shop(&app).await;
    let secret = unseal(
        &app,
        &shop,
        shop.webhook_secret_enc.as_deref(),
        SealedField::WebhookSecret,
    );
    assert_hooks(&ours, &secret);
    assert!(
        ours.iter().any(|h| h["id"] == 1),
        "the first of ours updated in place"
    );
    assert!(!ours.iter().any(|h| h["id"] == 2), "its duplicate deleted");
}
