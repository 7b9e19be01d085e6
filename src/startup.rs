//! Building and running the server: database, migrations, keys, demo shop, HTTP, scheduler.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_http::{error::DispatchError, HttpService, KeepAlive};
use actix_server::Server;
use actix_service::{fn_service, map_config, ServiceFactoryExt};
use actix_web::dev::AppConfig;
use actix_web::middleware::{from_fn, Compress, ErrorHandlers};
use actix_web::rt::net::TcpStream;
use actix_web::{web, App};
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use tracing_actix_web::TracingLogger;

use crate::config::Config;
use crate::crypto::{key_file, Keys};
use crate::db::models::{AppSetting, Shop};
use crate::db::schema::app_settings;
use crate::db::{write_transaction, Backend, Db, DbError};
use crate::error::{AppError, ErrorCode};
use crate::http::middleware::{json_errors, method_label, observe, RootSpan};
use crate::http::pages::Pages;
use crate::http::wire::Wire;
use crate::http::{body, rejections};
use crate::metrics::Metrics;
use crate::platform::shopify::api::{RetryPolicy, ShopifyApi};
use crate::platform::shopify::webhook::TOPICS;
use crate::platform::woocommerce::TOPICS as WOO_TOPICS;
use crate::services::ingest::Ingest;
use crate::services::sealed::reseal_all;
use crate::state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot seed the demo shop: {0}")]
    Demo(#[from] crate::services::shops::AddShopError),
    #[error(transparent)]
    KeyFile(#[from] key_file::KeyFileError),
    #[error("internal set-up failed: {0}")]
    Internal(String),
}

/// Where an earlier version kept the `APP_SECRET` it generated: beside the tokens it encrypts.
const LEGACY_SECRET_SETTING: &str = "app_secret";

/// Connects, migrates and derives the instance keys: everything the CLI commands share.
///
/// The instance secret is `APP_SECRET`, else the key file in `DATA_DIR` (made on first use). A
/// secret an earlier version generated into the database moves out: into the key file when
/// there is none yet, else it serves once as a previous key. Stored values sealed under a
/// previous key, or in the unbound legacy format, are then re-sealed under the current one.
pub fn prepare(config: &Config) -> Result<(Db, Keys), StartupError> {
    // Every command that runs jobs prepares first: the lease is the deployment's.
    crate::queue::set_lease(config.job_lease);
    let db = Db::connect(&config.database_url, config.database_pool_size)?;
    let applied = db.migrate()?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    let mut conn = db.get()?;
    let legacy = AppSetting::get(&mut conn, LEGACY_SECRET_SETTING).map_err(DbError::from)?;
    let secret = match &config.app_secret {
        Some(secret) => secret.clone(),
        None => key_file::load_or_create(&config.data_dir, legacy.as_deref())?,
    };
    let legacy = legacy
        .filter(|old| old != secret.expose_secret())
        .map(SecretString::from);
    let keys =
        Keys::derive(&secret).with_previous(config.app_secret_previous.iter().chain(&legacy));
    let report = write_transaction(&mut conn, |c| {
        let report = reseal_all(c, &keys)?;
        diesel::delete(app_settings::table.find(LEGACY_SECRET_SETTING)).execute(c)?;
        Ok::<_, diesel::result::Error>(report)
    })
    .map_err(DbError::from)?;
    if report.resealed > 0 {
        tracing::info!(
            resealed = report.resealed,
            "re-sealed stored secrets under the current APP_SECRET"
        );
    }
    if legacy.is_some() {
        tracing::warn!("the database held a generated APP_SECRET from an earlier version; its stored secrets were re-sealed under the current one and it was removed (widget secrets changed: `boomerang shop show` prints them)");
    }
    Ok((
        db,
        Keys::derive(&secret).with_previous(&config.app_secret_previous),
    ))
}

/// A built server, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Prepares the database (blocking work on a blocking thread) and binds the listener.
    /// On the first start of an empty SQLite database on the demo credentials, the demo shop is
    /// created.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let prepared_config = config.clone();
        let config_for_api = config.clone();
        let (db, keys) = tokio::task::spawn_blocking(move || {
            let (db, keys) = prepare(&prepared_config)?;
            if db.backend() == Backend::Sqlite && prepared_config.shopify.using_demo_credentials {
                let mut conn = db.get()?;
                if Shop::count(&mut conn).map_err(DbError::from)? == 0 {
                    let shop = crate::services::demo::seed(&mut conn, &keys)?;
                    tracing::info!(shop = %shop.domain, "created the demo shop");
                }
            }
            Ok::<_, StartupError>((db, keys))
        })
        .await
        .map_err(|e| StartupError::Internal(e.to_string()))??;
        let appliers = config.inbox_appliers.unwrap_or(match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => crate::config::PG_INBOX_APPLIERS,
        });
        let ingest = Ingest::start(db.clone(), appliers, |topic| {
            TOPICS.contains(&topic)
                || WOO_TOPICS.contains(&topic)
                || crate::platform::bigcommerce::payload::is_stored_topic(topic)
        })
        .map_err(|e| StartupError::Internal(e.to_string()))?;
        let oauth = shopify_oauth(&config_for_api)?;
        let state = AppState {
            db: db.clone(),
            ingest,
            config: Arc::new(config),
            keys: keys.clone(),
            metrics: Arc::new(Metrics::new().map_err(|e| StartupError::Internal(e.to_string()))?),
            pages: Arc::new(
                Pages::new(&config_for_api.shopify.api_key)
                    .map_err(|e| StartupError::Internal(e.to_string()))?,
            ),
            shopify: crate::services::install::tokens::with_refresh(
                shopify_client(&config_for_api)?,
                &db,
                &keys,
                &oauth,
                &config_for_api.shopify.api_base,
            ),
            shopify_oauth: oauth,
            claim_limits: Arc::default(),
            mail: mail_setup(&config_for_api)?,
        };
        let listener =
            TcpListener::bind(&state.config.bind).map_err(|source| StartupError::Bind {
                addr: state.config.bind.clone(),
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Internal(e.to_string()))?
            .port();
        let server = http_server(state.clone(), listener)?;
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM/SIGINT; in-flight requests are finished (up to 30 s) before exit.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let scheduler = self.state.config.run_jobs.then(|| {
            tokio::spawn(crate::scheduler::run(
                self.state.db.clone(),
                self.state.job_context(),
                self.state.config.job_workers,
            ))
        });
        let result = self.server.await;
        if let Some(handle) = scheduler {
            handle.abort();
        }
        result
    }
}

