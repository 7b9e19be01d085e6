//! `TestApp::spawn()`: a real server on port 0 against a real, empty database.

use std::collections::HashMap;
use std::sync::OnceLock;

use boomerang::config::{Config, DEMO_SHOPIFY_API_SECRET};
use boomerang::db::{DatabaseUrl, Db, DbConnection};
use boomerang::platform::shopify::webhook::sign;
use boomerang::startup::Application;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text};

pub const SECRET: &str = DEMO_SHOPIFY_API_SECRET;

/// The `APP_SECRET` test apps run with (PostgreSQL requires one; `("APP_SECRET", "")` in
/// `spawn_with` unsets it on SQLite, to use the generated key file).
pub const TEST_APP_SECRET: &str = "test-app-secret-0123456789abcdef0123456789";

/// A database made for one test and dropped after it.
pub enum TestDb {
    /// The directory holding the file, removed on drop.
    Sqlite(#[expect(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    /// A fresh database: PostgreSQL if `TEST_DATABASE_URL` is set, SQLite otherwise. On
    /// PostgreSQL it is a copy of a migrated template (the app finds nothing to migrate).
    pub fn create() -> (Self, String) {
        Self::create_from(true)
    }

    /// A fresh database with no tables at all, for the tests of migrating.
    pub fn create_unmigrated() -> (Self, String) {
        Self::create_from(false)
    }

    fn create_from(migrated: bool) -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let template = if migrated {
                    postgres_template(&admin_url)
                } else {
                    "template1"
                };
                let name = format!("boomerang_test_{}", uuid::Uuid::new_v4().simple());
                admin_connection(&admin_url)
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .unwrap();
                let url = database_url_with_name(&admin_url, &name);
                (Self::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
                (Self::Sqlite(dir), url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres { .. })
    }
}

fn admin_connection(admin_url: &str) -> PgConnection {
    PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL {admin_url} unreachable: {e}"))
}

/// The migrated database every PostgreSQL test database is copied from: running the migrations
/// took seconds a test, copying their result takes a fraction of one. Named after a digest of
/// the migrations, so a changed migration makes a new template, and kept between runs.
fn postgres_template(admin_url: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("{TEMPLATE_PREFIX}{}", postgres_migrations_digest());
        let mut admin = admin_connection(admin_url);
        if !database_exists(&mut admin, &name) {
            build_postgres_template(admin_url, &mut admin, &name);
        }
        name
    })
}

const TEMPLATE_PREFIX: &str = "boomerang_template_";

/// Migrates a database of its own, then renames it to `name`: a template that exists is
/// complete, whatever a run stopped half-way left behind. Older templates are dropped.
fn build_postgres_template(admin_url: &str, admin: &mut PgConnection, name: &str) {
    let building = format!("boomerang_building_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {building}"))
        .unwrap();
    let url = DatabaseUrl::parse(&database_url_with_name(admin_url, &building)).unwrap();
    boomerang::db::migrate(&url).expect("the template database migrates");
    if admin
        .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
        .is_err()
    {
        // Another test process made the same template first.
        admin
            .batch_execute(&format!("DROP DATABASE {building}"))
            .unwrap();
        return;
    }
    let stale: Vec<String> = diesel::select(diesel::dsl::sql::<Array<Text>>(&format!(
        "ARRAY(SELECT datname::text FROM pg_database \
         WHERE datname LIKE '{TEMPLATE_PREFIX}%' AND datname <> '{name}')"
    )))
    .get_result(admin)
    .unwrap();
    for old in stale {
        // Best effort: a run of an older checkout may still be copying from it.
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {old}"));
    }
}

