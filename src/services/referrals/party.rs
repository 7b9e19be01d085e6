//! The two sides of a referral as the fraud signals see them: what the friend's order holds,
//! and what our records hold about the referrer (their account, their mailbox, and the
//! addresses, phones, networks and cards of their recent orders).

use diesel::prelude::*;

use crate::db::models::Member;
use crate::db::schema::orders;
use crate::db::DbConnection;
use crate::domain::event::{OrderFacts, OrderProvenance, PostalAddress};
use crate::domain::referrals::{
    card_fingerprint, ip_identity, normalized_address, normalized_email, normalized_phone, Party,
};

/// How many of the referrer's latest orders are compared: enough to cover their usual
/// addresses and cards, few enough that a referral costs one small read.
const REFERRER_ORDERS: i64 = 25;

/// The friend as their order shows them.
pub fn friend(facts: &OrderFacts) -> Party {
    let mut party = Party {
        customer_id: facts
            .customer
            .as_ref()
            .and_then(|c| c.id.as_ref())
            .map(|id| id.as_str().to_owned()),
        email: friend_email(facts).and_then(|e| normalized_email(&e)),
        ..Party::default()
    };
    add_provenance(&mut party, &facts.provenance);
    party
}

/// The order's contact e-mail, else the account's.
pub fn friend_email(facts: &OrderFacts) -> Option<String> {
    facts
        .email
        .clone()
        .or_else(|| facts.customer.as_ref().and_then(|c| c.email.clone()))
}

/// The referrer from their member record and their latest orders.
pub fn referrer(conn: &mut DbConnection, member: &Member) -> QueryResult<Party> {
    let mut party = Party {
        customer_id: member.platform_customer_id.clone(),
        email: member.email.as_deref().and_then(normalized_email),
        ..Party::default()
    };
    let snapshots: Vec<String> = orders::table
        .filter(orders::shop_id.eq(&member.shop_id))
        .filter(orders::member_id.eq(&member.id))
        .order(orders::placed_at.desc())
        .limit(REFERRER_ORDERS)
        .select(orders::snapshot)
        .load(conn)?;
    for snapshot in snapshots {
        // A snapshot that no longer reads (redacted, or from a much older version) says nothing.
        if let Ok(facts) = serde_json::from_str::<OrderFacts>(&snapshot) {
            add_provenance(&mut party, &facts.provenance);
        }
    }
    Ok(party)
}

fn add_provenance(party: &mut Party, p: &OrderProvenance) {
    let addresses = [&p.shipping_address, &p.billing_address];
    for address in addresses.into_iter().flatten() {
        push(&mut party.addresses, address_key(address));
    }
    for phone in &p.phones {
        push(&mut party.phones, normalized_phone(phone));
    }
    if let Some(ip) = &p.browser_ip {
        push(&mut party.ips, ip_identity(ip));
    }
    push(
        &mut party.cards,
        card_fingerprint(p.card_bin.as_deref(), p.card_last4.as_deref()),
    );
}

fn address_key(a: &PostalAddress) -> Option<String> {
    normalized_address(
        a.address1.as_deref()?,
        a.address2.as_deref(),
        a.zip.as_deref(),
        a.country_code.as_deref(),
    )
}

fn push(list: &mut Vec<String>, value: Option<String>) {
    if let Some(v) = value {
        if !list.contains(&v) {
            list.push(v);
        }
    }
}
