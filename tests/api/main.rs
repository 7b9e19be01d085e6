//! Black-box tests of the running app, one binary. Each test gets its own server on an
//! ephemeral port and its own database: a fresh SQLite file, or a fresh PostgreSQL database
//! when `TEST_DATABASE_URL` is set (`.ci/run` runs the suite both ways).
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod admin;
mod admin_overview;
mod admin_program;
mod admin_reports;
mod admin_ui;
mod applier_locks;
mod backends;
mod batch_apply;
mod bigcommerce;
mod bigcommerce_coupons;
mod bigcommerce_install;
mod browser;
mod cancelling;
mod cli;
mod collections;
mod compliance;
mod coupon_shops;
mod customer_enrol;
mod customer_import;
mod customer_import_rows;
mod customer_search;
mod dead_letters;
mod dead_letters_admin;
mod donations_report;
mod earning;
mod earning_edges;
mod edge;
mod expiry;
mod faults;
mod fulfilments;
mod helpers;
mod ingest;
mod install;
mod instances;
mod jobs;
mod ledger;
mod liability;
mod mail;
mod mail_transport;
mod metrics;
mod nps;
mod ops;
mod outgoing;
mod planner;
mod processes;
mod randomized;
mod raw_http;
mod reconcile;
mod redemptions;
mod references;
mod referrals;
mod reorder;
mod retention;
mod retention_mail;
mod rewards;
mod rollup_backlog;
mod secrets;
mod segments;
mod shopify_api;
mod smtp;
mod storefront;
mod tier_effects;
mod tier_widget;
mod tiers;
mod webhooks;
mod widget;
mod win_back;
mod woocommerce;
