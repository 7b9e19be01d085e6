//! The shop's loyalty program settings, stored as JSON on the shop. Unknown or missing fields
//! take their defaults, so a program saved by an older version still loads.

use serde::{Deserialize, Serialize};

use crate::db::models::Shop;
use crate::domain::earning::{EarningRules, RulesError};

/// Everything the owner configures. Rewards, tiers, referrals and e-mail join this as they land.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Program {
    pub earning: EarningRules,
}

impl Program {
    /// The shop's program; a stored value that no longer parses falls back to the defaults
    /// (and says so in the logs) rather than stopping every webhook of the shop.
    pub fn of(shop: &Shop) -> Program {
        match serde_json::from_str(&shop.program) {
            Ok(program) => program,
            Err(e) => {
                tracing::error!(shop = %shop.domain, error = %e, "stored program does not parse; using defaults");
                Program::default()
            }
        }
    }

    pub fn validate(&self) -> Result<(), RulesError> {
        self.earning.validate()
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
