//! The command line: `serve` (default), `migrate` and `demo` here; `shop add|show|login-link`
//! in `shops.rs`; `jobs run-once` in `jobs.rs` and `jobs failed|retry|dismiss` in
//! `dead_letters.rs`; `seed-customers` and `segment-customers` in `retention.rs`.

mod dead_letters;
mod jobs;
mod retention;
mod shops;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::{prepare, Application};

pub use jobs::JobsCommand;
pub use retention::{SeedArgs, SegmentArgs};
pub use shops::{PlatformArg, ShopAddArgs, ShopCommand, ShopShowArgs};

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
        } => shops::add(config, *args).await,
        Command::Shop {
            command: ShopCommand::Show(args),
        } => shops::show(config, args).await,
        Command::Shop {
            command: ShopCommand::LoginLink(args),
        } => shops::login_link(config, args).await,
        Command::Jobs {
            command: JobsCommand::RunOnce,
        } => jobs::run_once(config).await,
        Command::Jobs {
            command: JobsCommand::Failed(args),
        } => dead_letters::failed(config, args).await,
        Command::Jobs {
            command: JobsCommand::Retry(args),
        } => dead_letters::retry(config, args).await,
        Command::Jobs {
            command: JobsCommand::Dismiss(args),
        } => dead_letters::dismiss(config, args).await,
        Command::SeedCustomers(args) => retention::seed_customers(config, args).await,
        Command::SegmentCustomers(args) => retention::segment_customers(config, args).await,
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

/// Runs blocking work (database, migrations) off the async runtime's threads.
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