/// The Shopify API client with the configured version, `SHOPIFY_API_BASE` (and, for the
/// BigCommerce calls its pool carries, `BIGCOMMERCE_API_BASE`) and the default retry policy (expiring tokens are renewed once [`crate::services::install::tokens::with_refresh`]
/// gives it the database).
pub fn shopify_client(config: &Config) -> Result<ShopifyApi, StartupError> {
    ShopifyApi::new(&config.shopify.api_version, RetryPolicy::default())
        .map(|api| {
            api.with_api_base(&config.shopify.api_base)
                .with_bigcommerce_api_base(&config.bigcommerce.api_base)
        })
        .map_err(|e| StartupError::Internal(e.to_string()))
}

/// The client of Shopify's token endpoint, with the app's credentials.
pub fn shopify_oauth(
    config: &Config,
) -> Result<crate::platform::shopify::oauth::OAuthClient, StartupError> {
    crate::platform::shopify::oauth::OAuthClient::new(
        &config.shopify.api_key,
        config.shopify.api_secret.clone(),
    )
    .map_err(|e| StartupError::Internal(e.to_string()))
}

/// The HTTP server. Built from actix-server and actix-http rather than actix-web's
/// `HttpServer` so that each connection can be wrapped in [`Wire`], which gives the error
/// responses actix-http writes by itself (unreadable or oversized request heads) our JSON body.
/// The settings are those `HttpServer` used: default worker count, keep-alive and connection
/// limits, 1 s client disconnect timeout, half-closed connections allowed, graceful shutdown
/// on SIGTERM/SIGINT. Only the `AppConfig` differs: `HttpServer` put the listening address in
/// its host, the fallback of `ConnectionInfo::host` for requests without a `Host` header; the
/// app never reads it (only the peer address, which is passed on as before).
fn http_server(state: AppState, listener: TcpListener) -> Result<Server, StartupError> {
    let limit = state.config.max_body_bytes;
    let data = web::Data::new(state);
    let local_addr = listener
        .local_addr()
        .map_err(|e| StartupError::Internal(e.to_string()))?;
    let builder = Server::build().shutdown_timeout(30);
    let shutdown = builder.graceful_shutdown_signal();
    let server = builder
        .listen("boomerang", listener, move || {
            let data = data.clone();
            let shutdown = shutdown.clone();
            let app = App::new()
                .app_data(data)
                .app_data(web::PayloadConfig::new(limit))
                .app_data(rejections::json_config(limit))
                .app_data(rejections::query_config())
                .app_data(rejections::path_config())
                .configure(crate::routes::configure)
                .default_service(web::to(not_found))
                .wrap(from_fn(body::guard))
                .wrap(ErrorHandlers::new().default_handler(json_errors))
                .wrap(from_fn(observe))
                .wrap(Compress::default())
                .wrap(TracingLogger::<RootSpan>::new());
            let http = HttpService::build()
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(10))
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .local_addr(local_addr)
                .h1(map_config(app, |_| AppConfig::default()));
            fn_service(|stream: TcpStream| async move {
                let peer = stream.peer_addr().ok();
                Ok::<_, DispatchError>((Wire::new(stream), peer))
            })
            .and_then(http)
        })
        .map_err(|source| StartupError::Bind {
            addr: "listener".into(),
            source,
        })?
        .run();
    Ok(server)
}

/// Every request no route took: a path the app does not serve (404), or one it serves with
/// other methods (405).
async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, AppError> {
    if req.match_pattern().is_some() {
        return Err(AppError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{} is not allowed on {}",
                method_label(req.method()),
                req.path()
            ),
        ));
    }
    Err(AppError::not_found(format!(
        "no such endpoint: {} {}",
        method_label(req.method()),
        req.path()
    )))
}

/// The mail transport (`SMTP_URL`, else `.eml` files in `DATA_DIR/outbox/`) and the default
/// sender (`MAIL_FROM`).
pub fn mail_setup(config: &Config) -> Result<crate::services::mail::MailSetup, StartupError> {
    let mailer =
        crate::mail::transport::Mailer::from_config(config.smtp_url.as_ref(), &config.data_dir)
            .map_err(|e| StartupError::Internal(format!("mail transport: {e}")))?;
    tracing::info!(transport = %mailer.describe(), "mail");
    let default_from = config
        .mail_from
        .parse()
        .map_err(|e| StartupError::Internal(format!("MAIL_FROM: {e}")))?;
    Ok(crate::services::mail::MailSetup {
        mailer: Arc::new(mailer),
        default_from,
        public_url: config.public_url.clone(),
    })
}
