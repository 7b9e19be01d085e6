//! A customer's purchase facts, kept current as orders are applied so that nothing scans the
//! orders table per customer: order count and net spend (exact), first and last order date, and
//! the dates of the most recent orders for the median gap between orders.
//!
//! # Idempotency: the caller says what the order counted for before
//! Orders arrive late, out of order, are updated by the platform (partial refunds) and replayed.
//! The facts are bounded (at most [`KEPT_ORDERS`] orders are remembered), so they cannot by
//! themselves tell an older order they have let go of from a new one. The caller, which updates
//! its orders row in the same transaction, therefore passes the order's previous counted state
//! (`before`: `None` when the order did not count yet) with the new one (`after`: `None` when it
//! no longer counts: cancelled or fully refunded). Applying the same change again is a no-op
//! because the row then says `before == after`. As a second guard, an order the facts still
//! remember (by its key) is taken from their own record, not from `before`: a replay with a
//! stale `before` does not double count either.
//!
//! # Bounds
//! The kept orders are always the newest ones (by date): every counted order dated after the
//! oldest kept one is kept. An order dated before it, once more than [`KEPT_ORDERS`] orders
//! count, changes count and spend only. So the median gap is over the last 63 gaps at most.
//! In two rare cases the facts cannot know a date and say so with [`PurchaseFacts::needs_rebuild`]
//! (the caller then rebuilds them from the customer's orders with [`PurchaseFacts::from_orders`]):
//! the first order of a customer with more than 64 orders is removed, or every kept order is.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::gaps::median_of;

/// How many of a customer's newest orders the facts remember.
pub const KEPT_ORDERS: usize = 64;

/// What one order counts for: its date (`processed_at`, else `created_at`, in the shop's time
/// zone) and its net amount after refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CountedOrder {
    pub date: NaiveDate,
    pub net_minor: i64,
}

impl CountedOrder {
    /// How an order counts: not at all when cancelled or fully refunded, else for its amount
    /// less what was refunded. (An order of zero that nothing refunded still counts.)
    pub fn of(
        date: NaiveDate,
        amount_minor: i64,
        refunded_minor: i64,
        cancelled: bool,
    ) -> Option<Self> {
        let fully_refunded = refunded_minor > 0 && refunded_minor >= amount_minor;
        (!cancelled && !fully_refunded).then_some(Self {
            date,
            net_minor: amount_minor - refunded_minor,
        })
    }
}

/// A stable 64-bit key for a platform order id (FNV-1a: the same on every build and machine,
/// which `std`'s hasher does not promise; it is stored).
pub fn order_key(platform_order_id: &str) -> u64 {
    platform_order_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash: u64, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// One remembered order, stored as `["2025-03-01", net_minor, key]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Kept(NaiveDate, i64, u64);

impl Kept {
    fn order(self) -> CountedOrder {
        CountedOrder {
            date: self.0,
            net_minor: self.1,
        }
    }
}

/// A customer's purchase facts. Stored as compact JSON:
/// `{"count":3,"net_minor":12000,"first":"2024-01-05","recent":[["2024-01-05",4000,1234],…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub struct PurchaseFacts {
    count: u32,
    net_minor: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first: Option<NaiveDate>,
    /// The newest counted orders, oldest first (by date, then key).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    recent: Vec<Kept>,
}

/// What is read back, put in order so that a hand-edited or older row cannot break the rules.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    count: u32,
    #[serde(default)]
    net_minor: i64,
    #[serde(default)]
    first: Option<NaiveDate>,
    #[serde(default)]
    recent: Vec<Kept>,
}

impl From<Stored> for PurchaseFacts {
    fn from(stored: Stored) -> Self {
        let mut recent = stored.recent;
        recent.sort_by_key(|k| (k.0, k.2));
        recent.dedup_by_key(|k| k.2);
        let excess = recent.len().saturating_sub(KEPT_ORDERS);
        recent.drain(..excess);
        let count = stored
            .count
            .max(u32::try_from(recent.len()).unwrap_or(u32::MAX));
        let mut facts = Self {
            count,
            net_minor: stored.net_minor,
            first: stored.first,
            recent,
        };
        facts.settle_first();
        facts
    }
}

impl PurchaseFacts {
    pub fn new() -> Self {
        Self::default()
    }

    /// The facts of a customer's orders given whole, in any order (`(order_key, counted)`; an
    /// order given twice counts once, as its last version).
    pub fn from_orders(orders: impl IntoIterator<Item = (u64, CountedOrder)>) -> Self {
        let mut facts = Self::new();
        for (key, order) in orders {
            facts.apply(key, None, Some(order));
        }
        facts
    }

    /// An order counts now (new, or changed by the platform); `before` is what it counted for
    /// until now (`None` if it did not count). See the module doc.
    pub fn record_order(&mut self, key: u64, before: Option<CountedOrder>, after: CountedOrder) {
        self.apply(key, before, Some(after));
    }

