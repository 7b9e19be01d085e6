use super::*;
use crate::domain::event::PlatformId;
use crate::domain::mail::EmailConfigError;
use crate::domain::referrals::ReferralConfigError;
use crate::domain::retention::{ReplenishmentConfigError, WinBackConfigError};
use crate::domain::tiers::TierError;

fn arabic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

/// One of each variant of every error the program returns (the `match`es in `messages.rs`
/// are what make a new variant fail to compile until it is translated; this checks the words).
fn every_variant() -> Vec<ProgramError> {
    let id = || "gold".to_owned();
    let pid = || PlatformId::parse("7").unwrap();
    let shape = |body: &str| serde_json::from_str::<Program>(body).unwrap_err();
    let mut all = vec![
        ProgramError::NotJson(serde_json::from_str::<Value>("{x").unwrap_err()),
        ProgramError::Shape(shape(r#"{"earnign": {}}"#)),
        ProgramError::ShapeAt(
            "earning.points_per_unit".into(),
            shape(r#"{"earning": {"points_per_unit": -5}}"#),
        ),
        ProgramError::CodePrefix,
        ProgramError::Template("line 3: unknown filter".into()),
    ];
    all.extend(
        [
            RulesError::PointsPerUnitTooHigh {
                got: 5000,
                max: 1000,
            },
            RulesError::UnitSizeOutOfRange { got: 0 },
            RulesError::BonusPointsOutOfRange {
                field: "signup_points",
                got: -5,
            },
            RulesError::MultiplierOutOfRange {
                what: "product 7".into(),
                got: 0,
            },
            RulesError::DuplicateProduct(pid()),
            RulesError::DuplicateCollection(pid()),
            RulesError::UnnamedCampaign,
            RulesError::CampaignEndsBeforeStart {
                name: "Black Friday".into(),
            },
            RulesError::TooManyEntries {
                field: "campaigns",
                got: 1001,
            },
            RulesError::PendingDaysTooLong { got: 400, max: 365 },
        ]
        .map(ProgramError::Earning),
    );
    all.extend(
        [
            CatalogError::TooMany(101),
            CatalogError::BadId("a b".into()),
            CatalogError::DuplicateId("a".into()),
        ]
        .map(ProgramError::Rewards),
    );
    all.extend(
        [
            RewardFault::Title,
            RewardFault::PointsCost,
            RewardFault::MinOrder,
            RewardFault::ExpiresDays,
            RewardFault::Amount,
            RewardFault::Percent,
            RewardFault::MaxShipping,
            RewardFault::VariantId,
            RewardFault::VariableBounds,
            RewardFault::MaxPoints,
            RewardFault::Charity,
            RewardFault::Description,
        ]
        .map(|fault| ProgramError::Rewards(CatalogError::Invalid("a".into(), fault))),
    );
    all.extend([ExpiryError::Months, ExpiryError::RemindDays].map(ProgramError::Expiry));
    all.extend(
        [
            WidgetError::Colour,
            WidgetError::Url("join_url"),
            WidgetError::UnknownText {
                locale: "ar",
                key: "x".into(),
            },
            WidgetError::TextLength {
                locale: "ar",
                key: "x".into(),
            },
            WidgetError::Placeholder {
                locale: "en",
                key: "x".into(),
                placeholder: "y".into(),
            },
        ]
        .map(ProgramError::Widget),
    );
    all.extend(
        [
            TierError::TooManyLevels(21),
            TierError::BadId(id()),
            TierError::DuplicateId(id()),
            TierError::BadName(id()),
            TierError::ThresholdOutOfRange(id()),
            TierError::Unsorted(id()),
            TierError::MultiplierOutOfRange {
                id: id(),
                got: 5000,
            },
            TierError::BadPerks(id()),
            TierError::BadTag(id()),
            TierError::UnknownEntryReward {
                level: id(),
                reward: "r".into(),
            },
            TierError::GraceTooLong(999),
            TierError::UnknownRewardTier {
                reward: "r".into(),
                tier: id(),
            },
            TierError::BadMembershipId(id()),
            TierError::BadMembershipProduct(id()),
            TierError::UnknownMembershipTier {
                id: id(),
                tier: id(),
            },
            TierError::BadMembershipDays(id()),
        ]
        .map(ProgramError::Tiers),
    );
    all.extend(
        [
            ReferralConfigError::AmountNotPositive("friend_reward"),
            ReferralConfigError::PercentOutOfRange("friend_reward"),
            ReferralConfigError::NegativeMinimum("friend_reward"),
            ReferralConfigError::ExpiresOutOfRange,
            ReferralConfigError::PointsOutOfRange,
            ReferralConfigError::CapOutOfRange,
        ]
        .map(ProgramError::Referrals),
    );
    all.extend(
        [
            EmailConfigError::Mailbox("from"),
            EmailConfigError::PostalAddress,
            EmailConfigError::LogoUrl,
            EmailConfigError::Colour,
            EmailConfigError::Cap,
            EmailConfigError::QuietHours,
            EmailConfigError::Sunset,
            EmailConfigError::Locale("welcome".into()),
            EmailConfigError::TemplateSize("welcome".into(), "en".into()),
            EmailConfigError::DigestTemplate("digest".into()),
        ]
        .map(ProgramError::Emails),
    );
    all.extend(
        [
            WinBackConfigError::AfterDays,
            WinBackConfigError::StepCount,
            WinBackConfigError::Delay(0),
            WinBackConfigError::Amount(0),
            WinBackConfigError::Percent(0),
            WinBackConfigError::MinOrder(0),
            WinBackConfigError::Expires(0),
            WinBackConfigError::Holdout,
            WinBackConfigError::VariantCount,
            WinBackConfigError::VariantId(0),
            WinBackConfigError::DuplicateVariant(1, "a".into()),
            WinBackConfigError::NoSubject(0),
            WinBackConfigError::Subject(0, "en"),
        ]
        .map(ProgramError::WinBack),
    );
    all.push(ProgramError::Replenishment(
        ReplenishmentConfigError::LeadDays,
    ));
    all
}

use crate::services::program::Program;
use serde_json::Value;

#[test]
fn every_variant_is_said_in_english_and_in_arabic() {
    let all = every_variant();
    assert_eq!(all.len(), 83, "one of each variant");
    for e in &all {
        let said = said(e);
        assert!(!said.en.trim().is_empty(), "{e:?}");
        assert!(!arabic(&said.en), "{e:?}: {}", said.en);
        assert!(arabic(&said.ar), "{e:?}: {}", said.ar);
        assert!(!said.en.contains(" at line "), "{e:?}: {}", said.en);
    }
}

#[test]
fn the_admin_api_keeps_its_english_messages() {
    // The domain's own words are untouched: the API's `PUT /program` still says them.
    let e = ProgramError::Rewards(CatalogError::Invalid("a".into(), RewardFault::PointsCost));
    assert_eq!(
        e.to_string(),
        "reward \"a\": points_cost must be between 1 and 10,000,000"
    );
    let e = ProgramError::Expiry(ExpiryError::RemindDays);
    assert_eq!(e.to_string(), "remind_days_before must be at most 90");
}

#[test]
fn serde_shape_errors_are_recognised_and_rephrased() {
    for (body, en, ar) in [
        (
            r#"{"earning": {"points_per_unit": -5}}"#,
            "-5 is not accepted here: enter a whole number, 0 or more.",
            "عددًا صحيحًا، 0 أو أكثر",
        ),
        (
            r#"{"earning": {"unit_size": "ten"}}"#,
            "ten is not accepted here: enter a whole number, 0 or more.",
            "غير مقبول هنا",
        ),
        (
            r#"{"earning": {"rounding": "sideways"}}"#,
            "“sideways” is not one of the choices (down, nearest, up).",
            "ليس من الخيارات المتاحة",
        ),
        (
            r#"{"earning": {"points_per_uint": 5}}"#,
            "“points_per_uint” is not a setting here; check its spelling.",
            "ليس إعدادًا هنا",
        ),
        (
            r#"{"memberships": [{"id": "club", "tier": "gold", "days": 30}]}"#,
            "“product_id” is required here.",
            "مطلوب هنا",
        ),
        (
            r#"{"earning": {"include_tax": "yes"}}"#,
            "yes is not accepted here: enter yes or no.",
            "نعم أو لا",
        ),
    ] {
        let inner = serde_json::from_str::<Program>(body).unwrap_err();
        let said = shape::rephrase(&shape::without_position(&inner));
        assert_eq!(said.en, en, "{body}: {inner}");
        assert!(said.ar.contains(ar), "{body}: {}", said.ar);
        assert!(arabic(&said.ar));
    }
    // Wording serde may use that is not recognised: kept, inside an Arabic sentence.
    let said = shape::rephrase("something new");
    assert_eq!(said.en, "something new");
    assert!(said.ar.contains("something new") && arabic(&said.ar));
}
