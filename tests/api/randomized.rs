//! Seeded random runs through the app's HTTP surface, checking the points ledger after every
//! step, and a storm of concurrent redemptions and orders.
//!
//! 1. A few hundred random steps on one shop — orders paid, refunds, cancellations, confirmation
//!    after the return window, redemptions against a fake Admin API that sometimes refuses,
//!    codes the owner takes back, owner adjustments, redeliveries, expiry — each followed by
//!    reading the database: every cached balance equals the ledger, none is negative, the
//!    shop's totals agree, a model of every member's points agrees exactly, the admin API shows
//!    what the database holds, and a second shop is never touched.
//! 2. Hundreds of concurrent redemptions of mixed rewards over twenty members, with their orders
//!    arriving and their points confirming at the same time: nobody spends more than they had,
//!    no code is handed out twice, and every refusal is a clean `insufficient_points`.
//! 3. The expiry cases the random run found, minimised.
//!
//! A failure prints the seed; `BOOMERANG_RANDOM_SEED=<seed>` replays it (or explores others).

use std::collections::{HashMap, HashSet};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, SubsecRound, Utc};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::db::models::Shop;
use boomerang::db::schema::{inbox_events, ledger_entries, members, orders, redemptions, refunds};
use boomerang::db::stored_body::StoredBody;
use boomerang::db::{write_transaction, Db, DbConnection};
use boomerang::domain::points::LedgerKind;
use boomerang::platform::shopify::app_proxy;
use boomerang::services::ledger::{confirm_due, LedgerError};

use crate::helpers::{job_context, order_json, refund_json, session_token, TestApp, SECRET};

const APP_SECRET: &str = "randomized-test-app-secret-0123456789abcdef";

/// The seed: `BOOMERANG_RANDOM_SEED` (decimal or 0x-hex) if set, else `default`.
fn seed(default: u64) -> u64 {
    match std::env::var("BOOMERANG_RANDOM_SEED") {
        Ok(s) if !s.trim().is_empty() => {
            let s = s.trim();
            s.strip_prefix("0x")
                .map_or_else(|| s.parse(), |hex| u64::from_str_radix(hex, 16))
                .unwrap_or_else(|e| panic!("BOOMERANG_RANDOM_SEED={s}: {e}"))
        }
        _ => default,
    }
}

/// Runs a test on its own runtime, then waits a moment before returning.
///
/// On PostgreSQL, libpq gives every thread that used a connection OpenSSL thread-local state.
/// When a test is the last of the process, the threads of its runtime (and of the app's
/// workers) exit while the main thread is already in OpenSSL's `atexit` cleanup, which crashes
/// the process (`double free`, SIGSEGV/SIGABRT) after every test passed. Dropping the runtime
/// here and sleeping lets those threads finish exiting first.
fn run_then_settle(multi_thread: bool, test: impl std::future::Future<Output = ()>) {
    let mut builder = if multi_thread {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = builder.enable_all().build().unwrap();
    runtime.block_on(test);
    drop(runtime);
    std::thread::sleep(StdDuration::from_millis(300));
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn insert_member(c: &mut DbConnection, shop_id: &str, customer: u64, email: &str) -> String {
    let id = crate::helpers::insert_member(c, shop_id, Some(&customer.to_string()), Some(email)).id;
    // A known account whose e-mail is proven: guest checkouts with it go to the account.
    diesel::update(members::table.filter(members::id.eq(&id)))
        .set(members::email_verified.eq(true))
        .execute(c)
        .unwrap();
    id
}

/// The storefront redeem URL for `customer`, signed as Shopify's app proxy signs it.
fn redeem_url(app: &TestApp, shop: &str, customer: u64) -> String {
    let q = format!(
        "shop={shop}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&timestamp={}",
        Utc::now().timestamp()
    );
    app.url(&format!(
        "/proxy/redeem?{q}&signature={}",
        app_proxy::sign(&q, SECRET)
    ))
}

async fn put_program(app: &TestApp, shop: &str, program: &Value) {
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(shop))
        .json(program)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "PUT program {program}");
}

