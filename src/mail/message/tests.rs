use super::*;
use crate::mail::render::{render, Brand, Kind, Locale, MailContext};

const UNSUBSCRIBE: &str = "https://boomerang.example/email/unsubscribe?t=abc";

fn mailbox(name: &str, address: &str) -> Mailbox {
    Mailbox::new(Some(name.to_owned()), address.parse().unwrap())
}

fn sample() -> Rendered {
    Rendered {
        preheader: String::new(),
        subject: "You earned 45 points".into(),
        text: "You earned 45 points.\n".into(),
        html: "<p>You earned 45 points.</p>".into(),
    }
}

/// The raw header block of a formatted message, as it goes on the wire.
fn header_block(message: &Message) -> String {
    let raw = String::from_utf8(message.formatted()).unwrap();
    let end = raw
        .find("\r\n\r\n")
        .expect("a blank line after the headers");
    raw[..end].to_owned()
}

/// Each header line: either `Name: value` or a folded continuation; no control character but
/// the CRLF that ends lines.
fn assert_well_formed(headers: &str) {
    for line in headers.split("\r\n") {
        assert!(
            !line.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f),
            "control character in {line:?}"
        );
        let continuation = line.starts_with([' ', '\t']);
        let named = line.split_once(": ").is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        assert!(continuation || named, "not a header line: {line:?}");
    }
    assert!(
        !headers.replace("\r\n", "").contains(['\r', '\n']),
        "bare CR or LF"
    );
}

fn header_names(headers: &str) -> Vec<String> {
    headers
        .split("\r\n")
        .filter(|line| !line.starts_with([' ', '\t']))
        .filter_map(|line| {
            line.split_once(':')
                .map(|(name, _)| name.to_ascii_lowercase())
        })
        .collect()
}

#[test]
fn lettre_encodes_line_breaks_in_subjects_but_not_other_controls_and_panics_on_names() {
    // Why `build` cleans values itself: this is lettre on its own.
    let lettre_alone = |to_name: &str, subject: &str| {
        Message::builder()
            .from(mailbox("Shop", "hi@shop.example"))
            .to(mailbox(to_name, "ada@example.com"))
            .subject(subject)
            .body(String::from("x"))
            .unwrap()
    };
    // A line break in a subject word gets that word RFC 2047-encoded: no new header line.
    let headers = header_block(&lettre_alone("Ada", "Hi\r\nBcc: evil@evil.example"));
    assert!(
        !header_names(&headers).contains(&"bcc".to_owned()),
        "{headers}"
    );
    assert!(headers.contains("Subject: =?utf-8?b?"), "{headers}");
    // Other control characters go out raw.
    let headers = header_block(&lettre_alone("Ada", "Hi \u{1b}[2J there"));
    assert!(headers.contains("Subject: Hi \u{1b}[2J there"), "{headers}");
    // A line break in a display name makes lettre panic: a worker would die on it.
    let crashed = std::panic::catch_unwind(|| lettre_alone("Ada\r\nBcc: x@evil.example", "Hi"));
    assert!(crashed.is_err());
}

#[test]
fn no_header_injection_from_names_subjects_or_reward_titles() {
    let mut ctx = MailContext::sample(Locale::En);
    ctx.reward_title = Some("$5 off\r\nBcc: stolen@evil.example\r\n\r\n<h1>fake body</h1>".into());
    let mut rendered =
        render(Kind::RewardIssued, Locale::En, &Brand::sample(), &ctx, None).unwrap();
    // Even a subject that was not rendered by us is flattened.
    rendered
        .subject
        .push_str("\r\nX-Injected: 1\u{7}\u{1b}[31m\0");
    let message = build(
        &mailbox("Cedar\r\nBcc: a@evil.example", "hi@cedar.example"),
        Some(&mailbox(
            "Help\nReply-To: b@evil.example\u{0}",
            "help@cedar.example",
        )),
        &mailbox("Ada\u{b}\u{c}\r\nCc: c@evil.example", "ada@example.com"),
        &rendered,
        "0190f3a2-7b1c-7d4e-9f00-1234567890ab@boomerang.example",
        None,
    )
    .unwrap();
    let headers = header_block(&message);
    assert_well_formed(&headers);
    let names = header_names(&headers);
    for injected in ["bcc", "cc", "x-injected"] {
        assert!(
            !names.contains(&injected.to_owned()),
            "{injected} injected:\n{headers}"
        );
    }
    assert_eq!(names.iter().filter(|n| *n == "reply-to").count(), 1);
    let from = headers
        .split("\r\n")
        .find(|l| l.starts_with("From: "))
        .unwrap();
    assert!(from.ends_with(" <hi@cedar.example>"), "{from}");
    let subject = headers
        .split("\r\n")
        .find(|l| l.starts_with("Subject: "))
        .unwrap();
    assert!(
        subject.starts_with("Subject: Your code for $5 off Bcc: stolen@evil.example"),
        "{subject}"
    );
}

