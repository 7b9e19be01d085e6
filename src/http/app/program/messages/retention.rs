//! What the editor says about e-mail settings, win-back and replenishment reminders.

use super::{iso, Said};
use crate::domain::mail::EmailConfigError;
use crate::domain::retention::{ReplenishmentConfigError, WinBackConfigError};

pub(super) fn emails(e: &EmailConfigError) -> Said {
    match e {
        EmailConfigError::Mailbox(_) => Said::new(
            "Enter a mailbox like “Shop <hi@shop.example>”.",
            "أدخل عنوان بريد مثل «Shop <hi@shop.example>».",
        ),
        EmailConfigError::PostalAddress => Said::new(
            "The postal address must be 1–300 characters without control characters.",
            "يجب أن يكون العنوان البريدي من 1 إلى 300 حرف دون أحرف تحكم.",
        ),
        EmailConfigError::LogoUrl => Said::new(
            "Enter an https:// address of at most 500 characters.",
            "أدخل عنوانًا يبدأ بـ https:// لا يتجاوز 500 حرف.",
        ),
        EmailConfigError::Colour => {
            Said::new("Enter a colour like #5a31f4.", "أدخل لونًا مثل #5a31f4.")
        }
        EmailConfigError::Cap => Said::new("Enter 1 to 50.", "أدخل من 1 إلى 50."),
        EmailConfigError::QuietHours => Said::new(
            "Enter two different times like 21:00 and 08:00.",
            "أدخل وقتين مختلفين مثل 21:00 و08:00.",
        ),
        EmailConfigError::Sunset => Said::new(
            "Enter 1 to 100, or leave it empty to never pause.",
            "أدخل من 1 إلى 100، أو اتركه فارغًا لعدم الإيقاف أبدًا.",
        ),
        EmailConfigError::Locale(kind) => Said::new(
            format!("{kind}: only English (en) and Arabic (ar) templates exist."),
            format!(
                "{}: توجد قوالب للإنجليزية (en) والعربية (ar) فقط.",
                iso(kind)
            ),
        ),
        EmailConfigError::TemplateSize(kind, locale) => Said::new(
            format!(
                "{kind}.{locale}: each part must be 1–{} bytes.",
                crate::domain::mail::MAX_TEMPLATE_BYTES
            ),
            format!(
                "{}: يجب أن يكون كل جزء من 1 إلى {} بايت.",
                iso(format!("{kind}.{locale}")),
                crate::domain::mail::MAX_TEMPLATE_BYTES
            ),
        ),
        EmailConfigError::DigestTemplate(kind) => Said::new(
            format!("{kind}: digests use the built-in template."),
            format!("{}: تستخدم الملخصات القالب المدمج.", iso(kind)),
        ),
    }
}

pub(super) fn win_back(e: &WinBackConfigError) -> Said {
    use crate::domain::retention::{MAX_AFTER_DAYS, MAX_DELAY_DAYS, MAX_STEPS, MAX_VARIANTS};
    let step = |i: &usize| i + 1;
    match e {
        WinBackConfigError::AfterDays => Said::new(
            format!("Enter 1 to {MAX_AFTER_DAYS} days, or “auto”."),
            format!("أدخل من 1 إلى {MAX_AFTER_DAYS} يومًا، أو «auto»."),
        ),
        WinBackConfigError::StepCount => Said::new(
            format!("Give 1 to {MAX_STEPS} steps."),
            format!("أضف من 1 إلى {MAX_STEPS} خطوات."),
        ),
        WinBackConfigError::Delay(i) => Said::new(
            format!("Step {}: wait 0 to {MAX_DELAY_DAYS} days.", step(i)),
            format!(
                "الخطوة {}: الانتظار من 0 إلى {MAX_DELAY_DAYS} يومًا.",
                step(i)
            ),
        ),
        WinBackConfigError::Amount(i) => Said::new(
            format!("Step {}: the reward's amount must be above zero.", step(i)),
            format!("الخطوة {}: يجب أن يكون مبلغ المكافأة أكبر من صفر.", step(i)),
        ),
        WinBackConfigError::Percent(i) => Said::new(
            format!("Step {}: the reward's percentage must be 1–100.", step(i)),
            format!(
                "الخطوة {}: يجب أن تكون نسبة المكافأة من 1 إلى 100.",
                step(i)
            ),
        ),
        WinBackConfigError::MinOrder(i) => Said::new(
            format!("Step {}: the minimum order cannot be negative.", step(i)),
            format!("الخطوة {}: لا يمكن أن يكون الحد الأدنى للطلب سالبًا.", step(i)),
        ),
        WinBackConfigError::Expires(i) => Said::new(
            format!("Step {}: the code must stay valid 1 to 365 days.", step(i)),
            format!(
                "الخطوة {}: يجب أن يبقى الرمز صالحًا من 1 إلى 365 يومًا.",
                step(i)
            ),
        ),
        WinBackConfigError::Holdout => {
            Said::new("Enter 0 to 50 percent.", "أدخل نسبة من 0 إلى 50.")
        }
        WinBackConfigError::VariantCount => Said::new(
            format!("At most {MAX_VARIANTS} subject variants."),
            format!("الحد الأقصى {MAX_VARIANTS} صيغ للعنوان."),
        ),
        WinBackConfigError::VariantId(_) => Said::new(
            "The id must be 1–32 letters, digits, - or _.",
            "يجب أن يكون المعرّف من 1 إلى 32 حرفًا لاتينيًا أو رقمًا أو - أو _.",
        ),
        WinBackConfigError::DuplicateVariant(_, id) => Said::new(
            format!("The id “{id}” is used twice."),
            format!("المعرّف «{}» مستخدم مرتين.", iso(id)),
        ),
        WinBackConfigError::NoSubject(_) => Said::new(
            "Give the subject in at least one language.",
            "اكتب العنوان بلغة واحدة على الأقل.",
        ),
        WinBackConfigError::Subject(_, locale) => Said::new(
            format!("The {locale} subject must be 1–200 characters on one line."),
            format!(
                "يجب أن يكون العنوان بلغة {} من 1 إلى 200 حرف في سطر واحد.",
                iso(locale)
            ),
        ),
    }
}

pub(super) fn replenishment(e: &ReplenishmentConfigError) -> Said {
    use crate::domain::retention::MAX_LEAD_DAYS;
    match e {
        ReplenishmentConfigError::LeadDays => Said::new(
            format!("Enter 0 to {MAX_LEAD_DAYS} days."),
            format!("أدخل من 0 إلى {MAX_LEAD_DAYS} يومًا."),
        ),
    }
}
