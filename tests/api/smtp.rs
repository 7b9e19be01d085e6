//! A real SMTP server on a loopback ephemeral port (mailin-embedded), recording what arrives, and
//! the ways a relay lets a sender down: refusing a recipient, deferring DATA, dropping the
//! connection in the middle of the message. With `Behaviour::StartTls` it offers STARTTLS with a
//! certificate from a throwaway CA (`ca_pem`).
//!
//! The server runs on its own threads for the rest of the test process (mailin has no stop).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use mailin_embedded::{response, Handler, Response, Server, SslConfig};
use parking_lot::Mutex;

/// How the listener treats what it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Accepts every message.
    Accept,
    /// Answers every RCPT with 550 (mailbox unavailable): a permanent refusal.
    RefuseRecipients,
    /// Answers DATA with 451 (local error): a transient refusal.
    DeferData,
    /// Closes the connection, without a reply, once part of the message has come in.
    DropMidData,
    /// Accepts every message, offering STARTTLS with a certificate signed by `ca_pem`.
    StartTls,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Envelope sender (MAIL FROM).
    pub from: String,
    /// Envelope recipients (RCPT TO).
    pub to: Vec<String>,
    /// The message as sent after DATA, dot-unstuffed, CRLF line ends.
    pub raw: Vec<u8>,
}

pub struct SmtpListener {
    /// Where clients connect (a relay that cuts connections, for `DropMidData`).
    pub addr: SocketAddr,
    /// The CA certificate (PEM) to trust for `StartTls`.
    pub ca_pem: Option<String>,
    behaviour: Behaviour,
    log: Arc<Log>,
    /// Holds the certificate and key files mailin reads.
    _certificates: Option<tempfile::TempDir>,
}

#[derive(Default)]
struct Log {
    received: Mutex<Vec<ReceivedMail>>,
    greetings: AtomicUsize,
    messages_begun: AtomicUsize,
}

impl SmtpListener {
    pub fn start(behaviour: Behaviour) -> Self {
        // mailin's rustls and lettre's may differ in crypto providers compiled in; one process
        // default makes rustls's choice explicit.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let log = Arc::new(Log::default());
        let mut server = Server::new(Recorder {
            behaviour,
            log: Arc::clone(&log),
            current: None,
        });
        // Every pooled connection holds one server thread while it is open.
        server.with_name("localhost").with_num_threads(32);
        let (ca_pem, certificates) = if behaviour == Behaviour::StartTls {
            let (ca_pem, dir, ssl) = starttls_certificate();
            server.with_ssl(ssl).expect("STARTTLS certificate");
            (Some(ca_pem), Some(dir))
        } else {
            (None, None)
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = listener.local_addr().unwrap();
        server.with_tcp_listener(listener);
        std::thread::spawn(move || {
            if let Err(e) = server.serve() {
                eprintln!("the test SMTP listener stopped: {e}");
            }
        });
        let addr = if behaviour == Behaviour::DropMidData {
            relay_that_cuts_mid_data(server_addr)
        } else {
            server_addr
        };
        Self {
            addr,
            ca_pem,
            behaviour,
            log,
            _certificates: certificates,
        }
    }

    /// The `SMTP_URL` for this listener: STARTTLS required for `StartTls`, plain otherwise.
    /// `127.0.0.1` is in the certificate, so TLS checks the name as it would for a relay.
    pub fn url(&self) -> String {
        let tls = if self.behaviour == Behaviour::StartTls {
            "?tls=required"
        } else {
            ""
        };
        format!("smtp://127.0.0.1:{}{tls}", self.addr.port())
    }

    /// The messages received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.log.received.lock().clone()
    }

    /// How many EHLO/HELO greetings the server has answered: one per connection without TLS,
    /// two with STARTTLS (the client greets again over TLS).
    pub fn greetings(&self) -> usize {
        self.log.greetings.load(Ordering::SeqCst)
    }

    /// How many DATA commands the server has accepted, whether or not the message then ended.
    pub fn messages_begun(&self) -> usize {
        self.log.messages_begun.load(Ordering::SeqCst)
    }
}

/// mailin's per-connection handler (cloned for each connection).
#[derive(Clone)]
struct Recorder {
    behaviour: Behaviour,
    log: Arc<Log>,
    current: Option<ReceivedMail>,
}

impl Handler for Recorder {
    fn helo(&mut self, _ip: std::net::IpAddr, _domain: &str) -> Response {
        self.log.greetings.fetch_add(1, Ordering::SeqCst);
        response::OK
    }

    fn rcpt(&mut self, _to: &str) -> Response {
        match self.behaviour {
            Behaviour::RefuseRecipients => response::NO_MAILBOX,
            _ => response::OK,
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        if self.behaviour == Behaviour::DeferData {
            return response::INTERNAL_ERROR;
        }
        self.log.messages_begun.fetch_add(1, Ordering::SeqCst);
        self.current = Some(ReceivedMail {
            from: from.to_owned(),
            to: to.to_vec(),
            raw: Vec::new(),
        });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = &mut self.current {
            mail.raw.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(mail) = self.current.take() {
            self.log.received.lock().push(mail);
        }
        response::OK
    }
}

/// A CA, and a certificate it signed for `localhost` and `127.0.0.1`, in files for mailin.
fn starttls_certificate() -> (String, tempfile::TempDir, SslConfig) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("server.pem");
    let key_path = dir.path().join("server.key");
    std::fs::write(&cert_path, server_cert.pem()).unwrap();
    std::fs::write(&key_path, server_key.serialize_pem()).unwrap();
    let ssl = SslConfig::SelfSigned {
        cert_path: cert_path.display().to_string(),
        key_path: key_path.display().to_string(),
    };
    (ca.pem(), dir, ssl)
}

/// A TCP relay in front of `server` that passes the conversation through until the client has
/// sent DATA and the first bytes of the message, passes half of those on, then closes both
/// connections: the server never sees the end of the message and the client never gets a reply.
fn relay_that_cuts_mid_data(server: SocketAddr) -> SocketAddr {
    let front = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = front.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in front.incoming().flatten() {
            if let Ok(upstream) = TcpStream::connect(server) {
                std::thread::spawn(move || pass_until_mid_data(client, upstream));
            }
        }
    });
    addr
}

fn pass_until_mid_data(mut client: TcpStream, mut upstream: TcpStream) {
    let (Ok(mut replies), Ok(mut to_client)) = (upstream.try_clone(), client.try_clone()) else {
        return;
    };
    std::thread::spawn(move || std::io::copy(&mut replies, &mut to_client));
    let mut commands = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        let n = match client.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let bytes = &chunk[..n];
        if commands.windows(6).any(|w| w == b"DATA\r\n") {
            let _ = upstream.write_all(&bytes[..n / 2]);
            break;
        }
        if upstream.write_all(bytes).is_err() {
            break;
        }
        commands.extend_from_slice(bytes);
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
}
