//! The OpenAPI document, generated from the handlers' annotations, served at
//! `/api/openapi.json` with a browsable UI at `/api/docs/`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{auth, billing, catalog, events, health, live, marketplace, orders, tenancy};

#[derive(OpenApi)]
#[openapi(
    info(title = "livemall API", description = "Multi-tenant live-streaming mall backend. Errors are application/problem+json with a stable `code`."),
    paths(
        health::live, health::ready,
        auth::routes::signup, auth::routes::login, auth::routes::refresh, auth::routes::logout,
        auth::routes::accept_invitation, auth::routes::me,
        auth::api_keys::create, auth::api_keys::list, auth::api_keys::revoke,
        tenancy::users::list, tenancy::users::remove,
        tenancy::invitations::create, tenancy::invitations::list, tenancy::invitations::revoke,
        tenancy::stores::create, tenancy::stores::list, tenancy::stores::get, tenancy::stores::update, tenancy::stores::archive,
        tenancy::storefront::store,
        catalog::products::create, catalog::products::list, catalog::products::get, catalog::products::update, catalog::products::archive,
        catalog::variants::create, catalog::variants::update, catalog::variants::archive,
        catalog::stock::change,
        catalog::collections::create, catalog::collections::list, catalog::collections::get, catalog::collections::update,
        catalog::collections::remove, catalog::members::set_products,
        catalog::storefront::list_products, catalog::storefront::get_product,
        catalog::storefront::list_collections, catalog::storefront::get_collection,
        orders::storefront::price, orders::storefront::place,
        orders::customers::create, orders::customers::list, orders::customers::get,
        orders::merchant::list, orders::merchant::get,
        orders::lifecycle::pay, orders::lifecycle::fulfill, orders::lifecycle::cancel, orders::lifecycle::refund,
        marketplace::catalogue::list, marketplace::catalogue::get, marketplace::catalogue::update,
        marketplace::install_api::create, marketplace::install_api::list, marketplace::install_api::get,
        marketplace::install_api::update, marketplace::install_api::remove,
        marketplace::install_actions::enable, marketplace::install_actions::upgrade, marketplace::install_actions::calls,
        live::streams::create, live::streams::list, live::streams::get, live::streams::start, live::streams::end,
        live::reports::viewers, live::reports::comment, live::pins::pin, live::pins::unpin, live::stats::stats,
        live::sse::events, events::api::list, events::api::replay,
        billing::plans::create, billing::plans::list, billing::plans::get, billing::plans::update, billing::plans::archive,
        billing::plans::public_list, billing::rentals::set_price,
        billing::subscription_api::get, billing::subscription_api::choose, billing::subscription_api::cancel,
        billing::subscription_api::resume, billing::subscription_api::payment_method,
        billing::usage::current, billing::usage::record_external, billing::invoices::list, billing::invoices::get,
        billing::admin_api::run_billing, billing::admin_api::list_invoices, billing::admin_api::get_invoice, billing::admin_api::pay,
        billing::admin_api::void, billing::reports::summary, billing::ledger::list, billing::webhook::receive,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth, &ApiPrefix),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or lm_ API key")
                    .build(),
            ),
        );
    }
}

/// Handlers are mounted under `/api/v1`; their annotations name the path
/// inside that scope. Operation ids are made unique from method and path.
struct ApiPrefix;

impl Modify for ApiPrefix {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paths = std::mem::take(&mut openapi.paths.paths);
        for (path, mut item) in paths {
            let full = if path.starts_with("/health") {
                path
            } else {
                format!("/api/v1{path}")
            };
            let slug: String = full
                .trim_start_matches("/api/v1")
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_matches(['{', '}']).replace('-', "_"))
                .collect::<Vec<_>>()
                .join("_");
            for (method, op) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("patch", item.patch.as_mut()),
                ("put", item.put.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                if let Some(op) = op {
                    op.operation_id = Some(format!("{method}_{slug}"));
                }
            }
            openapi.paths.paths.insert(full, item);
        }
    }
}
