//! Where `SMTP_URL` points and how the connection is secured, read without keeping the
//! credentials: enough to describe the relay in logs and to rebuild its TLS settings.
//!
//! The forms are lettre's own (`AsyncSmtpTransport::from_url`), which builds the transport:
//! `smtp://host[:25]` plain, `smtp://host[:587]?tls=required` STARTTLS that must succeed,
//! `smtp://host[:587]?tls=opportunistic` STARTTLS when offered, `smtps://host[:465]` implicit TLS.
//! The default ports here mirror lettre's so the description names the port really used.

use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{SMTP_PORT, SUBMISSIONS_PORT, SUBMISSION_PORT};

use super::MailerError;

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No TLS at all: only for a relay on the same host or network.
    Plain,
    /// STARTTLS, and no mail (nor password) goes out if the server does not offer it.
    StartTlsRequired,
    /// STARTTLS when the server offers it, plain otherwise (open to downgrade).
    StartTlsOpportunistic,
    /// TLS from the first byte (`smtps://`, usually port 465).
    ImplicitTls,
}

/// The relay's address and security, without user name or password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    /// Reads an `SMTP_URL`. Errors never quote the value: it may hold a password.
    pub fn parse(smtp_url: &str) -> Result<Self, MailerError> {
        let url = url::Url::parse(smtp_url)
            .map_err(|_| MailerError::Url("not a URL like smtp://USER:PASS@HOST:PORT".into()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| MailerError::Url("no host".into()))?
            .to_owned();
        let mut tls = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" if tls.is_none() => tls = Some(value.into_owned()),
                "tls" => return Err(MailerError::Url("tls= is given twice".into())),
                other => {
                    return Err(MailerError::Url(format!(
                        "unknown parameter {other:?} (only tls=required or tls=opportunistic)"
                    )))
                }
            }
        }
        let security = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => Security::Plain,
            ("smtp", Some("required")) => Security::StartTlsRequired,
            ("smtp", Some("opportunistic")) => Security::StartTlsOpportunistic,
            ("smtps", None) => Security::ImplicitTls,
            ("smtp", Some(other)) => {
                return Err(MailerError::Url(format!(
                    "tls={other:?}: expected tls=required or tls=opportunistic"
                )))
            }
            ("smtps", Some(_)) => {
                return Err(MailerError::Url(
                    "smtps:// is TLS from the start; tls= applies to smtp:// only".into(),
                ))
            }
            (scheme, _) => {
                return Err(MailerError::Url(format!(
                    "scheme {scheme:?}: expected smtp:// or smtps://"
                )))
            }
        };
        let default_port = match security {
            Security::Plain => SMTP_PORT,
            Security::StartTlsRequired | Security::StartTlsOpportunistic => SUBMISSION_PORT,
            Security::ImplicitTls => SUBMISSIONS_PORT,
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
        })
    }

    /// "smtp to mail.example:587 (STARTTLS required)", for logs and the home page.
    pub fn describe(&self) -> String {
        let security = match self.security {
            Security::Plain => "plain, no TLS",
            Security::StartTlsRequired => "STARTTLS required",
            Security::StartTlsOpportunistic => "STARTTLS if offered",
            Security::ImplicitTls => "implicit TLS",
        };
        format!("smtp to {}:{} ({security})", self.host, self.port)
    }

    /// The TLS settings lettre derives from the URL, with one more trusted root certificate
    /// (PEM) beside the public ones. `None` for a plain connection, which has no TLS to adjust.
    pub fn tls_trusting(&self, root_pem: &[u8]) -> Result<Option<Tls>, MailerError> {
        let parameters = || {
            let root = Certificate::from_pem(root_pem)
                .map_err(|e| MailerError::Tls(format!("root certificate: {e}")))?;
            TlsParameters::builder(self.host.clone())
                .add_root_certificate(root)
                .build()
                .map_err(|e| MailerError::Tls(e.to_string()))
        };
        Ok(match self.security {
            Security::Plain => None,
            Security::StartTlsRequired => Some(Tls::Required(parameters()?)),
            Security::StartTlsOpportunistic => Some(Tls::Opportunistic(parameters()?)),
            Security::ImplicitTls => Some(Tls::Wrapper(parameters()?)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    #[test]
    fn each_form_reads_its_security_and_default_port() {
        let cases = [
            ("smtp://relay.example", Security::Plain, 25),
            (
                "smtp://u:p@relay.example?tls=required",
                Security::StartTlsRequired,
                587,
            ),
            (
                "smtp://relay.example:2525?tls=opportunistic",
                Security::StartTlsOpportunistic,
                2525,
            ),
            ("smtps://u:p@relay.example", Security::ImplicitTls, 465),
            (
                "smtps://relay.example:4650/ehlo.example",
                Security::ImplicitTls,
                4650,
            ),
        ];
        for (url, security, port) in cases {
            let endpoint = parsed(url);
            assert_eq!(
                (endpoint.security, endpoint.port),
                (security, port),
                "{url}"
            );
            assert_eq!(endpoint.host, "relay.example");
        }
    }

    #[test]
    fn the_description_names_host_port_and_tls_but_no_credentials() {
        let text = parsed("smtp://apikey:s3cr%40t@relay.example:587?tls=required").describe();
        assert_eq!(text, "smtp to relay.example:587 (STARTTLS required)");
        assert!(!text.contains("apikey") && !text.contains("s3cr"));
    }

    #[test]
    fn bad_urls_are_refused_without_quoting_them() {
        for url in [
            "smtp://user:hunter2@",
            "smtp://user:hunter2@relay.example?tls=yes",
            "smtps://user:hunter2@relay.example?tls=required",
            "smtp://user:hunter2@relay.example?tls=required&tls=opportunistic",
            "smtp://user:hunter2@relay.example?starttls=1",
            "imap://user:hunter2@relay.example",
            "user:hunter2 relay.example",
        ] {
            let error = Endpoint::parse(url).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{url}: {error}");
        }
    }

    #[test]
    fn a_plain_connection_has_no_tls_to_trust_a_root_with() {
        let endpoint = parsed("smtp://relay.example");
        assert!(endpoint.tls_trusting(b"not even PEM").unwrap().is_none());
    }
}
