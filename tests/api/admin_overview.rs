//! The admin's overview (`/app`) over HTTP, both backends (the reports page: admin_reports.rs):
//! every figure the page shows equals what the admin API answers for the same days (the
//! metrics test's back-dated history), charts are inline SVG with a summary and their numbers,
//! an empty period says so, bad periods are shown next to the date inputs with `422`, the
//! default period is the last 30 days in the shop's time zone, another shop's session sees
//! only its own figures, and an Arabic shop's pages are right to left.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use boomerang::db::schema::shops;

use crate::admin_ui::{client, sign_in};
use crate::helpers::{refund_json, TestApp};
use crate::metrics::{day_ago, installed_today, metrics, order, post_points};

const SHOP: &str = "overview.myshopify.com";
pub(crate) const OTHER: &str = "overview-other.myshopify.com";

pub(crate) async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let resp = client()
        .get(app.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// The text of the element with `id`, its tags taken out.
pub(crate) fn text_of(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let rest = &rest[rest.find('>')? + 1..];
    let end = ["</div>", "</td>", "</p>"]
        .iter()
        .filter_map(|tag| rest.find(tag))
        .min()?;
    Some(strip_tags(&rest[..end]))
}

pub(crate) fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// The cells (`<td>`) of the table row with `id`.
pub(crate) fn cells(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no row {id}"));
    let row = &html[start..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|c| strip_tags(&format!("<td{c}")))
        .collect()
}

pub(crate) fn money(v: &Value, currency: &str) -> String {
    match v.as_i64() {
        Some(m) => format!(
            "{}{}.{:02} {currency}",
            if m < 0 { "-" } else { "" },
            m.abs() / 100,
            m.abs() % 100
        ),
        None => "—".into(),
    }
}

fn pct(v: &Value) -> String {
    v.as_f64().map_or("—".into(), |p| format!("{p:.1} %"))
}

pub(crate) fn number(v: &Value) -> String {
    v.as_f64().map_or("—".into(), |n| {
        let t = format!("{n:.1}");
        t.strip_suffix(".0").map(str::to_owned).unwrap_or(t)
    })
}

/// The figures of the overview and how each reads from the metrics API's body.
fn expected(m: &Value) -> Vec<(&'static str, String)> {
    let c = m["currency"].as_str().unwrap();
    vec![
        ("crr_pct", pct(&m["crr_pct"])),
        ("churn_pct", pct(&m["churn_pct"])),
        ("rpr_pct", pct(&m["rpr_pct"])),
        ("lcr_pct", pct(&m["lcr_pct"])),
        ("aer_pct", pct(&m["aer_pct"])),
        (
            "avg_days_member_before_churn",
            number(&m["avg_days_member_before_churn"]),
        ),
        ("revenue_total", money(&m["revenue_minor"]["total"], c)),
        ("revenue_members", money(&m["revenue_minor"]["members"], c)),
        ("revenue_repeat", money(&m["revenue_minor"]["repeat"], c)),
        ("aov_all", money(&m["aov_minor"]["all"], c)),
        ("aov_members", money(&m["aov_minor"]["members"], c)),
        ("aov_non_members", money(&m["aov_minor"]["non_members"], c)),
        ("clv", money(&m["clv_minor"], c)),
        ("redemption_rate_pct", pct(&m["redemption_rate_pct"])),
        ("nps", number(&m["nps"]["nps"])),
        ("customers_new", m["customers"]["new"].to_string()),
        ("customers_at_end", m["customers"]["at_end"].to_string()),
    ]
}

/// The metrics test's history (see `metrics.rs` for the figures worked out by hand), and one
/// large order of the other shop on the same days.
async fn history(app: &TestApp) -> String {
    let shop_id = app.add_shop(SHOP, "USD").await;
    installed_today(app, shop_id.clone()).await;
    let other_id = app.add_shop(OTHER, "USD").await;
    installed_today(app, other_id).await;
    let e = |n: u64| format!("c{n}@example.com");
    let orders = [
        order(1, 101, Some(&e(101)), "100.00", 400),
        order(2, 101, Some(&e(101)), "50.00", 100),
        order(3, 102, Some(&e(102)), "40.00", 300),
        order(4, 103, Some(&e(103)), "20.00", 420),
        order(5, 103, Some(&e(103)), "30.00", 380),
        order(6, 104, Some(&e(104)), "60.00", 30),
        order(7, 104, Some(&e(104)), "40.00", 20),
        order(8, 104, Some(&e(104)), "20.00", 10),
        order(9, 104, Some(&e(104)), "80.00", 5),
        order(10, 0, Some("g5@example.com"), "25.00", 200),
        order(11, 0, Some("g5@example.com"), "35.00", 40),
        order(12, 0, Some("g6@example.com"), "10.00", 15),
        order(13, 0, None, "5.00", 12),
        order(14, 107, Some(&e(107)), "70.00", 25),
    ];
    for (i, body) in orders.iter().enumerate() {
        app.deliver(SHOP, "orders/paid", &format!("o{i}"), body)
            .await;
    }
    app.deliver(
        SHOP,
        "refunds/create",
        "r14",
        &refund_json(140, 14, &[], "20.00"),
    )
    .await;
    let theirs = order(99, 901, Some("x@example.com"), "999.00", 12);
    app.deliver(OTHER, "orders/paid", "x", &theirs).await;
    post_points(app, &shop_id, "104", 1_000, "signup").await;
    post_points(app, &shop_id, "104", -250, "redeem").await;
    shop_id
}

#[tokio::test]
async fn the_overview_shows_the_apis_figures_and_charts_of_the_period() {
    let app = TestApp::spawn().await;
    let shop_id = history(&app).await;
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let (from, to) = (day_ago(59), day_ago(0));
    let (status, html) = page(&app, &cookie, &format!("/app?from={from}&to={to}")).await;
    assert_eq!(status, StatusCode::OK);
    let api = metrics(&app, SHOP, from, to).await;
    for (key, want) in expected(&api) {
        assert_eq!(
            text_of(&html, &format!("m-{key}")).as_deref(),
            Some(want.as_str()),
            "{key}"
        );
    }
    // Worked out by hand in metrics.rs, so a match above is not two equal mistakes.
    assert_eq!(text_of(&html, "m-crr_pct").unwrap(), "75.0 %");
    assert_eq!(text_of(&html, "m-revenue_total").unwrap(), "300.00 USD");
    assert_eq!(text_of(&html, "m-clv").unwrap(), "100.00 USD");
    // No NPS answers: a dash, and why.
    assert_eq!(text_of(&html, "m-nps").unwrap(), "—");
    assert!(text_of(&html, "n-nps").unwrap().contains("Not enough data"));
    assert!(
        html.contains(&format!("value=\"{from}\"")) && html.contains(&format!("value=\"{to}\""))
    );

    // Four charts, inline SVG scaled by its viewBox, each a labelled image with its numbers.
    for key in ["orders", "revenue", "new_customers", "points"] {
        let start = html
            .find(&format!("<figure class=\"chart\" id=\"chart-{key}\""))
            .unwrap();
        let figure = &html[start..start + html[start..].find("</figure>").unwrap()];
        assert!(figure.contains("<figcaption>"), "{key}");
        assert!(
            figure.contains("<svg")
                && figure.contains("width=\"100%\"")
                && figure.contains("viewBox=\"0 0 "),
            "{key}"
        );
        assert!(figure.contains("role=\"img\" aria-label=\""), "{key}");
        assert!(
            figure.contains("<details>")
                && figure.contains(&format!("<th scope=\"row\">{to}</th>")),
            "{key}"
        );
    }
    let orders: i64 = api["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["orders"].as_i64().unwrap())
        .sum();
    assert!(
        html.contains(&format!(
            "aria-label=\"Orders per day, {from} – {to}: total {orders}, highest "
        )),
        "summary"
    );
    assert!(!html.contains("<script"), "no script on the page");

    // A period without orders draws nothing and says so.
    let (status, empty) = page(&app, &cookie, "/app?from=2020-01-01&to=2020-01-31").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!empty.contains("<svg"));
    assert!(empty.contains("No orders in this period."));
    assert_eq!(text_of(&empty, "m-aov_all").unwrap(), "—");

    // The other shop's owner sees the other shop's figures only.
    let other_id = app
        .with_db(|c| {
            shops::table
                .filter(shops::domain.eq(OTHER))
                .select(shops::id)
                .first::<String>(c)
                .unwrap()
        })
        .await;
    let (their_cookie, _) = sign_in(&app, &other_id).await;
    let (_, theirs) = page(&app, &their_cookie, &format!("/app?from={from}&to={to}")).await;
    assert_eq!(text_of(&theirs, "m-revenue_total").unwrap(), "999.00 USD");
    assert!(!theirs.contains("300.00 USD"));
    let (_, mine) = page(&app, &cookie, &format!("/app?from={from}&to={to}")).await;
    assert!(!mine.contains("999.00"));
}

#[tokio::test]
async fn bad_periods_are_shown_next_to_the_dates_and_the_default_is_the_shops_last_30_days() {
    let app = TestApp::spawn().await;
    let (shop_id, _) = app
        .add_shop_with_member(SHOP, "7001", "ada@example.com")
        .await;
    let (cookie, _) = sign_in(&app, &shop_id).await;
    for path in ["/app", "/app/reports"] {
        for (query, says) in [
            (
                "from=soon&to=2026-01-31",
                "The start must be a date like 2026-11-23.",
            ),
            (
                "from=2026-01-01&to=2026-02-30",
                "The end must be a date like 2026-11-23.",
            ),
            (
                "from=2026-02-01&to=2026-01-01",
                "The start is after the end.",
            ),
            ("from=2025-01-01&to=2026-01-02", "longer than 366 days"),
        ] {
            let (status, html) = page(&app, &cookie, &format!("{path}?{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}?{query}");
            let error = text_of(&html, "period-error").unwrap();
            assert!(error.contains(says), "{path}?{query}: {error}");
            assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"period-error\""));
            assert!(!html.contains("id=\"m-crr_pct\"") && !html.contains("id=\"liability\""));
            // The owner's input stays in the form, to be corrected.
            let from = query.split('&').next().unwrap().trim_start_matches("from=");
            assert!(
                html.contains(&format!("value=\"{from}\"")),
                "{path}?{query}"
            );
        }
    }
    // Empty inputs: the last 30 days ending today where the shop is (UTC+14, no DST).
    let id = shop_id.clone();
    app.with_db(move |c| {
        diesel::update(shops::table.find(id))
            .set(shops::timezone.eq("Pacific/Kiritimati"))
            .execute(c)
            .unwrap()
    })
    .await;
    let today: NaiveDate = (Utc::now() + Duration::hours(14)).date_naive();
    for path in ["/app", "/app?from=&to=", "/app/reports"] {
        let (status, html) = page(&app, &cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            html.contains(&format!("id=\"to\" name=\"to\" value=\"{today}\"")),
            "{path}"
        );
        let from = today - Duration::days(29);
        assert!(
            html.contains(&format!("id=\"from\" name=\"from\" value=\"{from}\"")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_arabic_shops_overview_and_reports_are_right_to_left() {
    let app = TestApp::spawn().await;
    let shop_id = history(&app).await;
    app.set_shop_locale(&shop_id, "ar").await;
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let (status, html) = page(&app, &cookie, "/app").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(html.contains("الطلبات يوميًا") && html.contains("التقارير"));
    // The drawing keeps its left-to-right time axis inside the right-to-left page.
    assert!(html.contains("direction=\"ltr\" role=\"img\""));
    let (status, reports) = page(&app, &cookie, "/app/reports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(reports.contains("dir=\"rtl\"") && reports.contains("التزامات النقاط"));
    let (status, refused) = page(&app, &cookie, "/app?from=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("يجب أن تكون البداية تاريخًا"));
}
