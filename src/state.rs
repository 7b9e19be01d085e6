//! What every handler can reach, passed as `web::Data<AppState>`.

use std::sync::Arc;

use crate::config::Config;
use crate::crypto::Keys;
use crate::db::Db;
use crate::http::pages::Pages;
use crate::metrics::Metrics;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub keys: Keys,
    pub metrics: Arc<Metrics>,
    pub pages: Arc<Pages>,
}
