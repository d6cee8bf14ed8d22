//! The integration-test binary: one file per domain. Every test starts the
//! real application on a random port with its own database; set
//! `LIVEMALL_TEST_DB=postgres` to run the same tests on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::field_reassign_with_default)]

mod auth;
mod batch;
mod billing;
mod bundled;
mod catalog;
mod health;
mod helpers;
mod isolation;
mod live;
mod marketplace;
mod orders;
mod plugin_host;
mod rls;
mod stores;
