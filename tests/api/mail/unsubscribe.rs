//! One-click unsubscribe (RFC 8058), the confirmation page, consent from the platform.

use super::*;
use crate::smtp::{Behaviour, SmtpListener};

fn unsubscribe_url(raw: &[u8]) -> String {
    let h = headers(raw);
    header(&h, "List-Unsubscribe")
        .unwrap()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .replace("http://localhost:8080", "")
}

#[tokio::test]
async fn one_click_unsubscribe_stops_marketing_at_once_and_a_get_changes_nothing() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({})).await;
    let paid = order(1401, (7401, "jo@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1401", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    let path = unsubscribe_url(&listener.received()[0].raw);

    // A link scanner's GET shows a page with a button and suppresses nothing.
    let page = app.get(&path).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");
    let paid = order(1402, (7401, "jo@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1402", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    assert_eq!(listener.received().len(), 2);

    // The mail client's one-click POST.
    let resp = app
        .client
        .post(app.url(&path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let paid = order(1403, (7401, "jo@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1403", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    assert_eq!(listener.received().len(), 2, "nothing after unsubscribing");
    assert_eq!(kinds(&app, "suppressed").await, vec!["points_earned"]);

    // A forged or mangled token does nothing and says so.
    let forged = format!("{}0", path);
    let resp = app.client.post(app.url(&forged)).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(app.get("/email/unsubscribe?t=nope").await.status(), 404);
}

#[tokio::test]
async fn consent_withdrawn_on_the_platform_suppresses_and_given_again_restores() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({})).await;
    let mut customer = customer_json(7501, "kay@example.com", "Kay");
    assert_eq!(
        app.deliver(SHOP, "customers/create", "c-1", &customer)
            .await,
        "accepted"
    );
    customer["email_marketing_consent"] = json!({"state": "unsubscribed"});
    customer["updated_at"] = json!((Utc::now() + Duration::seconds(1)).to_rfc3339());
    assert_eq!(
        app.deliver(SHOP, "customers/update", "c-2", &customer)
            .await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    assert_eq!(kinds(&app, "suppressed").await, vec!["welcome"]);
    customer["email_marketing_consent"] = json!({"state": "subscribed"});
    customer["updated_at"] = json!((Utc::now() + Duration::seconds(2)).to_rfc3339());
    assert_eq!(
        app.deliver(SHOP, "customers/update", "c-3", &customer)
            .await,
        "accepted"
    );
    let paid = order(1501, (7501, "kay@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1501", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    assert_eq!(kinds(&app, "sent").await, vec!["points_earned"]);
}
