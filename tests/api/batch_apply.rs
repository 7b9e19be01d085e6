//! The applier's batches against one event at a time, for the ledger path: one history stored
//! as pending events that an applier takes in one batch (orders and refunds read together at
//! its start, outcomes, engagement days and deliverer wake-ups written at its end), and the
//! same history delivered one webhook at a time to another shop. Every balance, ledger line,
//! tier, tier activity row, engagement day, queued e-mail (the points mail written at the
//! batch's end, a suppressed address's too) and inbox outcome must be the same.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::schema::{
    emails, inbox_events, jobs, ledger_entries, members, metric_engagement, nps_surveys,
    tier_activity,
};

use crate::helpers::{order_json, placed_days_ago, refund_json, TestApp};

const BATCHED: &str = "batched.myshopify.com";
const ONE_BY_ONE: &str = "one-by-one.myshopify.com";

/// One applier thread, so the stored history is one batch. On PostgreSQL two appliers whose
/// sweeps fall at the same moment may each claim part of it (`SKIP LOCKED` takes what the other
/// has not locked yet): correct, the customers locked apart, but two batches applied side by
/// side are not the one batch this test compares with one event at a time (it failed CI once
/// that way: the history marked at two times).
pub(crate) const ONE_APPLIER: &[(&str, &str)] = &[("INBOX_APPLIERS", "1")];

/// A paid order of one line, dated `days` ago (its own date decides windows and tiers).
fn order(id: u64, customer: Option<(u64, &str)>, amount: &str, days: i64) -> Value {
    placed_days_ago(
        order_json(id, customer, "paid", &[(id * 10, 1, amount)]),
        days,
    )
}

/// Spend tiers whose Gold doubles the points, so a promotion in the middle of the batch changes
/// what the next order earns.
async fn with_tiers(app: &TestApp, shop: &str) {
    let program = json!({"tiers": {
        "basis": "amount_spent", "window": "lifetime", "grace_days": 30,
        "levels": [
            {"id": "silver", "name": "Silver", "threshold": 5000},
            {"id": "gold", "name": "Gold", "threshold": 20000, "earn_multiplier_pct": 200}
        ]
    }});
    let resp = crate::referrals::put_program(app, shop, program).await;
    assert_eq!(resp.status(), 200);
}

/// What a shop holds after the history, with members named by customer id or e-mail (the
/// rows' own ids differ between shops). Each list sorted.
#[derive(Debug, PartialEq)]
struct Outcome {
    members: Vec<String>,
    ledger: Vec<String>,
    tier_activity: Vec<String>,
    engagement: Vec<String>,
    emails: Vec<String>,
    surveys: Vec<String>,
    inbox: Vec<String>,
    deliverer_woken: bool,
}

