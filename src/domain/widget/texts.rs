//! The widget's default wording: (key, English, Arabic). `{name}` marks a value filled in at
//! display time; both languages use the same placeholders (a unit test checks). Owners may
//! override any of these per language (`program.widget.texts`).

pub const TEXTS: &[(&str, &str, &str)] = &[
    ("launcher", "Rewards", "المكافآت"),
    ("title", "Rewards", "المكافآت"),
    ("close", "Close", "إغلاق"),
    ("loading", "Loading…", "جارٍ التحميل…"),
    (
        "load_error",
        "We could not load your rewards.",
        "تعذّر تحميل مكافآتك.",
    ),
    ("retry", "Try again", "أعد المحاولة"),
    (
        "guest_heading",
        "Join and earn points on every order",
        "انضم واكسب نقاطًا مع كل طلب",
    ),
    (
        "guest_body",
        "Create a free account, then spend your points on the rewards below.",
        "أنشئ حسابًا مجانيًا، ثم استبدل نقاطك بالمكافآت أدناه.",
    ),
    ("join", "Create an account", "إنشاء حساب"),
    ("sign_in", "Sign in", "تسجيل الدخول"),
    ("balance", "Points you can spend", "نقاط يمكنك استبدالها"),
    ("points", "{n} points", "{n} نقطة"),
    (
        "pending_line",
        "{n} points become spendable on {date}",
        "{n} نقطة تصبح قابلة للاستبدال في {date}",
    ),
    (
        "pending_note",
        "Points from an order can be spent once its return window has passed.",
        "يمكن استبدال نقاط الطلب بعد انتهاء فترة الإرجاع.",
    ),
    ("tier", "{tier} member", "عضو {tier}"),
    (
        "next_tier",
        "{n} more points to reach {tier}",
        "{n} نقطة أخرى للوصول إلى {tier}",
    ),
    // The same for tiers on money spent and on orders placed.
    (
        "next_tier_amount",
        "Spend {amount} more to reach {tier}",
        "أنفق {amount} إضافية للوصول إلى {tier}",
    ),
    (
        "next_tier_orders",
        "{n} more orders to reach {tier}",
        "{n} طلبات أخرى للوصول إلى {tier}",
    ),
    // A member in grace: what keeps the tier past its review day.
    (
        "keep_tier",
        "Earn {n} more points by {date} to keep {tier}",
        "اكسب {n} نقطة أخرى قبل {date} للاحتفاظ بمستوى {tier}",
    ),
    (
        "keep_tier_amount",
        "Spend {amount} more by {date} to keep {tier}",
        "أنفق {amount} إضافية قبل {date} للاحتفاظ بمستوى {tier}",
    ),
    (
        "keep_tier_orders",
        "Place {n} more orders by {date} to keep {tier}",
        "قدّم {n} طلبات أخرى قبل {date} للاحتفاظ بمستوى {tier}",
    ),
    ("tier_progress", "Progress to {tier}", "التقدم نحو {tier}"),
    (
        "tier_top",
        "You have reached our highest tier",
        "لقد وصلت إلى أعلى مستوى لدينا",
    ),
    ("tier_perks", "Your {tier} perks", "مزايا {tier}"),
    // A reward only members of a tier and higher may redeem.
    ("tier_only", "{tier} and above", "{tier} وما فوق"),
    (
        "referral",
        "Refer a friend: share your link",
        "ادعُ صديقًا: شارك رابطك",
    ),
    // Refer-a-friend: the member's side ({offer} is what the friend gets).
    (
        "referral_heading",
        "Give {offer}, get {n} points",
        "امنح {offer} واحصل على {n} نقطة",
    ),
    (
        "referral_body",
        "Your friend gets {offer} on their first order. You get {n} points once their order is confirmed.",
        "يحصل صديقك على {offer} في طلبه الأول، وتحصل أنت على {n} نقطة بعد تأكيد طلبه.",
    ),
    ("referral_link", "Your referral link", "رابط الإحالة الخاص بك"),
    ("referral_copy", "Copy link", "نسخ الرابط"),
    ("referral_copied", "Link copied", "تم نسخ الرابط"),
    ("referral_share", "Share", "مشاركة"),
    (
        "referral_share_text",
        "Here is {offer} for your first order:",
        "إليك {offer} على طلبك الأول:",
    ),
    // The friend's side, after arriving through a referral link.
    (
        "friend_heading",
        "A friend sent you {offer}",
        "أرسل لك صديق {offer}",
    ),
    (
        "friend_body",
        "Enter your e-mail to get your code for your first order.",
        "أدخل بريدك الإلكتروني للحصول على رمز طلبك الأول.",
    ),
    ("friend_email", "Your e-mail", "بريدك الإلكتروني"),
    ("friend_claim", "Get my code", "احصل على رمزي"),
    ("friend_code", "Your code: {code}", "رمزك: {code}"),
    (
        "friend_code_expires",
        "Use it at checkout by {date}.",
        "استخدمه عند الدفع قبل {date}.",
    ),
    ("offer_fixed_amount", "{amount} off", "خصم {amount}"),
    ("offer_percent", "{percent}% off", "خصم {percent}%"),
    ("offer_free_shipping", "free shipping", "شحنًا مجانيًا"),
    ("ways_to_earn", "Ways to earn", "طرق كسب النقاط"),
    (
        "earn_order",
        "{n} points for every {unit} spent",
        "{n} نقطة مقابل كل {unit} تنفقه",
    ),
    ("earn_signup", "Create an account", "إنشاء حساب"),
    ("earn_birthday", "On your birthday", "في يوم ميلادك"),
    (
        "earn_campaign",
        "{name}: {n} points for every {unit}",
        "{name}: {n} نقطة مقابل كل {unit}",
    ),
    ("rewards", "Rewards", "المكافآت"),
    (
        "reward_fixed_amount",
        "{amount} off your order",
        "خصم {amount} على طلبك",
    ),
    (
        "reward_percent",
        "{percent}% off your order",
        "خصم {percent}% على طلبك",
    ),
    ("reward_free_shipping", "Free shipping", "شحن مجاني"),
    ("reward_free_product", "A free product", "منتج مجاني"),
    (
        "reward_variable",
        "{n} points = {amount} off",
        "{n} نقطة = خصم {amount}",
    ),
    (
        "reward_donation",
        "A donation of {amount} to {charity}",
        "تبرّع بمبلغ {amount} إلى {charity}",
    ),
    (
        "min_order",
        "On orders of {amount} or more",
        "للطلبات بقيمة {amount} أو أكثر",
    ),
    ("redeem", "Redeem", "استبدال"),
    ("confirm", "Spend {n} points", "استبدل {n} نقطة"),
    ("cancel", "Cancel", "إلغاء"),
    (
        "need_more",
        "{n} more points needed",
        "تحتاج إلى {n} نقطة إضافية",
    ),
    (
        "choose_points",
        "Points to spend",
        "النقاط المراد استبدالها",
    ),
    ("redeeming", "Creating your code…", "جارٍ إنشاء رمزك…"),
    ("your_code", "Your code", "رمزك"),
    (
        "code_help",
        "Enter it at checkout. It works once, until {date}.",
        "أدخله عند الدفع. يعمل مرة واحدة حتى {date}.",
    ),
    ("copy", "Copy code", "نسخ الرمز"),
    (
        "thanks_donation",
        "Thank you — your donation of {amount} to {charity} is on its way",
        "شكرًا لك — تبرّعك بمبلغ {amount} إلى {charity} في طريقه",
    ),
    (
        "thanks_custom",
        "Redeemed — the shop will be in touch",
        "تم الاستبدال — سيتواصل معك المتجر",
    ),
    ("copied", "Copied", "تم النسخ"),
    (
        "err_insufficient",
        "You do not have enough spendable points for this reward.",
        "ليست لديك نقاط كافية قابلة للاستبدال لهذه المكافأة.",
    ),
    (
        "err_platform",
        "The shop could not create your code right now. Your points were returned.",
        "تعذّر على المتجر إنشاء رمزك الآن. أُعيدت نقاطك.",
    ),
    (
        "err_generic",
        "Something went wrong. Your points are safe; please try again.",
        "حدث خطأ ما. نقاطك في أمان؛ يُرجى المحاولة مرة أخرى.",
    ),
    ("history", "Recent activity", "النشاط الأخير"),
    ("no_history", "No activity yet.", "لا يوجد نشاط بعد."),
    ("pending_until", "pending until {date}", "معلّقة حتى {date}"),
    ("h_earn", "Order", "طلب"),
    ("h_signup", "Account created", "إنشاء حساب"),
    ("h_birthday", "Birthday", "عيد ميلاد"),
    ("h_adjustment", "From the shop", "من المتجر"),
    ("h_redeem", "Reward", "مكافأة"),
    ("h_redeem_refund", "Points returned", "نقاط مُعادة"),
    ("h_reversal", "Refund or cancellation", "استرجاع أو إلغاء"),
    ("h_expiry", "Points expired", "نقاط منتهية الصلاحية"),
];
