//! The shop's loyalty program settings, stored as JSON on the shop. Missing fields take their
//! defaults, so a program saved by an older version still loads; unknown fields are refused at
//! every level, so an owner's typo is an error rather than a setting silently dropped.

use serde::{Deserialize, Serialize};

use crate::db::models::Shop;
use crate::db::types::Platform;
use crate::domain::earning::{EarningRules, RulesError};
use crate::domain::expiry::{ExpiryError, ExpiryPolicy};
use crate::domain::mail::{EmailConfigError, EmailSettings};
use crate::domain::money::Currency;
use crate::domain::referrals::{ReferralConfigError, ReferralProgram};
use crate::domain::retention::{
    LapseRule, ReplenishmentConfigError, ReplenishmentProgram, WinBackConfigError, WinBackProgram,
};
use crate::domain::rewards::{
    code_prefix, default_catalog, strict_catalog, validate_bigcommerce_catalog, validate_catalog,
    CatalogError, Reward,
};
use crate::domain::tiers::{validate_references, Membership, TierError, TierProgram};
use crate::domain::widget::{WidgetError, WidgetSettings};

mod fields;
mod store;

pub use store::replace;

/// Everything the owner configures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Program {
    pub earning: EarningRules,
    /// The rewards catalog; absent means the default catalog in the shop's currency.
    #[serde(deserialize_with = "strict_catalog")]
    pub rewards: Option<Vec<Reward>>,
    /// Prefix of the shop's discount codes; absent means one made from the shop's domain.
    pub code_prefix: Option<String>,
    /// Points expiry; absent means points never expire.
    pub expiry: Option<ExpiryPolicy>,
    /// How the storefront widget looks and what it says.
    pub widget: WidgetSettings,
    /// VIP tiers; absent means the shop has none.
    pub tiers: Option<TierProgram>,
    /// Paid memberships granting a tier.
    pub memberships: Vec<Membership>,
    /// Refer-a-friend; absent means the shop has no referral program.
    pub referrals: Option<ReferralProgram>,
    /// E-mail: sender, branding, which kinds, templates, the sending policy.
    pub emails: EmailSettings,
    pub win_back: Option<WinBackProgram>,
    pub replenishment: Option<ReplenishmentProgram>,
}

/// Programs remembered per thread by [`Program::of`].
const RECENT_PROGRAMS: usize = 4;

