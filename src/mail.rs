//! E-mail out: rendering the built-in and owner templates, building the MIME message, and the
//! transport (pooled SMTP, or `.eml` files), and DKIM signing. No database here: `services::mail` decides what to
//! send and when, and records what happened.

pub mod dkim;
pub mod message;
pub mod render;
pub mod transport;
