//! The sending policy through the outbox: the weekly cap and its digest, quiet hours, sunset;
//! transactional mail exempt.

use super::*;
use crate::smtp::{Behaviour, SmtpListener};

#[tokio::test]
async fn over_the_weekly_cap_mail_waits_for_one_digest() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({"policy": {"max_per_week": 1}})).await;
    assert_eq!(
        app.deliver(
            SHOP,
            "customers/create",
            "c-1",
            &customer_json(7101, "gil@example.com", "Gil")
        )
        .await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    for (id, amount) in [(1101, "30.00"), (1102, "40.00")] {
        let paid = order(id, (7101, "gil@example.com"), amount, 0);
        assert_eq!(
            app.deliver(SHOP, "orders/paid", &format!("o-{id}"), &paid)
                .await,
            "accepted"
        );
    }
    run_jobs(&app, Duration::zero()).await;
    assert_eq!(kinds(&app, "sent").await, vec!["welcome"]);
    assert_eq!(
        kinds(&app, "capped").await,
        vec!["points_earned", "points_earned"]
    );
    let digest = log(&app, "?kind=digest").await;
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0]["status"], "queued");
    // A week later the digest goes, telling both; the held ones are merged into it.
    run_jobs(&app, Duration::days(8)).await;
    assert_eq!(
        kinds(&app, "merged").await,
        vec!["points_earned", "points_earned"]
    );
    let received = listener.received();
    assert_eq!(received.len(), 2, "welcome, then one digest");
    assert_eq!(log(&app, "?kind=digest").await[0]["status"], "sent");
    // Each held message is a line with its facts (the preview line), not only its subject.
    let digest = mail_parser::MessageParser::default()
        .parse(&received[1].raw)
        .unwrap();
    let text = digest.body_text(0).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("You earned") && l.contains(" — ") && l.contains("Balance:")),
        "{text}"
    );
}

/// One job run readies a whole batch before any of it is recorded as sent: the cap must count
/// what the batch already readied, or every message of the batch would pass it.
#[tokio::test]
async fn messages_queued_together_still_respect_the_weekly_cap() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({"policy": {"max_per_week": 2}})).await;
    assert_eq!(
        app.deliver(
            SHOP,
            "customers/create",
            "c-1",
            &customer_json(7201, "hana@example.com", "Hana")
        )
        .await,
        "accepted"
    );
    for (id, amount) in [(1201, "30.00"), (1202, "40.00"), (1203, "50.00")] {
        let paid = order(id, (7201, "hana@example.com"), amount, 0);
        assert_eq!(
            app.deliver(SHOP, "orders/paid", &format!("o-{id}"), &paid)
                .await,
            "accepted"
        );
    }
    run_jobs(&app, Duration::zero()).await;
    let sent = kinds(&app, "sent").await;
    let capped = kinds(&app, "capped").await;
    assert_eq!(sent.len(), 2, "sent {sent:?}, capped {capped:?}");
    assert_eq!(capped.len(), 2, "sent {sent:?}, capped {capped:?}");
    assert_eq!(listener.received().len(), 2);
}

#[tokio::test]
async fn quiet_hours_hold_marketing_until_they_end_on_the_shops_clock() {
    use chrono::Timelike;
    let listener = SmtpListener::start(Behaviour::Accept);
    // Quiet from an hour ago until two hours from now (the test shop's clock is UTC).
    let hour = Utc::now().hour();
    let (start, end) = (
        format!("{:02}:00", (hour + 23) % 24),
        format!("{:02}:00", (hour + 2) % 24),
    );
    let (app, _) = setup(
        &listener,
        json!({"policy": {"quiet_hours": {"start": start, "end": end}}}),
    )
    .await;
    let paid = order(1201, (7201, "hal@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1201", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    let held = log(&app, "?kind=points_earned").await;
    assert_eq!(held[0]["status"], "queued");
    let wake = held[0]["send_after"].as_str().unwrap();
    assert!(
        wake.contains(&format!("T{end}:00")),
        "{wake} ends the quiet at {end}"
    );
    assert!(listener.received().is_empty());
    // With quiet hours switched off it goes at the next run.
    let resp = put_emails(&app, json!({"policy": {"quiet_hours": null}})).await;
    assert_eq!(resp.status(), 200);
    run_jobs(&app, Duration::hours(3)).await;
    assert_eq!(kinds(&app, "sent").await, vec!["points_earned"]);
}

#[tokio::test]
async fn never_openers_stop_getting_marketing_until_they_open_or_order_again() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(
        &listener,
        json!({"policy": {"sunset_after_unopened": 2, "max_per_week": 50}}),
    )
    .await;
    // Orders placed days ago (imported late): none of them is newer than the mails they cause.
    for (id, days_ago) in [(1301u64, 6), (1302, 5), (1303, 4)] {
        let paid = order(id, (7301, "ida@example.com"), "30.00", days_ago);
        assert_eq!(
            app.deliver(SHOP, "orders/paid", &format!("o-{id}"), &paid)
                .await,
            "accepted"
        );
        run_jobs(&app, Duration::zero()).await;
    }
    assert_eq!(kinds(&app, "sent").await.len(), 2);
    assert_eq!(kinds(&app, "suppressed").await, vec!["points_earned"]);
    // A new order brings them back.
    let paid = order(1304, (7301, "ida@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1304", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    assert_eq!(kinds(&app, "sent").await.len(), 3);
}
