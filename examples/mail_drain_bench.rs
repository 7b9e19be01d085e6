//! Outbox drain benchmark: seeds a fresh database with N members, queues one `points_earned`
//! message for each (what an award does), then times the `deliver_emails` job draining the
//! outbox end to end — claiming, the sending policy, rendering in the customer's language,
//! sending over pooled SMTP to a listener on loopback that this program starts, and recording
//! each outcome. Prints messages per second.
//!
//!   cargo run --release --example mail_drain_bench
//!   cargo run --release --example mail_drain_bench -- --messages 5000
//!   cargo run --release --example mail_drain_bench -- \
//!       --database-url 'postgres://postgres@127.0.0.1:5432/mail_bench'   # an empty database
//!
//! SQLite runs in a temporary directory. Seeding is not timed.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use diesel::prelude::*;
use mailin_embedded::{response, Handler, Response, Server};
use secrecy::SecretString;
use serde_json::json;

use boomerang::crypto::Keys;
use boomerang::db::models::{Member, Shop};
use boomerang::db::schema::{emails, members, shops};
use boomerang::db::types::JobStatus;
use boomerang::db::{new_id, now, write_transaction, DatabaseUrl, Db};
use boomerang::domain::mail::Kind;
use boomerang::mail::transport::{Mailer, SMTP_MAX_IDLE, SMTP_MAX_IN_FLIGHT};
use boomerang::queue::Job;
use boomerang::services::mail::{deliver_job, queue, MailSetup};
use boomerang::services::program::Program;
use boomerang::services::shops::{add_shop, ShopSpec};

#[derive(Debug, Parser)]
#[command(about = "Boomerang outbox drain benchmark")]
struct Args {
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// An empty PostgreSQL database; SQLite in a temporary directory when absent.
    #[arg(long)]
    database_url: Option<String>,
}

/// Quiet hours off and a cap no one reaches: every message is due and goes.
const PROGRAM: &str = r#"{"emails": {"from": "Bench Shop <rewards@shop.example>",
  "postal_address": "1 Bench Street, Testville",
  "policy": {"max_per_week": 7, "quiet_hours": null}}}"#;

#[derive(Clone, Default)]
struct Accepted(Arc<AtomicUsize>);

impl Handler for Accepted {
    fn data_end(&mut self) -> Response {
        self.0.fetch_add(1, Ordering::Relaxed);
        response::OK
    }
}

fn start_listener(accepted: Accepted) -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let mut server = Server::new(accepted);
    server
        .with_name("localhost")
        .with_num_threads(SMTP_MAX_IN_FLIGHT + SMTP_MAX_IDLE)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        if let Err(e) = server.serve() {
            eprintln!("the SMTP listener stopped: {e}");
        }
    });
    Ok(format!("smtp://127.0.0.1:{port}"))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.sqlite3").display()),
    };
    let url = DatabaseUrl::parse(&url).map_err(anyhow::Error::msg)?;
    let db = Db::connect(&url, 4)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let keys = Keys::derive(&"b".repeat(32).into());
    let shop = add_shop(
        &mut conn,
        &keys,
        &ShopSpec {
            platform: Some(boomerang::db::types::Platform::Shopify),
            domain: format!("bench-{}.myshopify.com", new_id().to_lowercase()),
            ..ShopSpec::default()
        },
    )?
    .shop;
    diesel::update(shops::table.find(&shop.id))
        .set(shops::program.eq(PROGRAM))
        .execute(&mut conn)?;
    let shop = Shop::find(&mut conn, &shop.id)?;
    let program = Program::of(&shop);

    let at = now();
    for chunk in (0..args.messages).collect::<Vec<_>>().chunks(1000) {
        write_transaction(&mut conn, |c| {
            for i in chunk {
                let id = new_id();
                // Every fourth customer reads Arabic: both template sets are exercised.
                let locale = if i % 4 == 0 { "ar" } else { "en" };
                boomerang::per_backend!(&mut *c, |b| diesel::insert_into(members::table)
                    .values((
                        members::id.eq(&id),
                        members::shop_id.eq(&shop.id),
                        members::platform_customer_id.eq(Some(format!("{}", 1_000_000 + i))),
                        members::email.eq(Some(format!("customer{i}@customer.example"))),
                        members::first_name.eq(Some(format!("Customer {i}"))),
                        members::locale.eq(Some(locale)),
                        members::accepts_marketing.eq(true),
                        members::created_at.eq(at),
                        members::updated_at.eq(at),
                    ))
                    .execute(b))?;
                let member = Member::find(c, &shop.id, &id)?;
                queue(
                    c,
                    &shop,
                    &program,
                    &member,
                    Kind::PointsEarned,
                    &format!("order:{i}"),
                    json!({"points": 120, "order_name": format!("#{}", 1000 + i)}),
                    at,
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    // Seeding asked for deliver jobs; this program runs the job itself.
    diesel::delete(boomerang::db::schema::jobs::table).execute(&mut conn)?;

    let runtime = tokio::runtime::Runtime::new()?;
    let accepted = Accepted::default();
    let smtp_url = SecretString::from(start_listener(accepted.clone())?);
    // The pool belongs to the runtime that sends.
    let mailer = {
        let _inside = runtime.enter();
        Mailer::from_config(Some(&smtp_url), Path::new("unused"))?
    };
    let setup = MailSetup {
        mailer: Arc::new(mailer),
        default_from: "Bench <bench@shop.example>".parse()?,
        public_url: "https://rewards.shop.example".into(),
    };
    let job = Job {
        id: new_id(),
        shop_id: shop.id.clone(),
        kind: "deliver_emails".into(),
        payload: "{}".into(),
        dedupe_key: None,
        status: JobStatus::Running,
        attempts: 1,
        max_attempts: 10,
        run_at: at,
        locked_until: None,
        last_error: None,
        created_at: at,
        updated_at: at,
    };

    let started = Instant::now();
    deliver_job(&mut conn, runtime.handle(), &setup, &keys, &job)
        .map_err(|e| anyhow::anyhow!("the deliver job failed: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();

    let sent: i64 = emails::table
        .filter(emails::shop_id.eq(&shop.id))
        .filter(emails::status.eq("sent"))
        .count()
        .get_result(&mut conn)?;
    let backend = if args.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "drained {sent} of {} messages in {elapsed:.2} s: {:.0} messages/s \
         ({backend}, {} sends in flight; the listener accepted {})",
        args.messages,
        sent as f64 / elapsed,
        SMTP_MAX_IN_FLIGHT,
        accepted.0.load(Ordering::Relaxed),
    );
    {
        // lettre's pool closes its connections in tasks of the runtime it belongs to.
        let _inside = runtime.enter();
        drop(setup);
    }
    anyhow::ensure!(
        usize::try_from(sent)? == args.messages,
        "not every message was sent"
    );
    Ok(())
}
