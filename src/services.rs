//! Use cases: each one orchestrates domain logic, the database and effects, in one transaction.

pub mod apply;
pub mod birthdays;
pub mod collections;
pub mod compliance;
pub mod customer_events;
pub mod customers;
pub mod demo;
pub mod earn;
pub mod expiry;
pub mod fulfilments;
pub mod inbox;
pub mod ingest;
pub mod ledger;
pub mod liability;
pub mod mail;
pub mod members;
pub mod nps;
pub mod program;
pub mod reconcile;
pub mod redeem;
pub mod referrals;
pub mod retention;
pub mod sealed;
pub mod shops;
pub mod storefront_state;
pub mod tiers;
