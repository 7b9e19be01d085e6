//! What the owner and the member see of a tier: the contract's member fields and the history.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::{Member, Shop};
use crate::db::schema::tier_events;
use crate::db::DbConnection;
use crate::domain::tiers::{progress, Basis, HeldBy};
use crate::domain::widget::Locale;
use crate::services::program::Program;

use super::activity;
use super::assess::{state_of, today};

/// The member's tier as the API and the widget show it (CONTRACT.md, "VIP tiers").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierView {
    pub tier: Option<String>,
    pub tier_name: Option<String>,
    pub tier_held_by: HeldBy,
    pub next_tier: Option<String>,
    pub next_tier_name: Option<String>,
    /// In the basis's unit.
    pub to_next_tier: i64,
    pub to_keep_tier: i64,
    pub tier_review_at: Option<NaiveDate>,
    pub tier_basis: Basis,
    /// The qualifying amount now, and the next level's threshold (for a progress bar).
    pub tier_standing: i64,
    pub next_tier_threshold: Option<i64>,
    pub tier_perks: Vec<String>,
}

/// The view of `member`'s tier on `now`, names in `locale`.
pub fn member_view(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    locale: Locale,
    now: NaiveDateTime,
) -> QueryResult<TierView> {
    let tiers = program.tier_program();
    let state = state_of(member);
    let mine = if tiers.levels.is_empty() {
        Vec::new()
    } else {
        activity::of_members(
            conn,
            &shop.id,
            std::slice::from_ref(&member.id),
            tiers.basis,
        )?
        .remove(&member.id)
        .unwrap_or_default()
    };
    let p = progress(&tiers, &state, &mine, today(shop, now));
    let level = state.tier.as_deref().and_then(|t| tiers.level(t));
    let next = p.next_tier.as_deref().and_then(|t| tiers.level(t));
    Ok(TierView {
        tier: state.tier.clone(),
        tier_name: level.map(|l| l.name_in(locale).to_owned()),
        tier_held_by: state.held_by,
        next_tier: p.next_tier.clone(),
        next_tier_name: next.map(|l| l.name_in(locale).to_owned()),
        to_next_tier: p.to_next_tier,
        to_keep_tier: p.to_keep_tier,
        tier_review_at: state.review_at,
        tier_basis: tiers.basis,
        tier_standing: p.standing,
        next_tier_threshold: p.next_threshold,
        tier_perks: level.map(|l| l.perks.clone()).unwrap_or_default(),
    })
}

/// The view for a customer with no member row yet: no tier, the first level ahead.
pub fn empty_view(program: &Program, locale: Locale) -> TierView {
    let tiers = program.tier_program();
    let p = progress(&tiers, &Default::default(), &[], NaiveDate::MIN);
    let next = p.next_tier.as_deref().and_then(|t| tiers.level(t));
    TierView {
        tier: None,
        tier_name: None,
        tier_held_by: HeldBy::Qualified,
        next_tier: p.next_tier.clone(),
        next_tier_name: next.map(|l| l.name_in(locale).to_owned()),
        to_next_tier: p.to_next_tier,
        to_keep_tier: 0,
        tier_review_at: None,
        tier_basis: tiers.basis,
        tier_standing: 0,
        next_tier_threshold: p.next_threshold,
        tier_perks: Vec::new(),
    }
}

/// One entry of `GET /customers/{id}/tier-history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierEventView {
    pub customer_id: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `qualified`, `grace_ended`, `membership`, `program_changed`, or `grace_started` (no
    /// change: the member stopped qualifying and keeps the tier until `review_on`).
    pub reason: String,
    pub review_on: Option<NaiveDate>,
    /// RFC 3339.
    pub at: String,
}

/// The member's tier changes (and starts of grace), oldest first.
pub fn history(
    conn: &mut DbConnection,
    shop_id: &str,
    member: &Member,
) -> QueryResult<Vec<TierEventView>> {
    type Row = (
        Option<String>,
        Option<String>,
        String,
        Option<NaiveDate>,
        NaiveDateTime,
    );
    let rows: Vec<Row> = tier_events::table
        .filter(tier_events::shop_id.eq(shop_id))
        .filter(tier_events::member_id.eq(&member.id))
        .order((tier_events::at.asc(), tier_events::id.asc()))
        .select((
            tier_events::from_tier,
            tier_events::to_tier,
            tier_events::reason,
            tier_events::review_on,
            tier_events::at,
        ))
        .load(conn)?;
    let customer_id = member.platform_customer_id.clone().unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|(from, to, reason, review_on, at)| TierEventView {
            customer_id: customer_id.clone(),
            from,
            to,
            reason,
            review_on,
            at: crate::services::customers::rfc3339(at),
        })
        .collect())
}
