//! `GET /app/reports?from=&to=`: the points liability, the win-back lift, NPS and donations for
//! a period the owner picks (the overview's period form), the same figures as the
//! `/api/admin/v1/reports/…` endpoints give for those days (`services::reports`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::domain::money::Currency;
use crate::error::AppError;
use crate::http::app::figures::{currency_of, money};
use crate::http::app::period::{self, Chosen, PeriodQuery};
use crate::http::app::session::{Layout, Owner};
use crate::services::liability::Amount;
use crate::services::reports::{self, PeriodReports, ReportsError};
use crate::state::AppState;

impl From<ReportsError> for AppError {
    fn from(e: ReportsError) -> Self {
        match e {
            ReportsError::Database(e) => e.into(),
            ReportsError::Donations(e) => e.into(),
        }
    }
}

/// A row of a table: `key` names it for the page (ids, text keys), the cells are formatted.
#[derive(Debug, Serialize)]
struct Row {
    key: String,
    cells: Vec<String>,
}

/// The reports as the page shows them: every amount formatted, `None` as "—".
#[derive(Debug, Serialize)]
struct View {
    /// What one point is worth, e.g. `1.00 USD per 100 points` (the parts, to translate).
    point_value: String,
    per_points: i64,
    liability: Vec<Row>,
    win_back_groups: Vec<Row>,
    order_rate_lift: Option<String>,
    revenue_lift: Option<String>,
    variants: Vec<Row>,
    nps: Vec<Row>,
    nps_score: Option<String>,
    donations: Vec<Row>,
    donations_total: String,
}

fn amount_row(key: &str, amount: &Amount, currency: &Currency) -> Row {
    Row {
        key: key.to_owned(),
        cells: vec![
            amount.points.to_string(),
            money(currency, amount.value_minor),
        ],
    }
}

impl View {
    fn of(r: &PeriodReports, currency: &Currency) -> Self {
        let l = &r.liability;
        let liability = [
            ("earned", &l.earned),
            ("spent", &l.spent),
            ("reversed", &l.reversed),
            ("expired", &l.expired),
            ("adjusted_down", &l.adjusted_down),
            ("pending", &l.pending),
            ("outstanding", &l.outstanding),
        ]
        .into_iter()
        .map(|(key, amount)| amount_row(key, amount, currency))
        .collect();
        let w = &r.win_back;
        let win_back_groups = [("treated", &w.treated), ("holdout", &w.holdout)]
            .into_iter()
            .map(|(key, g)| Row {
                key: key.to_owned(),
                cells: vec![
                    g.customers.to_string(),
                    g.orders.to_string(),
                    money(currency, g.revenue_minor),
                ],
            })
            .collect();
        let variants = w
            .variants
            .iter()
            .map(|v| Row {
                key: v.id.clone(),
                cells: vec![
                    v.sent.to_string(),
                    v.orders.to_string(),
                    money(currency, v.revenue_minor),
                ],
            })
            .collect();
        let n = &r.nps;
        let nps = [
            ("responses", n.responses),
            ("promoters", n.promoters),
            ("passives", n.passives),
            ("detractors", n.detractors),
        ]
        .into_iter()
        .map(|(key, count)| Row {
            key: key.to_owned(),
            cells: vec![count.to_string()],
        })
        .collect();
        let donations = r
            .donations
            .charities
            .iter()
            .map(|c| Row {
                key: c.charity.clone(),
                cells: vec![
                    c.donations.to_string(),
                    money(currency, c.amount_minor),
                    c.points.to_string(),
                ],
            })
            .collect();
        Self {
            point_value: money(currency, l.value_per_points_minor),
            per_points: l.per_points,
            liability,
            win_back_groups,
            order_rate_lift: w.lift.order_rate_pct.map(|p| format!("{p:+.1}")),
            revenue_lift: w
                .lift
                .revenue_per_customer_minor
                .map(|m| money(currency, m)),
            variants,
            nps,
            nps_score: n.nps.map(|v| format!("{v:.1}")),
            donations,
            donations_total: money(currency, r.donations.total_minor),
        }
    }
}

pub async fn show(
    owner: Owner,
    query: web::Query<PeriodQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = owner.0;
    let shop = session.shop.clone();
    let (form, view, status) = match period::choose(&query, &shop.timezone, crate::db::now()) {
        Chosen::Days { from, to, form } => {
            let currency = currency_of(&shop.currency);
            let found = state
                .db
                .run(move |c| reports::for_period(c, &shop, from, to).map_err(AppError::from))
                .await?;
            (form, Some(View::of(&found, &currency)), StatusCode::OK)
        }
        Chosen::Refused(form) => (form, None, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let mut page = state.pages.render(
        "app_reports.html",
        minijinja::context! {
            layout => Layout::of(&session, "reports"),
            period => form,
            period_action => "/app/reports",
            report => view,
        },
    )?;
    *page.status_mut() = status;
    Ok(page)
}