async fn outcome(app: &TestApp, shop_id: &str) -> Outcome {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        type MemberRow = (String, Option<String>, Option<String>, Option<String>);
        let rows: Vec<MemberRow> = members::table
            .filter(members::shop_id.eq(&shop_id))
            .select((
                members::id,
                members::platform_customer_id,
                members::email,
                members::merged_into,
            ))
            .load(c)
            .unwrap();
        let name = |id: &str| {
            let (_, customer, email, merged) = rows.iter().find(|m| m.0 == id).unwrap();
            format!("{customer:?}/{email:?}/merged:{}", merged.is_some())
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        type Balances = (String, i64, i64, i64, Option<String>, bool, Option<String>);
        let balances: Vec<Balances> = members::table
            .filter(members::shop_id.eq(&shop_id))
            .select((
                members::id,
                members::points_balance,
                members::pending_points,
                members::lifetime_points,
                members::tier,
                members::email_verified,
                members::locale,
            ))
            .load(c)
            .unwrap();
        let members = sorted(
            balances
                .iter()
                .map(|(id, b, p, l, tier, verified, locale)| {
                    format!("{} {b} {p} {l} {tier:?} {verified} {locale:?}", name(id))
                })
                .collect(),
        );
        type Line = (String, i64, String, String, String, String);
        let lines: Vec<Line> = ledger_entries::table
            .filter(ledger_entries::shop_id.eq(&shop_id))
            .select((
                ledger_entries::member_id,
                ledger_entries::delta,
                ledger_entries::kind,
                ledger_entries::status,
                ledger_entries::source_id,
                ledger_entries::action,
            ))
            .load(c)
            .unwrap();
        let ledger = sorted(
            lines
                .iter()
                .map(|(m, d, k, s, src, a)| format!("{} {d} {k} {s} {src} {a}", name(m)))
                .collect(),
        );
        type Activity = (String, String, i64, i64, i64, bool);
        let activity: Vec<Activity> = tier_activity::table
            .filter(tier_activity::shop_id.eq(&shop_id))
            .select((
                tier_activity::source,
                tier_activity::member_id,
                tier_activity::points,
                tier_activity::spent_minor,
                tier_activity::orders,
                tier_activity::counted,
            ))
            .load(c)
            .unwrap();
        let tier_activity = sorted(
            activity
                .iter()
                .map(|(s, m, p, sp, o, cn)| format!("{s} {} {p} {sp} {o} {cn}", name(m)))
                .collect(),
        );
        let days: Vec<(String, chrono::NaiveDate, Option<chrono::NaiveDate>)> =
            metric_engagement::table
                .filter(metric_engagement::shop_id.eq(&shop_id))
                .select((
                    metric_engagement::member_id,
                    metric_engagement::day,
                    metric_engagement::previous_day,
                ))
                .load(c)
                .unwrap();
        let engagement = sorted(
            days.iter()
                .map(|(m, d, p)| format!("{} {d} {p:?}", name(m)))
                .collect(),
        );
        let mail: Vec<(String, String, String, String)> = emails::table
            .filter(emails::shop_id.eq(&shop_id))
            .select((
                emails::member_id,
                emails::kind,
                emails::occasion,
                emails::status,
            ))
            .load(c)
            .unwrap();
        // A tier event's occasion names the event row, whose id differs between shops.
        let occasion = |o: &str| o.split(':').next().unwrap_or_default().to_owned();
        let emails = sorted(
            mail.iter()
                .map(|(m, k, o, s)| {
                    let o = if o.starts_with("tier_event:") {
                        occasion(o)
                    } else {
                        o.clone()
                    };
                    format!("{} {k} {o} {s}", name(m))
                })
                .collect(),
        );
        let sent: Vec<(String, chrono::NaiveDate)> = nps_surveys::table
            .filter(nps_surveys::shop_id.eq(&shop_id))
            .select((nps_surveys::member_id, nps_surveys::sent_on))
            .load(c)
            .unwrap();
        let surveys = sorted(
            sent.iter()
                .map(|(m, d)| format!("{} {d}", name(m)))
                .collect(),
        );
        let outcomes: Vec<(String, String, i32)> = inbox_events::table
            .filter(inbox_events::shop_id.eq(&shop_id))
            .select((
                inbox_events::delivery_id,
                inbox_events::status,
                inbox_events::attempts,
            ))
            .load(c)
            .unwrap();
        let inbox = sorted(
            outcomes
                .iter()
                .map(|(d, s, a)| format!("{d} {s} {a}"))
                .collect(),
        );
        let wakes: i64 = jobs::table
            .filter(jobs::shop_id.eq(&shop_id))
            .filter(jobs::kind.eq("deliver_emails"))
            .count()
            .get_result(c)
            .unwrap();
        Outcome {
            members,
            ledger,
            tier_activity,
            engagement,
            emails,
            surveys,
            inbox,
            deliverer_woken: wakes > 0,
        }
    })
    .await
}