#[test]
fn multipart_alternative_text_first_then_html_with_our_message_id() {
    let message = build(
        &mailbox("Cedar & Sage", "hi@cedar.example"),
        None,
        &mailbox("Ada", "ada@example.com"),
        &sample(),
        "abc123@boomerang.example",
        None,
    )
    .unwrap();
    let headers = header_block(&message);
    assert_well_formed(&headers);
    assert!(
        headers.contains("Message-ID: <abc123@boomerang.example>"),
        "{headers}"
    );
    assert!(
        headers.contains("Content-Type: multipart/alternative;"),
        "{headers}"
    );
    for name in ["from", "to", "subject", "date", "mime-version"] {
        assert!(
            header_names(&headers).contains(&name.to_owned()),
            "{name} missing"
        );
    }
    let raw = String::from_utf8(message.formatted()).unwrap();
    let text = raw.find("Content-Type: text/plain; charset=utf-8").unwrap();
    let html = raw.find("Content-Type: text/html; charset=utf-8").unwrap();
    assert!(text < html, "text part first");
}

#[test]
fn non_ascii_names_and_subjects_are_encoded() {
    let rendered = Rendered {
        preheader: String::new(),
        subject: "حصلت على 45 نقطة".into(),
        ..sample()
    };
    let message = build(
        &mailbox("متجر الأرز", "hi@cedar.example"),
        None,
        &mailbox("ليلى", "layla@example.com"),
        &rendered,
        "abc@boomerang.example",
        None,
    )
    .unwrap();
    let headers = header_block(&message);
    assert_well_formed(&headers);
    assert!(headers.is_ascii());
    assert!(headers.contains("Subject: =?utf-8?b?"), "{headers}");
}

#[test]
fn one_click_unsubscribe_headers_only_when_given() {
    let with = build(
        &mailbox("Cedar", "hi@cedar.example"),
        None,
        &mailbox("Ada", "ada@example.com"),
        &sample(),
        "abc@boomerang.example",
        Some(UNSUBSCRIBE),
    )
    .unwrap();
    let headers = header_block(&with);
    assert_well_formed(&headers);
    assert!(
        headers.contains(&format!("List-Unsubscribe: <{UNSUBSCRIBE}>")),
        "{headers}"
    );
    assert!(headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));

    let without = build(
        &mailbox("Cedar", "hi@cedar.example"),
        None,
        &mailbox("Ada", "ada@example.com"),
        &sample(),
        "abc@boomerang.example",
        None,
    )
    .unwrap();
    assert!(!header_block(&without).contains("List-Unsubscribe"));
}

#[test]
fn marketing_kinds_carry_the_unsubscribe_headers_and_transactional_ones_do_not() {
    for kind in Kind::ALL {
        let mut ctx = MailContext::sample(Locale::En);
        ctx.unsubscribe_url = kind.is_marketing().then(|| UNSUBSCRIBE.to_owned());
        let rendered = render(kind, Locale::En, &Brand::sample(), &ctx, None).unwrap();
        let message = build(
            &mailbox("Cedar", "hi@cedar.example"),
            None,
            &mailbox("Ada", "ada@example.com"),
            &rendered,
            "abc@boomerang.example",
            ctx.unsubscribe_url.as_deref(),
        )
        .unwrap();
        let names = header_names(&header_block(&message));
        let has = |name: &str| names.contains(&name.to_owned());
        assert_eq!(
            has("list-unsubscribe"),
            kind.is_marketing(),
            "{}",
            kind.as_str()
        );
        assert_eq!(
            has("list-unsubscribe-post"),
            kind.is_marketing(),
            "{}",
            kind.as_str()
        );
        assert_eq!(
            rendered.text.contains(UNSUBSCRIBE),
            kind.is_marketing(),
            "{}",
            kind.as_str()
        );
    }
}

#[test]
fn bad_message_ids_and_unsubscribe_links_are_refused() {
    let attempt = |id: &str, unsubscribe: Option<&str>| {
        build(
            &mailbox("Cedar", "hi@cedar.example"),
            None,
            &mailbox("Ada", "ada@example.com"),
            &sample(),
            id,
            unsubscribe,
        )
    };
    for id in [
        "",
        "no-at-sign",
        "a@b@c",
        "<a@b>",
        "a b@c",
        "a@b\r\nBcc: x@y",
        "@b",
        "a@",
    ] {
        assert!(
            matches!(attempt(id, None), Err(MessageError::MessageId(_))),
            "{id:?}"
        );
    }
    for url in [
        "javascript:alert(1)",
        "/relative",
        "mailto:x@y.example",
        "https://",
    ] {
        assert!(
            matches!(
                attempt("a@b", Some(url)),
                Err(MessageError::UnsubscribeUrl(_))
            ),
            "{url:?}"
        );
    }
    // What the URL parser keeps is percent-encoded: no way out of the angle brackets.
    let message = attempt("a@b", Some("https://x.example/u?t=a>b c\r\nBcc: d@e")).unwrap();
    let headers = header_block(&message);
    assert_well_formed(&headers);
    assert!(!header_names(&headers).contains(&"bcc".to_owned()));
    assert!(
        headers.contains("List-Unsubscribe: <https://x.example/u?t=a%3Eb%20cBcc:%20d@e>"),
        "{headers}"
    );
}

#[test]
fn one_line_flattens_whitespace_and_control_characters() {
    assert_eq!(one_line("  a\r\n b\tc\u{1b}d\u{0}  "), "a b c d");
    assert_eq!(one_line("\r\n"), "");
    assert_eq!(one_line("نقاطك جاهزة"), "نقاطك جاهزة");
}
