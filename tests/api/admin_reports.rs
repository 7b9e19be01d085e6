//! The admin's reports page (`/app/reports`) over HTTP, both backends: the liability,
//! win-back, NPS and donations figures it shows equal the `/api/admin/v1/reports/…` answers
//! for the same days, and another shop's owner sees none of them.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::admin_overview::{cells, money, number, page, text_of, OTHER};
use crate::admin_ui::sign_in;
use crate::helpers::{session_token, TestApp};
use crate::metrics::day_ago;
use reqwest::StatusCode;

/// A response to the NPS survey, answered today.
async fn nps_answer(app: &TestApp, shop_id: &str, score: i32) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::nps_responses;
        let now = boomerang::db::now();
        diesel::insert_into(nps_responses::table)
            .values((
                nps_responses::id.eq(boomerang::db::new_id()),
                nps_responses::shop_id.eq(shop_id),
                nps_responses::score.eq(score),
                nps_responses::channel.eq("widget"),
                nps_responses::answered_on.eq(now.date()),
                nps_responses::created_at.eq(now),
                nps_responses::updated_at.eq(now),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
}

/// Customer 7001 entered the win-back sequence (or its hold-out) `days` ago.
async fn win_back_entry(app: &TestApp, shop_id: &str, days: i64, holdout: bool) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::{members, win_back_entries};
        let member: String = members::table
            .filter(members::shop_id.eq(&shop_id))
            .filter(members::platform_customer_id.eq("7001"))
            .select(members::id)
            .first(c)
            .unwrap();
        let now = boomerang::db::now();
        diesel::insert_into(win_back_entries::table)
            .values((
                win_back_entries::id.eq(boomerang::db::new_id()),
                win_back_entries::shop_id.eq(shop_id),
                win_back_entries::member_id.eq(member),
                win_back_entries::lapse_on.eq(day_ago(days + 100)),
                win_back_entries::entered_on.eq(day_ago(days)),
                win_back_entries::holdout.eq(holdout),
                win_back_entries::variant.eq((!holdout).then_some("a")),
                win_back_entries::steps_sent.eq(i32::from(!holdout)),
                win_back_entries::created_at.eq(now),
                win_back_entries::updated_at.eq(now),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_reports_page_shows_the_apis_reports_for_the_period() {
    // The fulfilments tests' shop: customer 7001 with 2,000 points, donation rewards.
    let app = crate::fulfilments::setup(2_000).await;
    let shop = crate::rewards::SHOP;
    let shop_id = crate::nps::shop_id_of(&app, shop).await;
    crate::fulfilments::redeem(&app, "give-5").await;
    for score in [10, 9, 3] {
        nps_answer(&app, &shop_id, score).await;
    }
    win_back_entry(&app, &shop_id, 5, false).await;
    win_back_entry(&app, &shop_id, 4, true).await;
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let (from, to) = (day_ago(29), day_ago(0));
    let query = format!("?from={from}&to={to}");
    let (status, html) = page(&app, &cookie, &format!("/app/reports{query}")).await;
    assert_eq!(status, StatusCode::OK);
    let api = |report: &'static str| {
        let (app, query) = (&app, &query);
        async move {
            let resp = app
                .admin_get(
                    &session_token(shop),
                    &format!("/api/admin/v1/reports/{report}{query}"),
                )
                .await;
            assert_eq!(resp.status(), 200, "{report}");
            resp.json::<Value>().await.unwrap()
        }
    };

    let liability = api("liability").await;
    let c = liability["currency"].as_str().unwrap().to_owned();
    for key in [
        "earned",
        "spent",
        "reversed",
        "expired",
        "adjusted_down",
        "pending",
        "outstanding",
    ] {
        let amount = &liability[key];
        assert_eq!(
            cells(&html, &format!("liability-{key}")),
            [
                amount["points"].to_string(),
                money(&amount["value_minor"], &c)
            ],
            "{key}"
        );
    }
    assert_eq!(liability["earned"]["points"], 2_000);
    assert_eq!(liability["spent"]["points"], 300);

    let win_back = api("win-back").await;
    for group in ["treated", "holdout"] {
        let g = &win_back[group];
        assert_eq!(
            cells(&html, &format!("winback-{group}")),
            [
                g["customers"].to_string(),
                g["orders"].to_string(),
                money(&g["revenue_minor"], &c)
            ],
            "{group}"
        );
    }
    assert_eq!(win_back["treated"]["customers"], 1);
    let rate = win_back["lift"]["order_rate_pct"].as_f64().unwrap();
    assert_eq!(
        text_of(&html, "winback-order-rate").unwrap(),
        format!("{rate:+.1}")
    );
    assert_eq!(
        text_of(&html, "winback-revenue").unwrap(),
        money(&win_back["lift"]["revenue_per_customer_minor"], &c)
    );

    let nps = api("nps").await;
    assert_eq!(nps["responses"], 3);
    assert_eq!(text_of(&html, "nps-score").unwrap(), number(&nps["nps"]));
    for key in ["responses", "promoters", "passives", "detractors"] {
        assert_eq!(
            text_of(&html, &format!("nps-{key}")).unwrap(),
            nps[key].to_string(),
            "{key}"
        );
    }

    let donations = api("donations").await;
    assert_eq!(
        text_of(&html, "donations-total").unwrap(),
        money(&donations["total_minor"], &c)
    );
    let charity = &donations["charities"][0];
    assert!(html.contains(&format!(
        "<bdi>{}</bdi>",
        charity["charity"].as_str().unwrap()
    )));
    assert_eq!(donations["total_minor"], json!(500));

    // Another shop's owner sees none of it.
    let (other_id, _) = app
        .add_shop_with_member(OTHER, "9001", "other@example.com")
        .await;
    let (their_cookie, _) = sign_in(&app, &other_id).await;
    let (status, theirs) = page(&app, &their_cookie, &format!("/app/reports{query}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cells(&theirs, "liability-earned")[0], "0");
    assert_eq!(text_of(&theirs, "nps-responses").unwrap(), "0");
    assert_eq!(text_of(&theirs, "winback-order-rate").unwrap(), "—");
    assert!(theirs.contains("id=\"donations-none\""));
    assert!(!theirs.contains(charity["charity"].as_str().unwrap()));
}
