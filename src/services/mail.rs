//! E-mail: the outbox between the events that cause mail and the transport.
//!
//! - `queue` (in the transaction of the causing event: an award, a confirmation, a redemption,
//!   a tier change…) stores one row per (member, kind, occasion), so a replayed event queues
//!   nothing new, and asks for a deliver job. Nothing is sent from a request handler.
//! - `deliver` (the `deliver_emails` job) leases due rows, applies the sending policy (quiet
//!   hours, the weekly cap and its digest, sunset), renders in the customer's language, sends,
//!   and records the outcome; failures retry with backoff and are never dropped.
//! - `links`: signed one-click unsubscribe and open-pixel tokens; `log`: the owner's e-mail log.
//! - `dkim`: the shop's DKIM key (sealed), and the signer `deliver` signs every message with.
//!
//! At most once, except in one window: the transport accepted a message (SMTP `250`) and the
//! process died before recording it. The row is then still `sending`; when its lease lapses it
//! is sent again with the same `Message-ID`, which receiving systems use to drop the repeat.

mod context;
mod deliver;
pub mod dkim;
mod links;
mod log;
mod prepare;
mod queue;
#[cfg(test)]
pub(crate) use queue::blank;

pub use deliver::{deliver_job, has_due_mail, MailSetup};
pub use links::{open_token, read_open_token, read_unsubscribe_token, unsubscribe_token};
pub use log::{check_filters, list, EmailView};
pub use queue::{
    prepare, queue, queue_deferred, queue_for_friend, queue_variant, record_held_out, write_queued,
    Queued,
};

/// Where a message is (the API's `status`).
pub mod status {
    pub const QUEUED: &str = "queued";
    /// Leased by a deliver job, being sent.
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
    /// Not sent: unsubscribed, consent withdrawn, or sunset for never opening.
    pub const SUPPRESSED: &str = "suppressed";
    /// Not sent: the customer is in the win-back hold-out.
    pub const HELD_OUT: &str = "held_out";
    /// Over the weekly cap, waiting for the digest.
    pub const CAPPED: &str = "capped";
    /// Told in a digest instead.
    pub const MERGED: &str = "merged";
    pub const ALL: [&str; 8] = [
        QUEUED, SENDING, SENT, FAILED, SUPPRESSED, HELD_OUT, CAPPED, MERGED,
    ];
}
