//! The command line: `serve` (default), `migrate`, `shop add|show`, `jobs run-once|failed|retry|
//! dismiss`, `demo`, `seed-customers`, `segment-customers`.

mod dead_letters;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::db::types::Platform;
use crate::db::write_transaction;
use crate::services::shops::{add_shop, find_shop, ShopSpec, ShopView};
use crate::startup::{prepare, Application};

/// Boomerang: loyalty points, rewards, tiers, referrals and win-back for online shops.
#[derive(Debug, Parser)]
#[command(name = "boomerang", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app (the default): runs migrations, then listens on BIND.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage shops.
    Shop {
        #[command(subcommand)]
        command: ShopCommand,
    },
    /// Background jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Create the demo shop and its customers (idempotent).
    Demo,
    /// Seed a shop (created if missing) with customers, ~3 years of orders and their purchase
    /// facts, into a fresh database: for measuring the daily segmentation at scale.
    SeedCustomers(SeedArgs),
    /// Run a shop's daily segmentation now and print what it did and how long it took.
    SegmentCustomers(SegmentArgs),
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// The shop's domain.
    #[arg(long)]
    pub domain: String,
    /// How many customers.
    #[arg(long, default_value_t = 1_000_000)]
    pub count: u64,
    /// The random seed (the same seed makes the same customers).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also switch win-back on for the shop (the contract's example: lapsed after 90 days, two
    /// steps, a 10 % hold-out, two subject variants), so the daily pass selects lapsed customers.
    #[arg(long)]
    pub win_back: bool,
}

#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// The shop's domain.
    #[arg(long)]
    pub domain: String,
}

#[derive(Debug, Subcommand)]
pub enum ShopCommand {
    /// Register a shop.
    Add(Box<ShopAddArgs>),
    /// Print a shop as JSON, with the widget secret its storefront signs customers with.
    Show(ShopShowArgs),
    /// Print a one-time link that signs the owner in to the admin UI (for 15 minutes).
    LoginLink(ShopShowArgs),
}