#[tokio::test]
async fn a_history_applied_in_one_batch_leaves_what_it_leaves_one_event_at_a_time() {
    let app = TestApp::spawn_with(ONE_APPLIER).await;
    let batched = app.add_shop(BATCHED, "USD").await;
    let one_by_one = app.add_shop(ONE_BY_ONE, "USD").await;
    with_tiers(&app, BATCHED).await;
    with_tiers(&app, ONE_BY_ONE).await;
    let ada = (7001, "ada@example.com");
    let bob = (7002, "bob@example.com");
    let carol = (7003, "guest@example.com");
    let dave = (7004, "dave@example.com");
    let erin = (7005, "erin@example.com");
    let frank = (7006, "frank@example.com");
    let gina = (7008, "gina@example.com");
    // Members the batch finds already there, so what it reads of them when it starts is used.
    let mut gina_unproven = order(61, Some(gina), "10.00", 3);
    gina_unproven["email"] = json!("not-gina@example.com");
    let before: Vec<(&str, &str, Value)> = vec![
        // Erin and Frank have one counted order each.
        ("orders/paid", "b1", order(50, Some(erin), "20.00", 0)),
        ("orders/paid", "b2", order(51, Some(frank), "20.00", 0)),
        // Gina's guest order, and her account, whose order did not prove the guest's e-mail hers.
        (
            "orders/paid",
            "b3",
            order(60, Some((0, gina.1)), "10.00", 3),
        ),
        ("orders/paid", "b4", gina_unproven),
    ];
    let mut frank_cancelled = order(51, None, "20.00", 0);
    frank_cancelled["cancelled_at"] = json!(Utc::now().to_rfc3339());
    frank_cancelled["updated_at"] = frank_cancelled["cancelled_at"].clone();
    let mut with_locale = order(3, Some(ada), "50.00", 1);
    with_locale["customer_locale"] = json!("ar");
    let mut bob_cancelled = order(5, Some(bob), "40.00", 40);
    bob_cancelled["cancelled_at"] = json!((Utc::now() - Duration::days(39)).to_rfc3339());
    bob_cancelled["updated_at"] = bob_cancelled["cancelled_at"].clone();
    let history: Vec<(&str, &str, Value)> = vec![
        // First, while what the batch read at its start is in use (a guest made or merged
        // further on forgets it). A guest checkout with Erin's proven e-mail is hers: her second order (a survey), then
        // her own third (none: surveyed today). What the batch read of her at its start is
        // stale after the first.
        (
            "orders/paid",
            "h16",
            order(52, Some((0, erin.1)), "20.00", 0),
        ),
        ("orders/paid", "h17", order(53, Some(erin), "20.00", 0)),
        // Frank's order cancelled by a delivery that does not name him, then his next: still his
        // only counted order (no survey).
        ("orders/cancelled", "h18", frank_cancelled),
        ("orders/paid", "h19", order(54, Some(frank), "20.00", 0)),
        // Gina's account orders with her e-mail: it claims the guest read at the batch's start.
        ("orders/paid", "h20", order(62, Some(gina), "10.00", 2)),
        // Ada reaches Gold (200.00) with her second order; the third earns double.
        ("orders/paid", "h1", order(1, Some(ada), "120.00", 60)),
        ("orders/paid", "h2", order(2, Some(ada), "100.00", 45)),
        ("orders/updated", "h3", order(1, Some(ada), "120.00", 60)),
        ("orders/paid", "h4", with_locale),
        // A refund of an order earlier in the batch, and a refund before its order.
        (
            "refunds/create",
            "h5",
            refund_json(21, 2, &[(20, 1, "30.00")], "30.00"),
        ),
        (
            "refunds/create",
            "h6",
            refund_json(41, 4, &[(40, 1, "10.00")], "10.00"),
        ),
        ("orders/paid", "h7", order(4, Some(bob), "60.00", 40)),
        ("orders/paid", "h8", order(5, Some(bob), "40.00", 40)),
        ("orders/cancelled", "h9", bob_cancelled),
        // A guest, then an account with the guest's e-mail ordering with it (claims it).
        (
            "orders/paid",
            "h10",
            order(6, Some((0, carol.1)), "20.00", 2),
        ),
        ("orders/paid", "h11", order(7, Some(carol), "30.00", 1)),
        // Anonymous, and today's second order of Bob (mail and a survey are due).
        ("orders/paid", "h12", order(8, None, "25.00", 1)),
        ("orders/paid", "h13", order(9, Some(bob), "15.00", 0)),
        ("orders/paid", "h14", order(10, Some(bob), "16.00", 0)),
        // Today's order of a customer whose address is on the suppression list.
        ("orders/paid", "h15", order(11, Some(dave), "20.00", 0)),
    ];
    for shop_id in [&batched, &one_by_one] {
        let shop_id = shop_id.clone();
        app.with_db(move |c| {
            boomerang::db::models::email::suppress(
                c,
                &shop_id,
                dave.1,
                "unsubscribed",
                boomerang::db::now(),
            )
            .unwrap();
        })
        .await;
    }
    for shop in [ONE_BY_ONE, BATCHED] {
        for (topic, id, body) in &before {
            app.deliver(shop, topic, id, body).await;
            crate::ingest::drained(&app).await;
        }
    }
    // Each applied before the next is sent: with two appliers (PostgreSQL), events of different
    // customers sent back to back may be applied in either order (a guest's order and the
    // account that claims it, say), which is not the history this shop is the reference for.
    for (topic, id, body) in &history {
        app.deliver(ONE_BY_ONE, topic, id, body).await;
        crate::ingest::drained(&app).await;
    }
    crate::ingest::store_pending(&app, &batched, history).await;
    crate::ingest::drained(&app).await;

    let kept = outcome(&app, &batched).await;
    assert_eq!(kept, outcome(&app, &one_by_one).await);
    // Applied together (on PostgreSQL the awards held to the batch's end; the outcomes marked by one
    // statement), not rolled back and applied again event by event, where each event is marked
    // at its own time.
    let marked_at = {
        let batched = batched.clone();
        app.with_db(move |c| {
            inbox_events::table
                .filter(inbox_events::shop_id.eq(&batched))
                // The history's, not those delivered before it one at a time.
                .filter(inbox_events::delivery_id.like("h%"))
                .select(inbox_events::processed_at)
                .distinct()
                .load::<Option<chrono::NaiveDateTime>>(c)
                .unwrap()
        })
        .await
    };
    assert_eq!(marked_at.len(), 1, "{marked_at:?}");
    // The batch did what the history asks, not merely the same wrong thing twice.
    let ada_row = kept
        .members
        .iter()
        .find(|m| m.starts_with("Some(\"7001\")"))
        .unwrap();
    assert!(ada_row.contains("Some(\"gold\")"), "{kept:#?}");
    assert!(ada_row.contains("Some(\"ar\")"), "{kept:#?}");
    assert!(
        kept.members.iter().any(|m| m.contains("merged:true")),
        "{kept:#?}"
    );
    // Carol's account, made by her order, claimed her guest order: that is her second order,
    // and the survey is due (the account is new, but not without history).
    assert!(
        kept.surveys.iter().any(|s| s.starts_with("Some(\"7003\")")),
        "{kept:#?}"
    );
    assert!(
        kept.ledger
            .iter()
            .any(|l| l.contains(" reversal ") && l.contains(" 2 ")),
        "{kept:#?}"
    );
    // Order 4's refund (its whole line) came before it: its tier points are its award net of
    // the reversal the order's own event posted (nothing), not the award alone.
    let order_4_net: i64 = kept
        .ledger
        .iter()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .filter(|f| f[4] == "4" && (f[2] == "earn" || f[2] == "reversal"))
        .map(|f| f[1].parse::<i64>().unwrap())
        .sum();
    let order_4_tier: Vec<&str> = kept
        .tier_activity
        .iter()
        .find(|row| row.starts_with("order:4 "))
        .unwrap()
        .split(' ')
        .collect();
    assert_eq!(order_4_tier[2], order_4_net.to_string(), "{kept:#?}");
    assert!(!kept.engagement.is_empty(), "{kept:#?}");
    assert!(
        kept.emails.iter().any(|m| m.contains("points_earned")),
        "{kept:#?}"
    );
    assert!(
        kept.emails
            .iter()
            .any(|m| m.contains("points_earned order:11 suppressed")),
        "{kept:#?}"
    );
    assert!(kept.deliverer_woken, "{kept:#?}");
    // Erin surveyed once (her second order), Frank not at all, Gina's guest claimed.
    let surveyed = |who: &str| kept.surveys.iter().filter(|s| s.starts_with(who)).count();
    assert_eq!(surveyed("Some(\"7005\")"), 1, "{kept:#?}");
    assert_eq!(surveyed("Some(\"7006\")"), 0, "{kept:#?}");
    assert!(
        kept.members
            .iter()
            .any(|m| m.starts_with("None/Some(\"gina@example.com\")/merged:true")),
        "{kept:#?}"
    );
    assert!(
        kept.inbox.iter().all(|row| row.ends_with(" applied 1")),
        "{kept:#?}"
    );
}

