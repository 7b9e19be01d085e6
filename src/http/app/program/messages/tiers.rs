//! What the editor says about tier levels, memberships and the referral program.

use super::{iso, Said};
use crate::domain::earning::MAX_MULTIPLIER_PCT;
use crate::domain::referrals::ReferralConfigError;
use crate::domain::tiers::TierError;

pub(super) fn tiers(e: &TierError) -> Said {
    use crate::domain::tiers::{MAX_GRACE_DAYS, MAX_LEVELS, MAX_MEMBERSHIP_DAYS, MAX_THRESHOLD};
    match e {
        TierError::TooManyLevels(got) => Said::new(
            format!("At most {MAX_LEVELS} levels; there are {got}."),
            format!("الحد الأقصى {MAX_LEVELS} مستوى؛ الموجود {}.", iso(got)),
        ),
        TierError::BadId(id) => Said::new(
            format!("The id “{id}” must be 1–40 letters, digits, - or _."),
            format!(
                "يجب أن يكون المعرّف «{}» من 1 إلى 40 حرفًا لاتينيًا أو رقمًا أو - أو _.",
                iso(id)
            ),
        ),
        TierError::DuplicateId(id) => Said::new(
            format!("The id “{id}” is used by two levels."),
            format!("المعرّف «{}» مستخدم لمستويين.", iso(id)),
        ),
        TierError::BadName(_) => Said::new(
            "The name (and each translated name) must be 1–60 characters.",
            "يجب أن يكون الاسم (وكل اسم مترجم) من 1 إلى 60 حرفًا.",
        ),
        TierError::ThresholdOutOfRange(_) => Said::new(
            format!("The threshold must be 0 to {MAX_THRESHOLD}."),
            format!("يجب أن تكون العتبة من 0 إلى {MAX_THRESHOLD}."),
        ),
        TierError::Unsorted(id) => Said::new(
            format!("Levels go from the lowest threshold up, no two equal: “{id}” is not above the level before it."),
            format!(
                "تُرتّب المستويات من أدنى عتبة صعودًا دون تساوٍ: «{}» ليس أعلى من المستوى الذي قبله.",
                iso(id)
            ),
        ),
        TierError::MultiplierOutOfRange { id: _, got } => Said::new(
            format!("The multiplier must be 0% to {MAX_MULTIPLIER_PCT}%, not {got}%."),
            format!(
                "يجب أن يكون المضاعف من 0% إلى {MAX_MULTIPLIER_PCT}%، وليس {}.",
                iso(format!("{got}%"))
            ),
        ),
        TierError::BadPerks(_) => Said::new(
            "At most 10 perks, each 1–120 characters.",
            "10 مزايا على الأكثر، كل منها من 1 إلى 120 حرفًا.",
        ),
        TierError::BadTag(_) => Said::new(
            "The customer tag must be 1–40 characters without commas.",
            "يجب أن يكون وسم العميل من 1 إلى 40 حرفًا دون فواصل.",
        ),
        TierError::UnknownEntryReward { level: _, reward } => Said::new(
            format!("“{reward}” is not a discount reward of the catalog (donations and custom rewards cannot be given on entry)."),
            format!(
                "«{}» ليست مكافأة خصم في الكتالوج (لا يمكن منح التبرعات والمكافآت المخصصة عند الدخول).",
                iso(reward)
            ),
        ),
        TierError::GraceTooLong(got) => Said::new(
            format!("At most {MAX_GRACE_DAYS} days; {got} is too many."),
            format!("الحد الأقصى {MAX_GRACE_DAYS} يومًا؛ {} أكثر من ذلك.", iso(got)),
        ),
        TierError::UnknownRewardTier { reward: _, tier } => Said::new(
            format!("“{tier}” is not one of the tier levels."),
            format!("«{}» ليس من مستويات كبار العملاء.", iso(tier)),
        ),
        TierError::BadMembershipId(_) => Said::new(
            "The id must be 1–40 letters, digits, - or _, and not used twice.",
            "يجب أن يكون المعرّف من 1 إلى 40 حرفًا لاتينيًا أو رقمًا أو - أو _، وغير مكرر.",
        ),
        TierError::BadMembershipProduct(_) => Said::new(
            "Enter the product's numeric id.",
            "أدخل المعرّف الرقمي للمنتج.",
        ),
        TierError::UnknownMembershipTier { id: _, tier } => Said::new(
            format!("“{tier}” is not one of the tier levels."),
            format!("«{}» ليس من مستويات كبار العملاء.", iso(tier)),
        ),
        TierError::BadMembershipDays(_) => Said::new(
            format!("Enter 1 to {MAX_MEMBERSHIP_DAYS} days."),
            format!("أدخل من 1 إلى {MAX_MEMBERSHIP_DAYS} يومًا."),
        ),
    }
}

pub(super) fn referrals(e: &ReferralConfigError) -> Said {
    use crate::domain::referrals::{MAX_EXPIRES_DAYS, MAX_MONTHLY_CAP, MAX_REFERRER_POINTS};
    match e {
        ReferralConfigError::AmountNotPositive(_) => Said::new(
            "The amount must be above zero.",
            "يجب أن يكون المبلغ أكبر من صفر.",
        ),
        ReferralConfigError::PercentOutOfRange(_) => Said::new(
            "The percentage must be 1–100.",
            "يجب أن تكون النسبة من 1 إلى 100.",
        ),
        ReferralConfigError::NegativeMinimum(_) => Said::new(
            "The minimum order cannot be negative.",
            "لا يمكن أن يكون الحد الأدنى للطلب سالبًا.",
        ),
        ReferralConfigError::ExpiresOutOfRange => Said::new(
            format!("Enter 1 to {MAX_EXPIRES_DAYS} days."),
            format!("أدخل من 1 إلى {MAX_EXPIRES_DAYS} يومًا."),
        ),
        ReferralConfigError::PointsOutOfRange => Said::new(
            format!("Enter 1 to {MAX_REFERRER_POINTS} points."),
            format!("أدخل من 1 إلى {MAX_REFERRER_POINTS} نقطة."),
        ),
        ReferralConfigError::CapOutOfRange => Said::new(
            format!("Enter 1 to {MAX_MONTHLY_CAP}, or leave it empty for no cap."),
            format!("أدخل من 1 إلى {MAX_MONTHLY_CAP}، أو اتركه فارغًا لعدم وضع حد."),
        ),
    }
}