fn database_exists(admin: &mut PgConnection, name: &str) -> bool {
    diesel::select(diesel::dsl::sql::<Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result(admin)
    .unwrap()
}

/// Hex digest of every file under `migrations/postgres`, names and contents, in order.
fn postgres_migrations_digest() -> String {
    use sha2::{Digest, Sha256};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = walk(&root);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(
            file.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update(std::fs::read(&file).unwrap());
    }
    hex::encode(&hasher.finalize()[..8])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn database_url_with_name(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(name);
    url.to_string()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A running app and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub config: Config,
    /// The app's keys (sealing, widget secrets), whatever `APP_SECRET` it runs with.
    pub keys: boomerang::crypto::Keys,
    /// `DATA_DIR` of the app (mail outbox), removed on drop.
    pub data_dir: tempfile::TempDir,
    // Dropped last: the server holds connections to it.
    pub test_db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Spawns with extra environment-style settings layered over the test defaults.
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        Self::spawn_inner(vars, false).await
    }

    /// Spawns keeping the mail the demo shop's seed queued (dropped by `spawn`).
    pub async fn spawn_keeping_demo_mail() -> Self {
        Self::spawn_inner(&[], true).await
    }

    async fn spawn_inner(vars: &[(&str, &str)], keep_demo_mail: bool) -> Self {
        let (test_db, url) = TestDb::create();
        let data_dir = tempfile::tempdir().unwrap();
        let mut env: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), url),
            ("BIND".into(), "127.0.0.1:0".into()),
            ("RUN_JOBS".into(), "false".into()),
            ("DATA_DIR".into(), data_dir.path().display().to_string()),
            ("DATABASE_POOL_SIZE".into(), "4".into()),
            ("APP_SECRET".into(), TEST_APP_SECRET.into()),
        ]);
        for (k, v) in vars {
            env.insert((*k).into(), (*v).into());
        }
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config");
        let app = Application::build(config.clone())
            .await
            .expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let db = app.state().db.clone();
        let keys = app.state().keys.clone();
        // On SQLite the app seeds the demo shop, whose customers' tier changes queue mail and
        // a deliver job; tests count their own shops' jobs and mail, so those are dropped.
        db.run(move |c| -> Result<usize, boomerang::db::DbError> {
            use boomerang::db::schema::{emails, jobs};
            use diesel::prelude::*;
            if keep_demo_mail {
                return Ok(0);
            }
            diesel::delete(jobs::table).execute(c)?;
            diesel::delete(emails::table)
                .execute(c)
                .map_err(boomerang::db::DbError::from)
        })
        .await
        .expect("the demo's mail is dropped");
        tokio::spawn(app.run_until_stopped());
        Self {
            address,
            client: reqwest::Client::new(),
            db,
            config,
            keys,
            data_dir,
            test_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Sends `body` as a Shopify webhook signed with `secret`.
    pub async fn post_shopify_webhook_signed(
        &self,
        topic: &str,
        shop: &str,
        webhook_id: &str,
        body: &str,
        secret: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/webhooks/shopify"))
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Shop-Domain", shop)
            .header("X-Shopify-Webhook-Id", webhook_id)
            .header("X-Shopify-API-Version", "2025-10")
            .header("X-Shopify-Hmac-Sha256", sign(body.as_bytes(), secret))
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    pub async fn post_shopify_webhook(
        &self,
        topic: &str,
        shop: &str,
        webhook_id: &str,
        body: &str,
    ) -> reqwest::Response {
        self.post_shopify_webhook_signed(topic, shop, webhook_id, body, SECRET)
            .await
    }

    /// Sets the shop's language (`en`, `ar`), as the owner's settings do.
    pub async fn set_shop_locale(&self, shop_id: &str, locale: &'static str) {
        let id = shop_id.to_owned();
        self.with_db(move |c| {
            use boomerang::db::schema::shops;
            diesel::update(shops::table.find(&id))
                .set(shops::locale.eq(locale))
                .execute(c)
                .unwrap()
        })
        .await;
    }

    /// Runs `f` with a database connection on a blocking thread.
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> T + Send + 'static,
    ) -> T {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&mut db.get().unwrap()))
            .await
            .unwrap()
    }
}

/// Reads a JSON body and checks the error shape `{"error":{"code","message"}}`.
pub async fn error_code(resp: reqwest::Response) -> String {
    let body: serde_json::Value = resp.json().await.expect("JSON error body");
    let message = body["error"]["message"].as_str().expect("error.message");
    assert!(!message.is_empty());
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned()
}

/// A fixture file from ../shared/fixtures (copied under tests/fixtures).
pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A Shopify session token for `shop`, as App Bridge would mint it; `tweak` edits the claims.
pub fn session_token_with(
    shop: &str,
    secret: &str,
    tweak: impl FnOnce(&mut serde_json::Value),
) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = serde_json::json!({
        "iss": format!("https://{shop}/admin"),
        "dest": format!("https://{shop}"),
        "aud": boomerang::config::DEMO_SHOPIFY_API_KEY,
        "sub": "1",
        "exp": now + 60,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": uuid::Uuid::new_v4().to_string(),
        "sid": "session",
    });
    tweak(&mut claims);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

pub fn session_token(shop: &str) -> String {
    session_token_with(shop, SECRET, |_| {})
}

impl TestApp {
    /// Adds a Shopify shop with one member; returns (shop id, member id).
    pub async fn add_shop_with_member(
        &self,
        domain: &str,
        customer_id: &str,
        email: &str,
    ) -> (String, String) {
        let (domain, customer_id, email) =
            (domain.to_owned(), customer_id.to_owned(), email.to_owned());
        self.with_db(move |c| {
            let keys = boomerang::crypto::Keys::derive(&"x".repeat(32).into());
            let spec = boomerang::services::shops::ShopSpec {
                platform: Some(boomerang::db::types::Platform::Shopify),
                domain,
                ..Default::default()
            };
            let shop = boomerang::services::shops::add_shop(c, &keys, &spec)
                .unwrap()
                .shop;
            backdate_install(c, &shop.id);
            let member = insert_member(c, &shop.id, Some(&customer_id), Some(&email));
            (shop.id, member.id)
        })
        .await
    }

