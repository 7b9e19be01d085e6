//! The actix-web layer: thin handlers and the middleware around them. The only module that
//! knows about HTTP.

pub mod admin;
pub mod app;
pub mod body;
pub mod demo;
pub mod email;
pub mod extract;
pub mod home;
pub mod install;
pub mod middleware;
pub mod nps;
pub mod ops;
pub mod pages;
pub mod referrals;
pub mod rejections;
pub mod storefront;
pub mod webhooks;
pub mod widget;
pub mod wire;