async fn adjust(app: &TestApp, shop: &str, customer: u64, points: i64, key: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/api/admin/v1/customers/{customer}/adjustments")))
        .bearer_auth(session_token(shop))
        .header("Idempotency-Key", key)
        .json(&json!({"points": points, "reason": "randomized test"}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn error_code_of(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// Stores and applies every delivery the app has acknowledged: waits for the ingest applier,
/// runs due jobs (deliveries whose first application failed), and reports any that failed.
async fn settle_inbox(app: &TestApp) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let (pending, failed) = app
            .with_db(|c| {
                let count = |c: &mut DbConnection, status: &str| -> i64 {
                    inbox_events::table
                        .filter(inbox_events::status.eq(status))
                        .count()
                        .get_result(c)
                        .unwrap()
                };
                (count(c, "pending"), count(c, "failed"))
            })
            .await;
        if failed > 0 {
            return Err(format!("{failed} stored webhook(s) failed to apply"));
        }
        if pending == 0 {
            return Ok(());
        }
        if started.elapsed() > StdDuration::from_secs(30) {
            return Err(format!("{pending} webhook(s) still pending after 30 s"));
        }
        boomerang::jobs::run_pending(&app.db, &job_context(APP_SECRET))
            .await
            .unwrap();
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// Confirms the shop's pending points due `days` from now, retrying a transaction the database
/// aborted (a deadlock victim under load): the confirmation job would be retried the same way.
async fn confirm(db: &Db, shop_id: &str, days: i64) -> Result<usize, String> {
    let (db, shop_id) = (db.clone(), shop_id.to_owned());
    tokio::task::spawn_blocking(move || {
        let c = &mut db.get().map_err(|e| e.to_string())?;
        let mut last = String::new();
        for _ in 0..20 {
            match write_transaction(c, |c| -> Result<usize, LedgerError> {
                confirm_due(c, &shop_id, boomerang::db::now() + Duration::days(days))
            }) {
                Ok(n) => return Ok(n),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(StdDuration::from_millis(5));
        }
        Err(last)
    })
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Reading the database and checking the invariants.

/// A member row: id, customer id, points_balance, pending_points, lifetime_points.
type MemberRow = (String, Option<String>, i64, i64, i64);
/// A ledger line: member id, delta, status, kind.
type LineRow = (String, i64, String, String);

struct ShopState {
    members: Vec<MemberRow>,
    lines: Vec<LineRow>,
}

fn read_shop(c: &mut DbConnection, shop_id: &str) -> ShopState {
    let members = members::table
        .filter(members::shop_id.eq(shop_id))
        .select((
            members::id,
            members::platform_customer_id,
            members::points_balance,
            members::pending_points,
            members::lifetime_points,
        ))
        .order(members::id.asc())
        .load(c)
        .unwrap();
    let lines = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .select((
            ledger_entries::member_id,
            ledger_entries::delta,
            ledger_entries::status,
            ledger_entries::kind,
        ))
        .load(c)
        .unwrap();
    ShopState { members, lines }
}

/// What the ledger says a member has: (confirmed, pending, lifetime) sums.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sums {
    confirmed: i64,
    pending: i64,
    lifetime: i64,
}

/// Every broken invariant of the shop, as the app defines them (`services::ledger`):
/// `points_balance` = sum of confirmed lines, `pending_points` = sum of pending lines,
/// `lifetime_points` = sum of the lines whose kind counts towards lifetime, none below zero, and
/// the shop's totals equal the ledger's.
fn violations(state: &ShopState) -> Vec<String> {
    let mut out = Vec::new();
    let mut sums: HashMap<&str, Sums> = HashMap::new();
    let (mut ledger_confirmed, mut ledger_pending) = (0i64, 0i64);
    for (member, delta, status, kind) in &state.lines {
        let s = sums.entry(member.as_str()).or_default();
        match status.as_str() {
            "confirmed" => {
                s.confirmed += delta;
                ledger_confirmed += delta;
            }
            "pending" => {
                s.pending += delta;
                ledger_pending += delta;
            }
            other => out.push(format!("a ledger line of {member} has status {other:?}")),
        }
        match kind.parse::<LedgerKind>() {
            Ok(k) if k.counts_towards_lifetime() => s.lifetime += delta,
            Ok(_) => {}
            Err(_) => out.push(format!("a ledger line of {member} has kind {kind:?}")),
        }
    }
    let known: HashSet<&str> = state.members.iter().map(|m| m.0.as_str()).collect();
    for member in sums.keys() {
        if !known.contains(member) {
            out.push(format!(
                "ledger lines for {member}, not a member of the shop"
            ));
        }
    }
    let (mut balances, mut pendings) = (0i64, 0i64);
    for (id, customer, balance, pending, lifetime) in &state.members {
        let s = sums.get(id.as_str()).copied().unwrap_or_default();
        let who = customer.as_deref().unwrap_or(id);
        if *balance != s.confirmed {
            out.push(format!(
                "customer {who}: points_balance {balance} != confirmed ledger {}",
                s.confirmed
            ));
        }
        if *pending != s.pending {
            out.push(format!(
                "customer {who}: pending_points {pending} != pending ledger {}",
                s.pending
            ));
        }
        if *lifetime != s.lifetime {
            out.push(format!(
                "customer {who}: lifetime_points {lifetime} != lifetime ledger {}",
                s.lifetime
            ));
        }
        if *balance < 0 || *pending < 0 {
            out.push(format!(
                "customer {who}: below zero ({balance} / {pending})"
            ));
        }
        balances += balance;
        pendings += pending;
    }
    if balances != ledger_confirmed || pendings != ledger_pending {
        out.push(format!(
            "shop totals: balances {balances} / pending {pendings}, ledger {ledger_confirmed} / {ledger_pending}"
        ));
    }
    out
}

/// Everything of a shop that a step on another shop must leave alone.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    members: Vec<(String, i64, i64, i64, NaiveDateTime)>,
    lines: Vec<(String, i64, String, NaiveDateTime)>,
    orders: i64,
    refunds: i64,
    redemptions: i64,
    inbox: i64,
}

fn fingerprint(c: &mut DbConnection, shop_id: &str) -> Fingerprint {
    Fingerprint {
        members: members::table
            .filter(members::shop_id.eq(shop_id))
            .select((
                members::id,
                members::points_balance,
                members::pending_points,
                members::lifetime_points,
                members::updated_at,
            ))
            .order(members::id.asc())
            .load(c)
            .unwrap(),
        lines: ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .select((
                ledger_entries::id,
                ledger_entries::delta,
                ledger_entries::status,
                ledger_entries::updated_at,
            ))
            .order(ledger_entries::id.asc())
            .load(c)
            .unwrap(),
        orders: orders::table
            .filter(orders::shop_id.eq(shop_id))
            .count()
            .get_result(c)
            .unwrap(),
        refunds: refunds::table
            .filter(refunds::shop_id.eq(shop_id))
            .count()
            .get_result(c)
            .unwrap(),
        redemptions: redemptions::table
            .filter(redemptions::shop_id.eq(shop_id))
            .count()
            .get_result(c)
            .unwrap(),
        inbox: inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .count()
            .get_result(c)
            .unwrap(),
    }
}

// ---------------------------------------------------------------------------------------------
// The model of the randomized run.

const SHOP: &str = "random-run.myshopify.com";
const BYSTANDER: &str = "bystander.myshopify.com";
/// Whole-dollar unit prices: at one point per dollar every line earns exactly quantity * price.
const PRICES: [i64; 8] = [3, 8, 15, 29, 50, 75, 120, 240];
/// The catalog: (id, points) for fixed rewards; `slider` spends 50–600 in steps of 50.
const FIXED_REWARDS: [(&str, i64); 3] = [("1-off", 100), ("5-off", 500), ("free-shipping", 800)];

fn catalog() -> Value {
    json!([
        {"id": "1-off", "title": "1 off", "kind": "fixed_amount", "amount_minor": 100, "points_cost": 100},
        {"id": "5-off", "title": "5 off", "kind": "fixed_amount", "amount_minor": 500, "points_cost": 500},
        {"id": "free-shipping", "title": "Free shipping", "kind": "free_shipping", "points_cost": 800},
        {"id": "slider", "title": "Points off", "kind": "variable", "points_per_unit": 50,
         "min_points": 50, "max_points": 600, "points_cost": 50}
    ])
}

fn program(expiry: bool) -> Value {
    if expiry {
        json!({"rewards": catalog(), "expiry": {"mode": "after_earning", "months": 1, "remind_days_before": 14}})
    } else {
        json!({"rewards": catalog()})
    }
}

/// A member's points as the model expects them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Points {
    balance: i64,
    pending: i64,
    lifetime: i64,
}

struct Customer {
    id: u64,
    email: String,
    /// Whether the app knows them yet (the last customer only appears with a first order).
    member: bool,
    points: Points,
}

struct Order {
    id: u64,
    customer: usize,
    /// (line id, quantity, whole-dollar unit price).
    lines: Vec<(u64, i64, i64)>,
    /// Days before the start of the run it was placed: it confirms 14 days after that.
    age_days: i64,
    paid_body: Value,
    award: i64,
    /// The award (and so its reversals) has confirmed.
    confirmed: bool,
    /// Ledger lines of the order still pending (the award and pending reversals).
    pending_lines: usize,
    refunded_units: HashMap<u64, i64>,
    refunded_cents_without_lines: i64,
    /// What reversals meant to take back (including shortfalls), as `earn::reversed_so_far`.
    reversed: i64,
    cancelled: bool,
}

impl Order {
    fn basis_cents(&self) -> i64 {
        self.lines.iter().map(|(_, q, p)| q * p * 100).sum()
    }

    fn units_left(&self) -> Vec<(u64, i64, i64)> {
        self.lines
            .iter()
            .map(|(id, q, p)| {
                (
                    *id,
                    q - self.refunded_units.get(id).copied().unwrap_or(0),
                    *p,
                )
            })
            .filter(|(_, left, _)| *left > 0)
            .collect()
    }

    /// What the refunds and cancellation so far call for in total (`reversal_for_refund`).
    fn target(&self) -> i64 {
        if self.cancelled {
            return self.award;
        }
        let lines: i64 = self
            .lines
            .iter()
            .map(|(id, q, p)| p * self.refunded_units.get(id).copied().unwrap_or(0).min(*q))
            .sum();
        let basis = self.basis_cents();
        let by_amount = self.award * self.refunded_cents_without_lines.min(basis) / basis;
        (lines + by_amount).min(self.award)
    }
}

/// How the fake Admin API answers a redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Creates,
    CreatesSlowly,
    /// A 503 first: the call is retried within the request and succeeds.
    FailsOnceThenCreates,
    RefusesWithUserErrors,
    Rejects400,
    Unauthorized401,
}

impl Api {
    fn succeeds(self) -> bool {
        matches!(
            self,
            Self::Creates | Self::CreatesSlowly | Self::FailsOnceThenCreates
        )
    }

    fn calls(self) -> usize {
        if self == Self::FailsOnceThenCreates {
            2
        } else {
            1
        }
    }
}

fn mutation_for(reward: &str) -> &'static str {
    if reward == "free-shipping" {
        "discountCodeFreeShippingCreate"
    } else {
        "discountCodeBasicCreate"
    }
}

/// Adjusting a customer the app has not seen asks Shopify, which does not know 123456.
async fn mount_unknown_customer(server: &MockServer) {
    Mock::given(method("POST"))
        .and(body_string_contains("gid://shopify/Customer/123456"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"customer": null}})))
        .with_priority(1)
        .mount(server)
        .await;
}

