//! One signed POST of a message to its subscription's URL.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::now;
use crate::domain::outgoing::{literal_ip, may_receive, signature};

/// How long one attempt may take, connecting included; longer counts as a failure and is
/// retried like a non-2xx answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// One client per process: its connection pool is shared by every delivery.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            // A redirect is an answer that is not 2xx: following it would send a signed body
            // somewhere the owner never subscribed.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Boomerang-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(std::sync::Arc::new(PublicOnly))
            .build()
            .unwrap_or_default()
    })
}

/// Resolves a receiver's name and keeps only the addresses a message may go to
/// ([`may_receive`]): a name that was public when subscribed may point into a private network
/// later (DNS rebinding), so the check is made at every connection, not only at subscription.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::task::spawn_blocking(move || {
                use std::net::ToSocketAddrs;
                (host.as_str(), 0).to_socket_addrs().map(Vec::from_iter)
            })
            .await??;
            let allowed: Vec<std::net::SocketAddr> =
                found.into_iter().filter(|a| may_receive(a.ip())).collect();
            if allowed.is_empty() {
                return Err(
                    "the receiver's name resolves only to private-network addresses".into(),
                );
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    /// Why it failed; `None` when a 2xx came back.
    pub error: Option<String>,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }

    /// An attempt that could not even be made (the secret does not open).
    pub fn not_sent(why: &str) -> Self {
        Self {
            attempted_at: now(),
            status_code: None,
            duration_ms: 0,
            error: Some(why.to_owned()),
        }
    }
}

/// POSTs `body` with the Standard Webhooks headers, signed with `key` at the attempt's time.
pub async fn send(url: &str, key: &[u8], message_id: &str, body: &str) -> Outcome {
    let attempted_at = now();
    // An address in the URL itself is not resolved, so the resolver's check does not see it.
    let private = url::Url::parse(url)
        .ok()
        .and_then(|u| literal_ip(&u))
        .is_some_and(|ip| !may_receive(ip));
    if private {
        return Outcome {
            error: Some("the receiver's address is in a private network".into()),
            ..Outcome::not_sent("")
        };
    }
    let timestamp = attempted_at.and_utc().timestamp();
    let started = Instant::now();
    let answer = client()
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature(key, message_id, timestamp, body),
        )
        .body(body.to_owned())
        .send()
        .await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status_code, error) = match answer {
        Ok(resp) if resp.status().is_success() => (Some(i32::from(resp.status().as_u16())), None),
        Ok(resp) => (
            Some(i32::from(resp.status().as_u16())),
            Some(format!("the receiver answered {}", resp.status())),
        ),
        Err(e) if e.is_timeout() => (
            None,
            Some(format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
        ),
        Err(e) => (
            None,
            Some(format!("cannot reach the receiver: {}", error_chain(&e))),
        ),
    };
    Outcome {
        attempted_at,
        status_code,
        duration_ms,
        error,
    }
}

/// reqwest's own message says only "error sending request"; the cause says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
