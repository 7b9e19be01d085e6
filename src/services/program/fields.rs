//! Which setting a [`ProgramError`] is about, as a dotted path (`earning.signup_points`), so an
//! editor can show the message next to that field. Where the error does not say which entry of a
//! list is wrong, the path is the list's (`tiers.levels`); an editor places it on the nearest
//! field it has.

use crate::domain::earning::RulesError;
use crate::domain::expiry::ExpiryError;
use crate::domain::mail::EmailConfigError;
use crate::domain::retention::WinBackConfigError;
use crate::domain::tiers::TierError;
use crate::domain::widget::WidgetError;
use crate::services::program::ProgramError;

impl ProgramError {
    /// The path of the setting this error is about; `None` when it is about the whole program.
    pub fn field(&self) -> Option<String> {
        let path = match self {
            ProgramError::NotJson(_) | ProgramError::Shape(_) => return None,
            ProgramError::ShapeAt(path, _) => return Some(path.clone()),
            ProgramError::Earning(e) => format!("earning.{}", earning_field(e)),
            ProgramError::Rewards(_) => "rewards".into(),
            ProgramError::CodePrefix => "code_prefix".into(),
            ProgramError::Expiry(ExpiryError::RemindDays) => "expiry.remind_days_before".into(),
            ProgramError::Expiry(ExpiryError::Months) => "expiry.months".into(),
            ProgramError::Widget(e) => match e {
                WidgetError::Colour => "widget.accent_color".into(),
                WidgetError::Url(field) => format!("widget.{field}"),
                WidgetError::UnknownText { .. }
                | WidgetError::TextLength { .. }
                | WidgetError::Placeholder { .. } => "widget.texts".into(),
            },
            ProgramError::Tiers(e) => tier_field(e).into(),
            ProgramError::Referrals(e) => referral_field(e),
            ProgramError::Emails(e) => email_field(e).into(),
            ProgramError::Template(_) => "emails.templates".into(),
            ProgramError::WinBack(e) => win_back_field(e).into(),
            ProgramError::Replenishment(_) => "replenishment.lead_days".into(),
        };
        Some(path)
    }
}

fn earning_field(e: &RulesError) -> &'static str {
    match e {
        RulesError::PointsPerUnitTooHigh { .. } => "points_per_unit",
        RulesError::UnitSizeOutOfRange { .. } => "unit_size",
        RulesError::BonusPointsOutOfRange { field, .. } => field,
        RulesError::MultiplierOutOfRange { what, .. } if what.starts_with("product") => {
            "product_multipliers"
        }
        RulesError::MultiplierOutOfRange { what, .. } if what.starts_with("collection") => {
            "collection_multipliers"
        }
        RulesError::DuplicateProduct(_) => "product_multipliers",
        RulesError::DuplicateCollection(_) => "collection_multipliers",
        RulesError::MultiplierOutOfRange { .. }
        | RulesError::UnnamedCampaign
        | RulesError::CampaignEndsBeforeStart { .. } => "campaigns",
        RulesError::TooManyEntries { field, .. } => field,
        RulesError::PendingDaysTooLong { .. } => "pending_days",
    }
}

fn tier_field(e: &TierError) -> &'static str {
    match e {
        TierError::GraceTooLong(_) => "tiers.grace_days",
        TierError::UnknownRewardTier { .. } => "rewards",
        TierError::BadMembershipId(_)
        | TierError::BadMembershipProduct(_)
        | TierError::UnknownMembershipTier { .. }
        | TierError::BadMembershipDays(_) => "memberships",
        TierError::TooManyLevels(_)
        | TierError::BadId(_)
        | TierError::DuplicateId(_)
        | TierError::BadName(_)
        | TierError::ThresholdOutOfRange(_)
        | TierError::Unsorted(_)
        | TierError::MultiplierOutOfRange { .. }
        | TierError::BadPerks(_)
        | TierError::BadTag(_)
        | TierError::UnknownEntryReward { .. } => "tiers.levels",
    }
}

fn referral_field(e: &crate::domain::referrals::ReferralConfigError) -> String {
    use crate::domain::referrals::ReferralConfigError as E;
    match e {
        E::AmountNotPositive(part) | E::PercentOutOfRange(part) => format!("referrals.{part}"),
        E::NegativeMinimum("friend_reward") => "referrals.friend_reward.min_order_minor".into(),
        E::NegativeMinimum(part) => format!("referrals.{part}"),
        E::ExpiresOutOfRange => "referrals.friend_reward.expires_days".into(),
        E::PointsOutOfRange => "referrals.referrer_reward.points".into(),
        E::CapOutOfRange => "referrals.max_rewards_per_month".into(),
    }
}

fn email_field(e: &EmailConfigError) -> &'static str {
    match e {
        EmailConfigError::Mailbox("from") => "emails.from",
        EmailConfigError::Mailbox(_) => "emails.reply_to",
        EmailConfigError::PostalAddress => "emails.postal_address",
        EmailConfigError::LogoUrl => "emails.logo_url",
        EmailConfigError::Colour => "emails.accent_color",
        EmailConfigError::Cap => "emails.policy.max_per_week",
        EmailConfigError::QuietHours => "emails.policy.quiet_hours",
        EmailConfigError::Sunset => "emails.policy.sunset_after_unopened",
        EmailConfigError::Locale(_)
        | EmailConfigError::TemplateSize(..)
        | EmailConfigError::DigestTemplate(_) => "emails.templates",
    }
}

fn win_back_field(e: &WinBackConfigError) -> &'static str {
    match e {
        WinBackConfigError::AfterDays => "win_back.after_days",
        WinBackConfigError::Holdout => "win_back.holdout_pct",
        WinBackConfigError::StepCount
        | WinBackConfigError::Delay(_)
        | WinBackConfigError::Amount(_)
        | WinBackConfigError::Percent(_)
        | WinBackConfigError::MinOrder(_)
        | WinBackConfigError::Expires(_) => "win_back.steps",
        WinBackConfigError::VariantCount
        | WinBackConfigError::VariantId(_)
        | WinBackConfigError::DuplicateVariant(..)
        | WinBackConfigError::NoSubject(_)
        | WinBackConfigError::Subject(..) => "win_back.subject_variants",
    }
}

#[cfg(test)]
mod tests {
    use crate::services::program::Program;

    #[test]
    fn domain_errors_name_the_field_they_are_about() {
        for (body, field) in [
            (
                r#"{"earning":{"signup_points":-5}}"#,
                "earning.signup_points",
            ),
            (
                r#"{"earning":{"points_per_unit":5000}}"#,
                "earning.points_per_unit",
            ),
            (
                r#"{"earning":{"points_per_unit":-5}}"#,
                "earning.points_per_unit",
            ),
            (r#"{"code_prefix":"a b"}"#, "code_prefix"),
            (
                r#"{"expiry":{"mode":"after_earning","months":0}}"#,
                "expiry.months",
            ),
            (
                r#"{"widget":{"accent_color":"red"}}"#,
                "widget.accent_color",
            ),
            (
                r#"{"replenishment":{"lead_days":91}}"#,
                "replenishment.lead_days",
            ),
            (
                r#"{"emails":{"policy":{"max_per_week":0}}}"#,
                "emails.policy.max_per_week",
            ),
        ] {
            let Err(e) = Program::parse(body.as_bytes()) else {
                panic!("{body} was accepted");
            };
            assert_eq!(e.field().as_deref(), Some(field), "{body}: {e}");
        }
    }
}
