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
    // The referral review queue and the e-mail log.
    ("referrals", "Referrals", "الإحالات"),
    ("emails", "E-mail log", "سجل البريد"),
    ("referrals_intro", "Referrals the fraud checks held or flagged wait here for your decision; approving rewards the referrer at once.", "تنتظر هنا الإحالات التي أوقفتها أو علّمتها فحوص الاحتيال قرارك؛ الموافقة تكافئ صاحب الإحالة فورًا."),
    ("show", "Show", "عرض"),
    ("filter_open", "Open", "مفتوحة"),
    ("ref_pending", "Pending", "قيد الانتظار"),
    ("ref_flagged", "Flagged", "مُعلَّمة"),
    ("ref_approved", "Approved", "مقبولة"),
    ("ref_rejected", "Rejected", "مرفوضة"),
    ("ref_void", "Void", "ملغاة"),
    ("referrer", "Referrer", "صاحب الإحالة"),
    ("friend", "Friend", "الصديق"),
    ("order", "Order", "الطلب"),
    ("signals", "Fraud signals", "مؤشرات الاحتيال"),
    ("risk", "Risk", "المخاطرة"),
    ("reward", "Reward", "المكافأة"),
    ("decision", "Decision", "القرار"),
    ("approve", "Approve", "موافقة"),
    ("reject", "Reject", "رفض"),
    ("decided_approve", "Referral approved: the referrer is rewarded.", "تمت الموافقة على الإحالة: تمت مكافأة صاحبها."),
    ("decided_reject", "Referral rejected.", "تم رفض الإحالة."),
    ("no_referrals", "No referrals here.", "لا توجد إحالات هنا."),
    ("emails_intro", "Every message the program sent or held back, newest first.", "كل رسالة أرسلها البرنامج أو أوقفها، الأحدث أولًا."),
    ("any", "Any", "الكل"),
    ("subject", "Subject", "الموضوع"),
    ("sent_at", "Sent", "أُرسلت"),
    ("opened_at", "Opened", "فُتحت"),
    ("no_emails", "No messages match.", "لا توجد رسائل مطابقة."),
    ("mail_queued", "Queued", "في الانتظار"),
    ("mail_sending", "Sending", "قيد الإرسال"),
    ("mail_sent", "Sent", "أُرسلت"),
    ("mail_failed", "Failed", "فشلت"),
    ("mail_suppressed", "Not sent (unsubscribed or inactive)", "لم تُرسل (ألغى الاشتراك أو غير نشط)"),
    ("mail_held_out", "Not sent (hold-out group)", "لم تُرسل (مجموعة المقارنة)"),
    ("mail_capped", "Waiting for the weekly digest", "بانتظار الملخص الأسبوعي"),
    ("mail_merged", "Sent in a digest", "أُرسلت ضمن ملخص"),
    ("kind_welcome", "Welcome", "ترحيب"),
    ("kind_points_earned", "Points earned", "نقاط مكتسبة"),
    ("kind_points_spendable", "Points ready to spend", "نقاط جاهزة للاستخدام"),
    ("kind_reward_issued", "Reward issued", "مكافأة صادرة"),
    ("kind_points_expiring", "Points expiring", "نقاط ستنتهي صلاحيتها"),
    ("kind_tier_up", "Tier up", "ترقية المستوى"),
    ("kind_tier_down", "Tier down", "خفض المستوى"),
    ("kind_tier_at_risk", "Tier at risk", "المستوى مهدد"),
    ("kind_birthday", "Birthday", "عيد الميلاد"),
    ("kind_referral_invite", "Referral invitation", "دعوة إحالة"),
    ("kind_referral_reward", "Referral reward", "مكافأة الإحالة"),
    ("kind_win_back", "Win-back", "استعادة العملاء"),
    ("kind_replenishment", "Replenishment reminder", "تذكير بإعادة الشراء"),
    ("kind_nps_survey", "NPS survey", "استبيان NPS"),
    ("kind_digest", "Digest", "ملخص"),
    // A customer's points history: why each line exists, and where it stands.
    ("lk_earn", "Order", "طلب"),
    ("lk_signup", "Sign-up", "التسجيل"),
    ("lk_birthday", "Birthday", "عيد الميلاد"),
    ("lk_adjustment", "Adjustment", "تعديل"),
    ("lk_redeem", "Reward", "مكافأة"),
    ("lk_redeem_refund", "Reward given back", "استرداد مكافأة"),
    ("lk_reversal", "Refund or cancellation", "استرداد أو إلغاء"),
    ("lk_expiry", "Expired", "انتهت صلاحيتها"),
    ("lk_referral", "Referral", "إحالة"),
    ("lk_import", "Imported", "مستوردة"),
    ("ls_pending", "Pending", "قيد الانتظار"),
    ("ls_confirmed", "Confirmed", "مؤكدة"),
    ("ls_void", "Void", "ملغاة"),
    // The adjust form's errors, next to their fields.
    ("err_not_whole_number", "{value} is not a whole number of points", "{value} ليس عددًا صحيحًا من النقاط"),
    ("err_points_range", "Points must be a whole number other than 0, from -{max} to {max}.", "يجب أن تكون النقاط عددًا صحيحًا غير الصفر، من ‎-{max} إلى {max}."),
    ("err_reason_missing", "Give a reason: the customer sees it in their points history.", "اذكر سببًا: يراه العميل في سجل نقاطه."),
    ("err_reason_long", "The reason is longer than 500 characters.", "السبب أطول من 500 حرف."),
    ("err_insufficient", "Not enough points: the balance is {balance} and {wanted} were asked for.", "النقاط غير كافية: الرصيد {balance} والمطلوب {wanted}."),
    ("err_balance_limit", "This would take the customer past the limit of {max} points.", "سيتجاوز هذا حد {max} نقطة للعميل."),
    // app-program: the program editor (`/app/program`). `ps.` = a section's legend, `p.` = a
    // setting's label by its path, `u.` = removing an optional group, `o.` = a choice.
    ("program", "Program", "البرنامج"),
    ("prog_save", "Save program", "حفظ البرنامج"),
    ("prog_saved", "Saved", "تم الحفظ"),
    ("prog_not_number", "Enter a number", "أدخل رقمًا"),
    ("prog_bad_json", "Not valid JSON", "ليس JSON صالحًا"),
    ("prog_json_hint", "JSON, for example:", "بصيغة JSON، مثال:"),
    ("prog_empty_none", "Leave empty for none.", "اتركه فارغًا لعدم التفعيل."),
    ("prog_remove", "Remove:", "إزالة:"),
    ("ps.earning", "Earning points", "كسب النقاط"),
    ("ps.rewards", "Rewards", "المكافآت"),
    ("ps.code_prefix", "Discount codes", "رموز الخصم"),
    ("ps.expiry", "Points expiry", "انتهاء صلاحية النقاط"),
    ("ps.tiers", "VIP tiers and memberships", "مستويات كبار العملاء والعضويات"),
    ("ps.referrals", "Referrals", "الإحالات"),
    ("ps.emails", "E-mails", "رسائل البريد الإلكتروني"),
    ("ps.win_back", "Win-back", "استعادة العملاء"),
    ("ps.replenishment", "Replenishment reminders", "تذكيرات إعادة الشراء"),
    ("ps.widget", "Storefront widget", "أداة واجهة المتجر"),
    ("p.earning.points_per_unit", "Points per unit of currency", "النقاط لكل وحدة من العملة"),
    ("p.earning.unit_size", "Currency units per step", "عدد وحدات العملة لكل خطوة"),
    ("p.earning.rounding", "Rounding", "التقريب"),
    ("p.earning.earn_on", "Points are earned when the order is", "تُكسب النقاط عندما يكون الطلب"),
    ("p.earning.include_shipping", "Shipping earns points", "الشحن يكسب نقاطًا"),
    ("p.earning.include_tax", "Tax earns points", "الضريبة تكسب نقاطًا"),
    ("p.earning.before_discounts", "Earn on prices before discounts", "الكسب على الأسعار قبل الخصومات"),
    ("p.earning.product_multipliers", "Product multipliers", "مضاعفات المنتجات"),
    ("p.earning.collection_multipliers", "Collection multipliers", "مضاعفات المجموعات"),
    ("p.earning.campaigns", "Campaigns", "الحملات"),
    ("p.earning.signup_points", "Points for creating an account", "نقاط إنشاء حساب"),
    ("p.earning.birthday_points", "Birthday points", "نقاط عيد الميلاد"),
    ("p.earning.pending_days", "Days points stay pending", "أيام بقاء النقاط قيد الانتظار"),
    ("p.earning.earn_on_test_orders", "Test orders earn points", "الطلبات التجريبية تكسب نقاطًا"),
    ("p.rewards", "Rewards catalog", "كتالوج المكافآت"),
    ("p.code_prefix", "Prefix of discount codes", "بادئة رموز الخصم"),
    ("p.expiry", "Expiry policy (empty: points never expire)", "سياسة الانتهاء (فارغ: لا تنتهي النقاط)"),
    ("p.tiers", "Tiers (empty: no tiers)", "المستويات (فارغ: بلا مستويات)"),
    ("p.tiers.basis", "Tiers are reached by", "يُبلغ المستوى بحسب"),
    ("p.tiers.window", "Counting period", "فترة الاحتساب"),
    ("p.tiers.grace_days", "Grace days before moving down", "أيام السماح قبل النزول"),
    ("p.tiers.levels", "Levels", "المستويات"),
    ("p.memberships", "Paid memberships", "العضويات المدفوعة"),
    ("p.referrals", "Referral program (empty: none)", "برنامج الإحالة (فارغ: لا يوجد)"),
    ("p.referrals.enabled", "Referrals on", "تفعيل الإحالات"),
    ("p.referrals.friend_reward", "Friend's reward", "مكافأة الصديق"),
    ("p.referrals.referrer_reward.points", "Referrer's points", "نقاط صاحب الإحالة"),
    ("p.referrals.min_order_minor", "Friend's minimum order (in cents or the currency's smallest unit)", "الحد الأدنى لطلب الصديق (بأصغر وحدة للعملة)"),
    ("p.referrals.max_rewards_per_month", "Most rewards per referrer and month (empty: no cap)", "أقصى عدد مكافآت لكل مُحيل شهريًا (فارغ: بلا حد)"),
    ("p.referrals.review", "Review", "المراجعة"),
    ("p.emails.from", "Sender (empty: the server's default)", "المرسل (فارغ: الافتراضي للخادم)"),
    ("p.emails.reply_to", "Reply-to address", "عنوان الرد"),
    ("p.emails.postal_address", "Postal address", "العنوان البريدي"),
    ("p.emails.logo_url", "Logo URL (https)", "رابط الشعار (https)"),
    ("p.emails.accent_color", "Button colour (empty: the widget's)", "لون الأزرار (فارغ: لون الأداة)"),
    ("p.emails.enabled", "Kinds switched on or off", "الأنواع المفعلة أو المعطلة"),
    ("p.emails.templates", "Own templates", "قوالب خاصة"),
    ("p.emails.policy.max_per_week", "Most marketing e-mails per customer and week", "أقصى عدد رسائل تسويقية لكل عميل أسبوعيًا"),
    ("p.emails.policy.quiet_hours.start", "Quiet hours start (HH:MM)", "بداية ساعات الهدوء (HH:MM)"),
    ("p.emails.policy.quiet_hours.end", "Quiet hours end (HH:MM)", "نهاية ساعات الهدوء (HH:MM)"),
    ("p.emails.policy.sunset_after_unopened", "Pause after this many unopened e-mails (empty: never)", "الإيقاف بعد هذا العدد من الرسائل غير المفتوحة (فارغ: أبدًا)"),
    ("p.emails.open_tracking", "Track opens", "تتبع فتح الرسائل"),
    ("p.win_back", "Win-back program (empty: none)", "برنامج استعادة العملاء (فارغ: لا يوجد)"),
    ("p.win_back.enabled", "Win-back on", "تفعيل استعادة العملاء"),
    ("p.win_back.after_days", "Lapsed after this many days without an order (or auto)", "يُعد منقطعًا بعد هذا العدد من الأيام بلا طلب (أو auto)"),
    ("p.win_back.steps", "Steps", "الخطوات"),
    ("p.win_back.holdout_pct", "Holdout share (%)", "نسبة المجموعة الضابطة (%)"),
    ("p.win_back.subject_variants", "Subject variants", "بدائل العنوان"),
    ("p.replenishment", "Replenishment reminders (empty: off)", "تذكيرات إعادة الشراء (فارغ: متوقفة)"),
    ("p.replenishment.enabled", "Reminders on", "تفعيل التذكيرات"),
    ("p.replenishment.lead_days", "Days before the expected reorder", "الأيام قبل موعد إعادة الطلب المتوقع"),
    ("p.widget.default_locale", "Default language", "اللغة الافتراضية"),
    ("p.widget.accent_color", "Accent colour", "اللون المميز"),
    ("p.widget.position", "Position", "الموضع"),
    ("p.widget.join_url", "Sign-up link", "رابط إنشاء الحساب"),
    ("p.widget.login_url", "Sign-in link", "رابط تسجيل الدخول"),
    ("p.widget.texts", "Own wording per language", "صياغة خاصة لكل لغة"),
    ("u.tiers", "Remove the tiers", "إزالة المستويات"),
    ("u.referrals", "Remove the referral program", "إزالة برنامج الإحالة"),
    ("u.win_back", "Remove the win-back program", "إزالة برنامج استعادة العملاء"),
    ("u.replenishment", "Remove the replenishment reminders", "إزالة تذكيرات إعادة الشراء"),
    ("u.emails.policy.quiet_hours", "No quiet hours", "بلا ساعات هدوء"),
    ("o.down", "Round down", "تقريب للأسفل"),
    ("o.nearest", "Round to the nearest", "تقريب لأقرب عدد"),
    ("o.up", "Round up", "تقريب للأعلى"),
    ("o.paid", "Paid", "مدفوعًا"),
    ("o.created", "Placed", "مُنشأً"),
    ("o.en", "English", "الإنجليزية"),
    ("o.ar", "Arabic", "العربية"),
    ("o.right", "Right", "اليمين"),
    ("o.left", "Left", "اليسار"),
    ("o.points_earned", "Points earned", "النقاط المكتسبة"),
    ("o.amount_spent", "Amount spent", "المبلغ المنفق"),
    ("o.orders", "Orders", "الطلبات"),
    ("o.lifetime", "Lifetime", "مدى الحياة"),
    ("o.calendar_year", "Calendar year", "السنة الميلادية"),
    ("o.rolling_12_months", "Last 12 months", "آخر 12 شهرًا"),
    ("o.auto", "Automatic (suspicious ones held)", "تلقائية (تُحتجز المشبوهة)"),
    ("o.manual", "Manual (every referral held)", "يدوية (تُحتجز كل إحالة)"),
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
    // Outgoing webhooks (`/app/webhooks`).
    ("webhooks", "Webhooks", "خطافات الويب"),
    ("wh_intro", "Signed messages sent to your subscriptions when members, points, tiers, rewards and referrals change. Subscriptions are made through the admin API, which shows each signing secret once.", "رسائل موقَّعة تُرسل إلى اشتراكاتك عند تغيّر الأعضاء أو النقاط أو المستويات أو المكافآت أو الإحالات. تُنشأ الاشتراكات عبر واجهة الإدارة البرمجية التي تعرض كل مفتاح توقيع مرة واحدة."),
    ("wh_topics", "Topics", "المواضيع"),
    ("wh_enabled", "Active", "نشط"),
    ("wh_disabled", "Disabled after a day of failed deliveries", "معطّل بعد يوم من محاولات التسليم الفاشلة"),
    ("wh_deliveries", "Recent deliveries", "عمليات التسليم الأخيرة"),
    ("wh_event", "Event", "الحدث"),
    ("wh_attempts", "Attempts", "المحاولات"),
    ("wh_last", "Last answer", "آخر رد"),
    ("wh_no_answer", "no answer", "لا رد"),
    ("wh_redeliver", "Send again", "أعد الإرسال"),
    ("wh_redeliver_enable", "Send again and re-enable", "أعد الإرسال وأعد التفعيل"),
    ("wh_redelivered", "Sent again; the outcome is listed below.", "أُعيد الإرسال؛ النتيجة مذكورة أدناه."),
    ("wh_no_deliveries", "Nothing sent yet.", "لم يُرسل شيء بعد."),
    ("wh_none", "No webhook subscriptions yet.", "لا توجد اشتراكات بعد."),
    ("whs_pending", "Waiting to retry", "بانتظار إعادة المحاولة"),
    ("whs_sending", "Sending", "قيد الإرسال"),
    ("whs_delivered", "Delivered", "تم التسليم"),
    ("whs_failed", "Failed", "فشل"),
];

