//! Refer-a-friend in a real browser: Ada finds her referral link in the widget (in English and in
//! Arabic, right to left); a friend opens that link in a browser of their own, lands on the
//! storefront with the code, claims the offer with their e-mail (a bad address first) and still
//! sees their code after reloading the page.

use fantoccini::Client;
use serde_json::{json, Value};

use super::{artifact, assert_clean_text, browser, click, driver, element, wait_for};
use crate::helpers::TestApp;

/// The text of the first element matching `selector` in the widget, once it has some.
async fn text_of(client: &Client, what: &str, selector: &str) -> String {
    let value = wait_for(
        client,
        what,
        &format!(
            "const e = root.querySelector({}); return e && e.textContent;",
            json!(selector)
        ),
    )
    .await;
    value.as_str().unwrap().to_owned()
}

/// Opens the widget on the current page and waits for the shop's texts.
async fn open_widget(client: &Client) {
    click(client, "the launcher", "button.l").await;
    wait_for(
        client,
        "the shopper's data",
        "return root.querySelector('[role=dialog]').lang;",
    )
    .await;
}

/// Ada's referral section in `lang`; returns her referral link.
async fn referral_section(
    app: &TestApp,
    client: &Client,
    lang: &str,
    dir: &str,
    heading: &str,
) -> String {
    client
        .goto(&app.url(&format!("/demo?as=7001&lang={lang}")))
        .await
        .unwrap();
    open_widget(client).await;
    let panel = element(client, "the panel", "[role=dialog]").await;
    assert_eq!(panel.attr("dir").await.unwrap().as_deref(), Some(dir));
    let link = wait_for(
        client,
        "the referral link",
        "const l = root.querySelector('#bmr-link'); return l && l.value;",
    )
    .await;
    let link = link.as_str().unwrap().to_owned();
    let code = link
        .strip_prefix(&format!("{}/r/", app.config.public_url))
        .unwrap_or_else(|| panic!("not a referral link: {link}"));
    assert!(
        code.len() == 8 && code.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{link}"
    );
    // The link field is labelled, read-only and selectable; Copy is a button beside it.
    let labelled = client
        .execute(
            "const root = document.getElementById('boomerang-rewards').shadowRoot;
             const l = root.querySelector('#bmr-link');
             return [l.readOnly, l.labels.length > 0 && l.labels[0].textContent,
                     !!root.querySelector('[data-k=copy-link]')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(labelled[0], json!(true), "{labelled}");
    assert!(
        labelled[1].as_str().is_some_and(|s| !s.is_empty()),
        "{labelled}"
    );
    assert_eq!(labelled[2], json!(true), "{labelled}");
    let shown = text_of(client, "the referral heading", "section:has(#bmr-link) h3").await;
    assert!(shown.starts_with(heading), "{shown:?}");
    assert_clean_text(client).await;
    std::fs::write(
        artifact(&format!("widget-referral-{lang}.png")),
        client.screenshot().await.unwrap(),
    )
    .unwrap();
    link
}

#[tokio::test]
async fn a_member_sees_their_referral_link_in_english_and_arabic() {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    crate::ops::seed_demo(&app).await;
    let client = browser(&driver, &chromium).await;
    let result = async {
        let en = referral_section(&app, &client, "en", "ltr", "Give ").await;
        let ar = referral_section(&app, &client, "ar", "rtl", "امنح ").await;
        assert_eq!(en, ar, "one code per member, whatever the language");
    }
    .await;
    client.close().await.unwrap();
    result
}

#[tokio::test]
async fn a_friend_follows_the_link_and_claims_the_offer() {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    crate::ops::seed_demo(&app).await;
    let ada = browser(&driver, &chromium).await;
    let link = referral_section(&app, &ada, "en", "ltr", "Give ").await;
    ada.close().await.unwrap();
    let code = link.rsplit('/').next().unwrap().to_owned();

    // A browser of the friend's own: nothing remembered from Ada's session.
    let friend = browser(&driver, &chromium).await;
    let result = async {
        friend.goto(&app.url(&format!("/r/{code}"))).await.unwrap();
        let landed = friend.current_url().await.unwrap();
        assert!(
            landed
                .as_str()
                .ends_with(&format!("/demo?as=guest&ref={code}")),
            "{landed}"
        );
        open_widget(&friend).await;
        // The offer comes first in the panel.
        let heading = text_of(&friend, "the friend's offer", "section h3").await;
        assert!(heading.starts_with("A friend sent you "), "{heading:?}");
        assert_clean_text(&friend).await;

        let email = element(&friend, "the e-mail field", "#bmr-email").await;
        let label = wait_for(
            &friend,
            "the e-mail label",
            "const l = root.querySelector('#bmr-email').labels; return l.length && l[0].textContent;",
        )
        .await;
        assert_eq!(label, json!("Your e-mail"));

        // A bad address: the server's reason beside the form, the form kept as typed.
        email.send_keys("not-an-email").await.unwrap();
        click(&friend, "Get my code", "[data-k=claim]").await;
        let error = text_of(&friend, "the claim error", "#bmr-claim-err:not(:empty)").await;
        println!("bad e-mail: {error}");
        let kept: Value = friend
            .execute(
                "const root = document.getElementById('boomerang-rewards').shadowRoot;
                 const e = root.querySelector('#bmr-email');
                 return [e && e.value, e && e.getAttribute('aria-invalid'),
                         !!root.querySelector('[data-k=claim]:not([disabled])')];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(kept, json!(["not-an-email", "true", true]));

        let email = element(&friend, "the e-mail field", "#bmr-email").await;
        email.clear().await.unwrap();
        email.send_keys("friend@example.com").await.unwrap();
        click(&friend, "Get my code", "[data-k=claim]").await;
        let got = text_of(&friend, "the friend's code", "[data-k=copy-ref]").await;
        assert_eq!(got, "Copy code");
        let claimed = text_of(&friend, "the friend's code", "section p.d").await;
        let discount_code = claimed
            .strip_prefix("Your code: ")
            .unwrap_or_else(|| panic!("{claimed:?}"))
            .to_owned();
        assert!(!discount_code.is_empty());
        assert_clean_text(&friend).await;
        std::fs::write(
            artifact("widget-referral-friend.png"),
            friend.screenshot().await.unwrap(),
        )
        .unwrap();

        // A later visit: the code is still there, no form.
        friend.refresh().await.unwrap();
        open_widget(&friend).await;
        let again = text_of(&friend, "the friend's code after a reload", "section p.d").await;
        assert_eq!(again, claimed);
        assert!(
            !friend
                .execute(
                    "return !!document.getElementById('boomerang-rewards').shadowRoot.querySelector('#bmr-email');",
                    vec![],
                )
                .await
                .unwrap()
                .as_bool()
                .unwrap(),
            "the claim form is gone once the code is claimed"
        );
    }
    .await;
    friend.close().await.unwrap();
    result
}
