//! `boomerang jobs failed [--domain X]`, `jobs retry ID`, `jobs dismiss ID`: the operator's
//! view of the background tasks that failed for good, across shops or for one, and the same
//! retry and dismissal the owner has in `/app/jobs`.

use clap::Args;

use crate::config::Config;
use crate::db::models::Shop;
use crate::db::types::JobStatus;
use crate::db::{now, write_transaction};
use crate::http::admin::jobs::description;
use crate::queue::dead_letters::{self, Scope};
use crate::queue::Job;
use crate::services::shops::find_shop;
use crate::startup::prepare;

use super::{blocking, PlatformArg};

#[derive(Debug, Args)]
pub struct FailedArgs {
    /// Only this shop's tasks (its domain); every shop's without it.
    #[arg(long)]
    pub domain: Option<String>,
    /// The shop's platform, when several shops share the domain.
    #[arg(long, value_enum, requires = "domain")]
    pub platform: Option<PlatformArg>,
}

#[derive(Debug, Args)]
pub struct JobIdArgs {
    /// The task's id, as `jobs failed` lists it.
    pub id: String,
}

/// Lists the failed tasks, newest first: id, shop, kind, attempts, when it failed, why.
pub async fn failed(config: Config, args: FailedArgs) -> anyhow::Result<()> {
    let lines = blocking(move || {
        let (db, _) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = match &args.domain {
            Some(domain) => Some(find_shop(&mut conn, domain, args.platform.map(Into::into))?),
            None => None,
        };
        let scope = shop
            .as_ref()
            .map_or(Scope::AllShops, |s| Scope::Shop(&s.id));
        let mut lines = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) =
                dead_letters::page(&mut conn, scope, JobStatus::Failed, cursor.as_deref(), 250)?;
            for job in page {
                let domain = Shop::find(&mut conn, &job.shop_id)?.domain;
                lines.push(line(&job, &domain));
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok::<_, anyhow::Error>(lines)
    })
    .await??;
    if lines.is_empty() {
        println!("no failed background tasks");
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

fn line(job: &Job, domain: &str) -> String {
    format!(
        "{}  {domain}  {} ({})  {}/{} attempts  failed {}  {}",
        job.id,
        job.kind,
        description(&job.kind, "en"),
        job.attempts,
        job.max_attempts,
        job.updated_at.format("%Y-%m-%d %H:%M:%S UTC"),
        job.last_error.as_deref().unwrap_or("(no error recorded)")
    )
}

/// Queues a failed task again, due now, its attempts reset.
pub async fn retry(config: Config, args: JobIdArgs) -> anyhow::Result<()> {
    let job = blocking(move || {
        let (db, _) = prepare(&config)?;
        let mut conn = db.get()?;
        Ok::<_, anyhow::Error>(write_transaction(&mut conn, |c| {
            dead_letters::retry(
                c,
                Scope::AllShops,
                &args.id,
                crate::jobs::settled_by_giving_up,
                now(),
            )
        })?)
    })
    .await??;
    println!(
        "job {} ({}) queued again; a running instance (RUN_JOBS=true) or `boomerang jobs run-once` runs it",
        job.id, job.kind
    );
    Ok(())
}

/// Gives up on a failed task; retention prunes it with the finished ones.
pub async fn dismiss(config: Config, args: JobIdArgs) -> anyhow::Result<()> {
    let job = blocking(move || {
        let (db, _) = prepare(&config)?;
        let mut conn = db.get()?;
        Ok::<_, anyhow::Error>(write_transaction(&mut conn, |c| {
            dead_letters::dismiss(c, Scope::AllShops, &args.id, now())
        })?)
    })
    .await??;
    println!("job {} ({}) dismissed", job.id, job.kind);
    Ok(())
}
