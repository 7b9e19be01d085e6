//! The members an applier batch's events are about, read together when it starts: the accounts
//! of its customers, the guests with those accounts' and orders' e-mails (whom an order may
//! claim), and each account's survey facts (`services::nps`). Four reads per shop instead of one or two per order.
//!
//! What was read is right only until the batch changes it, so:
//! - the first event that resolves a member takes what was read of them (`take_account`,
//!   `touched`); later events of that member read what is stored;
//! - what changes a member its event did not resolve forgets them (`forget_member`): an
//!   order event about another member's order (an anonymous delivery, an order passing from
//!   one member to another), a posting (a referral reward goes to the referrer, whose first
//!   event in the batch may come later);
//! - anything else that writes members forgets everything read: a guest made or merged, and
//!   every event that is not an order or a refund (`super::before_other_event`).

use std::collections::{HashMap, HashSet};

use diesel::QueryResult;

use super::with_state;
use crate::db::models::Member;
use crate::db::DbConnection;
use crate::services::nps::{survey_facts_of, SurveyFacts};

/// What the batch read of its members, by shop.
#[derive(Default)]
pub(super) struct Prefetched {
    /// By (shop, platform customer id): the account, or `None` when the shop had none.
    accounts: HashMap<(String, String), Option<Member>>,
    /// By (shop, e-mail), for every read account's e-mail: the live guest with it, if any.
    guests: HashMap<(String, String), Option<Member>>,
    /// By (shop, member id), for every account read.
    survey_facts: HashMap<(String, String), SurveyFacts>,
    /// By (shop, member id): the customer id of every account read.
    customer_of: HashMap<(String, String), String>,
}

/// A customer an applier batch's event is about.
#[derive(Debug, Clone)]
pub struct Customer {
    pub shop_id: String,
    /// The platform's customer id.
    pub customer_id: String,
    /// The e-mail of the guest the event may claim for the account (`earn::claimable_guest_email`).
    pub email: Option<String>,
}

/// Reads the members of `customers` and the guests their accounts' e-mails and the events'
/// may claim: four statements per shop. Nothing to do outside a batch.
pub fn prefetch_members(conn: &mut DbConnection, customers: &[Customer]) -> QueryResult<()> {
    if with_state(|s| s.is_none()) {
        return Ok(());
    }
    let mut by_shop: HashMap<&str, (HashSet<&str>, HashSet<&str>)> = HashMap::new();
    for customer in customers {
        let (ids, emails) = by_shop.entry(&customer.shop_id).or_default();
        ids.insert(&customer.customer_id);
        emails.extend(customer.email.as_deref());
    }
    let mut read = Prefetched::default();
    for (shop_id, (ids, mut emails)) in by_shop {
        let ids: Vec<&str> = ids.into_iter().collect();
        let accounts = Member::find_by_customer_ids(conn, shop_id, &ids)?;
        emails.extend(accounts.iter().filter_map(|m| m.email.as_deref()));
        let emails: Vec<&str> = emails.into_iter().collect();
        let guests = if emails.is_empty() {
            Vec::new()
        } else {
            Member::find_guests_by_emails(conn, shop_id, &emails)?
        };
        let member_ids: Vec<&str> = accounts.iter().map(|m| m.id.as_str()).collect();
        let facts = if member_ids.is_empty() {
            HashMap::new()
        } else {
            survey_facts_of(conn, shop_id, &member_ids)?
        };
        let key = |k: &str| (shop_id.to_owned(), k.to_owned());
        for email in &emails {
            read.guests.insert(key(email), None);
        }
        for guest in guests {
            if let Some(slot) = guest
                .email
                .as_deref()
                .and_then(|e| read.guests.get_mut(&key(e)))
            {
                slot.get_or_insert(guest);
            }
        }
        for (member_id, f) in facts {
            read.survey_facts.insert(key(&member_id), f);
        }
        for id in &ids {
            read.accounts.insert(key(id), None);
        }
        for account in accounts {
            if let Some(customer) = account.platform_customer_id.clone() {
                read.customer_of.insert(key(&account.id), customer.clone());
                read.accounts.insert(key(&customer), Some(account));
            }
        }
    }
    with_state(|state| {
        if let Some(state) = state {
            state.members = read;
        }
    });
    Ok(())
}

/// The shop's account for the customer as the batch read it, once: `Some(None)` when it had
/// none, `None` when it was not read or was taken (the caller reads what is stored).
pub fn take_account(shop_id: &str, customer_id: &str) -> Option<Option<Member>> {
    with_state(|state| {
        state.and_then(|s| {
            s.members
                .accounts
                .remove(&(shop_id.to_owned(), customer_id.to_owned()))
        })
    })
}

/// The live guest with the e-mail as the batch read it (`Some(None)`: there was none); `None`
/// when the batch did not read that e-mail's guests.
pub fn guest_with_email(shop_id: &str, email: &str) -> Option<Option<Member>> {
    with_state(|state| {
        state.and_then(|s| {
            s.members
                .guests
                .get(&(shop_id.to_owned(), email.to_owned()))
                .cloned()
        })
    })
}

/// An event resolved `member`: what the batch read of them is theirs alone from here on (their
/// account row is dropped; their survey facts are returned, once).
pub fn touched(shop_id: &str, member_id: &str) -> Option<SurveyFacts> {
    with_state(|state| {
        let read = &mut state?.members;
        let key = (shop_id.to_owned(), member_id.to_owned());
        if let Some(customer) = read.customer_of.remove(&key) {
            read.accounts.remove(&(shop_id.to_owned(), customer));
        }
        read.survey_facts.remove(&key)
    })
}

/// Something other than an event's resolution of them changed the member (their balance, their
/// orders): nothing read of them is used.
pub fn forget_member(shop_id: &str, member_id: &str) {
    touched(shop_id, member_id);
}

/// Something wrote members other than the one its event resolved: nothing read of members is
/// used from here on.
pub fn forget_members() {
    with_state(|state| {
        if let Some(state) = state {
            state.members = Prefetched::default();
        }
    });
}
