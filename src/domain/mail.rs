//! E-mail, pure: the kinds of message, the owner's settings and the sending policy.

mod config;
mod kinds;
mod policy;

pub use config::{
    EmailConfigError, EmailSettings, QuietHours, SendingPolicy, TemplateOverride, LOCALES,
    MAX_TEMPLATE_BYTES,
};
pub use kinds::Kind;
pub use policy::{decide, Decision, History};
