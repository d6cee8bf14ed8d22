//! Authentication: passwords, access and refresh tokens, API keys, and the
//! extractors that turn credentials into a principal and a tenant scope.

pub mod api_keys;
pub mod password;
pub mod principal;
pub mod routes;
pub mod scopes;
pub mod sessions;
pub mod throttle;
pub mod tokens;

pub use principal::{Actor, AdminPrincipal, Principal, Role, TenantScope};
pub use scopes::Scope;

/// Emails are compared trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(routes::signup)
        .service(routes::login)
        .service(routes::refresh)
        .service(routes::logout)
        .service(routes::accept_invitation)
        .service(routes::me)
        .service(api_keys::create)
        .service(api_keys::list)
        .service(api_keys::revoke);
}
