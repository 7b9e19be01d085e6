//! The `boomerang` binary: help, bad arguments, bad configuration, each command, SIGTERM.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::helpers::TestDb;

/// The binary, run in an empty directory (no stray `.env`) against `database_url`.
fn boomerang(dir: &std::path::Path, database_url: &str) -> Command {
    let mut cmd = Command::cargo_bin("boomerang").unwrap();
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .timeout(Duration::from_secs(60));
    if database_url.starts_with("postgres") {
        cmd.env("APP_SECRET", crate::helpers::TEST_APP_SECRET);
    }
    cmd
}

/// The binary with real (non-demo) Shopify app credentials.
fn boomerang_with_credentials(dir: &std::path::Path, database_url: &str) -> Command {
    let mut cmd = boomerang(dir, database_url);
    cmd.env("SHOPIFY_API_KEY", "real-key")
        .env("SHOPIFY_API_SECRET", "a-real-and-private-secret");
    cmd
}

#[test]
fn every_command_answers_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["shop", "add", "--help"],
        vec!["shop", "show", "--help"],
        vec!["jobs", "run-once", "--help"],
        vec!["jobs", "failed", "--help"],
        vec!["jobs", "retry", "--help"],
        vec!["jobs", "dismiss", "--help"],
        vec!["demo", "--help"],
    ] {
        boomerang(dir.path(), "sqlite://x")
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: boomerang"));
    }
}

#[test]
fn a_bad_argument_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    boomerang(dir.path(), "sqlite://x")
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unrecognized subcommand 'frobnicate'",
        ));
    boomerang(dir.path(), "sqlite://x")
        .args(["shop", "add", "--platform", "magento", "--domain", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'magento'"));
}

#[test]
fn bad_configuration_names_the_variable_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = boomerang(dir.path(), "mysql://root@localhost/db")
        .arg("migrate")
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: invalid configuration: DATABASE_URL:"),
        "{stderr}"
    );

    boomerang(dir.path(), "sqlite://x")
        .env("SMTP_URL", "http://user:hunter2@mail")
        .arg("migrate")
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("SMTP_URL").and(predicate::str::contains("hunter2").not()),
        );
}

#[test]
fn an_unreachable_database_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    boomerang(dir.path(), "postgres://nobody@127.0.0.1:1/none")
        .arg("migrate")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: cannot open the database at postgres://nobody@127.0.0.1:1/none",
        ));
}

