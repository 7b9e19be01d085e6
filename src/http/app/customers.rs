//! `/app/customers`: search, a customer's profile with their points history, and adjusting
//! their points (errors shown next to the field, a double click posting once).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db::models::Member;
use crate::error::{AppError, ErrorCode};
use crate::http::app::session::{check_csrf, Layout, Owner};
use crate::http::app::texts::{language, say};
use crate::services::customers::search::{self, Filter};
use crate::services::customers::{
    self, Adjustment, CustomerError, CustomerView, InvalidAdjustment,
};
use crate::services::ledger::LedgerError;
use crate::state::AppState;

const PAGE: i64 = 50;

#[derive(Debug, Serialize)]
struct Row {
    customer_id: String,
    email: String,
    name: String,
    points_balance: i64,
    tier: String,
    segment: String,
}

fn name_of(m: &Member) -> String {
    [m.first_name.as_deref(), m.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Row {
    fn of(m: &Member, segment: Option<String>) -> Self {
        Self {
            customer_id: m.platform_customer_id.clone().unwrap_or_default(),
            email: m.email.clone().unwrap_or_default(),
            name: name_of(m),
            points_balance: m.points_balance,
            tier: m.tier.clone().unwrap_or_default(),
            segment: segment.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
}

pub async fn list(
    owner: Owner,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = owner.0;
    let ListQuery { q, cursor } = query.into_inner();
    let filter =
        Filter::new(q.as_deref(), None).map_err(|e| AppError::bad_request(e.to_string()))?;
    let shop_id = session.shop.id.clone();
    let (rows, next) = state
        .db
        .run(move |c| {
            let page = search::page(c, &shop_id, &filter, cursor.as_deref(), PAGE)?;
            let next = (page.len() as i64 == PAGE)
                .then(|| page.last().map(|(m, _)| m.id.clone()))
                .flatten();
            let rows: Vec<Row> = page.iter().map(|(m, s)| Row::of(m, s.clone())).collect();
            Ok::<_, AppError>((rows, next))
        })
        .await?;
    state.pages.render(
        "app_customers.html",
        minijinja::context! {
            layout => Layout::of(&session, "customers"),
            q => q.unwrap_or_default(),
            customers => rows,
            next_cursor => next,
        },
    )
}

/// What the adjust form said, and what was wrong with it.
#[derive(Debug, Default, Serialize)]
struct AdjustForm {
    points: String,
    reason: String,
    points_error: Option<String>,
    reason_error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ProfileQuery {
    adjusted: Option<String>,
}

pub async fn profile(
    owner: Owner,
    path: web::Path<String>,
    query: web::Query<ProfileQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let adjusted = query.adjusted.is_some();
    render_profile(
        &state,
        &owner,
        path.into_inner(),
        AdjustForm::default(),
        adjusted,
        200,
    )
    .await
}

async fn render_profile(
    state: &AppState,
    owner: &Owner,
    customer_id: String,
    form: AdjustForm,
    adjusted: bool,
    status: u16,
) -> Result<HttpResponse, AppError> {
    let session = owner.0.clone();
    let shop = session.shop.clone();
    let (row, view, ledger, referrals, emails) = state
        .db
        .run(move |c| {
            let member = customers::find(c, &shop.id, &customer_id)?;
            let ledger = customers::ledger(c, &shop.id, &customer_id, 50)?;
            let referrals = crate::services::referrals::of_referrer(c, &shop.id, &member.id, 50)?;
            let emails =
                crate::services::mail::list(c, &shop.id, Some(&customer_id), None, None, 50)?;
            let row = Row::of(&member, None);
            let view = CustomerView::of(c, &shop, member)?;
            Ok::<_, AppError>((row, view, ledger, referrals, emails))
        })
        .await?;
    let mut page = state.pages.render(
        "app_customer.html",
        minijinja::context! {
            layout => Layout::of(&session, "customers"),
            customer => row,
            view => view,
            ledger => ledger,
            referrals => referrals,
            emails => emails,
            currency => session.shop.currency,
            form => form,
            adjusted => adjusted,
            // A new key per rendering: a double click (or a resent form) posts once.
            idempotency_key => crate::crypto::random_token(16),
        },
    )?;
    *page.status_mut() =
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page)
}

#[derive(Debug, Deserialize)]
pub struct AdjustBody {
    csrf: String,
    points: String,
    reason: String,
    key: String,
}

pub async fn adjust(
    req: HttpRequest,
    owner: Owner,
    path: web::Path<String>,
    form: web::Form<AdjustBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    check_csrf(&req, &owner.0, &form.csrf)?;
    let lang = language(&owner.0.shop.locale);
    let customer_id = path.into_inner();
    let mut shown = AdjustForm {
        points: form.points.clone(),
        reason: form.reason.clone(),
        ..AdjustForm::default()
    };
    let Ok(points) = form.points.trim().parse::<i64>() else {
        shown.points_error = Some(say(
            lang,
            "err_not_whole_number",
            &[("value", format!("“{}”", form.points.trim()))],
        ));
        return render_profile(&state, &owner, customer_id, shown, false, 422).await;
    };
    let key = form.key.trim();
    let adjustment = Adjustment {
        points,
        reason: form.reason,
        idempotency_key: (!key.is_empty() && key.len() <= 200).then(|| format!("app:{key}")),
    };
    let shop = owner.0.shop.clone();
    let id = customer_id.clone();
    let outcome = state
        .db
        .run(move |c| Ok::<_, AppError>(customers::adjust(c, &shop, &id, &adjustment)))
        .await?;
    match outcome {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((
                "Location",
                format!("/app/customers/{}?adjusted=1", urlencode(&customer_id)),
            ))
            .finish()),
        Err(CustomerError::Invalid(invalid)) => {
            match invalid {
                InvalidAdjustment::ReasonMissing => {
                    shown.reason_error = Some(say(lang, "err_reason_missing", &[]));
                }
                InvalidAdjustment::ReasonTooLong => {
                    shown.reason_error = Some(say(lang, "err_reason_long", &[]));
                }
                InvalidAdjustment::PointsOutOfRange => {
                    let max = [("max", customers::MAX_ADJUSTMENT.to_string())];
                    shown.points_error = Some(say(lang, "err_points_range", &max));
                }
            }
            render_profile(&state, &owner, customer_id, shown, false, 422).await
        }
        Err(CustomerError::Ledger(LedgerError::InsufficientPoints { balance, wanted })) => {
            let args = [
                ("balance", balance.to_string()),
                ("wanted", wanted.to_string()),
            ];
            shown.points_error = Some(say(lang, "err_insufficient", &args));
            render_profile(&state, &owner, customer_id, shown, false, 422).await
        }
        Err(CustomerError::Ledger(LedgerError::BalanceLimit { .. })) => {
            let max = [("max", crate::domain::points::MAX_BALANCE.to_string())];
            shown.points_error = Some(say(lang, "err_balance_limit", &max));
            render_profile(&state, &owner, customer_id, shown, false, 422).await
        }
        Err(CustomerError::KeyReused(_)) => Err(AppError::new(
            ErrorCode::Conflict,
            "this form was sent already with other values: reload the page",
        )),
        Err(other) => Err(other.into()),
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
