//! Platform adapters: verify what a platform sends, map it to internal events, and talk back to
//! the platform's API. Nothing platform-specific leaks past this module.

pub mod shopify;