#[derive(Debug, Args)]
pub struct ShopShowArgs {
    /// The shop's domain.
    #[arg(long)]
    pub domain: String,
    /// The shop's platform, when several shops share the domain.
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run every due job once, then exit.
    RunOnce,
    /// List the background tasks that failed for good (all shops, or one).
    Failed(dead_letters::FailedArgs),
    /// Queue a failed task again, due now, its attempts reset.
    Retry(dead_letters::JobIdArgs),
    /// Give up on a failed task (retention prunes it later).
    Dismiss(dead_letters::JobIdArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlatformArg {
    Shopify,
    Woocommerce,
    Bigcommerce,
}

impl From<PlatformArg> for Platform {
    fn from(p: PlatformArg) -> Self {
        match p {
            PlatformArg::Shopify => Platform::Shopify,
            PlatformArg::Woocommerce => Platform::WooCommerce,
            PlatformArg::Bigcommerce => Platform::BigCommerce,
        }
    }
}

#[derive(Debug, Args)]
pub struct ShopAddArgs {
    /// The shop's platform.
    #[arg(long, value_enum)]
    pub platform: PlatformArg,
    /// The shop's domain: your-shop.myshopify.com for Shopify, store-{hash} for BigCommerce,
    /// the site host otherwise.
    #[arg(long)]
    pub domain: String,
    /// Admin API access token (Shopify offline token; BigCommerce: the store API account's
    /// token, required), stored encrypted.
    #[arg(long)]
    pub access_token: Option<String>,
    /// Platform API base URL, to point the app at a proxy or a local fake (WooCommerce: the
    /// site URL, default https://DOMAIN; plain http only for a loopback host).
    #[arg(long)]
    pub api_base: Option<String>,
    /// Secret the shop signs its webhooks with (WooCommerce; BigCommerce: sent back in a
    /// header, generated when not given), stored encrypted.
    #[arg(long)]
    pub webhook_secret: Option<String>,
    /// REST API consumer key (WooCommerce), stored encrypted (sealed to this shop).
    #[arg(long, requires = "api_secret")]
    pub api_key: Option<String>,
    /// REST API consumer secret (WooCommerce), stored encrypted.
    #[arg(long, requires = "api_key")]
    pub api_secret: Option<String>,
    /// The shop's currency (ISO 4217).
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// The shop's IANA time zone.
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// The shop's default locale for the widget and e-mails.
    #[arg(long, default_value = "en")]
    pub locale: String,
}

/// Runs the parsed command. Errors are reported by `main` as one line.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let (db, _) = blocking(move || prepare(&config)).await??;
            println!("database {} is up to date", db.url().redacted());
            Ok(())
        }
        Command::Shop {
            command: ShopCommand::Add(args),
        } => shop_add(config, *args).await,
        Command::Shop {
            command: ShopCommand::Show(args),
        } => shop_show(config, args).await,
        Command::Shop {
            command: ShopCommand::LoginLink(args),
        } => shop_login_link(config, args).await,
        Command::Jobs {
            command: JobsCommand::RunOnce,
        } => {
            let api = crate::startup::shopify_client(&config)?;
            let webhook_retention_days = config.webhook_retention_days;
            let mail = crate::startup::mail_setup(&config)?;
            let oauth = crate::startup::shopify_oauth(&config)?;
            let api_base = config.shopify.api_base.clone();
            let bigcommerce_api_base = config.bigcommerce.api_base.clone();
            let (db, keys) = blocking(move || prepare(&config)).await??;
            let api =
                crate::services::install::tokens::with_refresh(api, &db, &keys, &oauth, &api_base);
            let ctx = crate::jobs::JobContext {
                keys,
                shopify: api,
                runtime: tokio::runtime::Handle::current(),
                webhook_retention_days,
                mail,
                bigcommerce_api_base,
            };
            crate::scheduler::periodic(&db).await?;
            let report = crate::jobs::run_pending(&db, &ctx).await?;
            println!(
                "jobs: {} done, {} to retry, {} failed",
                report.done, report.retried, report.failed
            );
            Ok(())
        }
        Command::Jobs {
            command: JobsCommand::Failed(args),
        } => dead_letters::failed(config, args).await,
        Command::Jobs {
            command: JobsCommand::Retry(args),
        } => dead_letters::retry(config, args).await,
        Command::Jobs {
            command: JobsCommand::Dismiss(args),
        } => dead_letters::dismiss(config, args).await,
        Command::SeedCustomers(args) => seed_customers(config, args).await,
        Command::SegmentCustomers(args) => segment_customers(config, args).await,
        Command::Demo => {
            if !config.shopify.using_demo_credentials {
                anyhow::bail!("the demo shop runs only on the public demo credentials: unset SHOPIFY_API_KEY and SHOPIFY_API_SECRET (on a separate DATABASE_URL) to try it");
            }
            let shop = blocking(move || {
                let (db, keys) = prepare(&config)?;
                let mut conn = db.get()?;
                Ok::<_, anyhow::Error>(crate::services::demo::seed(&mut conn, &keys)?)
            })
            .await??;
            println!(
                "demo shop {} is ready (Shopify secret: {})",
                shop.domain,
                crate::config::DEMO_SHOPIFY_API_SECRET
            );
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Refused before anything is touched when the configuration alone says production.
    if let Some(refusal) = config.demo_credentials_refusal(0) {
        anyhow::bail!(refusal);
    }
    let backend = config.database_url.redacted();
    let bind = config.bind.clone();
    let app = Application::build(config).await?;
    let demo_credentials = app.state().config.shopify.using_demo_credentials;
    if demo_credentials {
        let db = app.state().db.clone();
        let real_shops = blocking(move || {
            let mut conn = db.get()?;
            Ok::<_, anyhow::Error>(crate::db::models::Shop::count_real_shopify(&mut conn)?)
        })
        .await??;
        if let Some(refusal) = app.state().config.demo_credentials_refusal(real_shops) {
            anyhow::bail!(refusal);
        }
        tracing::warn!(
            api_key = crate::config::DEMO_SHOPIFY_API_KEY,
            api_secret = crate::config::DEMO_SHOPIFY_API_SECRET,
            "using the public demo Shopify credentials (demo shop only, on this machine); set SHOPIFY_API_KEY and SHOPIFY_API_SECRET for a real shop"
        );
    }
    let public = app.state().config.public_url.clone();
    tracing::info!(database = %backend, %bind, port = app.port(), "Boomerang is listening");
    if demo_credentials {
        println!("Boomerang is listening on {bind} ({backend}). Open {public}/ — the demo storefront is {public}/demo");
    } else {
        println!("Boomerang is listening on {bind} ({backend}). Open {public}/");
    }
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shop_add(config: Config, args: ShopAddArgs) -> anyhow::Result<()> {
    if config.shopify.using_demo_credentials && matches!(args.platform, PlatformArg::Shopify) {
        anyhow::bail!("a Shopify shop needs your app's own credentials (with the public demo ones anyone can sign its webhooks): set SHOPIFY_API_KEY and SHOPIFY_API_SECRET to the app's client id and secret");
    }
    let public_url = config.public_url.clone();
    let setup_config = config.clone();
    let added = blocking(move || {
        let (db, keys) = prepare(&config)?;
        let mut conn = db.get()?;
        let spec = ShopSpec {
            platform: Some(args.platform.into()),
            domain: args.domain,
            access_token: args.access_token,
            api_base: args.api_base,
            webhook_secret: args.webhook_secret,
            consumer_key: args.api_key,
            consumer_secret: args.api_secret,
            currency: Some(args.currency),
            timezone: Some(args.timezone),
            locale: Some(args.locale),
            is_demo: false,
        };
        let added = write_transaction(&mut conn, |c| add_shop(c, &keys, &spec))?;
        let widget_secret = keys.widget_secret(&added.shop.id);
        Ok::<_, anyhow::Error>((added, widget_secret, db, keys))
    })
    .await??;
    let (added, widget_secret, db, keys) = added;
    println!(
        "added {} shop {} (id {})",
        added.shop.platform, added.shop.domain, added.shop.id
    );
    if let Some(key) = added.admin_api_key {
        println!("admin API key (shown once; use as `Authorization: Bearer …`): {key}");
    }
    println!("widget secret (the storefront's customer digest key; `boomerang shop show` prints it again): {widget_secret}");
    if added.shop.platform == Platform::WooCommerce {
        let has_keys = added.shop.consumer_key_enc.is_some();
        print!(
            "{}",
            crate::platform::woocommerce::setup_steps(&public_url, &added.shop.domain, has_keys)
        );
    }
    if added.shop.platform == Platform::BigCommerce {
        let installer = crate::services::install::bigcommerce::BcInstaller::for_command_line(
            setup_config,
            db,
            keys,
        )?;
        print!("{}", installer.set_up_added_shop(&added.shop).await?);
    }
    Ok(())
}

async fn shop_show(config: Config, args: ShopShowArgs) -> anyhow::Result<()> {
    let view = blocking(move || {
        let (db, keys) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = find_shop(&mut conn, &args.domain, args.platform.map(Into::into))?;
        Ok::<_, anyhow::Error>(ShopView::of(&shop, &keys))
    })
    .await??;
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}

async fn shop_login_link(config: Config, args: ShopShowArgs) -> anyhow::Result<()> {
    let public_url = config.public_url.clone();
    let token = blocking(move || {
        let (db, _) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = find_shop(&mut conn, &args.domain, args.platform.map(Into::into))?;
        if shop.install_state != crate::db::types::InstallState::Installed {
            anyhow::bail!("shop {} is not installed", shop.domain);
        }
        Ok::<_, anyhow::Error>(crate::services::admin_sessions::create_link(
            &mut conn,
            &shop.id,
            crate::db::now(),
        )?)
    })
    .await??;
    println!(
        "{}/app/login?token={token}\n(works once, for {} minutes)",
        public_url.trim_end_matches('/'),
        crate::services::admin_sessions::LINK_TTL_MINUTES
    );
    Ok(())
}

async fn seed_customers(config: Config, args: SeedArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let seeded = blocking(move || {
        let (db, keys) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = match find_shop(&mut conn, &args.domain, None) {
            Ok(shop) => shop,
            Err(crate::services::shops::FindShopError::NotFound(_)) => {
                let spec = ShopSpec {
                    platform: Some(Platform::Shopify),
                    domain: args.domain.clone(),
                    ..Default::default()
                };
                write_transaction(&mut conn, |c| add_shop(c, &keys, &spec))?.shop
            }
            Err(e) => return Err(e.into()),
        };
        let now = crate::db::now();
        let today =
            crate::domain::calendar::local_date(crate::domain::calendar::zone(&shop.timezone), now);
        let seeded = crate::services::retention::seed::seed(
            &mut conn, &shop.id, args.count, args.seed, today, now,
        )?;
        crate::services::retention::backfill::mark_done(&mut conn, &shop.id, now)?;
        if args.win_back {
            crate::services::retention::seed::switch_on_win_back(&mut conn, &shop.id)?;
        }
        Ok::<_, anyhow::Error>(seeded)
    })
    .await??;
    println!(
        "seeded {} customers and {} orders in {:.1} s",
        seeded.customers,
        seeded.orders,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn segment_customers(config: Config, args: SegmentArgs) -> anyhow::Result<()> {
    let (report, elapsed) = blocking(move || {
        let (db, _) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = find_shop(&mut conn, &args.domain, None)?;
        let started = std::time::Instant::now();
        let daily = crate::services::retention::daily_pass(&mut conn, &shop, crate::db::now())?;
        Ok::<_, anyhow::Error>((daily, started.elapsed()))
    })
    .await??;
    let entered = report.entered_win_back;
    let report = report.segments;
    let counts: Vec<String> = crate::domain::retention::Segment::ALL
        .iter()
        .zip(report.counts)
        .map(|(s, n)| format!("{}={n}", s.as_str()))
        .collect();
    println!(
        "segmented {} customers in {:.2} s ({} changed; {entered} entered win-back; shop median gap {:?} days; {})",
        report.customers,
        elapsed.as_secs_f64(),
        report.changed,
        report.shop_median_gap,
        counts.join(" ")
    );
    Ok(())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await?)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
