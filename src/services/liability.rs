//! The points liability report: what the program owes its members, and what happened to points
//! over a period. Everything is summed from the ledger itself, never from cached balances, so
//! the report and the ledger cannot disagree.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::Shop;
use crate::db::schema::ledger_entries;
use crate::db::DbConnection;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::rewards::RewardKind;
use crate::services::program::Program;

/// Points and their value in the shop's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub points: i64,
    /// In minor units of the shop's currency.
    pub value_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiabilityReport {
    pub currency: String,
    pub from: String,
    pub to: String,
    /// What one point is worth: `value_per_points_minor` minor units per `per_points` points,
    /// from the best-value fixed-amount reward of the catalog.
    pub value_per_points_minor: i64,
    pub per_points: i64,
    /// Earned in the period (orders, sign-up, birthdays, referrals, imported balances, positive
    /// adjustments), pending or not.
    pub earned: Amount,
    /// Spent on rewards in the period, net of rewards given back.
    pub spent: Amount,
    /// Taken back by refunds and cancellations in the period.
    pub reversed: Amount,
    pub expired: Amount,
    /// Taken away by negative owner adjustments in the period.
    pub adjusted_down: Amount,
    /// Pending at the end of the period (earned, inside the return window).
    pub pending: Amount,
    /// Spendable at the end of the period: the liability.
    pub outstanding: Amount,
}

/// The worth of points: the best rate among fixed-amount rewards (what a shopper can get at most
/// for a point), or one minor unit per point when the catalog has none.
fn point_value(program: &Program) -> (i64, i64) {
    program
        .catalog()
        .iter()
        .filter(|r| r.active)
        .filter_map(|r| match r.kind {
            RewardKind::FixedAmount { amount_minor } => Some((amount_minor, r.points_cost)),
            _ => None,
        })
        .max_by(|a, b| {
            (i128::from(a.0) * i128::from(b.1)).cmp(&(i128::from(b.0) * i128::from(a.1)))
        })
        .unwrap_or((1, 1))
}

/// Points taken away, shown as a positive amount; saturating, as `-i64::MIN` does not exist.
fn neg(points: i64) -> i64 {
    points.saturating_neg()
}

pub fn report(
    conn: &mut DbConnection,
    shop: &Shop,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<LiabilityReport> {
    let (value, per) = point_value(&Program::of(shop));
    let amount = |points: i64| Amount {
        points,
        value_minor: i64::try_from(i128::from(points) * i128::from(value) / i128::from(per.max(1)))
            .unwrap_or(i64::MAX),
    };
    let base = || {
        ledger_entries::table
            .filter(ledger_entries::shop_id.eq(&shop.id))
            .filter(ledger_entries::status.ne(LedgerStatus::Void.as_str()))
            .into_boxed()
    };
    let total =
        |conn: &mut DbConnection, q: ledger_entries::BoxedQuery<'_, _>| -> QueryResult<i64> {
            // SUM of BIGINT is NUMERIC on PostgreSQL; the cast keeps one portable integer type.
            q.select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "COALESCE(CAST(SUM(delta) AS BIGINT), 0)",
            ))
            .first::<i64>(conn)
        };
    let in_period = || {
        base()
            .filter(ledger_entries::created_at.ge(from))
            .filter(ledger_entries::created_at.lt(to))
    };
    let kinds = |ks: &[LedgerKind]| ks.iter().map(|k| k.as_str()).collect::<Vec<_>>();
    let earned = total(
        conn,
        in_period()
            .filter(ledger_entries::kind.eq_any(kinds(&[
                LedgerKind::Earn,
                LedgerKind::Signup,
                LedgerKind::Birthday,
                LedgerKind::Referral,
                LedgerKind::Import,
                LedgerKind::Adjustment,
            ])))
            .filter(ledger_entries::delta.gt(0)),
    )?;
    let spent = neg(total(
        conn,
        in_period().filter(
            ledger_entries::kind.eq_any(kinds(&[LedgerKind::Redeem, LedgerKind::RedeemRefund])),
        ),
    )?);
    let reversed = neg(total(
        conn,
        in_period().filter(ledger_entries::kind.eq(LedgerKind::Reversal.as_str())),
    )?);
    let expired = neg(total(
        conn,
        in_period().filter(ledger_entries::kind.eq(LedgerKind::Expiry.as_str())),
    )?);
    let adjusted_down = neg(total(
        conn,
        in_period()
            .filter(ledger_entries::kind.eq(LedgerKind::Adjustment.as_str()))
            .filter(ledger_entries::delta.lt(0)),
    )?);
    // Point-in-time at `to`: lines created before it, in the status they have now (a line
    // confirmed after `to` counts as pending at `to` only if its confirmation date is later).
    let until = || base().filter(ledger_entries::created_at.lt(to));
    let pending = total(
        conn,
        until().filter(
            ledger_entries::status
                .eq(LedgerStatus::Pending.as_str())
                .or(ledger_entries::confirms_at.ge(to)),
        ),
    )?;
    let outstanding = total(
        conn,
        until()
            .filter(ledger_entries::status.eq(LedgerStatus::Confirmed.as_str()))
            .filter(
                ledger_entries::confirms_at
                    .is_null()
                    .or(ledger_entries::confirms_at.lt(to)),
            ),
    )?;
    let stamp = |t: NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    Ok(LiabilityReport {
        currency: shop.currency.clone(),
        from: stamp(from),
        to: stamp(to),
        value_per_points_minor: value,
        per_points: per,
        earned: amount(earned),
        spent: amount(spent),
        reversed: amount(reversed),
        expired: amount(expired),
        adjusted_down: amount(adjusted_down),
        pending: amount(pending),
        outstanding: amount(outstanding),
    })
}
