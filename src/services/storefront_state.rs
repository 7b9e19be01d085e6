//! What the storefront widget shows: the shopper's points, the rewards on offer (and which they
//! can afford), the ways to earn, and recent history. A pure read: it never creates a member or
//! writes anything, so the hot widget path costs a few indexed reads.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::{LedgerEntry, Member, Shop};
use crate::db::schema::ledger_entries;
use crate::db::DbConnection;
use crate::domain::points::LedgerStatus;
use crate::domain::rewards::RewardKind;
use crate::services::program::Program;

fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(Debug, Serialize)]
pub struct PendingLot {
    pub points: i64,
    /// When these points become spendable.
    pub confirms_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MemberState {
    pub customer_id: String,
    pub points_balance: i64,
    pub pending_points: i64,
    /// Pending points by the date they become spendable, soonest first.
    pub pending: Vec<PendingLot>,
    pub tier: Option<String>,
    pub next_tier: Option<String>,
    pub points_to_next_tier: Option<i64>,
    pub referral_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RewardState {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub points_cost: i64,
    pub affordable: bool,
    /// For variable rewards: the range of points a shopper may spend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_points: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_points: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct WayToEarn {
    pub kind: &'static str,
    pub title: String,
    pub points: i64,
}

#[derive(Debug, Serialize)]
pub struct HistoryLine {
    pub delta: i64,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub confirms_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
pub struct State {
    pub member: Option<MemberState>,
    pub rewards: Vec<RewardState>,
    pub ways_to_earn: Vec<WayToEarn>,
    pub history: Vec<HistoryLine>,
}

/// The widget state for `customer_id` (`None`: a guest).
pub fn state(
    conn: &mut DbConnection,
    shop: &Shop,
    customer_id: Option<&str>,
) -> QueryResult<State> {
    let program = Program::of(shop);
    let member = match customer_id {
        Some(id) => Member::find_by_customer_id(conn, &shop.id, id)?
            .map(|m| (id.to_owned(), Some(m)))
            .or(Some((id.to_owned(), None))),
        None => None,
    };
    let balance = member
        .as_ref()
        .and_then(|(_, m)| m.as_ref())
        .map_or(0, |m| m.points_balance);
    let rewards = program
        .catalog()
        .iter()
        .filter(|r| r.active)
        .map(|r| {
            let (min_points, max_points) = match r.kind {
                RewardKind::Variable {
                    min_points,
                    max_points,
                    ..
                } => (Some(min_points), Some(max_points)),
                _ => (None, None),
            };
            RewardState {
                id: r.id.clone(),
                title: r.title.clone(),
                kind: r.kind.name(),
                points_cost: r.points_cost,
                affordable: member.is_some() && balance >= min_points.unwrap_or(r.points_cost),
                min_points,
                max_points,
            }
        })
        .collect();
    let (member_state, history) = match member {
        None => (None, Vec::new()),
        Some((customer_id, None)) => (Some(empty_member(customer_id)), Vec::new()),
        Some((customer_id, Some(m))) => {
            let lines = LedgerEntry::list_for_member(conn, &shop.id, &m.id, 20)?;
            let pending = pending_lots(conn, &shop.id, &m.id)?;
            let state = MemberState {
                customer_id,
                points_balance: m.points_balance,
                pending_points: m.pending_points,
                pending,
                tier: m.tier.clone(),
                next_tier: None,
                points_to_next_tier: None,
                referral_url: None,
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
        member: member_state,
        rewards,
        ways_to_earn: ways_to_earn(&program, shop),
        history,
    })
}

fn empty_member(customer_id: String) -> MemberState {
    MemberState {
        customer_id,
        points_balance: 0,
        pending_points: 0,
        pending: Vec::new(),
        tier: None,
        next_tier: None,
        points_to_next_tier: None,
        referral_url: None,
    }
}

/// Pending points grouped by the day they confirm (a reversal nets against its award's date).
fn pending_lots(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
) -> QueryResult<Vec<PendingLot>> {
    let rows: Vec<(Option<chrono::NaiveDateTime>, i64)> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::member_id.eq(member_id))
        .filter(ledger_entries::status.eq(LedgerStatus::Pending.as_str()))
        .order(ledger_entries::confirms_at.asc())
        .select((ledger_entries::confirms_at, ledger_entries::delta))
        .load(conn)?;
    let mut lots: Vec<(Option<chrono::NaiveDateTime>, i64)> = Vec::new();
    for (at, delta) in rows {
        let day = at.map(|t| t.date().and_time(chrono::NaiveTime::MIN));
        match lots.last_mut() {
            Some((d, points)) if *d == day => *points += delta,
            _ => lots.push((day, delta)),
        }
    }
    Ok(lots
        .into_iter()
        .filter(|(_, p)| *p > 0)
        .map(|(at, points)| PendingLot {
            points,
            confirms_at: at.map(rfc3339),
        })
        .collect())
}

fn ways_to_earn(program: &Program, shop: &Shop) -> Vec<WayToEarn> {
    let rules = &program.earning;
    let unit = if rules.unit_size == 1 {
        shop.currency.clone()
    } else {
        format!("{} {}", rules.unit_size, shop.currency)
    };
    let mut ways = vec![WayToEarn {
        kind: "order",
        title: format!("{} points for every {unit} spent", rules.points_per_unit),
        points: i64::from(rules.points_per_unit),
    }];
    if rules.signup_points > 0 {
        ways.push(WayToEarn {
            kind: "signup",
            title: "Create an account".into(),
            points: rules.signup_points,
        });
    }
    if rules.birthday_points > 0 {
        ways.push(WayToEarn {
            kind: "birthday",
            title: "On your birthday".into(),
            points: rules.birthday_points,
        });
    }
    if let Some(campaign) = rules.active_campaign(chrono::Utc::now()) {
        ways.push(WayToEarn {
            kind: "campaign",
            title: campaign.name.clone(),
            points: i64::from(rules.points_per_unit) * i64::from(campaign.multiplier_pct) / 100,
        });
    }
    ways
}
