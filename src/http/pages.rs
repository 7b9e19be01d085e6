//! Server-rendered HTML pages (the newcomer's home page and the demo). Templates are embedded in
//! the binary, rendered with minijinja with HTML auto-escaping on.

use actix_web::HttpResponse;
use minijinja::Environment;

use crate::error::AppError;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("pages/templates/base.html")),
    ("home.html", include_str!("pages/templates/home.html")),
    (
        "demo_storefront.html",
        include_str!("pages/templates/demo_storefront.html"),
    ),
    (
        "demo_admin.html",
        include_str!("pages/templates/demo_admin.html"),
    ),
    (
        "demo_message.html",
        include_str!("pages/templates/demo_message.html"),
    ),
    (
        "unsubscribe.html",
        include_str!("pages/templates/unsubscribe.html"),
    ),
    (
        "referral_unknown.html",
        include_str!("pages/templates/referral_unknown.html"),
    ),
    ("nps.html", include_str!("pages/templates/nps.html")),
    (
        "demo_outbox.html",
        include_str!("pages/templates/demo_outbox.html"),
    ),
];

/// The compiled page templates.
#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// Renders `name` with `context` into an HTML response.
    pub fn render(&self, name: &str, context: minijinja::Value) -> Result<HttpResponse, AppError> {
        let html = self
            .env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(AppError::internal)?;
        Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}
