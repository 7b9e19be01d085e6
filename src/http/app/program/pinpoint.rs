//! The row and setting a refused program's error is about. The domain names the setting
//! (`ProgramError::field`, e.g. `tiers.levels`) and, in the error, the item by its id; with the
//! program that was checked at hand, the editor can point at the very input
//! (`tiers.levels.1.threshold`) of the row the owner is editing.

use serde_json::Value;

use crate::domain::earning::RulesError;
use crate::domain::retention::WinBackConfigError;
use crate::domain::rewards::CatalogError;
use crate::domain::tiers::TierError;
use crate::http::app::program::rows::index_of;
use crate::services::program::ProgramError;

/// The path of the input `e` is about in `checked` (the program that was refused), as precise
/// as the error allows; `None` when it is about the whole program.
pub fn field(e: &ProgramError, checked: &Value) -> Option<String> {
    let rows = Rows(checked);
    let item = |list: &str, key: &str, wanted: &str, last: bool, setting: &str| {
        rows.item(list, key, wanted, last, setting)
    };
    let precise = match e {
        ProgramError::Rewards(e) => match e {
            CatalogError::BadId(id) => item("rewards", "id", id, false, "id"),
            CatalogError::DuplicateId(id) => item("rewards", "id", id, true, "id"),
            CatalogError::Invalid(id, fault) => item("rewards", "id", id, false, fault.field()),
            CatalogError::FreeProductOnBigCommerce(id) => item("rewards", "id", id, false, "kind"),
            CatalogError::TooMany(_) => None,
        },
        ProgramError::Tiers(e) => tier(e, &rows),
        ProgramError::Earning(e) => match e {
            RulesError::MultiplierOutOfRange { what, .. } => {
                let (owner, id) = what.split_once(' ').unwrap_or((what, ""));
                let id = id.trim_matches('"');
                match owner {
                    "product" => item(
                        "earning.product_multipliers",
                        "product_id",
                        id,
                        false,
                        "multiplier_pct",
                    ),
                    "collection" => item(
                        "earning.collection_multipliers",
                        "collection_id",
                        id,
                        false,
                        "multiplier_pct",
                    ),
                    _ => item("earning.campaigns", "name", id, false, "multiplier_pct"),
                }
            }
            RulesError::DuplicateProduct(id) => item(
                "earning.product_multipliers",
                "product_id",
                &id.to_string(),
                true,
                "product_id",
            ),
            RulesError::DuplicateCollection(id) => item(
                "earning.collection_multipliers",
                "collection_id",
                &id.to_string(),
                true,
                "collection_id",
            ),
            RulesError::UnnamedCampaign => blank_name(checked),
            RulesError::CampaignEndsBeforeStart { name } => {
                item("earning.campaigns", "name", name, false, "ends_at")
            }
            _ => None,
        },
        ProgramError::WinBack(e) => match e {
            WinBackConfigError::Delay(i) => Some(format!("win_back.steps.{i}.delay_days")),
            WinBackConfigError::Amount(i)
            | WinBackConfigError::Percent(i)
            | WinBackConfigError::MinOrder(i)
            | WinBackConfigError::Expires(i) => Some(format!("win_back.steps.{i}.reward")),
            WinBackConfigError::VariantId(i) | WinBackConfigError::DuplicateVariant(i, _) => {
                Some(format!("win_back.subject_variants.{i}.id"))
            }
            WinBackConfigError::NoSubject(i) | WinBackConfigError::Subject(i, _) => {
                Some(format!("win_back.subject_variants.{i}.subject"))
            }
            _ => None,
        },
        _ => None,
    };
    precise.or_else(|| e.field())
}

/// The rows of the program that was checked.
struct Rows<'v>(&'v Value);

impl Rows<'_> {
    /// The path of `setting` (or of the row itself, when empty) in the row of `list` whose
    /// `key` is `wanted`; the later row when `last` (a duplicate is the second of the two).
    fn item(
        &self,
        list: &str,
        key: &str,
        wanted: &str,
        last: bool,
        setting: &str,
    ) -> Option<String> {
        index_of(self.0, list, key, wanted, last).map(|i| match setting {
            "" => format!("{list}.{i}"),
            setting => format!("{list}.{i}.{setting}"),
        })
    }
}

fn tier(e: &TierError, rows: &Rows<'_>) -> Option<String> {
    let item = |list: &str, key: &str, wanted: &str, last: bool, setting: &str| {
        rows.item(list, key, wanted, last, setting)
    };
    let level = |id: &str, setting: &str| item("tiers.levels", "id", id, false, setting);
    let membership = |id: &str, setting: &str| item("memberships", "id", id, false, setting);
    match e {
        TierError::BadId(id) => level(id, "id"),
        TierError::DuplicateId(id) => item("tiers.levels", "id", id, true, "id"),
        TierError::BadName(id) => level(id, "name"),
        TierError::ThresholdOutOfRange(id) | TierError::Unsorted(id) => level(id, "threshold"),
        TierError::MultiplierOutOfRange { id, .. } => level(id, "earn_multiplier_pct"),
        TierError::BadPerks(id) => level(id, "perks"),
        TierError::BadTag(id) => level(id, "customer_tag"),
        TierError::UnknownEntryReward { level: id, .. } => level(id, "entry_reward_id"),
        TierError::UnknownRewardTier { reward, .. } => item("rewards", "id", reward, false, "tier"),
        TierError::BadMembershipId(id) => membership(id, "id"),
        TierError::BadMembershipProduct(id) => membership(id, "product_id"),
        TierError::UnknownMembershipTier { id, .. } => membership(id, "tier"),
        TierError::BadMembershipDays(id) => membership(id, "days"),
        TierError::TooManyLevels(_) | TierError::GraceTooLong(_) => None,
    }
}

/// The first campaign without a name.
fn blank_name(checked: &Value) -> Option<String> {
    let campaigns = checked.get("earning")?.get("campaigns")?.as_array()?;
    let i = campaigns.iter().position(|c| {
        c.get("name")
            .and_then(Value::as_str)
            .is_none_or(|n| n.trim().is_empty())
    })?;
    Some(format!("earning.campaigns.{i}.name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::program::Program;

    #[test]
    fn errors_about_an_item_point_at_its_row() {
        for (body, path) in [
            (
                r#"{"rewards":[{"id":"a","title":"A","kind":"percent","percent":5,"points_cost":5},{"id":"b","title":"B","kind":"percent","percent":5,"points_cost":0}]}"#,
                "rewards.1.points_cost",
            ),
            (
                r#"{"rewards":[{"id":"a","title":"A","kind":"percent","percent":5,"points_cost":5},{"id":"a","title":"B","kind":"percent","percent":5,"points_cost":5}]}"#,
                "rewards.1.id",
            ),
            (
                r#"{"tiers":{"levels":[{"id":"s","name":"S","threshold":10},{"id":"g","name":"G","threshold":5}]}}"#,
                "tiers.levels.1.threshold",
            ),
            (
                r#"{"earning":{"product_multipliers":[{"product_id":"7","multiplier_pct":5000}]}}"#,
                "earning.product_multipliers.0.multiplier_pct",
            ),
            (
                r#"{"win_back":{"steps":[{"delay_days":0},{"delay_days":9999}]}}"#,
                "win_back.steps.1.delay_days",
            ),
        ] {
            let e = Program::parse(body.as_bytes()).unwrap_err();
            let checked: Value = serde_json::from_str(body).unwrap();
            assert_eq!(field(&e, &checked).as_deref(), Some(path), "{body}: {e}");
        }
    }
}
