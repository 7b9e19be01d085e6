//! What a tier change sets off (issue 11), against a local fake of the Shopify Admin API: the
//! tier's customer tag pushed through the job queue (the current level's tag added, the other
//! levels' removed; throttling and outages retried, refusals left as dead jobs), and the
//! level's entry reward given once per member and tier, never again within 365 days. Shop A's
//! token never touches shop B's customers.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::db::models::{EntryReward, Member, Redemption, Shop};
use boomerang::db::now;
use boomerang::db::schema::{entry_rewards, jobs};
use boomerang::db::types::RedemptionStatus;
use boomerang::queue::Job;

use crate::helpers::{job_context, order_json, session_token, TestApp};
use crate::rewards::{created, run_jobs_due_by, APP_SECRET};

const SHOP: &str = "effects.myshopify.com";
const ADA: (u64, &str) = (7001, "ada@example.com");
const BOB: (u64, &str) = (7002, "bob@example.com");

/// Order-count tiers: Silver from one order, Gold from two, each with a tag; with
/// `entry_rewards`, Silver gives "5 off" and Gold free shipping on entry. No grace: a member
/// who stops qualifying steps down at the next review.
fn program(entry_rewards: bool) -> Value {
    let reward = |id: &str| {
        if entry_rewards {
            json!(id)
        } else {
            Value::Null
        }
    };
    json!({
        "earning": {"pending_days": 0},
        "tiers": {"basis": "orders", "window": "lifetime", "grace_days": 0, "levels": [
            {"id": "silver", "name": "Silver", "threshold": 1, "customer_tag": "vip-silver",
             "entry_reward_id": reward("5-off")},
            {"id": "gold", "name": "Gold", "threshold": 2, "customer_tag": "vip-gold",
             "entry_reward_id": reward("free-shipping")}
        ]}
    })
}

/// A paid order of `customer`, dated a month ago.
fn order(id: u64, customer: (u64, &str)) -> Value {
    let mut order = order_json(id, Some(customer), "paid", &[(id * 10, 1, "30.00")]);
    let at = (Utc::now() - Duration::days(30)).to_rfc3339();
    for field in ["created_at", "processed_at", "updated_at"] {
        order[field] = json!(at);
    }
    order
}

fn cancelled(id: u64, customer: (u64, &str)) -> Value {
    let mut order = order(id, customer);
    order["cancelled_at"] = json!(Utc::now().to_rfc3339());
    order["updated_at"] = json!(Utc::now().to_rfc3339());
    order
}

async fn put_program(app: &TestApp, shop: &str, program: Value) {
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(shop))
        .json(&program)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Adds a Shopify shop on `server` whose access token is `token`; returns its id.
async fn add_shop(app: &TestApp, domain: &str, server: &MockServer, token: &str) -> String {
    let (domain, api_base, token) = (domain.to_owned(), server.uri(), token.to_owned());
    let keys = boomerang::crypto::Keys::derive(&APP_SECRET.to_owned().into());
    app.with_db(move |c| {
        let spec = boomerang::services::shops::ShopSpec {
            platform: Some(boomerang::db::types::Platform::Shopify),
            domain,
            access_token: Some(token),
            api_base: Some(api_base),
            currency: Some("USD".into()),
            ..Default::default()
        };
        let id = boomerang::services::shops::add_shop(c, &keys, &spec)
            .unwrap()
            .shop
            .id;
        crate::helpers::backdate_install(c, &id);
        id
    })
    .await
}

/// A shop on `server` with `program`, answering every tag and discount call.
async fn setup(server: &MockServer, entry_rewards: bool) -> (TestApp, String) {
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    let shop_id = add_shop(&app, SHOP, server, "shpat_test").await;
    put_program(&app, SHOP, program(entry_rewards)).await;
    (app, shop_id)
}

fn tags_done(field: &str, customer: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {field: {
        "node": {"id": format!("gid://shopify/Customer/{customer}")}, "userErrors": []}}}))
}

async fn mount_tags(server: &MockServer, customer: u64) {
    for field in ["tagsAdd", "tagsRemove"] {
        Mock::given(method("POST"))
            .and(body_string_contains(format!("{field}(")))
            .respond_with(tags_done(field, customer))
            .mount(server)
            .await;
    }
}

async fn mount_discounts(server: &MockServer) {
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created())
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeFreeShippingCreate"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"discountCodeFreeShippingCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/2"}, "userErrors": []}}})),
        )
        .mount(server)
        .await;
}

