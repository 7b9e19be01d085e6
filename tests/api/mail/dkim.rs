//! DKIM signing: the bytes the SMTP listener receives carry a signature that a real verifier
//! (Stalwart's mail-auth) accepts against the record `GET /emails/dkim` tells the owner to
//! publish; the owner's API refuses bad input field by field and never shows the private key.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

use mail_auth::common::parse::TxtRecordParser as _;
use mail_auth::common::verify::DomainKey;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters, ResolverCache, Txt,
};

use super::*;
use crate::helpers::{error_code, fixture};
use crate::smtp::{Behaviour, SmtpListener};

const DKIM: &str = "/api/admin/v1/emails/dkim";
const OTHER: &str = "other.myshopify.com";

/// The DNS a verifier sees: the one TXT record the test publishes, nothing else.
struct Published(HashMap<String, Txt>);

impl Published {
    fn new(name: &str, txt: &str) -> Self {
        let key: Txt = DomainKey::parse(txt.as_bytes()).unwrap().into();
        Self(HashMap::from([
            (name.to_owned(), key.clone()),
            (format!("{name}."), key),
        ]))
    }
}

impl ResolverCache<String, Txt> for Published {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: String, _: Txt, _: Instant) {}
}

/// What a receiving server concludes of each DKIM signature of `raw`, given the owner
/// published `view`'s record (and only it: no query leaves the test).
async fn verify(raw: &[u8], view: &Value) -> Vec<DkimResult> {
    let dns = Published::new(
        view["dns_name"].as_str().unwrap(),
        view["dns_txt"].as_str().unwrap(),
    );
    let authenticator =
        MessageAuthenticator::new(ResolverConfig::default(), ResolverOpts::default()).unwrap();
    let message = AuthenticatedMessage::parse(raw).expect("a message");
    authenticator
        .verify_dkim(Parameters::new(&message).with_txt_cache(&dns))
        .await
        .into_iter()
        .map(|output| output.result().clone())
        .collect()
}

async fn put_dkim(app: &TestApp, shop: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(DKIM))
        .bearer_auth(session_token(shop))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn delete_dkim(app: &TestApp, shop: &str) -> reqwest::Response {
    app.client
        .delete(app.url(DKIM))
        .bearer_auth(session_token(shop))
        .send()
        .await
        .unwrap()
}

fn test_key() -> String {
    fixture("dkim/rsa2048.pkcs1.pem")
}

/// A new customer (a welcome mail, marketing: it carries List-Unsubscribe) and the mail run.
async fn welcome(app: &TestApp, id: u64, email: &str) {
    let body = customer_json(id, email, "Ada");
    assert_eq!(
        app.deliver(SHOP, "customers/create", &format!("c-{id}"), &body)
            .await,
        "accepted"
    );
    run_jobs(app, Duration::zero()).await;
}

/// The value of the message's `DKIM-Signature` tag `tag` (unfolded, spaces removed).
fn signature_tag(raw: &[u8], tag: &str) -> Option<String> {
    let h = headers(raw);
    let signature = header(&h, "DKIM-Signature")?;
    signature.split(';').find_map(|t| {
        t.trim()
            .strip_prefix(&format!("{tag}="))
            .map(|v| v.replace([' ', '\t'], ""))
    })
}

