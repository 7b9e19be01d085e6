//! What the program editor says when the program refuses a setting, in the owner's language.
//! The domain's errors keep their English `Display` for the admin API; here every variant of
//! every error the program can return is matched without a catch-all, so a new variant does not
//! compile until it is said in English and Arabic. The message is shown next to its field, so it
//! says the problem rather than the setting's path.

pub mod retention;
pub mod shape;
mod tiers;

use crate::domain::earning::{RulesError, MAX_MULTIPLIER_PCT};
use crate::domain::expiry::ExpiryError;
use crate::domain::rewards::{CatalogError, RewardFault};
use crate::domain::widget::WidgetError;
use crate::services::program::ProgramError;

/// One message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub en: String,
    pub ar: String,
}

impl Said {
    fn new(en: impl Into<String>, ar: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            ar: ar.into(),
        }
    }

    /// The message in `lang` (`ar`, else English).
    pub fn in_lang(self, lang: &str) -> String {
        if lang == "ar" {
            self.ar
        } else {
            self.en
        }
    }
}

/// An owner's value or id inside an Arabic sentence, between left-to-right marks, so its Latin
/// letters, digits and minus sign keep their order in right-to-left text (`-5`, not `5-`).
/// (Marks rather than isolates: the browsers we test do not all honour isolate characters.)
fn iso(text: impl std::fmt::Display) -> String {
    format!("\u{200E}{text}\u{200E}")
}

/// The message for a refused program, in both languages.
pub fn said(e: &ProgramError) -> Said {
    match e {
        ProgramError::NotJson(inner) => Said::new(
            format!(
                "The program is not valid JSON: {}",
                shape::without_position(inner)
            ),
            format!(
                "البرنامج ليس JSON صالحًا: {}",
                iso(shape::without_position(inner))
            ),
        ),
        ProgramError::Shape(inner) | ProgramError::ShapeAt(_, inner) => {
            shape::rephrase(&shape::without_position(inner))
        }
        ProgramError::Earning(e) => earning(e),
        ProgramError::Rewards(e) => catalog(e),
        ProgramError::CodePrefix => Said::new(
            "Use 1 to 8 letters or digits.",
            "استخدم من 1 إلى 8 حروف أو أرقام لاتينية.",
        ),
        ProgramError::Expiry(e) => expiry(*e),
        ProgramError::Widget(e) => widget(e),
        ProgramError::Tiers(e) => tiers::tiers(e),
        ProgramError::Referrals(e) => tiers::referrals(e),
        ProgramError::Emails(e) => retention::emails(e),
        ProgramError::Template(detail) => Said::new(
            format!("This template cannot be shown: {detail}"),
            format!("لا يمكن عرض هذا القالب: {}", iso(detail)),
        ),
        ProgramError::WinBack(e) => retention::win_back(e),
        ProgramError::Replenishment(e) => retention::replenishment(e),
    }
}

