//! Outgoing signed webhooks (Standard Webhooks), so a shop can wire its loyalty events into
//! anything.
//!
//! - `subscriptions`: the owner subscribes a URL to topics and gets the `whsec_…` secret once;
//!   lists, deletes.
//! - `publish` / `events`: called inside the transaction of the change (a ledger line, a new
//!   member, a tier change, an issued reward, an approved referral); writes one outbox row per
//!   subscription that wants the topic, and wakes the deliver job. No subscription, no row.
//! - `deliver`: the `deliver_webhooks` job leases due messages, POSTs them signed (the same
//!   `webhook-id` on every try), logs each attempt, and schedules the next try from the stored
//!   times (`domain::outgoing::after_failure`); after 24 h the message fails, the subscription
//!   is disabled and shows in the owner's alerts.
//! - `deliveries`: the owner's log, and redelivery: one attempt at once, whatever the message's
//!   state. A disabled subscription is turned back on only when the owner asks (`"enable":
//!   true`): trying one message by hand should not restart every future delivery by surprise.

mod deliver;
mod deliveries;
mod events;
mod privacy;
mod publish;
mod send;
mod subscriptions;

pub use deliver::{deliver_job, has_due_webhooks};
pub use deliveries::{list_deliveries, redeliver, AttemptView, DeliveryView};
pub use events::{
    member_created, points_changed, points_confirmed, referral_completed, reward_fulfilment_opened,
    reward_issued, tier_changed,
};
pub use privacy::{forget_customer, prune_log, LOG_KEPT};
pub use publish::{publish, wants};
pub use subscriptions::{
    create, delete, disabled_alerts, list, Created, DisabledAlert, NewSubscription,
    SubscriptionView,
};

use crate::domain::outgoing::SubscriptionError;

/// Why an owner's request about outgoing webhooks failed.
#[derive(Debug, thiserror::Error)]
pub enum OutgoingError {
    #[error(transparent)]
    Invalid(#[from] SubscriptionError),
    #[error("a shop may have at most {0} webhook subscriptions")]
    TooMany(usize),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("the subscription's secret cannot be opened (APP_SECRET changed?); subscribe again")]
    Unreadable,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Pool(#[from] crate::db::DbError),
}
