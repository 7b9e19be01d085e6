//! The program editor of the owner's admin UI (`/app/program`), both backends: every section is
//! on the page, a change is stored exactly as the admin API stores it, a bad value (text in a
//! number field, broken JSON, a value the program refuses) comes back as 422 with the message next
//! to its field and the owner's input kept, a post without the session's CSRF token changes
//! nothing, and a session of one shop never changes another.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::admin_ui::{client, get as page, sign_in};
use crate::helpers::{session_token, TestApp};

const SHOP: &str = "admin-program.myshopify.com";
const OTHER: &str = "admin-program-other.myshopify.com";

async fn save(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client()
        .post(app.url("/app/program"))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn program(app: &TestApp, shop: &str) -> Value {
    let resp = app
        .admin_get(&session_token(shop), "/api/admin/v1/program")
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

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

#[tokio::test]
async fn the_editor_shows_every_section_with_labelled_fields() {
    let (app, shop_id, _) = setup().await;
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let html = page(&app, &cookie, "/app/program").await;
    for section in [
        "earning",
        "rewards",
        "code_prefix",
        "expiry",
        "tiers",
        "referrals",
        "emails",
        "win_back",
        "replenishment",
        "widget",
    ] {
        assert!(
            html.contains(&format!("<fieldset id=\"s-{section}\">")),
            "{section}"
        );
    }
    assert_eq!(
        html.matches("<fieldset").count(),
        html.matches("<legend>").count()
    );
    for name in [
        "earning.points_per_unit",
        "earning.rounding",
        "earning.include_tax",
        "rewards.0.points_cost",
        "rewards.0.kind",
        "rewards.2.max_shipping_minor",
        "code_prefix",
        "expiry",
        "tiers",
        "referrals",
        "emails.from",
        "emails.policy.max_per_week",
        "emails.policy.quiet_hours.start",
        "emails.templates",
        "win_back",
        "replenishment",
        "widget.accent_color",
        "widget.texts",
    ] {
        assert!(html.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(html.contains("type=\"number\" step=\"any\" id=\"f-earning-points_per_unit\""));
    assert!(html.contains("<select id=\"f-earning-rounding\""));
    assert!(html.contains("<textarea class=\"json\""));
    assert!(html.contains("Points per unit of currency"));
    // Lists of objects are rows, each with its "remove" box, and an "add" button per list.
    for list in [
        "rewards",
        "earning.product_multipliers",
        "earning.collection_multipliers",
        "earning.campaigns",
        "memberships",
    ] {
        assert!(
            html.contains(&format!("name=\"_add\" value=\"{list}\"")),
            "{list}"
        );
    }
    assert!(html.contains("name=\"_remove\" value=\"rewards.2\""));
    assert!(
        !html.contains("name=\"rewards\""),
        "the catalog is no JSON text"
    );
    // Every input has its label (rows and lists are headed by a legend or a heading).
    for (before, id) in html.split(" id=\"f-").zip(html.split(" id=\"f-").skip(1)) {
        let id = id.split('"').next().unwrap();
        let tag = before.rsplit('<').next().unwrap_or_default();
        if id.ends_with("-hint")
            || id.ends_with("-error")
            || !tag.starts_with("input")
                && !tag.starts_with("select")
                && !tag.starts_with("textarea")
        {
            continue;
        }
        assert!(html.contains(&format!("<label for=\"f-{id}\">")), "{id}");
    }
    assert!(html.contains("href=\"/app/program\" aria-current=\"page\""));
}

#[tokio::test]
async fn a_change_is_stored_as_the_api_stores_it() {
    let (app, shop_id, _) = setup().await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let before = program(&app, SHOP).await;
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            ("earning.points_per_unit", "3"),
            ("earning.include_tax", "false"),
            ("earning.include_tax", "true"),
            ("earning.rounding", "nearest"),
            ("emails.from", "Shop <hi@shop.example>"),
            ("emails.policy.sunset_after_unopened", ""),
            (
                "referrals",
                r#"{"enabled": true, "friend_reward": {"kind": "fixed_amount", "amount_minor": 1000, "expires_days": 30}, "referrer_reward": {"points": 500}}"#,
            ),
            ("code_prefix", "VIP"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/app/program?saved=1");
    let saved = page(&app, &cookie, "/app/program?saved=1").await;
    assert!(saved.contains("id=\"saved\""), "{saved}");

    let mut expected = before.clone();
    expected["earning"]["points_per_unit"] = json!(3);
    expected["earning"]["include_tax"] = json!(true);
    expected["earning"]["rounding"] = json!("nearest");
    expected["emails"]["from"] = json!("Shop <hi@shop.example>");
    expected["emails"]["policy"]["sunset_after_unopened"] = json!(null);
    expected["code_prefix"] = json!("VIP");
    let after = program(&app, SHOP).await;
    expected["referrals"] = after["referrals"].clone();
    assert_eq!(after, expected);
    assert_eq!(after["referrals"]["referrer_reward"]["points"], 500);

    // The referral program now has fields; ticking "remove" takes it away, an emptied code
    // prefix goes back to the one made from the domain.
    let html = page(&app, &cookie, "/app/program").await;
    assert!(html.contains("name=\"referrals.enabled\""));
    assert!(html.contains("name=\"_unset\" value=\"referrals\""));
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            ("_unset", "referrals"),
            ("referrals.referrer_reward.points", "-1"),
            ("code_prefix", ""),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let after = program(&app, SHOP).await;
    assert_eq!(after["referrals"], Value::Null);
    assert_eq!(after["code_prefix"], before["code_prefix"]);

    // Tiers saved here are re-evaluated as the API's PUT has them: a job is queued.
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            (
                "tiers",
                r#"{"levels": [{"id": "gold", "name": "Gold", "threshold": 100}]}"#,
            ),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        program(&app, SHOP).await["tiers"]["levels"][0]["id"],
        "gold"
    );
    let jobs = app
        .with_db(|c| {
            use boomerang::db::schema::jobs;
            use diesel::prelude::*;
            jobs::table
                .filter(jobs::kind.eq("reevaluate_tiers"))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(jobs, 1);
}

#[tokio::test]
async fn bad_values_come_back_next_to_their_field_and_change_nothing() {
    let (app, shop_id, _) = setup().await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let before = program(&app, SHOP).await;

    // Negative points where only whole positive numbers fit (the type refuses it).
    let page = refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("earning.points_per_unit", "-5")],
        )
        .await,
        "f-earning-points_per_unit",
    )
    .await;
    assert!(page.contains("value=\"-5\""), "the owner's value is kept");
    assert!(message(&page, "f-earning-points_per_unit").contains("-5"));

    // Negative points the domain validation refuses; text in a number field; both at once,
    // with a good change beside them that is not stored either.
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            ("earning.signup_points", "-5"),
            ("earning.unit_size", "ten"),
            ("earning.pending_days", "30"),
        ],
    )
    .await;
    let page = refused(resp, "f-earning-unit_size").await;
    assert_eq!(message(&page, "f-earning-unit_size"), "Enter a number");
    assert!(page.contains("value=\"ten\""));
    let resp = save(
        &app,
        &cookie,
        &[("csrf", &csrf), ("earning.signup_points", "-5")],
    )
    .await;
    let page = refused(resp, "f-earning-signup_points").await;
    assert_eq!(
        message(&page, "f-earning-signup_points"),
        "Enter 0 to 10000000 points; -5 is outside that."
    );

    // Text in a row's number field, and an id the catalog refuses: next to that row's input.
    let page = refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("rewards.0.points_cost", "lots")],
        )
        .await,
        "f-rewards-0-points_cost",
    )
    .await;
    assert_eq!(message(&page, "f-rewards-0-points_cost"), "Enter a number");
    let page = refused(
        save(&app, &cookie, &[("csrf", &csrf), ("rewards.1.id", "a b")]).await,
        "f-rewards-1-id",
    )
    .await;
    assert!(message(&page, "f-rewards-1-id").contains("a b"), "{page}");
    // JSON that does not parse, where JSON is still edited.
    let page = refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("rewards.0.titles", "{\"ar\": ")],
        )
        .await,
        "f-rewards-0-titles",
    )
    .await;
    assert!(message(&page, "f-rewards-0-titles").starts_with("Not valid JSON"));

    // A nested setting and a colour.
    refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("emails.policy.max_per_week", "0")],
        )
        .await,
        "f-emails-policy-max_per_week",
    )
    .await;
    refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("widget.accent_color", "red")],
        )
        .await,
        "f-widget-accent_color",
    )
    .await;

    assert_eq!(program(&app, SHOP).await, before);
}

