//! Each `signed_payload_jwt` is good once: a replayed load, uninstall or remove-user payload is
//! refused and changes nothing, one without a `jti` is refused, a `jti` is per store, two uses
//! at once let exactly one through, and the retention job forgets expired uses. Also the
//! client-secret rotation on these callbacks (`BIGCOMMERCE_CLIENT_SECRET_PREVIOUS`).

use chrono::Duration;
use diesel::prelude::*;
use futures_util::future::join_all;
use serde_json::{json, Value};

use boomerang::db::schema::{admin_sessions, bigcommerce_used_payloads as used};
use boomerang::db::types::InstallState;
use boomerang::platform::bigcommerce::oauth::BcUser;
use boomerang::platform::bigcommerce::signed_payload::SignedPayload;
use boomerang::services::install::bigcommerce::used_payloads;

use super::fake::{self, signed_payload, CLIENT_ID, CLIENT_SECRET, HASH};
use super::{get, installs, session_cookie, spawn, the_shop, REDIRECT_URI};
use crate::helpers::TestApp;

const OLD_SECRET: &str = "bc-client-secret-before-rotation";

fn callback(name: &str, token: &str) -> String {
    format!("/auth/bigcommerce/{name}?signed_payload_jwt={token}")
}

async fn sessions(app: &TestApp) -> i64 {
    app.with_db(|c| admin_sessions::table.count().get_result(c).unwrap())
        .await
}

async fn used_rows(app: &TestApp) -> Vec<(String, String)> {
    app.with_db(|c| {
        used::table
            .select((used::store_hash, used::jti))
            .order((used::store_hash, used::jti))
            .load(c)
            .unwrap()
    })
    .await
}

/// A refusal: 401 `unauthorized`, no cookie, a message that says what to do.
async fn assert_refused(resp: reqwest::Response, says: &str) {
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().get("set-cookie").is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{message}");
}

fn with_jti(jti: &'static str) -> impl FnOnce(&mut Value) {
    move |c| c["jti"] = json!(jti)
}

#[tokio::test]
async fn a_load_url_signs_in_once() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let token = signed_payload(HASH, CLIENT_SECRET, |_| {});
    session_cookie(&get(&app, &callback("load", &token)).await);
    let before = sessions(&app).await;

    let again = get(&app, &callback("load", &token)).await;
    assert_refused(again, "already used").await;
    assert_eq!(sessions(&app).await, before, "no session for a replay");

    // The owner opening the app again gets a fresh payload, which works.
    let fresh = signed_payload(HASH, CLIENT_SECRET, |_| {});
    session_cookie(&get(&app, &callback("load", &fresh)).await);
}

#[tokio::test]
async fn a_payload_without_a_jti_is_refused() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let without = signed_payload(HASH, CLIENT_SECRET, |c| {
        c.as_object_mut().unwrap().remove("jti");
    });
    assert_refused(get(&app, &callback("load", &without)).await, "jti").await;
    let empty = signed_payload(HASH, CLIENT_SECRET, with_jti(""));
    assert_refused(get(&app, &callback("uninstall", &empty)).await, "jti").await;
    assert_eq!(the_shop(&app).await.install_state, InstallState::Installed);
    assert!(used_rows(&app).await.is_empty());
}

#[tokio::test]
async fn replayed_uninstall_and_remove_user_payloads_change_nothing() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let removal = signed_payload(HASH, CLIENT_SECRET, |_| {});
    assert_eq!(
        get(&app, &callback("remove_user", &removal)).await.status(),
        200
    );
    assert_refused(
        get(&app, &callback("remove_user", &removal)).await,
        "already used",
    )
    .await;
    // One use, whichever callback: a remove-user payload cannot open the admin afterwards.
    assert_refused(get(&app, &callback("load", &removal)).await, "already used").await;

    let uninstall = signed_payload(HASH, CLIENT_SECRET, |_| {});
    assert_eq!(
        get(&app, &callback("uninstall", &uninstall)).await.status(),
        200
    );
    // Reinstalled: a replay of the old uninstall must not remove the app again.
    installs(&app).await;
    assert_refused(
        get(&app, &callback("uninstall", &uninstall)).await,
        "already used",
    )
    .await;
    assert_eq!(the_shop(&app).await.install_state, InstallState::Installed);
}