    pub async fn admin_get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn admin_post(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// `order` as placed `days` before now: created, processed and last updated then. For an order
/// that must still be inside (or already past) its return window, tier window or lapse whenever
/// the suite runs; `order_json`'s own fixed date (2026-11-20) stays for tests that check dates
/// derived from it.
pub fn placed_days_ago(mut order: serde_json::Value, days: i64) -> serde_json::Value {
    let at = serde_json::json!((chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339());
    for field in ["created_at", "processed_at", "updated_at"] {
        order[field] = at.clone();
    }
    order
}

/// A paid order of `amount` (one line) placed `days` ago by `customer`.
pub fn order_days_ago(
    id: u64,
    customer: (u64, &str),
    days: i64,
    amount: &str,
) -> serde_json::Value {
    placed_days_ago(
        order_json(id, Some(customer), "paid", &[(id * 10, 1, amount)]),
        days,
    )
}

/// A Shopify order body in the REST webhook shape. `lines`: (line id, quantity, unit price).
pub fn order_json(
    order_id: u64,
    customer: Option<(u64, &str)>,
    status: &str,
    lines: &[(u64, i64, &str)],
) -> serde_json::Value {
    let subtotal: i64 = lines
        .iter()
        .map(|(_, q, p)| q * p.replace('.', "").parse::<i64>().unwrap())
        .sum();
    let subtotal = format!("{}.{:02}", subtotal / 100, subtotal % 100);
    serde_json::json!({
        "id": order_id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{order_id}"),
        "name": format!("#{order_id}"),
        "email": customer.map(|c| c.1),
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:05Z",
        "currency": "USD",
        "financial_status": status,
        "cancelled_at": null,
        "test": false,
        "subtotal_price": subtotal,
        "total_discounts": "0.00",
        "total_tax": "0.00",
        "total_price": subtotal,
        "total_shipping_price_set": {"shop_money": {"amount": "0.00", "currency_code": "USD"}},
        "customer": customer.and_then(|(id, email)| (id != 0).then(|| serde_json::json!({"id": id, "email": email}))),
        "line_items": lines.iter().map(|(id, q, p)| serde_json::json!({
            "id": id, "product_id": 1, "variant_id": 2, "quantity": q, "current_quantity": q,
            "price": p, "total_discount": "0.00", "gift_card": false
        })).collect::<Vec<_>>(),
        "discount_codes": [],
        "note_attributes": [],
    })
}

/// A Shopify refund body. `lines`: (line id, quantity, subtotal).
pub fn refund_json(
    refund_id: u64,
    order_id: u64,
    lines: &[(u64, i64, &str)],
    amount: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": refund_id,
        "order_id": order_id,
        "created_at": "2026-11-21T10:00:00Z",
        "refund_line_items": lines.iter().map(|(id, q, s)| serde_json::json!({
            "line_item_id": id, "quantity": q, "subtotal": s, "total_tax": "0.00", "restock_type": "return"
        })).collect::<Vec<_>>(),
        "transactions": [{"kind": "refund", "status": "success", "amount": amount, "currency": "USD"}],
        "order_adjustments": [],
    })
}

impl TestApp {
    /// Adds a Shopify shop with the given currency; returns its id.
    pub async fn add_shop(&self, domain: &str, currency: &str) -> String {
        let (domain, currency) = (domain.to_owned(), currency.to_owned());
        self.with_db(move |c| add_shop_in(c, &domain, &currency))
            .await
    }

