use super::*;

const LOCALES: [Locale; 2] = [Locale::En, Locale::Ar];

/// Renders a built-in template in strict mode: a variable that does not exist fails here even
/// though sending would forgive it.
fn render_strict(kind: Kind, locale: Locale, ctx: &MailContext) -> Rendered {
    let env = engine::environment(engine::Mode::Validating).unwrap();
    let values = engine::values(kind, locale, &Brand::sample(), ctx);
    let parts = engine::builtin_parts(env, kind, locale, &values)
        .unwrap_or_else(|e| panic!("{} {}: {e}", kind.as_str(), locale.as_str()));
    engine::assemble(env, &values, parts).unwrap()
}

fn over(subject: &str, html: &str, text: &str) -> TemplateOverride {
    TemplateOverride {
        subject: subject.into(),
        html: html.into(),
        text: text.into(),
    }
}

#[test]
fn there_is_a_builtin_template_for_every_kind() {
    let names: Vec<&str> = engine::BUILTIN.iter().map(|(name, ..)| *name).collect();
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names, kinds);
}

#[test]
fn every_kind_renders_in_both_languages_with_full_and_minimal_facts() {
    for kind in Kind::ALL {
        for locale in LOCALES {
            for (label, ctx) in [
                ("sample", MailContext::sample(locale)),
                ("minimal", MailContext::minimal(kind)),
            ] {
                let at = format!("{} {} {label}", kind.as_str(), locale.as_str());
                let mail = render_strict(kind, locale, &ctx);
                assert!(!mail.subject.is_empty(), "{at}: empty subject");
                assert!(
                    !mail.subject.contains(['\r', '\n']),
                    "{at}: {}",
                    mail.subject
                );
                let html_tag = format!(
                    r#"<html lang="{}" dir="{}">"#,
                    locale.as_str(),
                    locale.dir()
                );
                assert!(mail.html.contains(&html_tag), "{at}: {html_tag} missing");
                let main_table = format!(
                    r#"lang="{}" dir="{}" width="600""#,
                    locale.as_str(),
                    locale.dir()
                );
                assert!(
                    mail.html.contains(&main_table),
                    "{at}: main table without lang/dir"
                );
                assert!(!mail.html.contains("<script"), "{at}: script in HTML");
                assert!(!mail.html.contains("&lt;"), "{at}: markup escaped twice");
                for part in [&mail.subject, &mail.text, &mail.html] {
                    assert!(
                        !part.contains("{{") && !part.contains("{%"),
                        "{at}: template syntax leaked"
                    );
                    assert!(
                        !part.contains(">none<") && !part.contains(" none"),
                        "{at}: printed none"
                    );
                }
                // The button's link is spelled out in the text part.
                let button = ctx.action_url.clone().unwrap_or(Brand::sample().shop_url);
                assert!(
                    mail.text.contains(&button),
                    "{at}: text lacks {button}\n{}",
                    mail.text
                );
                assert!(
                    mail.text
                        .contains("\n-- \nCedar & Sage: https://cedar-and-sage.example\n"),
                    "{at}"
                );
            }
        }
    }
}

#[test]
fn text_parts_spell_out_links_and_unsubscribe_only_from_marketing() {
    for kind in Kind::ALL {
        for locale in LOCALES {
            let ctx = MailContext::sample(locale);
            let mail = render_strict(kind, locale, &ctx);
            let unsubscribe = ctx.unsubscribe_url.as_deref().unwrap();
            assert_eq!(
                mail.text.contains(unsubscribe),
                kind.is_marketing(),
                "{}",
                kind.as_str()
            );
            assert_eq!(
                mail.html.contains(unsubscribe),
                kind.is_marketing(),
                "{}",
                kind.as_str()
            );
            assert!(mail.text.contains("12 Harbour Street"), "{}", kind.as_str());
            assert!(mail.html.contains("12 Harbour Street"), "{}", kind.as_str());
        }
        let mail = render_strict(kind, Locale::En, &MailContext::sample(Locale::En));
        if matches!(kind, Kind::Welcome | Kind::ReferralReward) {
            assert!(mail.text.contains("https://boomerang.example/r/ADA7K"));
        }
        if kind == Kind::NpsSurvey {
            assert!(mail
                .text
                .contains("https://cedar-and-sage.example/account?score=10"));
        }
    }
}

#[test]
fn text_lines_we_write_fit_in_78_columns() {
    for kind in Kind::ALL {
        for locale in LOCALES {
            let mail = render_strict(kind, locale, &MailContext::sample(locale));
            for line in mail.text.lines().filter(|l| !l.contains("http")) {
                assert!(
                    line.chars().count() <= 78,
                    "{} {}: {line}",
                    kind.as_str(),
                    locale.as_str()
                );
            }
        }
    }
}

