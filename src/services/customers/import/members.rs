//! The members a batch of import rows names, found or enrolled with a few set-based statements:
//! the same members `services::members::resolve` answers row by row with `GuestClaim::Refused`.
//!
//! - A row with a customer id is that customer's member, enrolled with the row's e-mail if new.
//! - A row with only an e-mail goes to the account that proved it owns that e-mail (the oldest),
//!   else to the live guest with it, else to a new guest; an import never merges a guest.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{Member, NewMember};
use crate::db::schema::members;
use crate::db::{new_id, DbConnection};
use crate::domain::customer_import::ImportRow;

/// Values per `IN (…)` list and rows per multi-row insert (11 columns a member).
const CHUNK: usize = 500;

/// The member of each row, in the rows' order.
pub fn resolve_batch(
    conn: &mut DbConnection,
    shop_id: &str,
    rows: &[&ImportRow],
    now: NaiveDateTime,
) -> QueryResult<Vec<Member>> {
    // Which e-mail a new account is enrolled with: its first row's, as row by row would.
    let mut accounts: Vec<(&str, Option<&str>)> = Vec::new();
    let mut guest_emails: Vec<&str> = Vec::new();
    for row in rows {
        match (&row.customer_id, &row.email) {
            (Some(id), email) => accounts.push((id.as_str(), email.as_deref())),
            (None, Some(email)) => guest_emails.push(email),
            // `read_row` refuses a row naming nobody.
            (None, None) => return Err(diesel::result::Error::NotFound),
        }
    }
    let by_customer = accounts_by_customer_id(conn, shop_id, &accounts, now)?;
    let by_email = members_by_email(conn, shop_id, &guest_emails, now)?;
    rows.iter()
        .map(|row| {
            let found = match (&row.customer_id, &row.email) {
                (Some(id), _) => by_customer.get(id.as_str()),
                (None, Some(email)) => by_email.get(email.as_str()),
                (None, None) => None,
            };
            found.cloned().ok_or(diesel::result::Error::NotFound)
        })
        .collect()
}

fn accounts_by_customer_id(
    conn: &mut DbConnection,
    shop_id: &str,
    accounts: &[(&str, Option<&str>)],
    now: NaiveDateTime,
) -> QueryResult<HashMap<String, Member>> {
    let mut ids: Vec<&str> = accounts.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = load_accounts(conn, shop_id, &ids)?;
    let mut new = Vec::new();
    let mut enrolling = std::collections::HashSet::new();
    for (id, email) in accounts {
        if !found.contains_key(*id) && enrolling.insert(*id) {
            new.push(new_member(shop_id, Some(id), *email, now));
        }
    }
    if !new.is_empty() {
        insert_missing(conn, &new)?;
        // Read back rather than trust the insert: a webhook may have enrolled one meanwhile.
        let missing: Vec<&str> = new
            .iter()
            .filter_map(|m| m.platform_customer_id.as_deref())
            .collect();
        let loaded = load_accounts(conn, shop_id, &missing)?;
        announce(conn, shop_id, &new, loaded.values(), now)?;
        found.extend(loaded);
    }
    Ok(found)
}

fn load_accounts(
    conn: &mut DbConnection,
    shop_id: &str,
    ids: &[&str],
) -> QueryResult<HashMap<String, Member>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<Member> = members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::platform_customer_id.eq_any(chunk))
            .select(Member::as_select())
            .load(conn)?;
        for m in rows {
            if let Some(id) = m.platform_customer_id.clone() {
                found.insert(id, m);
            }
        }
    }
    Ok(found)
}

fn members_by_email(
    conn: &mut DbConnection,
    shop_id: &str,
    emails: &[&str],
    now: NaiveDateTime,
) -> QueryResult<HashMap<String, Member>> {
    let mut emails = emails.to_vec();
    emails.sort_unstable();
    emails.dedup();
    let mut found: HashMap<String, Member> = HashMap::with_capacity(emails.len());
    for chunk in emails.chunks(CHUNK) {
        let proven: Vec<Member> = members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::email.eq_any(chunk))
            .filter(members::email_verified.eq(true))
            .filter(members::platform_customer_id.is_not_null())
            .filter(members::redacted_at.is_null())
            .order(members::created_at.asc())
            .select(Member::as_select())
            .load(conn)?;
        for m in proven {
            if let Some(email) = m.email.clone() {
                found.entry(email).or_insert(m); // the oldest account wins
            }
        }
    }
    let unclaimed: Vec<&str> = emails
        .into_iter()
        .filter(|e| !found.contains_key(*e))
        .collect();
    let mut guests = load_guests(conn, shop_id, &unclaimed)?;
    let new: Vec<NewMember> = unclaimed
        .iter()
        .filter(|e| !guests.contains_key(**e))
        .map(|e| new_member(shop_id, None, Some(e), now))
        .collect();
    if !new.is_empty() {
        insert_missing(conn, &new)?;
        let missing: Vec<&str> = new.iter().filter_map(|m| m.email.as_deref()).collect();
        let loaded = load_guests(conn, shop_id, &missing)?;
        announce(conn, shop_id, &new, loaded.values(), now)?;
        guests.extend(loaded);
    }
    found.extend(guests);
    Ok(found)
}

/// The live guests (no account, not merged) with these e-mails.
fn load_guests(
    conn: &mut DbConnection,
    shop_id: &str,
    emails: &[&str],
) -> QueryResult<HashMap<String, Member>> {
    let mut found = HashMap::with_capacity(emails.len());
    for chunk in emails.chunks(CHUNK) {
        let rows: Vec<Member> = members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::email.eq_any(chunk))
            .filter(members::platform_customer_id.is_null())
            .filter(members::merged_into.is_null())
            .select(Member::as_select())
            .load(conn)?;
        for m in rows {
            if let Some(email) = m.email.clone() {
                found.insert(email, m);
            }
        }
    }
    Ok(found)
}

fn new_member(
    shop_id: &str,
    customer_id: Option<&str>,
    email: Option<&str>,
    now: NaiveDateTime,
) -> NewMember {
    NewMember {
        id: new_id(),
        shop_id: shop_id.to_owned(),
        platform_customer_id: customer_id.map(str::to_owned),
        email: email.map(str::to_owned),
        first_name: None,
        last_name: None,
        birthday: None,
        accepts_marketing: false,
        referral_code: None,
        created_at: now,
        updated_at: now,
        email_verified: false,
        locale: None,
    }
}

/// Tells subscribers (`member.created`) of the members enrolled here: of those read back, the
/// ones whose row is the one inserted (a concurrent writer announced its own).
fn announce<'m>(
    conn: &mut DbConnection,
    shop_id: &str,
    new: &[NewMember],
    loaded: impl Iterator<Item = &'m Member>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use crate::domain::outgoing::Topic;
    if !crate::services::outgoing::wants(conn, shop_id, Topic::MemberCreated)? {
        return Ok(());
    }
    let made: std::collections::HashSet<&str> = new.iter().map(|m| m.id.as_str()).collect();
    for member in loaded.filter(|m| made.contains(m.id.as_str())) {
        crate::services::outgoing::member_created(conn, member, now)?;
    }
    Ok(())
}

/// Inserts the members, skipping any a concurrent writer enrolled first (the unique customer id
/// and live-guest e-mail indexes decide).
fn insert_missing(conn: &mut DbConnection, new: &[NewMember]) -> QueryResult<()> {
    for chunk in new.chunks(CHUNK) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(members::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}
