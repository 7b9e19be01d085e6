//! Member referral codes: short, readable aloud, unambiguous, and forgiving when typed.

use crate::domain::rewards::CODE_ALPHABET;

/// Characters of a referral code: 31^8 ≈ 8.5 × 10^11 codes, so random codes rarely collide
/// within a shop (the caller still retries on the unique index).
pub const REFERRAL_CODE_LEN: usize = 8;

/// A new referral code (pass a CSPRNG: codes are public, but must not be guessable in bulk).
pub fn referral_code(rng: &mut impl rand::Rng) -> String {
    use rand::seq::SliceRandom;
    (0..REFERRAL_CODE_LEN)
        .map(|_| CODE_ALPHABET.choose(rng).map_or('X', |c| char::from(*c)))
        .collect()
}

/// A code as typed or linked: trimmed, upper-cased, with separators a shopper might add
/// (spaces, dashes) dropped; `None` when it cannot be one of ours, so no lookup is made.
pub fn parse_code(input: &str) -> Option<String> {
    let code: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ours = (4..=16).contains(&code.len()) && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
    ours.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet_and_parse_back() {
        let mut rng = rand::rngs::OsRng;
        for _ in 0..200 {
            let code = referral_code(&mut rng);
            assert_eq!(code.len(), REFERRAL_CODE_LEN);
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
            assert_eq!(
                parse_code(&code.to_lowercase()).as_deref(),
                Some(code.as_str())
            );
        }
    }

    #[test]
    fn typed_codes_are_forgiven_and_impossible_ones_refused() {
        assert_eq!(parse_code(" abcd-efgh ").as_deref(), Some("ABCDEFGH"));
        assert_eq!(parse_code("ABC"), None, "too short");
        assert_eq!(
            parse_code("ABCDEF0O"),
            None,
            "look-alikes are never in our codes"
        );
        assert_eq!(parse_code("ABCD/../X"), None);
        assert_eq!(parse_code(&"A".repeat(17)), None);
        assert_eq!(parse_code("ÄBCDEFGH"), None);
    }
}
