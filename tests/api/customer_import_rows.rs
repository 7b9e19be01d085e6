//! The customer import row by row, black-box on both backends: a file spanning several batches
//! (with a row repeated inside it) imports once and changes nothing the second time, with every
//! balance equal to its ledger lines; a row the ledger refuses leaves nothing of itself behind;
//! the admin page words each refused row, and a refused file, in the owner's language.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use boomerang::db::schema::{ledger_entries, members, tier_grants};
use boomerang::db::DbConnection;

use crate::admin_ui::{client, sign_in};
use crate::helpers::{session_token, TestApp};

const SHOP: &str = "import-rows.myshopify.com";
const OTHER: &str = "import-rows-other.myshopify.com";

async fn import_ok(app: &TestApp, shop: &str, csv: &str) -> Value {
    let resp = app
        .client
        .post(app.url("/api/admin/v1/import/customers"))
        .bearer_auth(session_token(shop))
        .header("Content-Type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "EUR").await;
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
    (app, shop_id)
}

/// What an import can change in a shop: (ledger lines, tier grants, members as (id, balance,
/// lifetime, birthday)), sorted.
type Snapshot = (
    Vec<(String, i64)>,
    Vec<String>,
    Vec<(String, i64, i64, String)>,
);

fn snapshot(c: &mut DbConnection, shop_id: &str) -> Snapshot {
    let mut lines: Vec<(String, i64)> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .select((ledger_entries::idempotency_key, ledger_entries::delta))
        .load(c)
        .unwrap();
    lines.sort();
    let mut grants: Vec<String> = tier_grants::table
        .filter(tier_grants::shop_id.eq(shop_id))
        .select(tier_grants::platform_order_id)
        .load(c)
        .unwrap();
    grants.sort();
    let mut people: Vec<(String, i64, i64, Option<chrono::NaiveDate>)> = members::table
        .filter(members::shop_id.eq(shop_id))
        .select((
            members::id,
            members::points_balance,
            members::lifetime_points,
            members::birthday,
        ))
        .load(c)
        .unwrap();
    people.sort();
    let people = people
        .into_iter()
        .map(|(id, b, l, d)| (id, b, l, d.map(|d| d.to_string()).unwrap_or_default()))
        .collect();
    (lines, grants, people)
}

/// Every member's cached balance and lifetime equal the sum of their ledger lines.
fn balances_match_the_ledger(c: &mut DbConnection, shop_id: &str) {
    let (lines, _, people) = snapshot(c, shop_id);
    let by_member: Vec<(String, i64)> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .select((ledger_entries::member_id, ledger_entries::delta))
        .load(c)
        .unwrap();
    assert_eq!(lines.len(), by_member.len());
    for (id, balance, lifetime, _) in people {
        let sum: i64 = by_member.iter().filter(|l| l.0 == id).map(|l| l.1).sum();
        assert_eq!((balance, lifetime), (sum, sum), "member {id}");
    }
}

#[tokio::test]
async fn a_file_of_several_batches_imports_once_and_the_second_time_changes_nothing() {
    let (app, shop_id) = setup().await;
    let mut csv = String::from("customer_id,email,points,tier,birthday\n");
    for i in 0..1_200 {
        let tier = if i % 7 == 0 { "Gold" } else { "" };
        let birthday = if i % 5 == 0 { "1991-03-04" } else { "" };
        csv.push_str(&format!(
            "{},c{i}@example.com,{},{tier},{birthday}\n",
            10_000 + i,
            10 + i
        ));
    }
    // The same row again (in another batch): recognised, not credited twice.
    csv.push_str("10003,c3@example.com,13,,\n");
    // Another row for a customer: a second line; its birthday does not replace the first.
    csv.push_str("10000,c0@example.com,5,,1970-01-01\n");
    // Guests known only by e-mail, one of them twice with different points.
    csv.push_str(",guest@example.com,7,,\n,guest@example.com,8,,\n");

    let first = import_ok(&app, SHOP, &csv).await;
    assert_eq!(
        (&first["rows"], &first["imported"], &first["unchanged"]),
        (&json!(1_204), &json!(1_203), &json!(1)),
        "{first}"
    );
    assert_eq!(first["failed"], 0, "{first}");
    let id = shop_id.clone();
    let after_first = app
        .with_db(move |c| {
            balances_match_the_ledger(c, &id);
            snapshot(c, &id)
        })
        .await;
    let (lines, grants, people) = &after_first;
    assert_eq!(lines.len(), 1_203);
    assert_eq!(grants.len(), 172, "a grant per row with a tier");
    assert_eq!(people.len(), 1_201, "1,200 customers and one guest");
    let ann = app.customer(SHOP, "10000").await;
    assert_eq!(
        (&ann["points_balance"], &ann["tier"]),
        (&json!(15), &json!("gold")),
        "{ann}"
    );
    let guest_points: i64 =
        people.iter().map(|p| p.1).sum::<i64>() - (0..1_200).map(|i| 10 + i).sum::<i64>() - 5;
    assert_eq!(guest_points, 15, "the guest got both its rows");
    assert!(people.iter().filter(|p| p.3 == "1991-03-04").count() == 240);
    assert!(!people.iter().any(|p| p.3 == "1970-01-01"));

    let second = import_ok(&app, SHOP, &csv).await;
    assert_eq!(
        (&second["imported"], &second["unchanged"], &second["failed"]),
        (&json!(0), &json!(1_204), &json!(0)),
        "{second}"
    );
    let id = shop_id.clone();
    let after_second = app.with_db(move |c| snapshot(c, &id)).await;
    assert_eq!(after_second, after_first);
    // The other shop has none of it.
    let other = import_ok(&app, OTHER, "customer_id,points\n10000,1\n").await;
    assert_eq!(other["imported"], 1);
    assert_eq!(app.customer(SHOP, "10000").await["points_balance"], 15);
}

#[tokio::test]
async fn a_row_the_ledger_refuses_leaves_nothing_of_itself_behind() {
    let (app, shop_id) = setup().await;
    let csv = "customer_id,points,tier,birthday\n\
               7,600000000000,,\n\
               7,500000000000,gold,1980-05-05\n\
               8,10,,\n";
    let report = import_ok(&app, SHOP, csv).await;
    assert_eq!(
        (&report["imported"], &report["failed"]),
        (&json!(2), &json!(1)),
        "{report}"
    );
    let error = &report["errors"][0];
    assert_eq!(
        (&error["row"], &error["code"]),
        (&json!(3), &json!("balance_limit"))
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("past the limit"),
        "{error}"
    );
    let seven = app.customer(SHOP, "7").await;
    assert_eq!(seven["points_balance"], 600_000_000_000i64, "{seven}");
    let id = shop_id.clone();
    let (grants, birthday) = app
        .with_db(move |c| {
            balances_match_the_ledger(c, &id);
            let grants: i64 = tier_grants::table
                .filter(tier_grants::shop_id.eq(&id))
                .count()
                .get_result(c)
                .unwrap();
            let birthday: Option<chrono::NaiveDate> = members::table
                .filter(members::shop_id.eq(&id))
                .filter(members::platform_customer_id.eq("7"))
                .select(members::birthday)
                .first(c)
                .unwrap();
            (grants, birthday)
        })
        .await;
    assert_eq!((grants, birthday), (0, None));
}

/// Posts `csv` as the admin page's form would (the CSRF token first, then the file).
async fn upload(app: &TestApp, cookie: &str, csrf: &str, csv: &str) -> (StatusCode, String) {
    let boundary = "----boomerang-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let resp = client()
        .post(app.url("/app/import"))
        .header("Cookie", cookie)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_page_words_refused_rows_and_files_in_the_owners_language() {
    let (app, shop_id) = setup().await;
    app.set_shop_locale(&shop_id, "ar").await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let (status, html) = upload(
        &app,
        &cookie,
        &csrf,
        "customer_id,points,tier\n8001,40,\n8002,lots,\n8003,5,platinum\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("النقاط «lots» ليست عددًا صحيحًا"), "{html}");
    assert!(
        html.contains("المستوى «platinum» ليس من بين: silver, gold"),
        "{html}"
    );
    assert!(!html.contains("is not a whole number"), "{html}");
    assert_eq!(app.customer(SHOP, "8001").await["points_balance"], 40);

    // A file the importer cannot read at all is refused in Arabic, and changes nothing.
    let (status, html) = upload(&app, &cookie, &csrf, "points,tier\n10,gold\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains("يحتاج صف العناوين إلى عمود customer_id أو email"),
        "{html}"
    );
    let (status, html) = upload(&app, &cookie, &csrf, "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("الملف فارغ"), "{html}");

    // The API answers the same rows in English, with their codes.
    let report = import_ok(&app, SHOP, "customer_id,points\n8002,lots\n").await;
    assert_eq!(report["errors"][0]["code"], "points_not_whole", "{report}");
    assert_eq!(
        report["errors"][0]["message"],
        "points \"lots\" is not a whole number"
    );
    let id = shop_id.clone();
    let lines: i64 = app
        .with_db(move |c| {
            ledger_entries::table
                .filter(ledger_entries::shop_id.eq(&id))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(lines, 1);
}
