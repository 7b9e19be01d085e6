//! Sending a built message: pooled SMTP through lettre when `SMTP_URL` is set, `.eml` files in
//! `DATA_DIR/outbox/` otherwise.
//!
//! `send` says whether a failure is worth retrying (`SendError::transient`): the delivery job
//! backs off and tries again, or records the message as failed. The URL and its credentials are
//! never logged nor put in an error; `describe` names the relay for logs.

mod eml_file;
mod endpoint;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::{self, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

pub use endpoint::{Endpoint, Security};

/// Sends in flight to the relay at once, each on its own connection. Throughput is this many
/// connections × messages per connection, and a connection does few: lettre 0.11.23 leaves
/// Nagle's algorithm on and writes the message and the final `.` separately, so each message
/// waits for the relay's delayed ACK (40 ms on Linux), about 22 messages/s per connection even on
/// loopback (upstream fix: lettre PR #1159, not yet released). 16 give ~360/s. lettre's pool does
/// not bound connections, only the idle ones it keeps, so `SmtpRelay` bounds the sends in flight
/// itself; the relay sees up to about `SMTP_MAX_IN_FLIGHT + SMTP_MAX_IDLE` connections (32 in the
/// benchmark), under the per-client limits relays enforce (Postfix: 50), past which they answer
/// 421 and every send becomes a retry.
pub const SMTP_MAX_IN_FLIGHT: u32 = 16;

/// Idle connections the pool keeps. lettre hands a connection back to its pool in a spawned task
/// after the send returns, so a send that starts at once may find the pool empty and connect
/// again; with room for only `SMTP_MAX_IN_FLIGHT` idle ones, the pool would then close one
/// connection for each it opens (in the benchmark: 127 connections for 2000 messages and a
/// quarter less throughput). Twice the sends in flight keeps those extra connections for reuse.
pub const SMTP_MAX_IDLE: u32 = 2 * SMTP_MAX_IN_FLIGHT;

/// How long a connection may sit unused in the pool. Relays close idle connections after their
/// own timeout (often a minute or less) and lettre would then find them dead at the next send
/// and reconnect anyway; 30 s keeps connections warm across a delivery batch without holding the
/// relay's slots between batches.
pub const SMTP_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Limit on connecting and on each exchange with the relay (lettre's default is 60 s). A relay
/// that stalls fails the send as transient, so the message is retried later instead of holding
/// a delivery worker.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where built messages go.
#[derive(Clone)]
pub enum Mailer {
    /// A relay reached over pooled SMTP connections.
    Smtp(SmtpRelay),
    /// One `.eml` file per message in this directory (`DATA_DIR/outbox`).
    Files(PathBuf),
}

/// The pooled SMTP transport, with what is needed to describe it and bound its sends in flight.
#[derive(Clone)]
pub struct SmtpRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    endpoint: Endpoint,
    /// One permit per send in flight.
    in_flight: Arc<Semaphore>,
}

/// A configuration the mailer cannot use. Never quotes `SMTP_URL`, which may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailerError {
    #[error("SMTP_URL: {0}")]
    Url(String),
    #[error("SMTP TLS settings: {0}")]
    Tls(String),
}

/// Why a message was not handed over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// True when trying again later may succeed: the relay was unreachable, dropped the
    /// connection, timed out, answered 4xx, or refused our credentials or TLS (a configuration
    /// the operator fixes; the message itself is fine). False for a 5xx about the message or
    /// its recipient, which no retry will change.
    pub transient: bool,
    /// What went wrong, with the relay's reply when there was one. No credentials.
    pub message: String,
}

impl Mailer {
    /// The mailer the configuration asks for: SMTP when `SMTP_URL` is set, files in
    /// `{data_dir}/outbox` otherwise. The outbox directory is created at the first write.
    ///
    /// With SMTP, call it inside the Tokio runtime that will send: lettre's pool spawns its
    /// idle-connection reaper there, and pooled connections belong to that runtime's reactor.
    pub fn from_config(
        smtp_url: Option<&SecretString>,
        data_dir: &Path,
    ) -> Result<Self, MailerError> {
        match smtp_url {
            Some(url) => Self::smtp(url, None),
            None => Ok(Self::Files(data_dir.join("outbox"))),
        }
    }

    /// SMTP that also trusts `root_pem` (a PEM certificate) for the relay's TLS certificate,
    /// beside the public roots: for tests against a relay with a certificate of their own.
    pub fn smtp_with_root_cert(
        smtp_url: &SecretString,
        root_pem: &[u8],
    ) -> Result<Self, MailerError> {
        Self::smtp(smtp_url, Some(root_pem))
    }

