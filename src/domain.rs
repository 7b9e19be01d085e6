//! Pure domain logic: no I/O, no database, no HTTP. Exhaustively unit-tested.

pub mod calendar;
pub mod customer_import;
pub mod donations;
pub mod earning;
pub mod event;
pub mod expiry;
pub mod mail;
pub mod money;
pub mod outgoing;
pub mod points;
pub mod referrals;
pub mod retention;
pub mod rewards;
pub mod tiers;
pub mod widget;
