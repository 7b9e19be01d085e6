//! `customers/create|update`: keep the member's profile current, merge a guest with the same
//! e-mail once the platform has verified the account owns it, and award sign-up points once.
//!
//! Deliveries are not ordered: the facts carry the platform's `updated_at`, and facts older
//! than those last applied are skipped, so a late stale update cannot bring back an old
//! e-mail, name or marketing consent.

use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::members;
use crate::db::DbConnection;
use crate::domain::earning::signup_award;
use crate::domain::event::CustomerFacts;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};
use crate::services::members::{self as member_service, GuestClaim};
use crate::services::program::Program;

pub fn apply(
    conn: &mut DbConnection,
    shop: &Shop,
    facts: &CustomerFacts,
    is_new_account: bool,
    now: chrono::NaiveDateTime,
) -> Result<(), LedgerError> {
    let claim = if facts.email_verified {
        GuestClaim::Allowed
    } else {
        GuestClaim::Refused
    };
    let Some(member) = member_service::resolve(
        conn,
        &shop.id,
        Some(&facts.customer),
        None,
        claim,
        None,
        now,
    )?
    .map(|r| r.member) else {
        return Ok(());
    };
    if member.redacted_at.is_some() {
        return Ok(()); // Erased on request: do not collect the data again.
    }
    let facts_at = facts.updated_at.map(|t| t.naive_utc());
    if is_current(facts_at, member.profile_updated_at) {
        let email = facts.customer.email.clone().or(member.email.clone());
        // A changed address is as verified as the platform says; the same one stays proven.
        let email_verified =
            facts.email_verified || (member.email_verified && email == member.email);
        diesel::update(
            members::table
                .filter(members::shop_id.eq(&shop.id))
                .filter(members::id.eq(&member.id)),
        )
        .set((
            members::email.eq(email),
            members::email_verified.eq(email_verified),
            members::first_name.eq(facts.first_name.clone().or(member.first_name.clone())),
            members::last_name.eq(facts.last_name.clone().or(member.last_name.clone())),
            members::birthday.eq(facts.birthday.or(member.birthday)),
            members::accepts_marketing.eq(facts.accepts_marketing),
            members::profile_updated_at.eq(facts_at.or(member.profile_updated_at)),
            members::updated_at.eq(now),
        ))
        .execute(conn)?;
        keep_consent(conn, shop, facts, now)?;
    } else {
        tracing::info!(shop = %shop.domain, "older customer facts than those applied; skipped");
    }
    // Sign-up points only for accounts created while the program runs, not for every old
    // customer whose profile happens to change.
    if let (true, Some(points), Some(id)) = (
        is_new_account,
        signup_award(&Program::of(shop).earning),
        &facts.customer.id,
    ) {
        ledger::post(
            conn,
            &Posting {
                shop_id: shop.id.clone(),
                member_id: member.id.clone(),
                delta: points,
                kind: LedgerKind::Signup,
                status: LedgerStatus::Confirmed,
                reason: Some("Welcome: account created".into()),
                source: "customer".into(),
                source_id: id.as_str().to_owned(),
                action: "signup".into(),
                detail: None,
                confirms_at: None,
                when_short: WhenShort::Refuse,
            },
            now,
        )?;
    }
    let program = Program::of(shop);
    crate::services::tiers::welcome(conn, shop, &program, &member, now)?;
    if is_new_account {
        // Read again: the update above may have brought the address and name.
        let member = crate::db::models::Member::find(conn, &shop.id, &member.id)?;
        crate::services::mail::queue(
            conn,
            shop,
            &program,
            &member,
            crate::domain::mail::Kind::Welcome,
            "welcome",
            serde_json::json!({}),
            now,
        )?;
    }
    Ok(())
}

/// The platform's word on marketing e-mail: a withdrawn consent puts the address on the shop's
/// suppression list, a given one takes it off (the customer opted back in).
fn keep_consent(
    conn: &mut DbConnection,
    shop: &Shop,
    facts: &CustomerFacts,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    let Some(email) = facts.customer.email.as_deref() else {
        return Ok(());
    };
    use crate::db::models::email::{suppress, unsuppress};
    if facts.marketing_withdrawn {
        suppress(conn, &shop.id, email, "consent", now)
    } else if facts.accepts_marketing {
        unsuppress(conn, &shop.id, email)
    } else {
        Ok(())
    }
}

/// Whether facts stamped `facts_at` are at least as new as those last applied (`applied_at`).
/// Facts without a time are applied only while no dated facts have been: their age is unknown,
/// so they must not overwrite facts known to be current. (Equal times: a redelivery of the same
/// version, harmless to apply again.)
fn is_current(
    facts_at: Option<chrono::NaiveDateTime>,
    applied_at: Option<chrono::NaiveDateTime>,
) -> bool {
    match (facts_at, applied_at) {
        (Some(facts), Some(applied)) => facts >= applied,
        (_, None) => true,
        (None, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::is_current;

    #[test]
    fn only_facts_at_least_as_new_as_the_applied_ones_are_current() {
        let day = |d| {
            NaiveDate::from_ymd_opt(2026, 11, d)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .unwrap()
        };
        assert!(is_current(Some(day(2)), None));
        assert!(is_current(None, None));
        assert!(is_current(Some(day(2)), Some(day(1))));
        assert!(is_current(Some(day(2)), Some(day(2))));
        assert!(!is_current(Some(day(1)), Some(day(2))));
        assert!(!is_current(None, Some(day(2))));
    }
}
