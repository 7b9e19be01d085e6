//! The owner's admin UI over HTTP, both backends: a one-time link signs in (a GET never spends
//! it), the cookie is HttpOnly and SameSite=Strict, forms without the session's CSRF token (or
//! from another site) are refused and change nothing, an adjustment with a bad value is shown
//! next to its field, pages never show another shop's customers, signing out ends the session.

use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::helpers::{session_token, TestApp};

const SHOP: &str = "admin-ui.myshopify.com";
const OTHER: &str = "admin-ui-other.myshopify.com";

/// A link's token for `shop`, as `boomerang shop login-link` makes it.
pub(crate) async fn login_token(app: &TestApp, shop_id: &str) -> String {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        boomerang::services::admin_sessions::create_link(c, &shop_id, boomerang::db::now()).unwrap()
    })
    .await
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Signs in with a fresh link; returns the `Cookie` header value and the page's CSRF token.
pub(crate) async fn sign_in(app: &TestApp, shop_id: &str) -> (String, String) {
    let token = login_token(app, shop_id).await;
    let resp = client()
        .post(app.url("/app/login"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/app"] {
        assert!(set.contains(attribute), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = get(app, &cookie, "/app").await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned();
    (cookie, csrf)
}

pub(crate) async fn get(app: &TestApp, cookie: &str, path: &str) -> String {
    let resp = client()
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

pub(crate) async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(app.url(path))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let (shop_id, _) = app
        .add_shop_with_member(SHOP, "7001", "ada@example.com")
        .await;
    app.add_shop_with_member(OTHER, "9001", "other@example.com")
        .await;
    (app, shop_id)
}

#[tokio::test]
async fn a_link_signs_in_once_and_a_get_never_spends_it() {
    let (app, shop_id) = setup().await;
    let unsigned = client().get(app.url("/app")).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    // The sign-in prompt shows nothing of a shop: Shopify's admin and BigCommerce's control
    // panels may frame it (an expired session inside them reads what to do), nobody else.
    assert_eq!(
        unsigned.headers()["content-security-policy"],
        "frame-ancestors https://admin.shopify.com https://*.myshopify.com https://*.mybigcommerce.com"
    );
    assert!(unsigned.text().await.unwrap().contains("login-link"));

    let token = login_token(&app, &shop_id).await;
    for _ in 0..2 {
        let page = client()
            .get(app.url(&format!("/app/login?token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        assert_eq!(
            page.headers()["content-security-policy"],
            "frame-ancestors 'none'"
        );
    }
    let first = client()
        .post(app.url("/app/login"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    // A link's session is for a browser tab of its own: no site may frame it, no App Bridge.
    let cookie = first.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let overview = client()
        .get(app.url("/app"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        overview.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    assert!(!overview.text().await.unwrap().contains("app-bridge.js"));
    let again = client()
        .post(app.url("/app/login"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.text().await.unwrap().contains("used already"));
    let forged = client()
        .post(app.url("/app/login"))
        .form(&[("token", "not-a-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // A session cookie is no admin API credential, and an API token is no page session.
    let api = client()
        .get(app.url("/app"))
        .bearer_auth(session_token(SHOP))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forms_need_the_sessions_csrf_token_and_bad_values_show_next_to_the_field() {
    let (app, shop_id) = setup().await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let path = "/app/customers/7001/adjustments";

    let forged = post(
        &app,
        &cookie,
        path,
        &[
            ("csrf", "guess"),
            ("points", "50"),
            ("reason", "x"),
            ("key", "k1"),
        ],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross_site = client()
        .post(app.url(path))
        .header("Cookie", &cookie)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[
            ("csrf", csrf.as_str()),
            ("points", "50"),
            ("reason", "x"),
            ("key", "k2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.customer(SHOP, "7001").await["points_balance"], 0);

    let bad = post(
        &app,
        &cookie,
        path,
        &[
            ("csrf", &csrf),
            ("points", "ten"),
            ("reason", "gift"),
            ("key", "k3"),
        ],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.unwrap();
    assert!(page.contains("id=\"points-error\""), "{page}");
    assert!(page.contains("aria-invalid=\"true\""));
    let short = post(
        &app,
        &cookie,
        path,
        &[
            ("csrf", &csrf),
            ("points", "-5"),
            ("reason", "oops"),
            ("key", "k4"),
        ],
    )
    .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let no_reason = post(
        &app,
        &cookie,
        path,
        &[
            ("csrf", &csrf),
            ("points", "5"),
            ("reason", " "),
            ("key", "k5"),
        ],
    )
    .await;
    assert!(no_reason
        .text()
        .await
        .unwrap()
        .contains("id=\"reason-error\""));
    assert_eq!(app.customer(SHOP, "7001").await["points_balance"], 0);

    // A good one, sent twice (a double click): applied once.
    for _ in 0..2 {
        let ok = post(
            &app,
            &cookie,
            path,
            &[
                ("csrf", &csrf),
                ("points", "50"),
                ("reason", "welcome gift"),
                ("key", "k6"),
            ],
        )
        .await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        assert_eq!(ok.headers()["location"], "/app/customers/7001?adjusted=1");
    }
    assert_eq!(app.customer(SHOP, "7001").await["points_balance"], 50);
    let profile = get(&app, &cookie, "/app/customers/7001?adjusted=1").await;
    assert!(profile.contains("welcome gift"));

    // Signing out ends the session for good.
    let out = post(&app, &cookie, "/app/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = client()
        .get(app.url("/app"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_show_only_the_signed_in_shops_customers() {
    let (app, shop_id) = setup().await;
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let list = get(&app, &cookie, "/app/customers").await;
    assert!(list.contains("ada@example.com"));
    assert!(!list.contains("other@example.com"));
    let other = client()
        .get(app.url("/app/customers/9001"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let csv = get(&app, &cookie, "/app/export/customers.csv").await;
    assert!(csv.contains("ada@example.com") && !csv.contains("other@example.com"));
}

#[tokio::test]
async fn inside_shopify_admin_a_session_token_opens_a_framed_session() {
    let app = TestApp::spawn().await;
    // A shop with a (non-expiring) Admin API token: installed, nothing to exchange.
    app.add_api_shop(SHOP, "http://127.0.0.1:9", crate::helpers::TEST_APP_SECRET)
        .await;
    let token = session_token(SHOP);
    let resp = client()
        .get(app.url(&format!("/app?shop={SHOP}&host=abc&id_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Partitioned",
        "Path=/app",
    ] {
        assert!(set.contains(attribute), "{set}");
    }
    // Only this shop's admin may frame it, and the page loads App Bridge with the app's key.
    let framed_by_shop = format!("frame-ancestors https://{SHOP} https://admin.shopify.com");
    assert_eq!(
        resp.headers()["content-security-policy"],
        framed_by_shop.as_str()
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = resp.text().await.unwrap();
    assert!(page.contains("https://cdn.shopify.com/shopifycloud/app-bridge.js"));
    assert!(page.contains("<ui-nav-menu>"));
    assert!(
        !page.contains(r#"name="shopify-api-key" content="""#),
        "no empty api key"
    );
    let list = client()
        .get(app.url("/app/customers"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        list.headers()["content-security-policy"],
        framed_by_shop.as_str()
    );
    let list = list.text().await.unwrap();
    assert!(list.contains(SHOP) && list.contains("<ui-nav-menu>"));

    let forged = client()
        .get(app.url(&format!("/app?shop={SHOP}&id_token=not.a.token")))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(forged.headers().get("set-cookie").is_none());
}
