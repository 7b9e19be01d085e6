//! Server-rendered HTML pages (the newcomer's home page, the demo and the owner's admin UI). Templates are embedded in
//! the binary, rendered with minijinja with HTML auto-escaping on.

use actix_web::HttpResponse;
use minijinja::Environment;

use crate::error::AppError;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("pages/templates/base.html")),
    ("home.html", include_str!("pages/templates/home.html")),
    (
        "demo_storefront.html",
        include_str!("pages/templates/demo_storefront.html"),
    ),
    (
        "demo_admin.html",
        include_str!("pages/templates/demo_admin.html"),
    ),
    (
        "demo_message.html",
        include_str!("pages/templates/demo_message.html"),
    ),
    (
        "unsubscribe.html",
        include_str!("pages/templates/unsubscribe.html"),
    ),
    (
        "referral_unknown.html",
        include_str!("pages/templates/referral_unknown.html"),
    ),
    ("nps.html", include_str!("pages/templates/nps.html")),
    (
        "demo_outbox.html",
        include_str!("pages/templates/demo_outbox.html"),
    ),
    (
        "app_base.html",
        include_str!("pages/templates/app_base.html"),
    ),
    (
        "app_login.html",
        include_str!("pages/templates/app_login.html"),
    ),
    (
        "app_overview.html",
        include_str!("pages/templates/app_overview.html"),
    ),
    (
        "app_customers.html",
        include_str!("pages/templates/app_customers.html"),
    ),
    (
        "app_customer.html",
        include_str!("pages/templates/app_customer.html"),
    ),
    (
        "app_transfer.html",
        include_str!("pages/templates/app_transfer.html"),
    ),
    (
        "app_referrals.html",
        include_str!("pages/templates/app_referrals.html"),
    ),
    (
        "app_emails.html",
        include_str!("pages/templates/app_emails.html"),
    ),
    (
        "app_webhooks.html",
        include_str!("pages/templates/app_webhooks.html"),
    ),
    (
        "app_jobs.html",
        include_str!("pages/templates/app_jobs.html"),
    ),
    (
        "app_program.html",
        include_str!("pages/templates/app_program.html"),
    ),
    (
        "app_period.html",
        include_str!("pages/templates/app_period.html"),
    ),
    (
        "app_reports.html",
        include_str!("pages/templates/app_reports.html"),
    ),
];

