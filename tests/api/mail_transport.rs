//! `Mailer` against a real SMTP server on loopback (`smtp::SmtpListener`) and the file outbox:
//! the bytes that arrive, how refusals and broken connections are classified, STARTTLS, and
//! `.eml` files that a re-send overwrites.

use std::path::Path;

use boomerang::mail::transport::{Mailer, SendError};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use mail_parser::MessageParser;
use secrecy::SecretString;

use crate::smtp::{Behaviour, SmtpListener};

/// A small multipart/alternative message like the ones `mail::message` builds, with non-ASCII
/// text so the parts need a transfer encoding.
fn message(id: &str, subject: &str) -> Message {
    let to: Mailbox = "Layla Haddad <layla@customer.example>".parse().unwrap();
    Message::builder()
        .from("Shop <rewards@shop.example>".parse().unwrap())
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{id}@rewards.shop.example>")))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body("You earned 120 points — مرحبا\r\n".to_owned()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body("<p>You earned <b>120</b> points — مرحبا</p>".to_owned()),
                ),
        )
        .unwrap()
}

fn smtp_mailer(listener: &SmtpListener) -> Mailer {
    Mailer::from_config(
        Some(&SecretString::from(listener.url())),
        Path::new("unused"),
    )
    .unwrap()
}

/// What the server stores for `message`: lettre ends DATA by sending CRLF "." CRLF after the
/// message, so the text the server keeps is the message and one more CRLF.
fn as_received(message: &Message) -> Vec<u8> {
    [message.formatted().as_slice(), b"\r\n"].concat()
}

#[tokio::test]
async fn messages_arrive_byte_for_byte_over_pooled_connections() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let mailer = smtp_mailer(&listener);
    let messages: Vec<Message> = (1..=5)
        .map(|n| message(&format!("earned-{n}"), &format!("You earned points ({n})")))
        .collect();
    for m in &messages {
        mailer.send(m).await.unwrap();
    }

    let received = listener.received();
    assert_eq!(received.len(), 5);
    // lettre hands a connection back to the pool in a spawned task, so the send right after
    // the first may open a second connection; after that they are reused.
    assert!(
        listener.greetings() <= 2,
        "{} connections for 5 messages",
        listener.greetings()
    );
    for (mail, sent) in received.iter().zip(&messages) {
        assert_eq!(mail.from, "rewards@shop.example");
        assert_eq!(mail.to, ["layla@customer.example"]);
        assert_eq!(mail.raw, as_received(sent));
    }
    let parsed = MessageParser::default().parse(&received[0].raw).unwrap();
    assert_eq!(parsed.subject(), Some("You earned points (1)"));
    assert_eq!(parsed.message_id(), Some("earned-1@rewards.shop.example"));
    assert_eq!(
        parsed.body_text(0).unwrap().trim_end(),
        "You earned 120 points — مرحبا"
    );
    assert_eq!(
        parsed.body_html(0).unwrap(),
        "<p>You earned <b>120</b> points — مرحبا</p>"
    );
    assert!(
        mailer.describe().starts_with("smtp to 127.0.0.1:"),
        "{}",
        mailer.describe()
    );
}

async fn refusal(behaviour: Behaviour) -> (SendError, SmtpListener) {
    let listener = SmtpListener::start(behaviour);
    let error = smtp_mailer(&listener)
        .send(&message("refused", "Hello"))
        .await
        .unwrap_err();
    (error, listener)
}

#[tokio::test]
async fn a_recipient_refused_with_550_is_a_permanent_failure() {
    let (error, listener) = refusal(Behaviour::RefuseRecipients).await;
    assert!(!error.transient, "{error}");
    assert!(error.message.contains("550"), "{error}");
    assert!(listener.received().is_empty());
}

#[tokio::test]
async fn data_deferred_with_451_is_a_transient_failure() {
    let (error, listener) = refusal(Behaviour::DeferData).await;
    assert!(error.transient, "{error}");
    assert!(error.message.contains("451"), "{error}");
    assert!(listener.received().is_empty());
}

#[tokio::test]
async fn a_connection_dropped_mid_data_is_a_transient_failure() {
    let (error, listener) = refusal(Behaviour::DropMidData).await;
    assert!(error.transient, "{error}");
    assert_eq!(listener.messages_begun(), 1, "the server was past DATA");
    assert!(
        listener.received().is_empty(),
        "half a message is no message"
    );
}

#[tokio::test]
async fn a_relay_that_is_not_listening_is_a_transient_failure() {
    let port = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let url = SecretString::from(format!("smtp://127.0.0.1:{port}"));
    let mailer = Mailer::from_config(Some(&url), Path::new("unused")).unwrap();
    let error = mailer.send(&message("nobody", "Hello")).await.unwrap_err();
    assert!(error.transient, "{error}");
}

#[tokio::test]
async fn starttls_delivers_when_the_certificate_is_trusted_and_only_then() {
    let listener = SmtpListener::start(Behaviour::StartTls);
    let url = SecretString::from(listener.url());
    let ca = listener.ca_pem.clone().unwrap();

    // Public roots only: the throwaway CA is unknown, so nothing may go out in the clear.
    let untrusting = Mailer::from_config(Some(&url), Path::new("unused")).unwrap();
    let error = untrusting
        .send(&message("tls-1", "Hello"))
        .await
        .unwrap_err();
    assert!(
        error.transient,
        "a relay's certificate is not the message's fault: {error}"
    );
    assert!(listener.received().is_empty());

    let trusting = Mailer::smtp_with_root_cert(&url, ca.as_bytes()).unwrap();
    assert!(trusting.describe().ends_with("(STARTTLS required)"));
    let sent = message("tls-2", "Hello over TLS");
    trusting.send(&sent).await.unwrap();
    let received = listener.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].raw, as_received(&sent));
}

#[tokio::test]
async fn starttls_required_refuses_a_relay_that_does_not_offer_it() {
    let listener = SmtpListener::start(Behaviour::Accept);
    let url = SecretString::from(format!("{}?tls=required", listener.url()));
    let mailer = Mailer::from_config(Some(&url), Path::new("unused")).unwrap();
    let error = mailer
        .send(&message("downgrade", "Hello"))
        .await
        .unwrap_err();
    assert!(error.transient, "{error}");
    assert!(listener.received().is_empty(), "no downgrade to plain text");
}

#[tokio::test]
async fn the_file_transport_writes_one_parseable_eml_per_message_and_overwrites_on_resend() {
    let data_dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::from_config(None, data_dir.path()).unwrap();
    let outbox = data_dir.path().join("outbox");
    assert_eq!(mailer.describe(), format!("files in {}", outbox.display()));

    let first = message("welcome-1", "Welcome");
    let second = message("earned-2", "You earned points");
    mailer.send(&first).await.unwrap();
    mailer.send(&second).await.unwrap();
    mailer.send(&first).await.unwrap();

    let mut names: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "earned-2@rewards.shop.example.eml",
            "welcome-1@rewards.shop.example.eml"
        ]
    );
    let bytes = std::fs::read(outbox.join("welcome-1@rewards.shop.example.eml")).unwrap();
    assert_eq!(bytes, first.formatted());
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(parsed.subject(), Some("Welcome"));
    assert_eq!(parsed.text_body_count(), 1);
    assert_eq!(parsed.html_body_count(), 1);
}
