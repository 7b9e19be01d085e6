//! What the storefront widget shows: the shopper's points, the rewards on offer (and which they
//! can afford), the ways to earn, the referral offer and recent history. A pure read: it never
//! creates a member or writes anything, so the hot widget path costs a few indexed reads. (A
//! member's first read after referrals are switched on lacks a referral code; the handler makes
//! one then, once, in a write of its own.)

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use diesel::prelude::*;
use parking_lot::Mutex;
use serde_json::value::RawValue;

use crate::db::models::{LedgerEntry, Member, Shop};
use crate::db::DbConnection;
use crate::domain::rewards::RewardKind;
use crate::domain::widget::{fill, Locale};
use crate::services::program::Program;
use crate::services::tiers::{self, TierView};

mod shape;
mod wording;
pub use shape::{
    HistoryLine, Look, MemberState, NpsAsk, PendingLot, ReferralOffer, RewardState, SharedJson,
    State, WayToEarn,
};
use wording::{confirmation, describe, ways_to_earn, MoneyFormat, Texts};

fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Everything in the state that depends only on the shop's program and currency: the program
/// itself and, per language the widget speaks, what it shows. Built once and reused until the
/// program or currency changes. Checked against the stored program text on every use, so it
/// can never be stale, with or without other instances.
#[derive(Debug)]
struct ShopParts {
    program_json: String,
    currency: String,
    program: Program,
    /// One per `Locale::ALL`, in that order.
    by_locale: Vec<ShopPart>,
}

/// What a shop's widget shows in one language.
#[derive(Debug)]
struct ShopPart {
    locale: Locale,
    texts: Texts,
    texts_json: SharedJson,
    look: Look,
    /// The active rewards, `affordable` still false.
    rewards: Vec<RewardState>,
    referral: Option<ReferralOffer>,
}

impl ShopParts {
    fn build(shop: &Shop) -> Self {
        let program = Program::of(shop);
        let by_locale = Locale::ALL
            .iter()
            .map(|&locale| build_shop_part(shop, &program, locale))
            .collect();
        Self {
            program_json: shop.program.clone(),
            currency: shop.currency.clone(),
            program,
            by_locale,
        }
    }

    fn part(&self, locale: Locale) -> Option<&ShopPart> {
        self.by_locale.iter().find(|p| p.locale == locale)
    }
}

/// At most this many shops' parts are kept; past it the cache starts over.
const MAX_CACHED_SHOPS: usize = 4096;

static SHOP_PARTS: LazyLock<Mutex<HashMap<String, Arc<ShopParts>>>> =
    LazyLock::new(Default::default);

fn shop_parts(shop: &Shop) -> Arc<ShopParts> {
    if let Some(cached) = SHOP_PARTS.lock().get(&shop.id) {
        if cached.program_json == shop.program && cached.currency == shop.currency {
            return cached.clone();
        }
    }
    let parts = Arc::new(ShopParts::build(shop));
    let mut cache = SHOP_PARTS.lock();
    if cache.len() >= MAX_CACHED_SHOPS {
        cache.clear();
    }
    cache.insert(shop.id.clone(), parts.clone());
    parts
}

fn build_shop_part(shop: &Shop, program: &Program, locale: Locale) -> ShopPart {
    let texts = program.widget.texts_for(locale);
    let money = MoneyFormat::of(shop);
    let rewards = program
        .catalog()
        .iter()
        .filter(|r| r.active)
        .map(|r| {
            let (min_points, max_points, points_per_unit) = match r.kind {
                RewardKind::Variable {
                    min_points,
                    max_points,
                    points_per_unit,
                } => (Some(min_points), Some(max_points), Some(points_per_unit)),
                _ => (None, None, None),
            };
            RewardState {
                id: r.id.clone(),
                title: r.titles.get(&locale).unwrap_or(&r.title).clone(),
                description: describe(r, &texts, &money),
                confirmation: confirmation(r, &texts, &money),
                conditions: r.min_order_minor.and_then(|min| {
                    let t = texts.get("min_order")?;
                    Some(fill(t, &[("amount", &money.format(min))]))
                }),
                kind: r.kind.name(),
                points_cost: r.points_cost,
                affordable: false,
                min_points,
                max_points,
                points_per_unit,
                expires_days: r.expires_days,
                tier: r.tier.clone(),
                tier_name: r.tier.as_deref().and_then(|t| {
                    let level = program.tiers.as_ref()?.level(t)?;
                    Some(level.name_in(locale).to_owned())
                }),
            }
        })
        .collect();
    let widget = &program.widget;
    let look = Look {
        accent_color: widget.accent_color.clone(),
        accent_text_color: widget.accent_text_color(),
        position: widget.position,
        join_url: widget.join_url.clone(),
        login_url: widget.login_url.clone(),
    };
    // Serialising a map of strings cannot fail.
    let texts_json = SharedJson(Arc::from(
        serde_json::value::to_raw_value(&texts).unwrap_or_else(|_| RawValue::NULL.to_owned()),
    ));
    let referral = wording::referral_offer(program, &texts, &money);
    ShopPart {
        locale,
        texts,
        texts_json,
        look,
        rewards,
        referral,
    }
}

