//! `/app/webhooks`: the owner sees their subscriptions and deliveries (in English or Arabic),
//! and sends one again with the session's CSRF token only.

use reqwest::StatusCode;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{adjust, deliveries, run_jobs, subscribe, OTHER, SHOP};
use crate::admin_ui::{get, post, sign_in};
use crate::helpers::TestApp;

#[tokio::test]
async fn the_page_lists_deliveries_and_sends_one_again_with_the_csrf_token() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&receiver)
        .await;
    let (shop_id, _) = app
        .add_shop_with_member(SHOP, "7", "seven@example.com")
        .await;
    let (other_id, _) = app
        .add_shop_with_member(OTHER, "8", "eight@example.com")
        .await;
    let (id, _) = subscribe(&app, SHOP, &receiver.uri(), &["points.changed"]).await;
    assert_eq!(adjust(&app, SHOP, "7", 10).await, 201);
    run_jobs(&app).await;
    let delivery = deliveries(&app, SHOP, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let page = get(&app, &cookie, "/app/webhooks").await;
    // (minijinja escapes the URL's slashes in HTML.)
    assert!(page.contains(&receiver.address().to_string()), "{page}");
    assert!(page.contains(&delivery));
    assert!(page.contains("Waiting to retry"));
    assert!(page.contains("the receiver answered 500"));

    let path = format!("/app/webhooks/{id}/deliveries/{delivery}/redeliver");
    let refused = post(&app, &cookie, &path, &[("csrf", "guess")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 1);
    let sent = post(&app, &cookie, &path, &[("csrf", &csrf)]).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 2);
    let log = deliveries(&app, SHOP, &id).await;
    assert_eq!(log[0]["attempts"][1]["cause"], "redeliver");

    // Another shop's owner neither sees it nor sends it.
    let (other_cookie, other_csrf) = sign_in(&app, &other_id).await;
    let page = get(&app, &other_cookie, "/app/webhooks").await;
    assert!(!page.contains(&delivery));
    let crossed = post(&app, &other_cookie, &path, &[("csrf", &other_csrf)]).await;
    assert_eq!(crossed.status(), StatusCode::NOT_FOUND);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 2);
}
