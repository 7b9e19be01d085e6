//! Rendering one e-mail: subject, plain text and HTML, from the built-in template of its kind
//! and language or from the shop owner's override.
//!
//! Built-in templates live in `mail/templates/`, one file per kind and language
//! (`points_earned.ar.j2`) with the blocks `subject`, `preheader`, `text` and `html`, embedded in
//! the binary. Owner overrides are three strings (subject, HTML, text). Either way the result is
//! wrapped in the same layout (`layout.html`, `layout.txt`): the shop's logo and name on top,
//! and a footer with the postal address and, for marketing kinds, the unsubscribe link — an
//! override cannot drop what anti-spam law asks for.
//!
//! The HTML parts are rendered with HTML auto-escaping, the subject and text without. `none`
//! prints as nothing, so a missing first name never reads "Hi none". Owner templates are
//! validated in strict mode (an unknown variable is an error) against a full sample context and
//! against the least a kind always carries; at send time rendering is forgiving, so a message
//! is never lost to a variable that happens to be empty. Every render runs on a fuel budget, so
//! no owner template can loop for long.

use serde::Serialize;

pub use crate::domain::mail::Kind;
pub use crate::domain::widget::Locale;

mod context;
mod engine;
mod filters;
#[cfg(test)]
mod tests;

pub use context::{MailContext, PendingLine};

/// How the shop looks and where it lives, for the header and the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub shop_name: String,
    pub shop_url: String,
    pub logo_url: Option<String>,
    /// `#rrggbb`; anything else falls back to the default purple.
    pub accent_color: String,
    pub postal_address: Option<String>,
}

/// A rendered mail, ready for `message::build`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    /// One line, no control characters.
    pub subject: String,
    /// The inbox preview line after the subject (empty for an owner's template), one line.
    pub preheader: String,
    pub text: String,
    pub html: String,
}

pub use crate::domain::mail::TemplateOverride;

/// A template that does not compile or render, located for whoever has to fix it:
/// `emails.templates.win_back.en.html, line 3: unknown variable \`fist_name\``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TemplateError {
    /// The template: `emails.templates.{kind}.{locale}.{subject|html|text}` for an override,
    /// `{kind}.{locale}.html`, `layout.html`… for a built-in one.
    pub template: String,
    pub line: Option<usize>,
    pub reason: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.template, self.reason),
            None => write!(f, "{}: {}", self.template, self.reason),
        }
    }
}

/// Why a mail could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A built-in template failed: a bug (the tests render every kind and language).
    #[error("built-in e-mail template {0}")]
    Builtin(TemplateError),
    /// The owner's template failed with this message's facts; rendering again without the
    /// override sends the built-in mail instead.
    #[error("the shop's e-mail template {0}")]
    Override(TemplateError),
}

/// Renders a mail of `kind` in `locale`: the owner's override when given, else the built-in
/// template. `ctx.action_url` defaults to the shop's URL; transactional kinds never show an
/// unsubscribe link.
pub fn render(
    kind: Kind,
    locale: Locale,
    brand: &Brand,
    ctx: &MailContext,
    over: Option<&TemplateOverride>,
) -> Result<Rendered, RenderError> {
    let env = engine::environment(engine::Mode::Sending).map_err(RenderError::Builtin)?;
    let values = engine::values(kind, locale, brand, ctx);
    let parts = match over {
        Some(over) => engine::override_parts(env, kind, locale, over, &values)
            .map_err(RenderError::Override)?,
        None => engine::builtin_parts(env, kind, locale, &values).map_err(RenderError::Builtin)?,
    };
    engine::assemble(env, &values, parts).map_err(RenderError::Builtin)
}

/// For `PUT /program`: renders `over` in strict mode against a full sample context and against
/// the least a mail of `kind` always carries. The error names
/// `emails.templates.{kind}.{locale}.{part}` and the line.
pub fn validate_override(
    kind: Kind,
    locale: Locale,
    over: &TemplateOverride,
) -> Result<(), TemplateError> {
    let env = engine::environment(engine::Mode::Validating)?;
    let brand = Brand::sample();
    for ctx in [MailContext::sample(locale), MailContext::minimal(kind)] {
        let values = engine::values(kind, locale, &brand, &ctx);
        let parts = engine::override_parts(env, kind, locale, over, &values)?;
        if super::message::one_line(&parts.subject).is_empty() {
            return Err(TemplateError {
                template: engine::override_name(kind, locale, "subject"),
                line: None,
                reason: "the subject comes out empty".into(),
            });
        }
    }
    Ok(())
}
