//! Mail sending benchmark: N messages through the pooled SMTP `Mailer`, with a number of sends in
//! flight at once (what the delivery job does), to an SMTP server on loopback that this program
//! starts (mailin-embedded, accepting everything) or to `--smtp-url`. Prints messages per second.
//!
//!   cargo run --release --example mail_bench
//!   cargo run --release --example mail_bench -- --messages 5000 --concurrency 16
//!
//! Building the messages is not timed; connecting is (the pool starts empty).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use futures_util::stream::{self, StreamExt};
use lettre::message::{header::ContentType, MultiPart, SinglePart};
use lettre::Message;
use mailin_embedded::{response, Handler, Response, Server};
use secrecy::SecretString;

use boomerang::mail::transport::{Mailer, SMTP_MAX_IDLE, SMTP_MAX_IN_FLIGHT};

#[derive(Debug, Parser)]
#[command(about = "Boomerang mail sending benchmark")]
struct Args {
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    /// Sends started at once (the mailer lets SMTP_MAX_IN_FLIGHT of them run).
    #[arg(long, default_value_t = SMTP_MAX_IN_FLIGHT as usize)]
    concurrency: usize,
    /// Send to this relay instead of the local listener (it must accept *.example recipients).
    #[arg(long)]
    smtp_url: Option<String>,
}

/// Counts the connections the local listener saw (one greeting each) and the messages it
/// accepted.
#[derive(Clone, Default)]
struct Counter {
    connections: Arc<AtomicUsize>,
    messages: Arc<AtomicUsize>,
}

impl Handler for Counter {
    fn helo(&mut self, _ip: std::net::IpAddr, _domain: &str) -> Response {
        self.connections.fetch_add(1, Ordering::Relaxed);
        response::OK
    }

    fn data_end(&mut self) -> Response {
        self.messages.fetch_add(1, Ordering::Relaxed);
        response::OK
    }
}

/// Starts an accepting SMTP server on a loopback ephemeral port; returns its URL.
fn start_listener(accepted: Counter, threads: usize) -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let mut server = Server::new(accepted);
    server
        .with_name("localhost")
        .with_num_threads(u32::try_from(threads)?)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        if let Err(e) = server.serve() {
            eprintln!("the SMTP listener stopped: {e}");
        }
    });
    Ok(format!("smtp://127.0.0.1:{port}"))
}

/// A message of the size lifecycle mails have: a short text part and a few KB of HTML.
fn message(n: usize) -> anyhow::Result<Message> {
    let row = "<tr><td style=\"padding:8px;font-family:Arial,sans-serif;color:#333\">\
               Your points are waiting: 120 points, spendable from 3 March 2027.</td></tr>";
    let html = format!(
        "<table role=\"presentation\" width=\"100%\">{}</table>",
        row.repeat(25)
    );
    Ok(Message::builder()
        .from("Bench Shop <rewards@shop.example>".parse()?)
        .to(format!("Customer {n} <customer{n}@customer.example>").parse()?)
        .subject(format!("You earned 120 points ({n})"))
        .message_id(Some(format!("<bench-{n}@rewards.shop.example>")))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body("You earned 120 points. Balance: 1,020 points.\r\n".to_owned()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let accepted = Counter::default();
    let url = match &args.smtp_url {
        Some(url) => url.clone(),
        // A server thread per connection the mailer may hold open.
        None => start_listener(
            accepted.clone(),
            (SMTP_MAX_IN_FLIGHT + SMTP_MAX_IDLE) as usize,
        )?,
    };
    let mailer = Mailer::from_config(Some(&SecretString::from(url)), Path::new("unused"))?;
    let messages = (0..args.messages)
        .map(message)
        .collect::<anyhow::Result<Vec<_>>>()?;

    let started = Instant::now();
    let failures: Vec<String> = stream::iter(&messages)
        .map(|m| mailer.send(m))
        .buffer_unordered(args.concurrency)
        .filter_map(|result| async move { result.err().map(|e| e.to_string()) })
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();

    let sent = args.messages - failures.len();
    println!(
        "sent {sent} of {} messages in {elapsed:.2} s: {:.0} messages/s ({} in flight, {})",
        args.messages,
        sent as f64 / elapsed,
        args.concurrency,
        mailer.describe(),
    );
    if args.smtp_url.is_none() {
        println!(
            "the listener accepted {} messages over {} connections",
            accepted.messages.load(Ordering::Relaxed),
            accepted.connections.load(Ordering::Relaxed)
        );
    }
    if let Some(first) = failures.first() {
        anyhow::bail!("{} sends failed, the first: {first}", failures.len());
    }
    Ok(())
}
