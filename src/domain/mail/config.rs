//! The owner's e-mail settings (`program.emails`), validated whole on `PUT`. Missing fields take
//! their defaults: every kind on, at most 3 marketing mails a week, quiet from 21:00 to 08:00 in
//! the shop's time zone, no more marketing after 8 unopened ones in a row.

use std::collections::BTreeMap;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use super::Kind;

/// The languages templates exist in.
pub const LOCALES: [&str; 2] = ["en", "ar"];
/// Longest template part an owner may store.
pub const MAX_TEMPLATE_BYTES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// The sender, `Shop <hi@shop.example>`; absent: `MAIL_FROM`.
    pub from: Option<String>,
    pub reply_to: Option<String>,
    /// The shop's postal address, in every footer (anti-spam laws want one).
    pub postal_address: Option<String>,
    /// An `https://` image shown in the header.
    pub logo_url: Option<String>,
    /// Button colour, `#rrggbb`; absent: the widget's accent colour.
    pub accent_color: Option<String>,
    /// Kinds switched off (`false`); a kind left out stays on.
    pub enabled: BTreeMap<Kind, bool>,
    /// Per kind and language (`en`, `ar`): the owner's subject, HTML and text.
    pub templates: BTreeMap<Kind, BTreeMap<String, TemplateOverride>>,
    pub policy: SendingPolicy,
    /// A 1×1 image that records opens (the sunset rule needs them). Off: no pixel, no sunset.
    pub open_tracking: bool,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            from: None,
            reply_to: None,
            postal_address: None,
            logo_url: None,
            accent_color: None,
            enabled: BTreeMap::new(),
            templates: BTreeMap::new(),
            policy: SendingPolicy::default(),
            open_tracking: true,
        }
    }
}

/// The owner's template for one kind and language: the message body in three parts, with the
/// built-in templates' variables. The layout (header, footer, unsubscribe link) is added around
/// `html` and `text`; `{% import "parts.html" as ui %}` gives the built-in button and boxes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateOverride {
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendingPolicy {
    /// Marketing mails per customer in any 7 days; the rest wait for one digest.
    pub max_per_week: u32,
    /// No marketing mail inside these hours of the shop's day; `null` switches it off.
    #[serde(default = "default_quiet_hours")]
    pub quiet_hours: Option<QuietHours>,
    /// After this many unopened marketing mails in a row, none until the customer orders again;
    /// `null` switches it off.
    #[serde(default = "default_sunset")]
    pub sunset_after_unopened: Option<u32>,
}

impl Default for SendingPolicy {
    fn default() -> Self {
        Self {
            max_per_week: 3,
            quiet_hours: default_quiet_hours(),
            sunset_after_unopened: default_sunset(),
        }
    }
}

fn default_quiet_hours() -> Option<QuietHours> {
    Some(QuietHours {
        start: "21:00".into(),
        end: "08:00".into(),
    })
}

fn default_sunset() -> Option<u32> {
    Some(8)
}

/// `HH:MM` in the shop's time zone; `start` after `end` spans midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

impl QuietHours {
    /// The two times, when both read as `HH:MM` and differ.
    pub fn times(&self) -> Option<(NaiveTime, NaiveTime)> {
        let read = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
        let (start, end) = (read(&self.start)?, read(&self.end)?);
        (start != end).then_some((start, end))
    }
}

/// What is wrong with the e-mail settings; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailConfigError {
    #[error("emails.{0} must be a mailbox like \"Shop <hi@shop.example>\"")]
    Mailbox(&'static str),
    #[error("emails.postal_address must be 1–300 characters without control characters")]
    PostalAddress,
    #[error("emails.logo_url must be an https:// URL of at most 500 characters")]
    LogoUrl,
    #[error("emails.accent_color must be a colour like #5a31f4")]
    Colour,
    #[error("emails.policy.max_per_week must be 1–50")]
    Cap,
    #[error("emails.policy.quiet_hours must be two different times like \"21:00\" and \"08:00\"")]
    QuietHours,
    #[error("emails.policy.sunset_after_unopened must be 1–100 (or null to switch it off)")]
    Sunset,
    #[error("emails.templates.{0}: only the languages en and ar have templates")]
    Locale(String),
    #[error("emails.templates.{0}.{1}: each part must be 1–{max} bytes", max = MAX_TEMPLATE_BYTES)]
    TemplateSize(String, String),
    #[error("emails.templates.{0}: digests use the built-in template")]
    DigestTemplate(String),
}

fn mailbox_ok(value: &str) -> bool {
    !value.chars().any(char::is_control) && value.parse::<lettre::message::Mailbox>().is_ok()
}

impl EmailSettings {
    /// Whether mail of `kind` goes out at all.
    pub fn is_enabled(&self, kind: Kind) -> bool {
        self.enabled.get(&kind).copied().unwrap_or(true)
    }

    /// The owner's template for `kind` in `locale`, if any.
    pub fn template(&self, kind: Kind, locale: &str) -> Option<&TemplateOverride> {
        self.templates.get(&kind)?.get(locale)
    }