fn earning(e: &RulesError) -> Said {
    match e {
        RulesError::PointsPerUnitTooHigh { got, max } => Said::new(
            format!("At most {max} points per unit; {got} is too many."),
            format!("الحد الأقصى {max} نقطة لكل وحدة؛ {} أكثر من ذلك.", iso(got)),
        ),
        RulesError::UnitSizeOutOfRange { got } => Said::new(
            format!(
                "Enter 1 to {} units; {got} is outside that.",
                crate::domain::earning::MAX_UNIT_SIZE
            ),
            format!(
                "أدخل من 1 إلى {} وحدة؛ {} خارج هذا النطاق.",
                crate::domain::earning::MAX_UNIT_SIZE,
                iso(got)
            ),
        ),
        RulesError::BonusPointsOutOfRange { field: _, got } => Said::new(
            format!(
                "Enter 0 to {} points; {got} is outside that.",
                crate::domain::earning::MAX_BONUS_POINTS
            ),
            format!(
                "أدخل من 0 إلى {} نقطة؛ {} خارج هذا النطاق.",
                crate::domain::earning::MAX_BONUS_POINTS,
                iso(got)
            ),
        ),
        RulesError::MultiplierOutOfRange { what, got } => {
            let (en_what, ar_what) = multiplier_owner(what);
            Said::new(
                format!(
                    "{en_what}: the multiplier must be 1% to {MAX_MULTIPLIER_PCT}%, not {got}%."
                ),
                format!(
                    "{ar_what}: يجب أن يكون المضاعف من 1% إلى {MAX_MULTIPLIER_PCT}%، وليس {}.",
                    iso(format!("{got}%"))
                ),
            )
        }
        RulesError::DuplicateProduct(id) => Said::new(
            format!("Product {id} has more than one multiplier."),
            format!("للمنتج {} أكثر من مضاعف واحد.", iso(id)),
        ),
        RulesError::DuplicateCollection(id) => Said::new(
            format!("Collection {id} has more than one multiplier."),
            format!("للمجموعة {} أكثر من مضاعف واحد.", iso(id)),
        ),
        RulesError::UnnamedCampaign => {
            Said::new("Every campaign needs a name.", "تحتاج كل حملة إلى اسم.")
        }
        RulesError::CampaignEndsBeforeStart { name } => Said::new(
            format!("Campaign “{name}” must end after it starts."),
            format!("يجب أن تنتهي الحملة «{}» بعد بدايتها.", iso(name)),
        ),
        RulesError::TooManyEntries { field: _, got } => Said::new(
            format!(
                "At most {} entries; this list has {got}.",
                crate::domain::earning::MAX_RULE_ENTRIES
            ),
            format!(
                "الحد الأقصى {} عنصر؛ في هذه القائمة {}.",
                crate::domain::earning::MAX_RULE_ENTRIES,
                iso(got)
            ),
        ),
        RulesError::PendingDaysTooLong { got, max } => Said::new(
            format!("At most {max} days; {got} is too many."),
            format!("الحد الأقصى {max} يومًا؛ {} أكثر من ذلك.", iso(got)),
        ),
    }
}

/// Whose multiplier (`product 632910392`, `campaign "Black Friday"`) in both languages.
fn multiplier_owner(what: &str) -> (String, String) {
    let (kind, rest) = what.split_once(' ').unwrap_or((what, ""));
    let ar = match kind {
        "product" => "المنتج",
        "collection" => "المجموعة",
        "campaign" => "الحملة",
        _ => return (what.to_owned(), iso(what)),
    };
    let en = match kind {
        "product" => "Product",
        "collection" => "Collection",
        _ => "Campaign",
    };
    (format!("{en} {rest}"), format!("{ar} {}", iso(rest)))
}

fn catalog(e: &CatalogError) -> Said {
    match e {
        CatalogError::TooMany(got) => Said::new(
            format!(
                "At most {} rewards; the catalog has {got}.",
                crate::domain::rewards::MAX_CATALOG_LEN
            ),
            format!(
                "الحد الأقصى {} مكافأة؛ في الكتالوج {}.",
                crate::domain::rewards::MAX_CATALOG_LEN,
                iso(got)
            ),
        ),
        CatalogError::BadId(id) => Said::new(
            format!("The id “{id}” must be 1–40 letters, digits, - or _."),
            format!(
                "يجب أن يكون المعرّف «{}» من 1 إلى 40 حرفًا لاتينيًا أو رقمًا أو - أو _.",
                iso(id)
            ),
        ),
        CatalogError::DuplicateId(id) => Said::new(
            format!("The id “{id}” is used by two rewards."),
            format!("المعرّف «{}» مستخدم لمكافأتين.", iso(id)),
        ),
        CatalogError::Invalid(_, fault) => reward(*fault),
        CatalogError::FreeProductOnBigCommerce(id) => {
            let said = |lang, id: String| {
                crate::http::app::texts::say(lang, "program_bc_free_product", &[("reward", id)])
            };
            Said::new(said("en", id.clone()), said("ar", iso(id)))
        }
    }
}