#[tokio::test]
async fn a_post_without_the_sessions_csrf_token_changes_nothing() {
    let (app, shop_id, _) = setup().await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let before = program(&app, SHOP).await;
    for form in [
        vec![("earning.points_per_unit", "7")],
        vec![("csrf", "guess"), ("earning.points_per_unit", "7")],
    ] {
        assert_eq!(
            save(&app, &cookie, &form).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let cross_site = client()
        .post(app.url("/app/program"))
        .header("Cookie", &cookie)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf", csrf.as_str()), ("earning.points_per_unit", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let unsigned = client()
        .post(app.url("/app/program"))
        .form(&[("csrf", csrf.as_str()), ("earning.points_per_unit", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(program(&app, SHOP).await, before);
}

#[tokio::test]
async fn a_session_of_another_shop_changes_only_that_shop() {
    let (app, shop_id, other_id) = setup().await;
    let (_, csrf) = sign_in(&app, &shop_id).await;
    let (other_cookie, other_csrf) = sign_in(&app, &other_id).await;
    let before = program(&app, SHOP).await;
    // This shop's token with the other shop's session: refused.
    assert_eq!(
        save(
            &app,
            &other_cookie,
            &[("csrf", &csrf), ("earning.points_per_unit", "9")]
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    // The other shop's own post changes the other shop alone.
    let resp = save(
        &app,
        &other_cookie,
        &[("csrf", &other_csrf), ("earning.points_per_unit", "9")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(program(&app, OTHER).await["earning"]["points_per_unit"], 9);
    assert_eq!(program(&app, SHOP).await, before);
    let html = page(&app, &other_cookie, "/app/program").await;
    assert!(html.contains(OTHER) && !html.contains(SHOP));
}
