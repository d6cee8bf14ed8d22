//! Table models, one file per table, in the shape sea-orm's entity generator
//! writes them. Behaviour lives in the domain modules, not here.

pub mod api_keys;
pub mod collection_products;
pub mod collections;
pub mod customers;
pub mod event_deliveries;
pub mod idempotency_keys;
pub mod install_calls;
pub mod installs;
pub mod invitations;
pub mod login_attempts;
pub mod order_adjustments;
pub mod order_claims;
pub mod order_lines;
pub mod order_numbers;
pub mod orders;
pub mod outbox_events;
pub mod platform_admins;
pub mod plugin_counters;
pub mod plugin_timers;
pub mod plugin_versions;
pub mod plugins;
pub mod product_tags;
pub mod products;
pub mod refresh_tokens;
pub mod stores;
pub mod stream_feed;
pub mod stream_products;
pub mod streams;
pub mod tenants;
pub mod users;
pub mod variants;