fn reward(fault: RewardFault) -> Said {
    let (en, ar) = match fault {
        RewardFault::Title => (
            "The title (and each translated title) must be 1–100 characters.",
            "يجب أن يكون العنوان (وكل عنوان مترجم) من 1 إلى 100 حرف.",
        ),
        RewardFault::PointsCost => (
            "The price must be 1 to 10,000,000 points.",
            "يجب أن يكون السعر من 1 إلى 10,000,000 نقطة.",
        ),
        RewardFault::MinOrder => (
            "The minimum order must be 0 to 1,000,000,000,000 (smallest currency unit).",
            "يجب أن يكون الحد الأدنى للطلب من 0 إلى 1,000,000,000,000 (بأصغر وحدة للعملة).",
        ),
        RewardFault::ExpiresDays => (
            "The code must stay valid 1 to 3650 days.",
            "يجب أن يبقى الرمز صالحًا من 1 إلى 3650 يومًا.",
        ),
        RewardFault::Amount => (
            "The amount must be 1 to 1,000,000,000,000 (smallest currency unit).",
            "يجب أن يكون المبلغ من 1 إلى 1,000,000,000,000 (بأصغر وحدة للعملة).",
        ),
        RewardFault::Percent => ("The percentage must be 1–100.", "يجب أن تكون النسبة من 1 إلى 100."),
        RewardFault::MaxShipping => (
            "The shipping limit must be 1 to 1,000,000,000,000 (smallest currency unit), or empty.",
            "يجب أن يكون حد الشحن من 1 إلى 1,000,000,000,000 (بأصغر وحدة للعملة) أو فارغًا.",
        ),
        RewardFault::VariantId => (
            "Enter the variant's numeric id.",
            "أدخل المعرّف الرقمي للنوع الفرعي من المنتج.",
        ),
        RewardFault::VariableBounds => (
            "Points per unit must be above 0, and at most the minimum, which is at most the maximum.",
            "يجب أن تكون النقاط لكل وحدة أكبر من 0 ولا تتجاوز الحد الأدنى، والحد الأدنى لا يتجاوز الحد الأقصى.",
        ),
        RewardFault::MaxPoints => (
            "The maximum must be at most 10,000,000 points.",
            "يجب ألا يتجاوز الحد الأقصى 10,000,000 نقطة.",
        ),
        RewardFault::Charity => (
            "The charity's name must be 1–100 characters.",
            "يجب أن يكون اسم الجهة الخيرية من 1 إلى 100 حرف.",
        ),
        RewardFault::Description => (
            "The description must be 1–300 characters.",
            "يجب أن يكون الوصف من 1 إلى 300 حرف.",
        ),
    };
    Said::new(en, ar)
}

fn expiry(e: ExpiryError) -> Said {
    match e {
        ExpiryError::Months => Said::new(
            "Points must expire after 1 to 120 months.",
            "يجب أن تنتهي النقاط بعد 1 إلى 120 شهرًا.",
        ),
        ExpiryError::RemindDays => Said::new(
            "The reminder can be at most 90 days before.",
            "يمكن أن يكون التذكير قبل 90 يومًا على الأكثر.",
        ),
    }
}

fn widget(e: &WidgetError) -> Said {
    match e {
        WidgetError::Colour => Said::new("Enter a colour like #5a31f4.", "أدخل لونًا مثل #5a31f4."),
        WidgetError::Url(_) => Said::new(
            "Enter a path on the storefront (/…) or an https:// address.",
            "أدخل مسارًا في واجهة المتجر (/…) أو عنوانًا يبدأ بـ https://.",
        ),
        WidgetError::UnknownText { locale, key } => Said::new(
            format!("{locale}.{key}: there is no such text; the README lists them."),
            format!(
                "{}: لا يوجد نص بهذا الاسم؛ القائمة في ملف README.",
                iso(format!("{locale}.{key}"))
            ),
        ),
        WidgetError::TextLength { locale, key } => Said::new(
            format!("{locale}.{key} must be 1–300 characters."),
            format!(
                "يجب أن يكون {} من 1 إلى 300 حرف.",
                iso(format!("{locale}.{key}"))
            ),
        ),
        WidgetError::Placeholder {
            locale,
            key,
            placeholder,
        } => Said::new(
            format!("{locale}.{key} uses {{{placeholder}}}, which this text does not have."),
            format!(
                "يستخدم {} العنصر {}، وهو غير متاح في هذا النص.",
                iso(format!("{locale}.{key}")),
                iso(format!("{{{placeholder}}}"))
            ),
        ),
    }
}

#[cfg(test)]
mod tests;