#[tokio::test]
async fn a_jti_is_per_store() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    // Another store (not installed here) spends "shared" on its uninstall callback.
    let other = signed_payload("zzz999", CLIENT_SECRET, with_jti("shared"));
    let resp = get(&app, &callback("uninstall", &other)).await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["status"],
        "not_installed"
    );
    // The same jti of this store is its own.
    let ours = signed_payload(HASH, CLIENT_SECRET, with_jti("shared"));
    session_cookie(&get(&app, &callback("load", &ours)).await);
    assert_eq!(
        used_rows(&app).await,
        [
            (HASH.to_owned(), "shared".to_owned()),
            ("zzz999".to_owned(), "shared".to_owned())
        ]
    );
    assert_refused(
        get(&app, &callback("uninstall", &other)).await,
        "already used",
    )
    .await;
}

#[tokio::test]
async fn of_two_uses_at_once_exactly_one_signs_in() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let before = sessions(&app).await;
    let token = signed_payload(HASH, CLIENT_SECRET, |_| {});
    // Each request takes its own pooled connection and transaction: to the database these are
    // as two instances, and the primary key decides.
    let path = callback("load", &token);
    let answers = join_all((0..6).map(|_| get(&app, &path))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [302, 401, 401, 401, 401, 401]);
    assert_eq!(sessions(&app).await, before + 1);
}

#[tokio::test]
async fn the_retention_job_forgets_expired_uses_only() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    let shop_id = the_shop(&app).await.id;
    let report = app
        .with_db(move |c| {
            let now = boomerang::db::now();
            let payload = |store: &str, jti: &str, expires_in: Duration| SignedPayload {
                store_hash: store.to_owned(),
                user: BcUser::default(),
                owner: BcUser::default(),
                jti: jti.to_owned(),
                expires_at: (now + expires_in).and_utc().timestamp(),
            };
            let rows = [
                payload(HASH, "expired", Duration::hours(-1)),
                payload("zzz999", "expired-elsewhere", Duration::hours(-2)),
                // Still accepted for the verifier's leeway: must be kept.
                payload(HASH, "in-leeway", Duration::seconds(-2)),
                payload(HASH, "live", Duration::hours(20)),
            ];
            for row in &rows {
                assert!(used_payloads::record(c, row, now).unwrap());
            }
            assert!(!used_payloads::record(c, &rows[3], now).unwrap(), "once");
            boomerang::services::data_retention::run(c, &shop_id, 30, now).unwrap()
        })
        .await;
    assert_eq!(report.used_payloads_pruned, 2);
    assert_eq!(
        used_rows(&app).await,
        [
            (HASH.to_owned(), "in-leeway".to_owned()),
            (HASH.to_owned(), "live".to_owned())
        ]
    );
}

/// An app whose client secret was rotated from [`OLD_SECRET`] to [`CLIENT_SECRET`].
async fn spawn_rotated(fake: &str) -> TestApp {
    TestApp::spawn_with(&[
        ("BIGCOMMERCE_CLIENT_ID", CLIENT_ID),
        ("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET),
        ("BIGCOMMERCE_CLIENT_SECRET_PREVIOUS", OLD_SECRET),
        ("BIGCOMMERCE_LOGIN_BASE", fake),
        ("BIGCOMMERCE_API_BASE", fake),
    ])
    .await
}

#[tokio::test]
async fn during_a_rotation_payloads_of_the_previous_secret_are_accepted_too() {
    let (fake, _) = fake::bigcommerce(REDIRECT_URI).await;
    let app = spawn_rotated(&fake.uri()).await;
    // The fake exchanges the code only for the current secret: the exchange never sends the
    // previous one.
    installs(&app).await;
    let by_old = signed_payload(HASH, OLD_SECRET, |_| {});
    session_cookie(&get(&app, &callback("load", &by_old)).await);
    assert_refused(get(&app, &callback("load", &by_old)).await, "already used").await;
    let by_new = signed_payload(HASH, CLIENT_SECRET, |_| {});
    session_cookie(&get(&app, &callback("load", &by_new)).await);
    let by_neither = signed_payload(HASH, "neither-secret", |_| {});
    assert_refused(
        get(&app, &callback("load", &by_neither)).await,
        "not signed with this app's client secret",
    )
    .await;
    let removal_by_old = signed_payload(HASH, OLD_SECRET, |_| {});
    let resp = get(&app, &callback("remove_user", &removal_by_old)).await;
    assert_eq!(resp.status(), 200);

    // Once the previous secret is removed, what it signs is refused.
    let after = spawn(&fake.uri()).await;
    installs(&after).await;
    let late = signed_payload(HASH, OLD_SECRET, |_| {});
    assert_refused(
        get(&after, &callback("load", &late)).await,
        "not signed with this app's client secret",
    )
    .await;
}