    /// An order no longer counts (cancelled, fully refunded, deleted); `before` is what it
    /// counted for until now (`None`: it did not count, nothing changes).
    pub fn remove_order(&mut self, key: u64, before: Option<CountedOrder>) {
        self.apply(key, before, None);
    }

    /// Moves the facts from the order's `before` to its `after` (either may be `None`).
    pub fn apply(&mut self, key: u64, before: Option<CountedOrder>, after: Option<CountedOrder>) {
        let kept_at = self.recent.iter().position(|k| k.2 == key);
        // Our own record of the order wins: a replay with a stale `before` changes nothing.
        let before = kept_at
            .and_then(|i| self.recent.get(i))
            .map(|k| k.order())
            .or(before);
        if before == after {
            return;
        }
        if let Some(old) = before {
            self.count = self.count.saturating_sub(1);
            self.net_minor -= old.net_minor;
            if let Some(i) = kept_at {
                self.recent.remove(i);
            }
            if self.count == 0 {
                self.first = None;
            } else if self.first == Some(old.date)
                && self.tail_missing()
                && self.recent.first().is_none_or(|oldest| oldest.0 > old.date)
            {
                // The forgotten orders lie between that day and the oldest kept one: which is
                // now the first is unknown. (When the oldest kept order is of that same day,
                // every forgotten one is too, and the first day stands.)
                self.first = None;
            }
            // Settle now: the insertion below may evict and leave a tail again.
            self.settle_first();
        }
        if let Some(new) = after {
            let was_empty = self.count == 0;
            let fits = !self.tail_missing()
                || self
                    .recent
                    .first()
                    .is_some_and(|oldest| (new.date, key) >= (oldest.0, oldest.2));
            self.count = self.count.saturating_add(1);
            self.net_minor += new.net_minor;
            if fits {
                let at = self
                    .recent
                    .partition_point(|k| (k.0, k.2) < (new.date, key));
                self.recent.insert(at, Kept(new.date, new.net_minor, key));
                let excess = self.recent.len().saturating_sub(KEPT_ORDERS);
                self.recent.drain(..excess);
            }
            self.first = match self.first {
                _ if was_empty => Some(new.date),
                Some(first) => Some(first.min(new.date)),
                None => None,
            };
        }
        self.settle_first();
    }

    /// Whether some counted orders are not remembered (older than every kept one).
    fn tail_missing(&self) -> bool {
        self.count as usize > self.recent.len()
    }

    /// When every counted order is remembered, the first one is simply the oldest kept.
    fn settle_first(&mut self) {
        if !self.tail_missing() {
            self.first = self.recent.first().map(|k| k.0);
        }
    }

    /// Counted orders (exact).
    pub fn order_count(&self) -> u32 {
        self.count
    }

    /// Net spend over the counted orders, after refunds (exact).
    pub fn net_spend_minor(&self) -> i64 {
        self.net_minor
    }

    /// The first counted order's date (`None`: no order, or unknown, see `needs_rebuild`).
    pub fn first_order(&self) -> Option<NaiveDate> {
        self.first
    }

    /// The last counted order's date (`None`: no order, or unknown, see `needs_rebuild`).
    pub fn last_order(&self) -> Option<NaiveDate> {
        self.recent.last().map(|k| k.0)
    }

    /// The kept orders (the newest [`KEPT_ORDERS`]), oldest first: what reports that look at
    /// recent orders (the win-back window) read instead of the orders table.
    pub fn recent_orders(&self) -> impl Iterator<Item = CountedOrder> + '_ {
        self.recent.iter().map(|k| k.order())
    }

    /// Whether a date the facts should know is unknown: rebuild them with `from_orders`.
    pub fn needs_rebuild(&self) -> bool {
        self.count > 0 && (self.first.is_none() || self.recent.is_empty())
    }

    /// The gaps in days between consecutive distinct order dates among the kept orders, oldest
    /// first. Orders on the same day are one shopping occasion (a cart split in two must not
    /// halve the customer's rhythm), so they make no gap of 0.
    pub fn gaps(&self) -> impl Iterator<Item = u32> + '_ {
        self.recent.windows(2).filter_map(|pair| match pair {
            [a, b] if b.0 > a.0 => u32::try_from((b.0 - a.0).num_days()).ok(),
            _ => None,
        })
    }

    /// The median of [`gaps`](Self::gaps) (at most the last 63), `None` with fewer than two
    /// distinct order days. Ends in `.5` when the number of gaps is even.
    pub fn median_gap_days(&self) -> Option<f64> {
        let mut gaps: Vec<u32> = self.gaps().collect();
        median_of(&mut gaps)
    }
}

#[cfg(test)]
mod tests;
