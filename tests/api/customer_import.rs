//! CSV import and export of customers, black-box on both backends: balances arrive as `import`
//! ledger lines once per (row, customer), unknown customers are enrolled, bad rows are reported
//! by line with the rest imported, the same file twice changes nothing, a tier is held for a
//! year, the export streams every member with formulas defused and changes nothing when sent
//! back; bad files change nothing; another shop is never touched.

use serde_json::{json, Value};

use crate::helpers::{error_code, session_token, TestApp};

const SHOP: &str = "customer-import.myshopify.com";
const OTHER: &str = "customer-import-other.myshopify.com";

async fn import(app: &TestApp, shop: &str, csv: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/admin/v1/import/customers"))
        .bearer_auth(session_token(shop))
        .header("Content-Type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
}

async fn import_ok(app: &TestApp, shop: &str, csv: &str) -> Value {
    let resp = import(app, shop, csv).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn export(app: &TestApp, shop: &str) -> String {
    let resp = app
        .admin_get(&session_token(shop), "/api/admin/v1/export/customers.csv")
        .await;
    assert_eq!(resp.status(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/csv"), "{kind}");
    resp.text().await.unwrap()
}

/// The shop's customers as (customer id or e-mail, balance), sorted.
async fn balances(app: &TestApp, shop: &str) -> Vec<(String, i64)> {
    let resp = app
        .admin_get(&session_token(shop), "/api/admin/v1/customers?limit=250")
        .await;
    let body: Value = resp.json().await.unwrap();
    let mut rows: Vec<(String, i64)> = body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["customer_id"].as_str().unwrap();
            let key = if id.is_empty() {
                c["email"].as_str().unwrap()
            } else {
                id
            };
            (key.to_owned(), c["points_balance"].as_i64().unwrap())
        })
        .collect();
    rows.sort();
    rows
}

const FILE: &str = "\u{feff}Email,customer_id,Points,tier,birthday,notes\n\
ann@example.com,501,1200,gold,1990-02-28,from Smile\n\
guest@example.com,,300,,,\n\
bad@example.com,502,12.5,,,typo\n\
,,40,,,\n\
nobody@example.com,503,10,platinum,,\n\
bo@example.com,504,0,,1985-07-01,birthday only\n\
\n";

async fn setup() -> TestApp {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "EUR").await;
    app.add_shop(OTHER, "EUR").await;
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(
            &json!({"tiers": {"basis": "orders", "window": "lifetime", "grace_days": 0,
            "levels": [{"id": "silver", "name": "Silver", "threshold": 1},
                       {"id": "gold", "name": "Gold", "threshold": 5}]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    app
}

#[tokio::test]
async fn balances_import_once_per_row_and_bad_rows_are_reported_by_line() {
    let app = setup().await;
    // The other shop already knows customer 501: the import must not touch it.
    import_ok(&app, OTHER, "customer_id,points\n501,7\n").await;

    let report = import_ok(&app, SHOP, FILE).await;
    assert_eq!(report["rows"], 6, "{report}");
    assert_eq!(report["imported"], 3, "{report}");
    assert_eq!(report["unchanged"], 0, "{report}");
    assert_eq!(report["failed"], 3, "{report}");
    let errors: Vec<(i64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors.iter().map(|e| e.0).collect::<Vec<_>>(),
        [4, 5, 6],
        "{errors:?}"
    );
    assert!(errors[0].1.contains("points \"12.5\""), "{errors:?}");
    assert!(errors[1].1.contains("neither"), "{errors:?}");
    assert!(errors[2].1.contains("platinum"), "{errors:?}");

    let expected = vec![
        ("501".to_owned(), 1200),
        ("504".to_owned(), 0),
        ("guest@example.com".to_owned(), 300),
    ];
    assert_eq!(balances(&app, SHOP).await, expected);
    let ann = app.customer(SHOP, "501").await;
    assert_eq!(ann["tier"], "gold", "the imported tier is held: {ann}");
    assert_eq!(ann["lifetime_points"], 1200);
    let ledger: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/501/ledger")
        .await
        .json()
        .await
        .unwrap();
    let lines = ledger["entries"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{ledger}");
    assert_eq!(
        (lines[0]["kind"].as_str(), lines[0]["delta"].as_i64()),
        (Some("import"), Some(1200))
    );

    // The same file again changes nothing; the bad rows are still reported.
    let again = import_ok(&app, SHOP, FILE).await;
    assert_eq!(
        (
            again["imported"].as_i64(),
            again["unchanged"].as_i64(),
            again["failed"].as_i64()
        ),
        (Some(0), Some(3), Some(3)),
        "{again}"
    );
    assert_eq!(balances(&app, SHOP).await, expected);
    // The other shop's customer 501 still has exactly what it was given there.
    assert_eq!(balances(&app, OTHER).await, [("501".to_owned(), 7)]);
}

#[tokio::test]
async fn the_export_lists_everyone_defuses_formulas_and_changes_nothing_when_sent_back() {
    let app = setup().await;
    import_ok(&app, SHOP, FILE).await;
    import_ok(
        &app,
        SHOP,
        "customer_id,email,points\n505,=cmd@evil.example.com,5\n",
    )
    .await;
    import_ok(
        &app,
        OTHER,
        "customer_id,email,points\n900,other@example.com,5\n",
    )
    .await;

    let csv = export(&app, SHOP).await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "customer_id,email,first_name,last_name,points_balance,pending_points,lifetime_points,current_tier,birthday,segment,accepts_marketing,created_at"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("501,ann@example.com,,,1200,0,1200,gold,1990-02-28,")),
        "{csv}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with(",guest@example.com,,,300,")),
        "{csv}"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with("505,'=cmd@evil.example.com,")),
        "{csv}"
    );
    assert!(
        !csv.contains("other@example.com"),
        "another shop's customer: {csv}"
    );

    let before = balances(&app, SHOP).await;
    let report = import_ok(&app, SHOP, &csv).await;
    assert_eq!(report["imported"], 0, "{report}");
    assert_eq!(balances(&app, SHOP).await, before);
}

#[tokio::test]
async fn files_that_cannot_be_imported_are_refused_and_change_nothing() {
    let app = setup().await;
    for (body, status) in [
        ("", 422),
        ("points,tier\n10,gold\n", 422),
        ("email,EMAIL\na@b.co,c@d.co\n", 422),
    ] {
        let resp = import(&app, SHOP, body).await;
        assert_eq!(resp.status(), status, "{body:?}");
        assert_eq!(error_code(resp).await, "validation_failed", "{body:?}");
    }
    let json = app
        .client
        .post(app.url("/api/admin/v1/import/customers"))
        .bearer_auth(session_token(SHOP))
        .json(&json!({"customer_id": 1, "points": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 415);
    let unauthenticated = app
        .client
        .post(app.url("/api/admin/v1/import/customers"))
        .body("customer_id,points\n1,10\n")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert!(balances(&app, SHOP).await.is_empty());
}
