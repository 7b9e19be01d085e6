//! Webhooks in: raw bytes → verify → inbox → 200 `{"status": …}`.

pub mod bigcommerce;
pub mod shopify;
pub mod woocommerce;
