//! The plug-in catalogue (plug-ins and their immutable versions) and the
//! installs that put a plug-in version to work in one store.

pub mod catalogue;
pub mod install_actions;
pub mod install_api;
pub mod installs;
pub mod journal;
pub mod lifecycle;
pub mod modules;
pub mod pipeline;
pub mod registry;
pub mod schema;
pub mod versions;
pub mod views;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(catalogue::list)
        .service(catalogue::get)
        .service(catalogue::update)
        .service(install_api::create)
        .service(install_api::list)
        .service(install_api::get)
        .service(install_api::update)
        .service(install_api::remove)
        .service(install_actions::enable)
        .service(install_actions::upgrade)
        .service(install_actions::calls);
}