#[tokio::test]
async fn signed_mail_verifies_against_the_published_key_and_one_changed_byte_fails() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(
        &listener,
        json!({"from": "Glow <hi@mail.glow.example>", "reply_to": "help@glow.example"}),
    )
    .await;
    let resp = put_dkim(
        &app,
        SHOP,
        json!({"domain": "glow.example", "selector": "boomerang", "private_key": test_key()}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let put: Value = resp.json().await.unwrap();
    assert_eq!(put["domain"], "glow.example");
    assert_eq!(put["selector"], "boomerang");
    assert_eq!(put["algorithm"], "rsa-sha256");
    assert_eq!(put["dns_name"], "boomerang._domainkey.glow.example");
    let spki = fixture("dkim/rsa2048.spki.b64");
    assert_eq!(put["dns_txt"], format!("v=DKIM1; k=rsa; p={}", spki.trim()));
    assert_eq!(
        put["aligned"], true,
        "mail.glow.example is under glow.example"
    );
    let view: Value = app
        .admin_get(&session_token(SHOP), DKIM)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view, put);

    welcome(&app, 7101, "ada@example.com").await;
    let received = listener.received();
    assert_eq!(received.len(), 1);
    let raw = &received[0].raw;
    assert_eq!(verify(raw, &view).await, vec![DkimResult::Pass]);
    assert_eq!(signature_tag(raw, "d").as_deref(), Some("glow.example"));
    assert_eq!(signature_tag(raw, "c").as_deref(), Some("relaxed/relaxed"));
    let signed = signature_tag(raw, "h").unwrap();
    for name in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "reply-to",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(signed.split(':').any(|h| h == name), "{name} in h={signed}");
    }

    // One byte of the body changed on the way: the signature no longer holds.
    let text = String::from_utf8(raw.clone()).unwrap();
    let body_at = text.find("\r\n\r\n").unwrap() + 4;
    let mut tampered = raw.clone();
    let at = body_at
        + tampered[body_at..]
            .iter()
            .position(u8::is_ascii_alphabetic)
            .unwrap();
    tampered[at] = if tampered[at] == b'x' { b'y' } else { b'x' };
    // (mail-auth reports a body hash mismatch as neutral, a bad signature as fail.)
    assert!(matches!(
        verify(&tampered, &view).await.as_slice(),
        [DkimResult::Neutral(mail_auth::Error::FailedBodyHashMatch)]
    ));
    // So does a changed unsubscribe link: a relay cannot redirect it.
    let swapped = text.replacen("/email/unsubscribe?t=", "/email/unsubscribe?t=0", 1);
    assert!(matches!(
        verify(swapped.as_bytes(), &view).await.as_slice(),
        [DkimResult::Fail(mail_auth::Error::FailedVerification)]
    ));
}

