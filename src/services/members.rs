//! Finding or creating the member an event is about, and merging a guest (known only by the
//! e-mail of their orders) into the customer account once it appears. A merge moves the guest's
//! ledger lines and orders and adds its cached balances in the same transaction, so balances
//! and ledger keep agreeing.
//!
//! Why a merge needs proof: anyone can open an account with someone else's e-mail address. A
//! guest's points are therefore claimed only by an account whose e-mail the platform marks
//! verified, or by the account's order placed with that e-mail (its confirmation went to that
//! inbox); the caller says which through [`GuestClaim`]. The same proof, kept as
//! `email_verified`, decides whether a later guest checkout with that e-mail goes to the account.

use diesel::prelude::*;

use crate::db::models::{Member, NewMember};
use crate::db::schema::{ledger_entries, members, orders};
use crate::db::{new_id, DbConnection};
use crate::domain::event::{normalise_email, CustomerRef};
use crate::services::batch;

/// Whether the event proves the account owns its e-mail, so it may claim a guest's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestClaim {
    /// Merge a guest with the account's e-mail into the account.
    Allowed,
    /// Leave any guest with that e-mail alone (an unverified account).
    Refused,
}

/// The member [`resolve`] finds, and whether this call made them.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub member: Member,
    /// Made by this call, with nothing merged into them: they have no history before this
    /// event (an order that made its member is that member's only order).
    pub new: bool,
}

/// The e-mail [`resolve`] knows a customer by: the reference's own, else the event's, normalised.
pub fn email_of(customer: Option<&CustomerRef>, fallback_email: Option<&str>) -> Option<String> {
    customer
        .and_then(|c| c.email.as_deref())
        .or(fallback_email)
        .and_then(normalise_email)
}

/// The member for a customer reference, creating it if needed; `None` when the event names
/// neither a customer id nor an e-mail (nobody to credit). A guest with the account's e-mail is
/// merged into the account only when `claim` allows it. Says whether the member is new.
/// `locale` is the customer's language as the event reports it, given to a member made here.
pub fn resolve(
    conn: &mut DbConnection,
    shop_id: &str,
    customer: Option<&CustomerRef>,
    fallback_email: Option<&str>,
    claim: GuestClaim,
    locale: Option<&str>,
    now: chrono::NaiveDateTime,
) -> QueryResult<Option<Resolved>> {
    let email = email_of(customer, fallback_email);
    if let Some(id) = customer.and_then(|c| c.id.as_ref()) {
        // As an applier batch read them when it started, if this is the customer's first event
        // in it; else a guest who may be claimed is looked for in the same read as the account.
        let prefetched = batch::take_account(shop_id, id.as_str());
        let (found, guest) = match (&email, claim) {
            (Some(email), GuestClaim::Allowed) => {
                match (prefetched, batch::guest_with_email(shop_id, email)) {
                    (Some(account), Some(guest)) => (account, guest),
                    _ => Member::find_by_customer_id_and_guest(conn, shop_id, id.as_str(), email)?,
                }
            }
            _ => match prefetched {
                Some(account) => (account, None),
                None => (
                    Member::find_by_customer_id(conn, shop_id, id.as_str())?,
                    None,
                ),
            },
        };
        let (mut member, new) = match found {
            Some(m) => (m, false),
            // Made with what the event proves, rather than updated right after.
            None => insert(
                conn,
                shop_id,
                Some(id.as_str()),
                email.as_deref(),
                Proven {
                    verified: email.is_some() && claim == GuestClaim::Allowed,
                    locale,
                },
                now,
            )?,
        };
        if let (Some(email), GuestClaim::Allowed) = (&email, claim) {
            if !member.email_verified && member.email.as_deref() == Some(email.as_str()) {
                diesel::update(
                    members::table
                        .filter(members::shop_id.eq(shop_id))
                        .filter(members::id.eq(&member.id)),
                )
                .set(members::email_verified.eq(true))
                .execute(conn)?;
                member.email_verified = true;
            }
            if let Some(guest) = guest {
                merge_guest(conn, shop_id, &guest.id, &member.id, now)?;
                // The merge moved the guest's points onto the member: read the new balances.
                let member = Member::find(conn, shop_id, &member.id)?;
                return Ok(Some(Resolved { member, new: false }));
            }
        }
        return Ok(Some(Resolved { member, new }));
    }
    let Some(email) = email else { return Ok(None) };
    // A guest order from the e-mail of an existing account goes to that account, if the account
    // has proven the e-mail is theirs; else to the guest, whom the account may claim later.
    let account = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::email.eq(&email))
        .filter(members::email_verified.eq(true))
        .filter(members::platform_customer_id.is_not_null())
        .filter(members::redacted_at.is_null())
        .order(members::created_at.asc())
        .select(Member::as_select())
        .first(conn)
        .optional()?;
    if let Some(account) = account {
        return Ok(Some(Resolved {
            member: serialised_with_own_events(conn, shop_id, account)?,
            new: false,
        }));
    }
    let (member, new) = match Member::find_guest_by_email(conn, shop_id, &email)? {
        Some(guest) => (guest, false),
        None => insert(
            conn,
            shop_id,
            None,
            Some(&email),
            Proven {
                verified: false,
                locale,
            },
            now,
        )?,
    };
    Ok(Some(Resolved { member, new }))
}