/// One tag call the fake API received.
#[derive(Debug, PartialEq, Eq)]
struct TagCall {
    mutation: &'static str,
    customer: String,
    tags: Vec<String>,
    token: String,
}

/// The tag calls `server` received, in order.
async fn tag_calls(server: &MockServer) -> Vec<TagCall> {
    let mut calls = Vec::new();
    for request in server.received_requests().await.unwrap() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let query = body["query"].as_str().unwrap();
        let Some(mutation) = ["tagsAdd", "tagsRemove"]
            .into_iter()
            .find(|m| query.contains(&format!("{m}(")))
        else {
            continue;
        };
        calls.push(TagCall {
            mutation,
            customer: body["variables"]["id"].as_str().unwrap().to_owned(),
            tags: serde_json::from_value(body["variables"]["tags"].clone()).unwrap(),
            token: request.headers["x-shopify-access-token"]
                .to_str()
                .unwrap()
                .to_owned(),
        });
    }
    calls
}

fn call(mutation: &'static str, customer: u64, tags: &[&str], token: &str) -> TagCall {
    TagCall {
        mutation,
        customer: format!("gid://shopify/Customer/{customer}"),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        token: token.into(),
    }
}

async fn tier(app: &TestApp, shop: &str, customer: u64) -> Value {
    app.customer(shop, &customer.to_string()).await["tier"].clone()
}

/// The member's redemptions, oldest first.
async fn redemptions(app: &TestApp, shop_id: &str, customer: u64) -> Vec<Redemption> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        let member = Member::find_by_customer_id(c, &shop_id, &customer.to_string())
            .unwrap()
            .unwrap();
        let mut list = Redemption::list_for_member(c, &shop_id, &member.id, 100).unwrap();
        list.reverse();
        list
    })
    .await
}

async fn jobs_of_kind(app: &TestApp, kind: &'static str) -> Vec<Job> {
    app.with_db(move |c| {
        jobs::table
            .filter(jobs::kind.eq(kind))
            .order(jobs::created_at.asc())
            .select(Job::as_select())
            .load(c)
            .unwrap()
    })
    .await
}

/// Runs the scheduled tier review as if it were `days` from now.
async fn review_in(app: &TestApp, shop_id: &str, days: i64) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        let shop = Shop::find(c, &shop_id).unwrap();
        boomerang::services::tiers::review_due(c, &shop, now() + Duration::days(days)).unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_upgrade_pushes_the_tiers_tag_and_takes_the_others_off() {
    let server = MockServer::start().await;
    mount_tags(&server, 7001).await;
    let (app, shop_id) = setup(&server, false).await;

    app.deliver(SHOP, "orders/paid", "o1", &order(1, ADA)).await;
    assert_eq!(tier(&app, SHOP, 7001).await, "silver");
    assert!(
        tag_calls(&server).await.is_empty(),
        "the webhook's transaction only queues the sync"
    );
    run_jobs_due_by(&app, Duration::zero()).await;
    assert_eq!(
        tag_calls(&server).await,
        [
            call("tagsAdd", 7001, &["vip-silver"], "shpat_test"),
            call("tagsRemove", 7001, &["vip-gold"], "shpat_test"),
        ]
    );

    // Three changes before the job runs (up, down at the review, up again): one job,
    // reading the tier it finds.
    app.deliver(SHOP, "orders/paid", "o2", &order(2, ADA)).await;
    app.deliver(SHOP, "orders/cancelled", "o2c", &cancelled(2, ADA))
        .await;
    review_in(&app, &shop_id, 2).await;
    assert_eq!(tier(&app, SHOP, 7001).await, "silver");
    app.deliver(SHOP, "orders/paid", "o3", &order(3, ADA)).await;
    assert_eq!(tier(&app, SHOP, 7001).await, "gold");
    server.reset().await;
    mount_tags(&server, 7001).await;
    run_jobs_due_by(&app, Duration::zero()).await;
    assert_eq!(
        tag_calls(&server).await,
        [
            call("tagsAdd", 7001, &["vip-gold"], "shpat_test"),
            call("tagsRemove", 7001, &["vip-silver"], "shpat_test"),
        ]
    );
    assert_eq!(jobs_of_kind(&app, "sync_customer_tags").await.len(), 2);
}

