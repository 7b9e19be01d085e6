//! Replenishment reminders: a product's usual interval from the shop's own history (at least
//! five customers buying it twice), one reminder `lead_days` before it for a customer who
//! bought it once, none for one who bought it again or for a product without an interval.

use super::*;
use crate::smtp::Behaviour;

/// A paid order of one unit of `product` ("Coffee beans" and friends) placed `days` ago.
fn purchase(id: u64, customer: u64, product: u64, days: i64) -> Value {
    let mut body = order(id, customer, "18.00", days);
    body["line_items"][0]["product_id"] = json!(product);
    body["line_items"][0]["title"] = json!(format!("Product {product}\r\nBcc: x@y.z"));
    body
}

#[tokio::test]
async fn a_customer_who_bought_once_is_reminded_before_the_usual_interval_and_only_once() {
    let server = platform().await;
    let listener = SmtpListener::start(Behaviour::Accept);
    let settings = json!({
        "replenishment": {"enabled": true, "lead_days": 3},
        "emails": {"policy": {"quiet_hours": null, "max_per_week": 10},
                   "enabled": {"nps_survey": false}}
    });
    let (app, _) = setup(&server, &listener, settings).await;
    let mut id = 1000;
    let mut next = || {
        id += 1;
        id
    };
    // Product 501: five customers buy it 30 days apart (and one 32): the usual interval is 30.
    for customer in 8001..=8005u64 {
        let gap = if customer == 8005 { 32 } else { 30 };
        deliver(&app, SHOP, &purchase(next(), customer, 501, 200)).await;
        deliver(&app, SHOP, &purchase(next(), customer, 501, 200 - gap)).await;
    }
    // Product 502: only four repeat customers, so no interval and no reminders.
    for customer in 8011..=8014u64 {
        deliver(&app, SHOP, &purchase(next(), customer, 502, 200)).await;
        deliver(&app, SHOP, &purchase(next(), customer, 502, 170)).await;
    }
    // Bought once 28 days ago: reminded (30 − 3 = 27 days after). 10 days ago: not yet.
    // 28 days ago and again 2 days ago: bought again, no reminder. 502 once: no interval.
    deliver(&app, SHOP, &purchase(next(), 8101, 501, 28)).await;
    deliver(&app, SHOP, &purchase(next(), 8102, 501, 10)).await;
    deliver(&app, SHOP, &purchase(next(), 8103, 501, 28)).await;
    deliver(&app, SHOP, &purchase(next(), 8103, 501, 2)).await;
    deliver(&app, SHOP, &purchase(next(), 8104, 502, 28)).await;
    // Long ago, past the catch-up window: switching reminders on does not mail the past.
    deliver(&app, SHOP, &purchase(next(), 8105, 501, 120)).await;
    let before = listener.received().len();

    daily_pass(&app, SHOP).await;
    daily_pass(&app, SHOP).await;
    let reminders: Vec<String> = app
        .with_db(|c| {
            use boomerang::db::schema::{emails, members};
            use diesel::prelude::*;
            emails::table
                .inner_join(members::table.on(members::id.eq(emails::member_id)))
                .filter(emails::kind.eq("replenishment"))
                .select(members::platform_customer_id.assume_not_null())
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(reminders, vec!["8101".to_owned()]);
    let received = listener.received();
    let mails: Vec<String> = received[before..]
        .iter()
        .map(|m| String::from_utf8_lossy(&m.raw).into_owned())
        .filter(|m| m.contains("restock"))
        .collect();
    assert_eq!(mails.len(), 1);
    // The product's title, from the order line, with no header injection.
    let headers = crate::mail::headers(mails[0].as_bytes());
    let subject = crate::mail::header(&headers, "Subject").unwrap();
    assert!(subject.contains("Product 501 Bcc: x@y.z"), "{subject}");
    assert!(
        !headers.to_ascii_lowercase().contains("\r\nbcc:"),
        "{headers}"
    );
}