/// A tier row the batch held as not counting yet that was stored counting (the return window
/// grew since the row was first written): the batch fails at its end and its events are
/// applied one at a time, where the rewrite keeps the row counting and assesses its member.
#[tokio::test]
async fn a_held_tier_row_stored_counting_already_sends_the_batch_event_by_event() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(BATCHED, "USD").await;
    let put = |program: Value| async {
        let resp = crate::referrals::put_program(&app, BATCHED, program).await;
        assert_eq!(resp.status(), 200);
    };
    let tiers = json!({"basis": "orders", "window": "lifetime", "grace_days": 0, "levels": [
        {"id": "silver", "name": "Silver", "threshold": 1},
        {"id": "gold", "name": "Gold", "threshold": 2}
    ]});
    put(json!({"earning": {"pending_days": 14}, "tiers": tiers})).await;
    let ada = (7001, "ada@example.com");
    // Placed 20 days ago: past its 14-day window, it counts when first written.
    app.deliver(
        BATCHED,
        "orders/paid",
        "d1",
        &order(1, Some(ada), "30.00", 20),
    )
    .await;
    crate::ingest::drained(&app).await;
    put(json!({"earning": {"pending_days": 30}, "tiers": tiers})).await;
    // A newer version of that order and another customer's new order, in one batch.
    let mut updated = order(1, Some(ada), "30.00", 20);
    updated["updated_at"] = json!(Utc::now().to_rfc3339());
    let batch = vec![
        ("orders/updated", "d2", updated),
        (
            "orders/paid",
            "d3",
            order(2, Some((7002, "bob@example.com")), "10.00", 0),
        ),
    ];
    crate::ingest::store_pending(&app, &shop_id, batch).await;
    crate::ingest::drained(&app).await;

    let shop = shop_id.clone();
    let (marked, rows, tier) = app
        .with_db(move |c| {
            let marked: Vec<(String, Option<chrono::NaiveDateTime>)> = inbox_events::table
                .filter(inbox_events::shop_id.eq(&shop))
                .filter(inbox_events::delivery_id.eq_any(["d2", "d3"]))
                .filter(inbox_events::status.eq("applied"))
                .select((inbox_events::delivery_id, inbox_events::processed_at))
                .load(c)
                .unwrap();
            let rows: Vec<(String, bool, i64)> = tier_activity::table
                .filter(tier_activity::shop_id.eq(&shop))
                .select((
                    tier_activity::source,
                    tier_activity::counted,
                    tier_activity::orders,
                ))
                .order(tier_activity::source)
                .load(c)
                .unwrap();
            let tier: Option<String> = members::table
                .filter(members::shop_id.eq(&shop))
                .filter(members::platform_customer_id.eq("7001"))
                .select(members::tier)
                .first(c)
                .unwrap();
            (marked, rows, tier)
        })
        .await;
    assert_eq!(marked.len(), 2, "{marked:?}");
    if app.test_db.is_postgres() {
        // Held on PostgreSQL, refused at the batch's end: each event marked at its own time.
        assert_ne!(marked[0].1, marked[1].1, "{marked:?}");
    }
    assert_eq!(
        rows,
        vec![
            ("order:1".to_owned(), true, 1),
            ("order:2".to_owned(), false, 1)
        ]
    );
    assert_eq!(tier.as_deref(), Some("silver"));
}