#[tokio::test]
async fn throttling_and_outages_are_retried_and_refusals_are_left_as_dead_jobs() {
    let server = MockServer::start().await;
    // The first answer is a 429: retried within the job's call.
    Mock::given(method("POST"))
        .and(body_string_contains("tagsAdd("))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_tags(&server, 7001).await;
    let (app, _) = setup(&server, false).await;
    app.deliver(SHOP, "orders/paid", "o1", &order(1, ADA)).await;
    run_jobs_due_by(&app, Duration::zero()).await;
    let adds: Vec<_> = tag_calls(&server)
        .await
        .into_iter()
        .filter(|c| c.mutation == "tagsAdd")
        .collect();
    assert_eq!(adds.len(), 2, "the throttled call was made again");
    assert_eq!(
        adds[1],
        call("tagsAdd", 7001, &["vip-silver"], "shpat_test")
    );

    // An outage outlasting the call's own retries: the job is retried later, with backoff.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_tags(&server, 7001).await;
    app.deliver(SHOP, "orders/paid", "o2", &order(2, ADA)).await;
    let report = boomerang::jobs::run_pending(&app.db, &job_context(APP_SECRET))
        .await
        .unwrap();
    assert_eq!((report.retried, report.failed), (1, 0));
    let waiting = jobs_of_kind(&app, "sync_customer_tags")
        .await
        .pop()
        .unwrap();
    assert_eq!(waiting.status.as_str(), "queued");
    assert!(
        waiting.run_at > now(),
        "retried after a backoff, not at once"
    );
    assert!(waiting.last_error.unwrap().contains("503"));
    run_jobs_due_by(&app, Duration::hours(1)).await;
    assert_eq!(
        tag_calls(&server).await.last(),
        Some(&call("tagsRemove", 7001, &["vip-silver"], "shpat_test"))
    );
    let done = jobs_of_kind(&app, "sync_customer_tags")
        .await
        .pop()
        .unwrap();
    assert_eq!((done.status.as_str(), done.attempts), ("done", 2));

    // Shopify refuses: retrying cannot help, so the job fails for good and stays visible.
    server.reset().await;
    Mock::given(method("POST"))
        .and(body_string_contains("tagsAdd("))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"tagsAdd": {
            "node": null, "userErrors": [{"field": ["id"], "message": "Customer does not exist"}]}}})))
        .mount(&server)
        .await;
    app.deliver(SHOP, "orders/paid", "o3", &order(3, BOB)).await;
    let report = boomerang::jobs::run_pending(&app.db, &job_context(APP_SECRET))
        .await
        .unwrap();
    assert_eq!((report.retried, report.failed), (0, 1));
    let dead = jobs_of_kind(&app, "sync_customer_tags")
        .await
        .pop()
        .unwrap();
    assert_eq!(dead.status.as_str(), "failed");
    assert!(dead.last_error.unwrap().contains("Customer does not exist"));
}

