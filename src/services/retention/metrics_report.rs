//! `GET /api/admin/v1/metrics`: the contract's figures for `[from, to]` (shop-local days), read
//! from the roll-ups: the shop's daily rows up to `to` (one row per day with orders or points,
//! a few thousand at most), the runs of activity that ended in the period (churn), and two
//! indexed counts for the members' engagement. No order row is read.

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use diesel::dsl::{count_star, exists, not};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::Shop;
use crate::db::schema::{members, metric_days, metric_spells};
use crate::db::DbConnection;
use crate::domain::calendar;
use crate::domain::retention::{Figures, NpsReport, Sums};

#[derive(Debug, Default, Queryable, Selectable)]
#[diesel(table_name = metric_days)]
struct StoredDay {
    day: NaiveDate,
    orders: i64,
    revenue_minor: i64,
    member_orders: i64,
    member_revenue_minor: i64,
    first_revenue_minor: i64,
    new_customers: i64,
    window_1: i64,
    window_2: i64,
    window_3: i64,
    window_4: i64,
    window_5: i64,
    clv_customers: i64,
    clv_revenue_minor: i64,
    points_earned: i64,
    points_spent: i64,
}

impl StoredDay {
    fn empty(day: NaiveDate) -> Self {
        Self {
            day,
            ..Self::default()
        }
    }

