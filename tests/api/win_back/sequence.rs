//! The sequence: entry once per lapse, the code, step 2 after its delay, the end on an order,
//! the hold-out and the subject variants.

use super::*;
use crate::smtp::Behaviour;

#[tokio::test]
async fn a_lapsed_customer_gets_a_code_then_step_two_after_its_delay_and_an_order_ends_it() {
    let server = platform().await;
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&server, &listener, program(0, json!([]), true)).await;
    // Ann lapsed 9 days ago (last order 100 days ago), Ben 19 days ago, Cy is not lapsed.
    deliver(&app, SHOP, &order(1, 7101, "40.00", 100)).await;
    deliver(&app, SHOP, &order(2, 7102, "40.00", 110)).await;
    deliver(&app, SHOP, &order(3, 7103, "40.00", 60)).await;
    let before = listener.received().len();

    daily_pass(&app, SHOP).await;
    let entered = entries(&app, SHOP).await;
    assert_eq!(
        entered,
        vec![
            ("7101".into(), false, None, 1, None),
            ("7102".into(), false, None, 1, None),
        ]
    );
    // Step 1: each got a code made for them alone, single use, expiring.
    let received = listener.received();
    let mails: Vec<String> = received[before..]
        .iter()
        .map(|m| String::from_utf8_lossy(&m.raw).into_owned())
        .collect();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().all(|m| m.contains("BACK-")), "{mails:?}");
    let creates: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .filter(|b| b.contains("discountCodeBasicCreate"))
        .collect();
    assert_eq!(creates.len(), 2);
    for (customer, body) in [("7101", &creates), ("7102", &creates)] {
        let mine = body
            .iter()
            .find(|b| b.contains(&format!("gid://shopify/Customer/{customer}")))
            .expect("a code bound to the customer");
        assert!(
            mine.contains("\"usageLimit\":1") && mine.contains("endsAt"),
            "{mine}"
        );
    }

    // The next day's pass: Ben's step 2 is due (19 − 14 days after entry), Ann's in 5 days.
    daily_pass(&app, SHOP).await;
    let entered = entries(&app, SHOP).await;
    assert_eq!(entered[0].3, 1, "Ann waits for step 2");
    assert_eq!(
        entered[1],
        ("7102".into(), false, None, 2, Some("finished".into()))
    );
    assert_eq!(listener.received().len(), before + 3);

    // Ann orders: her sequence ends at once, in the order's own transaction.
    deliver(&app, SHOP, &order(4, 7101, "25.00", 0)).await;
    run_jobs(&app).await;
    assert_eq!(entries(&app, SHOP).await[0].4.as_deref(), Some("ordered"));
    // Nobody enters twice for the same lapse, and nothing more goes out.
    daily_pass(&app, SHOP).await;
    daily_pass(&app, SHOP).await;
    assert_eq!(entries(&app, SHOP).await.len(), 2);
    let log = win_back_log(&app, SHOP).await;
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|(_, status, _, _)| status == "sent"));
}

#[tokio::test]
async fn the_holdout_and_the_variants_split_a_thousand_lapsed_customers_close_to_their_shares() {
    let server = platform().await;
    let listener = SmtpListener::start(Behaviour::Accept);
    let variants = json!([
        {"id": "a", "subject": {"en": "We saved you a seat"}},
        {"id": "b", "subject": {"en": "It's been a while"}}
    ]);
    let (app, _) = setup(&server, &listener, program(20, variants, false)).await;
    for i in 0..1000u64 {
        deliver(&app, SHOP, &order(10_000 + i, 20_000 + i, "30.00", 100)).await;
    }
    daily_pass(&app, SHOP).await;
    let entered = entries(&app, SHOP).await;
    assert_eq!(entered.len(), 1000);
    let held: Vec<_> = entered.iter().filter(|e| e.1).collect();
    // 20 % of 1,000: standard deviation 12.6, so 140–260 is more than four of them each side.
    assert!((140..=260).contains(&held.len()), "{} held out", held.len());
    assert!(held.iter().all(|e| e.2.is_none()));
    let treated = 1000 - held.len();
    let a = entered
        .iter()
        .filter(|e| e.2.as_deref() == Some("a"))
        .count();
    let b = entered
        .iter()
        .filter(|e| e.2.as_deref() == Some("b"))
        .count();
    assert_eq!(a + b, treated);
    let spread = 4.0 * (treated as f64 * 0.25).sqrt();
    assert!(
        (a as f64 - treated as f64 / 2.0).abs() <= spread,
        "a {a}, b {b}"
    );
    // The hold-out gets nothing; each treated customer gets their variant's subject.
    let received = listener.received();
    assert_eq!(received.len(), treated);
    let (statuses, subjects) = app
        .with_db(|c| {
            use boomerang::db::schema::emails;
            use diesel::prelude::*;
            let statuses: Vec<(String, Option<String>, Option<String>)> = emails::table
                .filter(emails::kind.eq("win_back"))
                .select((emails::status, emails::variant, emails::subject))
                .load(c)
                .unwrap();
            let held = statuses.iter().filter(|s| s.0 == "held_out").count();
            (held, statuses)
        })
        .await;
    assert_eq!(statuses, held.len());
    for (status, variant, subject) in subjects.iter().filter(|s| s.0 == "sent") {
        let want = match variant.as_deref() {
            Some("a") => "We saved you a seat",
            Some("b") => "It's been a while",
            other => panic!("a sent win-back without a variant: {other:?} ({status})"),
        };
        assert_eq!(subject.as_deref(), Some(want));
    }
}