/// The compiled page templates.
#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// `shopify_api_key` is the app's client id, which App Bridge reads from the admin pages
    /// shown inside Shopify's admin.
    pub fn new(shopify_api_key: &str) -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_global("shopify_api_key", shopify_api_key.to_owned());
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// Renders `name` with `context` into an HTML response.
    pub fn render(&self, name: &str, context: minijinja::Value) -> Result<HttpResponse, AppError> {
        let html = self
            .env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(AppError::internal)?;
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    /// Every admin page renders with a representative context in both languages: a text or a
    /// filter missing fails here, not as a 500 in front of an owner.
    #[test]
    fn the_admin_pages_render_in_both_languages() {
        let pages = Pages::new("key").unwrap();
        for (lang, dir) in [("en", "ltr"), ("ar", "rtl")] {
            let layout = context! {
                shop => "s.myshopify.com", lang => lang, dir => dir, csrf => "c",
                t => crate::http::app::texts::texts(lang), section => "customers",
                embedded => lang == "ar",
            };
            let customer = context! {
                customer_id => "7", email => "a@b.co", name => "Ann", points_balance => 5,
                tier => "gold", segment => "at_risk",
            };
            let view = context! {
                points_balance => 5, pending_points => 0, lifetime_points => 5,
                tier_name => "Gold", referral_code => "ANN7",
            };
            let line = context! {
                created_at => "2026-12-01T10:00:00Z", delta => 5, kind => "import",
                status => "confirmed", reason => "Imported balance",
            };
            let report = context! {
                rows => 2, imported => 1, unchanged => 0, failed => 1,
                errors => vec![context! { row => 3, message => "bad" }],
            };
            let period =
                context! { from => "2026-11-01", to => "2026-11-30", error => (), invalid => () };
            let refused = context! { from => "soon", to => "", error => "period_bad_from", invalid => "from" };
            let figure = |key: &str, value: Option<&str>| context! { key => key, label => key, value => value, note => () };
            let groups = vec![
                context! { title => "m_retention", figures => vec![figure("crr_pct", Some("75.0 %")), figure("clv", None)] },
            ];
            let series: Vec<_> = (1..=3)
                .map(|d| crate::services::retention::metrics_report::SeriesDay {
                    date: chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
                    orders: i64::from(d),
                    revenue_minor: 100,
                    new_customers: 0,
                    points_earned: 5,
                    points_spent: 1,
                })
                .collect();
            let currency = crate::domain::money::Currency::parse("EUR").unwrap();
            let charts = minijinja::Value::from_serialize(
                crate::http::app::charts::overview_charts(
                    &series,
                    &currency,
                    &crate::http::app::texts::texts(lang),
                )
                .unwrap(),
            );
            let row = |key: &str, cells: Vec<&str>| context! { key => key, cells => cells };
            let report_view = context! {
                point_value => "1.00 EUR", per_points => 100,
                liability => vec![row("earned", vec!["10", "0.10 EUR"]), row("outstanding", vec!["5", "0.05 EUR"])],
                win_back_groups => vec![row("treated", vec!["3", "1", "5.00 EUR"]), row("holdout", vec!["1", "0", "0.00 EUR"])],
                order_rate_lift => "+33.3", revenue_lift => (),
                variants => vec![row("a", vec!["2", "1", "5.00 EUR"])],
                nps => vec![row("responses", vec!["2"]), row("promoters", vec!["1"]), row("passives", vec!["0"]), row("detractors", vec!["1"])],
                nps_score => "0.0",
                donations => vec![row("Red Cross", vec!["1", "5.00 EUR", "500"])],
                donations_total => "5.00 EUR",
            };
            let cases = [
                (
                    "app_customers.html",
                    context! { layout => layout.clone(), q => "a b", customers => vec![customer.clone()], next_cursor => "x" },
                ),
                (
                    "app_customer.html",
                    context! { layout => layout.clone(), customer => customer.clone(), view => view, ledger => vec![line], form => context! { points => "x", reason => "", points_error => "bad", reason_error => () }, adjusted => true, idempotency_key => "k",
                    currency => "EUR", referrals => vec![context! { created_at => "2026-12-01T10:00:00Z", friend_email => "f@b.co", friend_customer_id => (), order_name => "#1001", order_id => "o1", status => "approved", reward_points => 500 }],
                    emails => vec![context! { created_at => "2026-12-01T10:00:00Z", kind => "welcome", subject => "Hi", status => "suppressed" }] },
                ),
                (
                    "app_transfer.html",
                    context! { layout => layout.clone(), report => report, file_error => "the file is empty" },
                ),
                (
                    "app_referrals.html",
                    context! { layout => layout.clone(), filter => "open", filters => ["open", "pending", "flagged", "approved", "rejected", "void"], decided => "approve", error => "already decided", currency => "EUR", referrals => vec![context! {
                        id => "r1", referrer_customer_id => "7", friend_email => "f@b.co", friend_customer_id => (), order_id => "o1", order_name => "#1001",
                        order_subtotal_minor => 5000, via => "discount_code", status => "flagged", risk_score => 60, signals => vec!["same_ip"],
                        reward_points => 500, settles_at => "2026-12-20T00:00:00Z", decided_by => (), decided_at => (), created_at => "2026-12-01T10:00:00Z",
                    }] },
                ),
                (
                    "app_webhooks.html",
                    context! { layout => layout.clone(), redelivered => true, sections => vec![context! {
                        subscription => context! { id => "s1", url => "https://hooks.example.com/in", topics => vec!["points.changed"], enabled => false,
                            disabled_at => "2026-12-01T10:00:00Z", disabled_reason => "a message failed for 24 hours", created_at => "2026-11-01T10:00:00Z" },
                        deliveries => vec![context! { id => "msg_1", topic => "points.changed", status => "pending", payload => (), created_at => "2026-12-01T10:00:00Z",
                            next_attempt_at => "2026-12-01T10:00:05Z", delivered_at => (), attempts => vec![context! { at => "2026-12-01T10:00:00Z", status_code => 500,
                            duration_ms => 12, error => "the receiver answered 500", cause => "scheduled" }] },
                            context! { id => "msg_2", topic => "member.created", status => "failed", payload => (), created_at => "2026-12-01T10:00:00Z",
                            next_attempt_at => (), delivered_at => (), attempts => Vec::<()>::new() }],
                    }] },
                ),
                (
                    "app_webhooks.html",
                    context! { layout => layout.clone(), redelivered => false, sections => Vec::<()>::new() },
                ),
                (
                    "app_emails.html",
                    context! { layout => layout.clone(), customer_id => "7", kind => "welcome", status => "sent",
                    kinds => crate::domain::mail::Kind::ALL.map(crate::domain::mail::Kind::as_str), statuses => crate::services::mail::status::ALL,
                    emails => vec![context! { id => "e1", customer_id => "7", kind => "tier_up", subject => "Gold!", status => "failed", variant => "b",
                        locale => "ar", error => "550 no such user", send_after => "2026-12-01T10:00:00Z", sent_at => "2026-12-01T10:01:00Z",
                        opened_at => (), created_at => "2026-12-01T10:00:00Z", body_erased_at => "2026-12-31T10:00:00Z" }], erased_note => "Text erased after 30 days" },
                ),
                (
                    "app_jobs.html",
                    context! { layout => layout.clone(), done => "retried", error => "only a failed background task can be retried", next_cursor => "j2", jobs => vec![context! {
                    id => "j1", kind => "confirm_points", description => "Confirming points", status => "failed", attempts => 5, max_attempts => 5,
                    last_error => "database unreachable", created_at => "2026-12-01T10:00:00Z", updated_at => "2026-12-01T11:00:00Z" }] },
                ),
                (
                    "app_jobs.html",
                    context! { layout => layout.clone(), done => (), error => (), next_cursor => (), jobs => Vec::<()>::new() },
                ),
                (
                    "app_overview.html",
                    context! { layout => layout.clone(), currency => "EUR", timezone => "Europe/Paris", locale => lang, members => 3, outstanding => "12.34 EUR", outstanding_points => 10, segments => vec![context! { key => "seg_new", count => 1 }], period => period.clone(), period_action => "/app", groups => groups.clone(), charts => charts.clone(), failed_jobs_alert => "2 background tasks failed", reporting_alert => "Batches of orders whose figures and mail could not be written: 1" },
                ),
                (
                    "app_overview.html",
                    context! { layout => layout.clone(), currency => "EUR", timezone => "Europe/Paris", locale => lang, members => 3, outstanding => "0.00 EUR", outstanding_points => 0, segments => Vec::<()>::new(), period => refused.clone(), period_action => "/app", groups => Vec::<()>::new(), charts => Vec::<()>::new(), failed_jobs_alert => (), reporting_alert => () },
                ),
                (
                    "app_reports.html",
                    context! { layout => layout.clone(), period => period.clone(), period_action => "/app/reports", report => report_view.clone() },
                ),
                (
                    "app_reports.html",
                    context! { layout => layout.clone(), period => refused.clone(), period_action => "/app/reports", report => () },
                ),
                (
                    "app_program.html",
                    context! { layout => layout.clone(), saved => true,
                    summary => vec![context! { href => "f-a", label => "A", message => "bad" }, context! { href => (), label => "Program", message => "bad" }],
                    sections => vec![context! { key => "earning", legend => "Earning", errors => vec!["bad"], fields => ["number", "checkbox", "text", "select", "json", "unset", "list", "item", "end", "add"].iter().map(|input| context! {
                        path => format!("a.{input}"), id => format!("f-a-{input}"), input => input, label => "A", example => "[]",
                        value => "1", checked => true, choices => vec![context! { value => "1", label => "One" }], nullable => true,
                        rows => 3, error => "bad", described_by => "f-a-hint f-a-error", group => "Row 1",
                        reshapes => true,
                    }).collect::<Vec<_>>() }] },
                ),
                (
                    "app_login.html",
                    context! { token => "t", t => crate::http::app::texts::texts(lang), lang => lang, dir => dir },
                ),
            ];
            for (name, ctx) in cases {
                let html = pages
                    .env
                    .get_template(name)
                    .and_then(|t| t.render(ctx))
                    .unwrap_or_else(|e| panic!("{name} ({lang}): {e:#}"));
                assert!(html.contains(&format!("dir=\"{dir}\"")), "{name}");
            }
        }
    }
}
