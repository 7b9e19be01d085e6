//! Lifecycle mail through SMTP: what arrives, once; retries; the file transport; the log.

use super::*;
use crate::smtp::{Behaviour, SmtpListener};

#[tokio::test]
async fn lifecycle_mail_arrives_once_with_both_parts_and_unsubscribe_headers() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({"from": "Glow Rewards <hi@glow.example>"})).await;
    assert_eq!(
        app.deliver(
            SHOP,
            "customers/create",
            "c-1",
            &customer_json(7001, "ada@example.com", "Ada")
        )
        .await,
        "accepted"
    );
    let paid = order(1001, (7001, "ada@example.com"), "45.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1", &paid).await,
        "accepted"
    );
    // Replays and a second topic for the same order queue nothing more.
    assert_eq!(
        app.deliver(SHOP, "orders/updated", "o-1b", &paid).await,
        "accepted"
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1", &paid).await,
        "duplicate"
    );
    run_jobs(&app, Duration::zero()).await;
    run_jobs(&app, Duration::zero()).await;

    let received = listener.received();
    assert_eq!(received.len(), 2, "welcome and points_earned, once each");
    assert_eq!(kinds(&app, "sent").await, vec!["welcome", "points_earned"]);
    for mail in &received {
        assert_eq!(mail.to, vec!["ada@example.com".to_owned()]);
        let h = headers(&mail.raw);
        assert!(
            header(&h, "From").unwrap().contains("hi@glow.example"),
            "{h}"
        );
        assert!(header(&h, "To").unwrap().contains("ada@example.com"), "{h}");
        assert!(header(&h, "Message-ID").is_some(), "{h}");
        assert!(
            header(&h, "Content-Type")
                .unwrap()
                .starts_with("multipart/alternative"),
            "{h}"
        );
        let unsubscribe = header(&h, "List-Unsubscribe").expect("marketing mail can be left");
        assert!(
            unsubscribe.starts_with("<http://localhost:8080/email/unsubscribe?t="),
            "{unsubscribe}"
        );
        assert_eq!(
            header(&h, "List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        let body = String::from_utf8_lossy(&mail.raw);
        assert!(body.contains("Content-Type: text/plain"), "a text part");
        assert!(body.contains("Content-Type: text/html"), "an HTML part");
    }
    let earned = String::from_utf8_lossy(&received[1].raw).into_owned();
    assert!(earned.contains("45"), "the points of the order: {earned}");
    let sent = log(&app, "?kind=points_earned").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["customer_id"], "7001");
    assert_eq!(sent[0]["status"], "sent");
    assert!(sent[0]["subject"].as_str().is_some_and(|s| !s.is_empty()));
}

#[tokio::test]
async fn a_customer_shopping_in_arabic_gets_arabic_right_to_left_mail() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({})).await;
    let mut paid = order(1002, (7002, "layla@example.com"), "80.00", 0);
    paid["customer_locale"] = json!("ar");
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-2", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    let sent = log(&app, "?kind=points_earned").await;
    assert_eq!(sent[0]["locale"], "ar");
    let subject = sent[0]["subject"].as_str().unwrap();
    assert!(
        subject
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
        "{subject}"
    );
    let raw = &listener.received()[0].raw;
    let text = String::from_utf8_lossy(raw);
    // The HTML part may be quoted-printable or base64: decode what lettre sent.
    let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
    let html = parsed.body_html(0).unwrap();
    assert!(
        html.contains("dir=\"rtl\"") && html.contains("lang=\"ar\""),
        "{text}"
    );
}

#[tokio::test]
async fn a_refusing_server_is_retried_and_nothing_is_lost_or_sent_twice() {
    let listener = SmtpListener::start(Behaviour::DeferData);
    let (app, _) = setup(&listener, json!({})).await;
    let paid = order(1003, (7003, "ben@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-3", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    let queued = log(&app, "?kind=points_earned").await;
    assert_eq!(queued[0]["status"], "queued", "{queued:?}");
    assert!(queued[0]["error"].as_str().is_some());
    assert!(listener.received().is_empty());
    // The relay comes back (here: another one): the retry, after its backoff, sends it once.
    let back = SmtpListener::start(Behaviour::Accept);
    let url = Some(secrecy::SecretString::from(back.url()));
    run_jobs_through(&app, Duration::hours(2), url.clone()).await;
    run_jobs_through(&app, Duration::hours(2), url).await;
    assert_eq!(kinds(&app, "sent").await, vec!["points_earned"]);
    assert_eq!(back.received().len(), 1);
}

#[tokio::test]
async fn a_refused_address_fails_for_good_and_a_dropped_connection_is_retried() {
    let listener = SmtpListener::start(Behaviour::RefuseRecipients);
    let (app, _) = setup(&listener, json!({})).await;
    let paid = order(1004, (7004, "gone@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-4", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    assert_eq!(kinds(&app, "failed").await, vec!["points_earned"]);

    let dropping = SmtpListener::start(Behaviour::DropMidData);
    let paid = order(1005, (7005, "cy@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-5", &paid).await,
        "accepted"
    );
    run_jobs_through(&app, Duration::zero(), Some(dropping.url().into())).await;
    let rows = log(&app, "?customer_id=7005").await;
    assert_eq!(rows[0]["status"], "queued", "{rows:?}");
}

#[tokio::test]
async fn without_smtp_mail_is_written_as_eml_files() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    forget_demo_mail(&app, &shop_id).await;
    let resp = put_emails(&app, json!({"policy": {"quiet_hours": null}})).await;
    assert_eq!(resp.status(), 200);
    let paid = order(1006, (7006, "dee@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-6", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    let outbox = app.data_dir.path().join("outbox");
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "{outbox:?}");
    let raw = std::fs::read(files[0].path()).unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("dee@example.com"));
}

#[tokio::test]
async fn no_header_injection_from_any_stored_value() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({})).await;
    let mut customer = customer_json(7007, "eve@example.com", "Eve\r\nBcc: everyone@evil.example");
    customer["last_name"] = json!("X\nSubject: pwned");
    assert_eq!(
        app.deliver(SHOP, "customers/create", "c-7", &customer)
            .await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    let received = listener.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].to,
        vec!["eve@example.com".to_owned()],
        "no smuggled recipient"
    );
    let h = headers(&received[0].raw);
    for line in h.split("\r\n") {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert_ne!(name, "bcc", "{h}");
        assert!(
            !line.to_ascii_lowercase().starts_with("subject: pwned"),
            "{h}"
        );
    }
}

