//! What every handler can reach: the database, settings and token keys.

use std::sync::Arc;

use crate::auth::tokens::JwtKeys;
use crate::db::Db;
use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub keys: Arc<JwtKeys>,
}
