//! What every handler can reach: the database, settings, token keys and the
//! plug-in runtime.

use std::sync::Arc;

use crate::auth::tokens::JwtKeys;
use crate::db::Db;
use crate::marketplace::journal::CallJournal;
use crate::marketplace::modules::Modules;
use crate::plugin_host::{CircuitBreaker, Host};
use crate::settings::Settings;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub keys: Arc<JwtKeys>,
    /// The process's one plug-in runtime.
    pub host: Arc<Host>,
    /// Compiled plug-in versions, loaded on first use.
    pub modules: Arc<Modules>,
    /// Installs that keep failing are switched off; keyed by install id.
    pub breaker: Arc<CircuitBreaker<uuid::Uuid>>,
    /// Plug-in calls on their way to the database.
    pub calls: CallJournal,
    /// Fan-out of live feeds to this process's viewers.
    pub live: Arc<crate::live::Hub>,
    /// Wakes this process's event dispatcher.
    pub events: Arc<crate::events::Wake>,
    /// PostgreSQL: the order numbers this process has in hand, per store.
    pub numbers: Arc<crate::orders::numbers::Numbers>,
    /// The payment gateway invoices are collected through.
    pub billing: crate::billing::Billing,
}
