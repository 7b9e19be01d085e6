//! Signing the owner in to the admin UI outside Shopify's admin: a one-time login link printed
//! by `boomerang shop login-link`, traded once for a cookie session that carries a CSRF token.
//!
//! Only SHA-256 hashes of the link token and of the cookie are stored, so neither a database
//! dump nor a log line signs anyone in. A link works once and for [`LINK_TTL_MINUTES`]; a
//! session lasts [`SESSION_TTL_HOURS`] from sign-in, then the owner asks for a new link.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto::{random_token, sha256_hex};
use crate::db::models::Shop;
use crate::db::schema::{admin_login_links, admin_sessions, shops};
use crate::db::types::InstallState;
use crate::db::{write_transaction, DbConnection};

pub const LINK_TTL_MINUTES: i64 = 15;
pub const SESSION_TTL_HOURS: i64 = 12;

/// Who is acting, as recorded on what a link's session changes (a link names no person).
pub const LOGIN_LINK_ACTOR: &str = "login link";

/// A signed-in owner's session.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub shop: Shop,
    pub actor: String,
    pub csrf_token: String,
    /// Opened inside Shopify's admin from a session token (pages load App Bridge and may be
    /// framed by that shop's admin); otherwise by a login link (pages may not be framed).
    pub embedded: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error("this sign-in link is not valid: ask for a new one with `boomerang shop login-link`")]
    Unknown,
    #[error(
        "this sign-in link was used already: ask for a new one with `boomerang shop login-link`"
    )]
    Used,
    #[error("this sign-in link has expired (links last {LINK_TTL_MINUTES} minutes): ask for a new one with `boomerang shop login-link`")]
    Expired,
    #[error("the shop of this link is not installed")]
    NotInstalled,
}

/// Makes a login link's token for `shop_id`; the token is returned once and stored hashed.
pub fn create_link(
    conn: &mut DbConnection,
    shop_id: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let token = random_token(32);
    diesel::insert_into(admin_login_links::table)
        .values((
            admin_login_links::token_hash.eq(sha256_hex(&token)),
            admin_login_links::shop_id.eq(shop_id),
            admin_login_links::created_at.eq(now),
            admin_login_links::expires_at.eq(now + Duration::minutes(LINK_TTL_MINUTES)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Trades a link's token for a new session: returns the session cookie's value (given to the
/// browser only) and the session. The link is spent in the same transaction, so two clicks
/// racing each other open one session.
pub fn sign_in(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> Result<(String, AdminSession), SignInError> {
    let hash = sha256_hex(token);
    write_transaction(conn, |conn| {
        let link: Option<(String, NaiveDateTime, Option<NaiveDateTime>)> = admin_login_links::table
            .find(&hash)
            .select((
                admin_login_links::shop_id,
                admin_login_links::expires_at,
                admin_login_links::used_at,
            ))
            .first(conn)
            .optional()?;
        let (shop_id, expires_at, used_at) = link.ok_or(LoginError::Unknown)?;
        if used_at.is_some() {
            return Err(LoginError::Used.into());
        }
        if expires_at <= now {
            return Err(LoginError::Expired.into());
        }
        let spent = diesel::update(
            admin_login_links::table
                .find(&hash)
                .filter(admin_login_links::used_at.is_null()),
        )
        .set(admin_login_links::used_at.eq(now))
        .execute(conn)?;
        if spent != 1 {
            return Err(LoginError::Used.into());
        }
        let shop = Shop::find(conn, &shop_id)?;
        if shop.install_state != InstallState::Installed {
            return Err(LoginError::NotInstalled.into());
        }
        Ok(open(conn, shop, LOGIN_LINK_ACTOR, false, now)?)
    })
}

/// Opens a session for `shop` (already proven: a spent login link, or a verified Shopify
/// session token, which makes it `embedded`); returns the cookie's value and the session.
pub fn open(
    conn: &mut DbConnection,
    shop: Shop,
    actor: &str,
    embedded: bool,
    now: NaiveDateTime,
) -> QueryResult<(String, AdminSession)> {
    let cookie = random_token(32);
    let csrf_token = random_token(24);
    diesel::insert_into(admin_sessions::table)
        .values((
            admin_sessions::id_hash.eq(sha256_hex(&cookie)),
            admin_sessions::shop_id.eq(&shop.id),
            admin_sessions::actor.eq(actor),
            admin_sessions::csrf_token.eq(&csrf_token),
            admin_sessions::created_at.eq(now),
            admin_sessions::expires_at.eq(now + Duration::hours(SESSION_TTL_HOURS)),
            admin_sessions::embedded.eq(embedded),
        ))
        .execute(conn)?;
    Ok((
        cookie,
        AdminSession {
            shop,
            actor: actor.to_owned(),
            csrf_token,
            embedded,
        },
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Refused(#[from] LoginError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The live session of a cookie, if any (expired sessions and uninstalled shops have none).
pub fn find(
    conn: &mut DbConnection,
    cookie: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<AdminSession>> {
    let row: Option<(String, String, String, bool)> = admin_sessions::table
        .inner_join(shops::table)
        .filter(admin_sessions::id_hash.eq(sha256_hex(cookie)))
        .filter(admin_sessions::expires_at.gt(now))
        .filter(shops::install_state.eq(InstallState::Installed.as_str()))
        .select((
            admin_sessions::shop_id,
            admin_sessions::actor,
            admin_sessions::csrf_token,
            admin_sessions::embedded,
        ))
        .first(conn)
        .optional()?;
    let Some((shop_id, actor, csrf_token, embedded)) = row else {
        return Ok(None);
    };
    Ok(Some(AdminSession {
        shop: Shop::find(conn, &shop_id)?,
        actor,
        csrf_token,
        embedded,
    }))
}

/// Ends the session of a cookie (signing out), and drops expired sessions and links.
pub fn sign_out(conn: &mut DbConnection, cookie: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(admin_sessions::table.filter(admin_sessions::id_hash.eq(sha256_hex(cookie))))
        .execute(conn)?;
    diesel::delete(admin_sessions::table.filter(admin_sessions::expires_at.le(now)))
        .execute(conn)?;
    diesel::delete(admin_login_links::table.filter(admin_login_links::expires_at.le(now)))
        .execute(conn)?;
    Ok(())
}
