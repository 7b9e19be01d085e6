use lettre::message::Mailbox;
use secrecy::ExposeSecret as _;

use super::*;
use crate::mail::message::build;
use crate::mail::render::Rendered;

const PKCS8: &str = include_str!("../../../tests/fixtures/dkim/rsa2048.pkcs8.pem");
const PKCS1: &str = include_str!("../../../tests/fixtures/dkim/rsa2048.pkcs1.pem");
const SPKI: &str = include_str!("../../../tests/fixtures/dkim/rsa2048.spki.b64");
const RSA_1024: &str = include_str!("../../../tests/fixtures/dkim/rsa1024.pkcs8.pem");
const RSA_512: &str = include_str!("../../../tests/fixtures/dkim/rsa512.pkcs8.pem");
const ED25519: &str = include_str!("../../../tests/fixtures/dkim/ed25519.pem");

fn expected_txt() -> String {
    format!("v=DKIM1; k=rsa; p={}", SPKI.trim())
}

#[test]
fn pkcs8_and_pkcs1_forms_of_one_key_read_alike() {
    let a = DkimKey::from_pem(PKCS8).unwrap();
    let b = DkimKey::from_pem(PKCS1).unwrap();
    assert_eq!(a.bits(), 2048);
    assert_eq!(a.dns_txt().unwrap(), expected_txt());
    assert_eq!(b.dns_txt().unwrap(), expected_txt());
    // Surrounding whitespace (a pasted key) is fine.
    let padded = format!("\n  {PKCS1}\n\n");
    assert_eq!(
        DkimKey::from_pem(&padded).unwrap().dns_txt().unwrap(),
        expected_txt()
    );
}

#[test]
fn the_stored_form_is_pkcs8_and_reads_back_as_the_same_key() {
    let key = DkimKey::from_pem(PKCS1).unwrap();
    let pem = key.to_pem().unwrap();
    assert!(pem
        .expose_secret()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    let again = DkimKey::from_pem(pem.expose_secret()).unwrap();
    assert_eq!(again.dns_txt().unwrap(), expected_txt());
    assert!(
        !format!("{key:?}").contains("PRIVATE"),
        "Debug shows no key"
    );
}

#[test]
fn sizes_from_1024_bits_are_accepted_and_smaller_refused() {
    assert_eq!(DkimKey::from_pem(RSA_1024).unwrap().bits(), 1024);
    assert_eq!(
        DkimKey::from_pem(RSA_512).unwrap_err(),
        DkimInputError::TooSmall(512)
    );
}

#[test]
fn garbage_and_other_algorithms_are_refused_with_the_field_named() {
    let cases = [
        ("", DkimInputError::NotPem),
        ("hello", DkimInputError::NotPem),
        (
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            DkimInputError::NotPem,
        ),
        (ED25519, DkimInputError::Unsupported("Ed25519")),
        (
            "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----",
            DkimInputError::Unsupported("EC"),
        ),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----",
            DkimInputError::Encrypted,
        ),
    ];
    for (pem, expected) in cases {
        let err = DkimKey::from_pem(pem).unwrap_err();
        assert_eq!(err, expected, "{pem:?}");
        assert_eq!(err.field(), "private_key");
    }
    // A truncated key: the header is right, the body is not.
    let truncated: String =
        PKCS8.lines().take(5).collect::<Vec<_>>().join("\n") + "\n-----END PRIVATE KEY-----\n";
    let err = DkimKey::from_pem(&truncated).unwrap_err();
    assert!(matches!(err, DkimInputError::Unreadable(_)), "{err:?}");
    assert!(err.to_string().starts_with("private_key "), "{err}");
    let body_line = PKCS8.lines().nth(2).unwrap();
    assert!(!err.to_string().contains(body_line), "no key material");
}