#[test]
fn migrate_shop_add_demo_and_jobs_work_against_a_real_database() {
    // Unmigrated: the other PostgreSQL tests start from a migrated template kept between runs,
    // so this is where every run migrates an empty database.
    let (_db, url) = TestDb::create_unmigrated();
    let dir = tempfile::tempdir().unwrap();
    boomerang(dir.path(), &url)
        .arg("migrate")
        .assert()
        .success()
        .stdout(predicate::str::contains("is up to date"))
        .stdout(predicate::str::contains("WARN").not());
    boomerang_with_credentials(dir.path(), &url)
        .args([
            "shop",
            "add",
            "--platform",
            "shopify",
            "--domain",
            "cli-test.myshopify.com",
            "--access-token",
            "shpat_x",
            // A closed local port: tests never reach out of the machine.
            "--api-base",
            "http://127.0.0.1:9",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "added shopify shop cli-test.myshopify.com",
        ))
        .stdout(predicate::str::contains("widget secret"))
        .stdout(predicate::str::contains("shpat_x").not());
    boomerang_with_credentials(dir.path(), &url)
        .args([
            "shop",
            "add",
            "--platform",
            "shopify",
            "--domain",
            "cli-test.myshopify.com",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    boomerang_with_credentials(dir.path(), &url)
        .args([
            "shop",
            "add",
            "--platform",
            "shopify",
            "--domain",
            "not-shopify.example",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a Shopify shop domain"));
    boomerang(dir.path(), &url)
        .args([
            "shop",
            "add",
            "--platform",
            "woocommerce",
            "--domain",
            "shop.example",
            "--webhook-secret",
            "wsec",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("admin API key (shown once"))
        // The set-up on the WooCommerce side: where its webhooks go, and the missing REST keys.
        .stdout(predicate::str::contains(
            "/webhooks/woocommerce/shop.example",
        ))
        .stdout(predicate::str::contains("no REST API keys"));
    for _ in 0..2 {
        boomerang(dir.path(), &url)
            .arg("demo")
            .assert()
            .success()
            .stdout(predicate::str::contains("boomerang-demo.myshopify.com"));
    }
    boomerang(dir.path(), &url)
        .args(["jobs", "run-once"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"^jobs: \d+ done, \d+ to retry, 0 failed\n$").unwrap());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("boomerang"))
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .env("APP_SECRET", crate::helpers::TEST_APP_SECRET)
        .env("SHOPIFY_API_KEY", "real-key")
        .env("SHOPIFY_API_SECRET", "a-real-and-private-secret")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUN_JOBS", "false")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let health = format!("http://127.0.0.1:{port}/healthz");
    while reqwest::blocking_get_ok(&health).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last line of stderr: the error `main` prints, after any log lines.
fn last_stderr_line(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn serve_on_the_demo_credentials_refuses_a_real_shop_postgres_or_a_public_bind() {
    let (test_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    boomerang_with_credentials(dir.path(), &url)
        .args([
            "shop",
            "add",
            "--platform",
            "shopify",
            "--domain",
            "real.myshopify.com",
        ])
        .assert()
        .success();
    let out = boomerang(dir.path(), &url)
        .env("BIND", "127.0.0.1:0")
        .env("RUN_JOBS", "false")
        .arg("serve")
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = last_stderr_line(&out);
    assert!(
        line.starts_with("error: refusing to run on the public demo Shopify credentials"),
        "{line}"
    );
    assert!(
        line.contains("set SHOPIFY_API_KEY and SHOPIFY_API_SECRET"),
        "{line}"
    );
    if test_db.is_postgres() {
        assert!(line.contains("PostgreSQL"), "{line}");
    } else {
        assert!(
            line.contains("1 Shopify shop(s) other than the demo shop"),
            "{line}"
        );
    }
    // A fresh SQLite database on every interface: refused before anything is created.
    let fresh = tempfile::tempdir().unwrap();
    let out = boomerang(fresh.path(), "sqlite://fresh.sqlite3")
        .env("BIND", "0.0.0.0:0")
        .arg("serve")
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = last_stderr_line(&out);
    assert!(
        line.contains("on BIND=0.0.0.0:0, not a loopback address"),
        "{line}"
    );
    assert!(!fresh.path().join("fresh.sqlite3").exists());
}

#[test]
fn shop_add_of_a_shopify_shop_on_the_demo_credentials_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = boomerang(dir.path(), "sqlite://x.sqlite3")
        .args([
            "shop",
            "add",
            "--platform",
            "shopify",
            "--domain",
            "real.myshopify.com",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("set SHOPIFY_API_KEY and SHOPIFY_API_SECRET"),
        "{stderr}"
    );
    // Other platforms do not rely on the Shopify credentials.
    boomerang(dir.path(), "sqlite://x.sqlite3")
        .args([
            "shop",
            "add",
            "--platform",
            "woocommerce",
            "--domain",
            "shop.example",
            "--webhook-secret",
            "wsec",
        ])
        .assert()
        .success();
}

#[test]
fn the_demo_command_refuses_real_credentials() {
    let dir = tempfile::tempdir().unwrap();
    boomerang_with_credentials(dir.path(), "sqlite://x.sqlite3")
        .arg("demo")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "the demo shop runs only on the public demo credentials",
        ));
}

#[test]
fn shop_add_stores_the_consumer_credentials_and_shop_show_prints_the_widget_secret() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let out = boomerang(dir.path(), &url)
        .args([
            "shop",
            "add",
            "--platform",
            "woocommerce",
            "--domain",
            "Woo.Example",
            "--webhook-secret",
            "wsec",
            "--api-key",
            "ck_123",
            "--api-secret",
            "cs_456",
            "--currency",
            "EUR",
            "--timezone",
            "Europe/Paris",
            "--locale",
            "fr",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !stdout.contains("ck_123") && !stdout.contains("cs_456"),
        "{stdout}"
    );
    let printed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("widget secret ("))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap()
        .to_owned();
    let out = boomerang(dir.path(), &url)
        .args(["shop", "show", "--domain", "woo.example"])
        .assert()
        .success()
        .get_output()
        .clone();
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["domain"], "woo.example");
    assert_eq!(shown["platform"], "woocommerce");
    assert_eq!(shown["currency"], "EUR");
    assert_eq!(shown["timezone"], "Europe/Paris");
    assert_eq!(shown["locale"], "fr");
    assert!(shown["installed_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(shown["widget_secret"], printed.as_str());
    // The consumer credentials are stored, sealed.
    let db =
        boomerang::db::Db::connect(&boomerang::db::DatabaseUrl::parse(&url).unwrap(), 1).unwrap();
    let shop = boomerang::db::models::Shop::list_by_domain(&mut db.get().unwrap(), "woo.example")
        .unwrap()
        .pop()
        .unwrap();
    let (key, secret) = (
        shop.consumer_key_enc.unwrap(),
        shop.consumer_secret_enc.unwrap(),
    );
    assert!(key.starts_with("v2.") && !key.contains("ck_123"));
    assert!(secret.starts_with("v2.") && !secret.contains("cs_456"));
    boomerang(dir.path(), &url)
        .args(["shop", "show", "--domain", "nobody.example"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no shop has domain nobody.example",
        ));
}

mod reqwest {
    /// A tiny blocking GET over a raw socket, so this test needs no second HTTP client.
    pub fn blocking_get_ok(url: &str) -> Result<(), ()> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").ok_or(())?;
        let (host, path) = rest.split_once('/').ok_or(())?;
        let mut stream = std::net::TcpStream::connect(host).map_err(|_| ())?;
        write!(stream, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").map_err(|_| ())?;
        let mut buf = String::new();
        stream.read_to_string(&mut buf).map_err(|_| ())?;
        buf.starts_with("HTTP/1.0 200").then_some(()).ok_or(())
    }
}