/// The widget state for `customer_id` (`None`: a guest), in the storefront's `locale` if the
/// widget speaks it. Reads one snapshot, so the balance and the history lines agree.
/// `public_url` is the base of referral links.
pub fn state(
    conn: &mut DbConnection,
    shop: &Shop,
    customer_id: Option<&str>,
    requested_locale: Option<&str>,
    public_url: &str,
) -> QueryResult<State> {
    let parts = shop_parts(shop);
    let locale = Locale::negotiate(requested_locale, parts.program.widget.default_locale);
    let Some(part) = parts.part(locale) else {
        // Every part of `Locale::ALL` is built, and `negotiate` only answers one of those.
        return Err(diesel::result::Error::NotFound);
    };
    let member = match customer_id {
        Some(id) => Some((
            id.to_owned(),
            Member::find_by_customer_id(conn, &shop.id, id)?,
        )),
        None => None,
    };
    let known = member.as_ref().and_then(|(_, m)| m.as_ref());
    let balance = known.map_or(0, |m| m.points_balance);
    let tiers = parts.program.tier_program();
    let rank_of = |t: Option<&str>| t.and_then(|t| tiers.rank(t));
    let member_rank = rank_of(known.and_then(|m| m.tier.as_deref()));
    let rewards = part
        .rewards
        .iter()
        .map(|r| RewardState {
            affordable: member.is_some()
                && balance >= r.min_points.unwrap_or(r.points_cost)
                && member_rank >= rank_of(r.tier.as_deref()),
            ..r.clone()
        })
        .collect();
    let nps = NpsAsk {
        ask: match &member {
            Some((_, Some(m))) => {
                crate::services::nps::widget_asks(conn, shop, m, crate::db::now())?
            }
            _ => false,
        },
    };
    let (member_state, history) = match member {
        None => (None, Vec::new()),
        Some((customer_id, None)) => {
            let tier = tiers::empty_view(&parts.program, locale);
            (Some(empty_member(customer_id, tier)), Vec::new())
        }
        Some((customer_id, Some(m))) => {
            let lines = LedgerEntry::history_for_member(conn, &shop.id, &m.id, 20)?;
            let pending = pending_lots(conn, &shop.id, &m.id)?;
            let tier =
                tiers::member_view(conn, shop, &parts.program, &m, locale, crate::db::now())?;
            let state = MemberState {
                customer_id,
                points_balance: m.points_balance,
                pending_points: m.pending_points,
                pending,
                points_to_next_tier: tier.to_next_tier,
                referral_url: m
                    .referral_code
                    .as_deref()
                    .filter(|_| part.referral.is_some())
                    .map(|code| crate::services::referrals::referral_url(public_url, code)),
                referral_code: m.referral_code.clone().filter(|_| part.referral.is_some()),
                member_id: Some(m.id.clone()),
                tier,
            };
            let history = lines
                .into_iter()
                .map(|e| HistoryLine {
                    delta: e.delta,
                    kind: e.kind,
                    status: e.status,
                    reason: e.reason,
                    confirms_at: e.confirms_at.map(rfc3339),
                    created_at: rfc3339(e.created_at),
                })
                .collect();
            (Some(state), history)
        }
    };
    Ok(State {
        locale: locale.as_str(),
        dir: locale.dir(),
        currency: shop.currency.clone(),
        currency_exponent: MoneyFormat::of(shop).currency.exponent,
        widget: part.look.clone(),
        ways_to_earn: ways_to_earn(&parts.program, shop, &part.texts),
        texts: part.texts_json.clone(),
        member: member_state,
        referral: part.referral.clone(),
        rewards,
        history,
        nps,
    })
}

fn empty_member(customer_id: String, tier: TierView) -> MemberState {
    MemberState {
        customer_id,
        points_balance: 0,
        pending_points: 0,
        pending: Vec::new(),
        points_to_next_tier: tier.to_next_tier,
        referral_url: None,
        referral_code: None,
        member_id: None,
        tier,
    }
}

/// Pending points grouped by the day they confirm (a reversal nets against its award's date).
fn pending_lots(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
) -> QueryResult<Vec<PendingLot>> {
    Ok(
        crate::services::ledger::pending_by_day(conn, shop_id, member_id)?
            .into_iter()
            .map(|d| PendingLot {
                points: d.points,
                confirms_at: d
                    .day
                    .map(|day| rfc3339(day.and_time(chrono::NaiveTime::MIN))),
            })
            .collect(),
    )
}
