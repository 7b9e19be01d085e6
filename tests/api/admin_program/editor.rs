//! Every section of the editor on the page; a change stored as the admin API stores it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{program, save, setup, SHOP};
use crate::admin_ui::{get as page, sign_in};

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