    fn add(&mut self, d: &crate::domain::retention::DayDelta) {
        self.orders += d.orders;
        self.revenue_minor += d.revenue_minor;
        self.member_orders += d.member_orders;
        self.member_revenue_minor += d.member_revenue_minor;
        self.first_revenue_minor += d.first_revenue_minor;
        self.new_customers += d.new_customers;
        let [w1, w2, w3, w4, w5] = d.windows;
        self.window_1 += w1;
        self.window_2 += w2;
        self.window_3 += w3;
        self.window_4 += w4;
        self.window_5 += w5;
        self.clv_customers += d.clv_customers;
        self.clv_revenue_minor += d.clv_revenue_minor;
        self.points_earned += d.points_earned;
        self.points_spent += d.points_spent;
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Customers {
    pub at_start: i64,
    pub new: i64,
    pub at_end: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Aov {
    pub all: Option<i64>,
    pub members: Option<i64>,
    pub non_members: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Revenue {
    pub total: i64,
    pub members: i64,
    pub repeat: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeriesDay {
    pub date: NaiveDate,
    pub orders: i64,
    pub revenue_minor: i64,
    pub new_customers: i64,
    pub points_earned: i64,
    pub points_spent: i64,
}

/// The contract's body, field for field.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricsReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub customers: Customers,
    pub crr_pct: Option<f64>,
    pub churn_pct: Option<f64>,
    pub rpr_pct: Option<f64>,
    pub lcr_pct: Option<f64>,
    pub aer_pct: Option<f64>,
    pub aov_minor: Aov,
    pub clv_minor: Option<i64>,
    pub redemption_rate_pct: Option<f64>,
    pub revenue_minor: Revenue,
    pub avg_days_member_before_churn: Option<f64>,
    pub nps: NpsReport,
    pub series: Vec<SeriesDay>,
}

/// The figures for `[from, to]` (`from <= to`, checked by the caller).
pub fn report(
    conn: &mut DbConnection,
    shop: &Shop,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<MetricsReport> {
    let zone = calendar::zone(&shop.timezone);
    let before = from.pred_opt().unwrap_or(from);
    let stored: Vec<StoredDay> = metric_days::table
        .filter(metric_days::shop_id.eq(&shop.id))
        .filter(metric_days::day.le(to))
        .order(metric_days::day)
        .select(StoredDay::as_select())
        .load(conn)?;
    // The days as folded, plus the changes recorded since the last fold.
    let mut by_day: std::collections::BTreeMap<NaiveDate, StoredDay> =
        stored.into_iter().map(|d| (d.day, d)).collect();
    for (day, delta) in super::metrics::unfolded_changes(conn, &shop.id, to)? {
        by_day
            .entry(day)
            .or_insert_with(|| StoredDay::empty(day))
            .add(&delta);
    }
    let rows: Vec<StoredDay> = by_day.into_values().collect();
    let mut sums = Sums::default();
    let (mut w_start, mut w_end) = ([0i64; 5], [0i64; 5]);
    let mut series: Vec<SeriesDay> = Vec::new();
    for row in &rows {
        let windows = [
            row.window_1,
            row.window_2,
            row.window_3,
            row.window_4,
            row.window_5,
        ];
        for ((start, end), w) in w_start.iter_mut().zip(w_end.iter_mut()).zip(windows) {
            if row.day <= before {
                *start += w;
            }
            *end += w;
        }
        sums.clv_customers += row.clv_customers;
        sums.clv_revenue_minor += row.clv_revenue_minor;
        if row.day >= from {
            sums.new += row.new_customers;
            sums.orders += row.orders;
            sums.revenue_minor += row.revenue_minor;
            sums.member_orders += row.member_orders;
            sums.member_revenue_minor += row.member_revenue_minor;
            sums.first_revenue_minor += row.first_revenue_minor;
            sums.points_earned += row.points_earned;
            sums.points_spent += row.points_spent;
            series.push(SeriesDay {
                date: row.day,
                orders: row.orders,
                revenue_minor: row.revenue_minor,
                new_customers: row.new_customers,
                points_earned: row.points_earned,
                points_spent: row.points_spent,
            });
        }
    }
    sums.at_start = w_start[0] - w_start[1];
    sums.at_end = w_end[0] - w_end[1];
    sums.repeat_customers = w_end[1] - w_end[2];
    sums.loyal_customers = w_end[3] - w_end[4];
    churn(conn, &shop.id, before, to, &mut sums)?;
    engagement(conn, &shop.id, zone, from, to, &mut sums)?;
    let figures = Figures::of(&sums);
    let nps = crate::services::nps::report(conn, &shop.id, from, to)?;
    Ok(MetricsReport {
        from,
        to,
        currency: shop.currency.clone(),
        customers: Customers {
            at_start: sums.at_start,
            new: sums.new,
            at_end: sums.at_end,
        },
        crr_pct: figures.crr_pct,
        churn_pct: figures.churn_pct,
        rpr_pct: figures.rpr_pct,
        lcr_pct: figures.lcr_pct,
        aer_pct: figures.aer_pct,
        aov_minor: Aov {
            all: figures.aov_all_minor,
            members: figures.aov_members_minor,
            non_members: figures.aov_non_members_minor,
        },
        clv_minor: figures.clv_minor,
        redemption_rate_pct: figures.redemption_rate_pct,
        revenue_minor: Revenue {
            total: sums.revenue_minor,
            members: sums.member_revenue_minor,
            repeat: figures.repeat_revenue_minor,
        },
        avg_days_member_before_churn: figures.avg_days_member_before_churn,
        nps,
        series: every_day(from, to, series),
    })
}

/// The series with a zero row for each day without orders or points.
fn every_day(from: NaiveDate, to: NaiveDate, stored: Vec<SeriesDay>) -> Vec<SeriesDay> {
    let mut stored = stored.into_iter().peekable();
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        match stored.next_if(|s| s.date == day) {
            Some(s) => out.push(s),
            None => out.push(SeriesDay {
                date: day,
                orders: 0,
                revenue_minor: 0,
                new_customers: 0,
                points_earned: 0,
                points_spent: 0,
            }),
        }
        let Some(next) = day.checked_add_days(Days::new(1)) else {
            break;
        };
        day = next;
    }
    out
}

/// Customers active on `start` (the day before `from`) and not on `to`: their run covering
/// `start` ended by `to`, and no later run covers `to`. Members among them, with the days
/// between the first and last order of that run.
fn churn(
    conn: &mut DbConnection,
    shop_id: &str,
    start: NaiveDate,
    to: NaiveDate,
    sums: &mut Sums,
) -> QueryResult<()> {
    let later = diesel::alias!(metric_spells as later);
    let churned: Vec<(bool, NaiveDate, NaiveDate)> = metric_spells::table
        .filter(metric_spells::shop_id.eq(shop_id))
        .filter(metric_spells::ended_on.gt(start))
        .filter(metric_spells::ended_on.le(to))
        .filter(metric_spells::started_on.le(start))
        .filter(not(exists(
            later
                .filter(later.field(metric_spells::shop_id).eq(shop_id))
                .filter(
                    later
                        .field(metric_spells::customer_id)
                        .eq(metric_spells::customer_id),
                )
                .filter(later.field(metric_spells::started_on).le(to))
                .filter(later.field(metric_spells::ended_on).gt(to)),
        )))
        .select((
            metric_spells::member,
            metric_spells::started_on,
            metric_spells::last_order_on,
        ))
        .load(conn)?;
    sums.churned = churned.len() as i64;
    for (member, started, last) in churned {
        if member {
            sums.churned_members += 1;
            sums.churned_member_days += (last - started).num_days();
        }
    }
    Ok(())
}

/// Members (accounts, not merged away) created by the end of `to`, and those of them with a
/// line earning or spending points in `[from, to]` (from the engagement roll-up).
fn engagement(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: Tz,
    from: NaiveDate,
    to: NaiveDate,
    sums: &mut Sums,
) -> QueryResult<()> {
    let end = calendar::day_start_utc(zone, to.checked_add_days(Days::new(1)).unwrap_or(to));
    sums.members_at_end = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::created_at.lt(end))
        .filter(members::platform_customer_id.is_not_null())
        .filter(members::merged_into.is_null())
        .select(count_star())
        .first(conn)?;
    sums.engaged_members = super::metrics_engagement::engaged_members(conn, shop_id, from, to)?;
    Ok(())
}
