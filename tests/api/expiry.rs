//! Points expiry by lot, oldest first, with a controllable clock: only each lot's unspent
//! remainder expires, reruns change nothing, and reminders are recorded before expiry.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use boomerang::db::models::{Member, Shop};
use boomerang::db::schema::{ledger_entries, point_reminders};
use boomerang::db::{write_transaction, DbConnection};
use boomerang::domain::points::{LedgerKind, LedgerStatus};
use boomerang::services::expiry;
use boomerang::services::ledger::{post, Posting, WhenShort};

use crate::helpers::{session_token, TestApp};

const SHOP: &str = "expiry.myshopify.com";

fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
}

fn credit(
    c: &mut DbConnection,
    shop: &str,
    member: &str,
    key: &str,
    delta: i64,
    kind: LedgerKind,
    when: NaiveDateTime,
) {
    let p = Posting {
        shop_id: shop.into(),
        member_id: member.into(),
        delta,
        kind,
        status: LedgerStatus::Confirmed,
        reason: None,
        source: "test".into(),
        source_id: key.into(),
        action: "x".into(),
        detail: None,
        confirms_at: None,
        when_short: WhenShort::Refuse,
    };
    write_transaction(c, |c| post(c, &p, when)).unwrap();
}

fn balance_matches_ledger(c: &mut DbConnection, shop: &str, member: &str) -> i64 {
    let m = Member::find(c, shop, member).unwrap();
    let sum: i64 = ledger_entries::table
        .filter(ledger_entries::member_id.eq(member))
        .filter(ledger_entries::status.eq("confirmed"))
        .select(ledger_entries::delta)
        .load::<i64>(c)
        .unwrap()
        .into_iter()
        .sum();
    assert_eq!(m.points_balance, sum);
    m.points_balance
}

#[tokio::test]
async fn the_oldest_unspent_remainder_expires_after_a_reminder() {
    let app = TestApp::spawn().await;
    let (shop_id, member_id) = app
        .add_shop_with_member(SHOP, "7001", "ada@example.com")
        .await;
    let token = session_token(SHOP);
    let bad = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&token)
        .json(&json!({"expiry": {"mode": "after_earning", "months": 0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let ok = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&token)
        .json(&json!({"expiry": {"mode": "after_earning", "months": 12, "remind_days_before": 14}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    app.with_db(move |c| {
        let (s, m) = (shop_id.as_str(), member_id.as_str());
        credit(c, s, m, "a", 100, LedgerKind::Adjustment, at(2025, 1, 1));
        credit(c, s, m, "b", 200, LedgerKind::Adjustment, at(2025, 6, 1));
        credit(c, s, m, "spend", -30, LedgerKind::Redeem, at(2025, 7, 1));
        let shop = Shop::find(c, s).unwrap();
        let run = |c: &mut DbConnection, when| expiry::run(c, &shop, when).unwrap();

        // 14 days before lot a expires: a reminder for its 70 unspent points.
        let r = run(c, at(2025, 12, 20));
        assert_eq!((r.expired_points, r.reminders), (0, 1));
        let reminder: (i64, NaiveDateTime) = point_reminders::table
            .filter(point_reminders::member_id.eq(m))
            .select((point_reminders::points, point_reminders::expires_at))
            .first(c)
            .unwrap();
        assert_eq!(reminder, (70, at(2026, 1, 1)));
        assert_eq!(
            run(c, at(2025, 12, 21)).reminders,
            0,
            "one reminder per expiry date"
        );

        // Lot a's remainder expires; lot b is untouched.
        assert_eq!(run(c, at(2026, 1, 2)).expired_points, 70);
        assert_eq!(balance_matches_ledger(c, s, m), 200);
        assert_eq!(
            run(c, at(2026, 1, 3)).expired_points,
            0,
            "a rerun expires nothing more"
        );

        // Spending after the first expiry comes off lot b, whose remainder then expires.
        credit(c, s, m, "spend-2", -50, LedgerKind::Redeem, at(2026, 2, 1));
        assert_eq!(run(c, at(2026, 6, 2)).expired_points, 150);
        assert_eq!(balance_matches_ledger(c, s, m), 0);
        let expiries: i64 = ledger_entries::table
            .filter(ledger_entries::member_id.eq(m))
            .filter(ledger_entries::kind.eq("expiry"))
            .count()
            .get_result(c)
            .unwrap();
        assert_eq!(expiries, 2);
    })
    .await;
}