#[test]
fn arabic_mail_is_right_to_left_with_arabic_subjects_and_dates() {
    let arabic = |s: &str| s.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c));
    for kind in Kind::ALL {
        let mail = render_strict(kind, Locale::Ar, &MailContext::sample(Locale::Ar));
        assert!(mail.html.contains(r#"<html lang="ar" dir="rtl">"#));
        assert!(arabic(&mail.subject), "{}: {}", kind.as_str(), mail.subject);
        assert!(arabic(&mail.text));
    }
    let expiring = render_strict(
        Kind::PointsExpiring,
        Locale::Ar,
        &MailContext::sample(Locale::Ar),
    );
    assert_eq!(expiring.subject, "45 نقطة تنتهي صلاحيتها في 3 مارس 2027");
    let expiring = render_strict(
        Kind::PointsExpiring,
        Locale::En,
        &MailContext::sample(Locale::En),
    );
    assert_eq!(expiring.subject, "45 points expire on 3 March 2027");
}

#[test]
fn facts_come_first() {
    let mail = render_strict(
        Kind::PointsEarned,
        Locale::En,
        &MailContext::sample(Locale::En),
    );
    assert_eq!(mail.subject, "You earned 45 points for order #1001");
    assert!(
        mail.text
            .starts_with("You earned 45 points for order #1001.\n"),
        "{}",
        mail.text
    );
    assert!(mail
        .text
        .contains("- 45 points, spendable on 14 December 2026\n"));
    assert!(mail
        .html
        .contains("45 points spendable on 14 December 2026. Balance: 120 points."));
}

#[test]
fn data_is_escaped_in_html_and_kept_in_text() {
    let mut ctx = MailContext::sample(Locale::En);
    ctx.reward_title = Some(r#"<script>alert("x")</script> & more"#.into());
    let brand = Brand {
        shop_name: "Tom & Jerry's <b>".into(),
        ..Brand::sample()
    };
    let mail = render(Kind::RewardIssued, Locale::En, &brand, &ctx, None).unwrap();
    assert!(!mail.html.contains("<script"));
    assert!(mail.html.contains("&lt;script&gt;"));
    assert!(mail.html.contains("Tom &amp; Jerry&#x27;s &lt;b&gt;"));
    assert!(mail.text.contains(r#"<script>alert("x")</script> & more"#));
    assert!(mail
        .subject
        .contains(r#"<script>alert("x")</script> & more"#));
}

#[test]
fn subjects_are_one_line_whatever_the_data() {
    let mut ctx = MailContext::minimal(Kind::TierUp);
    ctx.tier = Some("Gold\r\nBcc: evil@example.com\u{1b}".into());
    let mail = render(Kind::TierUp, Locale::En, &Brand::sample(), &ctx, None).unwrap();
    assert_eq!(
        mail.subject,
        "You're now Gold Bcc: evil@example.com at Cedar & Sage"
    );
}

#[test]
fn the_accent_colour_is_a_colour_and_the_button_stays_readable() {
    let injected = Brand {
        accent_color: "red;background:url(https://evil.example/x)".into(),
        ..Brand::sample()
    };
    let mail = render(
        Kind::Welcome,
        Locale::En,
        &injected,
        &MailContext::default(),
        None,
    )
    .unwrap();
    assert!(!mail.html.contains("evil.example"));
    assert!(mail.html.contains("background-color:#5a31f4;"));
    assert!(mail.html.contains("color:#ffffff;"));
    let yellow = Brand {
        accent_color: "#FFEE00".into(),
        ..Brand::sample()
    };
    let mail = render(
        Kind::Welcome,
        Locale::En,
        &yellow,
        &MailContext::default(),
        None,
    )
    .unwrap();
    assert!(mail.html.contains("background-color:#ffee00;"));
    assert!(mail.html.contains("color:#000000;"), "black text on yellow");
}

#[test]
fn transactional_mail_never_shows_an_unsubscribe_link() {
    let ctx = MailContext::sample(Locale::En);
    let mail = render(Kind::RewardIssued, Locale::En, &Brand::sample(), &ctx, None).unwrap();
    assert!(!mail.html.contains("unsubscribe"));
    assert!(mail.text.contains("because you asked for it"));
}

#[test]
fn the_open_pixel_is_there_only_when_tracking_is_on() {
    let mut ctx = MailContext::sample(Locale::En);
    let mail = render(Kind::Birthday, Locale::En, &Brand::sample(), &ctx, None).unwrap();
    assert!(mail.html.contains(
        r#"<img src="https://boomerang.example/email/open?t=sample" width="1" height="1""#
    ));
    ctx.open_pixel_url = None;
    let mail = render(Kind::Birthday, Locale::En, &Brand::sample(), &ctx, None).unwrap();
    assert!(!mail.html.contains("email/open"));
}

#[test]
fn an_owner_template_renders_inside_the_layout() {
    let owner = over(
        "{{ first_name }}, come back for {{ reward_title }}",
        "{% import \"parts.html\" as ui %}<p>Hello {{ first_name }}</p>\n{{ ui.code(reward_code) }}",
        "Hello {{ first_name }}, use {{ reward_code }} by {{ reward_expires_on|date }}.",
    );
    validate_override(Kind::WinBack, Locale::En, &owner).unwrap();
    let ctx = MailContext::sample(Locale::En);
    let mail = render(
        Kind::WinBack,
        Locale::En,
        &Brand::sample(),
        &ctx,
        Some(&owner),
    )
    .unwrap();
    assert_eq!(mail.subject, "Ada, come back for $5 off your next order");
    assert!(mail.html.contains("<p>Hello Ada</p>"));
    assert!(mail.html.contains("BOOM-7K2Q</td>"));
    assert!(
        mail.html.contains("email/unsubscribe?t=sample"),
        "the footer stays"
    );
    assert!(mail
        .text
        .starts_with("Hello Ada, use BOOM-7K2Q by 15 January 2027.\n\n-- \n"));
    assert!(mail
        .text
        .contains("Unsubscribe: https://boomerang.example/email/unsubscribe?t=sample"));
}

#[test]
fn an_unknown_variable_is_refused_naming_the_template_part_and_line() {
    let owner = over("Hi", "<p>Hello</p>\n<p>{{ fist_name }}</p>", "Hello");
    let err = validate_override(Kind::WinBack, Locale::Ar, &owner).unwrap_err();
    assert_eq!(err.template, "emails.templates.win_back.ar.html");
    assert_eq!(err.line, Some(2));
    assert!(err.reason.contains("`fist_name`"), "{}", err.reason);
    assert_eq!(
        err.to_string(),
        "emails.templates.win_back.ar.html, line 2: unknown variable `fist_name`"
    );
    // An unknown attribute of a known variable is caught too.
    let owner = over("Hi", "<p>Hello</p>", "Hello\n\n{{ brand.shop_phone }}");
    let err = validate_override(Kind::Welcome, Locale::En, &owner).unwrap_err();
    assert_eq!(
        (err.template.as_str(), err.line),
        ("emails.templates.welcome.en.text", Some(3))
    );
    // Sending forgives what validation refuses: the mail still goes out.
    let owner = over("Hi {{ fist_name }}", "<p>Hello</p>", "Hello");
    let mail = render(
        Kind::Welcome,
        Locale::En,
        &Brand::sample(),
        &MailContext::default(),
        Some(&owner),
    );
    assert_eq!(mail.unwrap().subject, "Hi");
}

#[test]
fn bad_syntax_is_refused_naming_the_template_part_and_line() {
    let owner = over(
        "Hi",
        "<p>Hello</p>",
        "Line one\nLine two\n{% if points %}no end",
    );
    let err = validate_override(Kind::PointsEarned, Locale::En, &owner).unwrap_err();
    assert_eq!(err.template, "emails.templates.points_earned.en.text");
    assert_eq!(err.line, Some(3));
    assert!(err.reason.starts_with("syntax error"), "{}", err.reason);

    let owner = over("Your {{ points }", "<p>Hello</p>", "Hello");
    let err = validate_override(Kind::PointsEarned, Locale::En, &owner).unwrap_err();
    assert_eq!(
        (err.template.as_str(), err.line),
        ("emails.templates.points_earned.en.subject", Some(1))
    );
}

#[test]
fn an_owner_template_must_work_with_the_least_a_kind_carries() {
    // `tier_progress` is absent from a minimal tier_at_risk mail: string methods on none fail.
    let owner = over(
        "Keep {{ tier }}",
        "<p>{{ tier_progress.upper() }}</p>",
        "Keep it",
    );
    let err = validate_override(Kind::TierAtRisk, Locale::En, &owner).unwrap_err();
    assert_eq!(err.template, "emails.templates.tier_at_risk.en.html");
    let empty_subject = over("{% if false %}x{% endif %}", "<p>Hi</p>", "Hi");
    let err = validate_override(Kind::Welcome, Locale::En, &empty_subject).unwrap_err();
    assert_eq!(err.template, "emails.templates.welcome.en.subject");
}

#[test]
fn a_runaway_owner_template_is_stopped() {
    let owner = over(
        "Hi",
        "{% for a in range(1000) %}{% for b in range(1000) %}.{% endfor %}{% endfor %}",
        "Hi",
    );
    let err = validate_override(Kind::Welcome, Locale::En, &owner).unwrap_err();
    assert_eq!(err.template, "emails.templates.welcome.en.html");
    assert!(err.reason.contains("too long"), "{}", err.reason);
    let sent = render(
        Kind::Welcome,
        Locale::En,
        &Brand::sample(),
        &MailContext::default(),
        Some(&owner),
    );
    assert!(matches!(sent, Err(RenderError::Override(_))));
}
