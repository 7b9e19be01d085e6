//! The minijinja side: the two environments (forgiving for sending, strict for validating),
//! the embedded templates, the values a template sees, and turning errors into
//! [`TemplateError`]s that name the template part and line.

use std::sync::LazyLock;

use minijinja::value::merge_maps;
use minijinja::{
    context, escape_formatter, AutoEscape, Environment, ErrorKind, Output, Template,
    UndefinedBehavior, Value,
};
use serde::Serialize;

use super::{filters, Brand, Kind, Locale, MailContext, Rendered, TemplateError, TemplateOverride};
use crate::domain::widget::{contrast, parse_hex_colour};
use crate::mail::message::one_line;

/// Per kind: its name, the English and the Arabic template.
macro_rules! builtin_templates {
    ($($kind:literal),* $(,)?) => {
        &[$((
            $kind,
            include_str!(concat!("../templates/", $kind, ".en.j2")),
            include_str!(concat!("../templates/", $kind, ".ar.j2")),
        )),*]
    };
}

pub(super) const BUILTIN: &[(&str, &str, &str)] = builtin_templates!(
    "welcome",
    "points_earned",
    "points_spendable",
    "reward_issued",
    "points_expiring",
    "tier_up",
    "tier_down",
    "tier_at_risk",
    "birthday",
    "referral_invite",
    "referral_reward",
    "win_back",
    "replenishment",
    "nps_survey",
    "digest",
);

const SHARED: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("layout.txt", include_str!("../templates/layout.txt")),
    ("parts.html", include_str!("../templates/parts.html")),
];

/// Instructions one render may run. The built-in templates use a few hundred; an owner's
/// template that loops far beyond that is stopped instead of holding a worker.
const FUEL: u64 = 100_000;

const DEFAULT_ACCENT: &str = "#5a31f4";
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];
const BLACK: [u8; 3] = [0, 0, 0];

/// Which environment: sending forgives a variable that is not there (prints nothing),
/// validating refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Sending,
    Validating,
}

static SENDING: LazyLock<Result<Environment<'static>, minijinja::Error>> =
    LazyLock::new(|| build(UndefinedBehavior::Chainable));
static VALIDATING: LazyLock<Result<Environment<'static>, minijinja::Error>> =
    LazyLock::new(|| build(UndefinedBehavior::Strict));

pub(super) fn environment(mode: Mode) -> Result<&'static Environment<'static>, TemplateError> {
    let env = match mode {
        Mode::Sending => &*SENDING,
        Mode::Validating => &*VALIDATING,
    };
    env.as_ref()
        .map_err(|e| locate(e, "built-in templates", &[]))
}

fn build(undefined: UndefinedBehavior) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    // A line holding only a tag leaves nothing behind; a text line that ends in a tag keeps
    // its line break by ending the tag with `+%}`.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_fuel(Some(FUEL));
    // Escaping follows the part, not the file: the same built-in source is registered as
    // `.txt` (subject, preheader, text) and as `.html` (the HTML block).
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    // `none` prints as nothing: a missing fact leaves a gap, never the word "none".
    env.set_formatter(|out, state, value| match value.as_str() {
        _ if value.is_none() => Ok(()),
        Some(text) if state.auto_escape() == AutoEscape::Html && !value.is_safe() => {
            write_html_escaped(out, text)
        }
        _ => escape_formatter(out, state, value),
    });
    env.add_filter("date", filters::date);
    env.add_filter("points", filters::points);
    for (name, source) in SHARED {
        env.add_template(name, source)?;
    }
    for (kind, en, ar) in BUILTIN {
        for (locale, source) in [("en", *en), ("ar", *ar)] {
            for part in ["txt", "html"] {
                env.add_template_owned(format!("{kind}.{locale}.{part}"), source)?;
            }
        }
    }
    Ok(env)
}

