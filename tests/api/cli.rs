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
        vec!["jobs", "run-once", "--help"],
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
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    boomerang(dir.path(), &url)
        .arg("migrate")
        .assert()
        .success()
        .stdout(predicate::str::contains("is up to date"))
        .stdout(predicate::str::contains("WARN").not());
    boomerang(dir.path(), &url)
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
        .stdout(predicate::str::contains("shpat_x").not());
    boomerang(dir.path(), &url)
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
    boomerang(dir.path(), &url)
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
        .stdout(predicate::str::contains("admin API key (shown once"));
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
