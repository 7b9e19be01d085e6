//! The route table: every path the app serves, in one place, top to bottom.

use actix_web::web;

use crate::http::{
    admin, app, demo, email, home, install, nps, ops, referrals, storefront, webhooks, widget,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::index))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .service(
            web::scope("/auth")
                .route("", web::get().to(install::begin))
                .route("/callback", web::get().to(install::callback))
                .route("/token-exchange", web::post().to(install::token_exchange))
                .route(
                    "/bigcommerce/install",
                    web::get().to(install::bigcommerce::install),
                )
                .route(
                    "/bigcommerce/load",
                    web::get().to(install::bigcommerce::load),
                )
                .route(
                    "/bigcommerce/uninstall",
                    web::get().to(install::bigcommerce::uninstall),
                )
                .route(
                    "/bigcommerce/remove_user",
                    web::get().to(install::bigcommerce::remove_user),
                ),
        )
        .service(
            web::scope("/webhooks")
                .route("/shopify", web::post().to(webhooks::shopify::receive))
                .route(
                    "/woocommerce/{shop_domain}",
                    web::post().to(webhooks::woocommerce::receive),
                )
                .route(
                    "/bigcommerce/{shop_domain}",
                    web::post().to(webhooks::bigcommerce::receive),
                ),
        )
        .service(
            web::scope("/api/admin/v1")
                .route("/shop", web::get().to(admin::shop::show))
                .route("/backfill", web::get().to(admin::backfill::show))
                .route("/backfill", web::post().to(admin::backfill::start))
                .route("/customers", web::get().to(admin::customers::list))
                .route(
                    "/customers/{customer_id}",
                    web::get().to(admin::customers::show),
                )
                .route(
                    "/customers/{customer_id}",
                    web::delete().to(admin::erasure::erase),
                )
                .route(
                    "/export/customers.csv",
                    web::get().to(admin::transfer::export_customers),
                )
                .route(
                    "/import/customers",
                    web::post().to(admin::transfer::import_customers),
                )
                .route("/segments", web::get().to(admin::segments::counts))
                .route("/metrics", web::get().to(admin::metrics::show))
                .route(
                    "/segments/recompute",
                    web::post().to(admin::segments::recompute),
                )
                .route(
                    "/customers/{customer_id}/tier-history",
                    web::get().to(admin::customers::tier_history),
                )
                .route(
                    "/customers/{customer_id}/ledger",
                    web::get().to(admin::customers::ledger),
                )
                .route(
                    "/customers/{customer_id}/adjustments",
                    web::post().to(admin::customers::adjust),
                )
                .route("/program", web::get().to(admin::program::show))
                .route("/program", web::put().to(admin::program::replace))
                .route("/webhooks", web::get().to(admin::webhooks::list))
                .route(
                    "/webhooks/{id}/replay",
                    web::post().to(admin::webhooks::replay),
                )
                .route(
                    "/webhooks/{id}/dismiss",
                    web::post().to(admin::webhooks::dismiss),
                )
                .route("/alerts", web::get().to(admin::alerts::list))
                .route(
                    "/reporting/retry",
                    web::post().to(admin::alerts::retry_reporting),
                )
                .route("/jobs", web::get().to(admin::jobs::list))
                .route("/jobs/{id}/retry", web::post().to(admin::jobs::retry))
                .route("/jobs/{id}/dismiss", web::post().to(admin::jobs::dismiss))
                .route(
                    "/redemptions/{id}/cancel",
                    web::post().to(admin::redemptions::cancel),
                )
                .route("/fulfilments", web::get().to(admin::fulfilments::list))
                .route(
                    "/fulfilments/{id}/done",
                    web::post().to(admin::fulfilments::done),
                )
                .route(
                    "/fulfilments/{id}/cancel",
                    web::post().to(admin::fulfilments::cancel),
                )
                .route(
                    "/reports/liability",
                    web::get().to(admin::reports::liability),
                )
                .route("/reports/win-back", web::get().to(admin::win_back::report))
                .route(
                    "/reports/donations",
                    web::get().to(admin::reports::donations),
                )
                .route("/reports/nps", web::get().to(admin::reports::nps))
                .route("/referrals", web::get().to(admin::referrals::list))
                .route(
                    "/referrals/{id}/approve",
                    web::post().to(admin::referrals::approve),
                )
                .route(
                    "/referrals/{id}/reject",
                    web::post().to(admin::referrals::reject),
                )
                .route("/emails", web::get().to(admin::emails::list))
                .route("/emails/dkim", web::get().to(admin::dkim::show))
                .route("/emails/dkim", web::put().to(admin::dkim::replace))
                .route("/emails/dkim", web::delete().to(admin::dkim::remove))
                .route("/affiliates", web::get().to(admin::affiliates::list))
                .route("/affiliates", web::post().to(admin::affiliates::create))
                .route(
                    "/affiliates/{id}/report",
                    web::get().to(admin::affiliates::report),
                )
                .route(
                    "/webhook-subscriptions",
                    web::get().to(admin::webhook_subscriptions::list),
                )
                .route(
                    "/webhook-subscriptions",
                    web::post().to(admin::webhook_subscriptions::create),
                )
                .route(
                    "/webhook-subscriptions/{id}",
                    web::delete().to(admin::webhook_subscriptions::delete),
                )
                .route(
                    "/webhook-subscriptions/{id}/deliveries",
                    web::get().to(admin::webhook_subscriptions::deliveries),
                )
                .route(
                    "/webhook-subscriptions/{id}/deliveries/{delivery_id}/redeliver",
                    web::post().to(admin::webhook_subscriptions::redeliver),
                )
                .route(
                    "/webhook-deliveries/{delivery_id}/redeliver",
                    web::post().to(admin::webhook_subscriptions::redeliver_by_id),
                ),
        )
        // The storefront API, once behind Shopify's app proxy and once for other platforms.
        .service(
            web::scope("/proxy")
                .route("/state", web::get().to(storefront::state))
                .route("/redeem", web::post().to(storefront::redeem))
                .route("/referrals/claim", web::post().to(referrals::claim))
                .route("/nps", web::post().to(nps::answer_widget)),
        )
        .service(
            web::scope("/app")
                .wrap(actix_web::middleware::from_fn(
                    app::session::frame_ancestors,
                ))
                .route("", web::get().to(app::overview::entry))
                .route(
                    "/reporting/retry",
                    web::post().to(app::overview::retry_reporting),
                )
                .route("/login", web::get().to(app::login::confirm))
                .route("/login", web::post().to(app::login::sign_in))
                .route("/logout", web::post().to(app::login::sign_out))
                .route("/customers", web::get().to(app::customers::list))
                .route(
                    "/customers/{customer_id}",
                    web::get().to(app::customers::profile),
                )
                .route(
                    "/customers/{customer_id}/adjustments",
                    web::post().to(app::customers::adjust),
                )
                .route("/referrals", web::get().to(app::review::list))
                .route("/referrals/{id}", web::post().to(app::review::decide))
                .route("/emails", web::get().to(app::emails::list))
                .route("/jobs", web::get().to(app::jobs::list))
                .route("/jobs/{id}/retry", web::post().to(app::jobs::retry))
                .route("/jobs/{id}/dismiss", web::post().to(app::jobs::dismiss))
                .route("/webhooks", web::get().to(app::webhooks::list))
                .route(
                    "/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver",
                    web::post().to(app::webhooks::redeliver),
                )
                .route("/program", web::get().to(app::program::show))
                .route("/program", web::post().to(app::program::save))
                .route("/reports", web::get().to(app::reports::show))
                .route("/transfer", web::get().to(app::transfer::show))
                .route("/import", web::post().to(app::transfer::import))
                .route(
                    "/export/customers.csv",
                    web::get().to(app::transfer::export),
                ),
        )
        .route("/r/{code}", web::get().to(referrals::link))
        .route("/email/unsubscribe", web::get().to(email::unsubscribe_page))
        .route("/email/unsubscribe", web::post().to(email::unsubscribe))
        .route("/email/open", web::get().to(email::opened))
        .route("/nps/{token}", web::get().to(nps::answer_link))
        .route("/nps/{token}", web::post().to(nps::comment_link))
        .route("/widget.js", web::get().to(widget::script))
        .service(
            // Other platforms' storefronts call from their own domain: CORS, without cookies
            // (the customer is proven by the digest in the query).
            web::scope("/widget/v1")
                .wrap(
                    actix_cors::Cors::default()
                        .allow_any_origin()
                        .allowed_methods(["GET", "POST"])
                        .allowed_header(actix_web::http::header::CONTENT_TYPE)
                        .max_age(86_400),
                )
                .route("/state", web::get().to(storefront::state))
                .route("/redeem", web::post().to(storefront::redeem))
                .route("/referrals/claim", web::post().to(referrals::claim))
                .route("/nps", web::post().to(nps::answer_widget)),
        )
        .service(
            web::scope("/demo")
                .route("", web::get().to(demo::storefront))
                .route("/admin", web::get().to(demo::admin))
                .route("/app", web::get().to(demo::open_admin))
                .route("/outbox", web::get().to(demo::outbox))
                .route("/outbox/{id}", web::get().to(demo::outbox_message))
                .route("/orders", web::post().to(demo::order)),
        );
}
