//! `boomerang shop add --platform bigcommerce`: the store's settings read and its webhooks
//! registered when the app has a public address, the steps to do it by hand otherwise, and
//! what is refused.

use std::time::Duration;

use assert_cmd::Command;
use diesel::prelude::*;
use secrecy::ExposeSecret;

use boomerang::crypto::{Keys, SealedField, SealedFor};
use boomerang::db::models::Shop;
use boomerang::db::types::Platform;
use boomerang::db::{DatabaseUrl, Db};

use super::fake::{self, DOMAIN, TOKEN};
use super::REDIRECT_URI;
use crate::helpers::{TestDb, TEST_APP_SECRET};

/// Runs `boomerang shop add --platform bigcommerce …` against `database_url` (blocking, on
/// its own thread, so the fake keeps answering).
async fn shop_add(
    database_url: &str,
    public_url: Option<&str>,
    args: &[&str],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("boomerang").unwrap();
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", dir.path())
        .env("APP_SECRET", TEST_APP_SECRET)
        .env("RUST_LOG", "warn")
        .timeout(Duration::from_secs(60))
        .args(["shop", "add", "--platform", "bigcommerce"])
        .args(args);
    if let Some(url) = public_url {
        cmd.env("PUBLIC_URL", url);
    }
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().unwrap();
        drop(dir);
        out
    })
    .await
    .unwrap()
}

/// A connection to the database the binary used.
fn connect(database_url: &str) -> Db {
    Db::connect(&DatabaseUrl::parse(database_url).unwrap(), 1).unwrap()
}

fn stored_shop(database_url: &str) -> Shop {
    let mut c = connect(database_url).get().unwrap();
    use boomerang::db::schema::shops;
    shops::table
        .filter(shops::platform.eq(Platform::BigCommerce.as_str()))
        .filter(shops::domain.eq(DOMAIN))
        .select(Shop::as_select())
        .first(&mut c)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn shop_add_reads_the_store_and_registers_its_hooks_with_a_generated_secret() {
    let (fake, hooks) = fake::bigcommerce(REDIRECT_URI).await;
    let (_db, url) = TestDb::create();
    let out = shop_add(
        &url,
        Some("https://rewards.example"),
        &[
            "--domain",
            DOMAIN,
            "--access-token",
            TOKEN,
            "--api-base",
            &fake.uri(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("added bigcommerce shop store-abc123"),
        "{stdout}"
    );
    assert!(stdout.contains("currency EUR"), "{stdout}");
    assert!(stdout.contains("webhooks registered"), "{stdout}");

    let shop = stored_shop(&url);
    assert_eq!(
        (shop.currency.as_str(), shop.timezone.as_str()),
        ("EUR", "Europe/Berlin")
    );
    let keys = Keys::derive(&TEST_APP_SECRET.to_owned().into());
    let secret = keys
        .unseal(
            shop.webhook_secret_enc.as_deref().unwrap(),
            SealedFor::new(&shop.id, SealedField::WebhookSecret),
        )
        .unwrap();
    let all = hooks.all();
    assert_eq!(all.len(), 5);
    for hook in &all {
        assert_eq!(
            hook["destination"],
            "https://rewards.example/webhooks/bigcommerce/store-abc123"
        );
        assert_eq!(
            hook["headers"]["X-Boomerang-Webhook-Secret"],
            secret.expose_secret()
        );
    }
    assert!(
        !stdout.contains(secret.expose_secret()),
        "a registered secret is not printed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shop_add_without_a_public_address_prints_the_steps_and_registers_nothing() {
    let (fake, hooks) = fake::bigcommerce(REDIRECT_URI).await;
    let (_db, url) = TestDb::create();
    let out = shop_add(
        &url,
        None,
        &[
            "--domain",
            DOMAIN,
            "--access-token",
            TOKEN,
            "--api-base",
            &fake.uri(),
            "--webhook-secret",
            "given-secret-0123456789",
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("no webhooks registered: PUBLIC_URL http://localhost:8080"),
        "{stdout}"
    );
    assert!(stdout.contains("/stores/abc123/v3/hooks"), "{stdout}");
    assert!(
        stdout.contains(r#""X-Boomerang-Webhook-Secret": "given-secret-0123456789""#),
        "{stdout}"
    );
    assert!(stdout.contains("store/order/refund/created"), "{stdout}");
    assert!(hooks.all().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn shop_add_refuses_a_domain_that_is_not_a_store_and_a_missing_token() {
    let (_db, url) = TestDb::create();
    for (args, says) in [
        (
            vec!["--domain", "shop.example", "--access-token", TOKEN],
            "store-",
        ),
        (vec!["--domain", DOMAIN], "--access-token is required"),
        (
            vec![
                "--domain",
                DOMAIN,
                "--access-token",
                TOKEN,
                "--api-base",
                "http://api.example",
            ],
            "https",
        ),
    ] {
        let out = shop_add(&url, None, &args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let mut c = connect(&url).get().unwrap();
    use boomerang::db::schema::shops;
    let count: i64 = shops::table
        .filter(shops::platform.eq(Platform::BigCommerce.as_str()))
        .count()
        .get_result(&mut c)
        .unwrap();
    assert_eq!(count, 0);
}
