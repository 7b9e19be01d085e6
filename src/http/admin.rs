//! The shop owner's API, `/api/admin/v1/…`. Every handler takes a `ShopSession`, so it only
//! ever sees the authenticated shop's data.

pub mod affiliates;
pub mod alerts;
pub mod backfill;
pub mod customers;
pub mod dkim;
pub mod emails;
pub mod erasure;
pub mod fulfilments;
pub mod jobs;
pub mod metrics;
pub mod program;
pub mod redemptions;
pub mod referrals;
pub mod reports;
pub mod segments;
pub mod shop;
pub mod transfer;
pub mod webhook_subscriptions;
pub mod webhooks;
pub mod win_back;