/// Escapes text for HTML content and quoted attributes. Unlike minijinja's default, `/` stays
/// as it is: links in the mail's source stay readable (and the same as in the text part).
fn write_html_escaped(out: &mut Output, text: &str) -> Result<(), minijinja::Error> {
    use std::fmt::Write;
    for c in text.chars() {
        match c {
            '&' => out.write_str("&amp;"),
            '<' => out.write_str("&lt;"),
            '>' => out.write_str("&gt;"),
            '"' => out.write_str("&quot;"),
            '\'' => out.write_str("&#x27;"),
            c => out.write_char(c),
        }?;
    }
    Ok(())
}

/// The brand as templates see it: a safe accent colour and the colours that stay readable
/// on it and on white.
#[derive(Serialize)]
struct BrandView<'a> {
    shop_name: &'a str,
    shop_url: &'a str,
    logo_url: Option<&'a str>,
    postal_address: Option<&'a str>,
    accent_color: String,
    /// Button text: white or black, whichever contrasts more with the accent.
    accent_text_color: &'static str,
    /// Links on white: the accent when it reads well (WCAG AA), else near-black.
    link_color: String,
}

impl<'a> BrandView<'a> {
    fn new(brand: &'a Brand) -> Self {
        // A colour lands inside a style attribute: anything but `#rrggbb` is replaced.
        let (accent, rgb) = match parse_hex_colour(brand.accent_color.trim()) {
            Some(rgb) => (brand.accent_color.trim().to_ascii_lowercase(), rgb),
            None => (DEFAULT_ACCENT.to_owned(), [0x5a, 0x31, 0xf4]),
        };
        let non_empty = |s: &'a Option<String>| s.as_deref().filter(|s| !s.trim().is_empty());
        BrandView {
            shop_name: &brand.shop_name,
            shop_url: &brand.shop_url,
            logo_url: non_empty(&brand.logo_url),
            postal_address: non_empty(&brand.postal_address),
            accent_text_color: if contrast(rgb, WHITE) >= contrast(rgb, BLACK) {
                "#ffffff"
            } else {
                "#000000"
            },
            link_color: if contrast(rgb, WHITE) >= 4.5 {
                accent.clone()
            } else {
                "#1f2937".to_owned()
            },
            accent_color: accent,
        }
    }
}

/// Everything a template sees: the facts, `brand`, `locale`, `dir`, `kind` and `marketing`.
pub(super) fn values(kind: Kind, locale: Locale, brand: &Brand, ctx: &MailContext) -> Value {
    let mut facts = ctx.clone();
    if facts.action_url.is_none() {
        facts.action_url = Some(brand.shop_url.clone());
    }
    if kind.is_transactional() {
        facts.unsubscribe_url = None;
    }
    merge_maps([
        context! {
            brand => BrandView::new(brand),
            locale => locale.as_str(),
            dir => locale.dir(),
            kind => kind.as_str(),
            marketing => kind.is_marketing(),
        },
        Value::from_serialize(&facts),
    ])
}

/// A mail's own parts, before the layout goes around them.
pub(super) struct Parts {
    pub(super) subject: String,
    /// The inbox preview line (hidden in the HTML); empty for overrides.
    pub(super) preheader: String,
    pub(super) text: String,
    pub(super) html: String,
}

pub(super) fn builtin_parts(
    env: &Environment<'static>,
    kind: Kind,
    locale: Locale,
    values: &Value,
) -> Result<Parts, TemplateError> {
    let stem = format!("{}.{}", kind.as_str(), locale.as_str());
    let blocks = |part: &str, names: &[&str]| -> Result<Vec<String>, TemplateError> {
        let name = format!("{stem}.{part}");
        let fail = |e: minijinja::Error| locate(&e, &name, &[]);
        let template = env.get_template(&name).map_err(fail)?;
        let mut captured = template.render_captured(values).map_err(fail)?;
        names
            .iter()
            .map(|block| {
                captured
                    .with_state_mut(|state| state.render_block(block))
                    .map_err(fail)
            })
            .collect()
    };
    let mut plain = blocks("txt", &["subject", "preheader", "text"])?.into_iter();
    let mut html = blocks("html", &["html"])?.into_iter();
    Ok(Parts {
        subject: plain.next().unwrap_or_default(),
        preheader: plain.next().unwrap_or_default(),
        text: plain.next().unwrap_or_default(),
        html: html.next().unwrap_or_default(),
    })
}

