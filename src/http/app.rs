//! The owner's admin UI at `/app`: server-rendered pages (no front-end build step) for a
//! signed-in owner. Sign-in is by a one-time link (`boomerang shop login-link`); every form
//! carries the session's CSRF token.

pub mod charts;
pub mod customers;
pub mod emails;
pub mod figures;
pub mod jobs;
pub mod login;
pub mod overview;
pub mod period;
pub mod program;
pub mod reports;
pub mod review;
pub mod session;
pub mod texts;
pub mod transfer;
pub mod webhooks;
