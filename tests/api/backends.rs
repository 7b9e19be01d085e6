//! The schema round-trips on the backend under test (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): every table's row is inserted and read back field for field, so the two
//! migration sets and `schema.rs` cannot drift apart unnoticed.

use chrono::NaiveDate;
use diesel::prelude::*;

use boomerang::db::models::*;
use boomerang::db::schema::{members, shops};
use boomerang::db::types::{FulfilmentStatus, InboxStatus, InstallState, JobStatus, Platform};
use boomerang::db::{new_id, now, write_transaction, DbConnection};
use boomerang::queue::{Job, NewJob};

use crate::helpers::TestApp;

fn shop(c: &mut DbConnection, domain: &str) -> Shop {
    let at = now();
    NewShop {
        id: new_id(),
        platform: Platform::Shopify,
        domain: domain.into(),
        access_token_enc: Some("v1.sealed".into()),
        webhook_secret_enc: None,
        api_key_hash: Some(format!("hash-{domain}")),
        api_base: Some("http://127.0.0.1:1".into()),
        currency: "KWD".into(),
        timezone: "Asia/Kuwait".into(),
        locale: "ar".into(),
        install_state: InstallState::Uninstalled,
        program: r#"{"points_per_unit":2}"#.into(),
        is_demo: false,
        installed_at: at,
        uninstalled_at: Some(at),
        created_at: at,
        updated_at: at,
    }
    .insert(c)
    .unwrap()
}

fn member(c: &mut DbConnection, shop_id: &str, customer: &str) -> Member {
    let at = now();
    NewMember {
        id: new_id(),
        shop_id: shop_id.into(),
        platform_customer_id: Some(customer.into()),
        email: Some(format!("{customer}@example.com")),
        first_name: Some("Ünïcødé".into()),
        last_name: Some("عربي".into()),
        birthday: NaiveDate::from_ymd_opt(1990, 2, 28),
        accepts_marketing: true,
        referral_code: Some(format!("REF{customer}")),
        created_at: at,
        updated_at: at,
        email_verified: false,
        locale: None,
    }
    .insert(c)
    .unwrap()
}

