//! The connection's byte stream, with JSON bodies put into the few error responses actix-http
//! writes by itself.
//!
//! WHY: when a request head cannot be parsed (malformed request line, headers too large) or
//! does not arrive in time, actix-http's HTTP/1 dispatcher answers 400, 431 or 408 with an
//! empty body and closes the connection, before any app code or middleware runs. There is no
//! hook to change those responses. Our own app never answers an error without a JSON body, so
//! a bodiless 400/408/431 at the start of a write can only be one of the dispatcher's: this
//! wrapper recognises it and writes the same status with the one error shape instead.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{error_body, ErrorCode};

/// A connection whose writes pass through unchanged, except the dispatcher's bodiless errors.
pub struct Wire<T> {
    inner: T,
    /// The rewritten response still to be written, and how much of it has been.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> Wire<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> Wire<T> {
    /// Writes what is left of a rewritten response before anything else.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(rest) = self
            .pending
            .get(self.sent..)
            .filter(|rest| !rest.is_empty())
        {
            match ready!(Pin::new(&mut self.inner).poll_write(cx, rest))? {
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                written => self.sent += written,
            }
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Wire<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Wire<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        match with_json_body(buf) {
            Some(response) => {
                self.pending = response;
                self.sent = 0;
                // The caller's bytes are taken (it must not write them again); what is not
                // written now goes out on the next write, flush or shutdown.
                if let Poll::Ready(Err(e)) = self.poll_drain(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut self.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The code and message for a status actix-http answers by itself.
fn dispatcher_error(status: &[u8]) -> Option<(ErrorCode, &'static str)> {
    match status {
        b"400" => Some((
            ErrorCode::BadRequest,
            "The request could not be read as HTTP.",
        )),
        b"408" => Some((
            ErrorCode::RequestTimeout,
            "The request's headers did not arrive in time.",
        )),
        b"431" => Some((
            ErrorCode::RequestHeaderFieldsTooLarge,
            "The request's headers are too large.",
        )),
        _ => None,
    }
}

/// If `buf` is exactly one bodiless 400/408/431 response (`content-length: 0`), the same
/// response with a JSON error body; otherwise `None`.
pub fn with_json_body(buf: &[u8]) -> Option<Vec<u8>> {
    let status = buf.strip_prefix(b"HTTP/1.1 ")?.get(..3)?;
    let (code, message) = dispatcher_error(status)?;
    let head_len = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    // Anything after the head (a body, a further response) means this is not the dispatcher's
    // lone error: leave it alone.
    if head_len + 4 != buf.len() {
        return None;
    }
    let head = buf.get(..head_len)?;
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next()?;
    let mut headers = Vec::new();
    let mut bodiless = false;
    for line in lines {
        let (name, value) = split_header(line)?;
        if name.eq_ignore_ascii_case(b"content-length") {
            bodiless = value == b"0";
        } else if name.eq_ignore_ascii_case(b"content-type")
            || name.eq_ignore_ascii_case(b"transfer-encoding")
        {
            return None;
        } else {
            headers.push(line);
        }
    }
    if !bodiless {
        return None;
    }
    let body = error_body(code, message);
    let mut out = Vec::with_capacity(buf.len() + body.len() + 64);
    out.extend_from_slice(status_line);
    out.extend_from_slice(b"\r\n");
    for header in headers {
        out.extend_from_slice(header);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"content-type: application/json\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

/// A header line's name and trimmed value.
fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line.get(..colon)?;
    let value = line.get(colon + 1..)?.trim_ascii();
    Some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    const BARE_400: &[u8] =
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n\r\n";

    fn split(response: &[u8]) -> (String, serde_json::Value) {
        let text = String::from_utf8(response.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap();
        assert_eq!(length.parse::<usize>().unwrap(), body.len(), "{text}");
        (head.to_owned(), serde_json::from_str(body).unwrap())
    }

    #[test]
    fn a_bare_400_gets_the_json_body_and_keeps_its_other_headers() {
        let out = with_json_body(BARE_400).unwrap();
        let (head, body) = split(&out);
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("connection: close\r\n"), "{head}");
        assert!(head.contains("date: Mon, 30 Nov 2026"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(!head.contains("content-length: 0"), "{head}");
        assert_eq!(body["error"]["code"], "bad_request");
        assert_eq!(
            body["error"]["message"],
            "The request could not be read as HTTP."
        );
    }

    #[test]
    fn a_bare_431_and_408_get_their_own_codes() {
        let bare_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n";
        let (_, body) = split(&with_json_body(bare_431).unwrap());
        assert_eq!(body["error"]["code"], "request_header_fields_too_large");
        assert_eq!(
            body["error"]["message"],
            "The request's headers are too large."
        );
        let bare_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n";
        let (_, body) = split(&with_json_body(bare_408).unwrap());
        assert_eq!(body["error"]["code"], "request_timeout");
    }

    #[test]
    fn responses_that_are_not_a_bare_dispatcher_error_pass_unchanged() {
        let cases: [&[u8]; 7] = [
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ncontent-type: text/plain\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        ];
        for case in cases {
            assert!(
                with_json_body(case).is_none(),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
        assert!(with_json_body(&BARE_400[1..]).is_none());
        assert!(with_json_body(b"").is_none());
    }

    /// A peer that takes at most `chunk` bytes per write and is not ready every other call.
    struct Trickle {
        received: Vec<u8>,
        chunk: usize,
        ready: bool,
        shut: bool,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.ready = !self.ready;
            if !self.ready {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let n = buf.len().min(self.chunk);
            self.received.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.shut = true;
            Poll::Ready(Ok(()))
        }
    }

    /// Polls `f` until it is ready, as an executor woken at once would.
    fn block_on<R>(mut f: impl FnMut(&mut Context<'_>) -> Poll<R>) -> R {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..10_000 {
            if let Poll::Ready(r) = f(&mut cx) {
                return r;
            }
        }
        panic!("never ready");
    }

    /// Writes `buf` fully, as actix-http's dispatcher does: retrying the rest after partial
    /// writes and `Pending`.
    fn write_all(wire: &mut Wire<Trickle>, buf: &[u8]) {
        let mut written = 0;
        while written < buf.len() {
            written += block_on(|cx| Pin::new(&mut *wire).poll_write(cx, &buf[written..])).unwrap();
        }
    }

    fn trickle() -> Wire<Trickle> {
        Wire::new(Trickle {
            received: Vec::new(),
            chunk: 7,
            ready: false,
            shut: false,
        })
    }

    #[test]
    fn the_rewritten_error_goes_out_whole_through_partial_writes_and_flush() {
        let mut wire = trickle();
        write_all(&mut wire, BARE_400);
        block_on(|cx| Pin::new(&mut wire).poll_flush(cx)).unwrap();
        assert_eq!(wire.inner.received, with_json_body(BARE_400).unwrap());
    }

    #[test]
    fn the_rewritten_error_is_drained_before_shutdown() {
        let mut wire = trickle();
        write_all(&mut wire, BARE_400);
        block_on(|cx| Pin::new(&mut wire).poll_shutdown(cx)).unwrap();
        assert!(wire.inner.shut);
        assert_eq!(wire.inner.received, with_json_body(BARE_400).unwrap());
    }

    #[test]
    fn ordinary_responses_pass_through_byte_for_byte() {
        let mut wire = trickle();
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        write_all(&mut wire, ok);
        write_all(&mut wire, ok);
        block_on(|cx| Pin::new(&mut wire).poll_flush(cx)).unwrap();
        assert_eq!(wire.inner.received, [&ok[..], &ok[..]].concat());
    }
}