async fn mount_api(server: &MockServer, api: Api, mutation: &str) {
    server.reset().await;
    mount_unknown_customer(server).await;
    let created = ResponseTemplate::new(200).set_body_json(json!({"data": {mutation: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []}}}));
    let template = match api {
        Api::Creates => created,
        Api::CreatesSlowly => created.set_delay(StdDuration::from_millis(30)),
        Api::FailsOnceThenCreates => {
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(503))
                .up_to_n_times(1)
                .mount(server)
                .await;
            created
        }
        // ("Code must be unique" is not a refusal: the code is looked up, see `rewards.rs`.)
        Api::RefusesWithUserErrors => ResponseTemplate::new(200).set_body_json(json!({"data": {mutation: {
            "codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "endsAt"], "message": "Ends at needs to be after starts_at"}]}}})),
        Api::Rejects400 => ResponseTemplate::new(400).set_body_string("bad request"),
        Api::Unauthorized401 => ResponseTemplate::new(401),
    };
    Mock::given(method("POST"))
        .and(body_string_contains(mutation))
        .respond_with(template)
        .mount(server)
        .await;
}

/// A code handed out, which the owner may take back while it is unused.
struct IssuedCode {
    redemption_id: String,
    code: String,
    customer: usize,
    points: i64,
    cancelled: bool,
}

/// One delivered webhook, for redelivery.
struct Delivered {
    shop: &'static str,
    topic: &'static str,
    webhook_id: String,
    body: Value,
}

/// An owner adjustment sent, for replay with its Idempotency-Key.
struct Adjusted {
    key: String,
    customer: usize,
    points: i64,
    applied: bool,
}

struct Run {
    app: TestApp,
    server: MockServer,
    seed: u64,
    rng: StdRng,
    shop_id: String,
    bystander_id: String,
    bystander: Fingerprint,
    /// The start of the run, whole seconds: orders are placed relative to it.
    t0: DateTime<Utc>,
    customers: Vec<Customer>,
    orders: Vec<Order>,
    delivered: Vec<Delivered>,
    adjusted: Vec<Adjusted>,
    expiry_on: bool,
    /// Every code handed out.
    issued: Vec<IssuedCode>,
    codes: HashSet<String>,
    api_failures: usize,
    /// Expiry runs that left points past their date unexpired (see
    /// `points_past_their_expiry_date_expire_even_when_they_come_back_late`): reported at the
    /// end, the run going on from what the app did so the ledger is checked to the last step.
    expiry_gaps: Vec<String>,
    /// How the redemptions were answered: status → count.
    redeemed: std::collections::BTreeMap<u16, usize>,
    next_id: u64,
    step: usize,
    log: Vec<String>,
}

impl Run {
    fn fail(&self, what: &str) -> ! {
        let start = self.log.len().saturating_sub(400);
        let steps: Vec<String> = self
            .log
            .iter()
            .enumerate()
            .skip(start)
            .map(|(i, s)| format!("  {i:>3} {s}"))
            .collect();
        panic!(
            "{what}\n\nseed {seed} (replay: BOOMERANG_RANDOM_SEED={seed}), at step {step}; the steps:\n{}",
            steps.join("\n"),
            seed = self.seed,
            step = self.step,
        )
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn note(&mut self, s: String) {
        self.log.push(s);
    }

    async fn deliver(&mut self, shop: &'static str, topic: &'static str, body: Value) -> String {
        let webhook_id = format!("w{}", self.fresh_id());
        let status = self.app.deliver(shop, topic, &webhook_id, &body).await;
        if status != "accepted" {
            self.fail(&format!("{topic} {webhook_id} was {status}, not accepted"));
        }
        self.delivered.push(Delivered {
            shop,
            topic,
            webhook_id: webhook_id.clone(),
            body,
        });
        webhook_id
    }

    /// Points of `order`'s award that expired (its lot's expiry lines): `earn::reversed_so_far`
    /// counts them as taken back, so a refund does not take them a second time.
    async fn expired_of(&self, o: usize) -> i64 {
        let (shop_id, order_id) = (self.shop_id.clone(), self.orders[o].id);
        self.app
            .with_db(move |c| {
                let award: Option<String> = ledger_entries::table
                    .filter(ledger_entries::shop_id.eq(&shop_id))
                    .filter(ledger_entries::idempotency_key.eq(format!("order:{order_id}:earn")))
                    .select(ledger_entries::id)
                    .first(c)
                    .optional()
                    .unwrap();
                let Some(award) = award else { return 0 };
                ledger_entries::table
                    .filter(ledger_entries::shop_id.eq(&shop_id))
                    .filter(ledger_entries::source.eq("lot"))
                    .filter(ledger_entries::source_id.eq(award))
                    .filter(ledger_entries::kind.eq(LedgerKind::Expiry.as_str()))
                    .select(ledger_entries::delta)
                    .load::<i64>(c)
                    .unwrap()
                    .into_iter()
                    .map(|d| -d)
                    .sum()
            })
            .await
    }

    /// Takes back what `order` now calls for, as `earn::sync_reversals` and `ledger::post` do;
    /// `expired`: what of its award expired ([`Run::expired_of`]).
    fn reverse(&mut self, o: usize, expired: i64) -> i64 {
        let order = &mut self.orders[o];
        let due = order.target() - order.reversed - expired;
        if due <= 0 {
            return 0;
        }
        order.reversed += due;
        let points = &mut self.customers[order.customer].points;
        if order.confirmed {
            let taken = due.min(points.balance);
            points.balance -= taken;
            points.lifetime -= taken;
            taken
        } else {
            order.pending_lines += 1;
            points.pending -= due;
            points.lifetime -= due;
            due
        }
    }

    async fn step(&mut self) -> Vec<usize> {
        let roll = self.rng.gen_range(0..100);
        match roll {
            0..=21 => self.new_order().await,
            22..=35 => self.refund().await,
            36..=40 => self.cancel().await,
            41..=48 => self.confirm().await,
            49..=64 => self.redeem().await,
            65..=68 => self.cancel_code().await,
            69..=80 => self.adjust().await,
            81..=90 => self.redeliver().await,
            91..=94 => self.expire().await,
            _ => self.noise().await,
        }
    }

    async fn new_order(&mut self) -> Vec<usize> {
        let cust = self.rng.gen_range(0..self.customers.len());
        let id = 100_000 + self.fresh_id();
        let lines: Vec<(u64, i64, i64)> = (0..self.rng.gen_range(1..=3u64))
            .map(|k| {
                (
                    id * 10 + k,
                    self.rng.gen_range(1..=3),
                    *PRICES.choose(&mut self.rng).unwrap(),
                )
            })
            .collect();
        let age_days = self.rng.gen_range(0..=30);
        // A guest checkout with an account's e-mail goes to the account.
        let guest = self.customers[cust].member && self.rng.gen_bool(0.15);
        let c = &self.customers[cust];
        let text: Vec<(u64, i64, String)> = lines
            .iter()
            .map(|(l, q, p)| (*l, *q, format!("{p}.00")))
            .collect();
        let refs: Vec<(u64, i64, &str)> =
            text.iter().map(|(l, q, p)| (*l, *q, p.as_str())).collect();
        let customer = (!guest).then_some((c.id, c.email.as_str()));
        let mut body = order_json(id, customer, "paid", &refs);
        if guest {
            body["email"] = json!(c.email);
        }
        let placed = self.t0 - Duration::days(age_days);
        body["created_at"] = json!(rfc3339(placed));
        body["updated_at"] = json!(rfc3339(placed + Duration::seconds(5)));
        let award: i64 = lines.iter().map(|(_, q, p)| q * p).sum();
        self.note(format!(
            "orders/paid {id} customer {}{} age {age_days}d lines {lines:?} → +{award} pending",
            c.id,
            if guest { " (guest checkout)" } else { "" }
        ));
        self.deliver(SHOP, "orders/paid", body.clone()).await;
        let c = &mut self.customers[cust];
        c.member = true;
        c.points.pending += award;
        c.points.lifetime += award;
        self.orders.push(Order {
            id,
            customer: cust,
            lines,
            age_days,
            paid_body: body,
            award,
            confirmed: false,
            pending_lines: 1,
            refunded_units: HashMap::new(),
            refunded_cents_without_lines: 0,
            reversed: 0,
            cancelled: false,
        });
        vec![cust]
    }

    async fn refund(&mut self) -> Vec<usize> {
        let open: Vec<usize> = (0..self.orders.len())
            .filter(|o| {
                let order = &self.orders[*o];
                !order.cancelled
                    && (!order.units_left().is_empty()
                        || order.refunded_cents_without_lines < order.basis_cents())
            })
            .collect();
        let Some(&o) = open.choose(&mut self.rng) else {
            return self.new_order().await;
        };
        let refund_id = 900_000 + self.fresh_id();
        let left = self.orders[o].units_left();
        let kind = self.rng.gen_range(0..100);
        if kind >= 92 {
            return self.refund_shipping(o, refund_id).await;
        }
        let mut refunded: Vec<(u64, i64, i64)> = Vec::new();
        let mut amount_only = 0;
        if left.is_empty() || kind < 35 {
            let basis = self.orders[o].basis_cents();
            amount_only = self.rng.gen_range(1..=(basis / 2).max(1));
        } else if kind < 55 {
            refunded = left;
        } else {
            let &(line, units, price) = left.choose(&mut self.rng).unwrap();
            refunded.push((line, self.rng.gen_range(1..=units), price));
        }
        let text: Vec<(u64, i64, String)> = refunded
            .iter()
            .map(|(l, q, p)| (*l, *q, dollars(q * p * 100)))
            .collect();
        let refs: Vec<(u64, i64, &str)> =
            text.iter().map(|(l, q, s)| (*l, *q, s.as_str())).collect();
        let amount = amount_only + refunded.iter().map(|(_, q, p)| q * p * 100).sum::<i64>();
        let order_id = self.orders[o].id;
        let body = refund_json(refund_id, order_id, &refs, &dollars(amount));
        {
            let order = &mut self.orders[o];
            for (line, q, _) in &refunded {
                *order.refunded_units.entry(*line).or_default() += q;
            }
            order.refunded_cents_without_lines += amount_only;
        }
        let expired = self.expired_of(o).await;
        let taken = self.reverse(o, expired);
        let order = &self.orders[o];
        let cust = order.customer;
        let line = format!(
            "refunds/create {refund_id} of order {order_id} ({}) lines {refunded:?} amount-only {} → -{taken} (target {} of {})",
            if order.confirmed { "confirmed" } else { "pending" },
            dollars(amount_only),
            order.target(),
            order.award,
        );
        self.note(line);
        self.deliver(SHOP, "refunds/create", body).await;
        vec![cust]
    }

    /// A refund of shipping only (no line items): shipping earned nothing, so it takes nothing
    /// back, in either of the shapes Shopify reports it.
    async fn refund_shipping(&mut self, o: usize, refund_id: u64) -> Vec<usize> {
        let cents = self.rng.gen_range(1..=1500i64);
        let order_id = self.orders[o].id;
        let mut body = refund_json(refund_id, order_id, &[], &dollars(cents));
        if self.rng.gen_bool(0.5) {
            body["order_adjustments"] = json!([{"kind": "shipping_refund",
                "reason": "Shipping refund", "amount": format!("-{}", dollars(cents)),
                "tax_amount": "0.00"}]);
        } else {
            body["refund_shipping_lines"] = json!([{"id": refund_id, "subtotal_amount_set":
                {"shop_money": {"amount": dollars(cents), "currency_code": "USD"}}}]);
        }
        let expired = self.expired_of(o).await;
        let taken = self.reverse(o, expired);
        let cust = self.orders[o].customer;
        self.note(format!(
            "refunds/create {refund_id} of order {order_id}: shipping only {} → -{taken}",
            dollars(cents)
        ));
        if taken != 0 {
            self.fail("the model took points for a shipping-only refund");
        }
        self.deliver(SHOP, "refunds/create", body).await;
        vec![cust]
    }

    async fn cancel(&mut self) -> Vec<usize> {
        let open: Vec<usize> = (0..self.orders.len())
            .filter(|o| !self.orders[*o].cancelled)
            .collect();
        let Some(&o) = open.choose(&mut self.rng) else {
            return self.new_order().await;
        };
        let mut body = self.orders[o].paid_body.clone();
        let at = rfc3339(self.t0 + Duration::hours(1) + Duration::seconds(self.step as i64));
        body["financial_status"] = json!("refunded");
        body["cancelled_at"] = json!(at);
        body["updated_at"] = json!(at);
        body["cancel_reason"] = json!("customer");
        self.orders[o].cancelled = true;
        let expired = self.expired_of(o).await;
        let taken = self.reverse(o, expired);
        let order = &self.orders[o];
        let cust = order.customer;
        let line = format!(
            "orders/cancelled {} ({}) → -{taken} (award {})",
            order.id,
            if order.confirmed {
                "confirmed"
            } else {
                "pending"
            },
            order.award
        );
        self.note(line);
        self.deliver(SHOP, "orders/cancelled", body).await;
        vec![cust]
    }

    async fn confirm(&mut self) -> Vec<usize> {
        let days = self.rng.gen_range(0..=20);
        self.confirm_at(days).await
    }

    /// The confirmation job runs `days` from now: the model confirms every order placed 14 or
    /// more days before that, with its pending reversals.
    async fn confirm_at(&mut self, days: i64) -> Vec<usize> {
        let mut expected = 0;
        let mut touched = Vec::new();
        for order in &mut self.orders {
            if !order.confirmed && 14 - order.age_days <= days {
                order.confirmed = true;
                expected += order.pending_lines;
                order.pending_lines = 0;
                let net = order.award - order.reversed;
                let points = &mut self.customers[order.customer].points;
                points.pending -= net;
                points.balance += net;
                touched.push(order.customer);
            }
        }
        // Now and then two runs overlap (a job whose lease ran out and its new holder, or
        // `jobs run-once` beside the scheduler): together they confirm each line once.
        let overlapping = self.rng.gen_bool(0.3);
        self.note(format!(
            "confirm due in {days} days → {expected} lines{}",
            if overlapping {
                " (two overlapping runs)"
            } else {
                ""
            }
        ));
        let outcome = if overlapping {
            let (db, shop_id) = (&self.app.db, &self.shop_id);
            match tokio::join!(confirm(db, shop_id, days), confirm(db, shop_id, days)) {
                (Ok(a), Ok(b)) => Ok(a + b),
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        } else {
            confirm(&self.app.db, &self.shop_id, days).await
        };
        match outcome {
            Ok(n) if n == expected => {}
            Ok(n) => self.fail(&format!("confirmed {n} lines, expected {expected}")),
            Err(e) => self.fail(&format!("confirmation failed: {e}")),
        }
        touched
    }

    async fn redeem(&mut self) -> Vec<usize> {
        let cust = self.rng.gen_range(0..self.customers.len());
        let roll = self.rng.gen_range(0..100);
        let (reward, asked) = match roll {
            0..=2 => ("no-such-reward", None),
            3..=27 => ("slider", Some(self.rng.gen_range(50..=700i64))),
            _ => (FIXED_REWARDS.choose(&mut self.rng).unwrap().0, None),
        };
        // The retried 503 costs the request a backoff of about half a second: rare.
        let api = match self.rng.gen_range(0..100) {
            0..=54 => Api::Creates,
            55..=62 => Api::CreatesSlowly,
            63..=65 => Api::FailsOnceThenCreates,
            66..=81 => Api::RefusesWithUserErrors,
            82..=90 => Api::Rejects400,
            _ => Api::Unauthorized401,
        };
        mount_api(&self.server, api, mutation_for(reward)).await;
        let (customer_id, member, balance) = {
            let c = &self.customers[cust];
            (c.id, c.member, c.points.balance)
        };
        let cost = match (reward, asked) {
            ("slider", Some(a)) => Some(a - a % 50),
            (r, _) => FIXED_REWARDS.iter().find(|f| f.0 == r).map(|f| f.1),
        };
        // (status, error code, points debited, API calls) as the model expects them.
        let expected: (u16, &str, i64, usize) = if !member {
            (403, "forbidden", 0, 0)
        } else {
            match cost {
                None => (404, "not_found", 0, 0),
                Some(c) if asked.is_some() && c > 600 => (422, "validation_failed", 0, 0),
                Some(c) if c > balance => (422, "insufficient_points", 0, 0),
                Some(c) if api.succeeds() => (200, "", c, api.calls()),
                Some(_) => (502, "platform_error", 0, api.calls()),
            }
        };
        self.note(format!(
            "redeem {reward}{} by {} (balance {balance}), API {api:?} → expect {} {}",
            asked.map(|a| format!(" asking {a}")).unwrap_or_default(),
            customer_id,
            expected.0,
            expected.1,
        ));
        let mut body = json!({"reward_id": reward});
        if let Some(a) = asked {
            body["points"] = json!(a);
        }
        let resp = self
            .app
            .client
            .post(redeem_url(&self.app, SHOP, customer_id))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        if status != expected.0 || (status != 200 && error_code_of(&answer) != expected.1) {
            self.fail(&format!(
                "redeem answered {status} {answer}, expected {} {}",
                expected.0, expected.1
            ));
        }
        *self.redeemed.entry(status).or_default() += 1;
        let calls = self.server.received_requests().await.unwrap().len();
        if calls != expected.3 {
            self.fail(&format!(
                "the Admin API was called {calls} times, expected {}",
                expected.3
            ));
        }
        if status == 200 {
            let code = answer["code"].as_str().unwrap_or_default().to_owned();
            if answer["points"] != expected.2 || code.is_empty() {
                self.fail(&format!(
                    "redeem answered {answer}, expected {} points",
                    expected.2
                ));
            }
            if !self.codes.insert(code.clone()) {
                self.fail(&format!("code {code} handed out twice"));
            }
            self.customers[cust].points.balance -= expected.2;
            let (shop_id, by_code) = (self.shop_id.clone(), code.clone());
            let redemption_id = self
                .app
                .with_db(move |c| {
                    redemptions::table
                        .filter(redemptions::shop_id.eq(&shop_id))
                        .filter(redemptions::code.eq(&by_code))
                        .select(redemptions::id)
                        .first::<String>(c)
                        .unwrap()
                })
                .await;
            self.issued.push(IssuedCode {
                redemption_id,
                code,
                customer: cust,
                points: expected.2,
                cancelled: false,
            });
        } else if status == 502 {
            self.api_failures += 1;
        }
        vec![cust]
    }

    /// The owner takes back a code: refused if it was used or already taken back, else it is
    /// deactivated and its points wait for the usage count to settle.
    async fn cancel_code(&mut self) -> Vec<usize> {
        if self.issued.is_empty() {
            return self.redeem().await;
        }
        let open: Vec<usize> = (0..self.issued.len())
            .filter(|i| !self.issued[*i].cancelled)
            .collect();
        let i = match open.choose(&mut self.rng) {
            Some(i) if self.rng.gen_bool(0.9) => *i,
            _ => self.rng.gen_range(0..self.issued.len()),
        };
        let used = self.rng.gen_bool(0.2);
        self.server.reset().await;
        mount_unknown_customer(&self.server).await;
        Mock::given(method("POST"))
            .and(body_string_contains("discountCodeDeactivate"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeDeactivate": {
                "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []}}})),
            )
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(body_string_contains("asyncUsageCount"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
                "codeDiscountNode": {"codeDiscount": {"asyncUsageCount": i64::from(used)}}}})))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(body_string_contains("discountCodeDelete"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeDelete": {
                "deletedCodeDiscountId": "gid://shopify/DiscountCodeNode/1", "userErrors": []}}})),
            )
            .mount(&self.server)
            .await;
        let IssuedCode {
            redemption_id,
            code,
            customer: cust,
            points,
            cancelled,
        } = &self.issued[i];
        let (id, cust, points, cancelled) = (redemption_id.clone(), *cust, *points, *cancelled);
        // An unused code is deactivated at once; its points come back only after the usage
        // count has settled (a job this run never reaches), so the balance stays as it is.
        let expected = if cancelled || used { 409 } else { 202 };
        let line = format!(
            "owner cancels code {code} ({points} points of {}{}{}) → {expected}",
            self.customers[cust].id,
            if used { ", used" } else { "" },
            if cancelled { ", cancelled before" } else { "" },
        );
        self.note(line);
        let resp = self
            .app
            .admin_post(
                &session_token(SHOP),
                &format!("/api/admin/v1/redemptions/{id}/cancel"),
                json!({}),
            )
            .await;
        let status = resp.status().as_u16();
        if status != expected {
            let body = resp.text().await.unwrap_or_default();
            self.fail(&format!(
                "cancelling answered {status} {body}, expected {expected}"
            ));
        }
        if status == 202 {
            self.issued[i].cancelled = true;
        }
        vec![cust]
    }

    async fn adjust(&mut self) -> Vec<usize> {
        let cust = self.rng.gen_range(0..self.customers.len());
        let points = if self.rng.gen_bool(0.5) {
            self.rng.gen_range(10..=600)
        } else {
            -self.rng.gen_range(10..=900)
        };
        let key = format!("adj-{}", self.fresh_id());
        self.adjusted.push(Adjusted {
            key: key.clone(),
            customer: cust,
            points,
            applied: false,
        });
        self.send_adjustment(self.adjusted.len() - 1).await;
        vec![cust]
    }

    /// Sends adjustment `a` (again, when replayed) and checks the answer against the model.
    async fn send_adjustment(&mut self, a: usize) {
        let Adjusted {
            key,
            customer: cust,
            points,
            applied,
        } = &self.adjusted[a];
        let (cust, points, applied, key) = (*cust, *points, *applied, key.clone());
        let (customer_id, member, balance) = {
            let c = &self.customers[cust];
            (c.id, c.member, c.points.balance)
        };
        let (expected, code) = if !member {
            (404, "not_found")
        } else if applied {
            (200, "")
        } else if points < 0 && -points > balance {
            (422, "insufficient_points")
        } else {
            (201, "")
        };
        self.note(format!(
            "adjust {points:+} for {customer_id} (balance {balance}) key {key}{} → expect {expected}",
            if applied { " (replayed)" } else { "" }
        ));
        let (status, body) = adjust(&self.app, SHOP, customer_id, points, &key).await;
        if status != expected || (!code.is_empty() && error_code_of(&body) != code) {
            self.fail(&format!(
                "adjustment answered {status} {body}, expected {expected} {code}"
            ));
        }
        if status == 201 {
            self.adjusted[a].applied = true;
            let p = &mut self.customers[cust].points;
            p.balance += points;
            p.lifetime += points;
        }
        if status == 200 || status == 201 {
            let balance = self.customers[cust].points.balance;
            if body["points_balance"] != balance {
                self.fail(&format!(
                    "adjustment answered {body}, expected balance {balance}"
                ));
            }
        }
    }

    async fn redeliver(&mut self) -> Vec<usize> {
        if !self.adjusted.is_empty() && self.rng.gen_bool(0.25) {
            let a = self.rng.gen_range(0..self.adjusted.len());
            self.send_adjustment(a).await;
            return vec![self.adjusted[a].customer];
        }
        if self.delivered.is_empty() {
            return self.new_order().await;
        }
        let d = self.rng.gen_range(0..self.delivered.len());
        let same_id = self.rng.gen_bool(0.6);
        let webhook_id = if same_id {
            self.delivered[d].webhook_id.clone()
        } else {
            format!("w{}", self.fresh_id())
        };
        let (shop, topic, body) = {
            let d = &self.delivered[d];
            (d.shop, d.topic, d.body.clone())
        };
        let expected = if same_id { "duplicate" } else { "accepted" };
        self.note(format!(
            "redeliver {topic} {} as {webhook_id} → {expected}, no change",
            self.delivered[d].webhook_id
        ));
        let status = self.app.deliver(shop, topic, &webhook_id, &body).await;
        if status != expected {
            self.fail(&format!("redelivery was {status}, expected {expected}"));
        }
        Vec::new()
    }

    async fn expire(&mut self) -> Vec<usize> {
        if self.rng.gen_bool(if self.expiry_on { 0.15 } else { 0.6 }) {
            self.expiry_on = !self.expiry_on;
            put_program(&self.app, SHOP, &program(self.expiry_on)).await;
        }
        let days = if self.rng.gen_bool(0.5) {
            self.rng.gen_range(0..=20)
        } else {
            self.rng.gen_range(35..=90)
        };
        // Usually the daily confirmation job has run by then too (at 35 days on, every order of
        // the run is out of its return window); otherwise points still pending confirm after
        // this run, late, and must expire at the next one.
        let mut touched = if self.rng.gen_bool(0.5) {
            self.confirm_at(days).await
        } else {
            Vec::new()
        };
        // Every lot was earned since the run started, so with a month's expiry a clock 35+ days
        // on finds every confirmed lot's remainder due — all of every balance — and 20 days on
        // none.
        let mut expected = 0;
        if self.expiry_on && days >= 35 {
            for (i, c) in self.customers.iter_mut().enumerate() {
                if c.points.balance > 0 {
                    expected += c.points.balance;
                    c.points.balance = 0;
                    touched.push(i);
                }
            }
        }
        self.note(format!(
            "expiry {} at +{days} days → -{expected}",
            if self.expiry_on { "on" } else { "off" }
        ));
        let (shop_id, when) = (
            self.shop_id.clone(),
            boomerang::db::now() + Duration::days(days),
        );
        let report = self
            .app
            .with_db(move |c| {
                let shop = Shop::find(c, &shop_id).unwrap();
                boomerang::services::expiry::run(c, &shop, when).map_err(|e| e.to_string())
            })
            .await;
        match report {
            Ok(r) if r.expired_points == expected => {}
            Ok(r) => {
                let shop_id = self.shop_id.clone();
                let left: Vec<(Option<String>, i64)> = self
                    .app
                    .with_db(move |c| {
                        members::table
                            .filter(members::shop_id.eq(&shop_id))
                            .filter(members::points_balance.gt(0))
                            .select((members::platform_customer_id, members::points_balance))
                            .load(c)
                            .unwrap()
                    })
                    .await;
                if r.expired_points + left.iter().map(|l| l.1).sum::<i64>() != expected {
                    self.fail(&format!(
                        "expired {r:?} and left {left:?}, expected {expected} points to expire"
                    ));
                }
                let gap = format!(
                    "step {}: expiry {days} days on expired {} of {expected} points; left {left:?}",
                    self.step, r.expired_points
                );
                self.note(format!("  ^ expiry gap: {gap}"));
                self.expiry_gaps.push(gap);
                for (customer, points) in left {
                    if let Some(c) = self
                        .customers
                        .iter_mut()
                        .find(|c| Some(c.id.to_string()) == customer)
                    {
                        c.points.balance = points;
                    }
                }
            }
            Err(e) => self.fail(&format!("expiry failed: {e}")),
        }
        touched
    }

    /// Requests that must change nothing: another shop's refund id, an unknown shop, an unknown
    /// customer's adjustment.
    async fn noise(&mut self) -> Vec<usize> {
        match self.rng.gen_range(0..3) {
            0 => {
                // Shop A hears of a refund of the bystander's order: stored, earns nothing back.
                let body =
                    refund_json(800_000 + self.fresh_id(), 55, &[(551, 1, "20.00")], "20.00");
                self.note("refunds/create of the bystander's order 55, sent to the shop".into());
                self.deliver(SHOP, "refunds/create", body).await;
            }
            1 => {
                let body = order_json(
                    42,
                    Some((7001, "x@example.com")),
                    "paid",
                    &[(1, 1, "99.00")],
                );
                self.note("orders/paid for a shop that does not run the app → ignored".into());
                let status = self
                    .app
                    .deliver("stranger.myshopify.com", "orders/paid", "stranger-1", &body)
                    .await;
                if status != "ignored" {
                    self.fail(&format!("a stranger's webhook was {status}"));
                }
            }
            _ => {
                self.note("adjustment for a customer Shopify does not know → 404".into());
                let (status, _) = adjust(&self.app, SHOP, 123_456, 50, "nobody").await;
                if status != 404 {
                    self.fail(&format!(
                        "adjustment of an unknown customer answered {status}"
                    ));
                }
            }
        }
        Vec::new()
    }

    /// After the last step: a customer's `customers/redact` arrives together with a new order
    /// of theirs and one of another customer, all in flight at once so they share the writer's
    /// batches. The points of both stay exact, and once the erasure job ran, nothing the app
    /// stores names the redacted customer.
    async fn redact_in_a_batch(&mut self) -> Vec<usize> {
        let members: Vec<usize> = (0..self.customers.len())
            .filter(|&i| self.customers[i].member)
            .collect();
        let Some(&gone) = members.choose(&mut self.rng) else {
            return Vec::new();
        };
        let other = (gone + 1) % self.customers.len();
        let mut orders = Vec::new();
        for cust in [gone, other] {
            let id = 100_000 + self.fresh_id();
            let unit = *PRICES.choose(&mut self.rng).unwrap();
            let c = &self.customers[cust];
            let mut body = order_json(
                id,
                Some((c.id, c.email.as_str())),
                "paid",
                &[(id * 10, 1, &format!("{unit}.00"))],
            );
            let placed = self.t0 - Duration::days(1);
            body["created_at"] = json!(rfc3339(placed));
            body["updated_at"] = json!(rfc3339(placed + Duration::seconds(5)));
            let c = &mut self.customers[cust];
            c.member = true;
            c.points.pending += unit;
            c.points.lifetime += unit;
            self.orders.push(Order {
                id,
                customer: cust,
                lines: vec![(id * 10, 1, unit)],
                age_days: 1,
                paid_body: body.clone(),
                award: unit,
                confirmed: false,
                pending_lines: 1,
                refunded_units: HashMap::new(),
                refunded_cents_without_lines: 0,
                reversed: 0,
                cancelled: false,
            });
            orders.push((format!("w{}", self.fresh_id()), body));
        }
        let (id, email) = (self.customers[gone].id, self.customers[gone].email.clone());
        self.note(format!(
            "customers/redact of customer {id} in one batch with an order of theirs and one of customer {}",
            self.customers[other].id
        ));
        let redact = json!({
            "shop_id": 1, "shop_domain": SHOP,
            "customer": {"id": id, "email": email}, "orders_to_redact": [],
        });
        let redact_id = format!("w{}", self.fresh_id());
        let app = &self.app;
        let statuses = futures_util::future::join_all(
            std::iter::once(app.deliver(SHOP, "customers/redact", &redact_id, &redact)).chain(
                orders
                    .iter()
                    .map(|(w, body)| app.deliver(SHOP, "orders/paid", w, body)),
            ),
        )
        .await;
        if statuses.iter().any(|s| s != "accepted") {
            self.fail(&format!("the batch was answered {statuses:?}"));
        }
        if let Err(e) = settle_inbox(&self.app).await {
            self.fail(&format!("after the redaction: {e}"));
        }
        // The erasure of the stored bodies is a job, as the scheduler would run it.
        let report = boomerang::jobs::run_pending(&self.app.db, &job_context(APP_SECRET))
            .await
            .unwrap();
        if report.failed > 0 {
            self.fail(&format!("a job failed after the redaction: {report:?}"));
        }
        let shop_id = self.shop_id.clone();
        let (emails, bodies): (Vec<Option<String>>, Vec<String>) = self
            .app
            .with_db(move |c| {
                let emails = members::table
                    .filter(members::shop_id.eq(&shop_id))
                    .filter(members::platform_customer_id.eq(id.to_string()))
                    .select(members::email)
                    .load(c)
                    .unwrap();
                // As the app reads them (compressed on SQLite): an e-mail is looked for in
                // the text, not in its stored bytes.
                let bodies = inbox_events::table
                    .filter(inbox_events::shop_id.eq(&shop_id))
                    .select(inbox_events::payload)
                    .load::<StoredBody>(c)
                    .unwrap()
                    .into_iter()
                    .map(String::from)
                    .collect();
                (emails, bodies)
            })
            .await;
        if emails.iter().any(Option::is_some) {
            self.fail(&format!(
                "customer {id} keeps an e-mail after redaction: {emails:?}"
            ));
        }
        let naming = bodies.iter().filter(|b| b.contains(&email)).count();
        if naming > 0 {
            self.fail(&format!(
                "{naming} stored webhook(s) still name customer {id} after the erasure job"
            ));
        }
        vec![gone, other]
    }

    /// Reads the database after a step and checks every invariant and the model.
    async fn check(&mut self, touched: &[usize], all_via_api: bool) {
        if let Err(e) = settle_inbox(&self.app).await {
            self.fail(&e);
        }
        let (shop_id, bystander_id) = (self.shop_id.clone(), self.bystander_id.clone());
        let (state, bystander) = self
            .app
            .with_db(move |c| (read_shop(c, &shop_id), fingerprint(c, &bystander_id)))
            .await;
        let broken = violations(&state);
        if !broken.is_empty() {
            self.fail(&format!("invariants broken:\n  {}", broken.join("\n  ")));
        }
        if bystander != self.bystander {
            self.fail(&format!(
                "the other shop changed:\n{:?}\nwas\n{:?}",
                bystander, self.bystander
            ));
        }
        let rows: HashMap<String, (i64, i64, i64)> = state
            .members
            .iter()
            .filter_map(|(_, c, b, p, l)| Some((c.clone()?, (*b, *p, *l))))
            .collect();
        let mut diffs = Vec::new();
        for c in &self.customers {
            let want = (c.points.balance, c.points.pending, c.points.lifetime);
            match rows.get(&c.id.to_string()) {
                Some(got) if c.member && *got == want => {}
                Some(got) if c.member => diffs.push(format!(
                    "customer {}: (balance, pending, lifetime) {got:?}, model {want:?}",
                    c.id
                )),
                None if !c.member => {}
                got => diffs.push(format!(
                    "customer {}: member row {got:?}, model member {}",
                    c.id, c.member
                )),
            }
        }
        if state.members.len() != self.customers.iter().filter(|c| c.member).count() {
            diffs.push(format!("{} member rows", state.members.len()));
        }
        if !diffs.is_empty() {
            self.fail(&format!(
                "database and model disagree:\n  {}",
                diffs.join("\n  ")
            ));
        }
        let mut via_api: Vec<usize> = if all_via_api {
            (0..self.customers.len()).collect()
        } else {
            touched.to_vec()
        };
        via_api.sort_unstable();
        via_api.dedup();
        for i in via_api {
            let c = &self.customers[i];
            if !c.member {
                continue;
            }
            let view = self.app.customer(SHOP, &c.id.to_string()).await;
            let got = (
                view["points_balance"].as_i64(),
                view["pending_points"].as_i64(),
                view["lifetime_points"].as_i64(),
            );
            let db = rows.get(&c.id.to_string()).copied();
            if Some(got) != db.map(|(b, p, l)| (Some(b), Some(p), Some(l))) {
                self.fail(&format!(
                    "admin API shows customer {} as {view}, the database {db:?}",
                    c.id
                ));
            }
        }
    }

    /// After the last step: the redemptions table holds exactly the codes handed out, as
    /// issued or (being taken back) cancelling, and the refused ones as failed.
    async fn check_redemptions(&self) {
        let shop_id = self.shop_id.clone();
        let mut rows: Vec<(String, String, i64)> = self
            .app
            .with_db(move |c| {
                redemptions::table
                    .filter(redemptions::shop_id.eq(&shop_id))
                    .filter(redemptions::status.ne("failed"))
                    .select((redemptions::code, redemptions::status, redemptions::points))
                    .load(c)
                    .unwrap()
            })
            .await;
        let shop_id = self.shop_id.clone();
        let failed: i64 = self
            .app
            .with_db(move |c| {
                redemptions::table
                    .filter(redemptions::shop_id.eq(&shop_id))
                    .filter(redemptions::status.eq("failed"))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        let mut expected: Vec<(String, String, i64)> = self
            .issued
            .iter()
            .map(|i| {
                let status = if i.cancelled { "cancelling" } else { "issued" };
                (i.code.clone(), status.to_owned(), i.points)
            })
            .collect();
        rows.sort();
        expected.sort();
        if rows != expected || failed != self.api_failures as i64 {
            self.fail(&format!(
                "redemptions stored: {rows:?} and {failed} failed; expected {expected:?} and {} failed",
                self.api_failures
            ));
        }
    }
}

#[test]
fn randomized_earn_redeem_refund_expire_keeps_ledger_equal_to_balances() {
    run_then_settle(false, randomized_run());
}

async fn randomized_run() {
    let started = Instant::now();
    let seed = seed(0x00B0_0E7A_2026_1123);
    println!("randomized run: seed {seed} (replay: BOOMERANG_RANDOM_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let steps = rng.gen_range(200..=260);

    let server = MockServer::start().await;
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    let shop_id = app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    let bystander_id = app.add_api_shop(BYSTANDER, &server.uri(), APP_SECRET).await;
    put_program(&app, SHOP, &program(false)).await;
    put_program(&app, BYSTANDER, &program(true)).await;

    // The same customer ids in both shops; the last customer joins with a first order.
    let customers: Vec<Customer> = (1..=6u64)
        .map(|i| Customer {
            id: 7000 + i,
            email: format!("customer{i}@example.com"),
            member: i < 6,
            points: Points::default(),
        })
        .collect();
    let ids: Vec<(u64, String)> = customers.iter().map(|c| (c.id, c.email.clone())).collect();
    let (a, b) = (shop_id.clone(), bystander_id.clone());
    app.with_db(move |c| {
        for (id, email) in &ids {
            if *id != 7006 {
                insert_member(c, &a, *id, email);
            }
            insert_member(c, &b, *id, email);
        }
    })
    .await;
    // The bystander: balances, a pending order that is long due, and a redemption.
    for (i, c) in customers.iter().enumerate() {
        let (status, _) = adjust(
            &app,
            BYSTANDER,
            c.id,
            700 + 100 * i as i64,
            &format!("b{}", c.id),
        )
        .await;
        assert_eq!(status, 201);
    }
    let mut order = order_json(
        55,
        Some((7001, "customer1@example.com")),
        "paid",
        &[(551, 2, "20.00")],
    );
    order["created_at"] = json!("2026-01-01T00:00:00Z");
    assert_eq!(
        app.deliver(BYSTANDER, "orders/paid", "b-order", &order)
            .await,
        "accepted"
    );
    mount_api(&server, Api::Creates, "discountCodeBasicCreate").await;
    let resp = app
        .client
        .post(redeem_url(&app, BYSTANDER, 7002))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bystander = app
        .with_db({
            let b = bystander_id.clone();
            move |c| fingerprint(c, &b)
        })
        .await;

    let mut run = Run {
        app,
        server,
        seed,
        rng,
        shop_id,
        bystander_id,
        bystander,
        t0: Utc::now().trunc_subsecs(0),
        customers,
        orders: Vec::new(),
        delivered: Vec::new(),
        adjusted: Vec::new(),
        expiry_on: false,
        issued: Vec::new(),
        codes: HashSet::new(),
        api_failures: 0,
        expiry_gaps: Vec::new(),
        redeemed: Default::default(),
        next_id: 0,
        step: 0,
        log: Vec::new(),
    };
    run.check(&[], true).await;
    for step in 1..=steps {
        run.step = step;
        let touched = run.step().await;
        run.check(&touched, step % 20 == 0).await;
    }
    run.step += 1;
    let touched = run.redact_in_a_batch().await;
    run.check(&touched, true).await;
    run.check_redemptions().await;
    let kinds = |prefix: &str| run.log.iter().filter(|s| s.starts_with(prefix)).count();
    println!(
        "{steps} steps in {:.1?}: {} orders, {} refunds, {} cancellations, {} confirmations, {} redeems \
         {:?} ({} codes, {} API failures), {} codes taken back, {} adjustments, {} redeliveries, {} expiry runs",
        started.elapsed(),
        kinds("orders/paid"),
        kinds("refunds/create"),
        kinds("orders/cancelled"),
        kinds("confirm"),
        kinds("redeem "),
        run.redeemed,
        run.issued.len(),
        run.api_failures,
        run.issued.iter().filter(|i| i.cancelled).count(),
        kinds("adjust"),
        kinds("redeliver"),
        kinds("expiry"),
    );

    if !run.expiry_gaps.is_empty() {
        run.fail(&format!(
            "points past their expiry date were left unexpired (the ledger stayed consistent):\n  {}",
            run.expiry_gaps.join("\n  ")
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// The storm.

const STORM: &str = "storm.myshopify.com";
/// Fixed rewards of the storm's catalog, (id, points); `var` spends 50–500 in steps of 50.
const STORM_REWARDS: [(&str, i64); 3] = [("small", 100), ("medium", 250), ("ship", 400)];

fn created(mutation: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {mutation: {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []}}}))
}

/// What one concurrent request of the storm got back.
enum Outcome {
    Redeemed {
        member: usize,
        status: u16,
        body: Value,
    },
    Delivered {
        webhook_id: String,
        status: u16,
        body: Value,
    },
}

#[test]
fn redeem_storm_under_load_never_overspends() {
    run_then_settle(true, redeem_storm());
}

async fn redeem_storm() {
    let started = Instant::now();
    let seed = seed(0x0057_0E7A_2026_1123);
    println!("redeem storm: seed {seed} (replay: BOOMERANG_RANDOM_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    const MEMBERS: usize = 20;
    const REDEEMS: usize = 600;

    let server = MockServer::start().await;
    for mutation in ["discountCodeBasicCreate", "discountCodeFreeShippingCreate"] {
        Mock::given(method("POST"))
            .and(body_string_contains(mutation))
            .respond_with(created(mutation).set_delay(StdDuration::from_millis(5)))
            .mount(&server)
            .await;
    }
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET), ("DATABASE_POOL_SIZE", "8")]).await;
    let shop_id = app.add_api_shop(STORM, &server.uri(), APP_SECRET).await;
    put_program(
        &app,
        STORM,
        &json!({"rewards": [
            {"id": "small", "title": "1 off", "kind": "fixed_amount", "amount_minor": 100, "points_cost": 100},
            {"id": "medium", "title": "2.50 off", "kind": "fixed_amount", "amount_minor": 250, "points_cost": 250},
            {"id": "ship", "title": "Free shipping", "kind": "free_shipping", "points_cost": 400},
            {"id": "var", "title": "Points off", "kind": "variable", "points_per_unit": 50,
             "min_points": 50, "max_points": 500, "points_cost": 50}
        ]}),
    )
    .await;
    let customers: Vec<u64> = (0..MEMBERS as u64).map(|i| 9001 + i).collect();
    {
        let (shop_id, customers) = (shop_id.clone(), customers.clone());
        app.with_db(move |c| {
            for id in &customers {
                insert_member(c, &shop_id, *id, &format!("storm{id}@example.com"));
            }
        })
        .await;
    }
    // Known confirmed balances, some empty.
    let mut start = [0i64; MEMBERS];
    for (i, id) in customers.iter().enumerate() {
        start[i] = if rng.gen_bool(0.15) {
            0
        } else {
            rng.gen_range(1..=4000)
        };
        if start[i] > 0 {
            let (status, _) = adjust(&app, STORM, *id, start[i], &format!("start-{id}")).await;
            assert_eq!(status, 201);
        }
    }
    // Orders placed 20 days ago, so due to confirm at once; each delivered one to three times
    // with the same webhook id, all during the storm.
    let placed = Utc::now().trunc_subsecs(0) - Duration::days(20);
    let mut earned = [0i64; MEMBERS];
    let mut deliveries: Vec<(String, Value)> = Vec::new();
    for (i, id) in customers.iter().enumerate() {
        for n in 0..rng.gen_range(1..=6u64) {
            let order_id = id * 100 + n;
            let lines: Vec<(u64, i64, i64)> = (0..rng.gen_range(1..=2u64))
                .map(|k| {
                    (
                        order_id * 10 + k,
                        rng.gen_range(1..=2),
                        *PRICES.choose(&mut rng).unwrap(),
                    )
                })
                .collect();
            earned[i] += lines.iter().map(|(_, q, p)| q * p).sum::<i64>();
            let text: Vec<(u64, i64, String)> = lines
                .iter()
                .map(|(l, q, p)| (*l, *q, format!("{p}.00")))
                .collect();
            let refs: Vec<(u64, i64, &str)> =
                text.iter().map(|(l, q, p)| (*l, *q, p.as_str())).collect();
            let mut body = order_json(
                order_id,
                Some((*id, &format!("storm{id}@example.com"))),
                "paid",
                &refs,
            );
            body["created_at"] = json!(rfc3339(placed));
            body["updated_at"] = json!(rfc3339(placed + Duration::seconds(5)));
            for _ in 0..rng.gen_range(1..=3) {
                deliveries.push((format!("storm-order-{order_id}"), body.clone()));
            }
        }
    }
    // Mixed rewards over random members; every ask is valid, so a refusal can only be for
    // want of points.
    let mut redeems: Vec<(usize, Value)> = (0..REDEEMS)
        .map(|_| {
            let member = rng.gen_range(0..MEMBERS);
            let body = if rng.gen_bool(0.25) {
                json!({"reward_id": "var", "points": rng.gen_range(50..=520)})
            } else {
                json!({"reward_id": STORM_REWARDS.choose(&mut rng).unwrap().0})
            };
            (member, body)
        })
        .collect();
    // Interleave the webhooks among the redeems.
    let mut plan: Vec<Option<usize>> = (0..REDEEMS).map(Some).collect();
    plan.extend(std::iter::repeat_n(None, deliveries.len()));
    plan.shuffle(&mut rng);

    // The confirmation job, running over and over while the storm lasts.
    let storm_over = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let confirmer = {
        let (db, shop_id, over) = (app.db.clone(), shop_id.clone(), storm_over.clone());
        tokio::spawn(async move {
            let (mut lines, mut errors) = (0, Vec::new());
            while !over.load(std::sync::atomic::Ordering::Acquire) {
                match confirm(&db, &shop_id, 0).await {
                    Ok(n) => lines += n,
                    Err(e) => errors.push(e),
                }
                tokio::time::sleep(StdDuration::from_millis(3)).await;
            }
            (lines, errors)
        })
    };

    let storm_started = Instant::now();
    let mut tasks = Vec::new();
    let mut deliveries = deliveries.into_iter();
    for slot in plan {
        let client = app.client.clone();
        match slot {
            Some(r) => {
                let (member, body) = std::mem::take(&mut redeems[r]);
                let url = redeem_url(&app, STORM, customers[member]);
                tasks.push(tokio::spawn(async move {
                    let resp = client.post(url).json(&body).send().await.unwrap();
                    let status = resp.status().as_u16();
                    Outcome::Redeemed {
                        member,
                        status,
                        body: resp.json().await.unwrap_or(Value::Null),
                    }
                }));
            }
            None => {
                let (webhook_id, body) = deliveries.next().unwrap();
                let body = body.to_string();
                let request = client
                    .post(app.url("/webhooks/shopify"))
                    .header("Content-Type", "application/json")
                    .header("X-Shopify-Topic", "orders/paid")
                    .header("X-Shopify-Shop-Domain", STORM)
                    .header("X-Shopify-Webhook-Id", &webhook_id)
                    .header("X-Shopify-API-Version", "2025-10")
                    .header(
                        "X-Shopify-Hmac-Sha256",
                        boomerang::platform::shopify::webhook::sign(body.as_bytes(), SECRET),
                    )
                    .body(body);
                tasks.push(tokio::spawn(async move {
                    let resp = request.send().await.unwrap();
                    let status = resp.status().as_u16();
                    Outcome::Delivered {
                        webhook_id,
                        status,
                        body: resp.json().await.unwrap_or(Value::Null),
                    }
                }));
            }
        }
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let storm_took = storm_started.elapsed();
    if let Err(e) = settle_inbox(&app).await {
        panic!("seed {seed}: {e}");
    }
    storm_over.store(true, std::sync::atomic::Ordering::Release);
    let (confirmed_during, confirm_errors) = confirmer.await.unwrap();
    let confirmed_after = confirm(&app.db, &shop_id, 0).await.unwrap();

    // Every request answered cleanly: each order stored once, each refusal for want of points.
    let mut problems = Vec::new();
    let mut spent = [0i64; MEMBERS];
    let mut successes = [0usize; MEMBERS];
    let mut refusals = 0;
    let mut codes = HashSet::new();
    let mut accepted: HashMap<String, usize> = HashMap::new();
    for outcome in &outcomes {
        match outcome {
            Outcome::Redeemed {
                member,
                status: 200,
                body,
            } => {
                let (Some(points), Some(code)) = (body["points"].as_i64(), body["code"].as_str())
                else {
                    problems.push(format!("a redemption answered {body}"));
                    continue;
                };
                spent[*member] += points;
                successes[*member] += 1;
                if !codes.insert(code.to_owned()) {
                    problems.push(format!("code {code} handed out twice"));
                }
            }
            Outcome::Redeemed {
                member,
                status,
                body,
            } => {
                refusals += 1;
                if *status != 422 || error_code_of(body) != "insufficient_points" {
                    problems.push(format!(
                        "customer {}: redeem answered {status} {body}",
                        customers[*member]
                    ));
                }
            }
            Outcome::Delivered {
                webhook_id,
                status,
                body,
            } => {
                if *status != 200 {
                    problems.push(format!("webhook {webhook_id} answered {status} {body}"));
                } else if body["status"] == "accepted" {
                    *accepted.entry(webhook_id.clone()).or_default() += 1;
                } else if body["status"] != "duplicate" {
                    problems.push(format!("webhook {webhook_id} answered {body}"));
                }
            }
        }
    }
    let orders = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Delivered { webhook_id, .. } => Some(webhook_id),
            Outcome::Redeemed { .. } => None,
        })
        .collect::<HashSet<_>>()
        .len();
    if accepted.len() != orders || accepted.values().any(|n| *n != 1) {
        problems.push(format!("{orders} orders, accepted: {accepted:?}"));
    }
    if !confirm_errors.is_empty() {
        println!(
            "{} confirmation runs failed and were retried: {:?}",
            confirm_errors.len(),
            confirm_errors.iter().take(3).collect::<Vec<_>>()
        );
    }

    // The database: nobody overspent, balances are exact, codes are unique.
    let state = {
        let shop_id = shop_id.clone();
        app.with_db(move |c| read_shop(c, &shop_id)).await
    };
    problems.extend(violations(&state));
    let rows: HashMap<String, (i64, i64, i64)> = state
        .members
        .iter()
        .filter_map(|(_, c, b, p, l)| Some((c.clone()?, (*b, *p, *l))))
        .collect();
    for (i, id) in customers.iter().enumerate() {
        if spent[i] > start[i] + earned[i] {
            problems.push(format!(
                "customer {id} spent {} with {} + {} earned",
                spent[i], start[i], earned[i]
            ));
        }
        let want = (start[i] + earned[i] - spent[i], 0, start[i] + earned[i]);
        let got = rows.get(&id.to_string()).copied();
        if got != Some(want) {
            problems.push(format!(
                "customer {id}: (balance, pending, lifetime) {got:?}, expected {want:?} \
                 (start {}, earned {}, spent {} in {} codes)",
                start[i], earned[i], spent[i], successes[i]
            ));
        }
        let view = app.customer(STORM, &id.to_string()).await;
        let api = (
            view["points_balance"].as_i64().unwrap_or(-1),
            view["pending_points"].as_i64().unwrap_or(-1),
            view["lifetime_points"].as_i64().unwrap_or(-1),
        );
        if got != Some(api) {
            problems.push(format!(
                "customer {id}: the admin API shows {view}, the database {got:?}"
            ));
        }
    }
    let total: usize = successes.iter().sum();
    let redemption_rows: Vec<(String, String, i64, String)> = {
        let shop_id = shop_id.clone();
        app.with_db(move |c| {
            redemptions::table
                .inner_join(members::table)
                .filter(redemptions::shop_id.eq(&shop_id))
                .select((
                    redemptions::code,
                    redemptions::status,
                    redemptions::points,
                    members::platform_customer_id.assume_not_null(),
                ))
                .load(c)
                .unwrap()
        })
        .await
    };
    let stored_codes: HashSet<&String> = redemption_rows.iter().map(|r| &r.0).collect();
    if redemption_rows.len() != total
        || stored_codes.len() != total
        || redemption_rows.iter().any(|r| r.1 != "issued")
        || stored_codes != codes.iter().collect()
    {
        problems.push(format!(
            "{total} codes handed out; redemptions stored: {} ({} distinct), statuses {:?}",
            redemption_rows.len(),
            stored_codes.len(),
            redemption_rows
                .iter()
                .map(|r| r.1.as_str())
                .collect::<HashSet<_>>()
        ));
    }
    for (i, id) in customers.iter().enumerate() {
        let stored: i64 = redemption_rows
            .iter()
            .filter(|r| r.3 == id.to_string())
            .map(|r| r.2)
            .sum();
        if stored != spent[i] {
            problems.push(format!(
                "customer {id}: redemptions stored for {stored} points, {} handed out",
                spent[i]
            ));
        }
    }
    let calls = server.received_requests().await.unwrap().len();
    if calls != total {
        problems.push(format!(
            "{calls} codes asked of the Admin API, {total} handed out"
        ));
    }
    // The storm must have been one: both outcomes, at volume.
    if total < 50 || refusals < 50 {
        problems.push(format!(
            "{total} successes and {refusals} refusals: not a storm"
        ));
    }
    assert!(
        problems.is_empty(),
        "seed {seed} (replay: BOOMERANG_RANDOM_SEED={seed}):\n  {}",
        problems.join("\n  ")
    );
    println!(
        "{REDEEMS} redeems + {} order deliveries ({orders} orders) in {storm_took:.1?}: {total} codes, \
         {refusals} refusals; {confirmed_during} lines confirmed during the storm, {confirmed_after} after; \
         {:.1?} in all",
        outcomes.len() - REDEEMS,
        started.elapsed()
    );
}

