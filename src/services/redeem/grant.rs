//! Rewards given rather than bought (a tier's entry reward): a redemption of no points,
//! recorded in the caller's transaction with no ledger debit, whose code a job creates.
//!
//! The job takes the same create-or-recover path as a purchase ([`settle::create`]): if an
//! answer is lost, the job runs again with the same code, Shopify says the code is taken, and
//! the look-up finds the code the lost attempt made. Unlike a purchase, nobody waits for the
//! answer, so an outage is simply retried later; only a refusal fails the redemption.

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::crypto::Keys;
use crate::db::models::{Member, Redemption, Shop};
use crate::db::types::RedemptionStatus;
use crate::db::{write_transaction, DbConnection};
use crate::domain::rewards::Reward;
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::{PlatformApi, StoreApi};
use crate::queue::{self, Job, JobError, JobKind, JobSpec};
use crate::services::program::Program;

use super::settle::{self, Created};
use super::{credentials, new_redemption, redemption_of_job, refund, request};

/// Attempts before a grant's code is given up on (backoff doubles to an hour: about a day).
const GRANT_ATTEMPTS: i32 = 30;

/// Gives `member` the catalog `reward`, its code titled `title` in the shop's admin: records a
/// pending redemption of no points and queues the job that creates the code. Call inside the
/// write transaction that decided the reward is due.
pub fn grant(
    conn: &mut DbConnection,
    shop: &Shop,
    program: &Program,
    member: &Member,
    reward: &Reward,
    title: &str,
    at: NaiveDateTime,
) -> QueryResult<Redemption> {
    let redemption = new_redemption(shop, program, &member.id, reward, 0, at)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    redemption.insert(conn)?;
    queue::enqueue(
        conn,
        JobSpec {
            shop_id: shop.id.clone(),
            kind: JobKind::IssueGrantedReward,
            payload: serde_json::json!({ "redemption_id": redemption.id, "title": title }),
            dedupe_key: Some(redemption.id.clone()),
            run_at: at,
            max_attempts: GRANT_ATTEMPTS,
        },
    )?;
    Ok(redemption)
}

/// The `issue_granted_reward` job: creates the code of a granted redemption still pending.
pub fn issue_granted_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    job: &Job,
) -> Result<(), JobError> {
    let Some(redemption) = redemption_of_job(conn, job, RedemptionStatus::Pending)? else {
        return Ok(());
    };
    let shop = Shop::find(conn, &job.shop_id)?;
    let member = Member::find(conn, &shop.id, &redemption.member_id)?;
    let api = StoreApi::for_shop(&shop, shopify);
    let ready = match (&member.platform_customer_id, credentials(&shop, keys)) {
        _ if api.check_supported().is_err() => Err("the shop's platform cannot create codes"),
        (None, _) => Err("the member has no customer account on the platform"),
        (_, None) => Err("no store API access"),
        (Some(customer), Some(creds)) => Ok((customer.clone(), creds)),
    };
    let (customer, creds) = match ready {
        Ok(ready) => ready,
        Err(why) => return fail(conn, &shop.id, &redemption.id, why),
    };
    let reward: Reward = serde_json::from_str(&redemption.reward)
        .map_err(|e| JobError::Permanent(format!("stored reward unreadable: {e}")))?;
    let title = serde_json::from_str::<serde_json::Value>(&job.payload)
        .ok()
        .and_then(|p| p.get("title")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| reward.title.clone());
    let Some(req) = request(&shop, &customer, &redemption, &reward, title) else {
        // The program refuses such entry rewards; one stored before that rule gives nothing.
        return fail(
            conn,
            &shop.id,
            &redemption.id,
            "this reward gives no discount code",
        );
    };
    match runtime.block_on(settle::create(&api, &creds, &req)) {
        Created::Yes(discount_id) => {
            super::mark_issued(conn, &shop.id, &redemption.id, &discount_id)?;
            Ok(())
        }
        Created::No(e) if e.is_transient() => Err(JobError::Retry(e.to_string())),
        Created::No(e) => fail(conn, &shop.id, &redemption.id, &e.to_string()),
        // The next attempt asks for the same code: taken if this one made it, then looked up.
        Created::Unknown(e) => Err(JobError::Retry(e.to_string())),
    }
}

/// Ends a granted redemption as `failed` and fails the job for good, so the operator sees why.
fn fail(conn: &mut DbConnection, shop_id: &str, id: &str, why: &str) -> Result<(), JobError> {
    write_transaction(conn, |c| {
        refund(c, shop_id, id, RedemptionStatus::Failed, why)
    })?;
    Err(JobError::Permanent(why.to_owned()))
}

/// After the job's last attempt: the granted redemption still pending ends as `failed`.
pub fn give_up_granted(conn: &mut DbConnection, job: &Job, error: &str) -> QueryResult<()> {
    match redemption_of_job(conn, job, RedemptionStatus::Pending) {
        Ok(Some(r)) => {
            refund(conn, &job.shop_id, &r.id, RedemptionStatus::Failed, error)?;
            Ok(())
        }
        Ok(None) | Err(_) => Ok(()),
    }
}