/// On PostgreSQL an applier batch holds a new order's row (with its award and tier row) to its
/// end; the order stored meanwhile by another writer fails the batch, which keeps nothing (the
/// applier then applies it event by event). On SQLite the row is written at once.
#[tokio::test]
async fn a_held_order_stored_meanwhile_fails_the_batch() {
    use boomerang::db::models::{NewOrder, Order, Shop};
    use boomerang::db::{new_id, now, write_transaction};
    use boomerang::domain::event::Event;
    use boomerang::domain::money::Currency;
    use boomerang::services::batch::Batch;
    use boomerang::services::ledger::LedgerError;

    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(BATCHED, "USD").await;
    let postgres = app.test_db.is_postgres();
    let body = order(1, Some((7001, "ada@example.com")), "30.00", 0);
    let mapped = boomerang::platform::shopify::payload::map_shopify(
        "orders/paid",
        &body,
        &Currency::parse("USD").unwrap(),
    )
    .unwrap();
    let Some(Event::Order(facts)) = mapped else {
        panic!("{mapped:?}")
    };
    let shop = shop_id.clone();
    let outcome = app
        .with_db(move |c| {
            let shop = Shop::find(c, &shop).unwrap();
            write_transaction(c, |c| -> Result<(), LedgerError> {
                let batch = Batch::begin();
                boomerang::services::earn::apply_order(c, &shop, &facts, false, now())?;
                let stored = Order::find_by_platform_id(c, &shop.id, "1")?;
                assert_eq!(stored.is_none(), postgres, "held on PostgreSQL only");
                if postgres {
                    let t = now();
                    let meanwhile = NewOrder {
                        id: new_id(),
                        shop_id: shop.id.clone(),
                        platform_order_id: "1".into(),
                        member_id: None,
                        name: None,
                        email: None,
                        financial_status: "paid".into(),
                        cancelled: false,
                        currency: "USD".into(),
                        subtotal_minor: 3000,
                        total_minor: 3000,
                        refunded_minor: 0,
                        snapshot: "{}".into(),
                        placed_at: t,
                        platform_updated_at: t,
                        created_at: t,
                        updated_at: t,
                    };
                    assert!(meanwhile.insert_once(c)?);
                }
                batch.finish(c, true)?;
                Ok(())
            })
        })
        .await;
    let kept = app
        .with_db(move |c| {
            let orders: i64 = boomerang::db::schema::orders::table
                .filter(boomerang::db::schema::orders::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap();
            let lines: i64 = ledger_entries::table
                .filter(ledger_entries::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap();
            (orders, lines)
        })
        .await;
    if postgres {
        assert!(
            matches!(&outcome, Err(LedgerError::Database(e)) if e.to_string().contains("stored meanwhile")),
            "{outcome:?}"
        );
        assert_eq!(kept, (0, 0));
    } else {
        outcome.unwrap();
        assert_eq!(kept, (1, 1));
    }
}