#[tokio::test]
async fn every_table_round_trips() {
    let app = TestApp::spawn().await;
    app.with_db(|c| {
        let s = shop(c, "round-trip.myshopify.com");
        let again = Shop::find(c, &s.id).unwrap();
        assert_eq!(again.install_state, InstallState::Uninstalled);
        assert_eq!(again.currency, "KWD");
        assert_eq!(again.uninstalled_at, s.uninstalled_at);
        assert_eq!(
            again.created_at, s.created_at,
            "timestamps keep microseconds on both engines"
        );

        let m = member(c, &s.id, "6000000000000000001");
        let found = Member::find_by_customer_id(c, &s.id, "6000000000000000001")
            .unwrap()
            .unwrap();
        assert_eq!(found.id, m.id);
        assert_eq!(found.birthday, NaiveDate::from_ymd_opt(1990, 2, 28));
        assert_eq!(found.last_name.as_deref(), Some("عربي"));
        assert_eq!(
            (
                found.points_balance,
                found.pending_points,
                found.lifetime_points
            ),
            (0, 0, 0)
        );

        let at = now();
        let line = NewLedgerEntry {
            id: new_id(),
            shop_id: s.id.clone(),
            member_id: m.id.clone(),
            delta: i64::MAX / 2,
            kind: "earn".into(),
            status: "pending".into(),
            reason: Some("Order #1001".into()),
            source: "order".into(),
            source_id: "18446744073709551615".into(),
            action: "earn".into(),
            idempotency_key: "order:18446744073709551615:earn".into(),
            detail: Some(r#"{"rule":{}}"#.into()),
            confirms_at: Some(at),
            expires_at: None,
            created_at: at,
            updated_at: at,
        };
        assert!(line.insert_once(c).unwrap());
        assert!(
            !line.insert_once(c).unwrap(),
            "the idempotency key is unique per shop"
        );
        let read = LedgerEntry::find_by_key(c, &s.id, "order:18446744073709551615:earn")
            .unwrap()
            .unwrap();
        assert_eq!(read.delta, i64::MAX / 2);
        assert_eq!(read.confirms_at, Some(at));

        let order = NewOrder {
            id: new_id(),
            shop_id: s.id.clone(),
            platform_order_id: "5001".into(),
            member_id: Some(m.id.clone()),
            name: Some("#1001".into()),
            email: m.email.clone(),
            financial_status: "paid".into(),
            cancelled: false,
            currency: "KWD".into(),
            subtotal_minor: 120_500,
            total_minor: 130_750,
            refunded_minor: 0,
            snapshot: "{}".into(),
            placed_at: at,
            platform_updated_at: at,
            created_at: at,
            updated_at: at,
        }
        .insert(c)
        .unwrap();
        assert_eq!(order.subtotal_minor, 120_500);

        let refund = Refund {
            id: new_id(),
            shop_id: s.id.clone(),
            platform_refund_id: "18446744073709551615".into(),
            platform_order_id: "5001".into(),
            facts: r#"{"lines":[]}"#.into(),
            amount_minor: 2_500,
            refunded_at: at,
            created_at: at,
        };
        assert!(refund.insert_once(c).unwrap());
        assert!(!refund.insert_once(c).unwrap(), "a refund is stored once");
        let stored_refunds = Refund::for_order(c, &s.id, "5001").unwrap();
        assert_eq!(stored_refunds.len(), 1);
        assert_eq!(stored_refunds[0].amount_minor, 2_500);
        assert_eq!(stored_refunds[0].refunded_at, at);

        use diesel::prelude::*;
        diesel::update(shops::table.find(&s.id))
            .set(shops::reconciled_until.eq(Some(at)))
            .execute(c)
            .unwrap();
        assert_eq!(Shop::find(c, &s.id).unwrap().reconciled_until, Some(at));

        let event = NewInboxEvent {
            id: new_id(),
            shop_id: s.id.clone(),
            platform: Platform::Shopify,
            topic: "orders/paid".into(),
            delivery_id: "d-1".into(),
            event_id: Some("e-1".into()),
            api_version: Some("2025-10".into()),
            triggered_at: Some(at),
            payload: r#"{"id":1}"#.into(),
            // Not `pending`: the running app's applier sweeps pending events every second and
            // would mark this one too, racing the assertions below.
            status: InboxStatus::Applied,
            error: None,
            attempts: 0,
            received_at: at,
            processed_at: None,
        };
        assert!(event.insert_once(c).unwrap());
        assert!(!event.insert_once(c).unwrap());
        InboxEvent::mark(
            c,
            &s.id,
            &event.id,
            InboxStatus::Failed,
            Some("bad shape"),
            now(),
        )
        .unwrap();
        let stored = InboxEvent::find(c, &s.id, &event.id).unwrap();
        assert_eq!(stored.status, InboxStatus::Failed);
        assert_eq!(stored.attempts, 1);

        let job = NewJob {
            id: new_id(),
            shop_id: s.id.clone(),
            kind: "apply_inbox_event".into(),
            payload: "{}".into(),
            dedupe_key: Some("k".into()),
            status: JobStatus::Queued,
            attempts: 0,
            max_attempts: 5,
            run_at: at,
            locked_until: None,
            last_error: None,
            created_at: at,
            updated_at: at,
        };
        assert!(job.enqueue(c).unwrap());
        let dup = NewJob {
            id: new_id(),
            ..job.clone()
        };
        assert!(
            !dup.enqueue(c).unwrap(),
            "a live job with the same dedupe key is not queued twice"
        );
        let claimed = Job::claim_next(c, now(), now() + chrono::Duration::minutes(5))
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, job.id);
        assert_eq!(claimed.status, JobStatus::Running);
        assert!(
            Job::claim_next(c, now(), now()).unwrap().is_none(),
            "a leased job is not claimed twice"
        );

        tier_tables_round_trip(c, &s.id, at);
        entry_rewards_round_trip(c, &s.id, at);
        nps_round_trip(c, &s.id, at);
        let fulfilment = Fulfilment {
            id: new_id(),
            shop_id: s.id.clone(),
            member_id: m.id.clone(),
            ledger_key: "fulfilment:f-1:debit".into(),
            reward_id: "give-5".into(),
            reward_title: "تبرّع".into(),
            kind: "donation".into(),
            charity: Some("Red Crescent".into()),
            amount_minor: Some(1_000_000_000_000),
            description: None,
            points: 10_000_000,
            status: FulfilmentStatus::Open,
            done_at: None,
            done_by: None,
            created_at: at,
            updated_at: at,
        };
        fulfilment.insert(c).unwrap();
        assert!(
            Fulfilment {
                id: new_id(),
                ..fulfilment.clone()
            }
            .insert(c)
            .is_err(),
            "the ledger key is unique per shop"
        );
        assert_eq!(
            Fulfilment::find(c, &s.id, &fulfilment.id).unwrap(),
            fulfilment
        );
        let listed = Fulfilment::list(c, &s.id, Some(FulfilmentStatus::Open), 10).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].customer_id.as_deref(),
            Some("6000000000000000001")
        );
        let done_at = now();
        assert!(Fulfilment::close(
            c,
            &s.id,
            &fulfilment.id,
            FulfilmentStatus::Done,
            Some("42"),
            done_at
        )
        .unwrap());
        assert!(
            !Fulfilment::close(
                c,
                &s.id,
                &fulfilment.id,
                FulfilmentStatus::Cancelled,
                None,
                now()
            )
            .unwrap(),
            "only an open fulfilment closes"
        );
        let done = Fulfilment::find(c, &s.id, &fulfilment.id).unwrap();
        assert_eq!(
            (done.status, done.done_at, done.done_by.as_deref()),
            (FulfilmentStatus::Done, Some(done_at), Some("42"))
        );
        assert_eq!(
            Fulfilment::donations(c, &s.id, at, at + chrono::Duration::seconds(1)).unwrap(),
            [DonationRow {
                charity: Some("Red Crescent".into()),
                amount_minor: Some(1_000_000_000_000),
                points: 10_000_000
            }]
        );

        assert_eq!(
            AppSetting::get_or_insert_with(c, "k", || "one".into()).unwrap(),
            "one"
        );
        assert_eq!(
            AppSetting::get_or_insert_with(c, "k", || "two".into()).unwrap(),
            "one"
        );
    })
    .await;
}