#[tokio::test]
async fn a_generated_key_signs_and_the_owner_never_sees_a_private_key() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, shop_id) = setup(&listener, json!({"from": "Glow <hi@elsewhere.example>"})).await;
    let resp = put_dkim(
        &app,
        SHOP,
        json!({"domain": "glow.example", "selector": "s2026"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let put_text = resp.text().await.unwrap();
    let put: Value = serde_json::from_str(&put_text).unwrap();
    assert_eq!(put["key_bits"], 2048);
    assert_eq!(put["aligned"], false, "the sender is not in glow.example");
    let get = app.admin_get(&session_token(SHOP), DKIM).await;
    let get_text = get.text().await.unwrap();
    for body in [&put_text, &get_text] {
        assert!(!body.contains("PRIVATE"), "{body}");
        assert!(!body.contains("private_key"), "{body}");
    }
    // The key is stored sealed.
    let stored = app
        .with_db(move |c| {
            use boomerang::db::schema::shops;
            use diesel::prelude::*;
            shops::table
                .find(shop_id)
                .select(shops::dkim_private_key_enc)
                .first::<Option<String>>(c)
                .unwrap()
                .unwrap()
        })
        .await;
    assert!(stored.starts_with("v2."), "sealed");
    assert!(!stored.contains("PRIVATE KEY"));
    // The same selector again without a key keeps the key (the published record stays valid).
    let again: Value = put_dkim(
        &app,
        SHOP,
        json!({"domain": "glow.example", "selector": "s2026"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["dns_txt"], put["dns_txt"]);

    welcome(&app, 7102, "bo@example.com").await;
    let raw = &listener.received()[0].raw;
    assert_eq!(verify(raw, &put).await, vec![DkimResult::Pass]);
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_nothing_is_stored() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({})).await;
    let key = test_key();
    let cases = [
        (
            json!({"domain": "not a domain", "selector": "s1", "private_key": key}),
            "domain",
        ),
        (
            json!({"domain": "localhost", "selector": "s1", "private_key": key}),
            "domain",
        ),
        (
            json!({"domain": "glow.example", "selector": "a.b", "private_key": key}),
            "selector",
        ),
        (
            json!({"domain": "glow.example", "selector": "", "private_key": key}),
            "selector",
        ),
        (
            json!({"domain": "glow.example", "selector": "s1", "private_key": "hello"}),
            "private_key",
        ),
        (
            json!({"domain": "glow.example", "selector": "s1",
                   "private_key": key.replace("MII", "MIX")}),
            "private_key",
        ),
        (
            json!({"domain": "glow.example", "selector": "s1",
                   "private_key": fixture("dkim/rsa512.pkcs8.pem")}),
            "private_key",
        ),
        (
            json!({"domain": "glow.example", "selector": "s1",
                   "private_key": fixture("dkim/ed25519.pem")}),
            "private_key",
        ),
        (json!({"selector": "s1", "private_key": key}), "domain"),
        (json!({"domain": 5, "selector": "s1"}), "domain"),
        (
            json!({"domain": "glow.example", "selector": "s1", "bits": 4096}),
            "bits",
        ),
    ];
    for (body, field) in cases {
        let resp = put_dkim(&app, SHOP, body.clone()).await;
        assert_eq!(resp.status(), 422, "{body}");
        let error: Value = resp.json().await.unwrap();
        assert_eq!(error["error"]["code"], "validation_failed");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{field}: {message}");
        assert!(!message.contains("MII"), "no key material: {message}");
    }
    let small = put_dkim(
        &app,
        SHOP,
        json!({"domain": "glow.example", "selector": "s1",
               "private_key": fixture("dkim/rsa512.pkcs8.pem")}),
    )
    .await;
    let message = small.json::<Value>().await.unwrap()["error"]["message"].clone();
    assert!(message.as_str().unwrap().contains("512 bits"), "{message}");
    let not_json = app
        .client
        .put(app.url(DKIM))
        .bearer_auth(session_token(SHOP))
        .header("Content-Type", "application/json")
        .body("{domain")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let resp = app.admin_get(&session_token(SHOP), DKIM).await;
    assert_eq!(resp.status(), 404, "nothing was stored");
    assert_eq!(error_code(resp).await, "not_found");
}

#[tokio::test]
async fn another_shop_cannot_see_or_delete_the_key_and_delete_stops_signing() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&listener, json!({})).await;
    app.add_shop(OTHER, "USD").await;
    let put = put_dkim(
        &app,
        SHOP,
        json!({"domain": "glow.example", "selector": "boomerang", "private_key": test_key()}),
    )
    .await;
    assert_eq!(put.status(), 200);
    // The other shop has no key of its own, sees none and removes none.
    let seen = app.admin_get(&session_token(OTHER), DKIM).await;
    assert_eq!(seen.status(), 404);
    assert_eq!(delete_dkim(&app, OTHER).await.status(), 404);
    let still = app.admin_get(&session_token(SHOP), DKIM).await;
    assert_eq!(still.status(), 200);

    welcome(&app, 7103, "cy@example.com").await;
    assert!(
        signature_tag(&listener.received()[0].raw, "b").is_some(),
        "signed"
    );

    assert_eq!(delete_dkim(&app, SHOP).await.status(), 204);
    assert_eq!(delete_dkim(&app, SHOP).await.status(), 404, "already gone");
    assert_eq!(
        app.admin_get(&session_token(SHOP), DKIM).await.status(),
        404
    );
    welcome(&app, 7104, "di@example.com").await;
    let received = listener.received();
    assert_eq!(received.len(), 2);
    assert!(
        header(&headers(&received[1].raw), "DKIM-Signature").is_none(),
        "unsigned"
    );
}

#[tokio::test]
async fn a_key_that_no_longer_opens_holds_mail_back_instead_of_sending_it_unsigned() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, shop_id) = setup(&listener, json!({})).await;
    let other_id = app.add_shop(OTHER, "USD").await;
    for shop in [SHOP, OTHER] {
        let resp = put_dkim(
            &app,
            shop,
            json!({"domain": "glow.example", "selector": "boomerang", "private_key": test_key()}),
        )
        .await;
        assert_eq!(resp.status(), 200);
    }
    // The other shop's sealed key, copied into this shop's row, does not open here (as a key
    // sealed under a lost APP_SECRET would not).
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        let theirs: Option<String> = shops::table
            .find(&other_id)
            .select(shops::dkim_private_key_enc)
            .first(c)
            .unwrap();
        diesel::update(shops::table.find(&shop_id))
            .set(shops::dkim_private_key_enc.eq(theirs))
            .execute(c)
            .unwrap();
    })
    .await;
    let resp = app.admin_get(&session_token(SHOP), DKIM).await;
    assert_eq!(resp.status(), 503);
    assert!(resp.text().await.unwrap().contains("APP_SECRET"));

    welcome(&app, 7105, "ed@example.com").await;
    assert!(listener.received().is_empty(), "nothing goes out unsigned");
    let held = log(&app, "?kind=welcome").await;
    assert_eq!(held[0]["status"], "queued", "{held:?}");
    assert!(
        held[0]["error"].as_str().unwrap().contains("DKIM key"),
        "{held:?}"
    );
    // The owner puts the key again: the retry signs and sends it.
    let resp = put_dkim(
        &app,
        SHOP,
        json!({"domain": "glow.example", "selector": "boomerang", "private_key": test_key()}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let view: Value = resp.json().await.unwrap();
    run_jobs(&app, Duration::hours(2)).await;
    let received = listener.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        verify(&received[0].raw, &view).await,
        vec![DkimResult::Pass]
    );
}