    /// Sends a JSON value as a signed webhook and returns the `status` of the answer.
    pub async fn deliver(
        &self,
        shop: &str,
        topic: &str,
        webhook_id: &str,
        body: &serde_json::Value,
    ) -> String {
        let resp = self
            .post_shopify_webhook(topic, shop, webhook_id, &body.to_string())
            .await;
        assert_eq!(resp.status(), 200, "{topic} {webhook_id}");
        resp.json::<serde_json::Value>().await.unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The customer as the admin API shows it.
    pub async fn customer(&self, shop: &str, customer_id: &str) -> serde_json::Value {
        let resp = self
            .admin_get(
                &session_token(shop),
                &format!("/api/admin/v1/customers/{customer_id}"),
            )
            .await;
        assert_eq!(resp.status(), 200, "customer {customer_id}");
        resp.json().await.unwrap()
    }

    /// Confirms every pending line due by `days` from now (time travel for the return window).
    pub async fn confirm_after(&self, shop_id: &str, days: i64) -> usize {
        let shop_id = shop_id.to_owned();
        self.with_db(move |c| {
            boomerang::db::write_transaction(c, |c| {
                boomerang::services::ledger::confirm_due(
                    c,
                    &shop_id,
                    boomerang::db::now() + chrono::Duration::days(days),
                )
            })
            .unwrap()
        })
        .await
    }
}

/// A job context with a fast-failing API client and the keys of `app_secret`.
pub fn job_context(app_secret: &str) -> boomerang::jobs::JobContext {
    use std::time::Duration;

    use boomerang::platform::shopify::api::{RetryPolicy, ShopifyApi};
    let policy = RetryPolicy {
        attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(2),
    };
    boomerang::jobs::JobContext {
        keys: boomerang::crypto::Keys::derive(&app_secret.to_owned().into()),
        shopify: ShopifyApi::new("2025-10", policy).unwrap(),
        runtime: tokio::runtime::Handle::current(),
        // The default `WEBHOOK_RETENTION_DAYS`; retention tests pass the app's own.
        webhook_retention_days: 30,
        mail: test_mail(),
        bigcommerce_api_base: boomerang::platform::bigcommerce::api::DEFAULT_API_BASE.to_owned(),
    }
}

impl TestApp {
    /// Adds a USD Shopify shop whose Admin API is `api_base` (a wiremock server), with its access
    /// token sealed under `app_secret` (the app must run with that `APP_SECRET`). Returns its id.
    pub async fn add_api_shop(&self, domain: &str, api_base: &str, app_secret: &str) -> String {
        let (domain, api_base) = (domain.to_owned(), api_base.to_owned());
        let keys = boomerang::crypto::Keys::derive(&app_secret.to_owned().into());
        self.with_db(move |c| {
            let spec = boomerang::services::shops::ShopSpec {
                platform: Some(boomerang::db::types::Platform::Shopify),
                domain,
                access_token: Some("shpat_test".into()),
                api_base: Some(api_base),
                currency: Some("USD".into()),
                ..Default::default()
            };
            add_shop_with(c, &keys, &spec)
        })
        .await
    }
}

/// [`TestApp::add_shop`] on a connection of the test's own: a Shopify shop in `currency`,
/// installed long ago. Returns its id.
pub fn add_shop_in(c: &mut DbConnection, domain: &str, currency: &str) -> String {
    let keys = boomerang::crypto::Keys::derive(&"x".repeat(32).into());
    let spec = boomerang::services::shops::ShopSpec {
        platform: Some(boomerang::db::types::Platform::Shopify),
        domain: domain.to_owned(),
        currency: Some(currency.to_owned()),
        ..Default::default()
    };
    add_shop_with(c, &keys, &spec)
}

/// Adds the shop as `spec` says, its secrets sealed with `keys`, installed long ago.
fn add_shop_with(
    c: &mut DbConnection,
    keys: &boomerang::crypto::Keys,
    spec: &boomerang::services::shops::ShopSpec,
) -> String {
    let id = boomerang::services::shops::add_shop(c, keys, spec)
        .unwrap()
        .shop
        .id;
    backdate_install(c, &id);
    id
}

/// Adds a plain member to `shop_id`: the platform's customer `customer` with `email`, as a test
/// set-up needs it (no name, birthday, consent or referral code).
pub fn insert_member(
    c: &mut DbConnection,
    shop_id: &str,
    customer: Option<&str>,
    email: Option<&str>,
) -> boomerang::db::models::Member {
    let at = boomerang::db::now();
    boomerang::db::models::NewMember {
        id: boomerang::db::new_id(),
        shop_id: shop_id.to_owned(),
        platform_customer_id: customer.map(str::to_owned),
        email: email.map(str::to_owned),
        first_name: None,
        last_name: None,
        birthday: None,
        accepts_marketing: false,
        referral_code: None,
        created_at: at,
        updated_at: at,
        email_verified: false,
        locale: None,
    }
    .insert(c)
    .unwrap()
}

/// Dates a test shop's install before every fixture and test order (2021–2026), so their
/// orders are not history and earn. The helpers that add shops do this; a test of history
/// sets `installed_at` itself.
pub fn backdate_install(c: &mut DbConnection, shop_id: &str) {
    use boomerang::db::schema::shops;
    use diesel::prelude::*;
    let long_ago = chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    diesel::update(shops::table.find(shop_id))
        .set(shops::installed_at.eq(long_ago))
        .execute(c)
        .unwrap();
}

/// Mail for jobs run by tests that do not look at mail: `.eml` files in a scratch directory.
pub fn test_mail() -> boomerang::services::mail::MailSetup {
    let dir = std::env::temp_dir().join("boomerang-test-outbox");
    boomerang::services::mail::MailSetup {
        mailer: std::sync::Arc::new(boomerang::mail::transport::Mailer::Files(dir)),
        default_from: "Test Shop <rewards@localhost>".parse().unwrap(),
        public_url: "http://localhost:8080".into(),
    }
}