#[tokio::test]
async fn balances_cannot_go_negative_and_failed_transactions_change_nothing() {
    let app = TestApp::spawn().await;
    app.with_db(|c| {
        let s = shop(c, "negative.myshopify.com");
        let m = member(c, &s.id, "1");
        let below_zero = diesel::update(members::table.find(&m.id))
            .set(members::points_balance.eq(-1))
            .execute(c);
        assert!(below_zero.is_err(), "CHECK (points_balance >= 0) holds");
        let result: Result<(), diesel::result::Error> = write_transaction(c, |c| {
            diesel::update(members::table.find(&m.id))
                .set(members::points_balance.eq(500))
                .execute(c)?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(result.is_err());
        assert_eq!(Member::find(c, &s.id, &m.id).unwrap().points_balance, 0);
    })
    .await;
}

#[tokio::test]
async fn concurrent_write_transactions_do_not_lose_updates() {
    let app = TestApp::spawn().await;
    let (shop_id, member_id) = app
        .with_db(|c| {
            let s = shop(c, "race.myshopify.com");
            let m = member(c, &s.id, "1");
            (s.id, m.id)
        })
        .await;
    let mut handles = Vec::new();
    for _ in 0..4 {
        let db = app.db.clone();
        let (shop_id, member_id) = (shop_id.clone(), member_id.clone());
        handles.push(tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            for _ in 0..25 {
                write_transaction(&mut conn, |c| {
                    // Read, then write: the pattern that loses updates without the write lock.
                    let m = Member::lock(c, &shop_id, &member_id)?;
                    diesel::update(members::table.find(&m.id))
                        .set(members::points_balance.eq(m.points_balance + 1))
                        .execute(c)?;
                    Ok::<_, diesel::result::Error>(())
                })
                .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let balance = app
        .with_db(move |c| {
            Member::find(c, &shop_id, &member_id)
                .unwrap()
                .points_balance
        })
        .await;
    assert_eq!(balance, 100);
}

#[tokio::test]
async fn a_shop_cannot_read_another_shops_members() {
    let app = TestApp::spawn().await;
    app.with_db(|c| {
        let a = shop(c, "a.myshopify.com");
        let b = shop(c, "b.myshopify.com");
        let m = member(c, &a.id, "42");
        assert!(Member::find_by_customer_id(c, &b.id, "42")
            .unwrap()
            .is_none());
        assert!(Member::find(c, &b.id, &m.id).is_err());
        let count: i64 = shops::table.count().get_result(c).unwrap();
        assert_eq!(count, 2 + i64::from(Shop::find_demo(c).unwrap().is_some()));
    })
    .await;
}

/// The tier tables and the members' tier columns, field for field.
fn tier_tables_round_trip(c: &mut DbConnection, shop_id: &str, at: chrono::NaiveDateTime) {
    use boomerang::db::schema::{tier_activity, tier_events, tier_grants};
    let m = member(c, shop_id, "tier-rt");
    let day = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
    diesel::update(members::table.find(&m.id))
        .set((
            members::tier.eq(Some("gold")),
            members::tier_held_by.eq("grace"),
            members::tier_review_at.eq(Some(day)),
        ))
        .execute(c)
        .unwrap();
    let back = Member::find(c, shop_id, &m.id).unwrap();
    assert_eq!(
        (
            back.tier.as_deref(),
            back.tier_held_by.as_str(),
            back.tier_review_at
        ),
        (Some("gold"), "grace", Some(day))
    );
    diesel::insert_into(tier_activity::table)
        .values((
            tier_activity::shop_id.eq(shop_id),
            tier_activity::source.eq("order:1"),
            tier_activity::member_id.eq(&m.id),
            tier_activity::occurred_on.eq(day),
            tier_activity::points.eq(i64::MAX),
            tier_activity::spent_minor.eq(-5i64),
            tier_activity::orders.eq(1i64),
            tier_activity::counts_from.eq(at),
            tier_activity::counted.eq(true),
            tier_activity::updated_at.eq(at),
        ))
        .execute(c)
        .unwrap();
    let row: (
        String,
        NaiveDate,
        i64,
        i64,
        i64,
        chrono::NaiveDateTime,
        bool,
    ) = tier_activity::table
        .filter(tier_activity::shop_id.eq(shop_id))
        .select((
            tier_activity::member_id,
            tier_activity::occurred_on,
            tier_activity::points,
            tier_activity::spent_minor,
            tier_activity::orders,
            tier_activity::counts_from,
            tier_activity::counted,
        ))
        .first(c)
        .unwrap();
    assert_eq!(row, (m.id.clone(), day, i64::MAX, -5, 1, at, true));
    diesel::insert_into(tier_grants::table)
        .values((
            tier_grants::id.eq(new_id()),
            tier_grants::shop_id.eq(shop_id),
            tier_grants::member_id.eq(&m.id),
            tier_grants::membership_id.eq("club"),
            tier_grants::tier.eq("gold"),
            tier_grants::platform_order_id.eq("9"),
            tier_grants::starts_on.eq(day),
            tier_grants::ends_on.eq(day),
            tier_grants::revoked_at.eq(Some(at)),
            tier_grants::created_at.eq(at),
        ))
        .execute(c)
        .unwrap();
    let grant: (String, NaiveDate, Option<chrono::NaiveDateTime>) = tier_grants::table
        .filter(tier_grants::shop_id.eq(shop_id))
        .select((
            tier_grants::tier,
            tier_grants::ends_on,
            tier_grants::revoked_at,
        ))
        .first(c)
        .unwrap();
    assert_eq!(grant, ("gold".into(), day, Some(at)));
    diesel::insert_into(tier_events::table)
        .values((
            tier_events::id.eq(new_id()),
            tier_events::shop_id.eq(shop_id),
            tier_events::member_id.eq(&m.id),
            tier_events::from_tier.eq(None::<String>),
            tier_events::to_tier.eq(Some("gold")),
            tier_events::reason.eq("qualified"),
            tier_events::review_on.eq(Some(day)),
            tier_events::at.eq(at),
        ))
        .execute(c)
        .unwrap();
    let event: (
        Option<String>,
        Option<String>,
        String,
        Option<NaiveDate>,
        chrono::NaiveDateTime,
    ) = tier_events::table
        .filter(tier_events::shop_id.eq(shop_id))
        .select((
            tier_events::from_tier,
            tier_events::to_tier,
            tier_events::reason,
            tier_events::review_on,
            tier_events::at,
        ))
        .first(c)
        .unwrap();
    assert_eq!(
        event,
        (None, Some("gold".into()), "qualified".into(), Some(day), at)
    );
}

/// A granted redemption (no points) and the entry reward that points at it, field for field;
/// one row per member and tier, updated in place when the reward is given again.
fn entry_rewards_round_trip(c: &mut DbConnection, shop_id: &str, at: chrono::NaiveDateTime) {
    use boomerang::db::types::RedemptionStatus;
    let m = member(c, shop_id, "entry-rt");
    let redemption = |code: &str| Redemption {
        id: new_id(),
        shop_id: shop_id.into(),
        member_id: m.id.clone(),
        reward_id: "5-off".into(),
        reward: r#"{"id":"5-off"}"#.into(),
        points: 0,
        code: code.into(),
        status: RedemptionStatus::Pending,
        platform_discount_id: None,
        error: None,
        expires_at: at,
        created_at: at,
        updated_at: at,
    };
    let first = redemption("RT-FIRST");
    first.insert(c).unwrap();
    let back = Redemption::find(c, shop_id, &first.id).unwrap();
    assert_eq!(
        (
            back.points,
            back.status,
            back.code.as_str(),
            back.expires_at
        ),
        (0, RedemptionStatus::Pending, "RT-FIRST", at)
    );
    let record = EntryReward {
        id: new_id(),
        shop_id: shop_id.into(),
        member_id: m.id.clone(),
        tier: "gold".into(),
        issued_at: at,
        redemption_id: first.id.clone(),
    };
    record.insert(c).unwrap();
    assert_eq!(
        EntryReward::find(c, shop_id, &m.id, "gold").unwrap(),
        Some(record.clone())
    );
    assert!(
        EntryReward {
            id: new_id(),
            ..record.clone()
        }
        .insert(c)
        .is_err(),
        "one row per shop, member and tier"
    );
    let second = redemption("RT-SECOND");
    second.insert(c).unwrap();
    let later = at + chrono::Duration::days(400);
    EntryReward::reissued(c, shop_id, &record.id, later, &second.id).unwrap();
    let again = EntryReward::find(c, shop_id, &m.id, "gold")
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.issued_at, again.redemption_id.as_str()),
        (later, second.id.as_str())
    );
    assert_eq!(
        EntryReward::find(c, shop_id, &m.id, "silver").unwrap(),
        None
    );
}

fn nps_round_trip(c: &mut DbConnection, shop_id: &str, at: chrono::NaiveDateTime) {
    use boomerang::db::schema::{nps_responses, nps_surveys};
    let m = member(c, shop_id, "nps-rt");
    let day = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
    let survey = NpsSurvey {
        id: new_id(),
        shop_id: shop_id.into(),
        member_id: m.id.clone(),
        token: "ab".repeat(32),
        sent_on: day,
        created_at: at,
    };
    diesel::insert_into(nps_surveys::table)
        .values(survey.clone())
        .execute(c)
        .unwrap();
    assert_eq!(
        NpsSurvey::find_by_token(c, &survey.token).unwrap(),
        Some(survey.clone())
    );
    assert_eq!(
        NpsSurvey::last_sent_on(c, shop_id, &m.id).unwrap(),
        Some(day)
    );
    let response = NpsResponse {
        id: new_id(),
        shop_id: shop_id.into(),
        member_id: Some(m.id.clone()),
        survey_id: Some(survey.id.clone()),
        score: 10,
        comment: Some("ممتاز".into()),
        channel: "email".into(),
        answered_on: day,
        created_at: at,
        updated_at: at,
    };
    assert!(response.insert_once(c).unwrap());
    assert!(
        !NpsResponse {
            id: new_id(),
            score: 0,
            ..response.clone()
        }
        .insert_once(c)
        .unwrap(),
        "one response per survey"
    );
    assert_eq!(
        NpsResponse::find_by_survey(c, shop_id, &survey.id).unwrap(),
        Some(response.clone())
    );
    assert!(
        diesel::insert_into(nps_responses::table)
            .values(NpsResponse {
                id: new_id(),
                survey_id: None,
                score: 11,
                ..response
            })
            .execute(c)
            .is_err(),
        "scores stay within 0–10"
    );
}

/// An applier batch's commit does not wait for the disk (its events stay pending until it
/// commits, so a batch a power cut loses is applied again); every other write transaction's
/// does, also on a connection a replayable one used just before.
#[tokio::test]
async fn only_replayable_transactions_commit_without_waiting_for_the_disk() {
    use boomerang::db::{write_transaction_with, Durability};
    use diesel::sql_types::{Integer, Text};

    #[derive(QueryableByName)]
    struct Synchronous {
        #[diesel(sql_type = Integer)]
        synchronous: i32,
    }
    #[derive(QueryableByName)]
    struct SynchronousCommit {
        #[diesel(sql_type = Text)]
        synchronous_commit: String,
    }
    fn setting(c: &mut DbConnection) -> QueryResult<String> {
        match c {
            DbConnection::Postgresql(pg) => Ok(diesel::sql_query(
                "SELECT current_setting('synchronous_commit') AS synchronous_commit",
            )
            .get_result::<SynchronousCommit>(pg)?
            .synchronous_commit),
            DbConnection::Sqlite(lite) => Ok(diesel::sql_query("PRAGMA synchronous")
                .get_result::<Synchronous>(lite)?
                .synchronous
                .to_string()),
        }
    }

    let app = TestApp::spawn().await;
    let seen = app
        .with_db(|c| {
            let before = write_transaction(c, setting)?;
            let replayable = write_transaction_with(c, Durability::Replayable, setting)?;
            let after = write_transaction(c, setting)?;
            QueryResult::Ok([before, replayable, after])
        })
        .await
        .unwrap();
    // SQLite: 2 is FULL, 1 is NORMAL.
    let (synced, unsynced) = if app.test_db.is_postgres() {
        ("on", "off")
    } else {
        ("2", "1")
    };
    assert_eq!(seen, [synced, unsynced, synced]);
}
