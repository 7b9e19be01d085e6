//! The program editor of the owner's admin UI (`/app/program`), both backends: every section is
//! on the page and a change is stored exactly as the admin API stores it (`editor.rs`); a bad
//! value (text in a number field, broken JSON, a value the program refuses) comes back as 422
//! with the message next to its field and the owner's input kept, a post without the session's
//! CSRF token changes nothing, and a session of one shop never changes another
//! (`refusals.rs`); rows added, changed and removed, and the messages in Arabic (`rows.rs`).

mod editor;
mod refusals;
mod rows;

use reqwest::StatusCode;
use serde_json::Value;

use crate::admin_ui::client;
use crate::helpers::{session_token, TestApp};

const SHOP: &str = "admin-program.myshopify.com";
const OTHER: &str = "admin-program-other.myshopify.com";

/// Posts the editor's `form` (pairs of field name and value) as the signed-in owner.
async fn save(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    post_form(app, cookie, form).await
}

/// As [`save`], for a form built at run time.
async fn save_all(app: &TestApp, cookie: &str, form: &[(String, String)]) -> reqwest::Response {
    post_form(app, cookie, form).await
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    form: &(impl serde::Serialize + ?Sized),
) -> reqwest::Response {
    client()
        .post(app.url("/app/program"))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The shop's program as the admin API reads it.
async fn program(app: &TestApp, shop: &str) -> Value {
    let resp = app
        .admin_get(&session_token(shop), "/api/admin/v1/program")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Two shops, each with a member; returns the app and both shops' ids.
async fn setup() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let (shop_id, _) = app
        .add_shop_with_member(SHOP, "7001", "ada@example.com")
        .await;
    let (other_id, _) = app
        .add_shop_with_member(OTHER, "9001", "other@example.com")
        .await;
    (app, shop_id, other_id)
}

/// A refused post: 422, the message next to `id`'s field (linked from the summary), the field
/// marked invalid; returns the page.
async fn refused(resp: reqwest::Response, id: &str) -> String {
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = resp.text().await.unwrap();
    assert!(page.contains(&format!("id=\"{id}-error\"")), "{id}: {page}");
    assert!(page.contains(&format!("href=\"#{id}\"")), "{id}: summary");
    let field = page
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap_or_default();
    assert!(field.contains("aria-invalid=\"true\""), "{id}: {field}");
    assert!(
        field.contains(&format!("aria-describedby=\"{id}-error\""))
            || field.contains(&format!("{id}-error\"")),
        "{id}: {field}"
    );
    page
}

/// The text of the message shown for field `id`.
fn message(page: &str, id: &str) -> String {
    page.split(&format!("id=\"{id}-error\""))
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .to_owned()
}
