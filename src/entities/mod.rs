//! Table models, one file per table, in the shape sea-orm's entity generator
//! writes them. Behaviour lives in the domain modules, not here.

pub mod api_keys;
pub mod author_ledger;
pub mod billing_items;
pub mod collection_products;
pub mod collections;
pub mod customers;
pub mod idempotency_keys;
pub mod install_calls;
pub mod installs;
pub mod invitations;
pub mod invoice_lines;
pub mod invoices;
pub mod login_attempts;
pub mod order_adjustments;
pub mod order_claims;
pub mod order_lines;
pub mod order_numbers;
pub mod orders;
pub mod outbox_events;
pub mod plans;
pub mod platform_admins;
pub mod plugin_counters;
pub mod plugin_prices;
pub mod plugin_versions;
pub mod plugins;
pub mod product_tags;
pub mod products;
pub mod refresh_tokens;
pub mod stores;
pub mod stripe_events;
pub mod subscriptions;
pub mod tenants;
pub mod usage_records;
pub mod users;
pub mod variants;