/// Minimised from `randomized_earn_redeem_refund_expire_keeps_ledger_equal_to_balances`: with a
/// one-month expiry, points whose lot is past its date must expire at the next run, whenever
/// they came back to it. Two ways they come back late, both of which were once never expired
/// (each lot's expiry line was keyed by the lot alone, and had been written already):
/// - the owner takes back an unused code after the lot it was paid from partly expired;
/// - a long return window: an older lot confirms after a newer one expired, and oldest-first
///   attribution moves the newer lot's expiry onto it.
#[test]
fn points_past_their_expiry_date_expire_even_when_they_come_back_late() {
    run_then_settle(false, points_past_their_expiry_date());
}

async fn points_past_their_expiry_date() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created("discountCodeBasicCreate"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("asyncUsageCount"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"codeDiscountNode": {"codeDiscount": {"asyncUsageCount": 0}}}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeDelete"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeDelete": {
            "deletedCodeDiscountId": "gid://shopify/DiscountCodeNode/1", "userErrors": []}}})),
        )
        .mount(&server)
        .await;
    crate::rewards::mount_deactivate(&server, 1).await;
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    let expire = |shop_id: &str, days: i64| {
        let shop_id = shop_id.to_owned();
        app.with_db(move |c| {
            let shop = Shop::find(c, &shop_id).unwrap();
            let when = boomerang::db::now() + Duration::days(days);
            boomerang::services::expiry::run(c, &shop, when)
                .unwrap()
                .expired_points
        })
    };
    let app = &app;
    let balance = |shop: &'static str| async move {
        app.customer(shop, "7001").await["points_balance"]
            .as_i64()
            .unwrap()
    };
    let mut problems = Vec::new();

    // 1. 600 points; a 500-point code; a month on the other 100 expire; the owner takes the
    //    unused code back: 500 points of the same (expired) lot, which should expire next.
    let cancelled = app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    put_program(app, SHOP, &program(true)).await;
    let shop_id = cancelled.clone();
    app.with_db(move |c| insert_member(c, &shop_id, 7001, "ada@example.com"))
        .await;
    assert_eq!(adjust(app, SHOP, 7001, 600, "grant").await.0, 201);
    let code = app
        .client
        .post(redeem_url(app, SHOP, 7001))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code.status(), 200);
    assert_eq!(expire(&cancelled, 40).await, 100);
    let id = app
        .with_db(|c| {
            redemptions::table
                .select(redemptions::id)
                .first::<String>(c)
                .unwrap()
        })
        .await;
    let cancel = app
        .admin_post(
            &session_token(SHOP),
            &format!("/api/admin/v1/redemptions/{id}/cancel"),
            json!({}),
        )
        .await;
    // Points come back once Shopify's late usage count has settled (the cancel job).
    assert_eq!(cancel.status(), 202);
    crate::rewards::run_jobs_due_by_with(
        app,
        boomerang::services::redeem::USAGE_SETTLES_AFTER,
        APP_SECRET,
    )
    .await;
    assert_eq!(balance(SHOP).await, 500);
    let expired = expire(&cancelled, 41).await + expire(&cancelled, 400).await;
    let left = balance(SHOP).await;
    if left != 0 {
        problems.push(format!(
            "a code taken back after its lot expired: {left} points left a year on, {expired} expired"
        ));
    }

    // 2. A 60-day return window: an order's 100 points, then a 50-point grant; the grant
    //    expires while the order is pending; once the order confirms, all of it should expire.
    const LONG: &str = "long-window.myshopify.com";
    let long = app.add_shop(LONG, "USD").await;
    put_program(
        app,
        LONG,
        &json!({"earning": {"pending_days": 60}, "expiry": {"mode": "after_earning", "months": 1}}),
    )
    .await;
    let shop_id = long.clone();
    app.with_db(move |c| insert_member(c, &shop_id, 7001, "ada@example.com"))
        .await;
    let mut order = order_json(
        1,
        Some((7001, "ada@example.com")),
        "paid",
        &[(11, 1, "100.00")],
    );
    order["created_at"] = json!(rfc3339(Utc::now()));
    assert_eq!(
        app.deliver(LONG, "orders/paid", "o1", &order).await,
        "accepted"
    );
    assert_eq!(adjust(app, LONG, 7001, 50, "grant").await.0, 201);
    assert_eq!(expire(&long, 40).await, 50);
    assert_eq!(confirm(&app.db, &long, 61).await, Ok(1));
    assert_eq!(balance(LONG).await, 100);
    let expired = expire(&long, 62).await + expire(&long, 400).await;
    let left = balance(LONG).await;
    if left != 0 {
        problems.push(format!(
            "an order confirmed after a newer lot expired: {left} points left a year on, {expired} expired"
        ));
    }
    assert!(
        problems.is_empty(),
        "points past their expiry date never expire:\n  {}",
        problems.join("\n  ")
    );
}
