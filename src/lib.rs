//! Boomerang: loyalty, referrals and win-back for online shops.
//!
//! Data flows one way: platform adapter → inbox → domain → ledger → effects.

pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod platform;
pub mod queue;
pub mod routes;
pub mod scheduler;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
