//! Tenants, their people (owner, staff, invitations) and their stores.

pub mod invitations;
pub mod slug;
pub mod storefront;
pub mod stores;
pub mod tenants;
pub mod users;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(users::list)
        .service(users::remove)
        .service(invitations::create)
        .service(invitations::list)
        .service(invitations::revoke)
        .service(stores::create)
        .service(stores::list)
        .service(stores::get)
        .service(stores::update)
        .service(stores::archive)
        .service(storefront::store);
}
