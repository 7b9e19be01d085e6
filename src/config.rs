//! Configuration from the environment (and an optional `.env`), one field per variable of
//! CONTRACT.md. A wrong value fails start-up with one line naming the variable; secret values are
//! held in `SecretString` and never printed.

use std::net::ToSocketAddrs;
use std::path::PathBuf;

use secrecy::SecretString;

use crate::db::DatabaseUrl;

mod bigcommerce;
pub use bigcommerce::BigCommerceConfig;

/// The demo app credentials used when `SHOPIFY_API_KEY`/`SHOPIFY_API_SECRET` are unset. They are
/// public on purpose: the README's signed test webhook uses them.
pub const DEMO_SHOPIFY_API_KEY: &str = "boomerang-demo-key";
pub const DEMO_SHOPIFY_API_SECRET: &str = "boomerang-demo-secret";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/boomerang.sqlite3";

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// The Shopify app's credentials and API settings.
#[derive(Debug, Clone)]
pub struct ShopifyConfig {
    /// The app's client id (`aud` of session tokens).
    pub api_key: String,
    /// The client secret: webhook HMAC, session tokens, app-proxy signatures.
    pub api_secret: SecretString,
    /// The secret before a rotation, accepted too until it is removed (Shopify switches within 1 h).
    pub previous_api_secret: Option<SecretString>,
    /// Admin API version used for calls (`YYYY-MM`).
    pub api_version: String,
    /// True when the public demo credentials are in use.
    pub using_demo_credentials: bool,
    /// `SHOPIFY_API_BASE`: base URL of OAuth and Admin API calls, `{shop}` replaced by the shop
    /// domain (default `https://{shop}`; tests point it at a local fake). A shop's own
    /// `api_base` (from `shop add --api-base`) wins over it.
    pub api_base: String,
    /// `SHOPIFY_SCOPES`: the access scopes asked for at install (comma-separated; the same list
    /// as `app-extension/shopify.app.toml`).
    pub scopes: Vec<String>,
}

/// The scopes the app needs: orders to award points (all of them for the history backfill),
/// customers written for tier tags, discounts for reward codes, the app proxy for the widget.
pub const DEFAULT_SHOPIFY_SCOPES: &str =
    "read_orders,read_all_orders,write_customers,write_discounts,write_app_proxy";

