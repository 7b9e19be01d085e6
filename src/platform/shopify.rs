//! Shopify: webhook verification and payload mapping.

pub mod webhook;
