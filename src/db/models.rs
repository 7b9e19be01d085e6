//! Row structs, insert forms and their queries, one module per table. Every tenant query takes
//! the `shop_id` it is scoped to, so one shop's request cannot reach another shop's rows.
//! The `jobs` table's row lives with the job queue, in `crate::queue`.

pub mod affiliate;
pub mod app_setting;
pub mod customer_fact;
pub mod email;
pub mod entry_reward;
pub mod fulfilment;
pub mod inbox_event;
pub mod ledger_entry;
pub mod member;
pub mod nps;
pub mod order;
pub mod redemption;
pub mod referral;
pub mod refund;
pub mod shop;
pub mod webhook_message;
pub mod webhook_subscription;
pub mod win_back_entry;

pub use affiliate::{Affiliate, AffiliateOrder};
pub use app_setting::AppSetting;
pub use customer_fact::CustomerFact;
pub use email::Email;
pub use entry_reward::EntryReward;
pub use fulfilment::{DonationRow, Fulfilment, FulfilmentWithCustomer};
pub use inbox_event::{InboxEvent, NewInboxEvent};
pub use ledger_entry::{LedgerEntry, NewLedgerEntry};
pub use member::{Member, NewMember};
pub use nps::{NpsResponse, NpsSurvey};
pub use order::{NewOrder, Order};
pub use redemption::Redemption;
pub use referral::{NewReferralClick, Referral, ReferralClaim};
pub use refund::Refund;
pub use shop::{NewShop, Shop};
pub use webhook_message::{message_status, WebhookAttempt, WebhookMessage};
pub use webhook_subscription::WebhookSubscription;
pub use win_back_entry::WinBackEntry;