/// Everything the process reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// `DATABASE_POOL_SIZE`: connections per process.
    pub database_pool_size: u32,
    /// `BIND`: listen address.
    pub bind: String,
    /// `PUBLIC_URL`: base of links in e-mails and redirects, without a trailing slash.
    pub public_url: String,
    pub shopify: ShopifyConfig,
    pub bigcommerce: BigCommerceConfig,
    /// `SMTP_URL`: unset means mail is written as `.eml` files to `outbox_dir`.
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`: default sender.
    pub mail_from: String,
    /// `APP_SECRET`: unset means one is generated once into `{DATA_DIR}/app_secret` (SQLite only:
    /// several PostgreSQL instances must share one, so it is required there).
    pub app_secret: Option<SecretString>,
    /// `APP_SECRET_PREVIOUS`: secrets `APP_SECRET` replaced (comma-separated). Values sealed and
    /// links signed with them are still accepted; start-up re-seals stored values under the new one.
    pub app_secret_previous: Vec<SecretString>,
    /// `RUN_JOBS`: run the scheduler and job workers in this process.
    pub run_jobs: bool,
    /// `MAX_BODY_BYTES`: largest accepted request body.
    pub max_body_bytes: usize,
    /// `BODY_READ_TIMEOUT_SECS`: how long a client may take to send a request body, so one
    /// that announces a body and never sends it cannot hold a connection forever.
    pub body_read_timeout: std::time::Duration,
    /// `DATA_DIR`: where the file mail outbox lives (`{DATA_DIR}/outbox`).
    pub data_dir: PathBuf,
    /// `WEBHOOK_RETENTION_DAYS`: raw bodies of applied webhooks are erased after this many days
    /// (0..=3650; `0` erases them at the next retention run).
    pub webhook_retention_days: u32,
    /// `JOB_LEASE_SECS`: how long a claimed job is held without a heartbeat before another
    /// instance takes it over (an instance that crashed mid-job); 1..=3600, 300 by default.
    pub job_lease: chrono::Duration,
    /// `JOB_WORKERS`: jobs this instance runs side by side when `RUN_JOBS` is on; 1..=64, 4 by
    /// default (see `jobs::run_pending_concurrently`).
    pub job_workers: usize,
    /// `INBOX_APPLIERS`: threads applying stored webhooks side by side in this instance; 1..=16.
    /// Unset: one on SQLite (one writer at a time anyway), [`PG_INBOX_APPLIERS`] on PostgreSQL.
    pub inbox_appliers: Option<usize>,
}

/// Inbox appliers per instance on PostgreSQL unless `INBOX_APPLIERS` says otherwise.
pub const PG_INBOX_APPLIERS: usize = 2;

impl Config {
    /// Reads the process environment (after `.env`, which `main` loads).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let database_url = {
            let raw = env.string_or("DATABASE_URL", DEFAULT_DATABASE_URL);
            DatabaseUrl::parse(&raw).map_err(|message| ConfigError {
                variable: "DATABASE_URL",
                message,
            })?
        };
        let bind = env.string_or("BIND", "127.0.0.1:8080");
        if bind
            .to_socket_addrs()
            .map(|mut a| a.next().is_none())
            .unwrap_or(true)
        {
            return Err(ConfigError {
                variable: "BIND",
                message: format!("{bind:?} is not an address to listen on; expected HOST:PORT such as 0.0.0.0:8080"),
            });
        }
        let public_url = env.string_or("PUBLIC_URL", "http://localhost:8080");
        match url::Url::parse(&public_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(ConfigError {
                    variable: "PUBLIC_URL",
                    message: format!("{public_url:?} is not an absolute http(s) URL"),
                })
            }
        }
        let api_key = env.optional("SHOPIFY_API_KEY");
        let api_secret = env.optional("SHOPIFY_API_SECRET");
        if api_key.is_some() != api_secret.is_some() {
            let missing = if api_key.is_none() {
                "SHOPIFY_API_KEY"
            } else {
                "SHOPIFY_API_SECRET"
            };
            return Err(ConfigError {
                variable: missing,
                message: "SHOPIFY_API_KEY and SHOPIFY_API_SECRET must be set together".into(),
            });
        }
        let using_demo_credentials = api_key.is_none();
        let api_version = env.string_or("SHOPIFY_API_VERSION", "2025-10");
        if !is_api_version(&api_version) {
            return Err(ConfigError {
                variable: "SHOPIFY_API_VERSION",
                message: format!("{api_version:?} is not a Shopify API version like 2025-10"),
            });
        }
        let shopify = ShopifyConfig {
            api_key: api_key.unwrap_or_else(|| DEMO_SHOPIFY_API_KEY.into()),
            api_secret: api_secret
                .unwrap_or_else(|| DEMO_SHOPIFY_API_SECRET.into())
                .into(),
            previous_api_secret: env.optional("SHOPIFY_API_SECRET_PREVIOUS").map(Into::into),
            api_version,
            using_demo_credentials,
            api_base: env.shopify_api_base()?,
            scopes: env
                .string_or("SHOPIFY_SCOPES", DEFAULT_SHOPIFY_SCOPES)
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        };
        let smtp_url = env.optional("SMTP_URL");
        if let Some(smtp) = &smtp_url {
            if !(smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
                // The value may hold a password: name the problem, not the value.
                return Err(ConfigError {
                    variable: "SMTP_URL",
                    message: "expected smtp://USER:PASS@HOST:PORT or smtps://…".into(),
                });
            }
        }
        let mail_from = env.string_or("MAIL_FROM", "Boomerang <rewards@localhost>");
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError {
                variable: "MAIL_FROM",
                message: format!(
                    "{mail_from:?} is not a mailbox like \"Shop <rewards@shop.example>\""
                ),
            });
        }
        let app_secret = env.optional("APP_SECRET");
        if app_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(ConfigError {
                variable: "APP_SECRET",
                message: "must be at least 32 characters (e.g. `openssl rand -hex 32`)".into(),
            });
        }
        if app_secret.is_none() && database_url.backend() == crate::db::Backend::Postgres {
            return Err(ConfigError {
                variable: "APP_SECRET",
                message: "required with PostgreSQL (every instance must share it; e.g. `openssl rand -hex 32`)".into(),
            });
        }
        let app_secret_previous: Vec<String> = env
            .optional("APP_SECRET_PREVIOUS")
            .map(|list| {
                list.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if app_secret_previous.iter().any(|s| s.len() < 32) {
            return Err(ConfigError {
                variable: "APP_SECRET_PREVIOUS",
                message: "each comma-separated secret must be at least 32 characters".into(),
            });
        }
        let default_pool = match database_url.backend() {
            // Readers run beside the one writer in WAL mode; writers wait in-process.
            crate::db::Backend::Sqlite => 16,
            crate::db::Backend::Postgres => 16,
        };
        Ok(Self {
            database_pool_size: env.parsed_or("DATABASE_POOL_SIZE", default_pool, |n: &u32| {
                (1..=512).contains(n)
            })?,
            database_url,
            bind,
            public_url: public_url.trim_end_matches('/').to_owned(),
            shopify,
            bigcommerce: BigCommerceConfig::read(&env)?,
            smtp_url: smtp_url.map(Into::into),
            mail_from,
            app_secret: app_secret.map(Into::into),
            app_secret_previous: app_secret_previous.into_iter().map(Into::into).collect(),
            run_jobs: env.bool_or("RUN_JOBS", true)?,
            max_body_bytes: env.parsed_or("MAX_BODY_BYTES", 2 * 1024 * 1024, |n: &usize| {
                (1024..=64 * 1024 * 1024).contains(n)
            })?,
            body_read_timeout: std::time::Duration::from_secs(env.parsed_or(
                "BODY_READ_TIMEOUT_SECS",
                30,
                |n: &u64| (1..=600).contains(n),
            )?),
            data_dir: PathBuf::from(env.string_or("DATA_DIR", "data")),
            webhook_retention_days: env.webhook_retention_days()?,
            job_lease: chrono::Duration::seconds(env.parsed_or(
                "JOB_LEASE_SECS",
                300,
                |n: &i64| (1..=3600).contains(n),
            )?),
            job_workers: env.parsed_or("JOB_WORKERS", 4, |n: &usize| (1..=64).contains(n))?,
            inbox_appliers: match env.optional("INBOX_APPLIERS") {
                None => None,
                Some(_) => {
                    Some(env.parsed_or("INBOX_APPLIERS", 1, |n: &usize| (1..=16).contains(n))?)
                }
            },
        })
    }
}

impl Config {
    /// Why this instance must not run on the public demo Shopify credentials, if it must not.
    /// Anyone can sign webhooks, session tokens and app-proxy requests with them, so they may
    /// only serve the demo shop on a machine of one's own: SQLite, a loopback address, and no
    /// real Shopify shop (`real_shopify_shops`). Other platforms' shops do not rely on them.
    pub fn demo_credentials_refusal(&self, real_shopify_shops: i64) -> Option<String> {
        if !self.shopify.using_demo_credentials {
            return None;
        }
        let reason = if self.database_url.backend() == crate::db::Backend::Postgres {
            "with a PostgreSQL database".to_owned()
        } else if !is_loopback(&self.bind) {
            format!("on BIND={}, not a loopback address", self.bind)
        } else if real_shopify_shops > 0 {
            format!("beside {real_shopify_shops} Shopify shop(s) other than the demo shop")
        } else {
            return None;
        };
        Some(format!(
            "refusing to run on the public demo Shopify credentials (anyone can sign webhooks and session tokens with them) {reason}: set SHOPIFY_API_KEY and SHOPIFY_API_SECRET to your app's client id and secret"
        ))
    }
}

/// True when every address `bind` resolves to is a loopback one.
fn is_loopback(bind: &str) -> bool {
    bind.to_socket_addrs().is_ok_and(|addrs| {
        let addrs: Vec<_> = addrs.collect();
        !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
    })
}

fn is_api_version(v: &str) -> bool {
    let bytes = v.as_bytes();
    bytes.len() == 7
        && bytes.get(4) == Some(&b'-')
        && v.chars()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
}

/// Helpers that name the variable in every error (the registry service's `var_parsed` idea).
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// A set, non-blank value.
    fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn string_or(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    fn parsed_or<T: std::str::FromStr + std::fmt::Display>(
        &self,
        name: &'static str,
        default: T,
        valid: impl Fn(&T) -> bool,
    ) -> Result<T, ConfigError> {
        let Some(raw) = self.optional(name) else {
            return Ok(default);
        };
        match raw.parse::<T>() {
            Ok(v) if valid(&v) => Ok(v),
            _ => Err(ConfigError {
                variable: name,
                message: format!("{raw:?} is not a valid value (default {default})"),
            }),
        }
    }

    /// `WEBHOOK_RETENTION_DAYS`, with the allowed range in the error (ten years at most: a
    /// typo like 300000 should not silently keep bodies forever).
    fn webhook_retention_days(&self) -> Result<u32, ConfigError> {
        let Some(raw) = self.optional("WEBHOOK_RETENTION_DAYS") else {
            return Ok(30);
        };
        match raw.trim().parse::<u32>() {
            Ok(days) if days <= 3650 => Ok(days),
            _ => Err(ConfigError {
                variable: "WEBHOOK_RETENTION_DAYS",
                message: format!("{raw:?} is not a whole number of days from 0 to 3650"),
            }),
        }
    }

    /// `SHOPIFY_API_BASE`: an http(s) URL once `{shop}` is filled in.
    fn shopify_api_base(&self) -> Result<String, ConfigError> {
        let base = self.string_or("SHOPIFY_API_BASE", "https://{shop}");
        match url::Url::parse(&base.replace("{shop}", "shop.myshopify.com")) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(base.trim_end_matches('/').to_owned())
            }
            _ => Err(ConfigError {
                variable: "SHOPIFY_API_BASE",
                message: format!("{base:?} is not an http(s) URL like https://{{shop}}"),
            }),
        }
    }

    fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError {
                variable: name,
                message: format!("{v:?} is not true or false"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = config(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.database_url,
            DatabaseUrl::Sqlite("data/boomerang.sqlite3".into())
        );
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://localhost:8080");
        assert!(c.shopify.using_demo_credentials);
        assert_eq!(
            c.shopify.api_secret.expose_secret(),
            DEMO_SHOPIFY_API_SECRET
        );
        assert!(c.smtp_url.is_none());
        assert!(c.run_jobs);
        assert_eq!(c.mail_from, "Boomerang <rewards@localhost>");
        assert_eq!(c.webhook_retention_days, 30);
        assert_eq!(c.job_lease, chrono::Duration::minutes(5));
        let short = config(&[("JOB_LEASE_SECS", "2")]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(short.job_lease, chrono::Duration::seconds(2));
        assert_eq!(c.job_workers, 4);
        assert!(config(&[("JOB_WORKERS", "0")]).is_err());
        assert!(config(&[("JOB_WORKERS", "65")]).is_err());
        assert_eq!(c.inbox_appliers, None);
        let three = config(&[("INBOX_APPLIERS", "3")]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(three.inbox_appliers, Some(3));
        assert!(config(&[("INBOX_APPLIERS", "0")]).is_err());
        assert!(config(&[("INBOX_APPLIERS", "17")]).is_err());
    }

    #[test]
    fn webhook_retention_days_accepts_0_to_3650_and_names_the_range_otherwise() {
        for (raw, days) in [("0", 0), ("7", 7), ("3650", 3650)] {
            let c = config(&[("WEBHOOK_RETENTION_DAYS", raw)]).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.webhook_retention_days, days);
        }
        for raw in ["3651", "-1", "30d", "1.5"] {
            let err = config(&[("WEBHOOK_RETENTION_DAYS", raw)])
                .err()
                .unwrap_or_else(|| panic!("{raw:?} accepted"));
            assert_eq!(err.variable, "WEBHOOK_RETENTION_DAYS");
            assert!(err.message.contains("0 to 3650"), "{err}");
        }
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&str, &str)] = &[
            ("DATABASE_URL", "mysql://x"),
            ("BIND", "not an address"),
            ("PUBLIC_URL", "localhost"),
            ("SMTP_URL", "http://user:hunter2@x"),
            ("MAIL_FROM", "not a mailbox"),
            ("APP_SECRET", "short"),
            ("RUN_JOBS", "maybe"),
            ("DATABASE_POOL_SIZE", "0"),
            ("SHOPIFY_API_VERSION", "latest"),
            ("JOB_LEASE_SECS", "0"),
        ];
        for (name, value) in cases {
            let err = config(&[(name, value)])
                .err()
                .unwrap_or_else(|| panic!("{name} accepted"));
            assert_eq!(err.variable, *name);
            assert!(err
                .to_string()
                .starts_with(&format!("invalid configuration: {name}: ")));
            assert!(!err.to_string().contains("hunter2"), "secret leaked: {err}");
        }
    }

    #[test]
    fn shopify_credentials_come_in_pairs() {
        let err = config(&[("SHOPIFY_API_KEY", "k")])
            .err()
            .map(|e| e.variable);
        assert_eq!(err, Some("SHOPIFY_API_SECRET"));
        let c = config(&[("SHOPIFY_API_KEY", "k"), ("SHOPIFY_API_SECRET", "s")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.shopify.using_demo_credentials);
        assert_eq!(c.shopify.api_key, "k");
    }

    #[test]
    fn shopify_api_base_defaults_to_the_shop_and_must_be_a_url() {
        let c = config(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.shopify.api_base, "https://{shop}");
        assert!(c.shopify.scopes.contains(&"read_orders".to_owned()));
        let c = config(&[("SHOPIFY_API_BASE", "http://127.0.0.1:9/")]).unwrap();
        assert_eq!(c.shopify.api_base, "http://127.0.0.1:9");
        let err = config(&[("SHOPIFY_API_BASE", "{shop}")])
            .err()
            .map(|e| e.variable);
        assert_eq!(err, Some("SHOPIFY_API_BASE"));
    }

    #[test]
    fn postgres_requires_app_secret_and_previous_secrets_are_a_list() {
        let err = config(&[("DATABASE_URL", "postgres://u@localhost/db")])
            .err()
            .map(|e| e.variable);
        assert_eq!(err, Some("APP_SECRET"));
        let long = "a".repeat(32);
        let c = config(&[
            ("DATABASE_URL", "postgres://u@localhost/db"),
            ("APP_SECRET", &long),
            (
                "APP_SECRET_PREVIOUS",
                &format!("{long}, {} ,", "b".repeat(40)),
            ),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.app_secret_previous.len(), 2);
        let err = config(&[("APP_SECRET_PREVIOUS", &format!("{long},short"))])
            .err()
            .map(|e| e.variable);
        assert_eq!(err, Some("APP_SECRET_PREVIOUS"));
    }

    #[test]
    fn demo_credentials_are_refused_for_postgres_a_public_bind_or_a_real_shop() {
        let local = config(&[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(local.demo_credentials_refusal(0), None);
        let refusal = local.demo_credentials_refusal(1).unwrap_or_default();
        assert!(
            refusal.contains("1 Shopify shop(s)") && refusal.contains("SHOPIFY_API_SECRET"),
            "{refusal}"
        );
        assert_eq!(refusal.lines().count(), 1);
        let public = config(&[("BIND", "0.0.0.0:8080")]).unwrap_or_else(|e| panic!("{e}"));
        assert!(public
            .demo_credentials_refusal(0)
            .is_some_and(|r| r.contains("BIND=0.0.0.0:8080")));
        let long = "a".repeat(32);
        let pg = config(&[
            ("DATABASE_URL", "postgres://u@localhost/db"),
            ("APP_SECRET", &long),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(pg
            .demo_credentials_refusal(0)
            .is_some_and(|r| r.contains("PostgreSQL")));
        let real = config(&[
            ("SHOPIFY_API_KEY", "k"),
            ("SHOPIFY_API_SECRET", "s"),
            ("BIND", "0.0.0.0:8080"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(real.demo_credentials_refusal(5), None);
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = config(&[
            ("SHOPIFY_API_KEY", "k"),
            ("SHOPIFY_API_SECRET", "topsecretvalue"),
            ("SMTP_URL", "smtp://u:smtppassword@mail:587"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("topsecretvalue") && !shown.contains("smtppassword"),
            "{shown}"
        );
    }
}
