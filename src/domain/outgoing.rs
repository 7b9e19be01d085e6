//! Outgoing webhooks, as Standard Webhooks has them: which topics a subscription may name, which
//! URLs it may point at, how a message is signed, and when a failed message is tried again.
//! Pure: `services::outgoing` stores, sends and schedules.
//!
//! Retries are computed from stored times only (when the message was made, when it was last
//! tried), never from a sleeping timer, so a restart changes nothing and a test can move a
//! message a day into the past instead of waiting a day.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Utc};

/// What a subscription can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    MemberCreated,
    PointsChanged,
    TierChanged,
    RewardIssued,
    ReferralCompleted,
}

impl Topic {
    pub const ALL: [Topic; 5] = [
        Self::MemberCreated,
        Self::PointsChanged,
        Self::TierChanged,
        Self::RewardIssued,
        Self::ReferralCompleted,
    ];

    /// The contract's name of the topic (also the envelope's `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemberCreated => "member.created",
            Self::PointsChanged => "points.changed",
            Self::TierChanged => "tier.changed",
            Self::RewardIssued => "reward.issued",
            Self::ReferralCompleted => "referral.completed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Why a subscription was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("url: {0}")]
    BadUrl(String),
    #[error("unknown topic {0:?}; the topics are member.created, points.changed, tier.changed, reward.issued, referral.completed")]
    UnknownTopic(String),
    #[error("topics: name at least one topic")]
    NoTopics,
}

/// The longest URL accepted (what browsers and proxies reliably carry).
const MAX_URL_LEN: usize = 2048;

/// Checks a receiver URL: `https://` anywhere, or `http://` only to this machine (loopback),
/// for tests and self-hosters whose receiver runs beside the app. Plain HTTP across a network
/// would expose the signed bodies (members' e-mails, balances) to anyone on the path.
pub fn parse_url(raw: &str) -> Result<url::Url, SubscriptionError> {
    let bad = |why: &str| SubscriptionError::BadUrl(why.to_owned());
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(bad("longer than 2048 characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("not an absolute URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(bad("has no host")),
    };
    if let Some(ip) = literal_ip(&url) {
        if !may_receive(ip) {
            return Err(bad(
                "points into a private network (10/8, 172.16/12, 192.168/16, link-local, …)",
            ));
        }
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad(
            "must be https:// (plain http:// is accepted only to localhost)",
        )),
        other => Err(bad(&format!("scheme {other}: must be https://"))),
    }
}

/// The URL's host when it is an IP address rather than a name.
pub fn literal_ip(url: &url::Url) -> Option<std::net::IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(_) => None,
    }
}

/// Whether a message may be sent to `ip`: a public address, or this machine (loopback, for
/// self-hosters and tests). Addresses of private networks, link-local ones (a cloud's metadata
/// service at 169.254.169.254), carrier-grade NAT, unique-local IPv6 and the like are refused,
/// so an owner's subscription cannot make the app reach into the network it runs in.
pub fn may_receive(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || !(v4.is_private()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    || v4.is_broadcast()
                    || v4.is_multicast()
                    || v4.is_documentation()
                    || a == 0
                    || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                    || (a == 198 && (b == 18 || b == 19)) // benchmarking
                    || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return may_receive(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || !(v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00 // unique local (Fly's private network)
                    || (first & 0xffc0) == 0xfe80) // link-local
        }
    }
}

/// Checks the topics a subscription names: at least one, each known; repeats are dropped and
/// the order kept.
pub fn parse_topics(names: &[String]) -> Result<Vec<Topic>, SubscriptionError> {
    let mut topics = Vec::new();
    for name in names {
        let topic = Topic::parse(name.trim())
            .ok_or_else(|| SubscriptionError::UnknownTopic(name.clone()))?;
        if !topics.contains(&topic) {
            topics.push(topic);
        }
    }
    if topics.is_empty() {
        return Err(SubscriptionError::NoTopics);
    }
    Ok(topics)
}

/// Standard Webhooks' prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The secret shown to the owner for a signing key: `whsec_` and the key in base64.
pub fn secret_of_key(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The signing key of a `whsec_…` secret (the decoded bytes).
pub fn key_of_secret(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX)?)
        .ok()
        .filter(|k| !k.is_empty())
}

/// `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn signature(key: &[u8], message_id: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{message_id}.{timestamp}.{body}");
    let mac = crate::crypto::hmac_sha256(key, signed.as_bytes());
    format!("v1,{}", STANDARD.encode(mac))
}

/// The body every message carries: `{"type", "timestamp", "data"}`.
pub fn envelope(topic: Topic, at: NaiveDateTime, data: serde_json::Value) -> serde_json::Value {
    let timestamp: DateTime<Utc> = at.and_utc();
    serde_json::json!({
        "type": topic.as_str(),
        "timestamp": timestamp.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": data,
    })
}

/// How long a message is retried before its subscription is disabled.
pub const GIVE_UP_AFTER: Duration = Duration::hours(24);

/// Seconds before the next try, after the first, second, … failed one; the last repeats.
/// The first retry comes within 30 s (the contract), later ones spread out so a receiver that
/// is down for hours is not hammered.
const RETRY_DELAYS: [i64; 9] = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800];

/// What follows a failed scheduled attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(NaiveDateTime),
    /// Tried for [`GIVE_UP_AFTER`]: the message fails and its subscription is disabled.
    GiveUp,
}