#[tokio::test]
async fn the_log_filters_and_keeps_shops_apart() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, shop_id) = setup(&listener, json!({})).await;
    let paid = order(1008, (7008, "fay@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-8", &paid).await,
        "accepted"
    );
    assert_eq!(log(&app, "?customer_id=7008").await.len(), 1);
    assert_eq!(log(&app, "?customer_id=9999").await.len(), 0);
    assert_eq!(log(&app, "?status=queued").await.len(), 1);
    assert_eq!(log(&app, "?kind=welcome").await.len(), 0);
    for bad in ["?kind=spam", "?status=lost", "?colour=red"] {
        let resp = app
            .admin_get(&session_token(SHOP), &format!("/api/admin/v1/emails{bad}"))
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
    let other_id = app.add_shop("other.myshopify.com", "USD").await;
    let resp = app
        .admin_get(
            &session_token("other.myshopify.com"),
            "/api/admin/v1/emails",
        )
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["emails"], json!([]));

    // The admin UI's log: the same rows and filters, and nothing of another shop.
    use crate::admin_ui::{client, get, sign_in};
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let page = get(&app, &cookie, "/app/emails").await;
    assert!(
        page.contains("/app/customers/7008") && page.contains("Points earned"),
        "{page}"
    );
    // The customer's profile lists what they were sent.
    let profile = get(&app, &cookie, "/app/customers/7008").await;
    assert!(profile.contains("Points earned"), "{profile}");
    let none = get(&app, &cookie, "/app/emails?customer_id=9999&kind=&status=").await;
    assert!(!none.contains("/app/customers/7008"));
    let queued = get(
        &app,
        &cookie,
        "/app/emails?customer_id=&kind=points_earned&status=queued",
    )
    .await;
    assert!(queued.contains("/app/customers/7008"));
    for bad in ["?kind=spam", "?status=lost"] {
        let resp = client()
            .get(app.url(&format!("/app/emails{bad}")))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
    }
    let (theirs, _) = sign_in(&app, &other_id).await;
    assert!(!get(&app, &theirs, "/app/emails")
        .await
        .contains("/app/customers/7008"));
}

#[tokio::test]
async fn owner_templates_are_checked_when_saved_and_used_when_sent() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({})).await;
    let put = |emails: Value| put_emails(&app, emails);
    let broken = json!({"policy": {"quiet_hours": null}, "templates": {"points_earned": {"en": {
        "subject": "You earned {{ points }} points", "html": "<p>Hi</p>\n<p>{{ no_such_fact }}</p>", "text": "Hi"}}}});
    let resp = put(broken).await;
    assert_eq!(resp.status(), 422);
    let message = resp.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("points_earned") && message.contains("line"),
        "{message}"
    );
    let bad_syntax = json!({"templates": {"points_earned": {"en": {
        "subject": "{% if %}", "html": "<p>Hi</p>", "text": "Hi"}}}});
    assert_eq!(put(bad_syntax).await.status(), 422);

    let good = json!({"policy": {"quiet_hours": null}, "templates": {"points_earned": {"en": {
        "subject": "Glow points: +{{ points }}", "html": "<p>Thanks for order {{ order_name }}</p>", "text": "Thanks for order {{ order_name }}"}}}});
    assert_eq!(put(good).await.status(), 200);
    let paid = order(1009, (7009, "gus@example.com"), "30.00", 0);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-9", &paid).await,
        "accepted"
    );
    run_jobs(&app, Duration::zero()).await;
    let sent = log(&app, "?kind=points_earned").await;
    assert_eq!(sent[0]["subject"], "Glow points: +30");
    let raw = String::from_utf8_lossy(&listener.received()[0].raw).into_owned();
    assert!(raw.contains("Thanks for order #1009"), "{raw}");
}
