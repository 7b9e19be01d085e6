//! The admin UI's words in English and Arabic. Every page gets the whole table as `t`, so a
//! template names a text (`{{ t.customers }}`) and a missing one fails the page's test rather
//! than showing a blank.

use std::collections::BTreeMap;

/// (key, English, Arabic).
const TEXTS: &[(&str, &str, &str)] = &[
    ("overview", "Overview", "نظرة عامة"),
    ("customers", "Customers", "العملاء"),
    ("transfer", "Import & export", "الاستيراد والتصدير"),
    ("sign_out", "Sign out", "تسجيل الخروج"),
    ("sign_in", "Sign in", "تسجيل الدخول"),
    ("sign_in_to", "Sign in to the admin of", "تسجيل الدخول إلى إدارة"),
    ("skip", "Skip to content", "انتقل إلى المحتوى"),
    ("search", "Search", "بحث"),
    ("search_label", "E-mail, name or customer id", "البريد الإلكتروني أو الاسم أو رقم العميل"),
    ("no_customers", "No customers match.", "لا يوجد عملاء مطابقون."),
    ("next_page", "Next page", "الصفحة التالية"),
    ("customer", "Customer", "العميل"),
    ("email", "E-mail", "البريد الإلكتروني"),
    ("name", "Name", "الاسم"),
    ("points", "Points", "النقاط"),
    ("pending", "Pending", "قيد الانتظار"),
    ("lifetime", "Lifetime", "الإجمالي"),
    ("tier", "Tier", "المستوى"),
    ("segment", "Segment", "الشريحة"),
    ("referral_code", "Referral code", "رمز الإحالة"),
    ("ledger", "Points history", "سجل النقاط"),
    ("date", "Date", "التاريخ"),
    ("change", "Change", "التغيير"),
    ("kind", "Kind", "النوع"),
    ("status", "Status", "الحالة"),
    ("reason", "Reason", "السبب"),
    ("adjust", "Adjust points", "تعديل النقاط"),
    ("adjust_points_hint", "Positive to add, negative to take away.", "موجب للإضافة، سالب للخصم."),
    ("adjust_submit", "Apply adjustment", "تطبيق التعديل"),
    ("adjusted", "Adjustment applied.", "تم تطبيق التعديل."),
    ("guest", "guest", "زائر"),
    ("import", "Import customers", "استيراد العملاء"),
    ("import_help", "A CSV file with a header row naming customer_id and/or email, and optionally points, tier and birthday (YYYY-MM-DD). Points are added once per row: importing the same file twice changes nothing.", "ملف CSV بصف عناوين يتضمن customer_id و/أو email، واختياريًا points وtier وbirthday (YYYY-MM-DD). تُضاف النقاط مرة واحدة لكل صف: استيراد الملف نفسه مرتين لا يغيّر شيئًا."),
    ("file", "CSV file", "ملف CSV"),
    ("import_submit", "Import", "استيراد"),
    ("import_done", "Import finished", "اكتمل الاستيراد"),
    ("rows", "Rows", "الصفوف"),
    ("imported", "Imported", "تم استيرادها"),
    ("unchanged", "Unchanged", "دون تغيير"),
    ("failed", "Refused", "مرفوضة"),
    ("row", "Line", "السطر"),
    ("problem", "Problem", "المشكلة"),
    ("export", "Export customers", "تصدير العملاء"),
    ("export_help", "Every customer with their balance, tier, birthday and segment, as CSV.", "جميع العملاء مع أرصدتهم ومستوياتهم وتواريخ ميلادهم وشرائحهم بصيغة CSV."),
    ("download", "Download CSV", "تنزيل CSV"),
    ("members", "Members", "الأعضاء"),
    ("outstanding", "Points outstanding", "النقاط المستحقة"),
    ("segments", "Segments", "الشرائح"),
    ("seg_new", "New", "جدد"),
    ("seg_active", "Active", "نشطون"),
    ("seg_at_risk", "At risk", "معرضون للفقد"),
    ("seg_lapsed", "Lapsed", "منقطعون"),
    ("seg_lost", "Lost", "مفقودون"),
    ("shop_facts", "Shop", "المتجر"),
    ("currency", "Currency", "العملة"),
    ("timezone", "Time zone", "المنطقة الزمنية"),
    ("language", "Language", "اللغة"),
    ("error", "Something needs fixing", "هناك ما يحتاج إلى تصحيح"),
    // app-overview: the overview's metrics and charts, the period form, the reports page.
    ("reports", "Reports", "التقارير"),
    ("period", "Period", "الفترة"),
    ("period_from", "From", "من"),
    ("period_to", "To", "إلى"),
    ("period_show", "Show", "عرض"),
    ("period_hint", "Days in the shop's time zone, both included; at most 366 days. Empty: the last 30 days.", "أيام بتوقيت المتجر، شاملةً اليومين؛ 366 يومًا على الأكثر. إن تُركت فارغة: آخر 30 يومًا."),
    ("period_bad_from", "The start must be a date like 2026-11-23.", "يجب أن تكون البداية تاريخًا مثل 2026-11-23."),
    ("period_bad_to", "The end must be a date like 2026-11-23.", "يجب أن تكون النهاية تاريخًا مثل 2026-11-23."),
    ("period_from_after_to", "The start is after the end.", "البداية بعد النهاية."),
    ("period_too_long", "The period is longer than 366 days: choose a shorter one.", "الفترة أطول من 366 يومًا: اختر فترة أقصر."),
    ("no_data", "Not enough data in this period.", "لا توجد بيانات كافية في هذه الفترة."),
    ("m_retention", "Retention", "الاحتفاظ بالعملاء"),
    ("m_revenue", "Revenue and orders", "الإيرادات والطلبات"),
    ("m_loyalty", "Loyalty program", "برنامج الولاء"),
    ("crr_pct", "Customer retention rate", "معدل الاحتفاظ بالعملاء"),
    ("churn_pct", "Churn rate", "معدل فقدان العملاء"),
    ("rpr_pct", "Repeat purchase rate", "معدل تكرار الشراء"),
    ("lcr_pct", "Loyal customer rate", "معدل العملاء الأوفياء"),
    ("aer_pct", "Active engagement rate", "معدل المشاركة النشطة"),
    ("avg_days_member_before_churn", "Average days a member stays before churning", "متوسط أيام بقاء العضو قبل انقطاعه"),
    ("revenue_total", "Revenue", "الإيرادات"),
    ("revenue_members", "Revenue from members", "إيرادات الأعضاء"),
    ("revenue_repeat", "Revenue from repeat orders", "إيرادات الطلبات المتكررة"),
    ("aov_all", "Average order value", "متوسط قيمة الطلب"),
    ("aov_members", "Average order value, members", "متوسط قيمة الطلب للأعضاء"),
    ("aov_non_members", "Average order value, non-members", "متوسط قيمة الطلب لغير الأعضاء"),
    ("clv", "Customer lifetime value", "القيمة الدائمة للعميل"),
    ("redemption_rate_pct", "Redemption rate", "معدل الاستبدال"),
    ("nps", "Net Promoter Score", "صافي نقاط الترويج"),
    ("nps_responses", "answers", "إجابات"),
    ("customers_new", "New customers", "العملاء الجدد"),
    ("customers_at_end", "Active customers at the end", "العملاء النشطون في النهاية"),
    ("charts", "Day by day", "يومًا بيوم"),
    ("chart_orders", "Orders per day", "الطلبات يوميًا"),
    ("chart_revenue", "Revenue per day", "الإيرادات يوميًا"),
    ("chart_new_customers", "New customers per day", "العملاء الجدد يوميًا"),
    ("chart_points", "Points earned and spent per day", "النقاط المكتسبة والمستبدلة يوميًا"),
    ("chart_points_earned", "Points earned", "النقاط المكتسبة"),
    ("chart_points_spent", "Points spent", "النقاط المستبدلة"),
    ("chart_total", "total", "المجموع"),
    ("chart_peak", "highest", "الأعلى"),
    ("chart_no_orders", "No orders in this period.", "لا توجد طلبات في هذه الفترة."),
    ("chart_no_customers", "No new customers in this period.", "لا يوجد عملاء جدد في هذه الفترة."),
    ("chart_no_points", "No points earned or spent in this period.", "لم تُكتسب أو تُستبدل نقاط في هذه الفترة."),
    ("chart_numbers", "The numbers", "الأرقام"),
    ("r_liability", "Points liability", "التزامات النقاط"),
    ("r_point_value", "Value of points", "قيمة النقاط"),
    ("r_value", "Value", "القيمة"),
    ("r_earned", "Earned", "مكتسبة"),
    ("r_spent", "Spent on rewards", "مستبدلة بمكافآت"),
    ("r_reversed", "Taken back (refunds, cancellations)", "مستردة (استرجاع أو إلغاء)"),
    ("r_expired", "Expired", "منتهية الصلاحية"),
    ("r_adjusted_down", "Taken away by adjustments", "مخصومة بالتعديلات"),
    ("r_pending", "Pending at the end", "قيد الانتظار في النهاية"),
    ("r_outstanding", "Outstanding at the end", "المستحقة في النهاية"),
    ("r_win_back", "Win-back lift", "أثر حملة الاستعادة"),
    ("r_win_back_hint", "Customers who entered the win-back sequence in the period, against those held out; their orders in the 30 days from entry.", "العملاء الذين دخلوا سلسلة الاستعادة في الفترة مقارنةً بالمجموعة المستبعدة؛ طلباتهم خلال 30 يومًا من الدخول."),
    ("r_orders", "Orders", "الطلبات"),
    ("r_revenue", "Revenue", "الإيرادات"),
    ("r_treated", "Mailed", "تلقّوا الرسائل"),
    ("r_holdout", "Held out", "المجموعة المستبعدة"),
    ("r_order_rate_lift", "Order rate lift (percentage points)", "زيادة معدل الطلب (نقاط مئوية)"),
    ("r_revenue_lift", "Revenue per customer lift", "زيادة الإيراد لكل عميل"),
    ("r_variants", "Subject variants", "صيغ عنوان الرسالة"),
    ("r_variant", "Variant", "الصيغة"),
    ("r_sent", "Sent", "أُرسلت"),
    ("r_nps", "Net Promoter Score", "صافي نقاط الترويج"),
    ("r_responses", "Answers", "الإجابات"),
    ("r_promoters", "Promoters (9–10)", "المروّجون (9–10)"),
    ("r_passives", "Passives (7–8)", "المحايدون (7–8)"),
    ("r_detractors", "Detractors (0–6)", "المنتقدون (0–6)"),
    ("r_donations", "Donations", "التبرعات"),
    ("r_charity", "Charity", "الجهة الخيرية"),
    ("r_donations_count", "Donations", "التبرعات"),
    ("r_amount", "Amount", "المبلغ"),
    ("r_total", "Total", "المجموع"),
    ("r_no_donations", "No donations in this period.", "لا توجد تبرعات في هذه الفترة."),
];

/// The texts in `locale` (`ar`, else English).
pub fn texts(locale: &str) -> BTreeMap<&'static str, &'static str> {
    let arabic = locale == "ar";
    TEXTS
        .iter()
        .map(|(key, en, ar)| (*key, if arabic { *ar } else { *en }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_both_languages_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (key, en, ar) in TEXTS {
            assert!(seen.insert(key), "{key} twice");
            assert!(!en.trim().is_empty() && !ar.trim().is_empty(), "{key}");
        }
        assert_eq!(texts("ar")["customers"], "العملاء");
        assert_eq!(texts("fr")["customers"], "Customers");
    }
}
