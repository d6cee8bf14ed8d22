//! Events: the outbox written in the same transaction as the change it
//! reports, and the pipeline that carries outbox events to plug-ins.
//!
//! - [`route`] turns each outbox event into one delivery per subscribed
//!   install (an enabled install of the event's store whose version exports
//!   the hook; `timer.fired` goes to the install that set the timer).
//! - [`deliver`] calls the hook of due deliveries, in event order per lane
//!   (a stream, or an order placed outside one), and applies the effects
//!   ([`apply`]) in the transaction that marks the delivery delivered, so an
//!   effect is applied once however often a delivery is tried. Failures are
//!   retried with doubling backoff, then the delivery is dead.
//! - [`timers`] turn due plug-in timers into `timer.fired` events, once.
//! - [`dispatcher`] runs the three in a loop; on PostgreSQL several processes
//!   share the work through `FOR UPDATE SKIP LOCKED`, and wake each other
//!   with LISTEN/NOTIFY ([`notify`]).

pub mod api;
pub mod apply;
pub mod deliver;
pub mod dispatcher;
pub mod notify;
pub mod outbox;
pub mod route;
pub mod timers;

use tokio::sync::Notify;

/// Wakes this process's dispatcher after a commit that wrote events.
#[derive(Debug, Default)]
pub struct Wake(Notify);

impl Wake {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub async fn wait(&self) {
        self.0.notified().await;
    }
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(api::list).service(api::replay);
}