/// An account a guest order's e-mail led to, once no other applier is applying the account's own
/// events. This order's claim locked no customer (its delivery names none), so another applier
/// may be applying an event of the account right now; deciding beside it on what each read
/// before the other committed gave the account two surveys on one day. On PostgreSQL the
/// account's customer lock is taken (waiting for that applier to commit) and the account read
/// again as it then is; SQLite has one writer.
fn serialised_with_own_events(
    conn: &mut DbConnection,
    shop_id: &str,
    account: Member,
) -> QueryResult<Member> {
    if !matches!(conn, DbConnection::Postgresql(_)) {
        return Ok(account);
    }
    crate::services::ingest::lock_subjects(
        conn,
        [crate::services::ingest::ShopSubject {
            shop_id,
            customer_id: account.platform_customer_id.as_deref(),
            order_id: None,
        }],
    )?;
    Member::find(conn, shop_id, &account.id)
}

/// The member a customer reference names, if the program knows them; never creates one.
pub fn find_existing(
    conn: &mut DbConnection,
    shop_id: &str,
    customer: &CustomerRef,
) -> QueryResult<Option<Member>> {
    if let Some(id) = &customer.id {
        if let Some(m) = Member::find_by_customer_id(conn, shop_id, id.as_str())? {
            return Ok(Some(m));
        }
    }
    let Some(email) = customer.email.as_deref().and_then(normalise_email) else {
        return Ok(None);
    };
    members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::email.eq(email))
        .filter(members::merged_into.is_null())
        .select(Member::as_select())
        .first(conn)
        .optional()
}

/// What the event that makes a member tells about them beyond who they are.
struct Proven<'a> {
    /// The e-mail is proven theirs (see [`GuestClaim`]).
    verified: bool,
    locale: Option<&'a str>,
}

/// Makes the member, or finds the one another delivery made first; returns it and whether it
/// was made here.
fn insert(
    conn: &mut DbConnection,
    shop_id: &str,
    customer_id: Option<&str>,
    email: Option<&str>,
    proven: Proven<'_>,
    now: chrono::NaiveDateTime,
) -> QueryResult<(Member, bool)> {
    let id = new_id();
    let member = NewMember {
        id: id.clone(),
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
        email_verified: proven.verified,
        locale: proven.locale.map(str::to_owned),
    }
    .insert_or_get(conn)?;
    // Another delivery may have enrolled the same customer first: only the row made here is new.
    let made = member.id == id;
    if made && customer_id.is_none() {
        // A new guest: the guests an applier batch read by e-mail are not all there are.
        batch::forget_members();
    }
    if made {
        crate::services::outgoing::member_created(conn, &member, now)?;
    }
    Ok((member, made))
}

/// Moves a guest's history and balances into `target` and retires the guest row.
pub fn merge_guest(
    conn: &mut DbConnection,
    shop_id: &str,
    guest_id: &str,
    target_id: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    // What an open applier batch collected about either is written before they are merged,
    // and the orders it read are read again (the guest's now belong to the account).
    // Held orders first: the roll-ups may read orders.
    crate::services::ledger::write_held(conn)?;
    crate::services::retention::rollups::flush(conn, shop_id)?;
    batch::forget_orders();
    batch::forget_members();
    let guest = Member::lock(conn, shop_id, guest_id)?;
    Member::lock(conn, shop_id, target_id)?;
    diesel::update(
        ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .filter(ledger_entries::member_id.eq(guest_id)),
    )
    .set(ledger_entries::member_id.eq(target_id))
    .execute(conn)?;
    diesel::update(
        orders::table
            .filter(orders::shop_id.eq(shop_id))
            .filter(orders::member_id.eq(guest_id)),
    )
    .set(orders::member_id.eq(target_id))
    .execute(conn)?;
    // The purchase facts follow the orders: the account's are rebuilt with the guest's orders.
    crate::services::retention::facts::forget(conn, shop_id, &[guest_id.to_owned()])?;
    crate::services::retention::facts::rebuild(conn, shop_id, target_id, now)?;
    crate::services::retention::metrics_customers::customer_moved(
        conn, shop_id, guest_id, target_id,
    )?;
    let timezone: String = crate::db::schema::shops::table
        .find(shop_id)
        .select(crate::db::schema::shops::timezone)
        .first(conn)?;
    crate::services::retention::metrics_engagement::rebuild(
        conn,
        shop_id,
        &timezone,
        Some(target_id),
    )?;
    // Tier activity and grants follow, and the account is evaluated with them at once.
    if crate::services::tiers::move_to(conn, shop_id, guest_id, target_id)? > 0 {
        let shop = crate::db::models::Shop::find(conn, shop_id)?;
        let program = crate::services::program::Program::of(&shop);
        let ids = [target_id.to_owned()];
        crate::services::tiers::assess(
            conn,
            &shop,
            &program,
            &ids,
            crate::domain::tiers::Occasion::Activity,
            now,
        )?;
    }
    diesel::update(
        members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::id.eq(target_id)),
    )
    .set(crate::services::ledger::Moved::holdings_of(&guest).changeset(now))
    .execute(conn)?;
    diesel::update(
        members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::id.eq(guest_id)),
    )
    .set((
        members::points_balance.eq(0),
        members::pending_points.eq(0),
        members::lifetime_points.eq(0),
        members::merged_into.eq(Some(target_id)),
        members::updated_at.eq(now),
    ))
    .execute(conn)?;
    tracing::info!(
        guest = guest_id,
        member = target_id,
        "merged a guest into a customer account"
    );
    Ok(())
}
