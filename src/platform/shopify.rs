//! Shopify: webhook verification and payload mapping.

pub mod api;
pub mod session_token;
pub mod webhook;
