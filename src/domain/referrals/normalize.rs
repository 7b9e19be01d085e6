//! What the fraud signals compare: e-mails, addresses, phones, IPs and cards reduced to the
//! identity behind their spelling, so `Ada.Lovelace+promo@GoogleMail.com` and
//! `adalovelace@gmail.com` are one person and `12 Main Street, Apt 4` matches `12 main st apt. 4`.

use std::net::IpAddr;

/// Providers that ignore dots in the local part (Gmail and its old domain).
const DOTLESS_DOMAINS: &[&str] = &["gmail.com", "googlemail.com"];

/// The mailbox behind an e-mail address: lower case, `+tag` dropped (subaddressing, which the
/// big providers all deliver to the base address), dots dropped where the provider ignores them,
/// `googlemail.com` as `gmail.com`. `None` for something that is not an address.
pub fn normalized_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    let local = local.split('+').next().unwrap_or(local);
    if local.is_empty() || domain.is_empty() || !domain.contains('.') {
        return None;
    }
    if DOTLESS_DOMAINS.contains(&domain) {
        let local: String = local.chars().filter(|c| *c != '.').collect();
        return (!local.is_empty()).then(|| format!("{local}@gmail.com"));
    }
    Some(format!("{local}@{domain}"))
}

/// Words of street addresses written several ways, as their short form.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("street", "st"),
    ("avenue", "ave"),
    ("road", "rd"),
    ("boulevard", "blvd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("place", "pl"),
    ("square", "sq"),
    ("apartment", "apt"),
    ("suite", "ste"),
    ("floor", "fl"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
];

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            ABBREVIATIONS
                .iter()
                .find(|(long, _)| *long == w)
                .map_or_else(|| w.to_owned(), |(_, short)| (*short).to_owned())
        })
        .collect()
}

/// A delivery address as one comparable key: street lines, postcode and country, lower case,
/// punctuation and spacing dropped, common street words shortened. The city is left out (it is
/// implied by the postcode and spelled in too many ways). `None` without a street and either a
/// postcode or a country: too little to call two addresses the same.
pub fn normalized_address(
    line1: &str,
    line2: Option<&str>,
    postcode: Option<&str>,
    country_code: Option<&str>,
) -> Option<String> {
    let street = [words(line1), line2.map(words).unwrap_or_default()].concat();
    let postcode: String = postcode
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let country = country_code.unwrap_or_default().trim().to_ascii_lowercase();
    if street.is_empty() || (postcode.is_empty() && country.is_empty()) {
        return None;
    }
    Some(format!("{}|{postcode}|{country}", street.join(" ")))
}

/// A phone number as its last ten digits (the same number written with or without the country
/// code or a trunk 0 matches); `None` for fewer than seven digits.
pub fn normalized_phone(phone: &str) -> Option<String> {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return None;
    }
    let start = digits.len().saturating_sub(10);
    Some(digits.get(start..)?.iter().collect())
}

/// An IP as the network a person's devices share: the IPv4 address itself, or the /64 of an
/// IPv6 address (one home or phone gets a whole /64 and rotates within it).
pub fn ip_identity(ip: &str) -> Option<String> {
    match ip.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_string()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(v4.to_string()),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                Some(format!("{a:x}:{b:x}:{c:x}:{d:x}::/64"))
            }
        },
    }
}

/// A payment card as its BIN and last four digits, only when both are known (either alone
/// matches far too many strangers).
pub fn card_fingerprint(bin: Option<&str>, last4: Option<&str>) -> Option<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let bin = digits(bin?);
    let last4 = digits(last4?);
    ((6..=8).contains(&bin.len()) && last4.len() == 4).then(|| format!("{bin}:{last4}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_reduce_to_their_mailbox() {
        let n = |e| normalized_email(e);
        assert_eq!(
            n("Ada.Lovelace+promo@GoogleMail.com").as_deref(),
            Some("adalovelace@gmail.com")
        );
        assert_eq!(
            n(" adalovelace@gmail.com ").as_deref(),
            Some("adalovelace@gmail.com")
        );
        // Dots matter elsewhere; tags do not.
        assert_eq!(
            n("ada.l+x@example.com").as_deref(),
            Some("ada.l@example.com")
        );
        assert_ne!(n("ada.l@example.com"), n("adal@example.com"));
        for bad in [
            "",
            "ada",
            "@gmail.com",
            "+tag@gmail.com",
            "ada@",
            "ada@localhost",
            "...@gmail.com",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    #[test]
    fn addresses_match_however_they_are_written() {
        let a = normalized_address("12 Main Street, Apt. 4", None, Some("SW1A 1AA"), Some("GB"));
        let b = normalized_address(
            "12 main st",
            Some("apartment 4"),
            Some("sw1a1aa"),
            Some("gb"),
        );
        assert_eq!(a, b);
        assert_eq!(a.as_deref(), Some("12 main st apt 4|sw1a1aa|gb"));
        assert_ne!(
            a,
            normalized_address(
                "14 Main Street",
                Some("Apt 4"),
                Some("SW1A 1AA"),
                Some("GB")
            )
        );
        assert_eq!(
            normalized_address("", None, Some("12345"), Some("US")),
            None
        );
        assert_eq!(normalized_address("12 Main St", None, None, None), None);
        assert!(
            normalized_address("شارع ١٢", None, None, Some("SA")).is_some(),
            "any script"
        );
    }

    #[test]
    fn phones_match_with_or_without_country_codes() {
        assert_eq!(
            normalized_phone("+44 20 7946 0958"),
            normalized_phone("020 7946 0958")
        );
        assert_eq!(
            normalized_phone("+1 (555) 010-2345").as_deref(),
            Some("5550102345")
        );
        assert_eq!(
            normalized_phone("555-0102345"),
            normalized_phone("+1 555 010 2345")
        );
        assert_eq!(normalized_phone("12345"), None);
        assert_eq!(normalized_phone("call me"), None);
    }

    #[test]
    fn ips_compare_by_address_or_ipv6_network() {
        assert_eq!(ip_identity("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(
            ip_identity("::ffff:203.0.113.7").as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            ip_identity("2001:db8:1:2:aaaa::1"),
            ip_identity("2001:db8:1:2:bbbb::9")
        );
        assert_ne!(
            ip_identity("2001:db8:1:2::1"),
            ip_identity("2001:db8:1:3::1")
        );
        assert_eq!(ip_identity("not an ip"), None);
    }

    #[test]
    fn cards_need_both_bin_and_last_four() {
        assert_eq!(
            card_fingerprint(Some("424242"), Some("4242")).as_deref(),
            Some("424242:4242")
        );
        assert_eq!(
            card_fingerprint(Some("4242 4242"), Some("•••• 4242")).as_deref(),
            Some("42424242:4242")
        );
        assert_eq!(card_fingerprint(None, Some("4242")), None);
        assert_eq!(card_fingerprint(Some("42"), Some("4242")), None);
        assert_eq!(card_fingerprint(Some("424242"), Some("42")), None);
    }
}
