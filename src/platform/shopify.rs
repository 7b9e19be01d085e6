//! Shopify: webhook verification and payload mapping.

pub mod api;
pub mod app_proxy;
pub mod discounts;
pub mod orders_query;
pub mod payload;
pub mod session_token;
pub mod webhook;
