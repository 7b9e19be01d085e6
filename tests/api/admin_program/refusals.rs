//! Bad values come back next to their field with nothing changed; a post without the
//! session's CSRF token, or from another shop's session, changes nothing it should not.

use reqwest::StatusCode;

use super::{message, program, refused, save, setup, OTHER, SHOP};
use crate::admin_ui::{client, get as page, sign_in};

#[tokio::test]
async fn bad_values_come_back_next_to_their_field_and_change_nothing() {
    let (app, shop_id, _) = setup().await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let before = program(&app, SHOP).await;

    // Negative points where only whole positive numbers fit (the type refuses it).
    let page = refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("earning.points_per_unit", "-5")],
        )
        .await,
        "f-earning-points_per_unit",
    )
    .await;
    assert!(page.contains("value=\"-5\""), "the owner's value is kept");
    assert!(message(&page, "f-earning-points_per_unit").contains("-5"));

    // Negative points the domain validation refuses; text in a number field; both at once,
    // with a good change beside them that is not stored either.
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            ("earning.signup_points", "-5"),
            ("earning.unit_size", "ten"),
            ("earning.pending_days", "30"),
        ],
    )
    .await;
    let page = refused(resp, "f-earning-unit_size").await;
    assert_eq!(message(&page, "f-earning-unit_size"), "Enter a number");
    assert!(page.contains("value=\"ten\""));
    let resp = save(
        &app,
        &cookie,
        &[("csrf", &csrf), ("earning.signup_points", "-5")],
    )
    .await;
    let page = refused(resp, "f-earning-signup_points").await;
    assert_eq!(
        message(&page, "f-earning-signup_points"),
        "Enter 0 to 10000000 points; -5 is outside that."
    );

    // Text in a row's number field, and an id the catalog refuses: next to that row's input.
    let page = refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("rewards.0.points_cost", "lots")],
        )
        .await,
        "f-rewards-0-points_cost",
    )
    .await;
    assert_eq!(message(&page, "f-rewards-0-points_cost"), "Enter a number");
    let page = refused(
        save(&app, &cookie, &[("csrf", &csrf), ("rewards.1.id", "a b")]).await,
        "f-rewards-1-id",
    )
    .await;
    assert!(message(&page, "f-rewards-1-id").contains("a b"), "{page}");
    // JSON that does not parse, where JSON is still edited.
    let page = refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("rewards.0.titles", "{\"ar\": ")],
        )
        .await,
        "f-rewards-0-titles",
    )
    .await;
    assert!(message(&page, "f-rewards-0-titles").starts_with("Not valid JSON"));

    // A nested setting and a colour.
    refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("emails.policy.max_per_week", "0")],
        )
        .await,
        "f-emails-policy-max_per_week",
    )
    .await;
    refused(
        save(
            &app,
            &cookie,
            &[("csrf", &csrf), ("widget.accent_color", "red")],
        )
        .await,
        "f-widget-accent_color",
    )
    .await;

    assert_eq!(program(&app, SHOP).await, before);
}

#[tokio::test]
async fn a_post_without_the_sessions_csrf_token_changes_nothing() {
    let (app, shop_id, _) = setup().await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    let before = program(&app, SHOP).await;
    for form in [
        vec![("earning.points_per_unit", "7")],
        vec![("csrf", "guess"), ("earning.points_per_unit", "7")],
    ] {
        assert_eq!(
            save(&app, &cookie, &form).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let cross_site = client()
        .post(app.url("/app/program"))
        .header("Cookie", &cookie)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf", csrf.as_str()), ("earning.points_per_unit", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let unsigned = client()
        .post(app.url("/app/program"))
        .form(&[("csrf", csrf.as_str()), ("earning.points_per_unit", "7")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(program(&app, SHOP).await, before);
}

#[tokio::test]
async fn a_session_of_another_shop_changes_only_that_shop() {
    let (app, shop_id, other_id) = setup().await;
    let (_, csrf) = sign_in(&app, &shop_id).await;
    let (other_cookie, other_csrf) = sign_in(&app, &other_id).await;
    let before = program(&app, SHOP).await;
    // This shop's token with the other shop's session: refused.
    assert_eq!(
        save(
            &app,
            &other_cookie,
            &[("csrf", &csrf), ("earning.points_per_unit", "9")]
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    // The other shop's own post changes the other shop alone.
    let resp = save(
        &app,
        &other_cookie,
        &[("csrf", &other_csrf), ("earning.points_per_unit", "9")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(program(&app, OTHER).await["earning"]["points_per_unit"], 9);
    assert_eq!(program(&app, SHOP).await, before);
    let html = page(&app, &other_cookie, "/app/program").await;
    assert!(html.contains(OTHER) && !html.contains(SHOP));
}
