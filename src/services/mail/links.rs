//! Signed tokens for the links in a message: one-click unsubscribe (per shop and member, so an
//! old message's link still works) and the open pixel (per message). Neither carries an
//! address, and neither can be made without the app's keys.

use crate::crypto::Keys;

fn signed(keys: &Keys, purpose: &str, parts: &[&str]) -> String {
    let message = format!("{purpose}|{}", parts.join("|"));
    format!("{}.{}", parts.join("."), keys.sign_link(&message))
}

fn read<'a>(keys: &Keys, purpose: &str, token: &'a str, n: usize) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = token.split('.').collect();
    let (signature, ids) = parts.split_last()?;
    let well_formed = ids.len() == n
        && ids
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let message = format!("{purpose}|{}", ids.join("|"));
    (well_formed && keys.verify_link(&message, signature)).then(|| ids.to_vec())
}

/// The `t` of `/email/unsubscribe?t=…` for a member of a shop.
pub fn unsubscribe_token(keys: &Keys, shop_id: &str, member_id: &str) -> String {
    signed(keys, "unsubscribe", &[shop_id, member_id])
}

/// `(shop id, member id)` of a genuine unsubscribe token.
pub fn read_unsubscribe_token(keys: &Keys, token: &str) -> Option<(String, String)> {
    let ids = read(keys, "unsubscribe", token, 2)?;
    Some((ids.first()?.to_string(), ids.get(1)?.to_string()))
}

/// The `t` of `/email/open?t=…` for one message.
pub fn open_token(keys: &Keys, shop_id: &str, email_id: &str) -> String {
    signed(keys, "open", &[shop_id, email_id])
}

/// `(shop id, e-mail id)` of a genuine open token.
pub fn read_open_token(keys: &Keys, token: &str) -> Option<(String, String)> {
    let ids = read(keys, "open", token, 2)?;
    Some((ids.first()?.to_string(), ids.get(1)?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_back_and_forgeries_do_not() {
        let keys = Keys::derive(&"k".repeat(32).into());
        let t = unsubscribe_token(&keys, "shop-1", "member-2");
        assert_eq!(
            read_unsubscribe_token(&keys, &t),
            Some(("shop-1".into(), "member-2".into()))
        );
        // Another purpose, another member, another key, or junk: nothing.
        assert_eq!(read_open_token(&keys, &t), None);
        let forged = t.replace("member-2", "member-3");
        assert_eq!(read_unsubscribe_token(&keys, &forged), None);
        let other = Keys::derive(&"o".repeat(32).into());
        assert_eq!(read_unsubscribe_token(&other, &t), None);
        for junk in ["", ".", "a.b", "a.b.c.d", "a|b.c.deadbeef"] {
            assert_eq!(read_unsubscribe_token(&keys, junk), None, "{junk}");
        }
        let o = open_token(&keys, "shop-1", "email-9");
        assert_eq!(
            read_open_token(&keys, &o),
            Some(("shop-1".into(), "email-9".into()))
        );
    }
}
