//! `GET /api/admin/v1/reports/nps`: the edge scores' categories and the NPS value, by answer
//! day, for the asking shop only; bad or missing dates are refused.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use super::{answer, surveyed, SHOP};
use crate::helpers::{error_code, session_token, TestApp};

async fn report(app: &TestApp, shop: &str, query: &str) -> reqwest::Response {
    app.admin_get(
        &session_token(shop),
        &format!("/api/admin/v1/reports/nps{query}"),
    )
    .await
}

fn around_today() -> String {
    let today = Utc::now().date_naive();
    format!(
        "?from={}&to={}",
        today - Duration::days(1),
        today + Duration::days(1)
    )
}

#[tokio::test]
async fn edge_scores_fall_in_their_categories_and_make_the_nps() {
    let app = TestApp::spawn().await;
    // Seven members answer: 0 and 6 by the survey link, the others in the widget.
    let scores = [0, 6, 7, 8, 9, 10, 10];
    for (i, score) in scores.into_iter().enumerate() {
        let customer = 800 + i as u64;
        let email = format!("c{customer}@nps.example");
        let first = 10 * customer;
        let (_, token) = surveyed(&app, SHOP, (customer, &email), (first, first + 1)).await;
        if i < 2 {
            let resp = app.get(&format!("/nps/{token}?score={score}")).await;
            assert_eq!(resp.status(), 200);
        } else {
            let resp = answer(&app, SHOP, &customer.to_string(), json!({"score": score})).await;
            assert_eq!(resp.status(), 201);
        }
    }
    let resp = report(&app, SHOP, &around_today()).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    // (3 promoters − 2 detractors) / 7 = 14.285… → 14.3.
    assert_eq!(
        body,
        json!({"responses": 7, "promoters": 3, "passives": 2, "detractors": 2, "nps": 14.3})
    );

    // Answers count on the day they were given: none last year.
    let resp = report(&app, SHOP, "?from=2025-01-01&to=2025-12-31").await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"responses": 0, "promoters": 0, "passives": 0, "detractors": 0, "nps": null})
    );

    // Another shop sees none of them.
    const OTHER: &str = "other-report.myshopify.com";
    app.add_shop(OTHER, "USD").await;
    let body: Value = report(&app, OTHER, &around_today())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["responses"], 0);
}

#[tokio::test]
async fn bad_or_missing_dates_are_refused() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    for query in [
        "",
        "?from=2026-01-01",
        "?to=2026-01-01",
        "?from=2026-02-30&to=2026-03-01",
        "?from=yesterday&to=2026-03-01",
        "?from=2026-03-02&to=2026-03-01",
    ] {
        let resp = report(&app, SHOP, query).await;
        assert_eq!(resp.status(), 400, "{query}");
        assert_eq!(error_code(resp).await, "bad_request");
    }
    let resp = app
        .get("/api/admin/v1/reports/nps?from=2026-01-01&to=2026-01-31")
        .await;
    assert_eq!(resp.status(), 401, "the owner's session is needed");
}
