//! What a tier change asks of the world outside the tier, decided without I/O: which customer
//! tags the platform should hold, and whether an entry reward is due again.

use chrono::{Duration, NaiveDateTime};

use super::TierProgram;

/// How long an entry reward, once given, is not given again for the same tier: a member who
/// drops out and re-qualifies within this time already had it.
pub const ENTRY_REWARD_EVERY: Duration = Duration::days(365);

/// The tags to put on a customer and the tags to take off, for one tier held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl TierProgram {
    /// Whether any level keeps a tag on the platform (otherwise there is nothing to sync).
    pub fn has_customer_tags(&self) -> bool {
        self.levels.iter().any(|l| l.customer_tag.is_some())
    }

    /// The tags a member holding `tier` should have: the level's own tag on, every other
    /// level's tag off. A tag two levels share stays on while either is held.
    pub fn tag_changes(&self, tier: Option<&str>) -> TagChanges {
        let mine = tier
            .and_then(|t| self.level(t))
            .and_then(|l| l.customer_tag.clone());
        let mut remove: Vec<String> = Vec::new();
        for tag in self.levels.iter().filter_map(|l| l.customer_tag.as_ref()) {
            if Some(tag) != mine.as_ref() && !remove.contains(tag) {
                remove.push(tag.clone());
            }
        }
        TagChanges {
            add: mine.into_iter().collect(),
            remove,
        }
    }
}

/// Whether a tier's entry reward is due for a member who last had it at `last` (never: `None`).
pub fn entry_reward_due(last: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    last.is_none_or(|at| now - at >= ENTRY_REWARD_EVERY)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::tiers::TierLevel;

    fn level(id: &str, tag: Option<&str>) -> TierLevel {
        TierLevel {
            id: id.into(),
            name: id.into(),
            names: Default::default(),
            threshold: 0,
            earn_multiplier_pct: 100,
            perks: Vec::new(),
            entry_reward_id: None,
            customer_tag: tag.map(Into::into),
        }
    }

    fn program(levels: Vec<TierLevel>) -> TierProgram {
        TierProgram {
            basis: Default::default(),
            window: Default::default(),
            grace_days: 30,
            levels,
        }
    }

    #[test]
    fn the_held_levels_tag_goes_on_and_the_others_come_off() {
        let p = program(vec![
            level("silver", Some("vip-silver")),
            level("gold", Some("vip-gold")),
            level("black", Some("vip-black")),
        ]);
        assert!(p.has_customer_tags());
        assert_eq!(
            p.tag_changes(Some("gold")),
            TagChanges {
                add: vec!["vip-gold".into()],
                remove: vec!["vip-silver".into(), "vip-black".into()],
            }
        );
    }

    #[test]
    fn no_tier_or_an_unknown_one_takes_every_tag_off() {
        let p = program(vec![level("silver", Some("s")), level("gold", Some("g"))]);
        for tier in [None, Some("platinum")] {
            let changes = p.tag_changes(tier);
            assert!(changes.add.is_empty(), "{tier:?}");
            assert_eq!(changes.remove, ["s", "g"], "{tier:?}");
        }
    }

    #[test]
    fn a_level_without_a_tag_adds_nothing_and_shared_tags_stay_on() {
        let p = program(vec![
            level("bronze", None),
            level("silver", Some("vip")),
            level("gold", Some("vip")),
        ]);
        assert_eq!(
            p.tag_changes(Some("bronze")),
            TagChanges {
                add: vec![],
                remove: vec!["vip".into()],
            }
        );
        assert_eq!(
            p.tag_changes(Some("gold")),
            TagChanges {
                add: vec!["vip".into()],
                remove: vec![],
            }
        );
        assert!(!program(vec![level("bronze", None)]).has_customer_tags());
    }

    #[test]
    fn an_entry_reward_comes_once_a_year_at_most() {
        let at = |d: u32| {
            NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap()
                + Duration::days(i64::from(d))
        };
        assert!(entry_reward_due(None, at(0)));
        assert!(!entry_reward_due(Some(at(0)), at(0)));
        assert!(!entry_reward_due(Some(at(0)), at(364)));
        assert!(entry_reward_due(Some(at(0)), at(365)));
        assert!(entry_reward_due(Some(at(0)), at(800)));
    }
}
