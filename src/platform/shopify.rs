//! Shopify: webhook verification and payload mapping.

pub mod session_token;
pub mod webhook;
