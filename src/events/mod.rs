//! Events: the outbox written in the same transaction as the change it
//! reports. The dispatcher that delivers them comes with the live feed.

pub mod outbox;
