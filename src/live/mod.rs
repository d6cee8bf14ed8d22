//! Live streams: a store's streams and what the stream integration reports
//! (start, end, viewers, comments, pins), their numbers, and the public
//! live feed.
//!
//! - Every change to a stream locks its row, and in the same transaction
//!   appends its feed row ([`feed`]) and its outbox event.
//! - The feed is read by viewers through server-sent events ([`sse`]);
//!   one task per stream with viewers in a process fans the rows out
//!   ([`hub`]), so every process's viewers see every event.
//! - Pinned products get live prices through the `cart.price` pipeline and
//!   their stock ([`prices`]).

pub mod feed;
pub mod hub;
pub mod pins;
pub mod prices;
pub mod reports;
pub mod sse;
pub mod stats;
pub mod streams;
pub mod views;

pub use hub::Hub;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(streams::create)
        .service(streams::list)
        .service(streams::get)
        .service(streams::start)
        .service(streams::end)
        .service(reports::viewers)
        .service(reports::comment)
        .service(pins::pin)
        .service(pins::unpin)
        .service(stats::stats)
        .service(sse::events);
}