    fn smtp(smtp_url: &SecretString, root_pem: Option<&[u8]>) -> Result<Self, MailerError> {
        let url = smtp_url.expose_secret();
        let endpoint = Endpoint::parse(url)?;
        // lettre reads the credentials and the EHLO name from the URL; its error could only
        // repeat what `Endpoint::parse` accepted, so it is not passed on.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| MailerError::Url("not usable as an SMTP relay URL".into()))?;
        if let Some(tls) = root_pem
            .map(|pem| endpoint.tls_trusting(pem))
            .transpose()?
            .flatten()
        {
            builder = builder.tls(tls);
        }
        let transport = builder
            .timeout(Some(SMTP_TIMEOUT))
            .pool_config(
                PoolConfig::new()
                    .min_idle(0)
                    .max_size(SMTP_MAX_IDLE)
                    .idle_timeout(SMTP_IDLE_TIMEOUT),
            )
            .build();
        Ok(Self::Smtp(SmtpRelay {
            transport,
            endpoint,
            in_flight: Arc::new(Semaphore::new(SMTP_MAX_IN_FLIGHT as usize)),
        }))
    }

    /// Hands one message over: to the relay (done at its `250` after DATA), or to the outbox
    /// directory (done once the file is durable).
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(relay) => relay.send(message).await,
            Self::Files(dir) => {
                let formatted = message.formatted();
                let name = eml_file::file_name(message.headers().get_raw("Message-ID"), &formatted);
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || {
                    eml_file::write_atomically(&dir, &name, &formatted).map_err(|e| SendError {
                        transient: true,
                        message: format!("writing {name} to {}: {e}", dir.display()),
                    })
                })
                .await
                .map_err(|e| SendError {
                    transient: true,
                    message: format!("writing to the outbox: {e}"),
                })?
            }
        }
    }

    /// "smtp to relay.example:587 (STARTTLS required)" or "files in data/outbox", for logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(relay) => relay.endpoint.describe(),
            Self::Files(dir) => format!("files in {}", dir.display()),
        }
    }
}

/// Shows what `describe` shows: the transport's own `Debug` would list its settings.
impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Mailer").field(&self.describe()).finish()
    }
}

impl SmtpRelay {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let _permit = self.in_flight.acquire().await.map_err(|_| SendError {
            transient: true,
            message: "the SMTP mailer is shutting down".into(),
        })?;
        self.transport
            .send_raw(message.envelope(), &message.formatted())
            .await
            .map(drop)
            .map_err(|e| classify(&e))
    }
}

/// Sorts a lettre failure into retry-later or give-up.
fn classify(error: &smtp::Error) -> SendError {
    let transient = match error.status() {
        Some(code) => is_transient_reply(u16::from(code)),
        // No reply code: refused or dropped connection, timeout, TLS, an unparsable reply or
        // a relay that lacks STARTTLS/AUTH. All are about the relay, not this message.
        None => true,
    };
    SendError {
        transient,
        message: error.to_string(),
    }
}

/// 4xx replies are temporary by definition (RFC 5321 §4.2.1). So are, for us, the 5xx replies
/// about our own authentication (RFC 4954: 530 required, 534 mechanism too weak, 535 invalid
/// credentials; 538 encryption required): a wrong password in `SMTP_URL` would otherwise fail
/// every queued message for good, although each goes through once the operator fixes it.
fn is_transient_reply(code: u16) -> bool {
    (400..500).contains(&code) || matches!(code, 530 | 534 | 535 | 538)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_hundreds_and_our_own_authentication_failures_are_retried() {
        for code in [421, 450, 451, 452, 454, 530, 534, 535, 538] {
            assert!(is_transient_reply(code), "{code}");
        }
        for code in [500, 501, 550, 551, 552, 553, 554] {
            assert!(!is_transient_reply(code), "{code}");
        }
    }

    #[test]
    fn without_smtp_url_mail_goes_to_the_outbox_directory() {
        let mailer = Mailer::from_config(None, Path::new("/srv/boomerang")).unwrap();
        assert!(matches!(&mailer, Mailer::Files(dir) if dir == Path::new("/srv/boomerang/outbox")));
        assert_eq!(mailer.describe(), "files in /srv/boomerang/outbox");
    }

    #[tokio::test]
    async fn neither_description_nor_debug_shows_the_credentials() {
        let url = SecretString::from("smtps://mailer:pa55w0rd@relay.example");
        let mailer = Mailer::from_config(Some(&url), Path::new("data")).unwrap();
        for shown in [mailer.describe(), format!("{mailer:?}")] {
            assert!(
                shown.contains("relay.example:465 (implicit TLS)"),
                "{shown}"
            );
            assert!(
                !shown.contains("pa55w0rd") && !shown.contains("mailer:"),
                "{shown}"
            );
        }
    }

    #[test]
    fn an_unusable_url_is_refused_without_quoting_it() {
        let url = SecretString::from("smtp://mailer:pa55w0rd@relay.example?tls=sometimes");
        let error = Mailer::from_config(Some(&url), Path::new("data")).unwrap_err();
        assert!(!error.to_string().contains("pa55w0rd"), "{error}");
    }
}