#[tokio::test]
async fn the_entry_reward_is_given_once_with_a_code_and_not_again_within_a_year() {
    let server = MockServer::start().await;
    mount_tags(&server, 7001).await;
    mount_discounts(&server).await;
    let (app, shop_id) = setup(&server, true).await;

    app.deliver(SHOP, "orders/paid", "o1", &order(1, ADA)).await;
    let balance = app.customer(SHOP, "7001").await["points_balance"].clone();
    run_jobs_due_by(&app, Duration::zero()).await;
    let given = redemptions(&app, &shop_id, 7001).await;
    assert_eq!(given.len(), 1);
    let silver = &given[0];
    assert_eq!(
        (silver.reward_id.as_str(), silver.points, silver.status),
        ("5-off", 0, RedemptionStatus::Issued)
    );
    assert!(silver.code.starts_with("EFFE-"), "{}", silver.code);
    assert_eq!(
        silver.platform_discount_id.as_deref(),
        Some("gid://shopify/DiscountCodeNode/1")
    );
    assert_eq!(
        app.customer(SHOP, "7001").await["points_balance"],
        balance,
        "a reward given costs no points"
    );
    let requests = server.received_requests().await.unwrap();
    let create = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .find(|b| b.contains("discountCodeBasicCreate"))
        .unwrap();
    assert!(create.contains(&silver.code) && create.contains("gid://shopify/Customer/7001"));
    assert!(
        create.contains("5 off your order (Silver entry reward)"),
        "{create}"
    );
    assert!(create.contains("\"amount\":\"5.00\""), "{create}");

    // Gold, down to Silver at the review, and Gold again: nothing new within the year.
    app.deliver(SHOP, "orders/paid", "o2", &order(2, ADA)).await;
    run_jobs_due_by(&app, Duration::zero()).await;
    let given = redemptions(&app, &shop_id, 7001).await;
    assert_eq!(given.len(), 2);
    assert_eq!(
        (given[1].reward_id.as_str(), given[1].status),
        ("free-shipping", RedemptionStatus::Issued)
    );
    app.deliver(SHOP, "orders/cancelled", "o2c", &cancelled(2, ADA))
        .await;
    review_in(&app, &shop_id, 2).await;
    assert_eq!(tier(&app, SHOP, 7001).await, "silver");
    app.deliver(SHOP, "orders/paid", "o3", &order(3, ADA)).await;
    assert_eq!(tier(&app, SHOP, 7001).await, "gold");
    run_jobs_due_by(&app, Duration::days(3)).await;
    assert_eq!(
        redemptions(&app, &shop_id, 7001).await.len(),
        2,
        "re-qualifying within 365 days gives nothing again"
    );

    // A year after the last one, re-qualifying gives it again, recorded on the same row.
    let member_id = given[1].member_id.clone();
    app.with_db(move |c| {
        diesel::update(entry_rewards::table.filter(entry_rewards::tier.eq("gold")))
            .set(entry_rewards::issued_at.eq(now() - Duration::days(366)))
            .execute(c)
            .unwrap();
    })
    .await;
    app.deliver(SHOP, "orders/cancelled", "o3c", &cancelled(3, ADA))
        .await;
    review_in(&app, &shop_id, 2).await;
    app.deliver(SHOP, "orders/paid", "o4", &order(4, ADA)).await;
    run_jobs_due_by(&app, Duration::days(3)).await;
    let given = redemptions(&app, &shop_id, 7001).await;
    assert_eq!(given.len(), 3);
    assert_eq!(
        (given[2].reward_id.as_str(), given[2].status),
        ("free-shipping", RedemptionStatus::Issued)
    );
    let (sid, rid) = (shop_id.clone(), given[2].id.clone());
    let record = app
        .with_db(move |c| EntryReward::find(c, &sid, &member_id, "gold").unwrap())
        .await
        .unwrap();
    assert_eq!(record.redemption_id, rid);
    assert!(now() - record.issued_at < Duration::minutes(5));
}

#[tokio::test]
async fn an_entry_reward_code_is_retried_through_an_outage_and_found_after_a_lost_answer() {
    let server = MockServer::start().await;
    mount_tags(&server, 7001).await;
    // Down for the whole first attempt; the next attempt is told the code is taken (as when an
    // earlier attempt made it and its answer was lost) and looks it up.
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "code"], "message": "Code must be unique", "code": "TAKEN"}]}}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("codeDiscountNodeByCode"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/9"}}}),
        ))
        .mount(&server)
        .await;
    let (app, shop_id) = setup(&server, true).await;
    app.deliver(SHOP, "orders/paid", "o1", &order(1, ADA)).await;
    let report = boomerang::jobs::run_pending(&app.db, &job_context(APP_SECRET))
        .await
        .unwrap();
    assert_eq!(report.retried, 1, "{report:?}");
    assert_eq!(
        redemptions(&app, &shop_id, 7001).await[0].status,
        RedemptionStatus::Pending
    );
    run_jobs_due_by(&app, Duration::hours(1)).await;
    let given = redemptions(&app, &shop_id, 7001).await;
    assert_eq!(given.len(), 1);
    assert_eq!(
        (given[0].status, given[0].platform_discount_id.as_deref()),
        (
            RedemptionStatus::Issued,
            Some("gid://shopify/DiscountCodeNode/9")
        )
    );
}

#[tokio::test]
async fn a_shops_token_never_tags_another_shops_customer() {
    let (server_a, server_b) = (MockServer::start().await, MockServer::start().await);
    mount_tags(&server_a, 7001).await;
    mount_tags(&server_b, 7001).await;
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    add_shop(&app, SHOP, &server_a, "shpat_shop_a").await;
    let other = "other.myshopify.com";
    add_shop(&app, other, &server_b, "shpat_shop_b").await;
    put_program(&app, SHOP, program(false)).await;
    put_program(&app, other, program(false)).await;

    // The same customer id in both shops: only shop B's member moves.
    app.deliver(other, "orders/paid", "b1", &order(1, ADA))
        .await;
    app.deliver(other, "orders/paid", "b2", &order(2, ADA))
        .await;
    run_jobs_due_by(&app, Duration::zero()).await;
    assert!(tag_calls(&server_a).await.is_empty(), "shop A untouched");
    let calls = tag_calls(&server_b).await;
    assert_eq!(
        calls.last(),
        Some(&call("tagsRemove", 7001, &["vip-silver"], "shpat_shop_b"))
    );
    assert!(calls.iter().all(|c| c.token == "shpat_shop_b"), "{calls:?}");

    app.deliver(SHOP, "orders/paid", "a1", &order(1, ADA)).await;
    run_jobs_due_by(&app, Duration::zero()).await;
    assert_eq!(
        tag_calls(&server_a).await,
        [
            call("tagsAdd", 7001, &["vip-silver"], "shpat_shop_a"),
            call("tagsRemove", 7001, &["vip-gold"], "shpat_shop_a"),
        ]
    );
    assert!(tag_calls(&server_b)
        .await
        .iter()
        .all(|c| c.token == "shpat_shop_b"));
}

