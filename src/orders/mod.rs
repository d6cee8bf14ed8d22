//! Orders: the pricing pipeline, checkout, customers and the order lifecycle.
//!
//! - Pricing (`cart/price`) builds the ABI cart from the catalogue and runs
//!   `cart.price` of every enabled install ([`pricing`]); adjustments combine
//!   by the stacking rules written down in [`stacking`].
//! - Checkout (`orders`) prices again, then in one transaction claims the
//!   idempotency key, takes stock, takes the plug-ins' claims, writes the
//!   order with its lines and adjustments, and writes `order.created` to the
//!   outbox ([`checkout`]). Any refusal leaves nothing written.
//! - The merchant reads orders and moves them through their lifecycle
//!   ([`merchant`], [`lifecycle`]).

pub mod breakdown;
pub mod cart;
pub mod checkout;
pub mod counters;
pub mod customers;
pub mod lifecycle;
pub mod merchant;
pub mod numbers;
pub mod pricing;
pub mod record;
pub mod stacking;
pub mod storefront;
pub mod types;
pub mod views;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(storefront::price)
        .service(storefront::place)
        .service(customers::create)
        .service(customers::list)
        .service(customers::get)
        .service(merchant::list)
        .service(merchant::get)
        .service(lifecycle::pay)
        .service(lifecycle::fulfill)
        .service(lifecycle::cancel)
        .service(lifecycle::refund);
}
