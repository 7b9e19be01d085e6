//! The shop's loyalty program settings, stored as JSON on the shop. Unknown or missing fields
//! take their defaults, so a program saved by an older version still loads.

use serde::{Deserialize, Serialize};

use crate::db::models::Shop;
use crate::domain::earning::{EarningRules, RulesError};
use crate::domain::expiry::ExpiryPolicy;
use crate::domain::money::Currency;
use crate::domain::rewards::{
    code_prefix, default_catalog, validate_catalog, CatalogError, Reward,
};
use crate::domain::widget::{WidgetError, WidgetSettings};

/// Everything the owner configures. Tiers, referrals and e-mail join this as they land.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Program {
    pub earning: EarningRules,
    /// The rewards catalog; absent means the default catalog in the shop's currency.
    pub rewards: Option<Vec<Reward>>,
    /// Prefix of the shop's discount codes; absent means one made from the shop's domain.
    pub code_prefix: Option<String>,
    /// Points expiry; absent means points never expire.
    pub expiry: Option<ExpiryPolicy>,
    /// How the storefront widget looks and what it says.
    pub widget: WidgetSettings,
}

/// What is wrong with a program an owner sent.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    #[error(transparent)]
    Earning(#[from] RulesError),
    #[error(transparent)]
    Rewards(#[from] CatalogError),
    #[error("code_prefix must be 1–8 letters or digits")]
    CodePrefix,
    #[error("{0}")]
    Expiry(&'static str),
    #[error(transparent)]
    Widget(#[from] WidgetError),
}

impl Program {
    /// The shop's program with every default filled in; a stored value that no longer parses
    /// falls back to the defaults (and says so in the logs) rather than stopping the shop.
    pub fn of(shop: &Shop) -> Program {
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

    pub fn validate(&self) -> Result<(), ProgramError> {
        self.earning.validate()?;
        if let Some(rewards) = &self.rewards {
            validate_catalog(rewards)?;
        }
        if let Some(expiry) = &self.expiry {
            expiry.validate().map_err(ProgramError::Expiry)?;
        }
        self.widget.validate()?;
        if let Some(prefix) = &self.code_prefix {
            if !(1..=8).contains(&prefix.len())
                || !prefix.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(ProgramError::CodePrefix);
            }
        }
        Ok(())
    }

    /// The catalog (defaults filled in by [`Program::of`]).
    pub fn catalog(&self) -> &[Reward] {
        self.rewards.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