thread_local! {
    /// The programs last read on this thread, most recent first, with what each was read from:
    /// an applier batch asks for its shop's program at every order, and parsing it was ~3 % of
    /// the applier's time in a burst (docs/PERFORMANCE.md, twenty-sixth session). Keyed by the
    /// whole input, so a changed program (or currency, or domain) is read again.
    static RECENT: std::cell::RefCell<Vec<(ReadFrom, Program)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What [`Program::of`] reads a program from.
struct ReadFrom {
    program: String,
    currency: String,
    domain: String,
}

impl ReadFrom {
    fn of(shop: &Shop) -> Self {
        Self {
            program: shop.program.clone(),
            currency: shop.currency.clone(),
            domain: shop.domain.clone(),
        }
    }

    fn is_of(&self, shop: &Shop) -> bool {
        self.program == shop.program && self.currency == shop.currency && self.domain == shop.domain
    }
}

/// What is wrong with a program an owner sent.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// Not JSON at all.
    #[error("invalid program: {0}")]
    NotJson(serde_json::Error),
    /// JSON, but not a program: an unknown field (named), a wrong type, an unknown kind.
    #[error("invalid program: {0}")]
    Shape(serde_json::Error),
    /// The same, at a path (`referrals.friend_reward.kind`).
    #[error("invalid program: {0}: {1}")]
    ShapeAt(String, serde_json::Error),
    #[error(transparent)]
    Earning(#[from] RulesError),
    #[error(transparent)]
    Rewards(#[from] CatalogError),
    #[error("code_prefix must be 1–8 letters or digits")]
    CodePrefix,
    #[error(transparent)]
    Expiry(ExpiryError),
    #[error(transparent)]
    Widget(#[from] WidgetError),
    #[error(transparent)]
    Tiers(#[from] TierError),
    #[error(transparent)]
    Referrals(#[from] ReferralConfigError),
    #[error(transparent)]
    Emails(#[from] EmailConfigError),
    #[error("{0}")]
    Template(String),
    #[error(transparent)]
    WinBack(#[from] WinBackConfigError),
    #[error(transparent)]
    Replenishment(#[from] ReplenishmentConfigError),
}

impl Program {
    /// The shop's program with every default filled in; a stored value that no longer parses
    /// falls back to the defaults (and says so in the logs) rather than stopping the shop.
    pub fn of(shop: &Shop) -> Program {
        RECENT.with(|recent| {
            let mut recent = recent.borrow_mut();
            if let Some(at) = recent.iter().position(|(read, _)| read.is_of(shop)) {
                // Most recent first, so a batch of one shop's orders finds it at once.
                let hit = recent.remove(at);
                let program = hit.1.clone();
                recent.insert(0, hit);
                return program;
            }
            let program = Self::read(shop);
            recent.truncate(RECENT_PROGRAMS - 1);
            recent.insert(0, (ReadFrom::of(shop), program.clone()));
            program
        })
    }

    /// [`Program::of`], read from the shop's stored JSON.
    fn read(shop: &Shop) -> Program {
        let mut program: Program = match serde_json::from_str(&shop.program) {
            Ok(program) => program,
            Err(e) => {
                tracing::error!(shop = %shop.domain, error = %e, "stored program does not parse; using defaults");
                Program::default()
            }
        };
        if program.rewards.is_none() {
            let minor_per_unit = Currency::parse(&shop.currency)
                .map(|c| c.minor_per_unit())
                .unwrap_or(100);
            program.rewards = Some(default_catalog(minor_per_unit));
        }
        if program.code_prefix.is_none() {
            program.code_prefix = Some(code_prefix(&shop.domain));
        }
        program
    }

    /// Reads and checks a program an owner sent (the body of `PUT /program`).
    pub fn parse(body: &[u8]) -> Result<Program, ProgramError> {
        // The path of a bad value goes into the message (`referrals.review: unknown variant…`),
        // so the owner knows which setting to fix.
        let mut json = serde_json::Deserializer::from_slice(body);
        let program: Program = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if !inner.is_data() {
                ProgramError::NotJson(inner)
            } else if path == "." {
                ProgramError::Shape(inner)
            } else {
                ProgramError::ShapeAt(path, inner)
            }
        })?;
        program.validate()?;
        Ok(program)
    }

    /// [`Program::parse`] for a shop on `platform`: also refuses what that platform's discount
    /// codes cannot give (a free product on BigCommerce), so the owner learns it when saving
    /// rather than a member when redeeming.
    pub fn parse_for(body: &[u8], platform: Platform) -> Result<Program, ProgramError> {
        let program = Self::parse(body)?;
        program.validate_for(platform)?;
        Ok(program)
    }

    /// What only the shop's platform limits; absent rewards are the default catalog, which
    /// every platform can give.
    pub fn validate_for(&self, platform: Platform) -> Result<(), ProgramError> {
        if let (Platform::BigCommerce, Some(rewards)) = (platform, &self.rewards) {
            validate_bigcommerce_catalog(rewards)?;
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ProgramError> {
        self.earning.validate()?;
        if let Some(rewards) = &self.rewards {
            validate_catalog(rewards)?;
        }
        if let Some(expiry) = &self.expiry {
            expiry.validate().map_err(ProgramError::Expiry)?;
        }
        self.widget.validate()?;
        if let Some(tiers) = &self.tiers {
            tiers.validate()?;
        }
        if let Some(referrals) = &self.referrals {
            referrals.validate()?;
        }
        self.emails.validate()?;
        if let Some(win_back) = &self.win_back {
            win_back.validate()?;
        }
        if let Some(replenishment) = &self.replenishment {
            replenishment.validate()?;
        }
        // Owner templates are rendered once against sample facts: one that cannot render is
        // refused now, naming the template and line, rather than failing a customer's mail.
        for (kind, by_locale) in &self.emails.templates {
            for (locale, over) in by_locale {
                let locale = crate::domain::widget::Locale::from_tag(locale)
                    .unwrap_or(crate::domain::widget::Locale::En);
                crate::mail::render::validate_override(*kind, locale, over)
                    .map_err(|e| ProgramError::Template(e.to_string()))?;
            }
        }
        // Rewards absent here are the default catalog, whose ids do not depend on the currency.
        let defaults;
        let rewards = match &self.rewards {
            Some(rewards) => rewards.as_slice(),
            None => {
                defaults = default_catalog(100);
                defaults.as_slice()
            }
        };
        // Entry rewards are given as codes: a donation or custom reward cannot be one.
        let ids: Vec<&str> = rewards
            .iter()
            .filter(|r| !r.kind.fulfilled_by_owner())
            .map(|r| r.id.as_str())
            .collect();
        let tiered: Vec<(&str, &str)> = rewards
            .iter()
            .filter_map(|r| Some((r.id.as_str(), r.tier.as_deref()?)))
            .collect();
        validate_references(self.tiers.as_ref(), &self.memberships, &ids, &tiered)?;
        if let Some(prefix) = &self.code_prefix {
            if !(1..=8).contains(&prefix.len())
                || !prefix.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(ProgramError::CodePrefix);
            }
        }
        Ok(())
    }

    /// The referral program, when the shop runs one.
    pub fn active_referrals(&self) -> Option<&ReferralProgram> {
        self.referrals.as_ref().filter(|r| r.enabled)
    }

    /// The tiers, or an empty program when the shop has none.
    pub fn tier_program(&self) -> TierProgram {
        self.tiers.clone().unwrap_or_else(|| TierProgram {
            basis: Default::default(),
            window: Default::default(),
            grace_days: 0,
            levels: Vec::new(),
        })
    }

    /// The catalog (defaults filled in by [`Program::of`]).
    /// When a customer counts as lapsed: the win-back setting, else the default.
    pub fn lapse_rule(&self) -> LapseRule {
        self.win_back
            .as_ref()
            .map_or_else(LapseRule::default, WinBackProgram::lapse_rule)
    }

    pub fn catalog(&self) -> &[Reward] {
        self.rewards.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop(program: &str, currency: &str, domain: &str) -> Shop {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap();
        Shop {
            id: "shop".into(),
            platform: Platform::Shopify,
            domain: domain.into(),
            access_token_enc: None,
            webhook_secret_enc: None,
            api_key_hash: None,
            api_base: None,
            currency: currency.into(),
            timezone: "UTC".into(),
            locale: "en".into(),
            install_state: crate::db::types::InstallState::Installed,
            program: program.into(),
            is_demo: false,
            installed_at: at,
            uninstalled_at: None,
            created_at: at,
            updated_at: at,
            reconciled_until: None,
            award_history: false,
            consumer_key_enc: None,
            consumer_secret_enc: None,
            dkim_domain: None,
            dkim_selector: None,
            dkim_private_key_enc: None,
            access_token_expires_at: None,
            refresh_token_expires_at: None,
        }
    }

    #[test]
    fn a_remembered_program_is_read_again_when_what_it_was_read_from_changes() {
        let five = r#"{"earning":{"points_per_unit":5}}"#;
        let a = shop(five, "USD", "a.myshopify.com");
        assert_eq!(Program::of(&a), Program::read(&a));
        assert_eq!(Program::of(&a).earning.points_per_unit, 5);
        // Each input is part of the key: the program, the currency (the default catalog's
        // values) and the domain (the default code prefix).
        let seven = shop(
            r#"{"earning":{"points_per_unit":7}}"#,
            "USD",
            "a.myshopify.com",
        );
        assert_eq!(Program::of(&seven).earning.points_per_unit, 7);
        let yen = shop(five, "JPY", "a.myshopify.com");
        assert_eq!(Program::of(&yen), Program::read(&yen));
        assert_ne!(Program::of(&yen).rewards, Program::of(&a).rewards);
        let b = shop(five, "USD", "b.myshopify.com");
        assert_ne!(Program::of(&b).code_prefix, Program::of(&a).code_prefix);
        // More shops than are remembered: each still gets its own.
        let many: Vec<Shop> = (0..=RECENT_PROGRAMS)
            .map(|i| {
                shop(
                    &format!(r#"{{"earning":{{"points_per_unit":{}}}}}"#, i + 1),
                    "USD",
                    "a.myshopify.com",
                )
            })
            .collect();
        for _ in 0..2 {
            for (i, s) in many.iter().enumerate() {
                assert_eq!(Program::of(s).earning.points_per_unit, i as u32 + 1);
            }
        }
        assert_eq!(Program::of(&a), Program::read(&a));
    }

    #[test]
    fn an_empty_program_is_the_default_program() {
        let p: Program = serde_json::from_str("{}").unwrap();
        assert_eq!(p, Program::default());
        assert_eq!(p.earning.points_per_unit, 1);
        assert_eq!(p.earning.pending_days, 14);
    }

    #[test]
    fn partial_programs_keep_defaults_for_the_rest() {
        let p: Program = serde_json::from_str(r#"{"earning":{"points_per_unit":5}}"#).unwrap();
        assert_eq!(p.earning.points_per_unit, 5);
        assert_eq!(p.earning.pending_days, 14);
        assert!(
            serde_json::from_str::<Program>(r#"{"earnign":{}}"#).is_err(),
            "typos are refused"
        );
    }

    #[test]
    fn a_typo_at_any_level_is_refused_naming_the_field() {
        for (body, field) in [
            (r#"{"earnign":{}}"#, "earnign"),
            (r#"{"earning":{"points_per_uint":5}}"#, "points_per_uint"),
            (
                r#"{"rewards":[{"id":"a","title":"t","kind":"percent","percent":5,"points_cost":9,"tittle":"x"}]}"#,
                "tittle",
            ),
            (
                r#"{"expiry":{"mode":"after_earning","months":6,"month":1}}"#,
                "month",
            ),
            (r##"{"widget":{"colour":"#000000"}}"##, "colour"),
        ] {
            match Program::parse(body.as_bytes()) {
                Err(ProgramError::Shape(e) | ProgramError::ShapeAt(_, e)) => assert!(
                    e.to_string().contains(&format!("unknown field `{field}`")),
                    "{body}: {e}"
                ),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            Program::parse(b"{not json"),
            Err(ProgramError::NotJson(_))
        ));
    }

    #[test]
    fn program_values_past_their_caps_are_refused() {
        for body in [
            r#"{"earning":{"signup_points":9223372036854775807}}"#,
            r#"{"earning":{"birthday_points":10000001}}"#,
            r#"{"earning":{"unit_size":4294967295}}"#,
            r#"{"rewards":[{"id":"v","title":"t","kind":"variable","points_per_unit":1,"min_points":1,"max_points":9223372036854775807,"points_cost":1}]}"#,
        ] {
            assert!(Program::parse(body.as_bytes()).is_err(), "{body}");
        }
        assert!(Program::parse(br#"{"earning":{"signup_points":10000000}}"#).is_ok());
    }

    #[test]
    fn win_back_and_replenishment_are_parsed_and_validated_naming_the_field() {
        let p = Program::parse(
            br#"{"win_back":{"enabled":true,"after_days":"auto","steps":[{"delay_days":0}]},"replenishment":{"enabled":true,"lead_days":3}}"#,
        )
        .unwrap();
        assert_eq!(p.lapse_rule(), LapseRule::Auto);
        assert_eq!(p.replenishment.map(|r| r.lead_days), Some(3));
        assert_eq!(Program::default().lapse_rule(), LapseRule::AfterDays(90));
        for (body, field) in [
            (
                r#"{"win_back":{"after_days":0,"steps":[{"delay_days":0}]}}"#,
                "win_back.after_days",
            ),
            (r#"{"win_back":{"steps":[]}}"#, "win_back.steps"),
            (
                r#"{"replenishment":{"lead_days":91}}"#,
                "replenishment.lead_days",
            ),
        ] {
            let e = Program::parse(body.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(field), "{body}: {e}");
        }
    }
}
