//! Use cases: each one orchestrates domain logic, the database and effects, in one transaction.

pub mod customers;
pub mod demo;
pub mod inbox;
pub mod ledger;
pub mod shops;
