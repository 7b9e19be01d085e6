//! `boomerang shop add|show|login-link`: registering a shop and what its owner needs to set it
//! up, reading it back, and signing its owner in.

use clap::{Args, Subcommand, ValueEnum};

use crate::config::Config;
use crate::db::types::Platform;
use crate::db::write_transaction;
use crate::services::shops::{add_shop, find_shop, ShopSpec, ShopView};
use crate::startup::prepare;

use super::blocking;

#[derive(Debug, Subcommand)]
pub enum ShopCommand {
    /// Register a shop.
    Add(Box<ShopAddArgs>),
    /// Print a shop as JSON, with the widget secret its storefront signs customers with.
    Show(ShopShowArgs),
    /// Print a one-time link that signs the owner in to the admin UI (for 15 minutes).
    LoginLink(ShopShowArgs),
}

#[derive(Debug, Args)]
pub struct ShopShowArgs {
    /// The shop's domain.
    #[arg(long)]
    pub domain: String,
    /// The shop's platform, when several shops share the domain.
    #[arg(long, value_enum)]
    pub platform: Option<PlatformArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlatformArg {
    Shopify,
    Woocommerce,
    Bigcommerce,
}

impl From<PlatformArg> for Platform {
    fn from(p: PlatformArg) -> Self {
        match p {
            PlatformArg::Shopify => Platform::Shopify,
            PlatformArg::Woocommerce => Platform::WooCommerce,
            PlatformArg::Bigcommerce => Platform::BigCommerce,
        }
    }
}

#[derive(Debug, Args)]
pub struct ShopAddArgs {
    /// The shop's platform.
    #[arg(long, value_enum)]
    pub platform: PlatformArg,
    /// The shop's domain: your-shop.myshopify.com for Shopify, store-{hash} for BigCommerce,
    /// the site host otherwise.
    #[arg(long)]
    pub domain: String,
    /// Admin API access token (Shopify offline token; BigCommerce: the store API account's
    /// token, required), stored encrypted.
    #[arg(long)]
    pub access_token: Option<String>,
    /// Platform API base URL, to point the app at a proxy or a local fake (WooCommerce: the
    /// site URL, default https://DOMAIN; plain http only for a loopback host).
    #[arg(long)]
    pub api_base: Option<String>,
    /// Secret the shop signs its webhooks with (WooCommerce; BigCommerce: sent back in a
    /// header, generated when not given), stored encrypted.
    #[arg(long)]
    pub webhook_secret: Option<String>,
    /// REST API consumer key (WooCommerce), stored encrypted (sealed to this shop).
    #[arg(long, requires = "api_secret")]
    pub api_key: Option<String>,
    /// REST API consumer secret (WooCommerce), stored encrypted.
    #[arg(long, requires = "api_key")]
    pub api_secret: Option<String>,
    /// The shop's currency (ISO 4217).
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// The shop's IANA time zone.
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// The shop's default locale for the widget and e-mails.
    #[arg(long, default_value = "en")]
    pub locale: String,
}

/// `shop add`: registers the shop and prints what its owner needs next (the admin API key
/// once, the widget secret, a WooCommerce shop's set-up steps, a BigCommerce store's hooks).
pub async fn add(config: Config, args: ShopAddArgs) -> anyhow::Result<()> {
    if config.shopify.using_demo_credentials && matches!(args.platform, PlatformArg::Shopify) {
        anyhow::bail!("a Shopify shop needs your app's own credentials (with the public demo ones anyone can sign its webhooks): set SHOPIFY_API_KEY and SHOPIFY_API_SECRET to the app's client id and secret");
    }
    let public_url = config.public_url.clone();
    let setup_config = config.clone();
    let added = blocking(move || {
        let (db, keys) = prepare(&config)?;
        let mut conn = db.get()?;
        let spec = ShopSpec {
            platform: Some(args.platform.into()),
            domain: args.domain,
            access_token: args.access_token,
            api_base: args.api_base,
            webhook_secret: args.webhook_secret,
            consumer_key: args.api_key,
            consumer_secret: args.api_secret,
            currency: Some(args.currency),
            timezone: Some(args.timezone),
            locale: Some(args.locale),
            is_demo: false,
        };
        let added = write_transaction(&mut conn, |c| add_shop(c, &keys, &spec))?;
        let widget_secret = keys.widget_secret(&added.shop.id);
        Ok::<_, anyhow::Error>((added, widget_secret, db, keys))
    })
    .await??;
    let (added, widget_secret, db, keys) = added;
    println!(
        "added {} shop {} (id {})",
        added.shop.platform, added.shop.domain, added.shop.id
    );
    if let Some(key) = added.admin_api_key {
        println!("admin API key (shown once; use as `Authorization: Bearer …`): {key}");
    }
    println!("widget secret (the storefront's customer digest key; `boomerang shop show` prints it again): {widget_secret}");
    if added.shop.platform == Platform::WooCommerce {
        let has_keys = added.shop.consumer_key_enc.is_some();
        print!(
            "{}",
            crate::platform::woocommerce::setup_steps(&public_url, &added.shop.domain, has_keys)
        );
    }
    if added.shop.platform == Platform::BigCommerce {
        let installer = crate::services::install::bigcommerce::BcInstaller::for_command_line(
            setup_config,
            db,
            keys,
        )?;
        print!("{}", installer.set_up_added_shop(&added.shop).await?);
    }
    Ok(())
}

/// `shop show`: the shop as JSON, with its widget secret.
pub async fn show(config: Config, args: ShopShowArgs) -> anyhow::Result<()> {
    let view = blocking(move || {
        let (db, keys) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = find_shop(&mut conn, &args.domain, args.platform.map(Into::into))?;
        Ok::<_, anyhow::Error>(ShopView::of(&shop, &keys))
    })
    .await??;
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}

/// `shop login-link`: a one-time link that signs the owner in to the admin UI.
pub async fn login_link(config: Config, args: ShopShowArgs) -> anyhow::Result<()> {
    let public_url = config.public_url.clone();
    let token = blocking(move || {
        let (db, _) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = find_shop(&mut conn, &args.domain, args.platform.map(Into::into))?;
        if shop.install_state != crate::db::types::InstallState::Installed {
            anyhow::bail!("shop {} is not installed", shop.domain);
        }
        Ok::<_, anyhow::Error>(crate::services::admin_sessions::create_link(
            &mut conn,
            &shop.id,
            crate::db::now(),
        )?)
    })
    .await??;
    println!(
        "{}/app/login?token={token}\n(works once, for {} minutes)",
        public_url.trim_end_matches('/'),
        crate::services::admin_sessions::LINK_TTL_MINUTES
    );
    Ok(())
}
