//! The MIME message for one rendered mail: multipart/alternative (text first, then HTML, so
//! clients that can show HTML pick the last part they understand), our own `Message-ID`, and
//! RFC 8058 one-click unsubscribe headers for marketing mail.
//!
//! Header injection: lettre RFC 2047-encodes any header word holding CR, LF or NUL (subjects)
//! and any display name holding anything unusual, so line breaks never reach the wire raw —
//! but it writes other control characters (ESC, BEL, vertical tab…) as they are. Every value
//! that comes from data is therefore flattened to one line without control characters first,
//! and the message id and unsubscribe URL are checked, not encoded.

use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue, MIME_VERSION_1_0,
};
use lettre::message::{Body, Mailbox, MessageBuilder, MultiPart};
use lettre::Message;

use super::render::Rendered;

/// Why no message could be built.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("message id {0:?} must look like left@right in printable ASCII, without <>")]
    MessageId(String),
    #[error("unsubscribe link {0:?} must be an absolute http(s) URL")]
    UnsubscribeUrl(String),
    #[error("the multipart body could not be laid out")]
    Multipart,
    #[error("building the message: {0}")]
    Build(#[from] lettre::error::Error),
}

/// The message for `rendered`, from `from` to `to`. `message_id` is the bare id (no angle
/// brackets); `unsubscribe`, for marketing mail, adds `List-Unsubscribe: <url>` and
/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. `Date` is now.
pub fn build(
    from: &Mailbox,
    reply_to: Option<&Mailbox>,
    to: &Mailbox,
    rendered: &Rendered,
    message_id: &str,
    unsubscribe: Option<&str>,
) -> Result<Message, MessageError> {
    let mut builder = Message::builder()
        .from(clean_mailbox(from))
        .to(clean_mailbox(to))
        .subject(one_line(&rendered.subject))
        .message_id(Some(format!("<{}>", checked_message_id(message_id)?)));
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(clean_mailbox(reply_to));
    }
    if let Some(url) = unsubscribe {
        builder = builder
            .header(ListUnsubscribe(format!(
                "<{}>",
                checked_unsubscribe_url(url)?
            )))
            .header(ListUnsubscribePost);
    }
    let body = MultiPart::alternative_plain_html(rendered.text.clone(), rendered.html.clone());
    top_level(builder, &body)
}

/// The message with `body` as its whole content. lettre writes a multipart's `Content-Type`
/// with the part, outside the message's own headers, where a DKIM signature made by lettre
/// cannot cover it; so the header is lifted to the message and the part's body (boundaries and
/// the sub-parts lettre encoded) goes in as it is. The bytes on the wire are the same but for
/// the order of the headers and a `Content-Transfer-Encoding` (`7bit`, or `8bit` for UTF-8
/// text parts) that multipart bodies may carry.
fn top_level(builder: MessageBuilder, body: &MultiPart) -> Result<Message, MessageError> {
    let content_type = body
        .headers()
        .get::<ContentType>()
        .ok_or(MessageError::Multipart)?;
    let formatted = body.formatted();
    let start = formatted
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
        .ok_or(MessageError::Multipart)?;
    let parts = formatted.get(start..).unwrap_or_default().to_vec();
    // lettre encoded each part itself (quoted-printable or base64, or 7bit/8bit text in short
    // lines), so the whole is already fit for the wire: 7bit when it is ASCII, else 8bit.
    let encoding = if parts.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    let parts = Body::dangerous_pre_encoded(parts, encoding);
    Ok(builder
        .header(MIME_VERSION_1_0)
        .header(content_type)
        .body(parts)?)
}

/// `text` on one line: every run of whitespace or control characters (CR, LF, tab, ESC…)
/// becomes one space, and the ends are trimmed. For subjects and display names.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn clean_mailbox(mailbox: &Mailbox) -> Mailbox {
    let name = mailbox
        .name
        .as_deref()
        .map(one_line)
        .filter(|name| !name.is_empty());
    Mailbox::new(name, mailbox.email.clone())
}

fn checked_message_id(id: &str) -> Result<&str, MessageError> {
    let allowed = |c: char| {
        c.is_ascii_graphic()
            && !matches!(
                c,
                '<' | '>' | '"' | '\\' | '(' | ')' | ',' | ';' | ':' | '[' | ']'
            )
    };
    match id.split_once('@') {
        Some((left, right))
            if !left.is_empty()
                && !right.is_empty()
                && !right.contains('@')
                && id.chars().all(allowed) =>
        {
            Ok(id)
        }
        _ => Err(MessageError::MessageId(id.to_owned())),
    }
}

/// The URL as the `url` crate serializes it: ASCII, percent-encoded, no spaces or `<>`.
fn checked_unsubscribe_url(url: &str) -> Result<String, MessageError> {
    match url::Url::parse(url.trim()) {
        Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.has_host() => {
            Ok(parsed.into())
        }
        _ => Err(MessageError::UnsubscribeUrl(url.to_owned())),
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a POST to the link
/// unsubscribes without a page, which Gmail and Yahoo require of bulk senders.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[cfg(test)]
mod tests;
