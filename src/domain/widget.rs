//! What the storefront widget says and how it looks, per shop: the languages it speaks, the
//! owner's wording over the defaults, and colours that always keep text readable. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod texts;

pub use texts::TEXTS;

/// A language the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Ar,
}

impl Locale {
    pub const ALL: &'static [Locale] = &[Locale::En, Locale::Ar];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ar => "ar",
        }
    }

    /// Writing direction, for `dir=` on the panel.
    pub fn dir(self) -> &'static str {
        match self {
            Locale::Ar => "rtl",
            Locale::En => "ltr",
        }
    }

    /// The locale for a storefront's language tag (`ar`, `ar-SA`, `en_GB`…), if we speak it.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Locale::ALL.iter().copied().find(|l| l.as_str() == primary)
    }

    /// The storefront's language when we speak it, else the shop's default.
    pub fn negotiate(requested: Option<&str>, shop_default: Locale) -> Locale {
        requested.and_then(Locale::from_tag).unwrap_or(shop_default)
    }
}

/// Which side of the screen the launcher sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    Right,
    Left,
}

/// The owner's widget settings (part of the program).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetSettings {
    /// The language used when the storefront's is not one the widget speaks.
    pub default_locale: Locale,
    /// Background of the launcher and buttons, `#rrggbb`; the text on it is chosen for contrast.
    pub accent_color: String,
    pub position: Position,
    /// Where "Create an account" and "Sign in" lead (storefront paths or https URLs).
    pub join_url: String,
    pub login_url: String,
    /// The owner's wording over the defaults, per language: `{"en": {"guest_heading": "…"}}`.
    pub texts: BTreeMap<Locale, BTreeMap<String, String>>,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            default_locale: Locale::En,
            accent_color: "#5a31f4".into(),
            position: Position::Right,
            // Shopify's customer account pages; other platforms set their own.
            join_url: "/account/register".into(),
            login_url: "/account/login".into(),
            texts: BTreeMap::new(),
        }
    }
}

