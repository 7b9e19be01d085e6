//! `boomerang jobs run-once`, and the subcommands of `jobs` (the dead-letter ones are in
//! `dead_letters.rs`).

use clap::Subcommand;

use crate::config::Config;
use crate::startup::prepare;

use super::{blocking, dead_letters};

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

/// `jobs run-once`: queues the periodic jobs that are due, runs every due job once, and says
/// how it went.
pub async fn run_once(config: Config) -> anyhow::Result<()> {
    let api = crate::startup::shopify_client(&config)?;
    let webhook_retention_days = config.webhook_retention_days;
    let mail = crate::startup::mail_setup(&config)?;
    let oauth = crate::startup::shopify_oauth(&config)?;
    let api_base = config.shopify.api_base.clone();
    let bigcommerce_api_base = config.bigcommerce.api_base.clone();
    let (db, keys) = blocking(move || prepare(&config)).await??;
    let api = crate::services::install::tokens::with_refresh(api, &db, &keys, &oauth, &api_base);
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
