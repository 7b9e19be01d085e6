//! `customers/create|update`: keep the member's profile current, merge a guest with the same
//! e-mail, and award sign-up points once.

use diesel::prelude::*;

use crate::db::models::Shop;
use crate::db::schema::members;
use crate::db::DbConnection;
use crate::domain::earning::signup_award;
use crate::domain::event::CustomerFacts;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};
use crate::services::members as member_service;
use crate::services::program::Program;

pub fn apply(
    conn: &mut DbConnection,
    shop: &Shop,
    facts: &CustomerFacts,
    is_new_account: bool,
    now: chrono::NaiveDateTime,
) -> Result<(), LedgerError> {
    let Some(member) = member_service::resolve(conn, &shop.id, Some(&facts.customer), None, now)?
    else {
        return Ok(());
    };
    if member.redacted_at.is_some() {
        return Ok(()); // Erased on request: do not collect the data again.
    }
    diesel::update(
        members::table
            .filter(members::shop_id.eq(&shop.id))
            .filter(members::id.eq(&member.id)),
    )
    .set((
        members::email.eq(facts.customer.email.clone().or(member.email.clone())),
        members::first_name.eq(facts.first_name.clone().or(member.first_name.clone())),
        members::last_name.eq(facts.last_name.clone().or(member.last_name.clone())),
        members::birthday.eq(facts.birthday.or(member.birthday)),
        members::accepts_marketing.eq(facts.accepts_marketing),
        members::updated_at.eq(now),
    ))
    .execute(conn)?;
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
    Ok(())
}