#[tokio::test]
async fn a_shop_without_store_access_or_tags_queues_no_sync() {
    let app = TestApp::spawn().await;
    // No access token: nothing to push with.
    app.add_shop(SHOP, "USD").await;
    put_program(&app, SHOP, program(false)).await;
    app.deliver(SHOP, "orders/paid", "o1", &order(1, ADA)).await;
    assert_eq!(tier(&app, SHOP, 7001).await, "silver");
    // Connected, but no level has a tag.
    let server = MockServer::start().await;
    let app2 = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    add_shop(&app2, SHOP, &server, "shpat_test").await;
    let mut untagged = program(false);
    for level in untagged["tiers"]["levels"].as_array_mut().unwrap() {
        level["customer_tag"] = Value::Null;
    }
    put_program(&app2, SHOP, untagged).await;
    app2.deliver(SHOP, "orders/paid", "o1", &order(1, ADA))
        .await;
    assert_eq!(tier(&app2, SHOP, 7001).await, "silver");
    for app in [&app, &app2] {
        assert!(jobs_of_kind(app, "sync_customer_tags").await.is_empty());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_change_while_the_sync_runs_queues_one_follow_up() {
    let server = MockServer::start().await;
    mount_tags(&server, 7001).await;
    let (app, _) = setup(&server, false).await;
    app.deliver(SHOP, "orders/paid", "o1", &order(1, ADA)).await;
    // A worker claimed the sync and may already have read Silver.
    let claimed = jobs_of_kind(&app, "sync_customer_tags")
        .await
        .pop()
        .unwrap();
    let id = claimed.id.clone();
    app.with_db(move |c| {
        diesel::update(jobs::table.find(&id))
            .set(jobs::status.eq("running"))
            .execute(c)
            .unwrap();
    })
    .await;
    app.deliver(SHOP, "orders/paid", "o2", &order(2, ADA)).await;
    app.deliver(SHOP, "orders/paid", "o3", &order(3, BOB)).await;
    let follow_ups: Vec<Job> = jobs_of_kind(&app, "sync_customer_tags")
        .await
        .into_iter()
        .filter(|j| j.status.as_str() == "queued")
        .collect();
    let keys: Vec<_> = follow_ups.iter().map(|j| j.dedupe_key.clone()).collect();
    let ada = claimed.dedupe_key.unwrap();
    assert!(
        keys.contains(&Some(format!("{ada}/after/{}", claimed.id))),
        "{keys:?}"
    );
    assert_eq!(
        follow_ups.len(),
        2,
        "Ada's follow-up and Bob's own: {keys:?}"
    );
}

#[tokio::test]
async fn a_refused_entry_reward_code_fails_the_redemption_without_touching_points() {
    let server = MockServer::start().await;
    mount_tags(&server, 7001).await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "endsAt"], "message": "Ends at needs to be after starts_at"}]}}})))
        .mount(&server)
        .await;
    let (app, shop_id) = setup(&server, true).await;
    app.deliver(SHOP, "orders/paid", "o1", &order(1, ADA)).await;
    let before = app.customer(SHOP, "7001").await;
    let report = boomerang::jobs::run_pending(&app.db, &job_context(APP_SECRET))
        .await
        .unwrap();
    assert_eq!((report.retried, report.failed), (0, 1));
    let given = redemptions(&app, &shop_id, 7001).await;
    assert_eq!(given[0].status, RedemptionStatus::Failed);
    assert!(given[0].error.as_deref().unwrap().contains("Ends at"));
    let after = app.customer(SHOP, "7001").await;
    assert_eq!(
        (&after["points_balance"], &after["lifetime_points"]),
        (&before["points_balance"], &before["lifetime_points"]),
        "nothing was debited, so nothing comes back"
    );
    let dead = jobs_of_kind(&app, "issue_granted_reward")
        .await
        .pop()
        .unwrap();
    assert_eq!(dead.status.as_str(), "failed");
}