/// What is wrong with widget settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WidgetError {
    #[error("widget.accent_color must be a colour like #5a31f4")]
    Colour,
    #[error("widget.{0} must be a path on the storefront (/…) or an https:// URL")]
    Url(&'static str),
    #[error("widget.texts.{locale}.{key}: no such text; known texts are listed in the README")]
    UnknownText { locale: &'static str, key: String },
    #[error("widget.texts.{locale}.{key} must be 1–300 characters")]
    TextLength { locale: &'static str, key: String },
    #[error("widget.texts.{locale}.{key} uses {{{placeholder}}}, which this text does not have")]
    Placeholder {
        locale: &'static str,
        key: String,
        placeholder: String,
    },
}

impl WidgetSettings {
    pub fn validate(&self) -> Result<(), WidgetError> {
        parse_hex_colour(&self.accent_color).ok_or(WidgetError::Colour)?;
        for (name, url) in [("join_url", &self.join_url), ("login_url", &self.login_url)] {
            let ok =
                (url.starts_with('/') && !url.starts_with("//")) || url.starts_with("https://");
            if !ok || url.len() > 500 || url.chars().any(char::is_whitespace) {
                return Err(WidgetError::Url(name));
            }
        }
        for (locale, texts) in &self.texts {
            let locale_name = locale.as_str();
            for (key, text) in texts {
                let default =
                    default_text(*locale, key).ok_or_else(|| WidgetError::UnknownText {
                        locale: locale_name,
                        key: key.clone(),
                    })?;
                if text.trim().is_empty() || text.chars().count() > 300 {
                    return Err(WidgetError::TextLength {
                        locale: locale_name,
                        key: key.clone(),
                    });
                }
                let allowed = placeholders(default);
                if let Some(p) = placeholders(text)
                    .into_iter()
                    .find(|p| !allowed.contains(p))
                {
                    return Err(WidgetError::Placeholder {
                        locale: locale_name,
                        key: key.clone(),
                        placeholder: p.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Every text of the widget in `locale`: the owner's wording where set, else the default.
    pub fn texts_for(&self, locale: Locale) -> BTreeMap<&'static str, String> {
        let owner = self.texts.get(&locale);
        TEXTS
            .iter()
            .map(|(key, en, ar)| {
                let default = match locale {
                    Locale::En => *en,
                    Locale::Ar => *ar,
                };
                let text = owner
                    .and_then(|o| o.get(*key))
                    .map_or_else(|| default.to_owned(), Clone::clone);
                (*key, text)
            })
            .collect()
    }

    /// The colour of text drawn on the accent colour: white or black, whichever contrasts
    /// more. One of them always reaches WCAG AA (4.5:1) against any colour.
    pub fn accent_text_color(&self) -> &'static str {
        let accent = parse_hex_colour(&self.accent_color).unwrap_or([0x5a, 0x31, 0xf4]);
        if contrast(accent, WHITE) >= contrast(accent, INK) {
            "#ffffff"
        } else {
            "#000000"
        }
    }
}

const WHITE: [u8; 3] = [0xff, 0xff, 0xff];
const INK: [u8; 3] = [0, 0, 0];

/// The default text for `key` in `locale`.
pub fn default_text(locale: Locale, key: &str) -> Option<&'static str> {
    TEXTS
        .iter()
        .find(|(k, ..)| *k == key)
        .map(|(_, en, ar)| match locale {
            Locale::En => *en,
            Locale::Ar => *ar,
        })
}

/// Fills `{name}` placeholders of a text.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_owned(), |t, (name, value)| {
        t.replace(&format!("{{{name}}}"), value)
    })
}

/// The `{name}` placeholders a text uses.
fn placeholders(text: &str) -> Vec<&str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

pub(crate) fn parse_hex_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|c| u8::from_str_radix(c, 16).ok())
    };
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// WCAG 2 relative luminance.
fn luminance(rgb: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = rgb;
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG 2 contrast ratio, 1–21.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storefront_language_tags_pick_a_spoken_locale_or_the_shop_default() {
        assert_eq!(Locale::negotiate(Some("ar"), Locale::En), Locale::Ar);
        assert_eq!(Locale::negotiate(Some("ar-SA"), Locale::En), Locale::Ar);
        assert_eq!(Locale::negotiate(Some("EN_gb"), Locale::Ar), Locale::En);
        assert_eq!(Locale::negotiate(Some("fr"), Locale::Ar), Locale::Ar);
        assert_eq!(Locale::negotiate(Some(""), Locale::En), Locale::En);
        assert_eq!(Locale::negotiate(None, Locale::Ar), Locale::Ar);
        assert_eq!(Locale::Ar.dir(), "rtl");
        assert_eq!(Locale::En.dir(), "ltr");
    }

    #[test]
    fn every_text_exists_in_every_language_with_the_same_placeholders() {
        let mut keys = std::collections::HashSet::new();
        for (key, en, ar) in TEXTS {
            assert!(keys.insert(key), "{key} twice");
            assert!(!en.is_empty() && !ar.is_empty(), "{key} is empty");
            let (mut pe, mut pa) = (placeholders(en), placeholders(ar));
            pe.sort_unstable();
            pa.sort_unstable();
            assert_eq!(pe, pa, "{key}: placeholders differ between en and ar");
            assert!(en.len() <= 300 && ar.len() <= 300);
        }
    }

    #[test]
    fn owner_texts_override_defaults_in_their_language_only() {
        let mut settings = WidgetSettings::default();
        settings.texts.insert(
            Locale::En,
            [("guest_heading".to_owned(), "Join the Glow Club".to_owned())].into(),
        );
        settings.validate().unwrap();
        assert_eq!(
            settings.texts_for(Locale::En)["guest_heading"],
            "Join the Glow Club"
        );
        assert_eq!(
            settings.texts_for(Locale::Ar)["guest_heading"],
            default_text(Locale::Ar, "guest_heading").unwrap()
        );
        assert_eq!(settings.texts_for(Locale::Ar).len(), TEXTS.len());
    }

    #[test]
    fn bad_settings_are_refused_with_the_field_named() {
        let with = |f: &dyn Fn(&mut WidgetSettings)| {
            let mut s = WidgetSettings::default();
            f(&mut s);
            s.validate().unwrap_err().to_string()
        };
        assert!(with(&|s| s.accent_color = "red".into()).contains("accent_color"));
        assert!(with(&|s| s.accent_color = "#12345g".into()).contains("accent_color"));
        assert!(with(&|s| s.join_url = "javascript:alert(1)".into()).contains("join_url"));
        assert!(with(&|s| s.login_url = "//evil.example".into()).contains("login_url"));
        assert!(with(&|s| s.login_url = "http://plain.example".into()).contains("login_url"));
        let text = |key: &str, value: &str| {
            with(&|s| {
                s.texts
                    .insert(Locale::Ar, [(key.to_owned(), value.to_owned())].into());
            })
        };
        assert!(text("no_such_text", "x").contains("no such text"));
        assert!(text("join", "").contains("1–300"));
        assert!(text("join", &"x".repeat(301)).contains("1–300"));
        assert!(text("points", "{n} {oops}").contains("{oops}"));
        assert!(WidgetSettings::default().validate().is_ok());
    }

    #[test]
    fn text_on_the_accent_colour_always_reaches_aa_contrast() {
        for accent in [
            "#5a31f4", "#ffff00", "#000000", "#ffffff", "#777777", "#00a86b", "#e60023",
        ] {
            let s = WidgetSettings {
                accent_color: accent.into(),
                ..WidgetSettings::default()
            };
            let text = parse_hex_colour(s.accent_text_color()).unwrap();
            let ratio = contrast(parse_hex_colour(accent).unwrap(), text);
            assert!(ratio >= 4.5, "{accent}: {ratio}");
        }
        // Every grey, the hardest case for a two-colour choice.
        for v in 0..=255u8 {
            let s = WidgetSettings {
                accent_color: format!("#{v:02x}{v:02x}{v:02x}"),
                ..WidgetSettings::default()
            };
            let text = parse_hex_colour(s.accent_text_color()).unwrap();
            assert!(contrast([v, v, v], text) >= 4.5, "grey {v}");
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill("{n} points on {date}", &[("n", "5"), ("date", "3 March")]),
            "5 points on 3 March"
        );
        assert_eq!(placeholders("{a} and {b}"), vec!["a", "b"]);
    }
}