#[test]
fn domains_and_selectors_are_dns_names() {
    assert_eq!(parse_domain("Shop.Example.").unwrap(), "shop.example");
    assert_eq!(
        parse_domain(" mail.shop-1.example ").unwrap(),
        "mail.shop-1.example"
    );
    for bad in [
        "",
        "localhost",
        "shop..example",
        "-shop.example",
        "shop-.example",
        "shop_x.example",
        "shop example.com",
        "10.0.0.1",
        "http://shop.example",
        "ü.example",
        &format!("{}.example", "a".repeat(64)),
        &format!("{}example", "a.".repeat(127)),
    ] {
        let err = parse_domain(bad).unwrap_err();
        assert_eq!(err.field(), "domain", "{bad:?}");
    }
    assert_eq!(parse_selector("Boomerang").unwrap(), "boomerang");
    assert_eq!(parse_selector("s2026-11").unwrap(), "s2026-11");
    for bad in ["", "a.b", "-x", "x-", "under_score", &"a".repeat(64)] {
        assert_eq!(
            parse_selector(bad).unwrap_err(),
            DkimInputError::Selector,
            "{bad:?}"
        );
    }
    assert_eq!(
        dns_name("shop.example", "boomerang"),
        "boomerang._domainkey.shop.example"
    );
}

#[test]
fn alignment_is_the_same_domain_or_a_subdomain_of_it() {
    assert!(aligned("shop.example", "shop.example"));
    assert!(aligned("Mail.Shop.Example", "shop.example"));
    assert!(!aligned("shop.example", "mail.shop.example"));
    assert!(!aligned("badshop.example", "shop.example"));
    assert!(!aligned("shop.example.evil", "shop.example"));
}

fn message(reply_to: bool, unsubscribe: bool) -> Message {
    let from: Mailbox = "Shop <hi@shop.example>".parse().unwrap();
    let reply: Mailbox = "help@shop.example".parse().unwrap();
    let to: Mailbox = "ada@example.com".parse().unwrap();
    let rendered = Rendered {
        preheader: String::new(),
        subject: "You earned 45 points".into(),
        html: "<p>45 points</p>".into(),
        text: "45 points".into(),
    };
    build(
        &from,
        reply_to.then_some(&reply),
        &to,
        &rendered,
        "m1@shop.example",
        unsubscribe.then_some("https://app.example/email/unsubscribe?t=x"),
    )
    .unwrap()
}

/// The `h=` tag of the message's signature.
fn signed_headers(message: &Message) -> String {
    let raw = String::from_utf8(message.formatted()).unwrap();
    let unfolded = raw.replace("\r\n ", " ").replace("\r\n\t", " ");
    let line = unfolded
        .lines()
        .find(|l| l.starts_with("DKIM-Signature:"))
        .expect("signed");
    let tag = line.split(';').find_map(|t| t.trim().strip_prefix("h="));
    tag.unwrap().replace(' ', "")
}

#[test]
fn only_the_headers_a_message_has_are_signed() {
    let key = DkimKey::from_pem(PKCS8).unwrap();
    let signer = Signer::new("Shop.Example", "boomerang", &key).unwrap();
    let base = "from:to:subject:date:message-id:mime-version:content-type";
    for (reply_to, unsubscribe, expected) in [
        (false, false, base.to_owned()),
        (true, false, format!("{base}:reply-to")),
        (
            false,
            true,
            format!("{base}:list-unsubscribe:list-unsubscribe-post"),
        ),
        (
            true,
            true,
            format!("{base}:reply-to:list-unsubscribe:list-unsubscribe-post"),
        ),
    ] {
        let mut m = message(reply_to, unsubscribe);
        signer.sign(&mut m);
        assert_eq!(signed_headers(&m), expected);
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("d=shop.example;"), "{raw}");
        assert!(raw.contains("s=boomerang;"), "{raw}");
        assert!(raw.contains("a=rsa-sha256;"), "{raw}");
        assert!(raw.contains("c=relaxed/relaxed;"), "{raw}");
    }
    // Content-Type is a header of the message itself, so the signature can cover it.
    let m = message(false, false);
    assert!(m
        .headers()
        .get_raw("Content-Type")
        .is_some_and(|v| v.starts_with("multipart/alternative")));
}

#[test]
fn a_signer_refuses_names_the_api_would_refuse() {
    let key = DkimKey::from_pem(PKCS8).unwrap();
    assert_eq!(
        Signer::new("localhost", "boomerang", &key).unwrap_err(),
        DkimInputError::Domain
    );
    assert_eq!(
        Signer::new("shop.example", "a.b", &key).unwrap_err(),
        DkimInputError::Selector
    );
}