/// The admin's language for a shop's locale: Arabic for `ar` and its regions, else English.
pub fn language(locale: &str) -> &'static str {
    if locale.split(['-', '_']).next() == Some("ar") {
        "ar"
    } else {
        "en"
    }
}

/// The text `key` in `lang` with its `{name}` placeholders filled in.
pub fn say(lang: &str, key: &str, args: &[(&str, String)]) -> String {
    let mut text = texts(lang).get(key).copied().unwrap_or(key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The texts in `locale` (`ar`, else English).
pub fn texts(locale: &str) -> BTreeMap<&'static str, &'static str> {
    let arabic = locale == "ar";
    TEXTS
        .iter()
        .map(|(key, en, ar)| (*key, if arabic { *ar } else { *en }))
        .collect()
}

/// Where `key` sits in the table: pages that list texts by key (the program editor's settings)
/// show them in the table's order.
pub fn position(key: &str) -> Option<usize> {
    TEXTS.iter().position(|(k, _, _)| *k == key)
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
        assert_eq!(language("ar-SA"), "ar");
        assert_eq!(language("en_GB"), "en");
        assert_eq!(
            say(
                "en",
                "err_insufficient",
                &[("balance", "5".into()), ("wanted", "9".into())]
            ),
            "Not enough points: the balance is 5 and 9 were asked for."
        );
        assert_eq!(say("en", "no_such_text", &[]), "no_such_text");
        // The pages name every ledger kind and status, in both languages.
        let names = texts("ar");
        for kind in crate::domain::points::LedgerKind::ALL {
            assert!(names.contains_key(format!("lk_{kind}").as_str()), "{kind}");
        }
        for status in crate::domain::points::LedgerStatus::ALL {
            assert!(
                names.contains_key(format!("ls_{status}").as_str()),
                "{status}"
            );
        }
        for kind in crate::domain::mail::Kind::ALL {
            assert!(names.contains_key(format!("kind_{}", kind.as_str()).as_str()));
        }
    }
}