/// `emails.templates.{kind}.{locale}.{part}`: where the owner's template sits in the program.
pub(super) fn override_name(kind: Kind, locale: Locale, part: &str) -> String {
    format!(
        "emails.templates.{}.{}.{part}",
        kind.as_str(),
        locale.as_str()
    )
}

pub(super) fn override_parts(
    env: &Environment<'static>,
    kind: Kind,
    locale: Locale,
    over: &TemplateOverride,
    values: &Value,
) -> Result<Parts, TemplateError> {
    // The environment outlives the owner's strings; it is borrowed for a shorter lifetime
    // so it can compile them without copying it.
    let env: &Environment<'_> = env;
    let part = |part: &str, source: &str| -> Result<String, TemplateError> {
        let name = override_name(kind, locale, part);
        let template = env
            .template_from_named_str(&name, source)
            .map_err(|e| locate(&e, &name, &[]))?;
        template.render(values).map_err(|e| {
            let unknown = if e.kind() == ErrorKind::UndefinedError {
                unknown_variables(env, &template, values)
            } else {
                Vec::new()
            };
            locate(&e, &name, &unknown)
        })
    };
    Ok(Parts {
        subject: part("subject", &over.subject)?,
        preheader: String::new(),
        html: part("html", &over.html)?,
        text: part("text", &over.text)?,
    })
}

/// The top-level names a template reads that no mail provides (a typo, usually).
fn unknown_variables(
    env: &Environment<'_>,
    template: &Template<'_, '_>,
    values: &Value,
) -> Vec<String> {
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| {
            values.get_attr(name).map_or(true, |v| v.is_undefined())
                && !env.globals().any(|(global, _)| global == name)
        })
        .collect();
    unknown.sort();
    unknown
}

fn locate(err: &minijinja::Error, template: &str, unknown: &[String]) -> TemplateError {
    let reason = match err.kind() {
        ErrorKind::UndefinedError if !unknown.is_empty() => {
            let names: Vec<String> = unknown.iter().map(|n| format!("`{n}`")).collect();
            format!("unknown variable {}", names.join(", "))
        }
        ErrorKind::UndefinedError => "uses a value that does not exist".to_owned(),
        ErrorKind::OutOfFuel => "takes too long to render (a loop that runs too often?)".to_owned(),
        kind => match err.detail() {
            Some(detail) => format!("{kind}: {detail}"),
            None => kind.to_string(),
        },
    };
    TemplateError {
        template: err.name().unwrap_or(template).to_owned(),
        line: err.line(),
        reason,
    }
}

/// Wraps the parts in the layout: header and footer in both HTML and text.
pub(super) fn assemble(
    env: &Environment<'static>,
    values: &Value,
    parts: Parts,
) -> Result<Rendered, TemplateError> {
    let subject = one_line(&parts.subject);
    let preheader = one_line(&parts.preheader);
    let layout = |name: &str, extra: Value| -> Result<String, TemplateError> {
        env.get_template(name)
            .and_then(|t| t.render(merge_maps([extra, values.clone()])))
            .map_err(|e| locate(&e, name, &[]))
    };
    let text = layout("layout.txt", context! { body => tidy_text(&parts.text) })?;
    let html = layout(
        "layout.html",
        context! {
            content => Value::from_safe_string(parts.html),
            subject => subject.clone(),
            preheader => preheader.clone(),
        },
    )?;
    Ok(Rendered {
        subject,
        preheader,
        text: format!("{}\n", text.trim_end()),
        html,
    })
}

/// Template conditionals leave blank lines behind: no trailing spaces, at most one blank line
/// in a row, none at either end.
pub(super) fn tidy_text(text: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            gap = !out.is_empty();
            continue;
        }
        if gap {
            out.push('\n');
            gap = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}
