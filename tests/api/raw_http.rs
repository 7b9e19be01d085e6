//! Requests actix-http refuses before our app sees them (an unreadable request line, a request
//! head too large), sent over a raw TCP connection: they get the one JSON error shape too, and
//! ordinary requests on a kept-alive connection are untouched by the connection wrapper.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or resets it, having left bytes unread).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the connection is still open; answer: {}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Splits one response into its head (lower-cased) and its JSON body, checking the
/// content-type and that content-length is the body's length.
fn json_response(answer: &str) -> (String, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").expect(answer);
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("\r\ncontent-type: application/json"),
        "{answer}"
    );
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect(answer)
        .parse()
        .unwrap();
    assert_eq!(length, body.len(), "{answer}");
    (head, serde_json::from_str(body).expect(answer))
}

#[tokio::test]
async fn a_malformed_request_line_gets_400_with_the_json_body() {
    let app = TestApp::spawn().await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"HELLO THERE\x01 NOT HTTP\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let (_, body) = json_response(&answer);
    assert_eq!(body["error"]["code"], "bad_request", "{answer}");
    assert_eq!(
        body["error"]["message"],
        "The request could not be read as HTTP."
    );
}

// actix-http 3.20 answers 431 itself to a request head past 128 KiB or with more than 96
// headers.
#[tokio::test]
async fn a_200_kb_header_or_100_headers_get_431_with_the_json_body() {
    let app = TestApp::spawn().await;
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let many = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..100)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    for request in [huge, many] {
        let mut stream = connect(&app).await;
        // The server answers and closes before it has read everything of the huge head.
        let _ = stream.write_all(request.as_bytes()).await;
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        let (_, body) = json_response(&answer);
        assert_eq!(
            body["error"]["code"], "request_header_fields_too_large",
            "{answer}"
        );
        assert_eq!(
            body["error"]["message"],
            "The request's headers are too large."
        );
    }
}

#[tokio::test]
async fn two_requests_on_one_kept_alive_connection_are_answered_unchanged() {
    let app = TestApp::spawn().await;
    let mut stream = connect(&app).await;
    for _ in 0..2 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0_u8; 4096];
        // One response: its head, then content-length bytes of body.
        let (head, length) = loop {
            let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer).into_owned();
            if let Some((head, _)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .to_ascii_lowercase()
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: ").map(str::to_owned))
                    .expect(&text)
                    .parse()
                    .unwrap();
                break (head.to_owned(), length);
            }
        };
        while answer.len() < head.len() + 4 + length {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0);
            answer.extend_from_slice(&buf[..n]);
        }
        assert_eq!(answer.len(), head.len() + 4 + length, "one response only");
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("connection: close"),
            "{head}"
        );
    }
}