    /// Checks everything but the templates' contents (those need the renderer: see
    /// `services::program`).
    pub fn validate(&self) -> Result<(), EmailConfigError> {
        if self.from.as_deref().is_some_and(|f| !mailbox_ok(f)) {
            return Err(EmailConfigError::Mailbox("from"));
        }
        if self.reply_to.as_deref().is_some_and(|f| !mailbox_ok(f)) {
            return Err(EmailConfigError::Mailbox("reply_to"));
        }
        if let Some(address) = &self.postal_address {
            let len = address.trim().chars().count();
            let control = address.chars().any(|c| c.is_control() && c != '\n');
            if !(1..=300).contains(&len) || control {
                return Err(EmailConfigError::PostalAddress);
            }
        }
        if let Some(logo) = &self.logo_url {
            let https = url::Url::parse(logo).is_ok_and(|u| u.scheme() == "https");
            if !https || logo.len() > 500 {
                return Err(EmailConfigError::LogoUrl);
            }
        }
        if let Some(colour) = &self.accent_color {
            if crate::domain::widget::parse_hex_colour(colour).is_none() {
                return Err(EmailConfigError::Colour);
            }
        }
        let policy = &self.policy;
        if !(1..=50).contains(&policy.max_per_week) {
            return Err(EmailConfigError::Cap);
        }
        if policy
            .quiet_hours
            .as_ref()
            .is_some_and(|q| q.times().is_none())
        {
            return Err(EmailConfigError::QuietHours);
        }
        if policy
            .sunset_after_unopened
            .is_some_and(|n| !(1..=100).contains(&n))
        {
            return Err(EmailConfigError::Sunset);
        }
        for (kind, by_locale) in &self.templates {
            if *kind == Kind::Digest {
                return Err(EmailConfigError::DigestTemplate(kind.as_str().into()));
            }
            for (locale, parts) in by_locale {
                if !LOCALES.contains(&locale.as_str()) {
                    return Err(EmailConfigError::Locale(format!(
                        "{}.{locale}",
                        kind.as_str()
                    )));
                }
                for part in [&parts.subject, &parts.html, &parts.text] {
                    if part.trim().is_empty() || part.len() > MAX_TEMPLATE_BYTES {
                        return Err(EmailConfigError::TemplateSize(
                            kind.as_str().into(),
                            locale.clone(),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<EmailSettings, String> {
        let settings: EmailSettings =
            serde_path_to_error::deserialize(json).map_err(|e| e.to_string())?;
        settings.validate().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    #[test]
    fn the_contract_example_reads_and_defaults_fill_the_rest() {
        let s = parse(serde_json::json!({"from": "Shop <hi@shop.example>", "reply_to": null,
            "postal_address": "1 Market St, Springfield",
            "enabled": {"points_earned": false},
            "templates": {"win_back": {"en": {"subject": "We miss you", "html": "<p>Hi</p>", "text": "Hi"}}},
            "policy": {"max_per_week": 3, "quiet_hours": {"start": "21:00", "end": "08:00"}, "sunset_after_unopened": 8}}))
        .unwrap();
        assert!(!s.is_enabled(Kind::PointsEarned));
        assert!(s.is_enabled(Kind::TierUp));
        assert!(s.template(Kind::WinBack, "en").is_some());
        assert!(s.template(Kind::WinBack, "ar").is_none());
        let empty = parse(serde_json::json!({})).unwrap();
        assert_eq!(empty, EmailSettings::default());
        assert_eq!(empty.policy.quiet_hours, default_quiet_hours());
        assert!(empty.open_tracking);
    }

    #[test]
    fn null_switches_quiet_hours_and_sunset_off() {
        let s = parse(
            serde_json::json!({"policy": {"quiet_hours": null, "sunset_after_unopened": null}}),
        )
        .unwrap();
        assert_eq!(s.policy.quiet_hours, None);
        assert_eq!(s.policy.sunset_after_unopened, None);
        assert_eq!(s.policy.max_per_week, 3);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let cases = [
            (serde_json::json!({"from": "not a mailbox"}), "emails.from"),
            (
                serde_json::json!({"reply_to": "x@y.z\r\nBcc: a@b.c"}),
                "emails.reply_to",
            ),
            (
                serde_json::json!({"logo_url": "http://shop.example/logo.png"}),
                "logo_url",
            ),
            (serde_json::json!({"accent_color": "red"}), "accent_color"),
            (
                serde_json::json!({"policy": {"max_per_week": 0}}),
                "max_per_week",
            ),
            (
                serde_json::json!({"policy": {"quiet_hours": {"start": "25:00", "end": "08:00"}}}),
                "quiet_hours",
            ),
            (
                serde_json::json!({"policy": {"quiet_hours": {"start": "08:00", "end": "08:00"}}}),
                "quiet_hours",
            ),
            (
                serde_json::json!({"policy": {"sunset_after_unopened": 0}}),
                "sunset_after_unopened",
            ),
            (
                serde_json::json!({"templates": {"tier_up": {"fr": {"subject": "s", "html": "h", "text": "t"}}}}),
                "tier_up.fr",
            ),
            (
                serde_json::json!({"templates": {"tier_up": {"en": {"subject": " ", "html": "h", "text": "t"}}}}),
                "tier_up.en",
            ),
            (
                serde_json::json!({"templates": {"digest": {"en": {"subject": "s", "html": "h", "text": "t"}}}}),
                "digest",
            ),
            (serde_json::json!({"enabled": {"spam": true}}), "enabled"),
            (serde_json::json!({"polcy": {}}), "polcy"),
        ];
        for (json, named) in cases {
            let err = parse(json.clone()).unwrap_err();
            assert!(err.contains(named), "{json}: {err}");
        }
    }
}
