//! The job runner, above the services: drains the queue (`crate::queue`) and hands each job to
//! the service that runs it.
//!
//! - `jobs/registry.rs`: the job registry, one match from [`JobKind`](crate::queue::JobKind) to
//!   the service function that runs it (and to what a job that gives up leaves behind);
//! - `jobs/runner.rs`: claims due jobs, runs them under a heartbeat, records the outcome;
//! - `jobs/periodic.rs`: which periodic work each installed shop gets.
//!
//! The scheduler (`RUN_JOBS=true`, `crate::scheduler`) only enqueues periodic work and drains
//! the queue; `boomerang jobs run-once` drains it once for cron-style deployments and tests.

#[cfg(test)]
mod layering;
mod periodic;
mod registry;
mod runner;

pub use periodic::enqueue_periodic;
pub use registry::{settled_by_giving_up, JobContext};
pub use runner::{run_pending, run_pending_blocking, run_pending_concurrently, RunReport};