/// The next try of a message made at `created_at` whose attempt number `attempts` (1-based)
/// failed at `attempted_at`. The last try falls exactly at the 24 h mark.
pub fn after_failure(
    created_at: NaiveDateTime,
    attempts: i32,
    attempted_at: NaiveDateTime,
) -> AfterFailure {
    let deadline = created_at + GIVE_UP_AFTER;
    if attempted_at >= deadline {
        return AfterFailure::GiveUp;
    }
    let index = usize::try_from(attempts.max(1) - 1).unwrap_or(0);
    let delay = RETRY_DELAYS
        .get(index)
        .or(RETRY_DELAYS.last())
        .copied()
        .unwrap_or(28_800);
    AfterFailure::RetryAt((attempted_at + Duration::seconds(delay)).min(deadline))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_networks_are_refused_and_public_or_loopback_addresses_kept() {
        for refused in [
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::",
            "fdaa:0:1::3",
            "fe80::1",
            "::ffff:10.1.2.3",
        ] {
            let ip: std::net::IpAddr = refused.parse().unwrap();
            assert!(!may_receive(ip), "{refused}");
        }
        for kept in [
            "127.0.0.1",
            "::1",
            "93.184.216.34",
            "2606:4700::1111",
            "172.32.0.1",
        ] {
            let ip: std::net::IpAddr = kept.parse().unwrap();
            assert!(may_receive(ip), "{kept}");
        }
        assert!(parse_url("https://10.0.0.5/hook").is_err());
        assert!(parse_url("https://[fe80::1]/hook").is_err());
        assert!(parse_url("https://169.254.169.254/latest/meta-data").is_err());
        assert!(parse_url("https://93.184.216.34/hook").is_ok());
        assert!(parse_url("http://127.0.0.1:9000/hook").is_ok());
    }

    fn t(seconds: i64) -> NaiveDateTime {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn https_anywhere_http_only_to_loopback() {
        assert!(parse_url("https://hooks.example.com/in?x=1").is_ok());
        assert!(parse_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(parse_url("http://localhost/hook").is_ok());
        assert!(parse_url("http://[::1]:8080/").is_ok());
        for bad in [
            "http://hooks.example.com/in",
            "http://10.0.0.1/in",
            "ftp://example.com/",
            "not a url",
            "/relative",
            "https://user:pw@example.com/",
            "https://example.com/#frag",
            "",
        ] {
            assert!(
                matches!(parse_url(bad), Err(SubscriptionError::BadUrl(_))),
                "{bad}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(3000));
        assert!(parse_url(&long).is_err());
    }

    #[test]
    fn topics_are_known_and_deduplicated() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_topics(&names(&[
                "points.changed",
                "member.created",
                "points.changed"
            ])),
            Ok(vec![Topic::PointsChanged, Topic::MemberCreated])
        );
        assert_eq!(
            parse_topics(&names(&["points.changed", "order.paid"])),
            Err(SubscriptionError::UnknownTopic("order.paid".into()))
        );
        assert_eq!(parse_topics(&[]), Err(SubscriptionError::NoTopics));
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
        }
    }

    #[test]
    fn secrets_round_trip_to_their_key() {
        let key = [7u8; 32];
        let secret = secret_of_key(&key);
        assert!(secret.starts_with("whsec_"));
        assert_eq!(key_of_secret(&secret), Some(key.to_vec()));
        assert_eq!(key_of_secret("whsec_"), None);
        assert_eq!(key_of_secret("nope"), None);
    }

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signature_matches_the_reference_example() {
        let key = key_of_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn the_first_retry_is_within_30_seconds_and_later_ones_spread_out() {
        let made = t(0);
        assert_eq!(after_failure(made, 1, t(0)), AfterFailure::RetryAt(t(5)));
        assert_eq!(after_failure(made, 2, t(5)), AfterFailure::RetryAt(t(35)));
        let mut at = t(0);
        let mut tries = 1;
        let mut gaps = Vec::new();
        while let AfterFailure::RetryAt(next) = after_failure(made, tries, at) {
            gaps.push((next - at).num_seconds());
            assert!(next > at);
            at = next;
            tries += 1;
            assert!(tries < 100, "never gives up");
        }
        // Tried for a full day, the last try at the mark, then given up.
        assert_eq!(at, made + GIVE_UP_AFTER);
        assert!(gaps.windows(2).take(8).all(|w| w[0] <= w[1]), "{gaps:?}");
        assert!(gaps.iter().all(|g| *g <= 28_800));
    }

    #[test]
    fn a_message_older_than_a_day_is_given_up_after_its_next_failure() {
        let made = t(0);
        let late = made + Duration::hours(25);
        assert_eq!(after_failure(made, 3, late), AfterFailure::GiveUp);
        assert_eq!(
            after_failure(made, 3, made + Duration::hours(23)),
            AfterFailure::RetryAt(made + Duration::hours(23) + Duration::seconds(120))
        );
    }

    #[test]
    fn the_envelope_names_its_topic_and_time() {
        let body = envelope(Topic::TierChanged, t(0), serde_json::json!({"to": "gold"}));
        assert_eq!(body["type"], "tier.changed");
        assert_eq!(body["timestamp"], "2027-01-15T08:00:00Z");
        assert_eq!(body["data"]["to"], "gold");
    }
}
