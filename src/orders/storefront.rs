//! The shopper's side, without signing in: price a cart, place an order.

use actix_web::{post, web, HttpResponse};
use uuid::Uuid;

use crate::auth::normalize_email;
use crate::entities::stores;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, IdempotencyKey, HEADER};
use crate::orders::breakdown::Breakdown;
use crate::orders::cart::{self, CartRequest};
use crate::orders::checkout::{self, Handover, Placing};
use crate::orders::customers::{self, Shopper};
use crate::orders::pricing::{self, Priced};
use crate::state::AppState;
use crate::tenancy::storefront::{open_for, Asks, Shop};

/// A priced cart and whom it is for.
struct Quote {
    tenant_id: Uuid,
    store: stores::Model,
    shopper: Option<Shopper>,
    priced: Priced,
    /// What a checkout goes on with from the transaction the cart was read in.
    handover: Handover,
}

/// Builds the cart from the catalogue and runs the plug-ins. `replay_of`
/// (an idempotency key and fingerprint) answers a finished request at once.
async fn quote(
    state: &AppState,
    slugs: &(String, String),
    body: &CartRequest,
    checkout: bool,
    replay_of: Option<(&str, &str)>,
) -> ApiResult<Result<Quote, HttpResponse>> {
    let email = body.email.as_deref().map(normalize_email);
    let asks = Asks {
        key: replay_of.map(|(key, _)| key),
        customer_id: body.customer_id,
        email: email.as_deref(),
        cart: Some(body),
    };
    let (
        Shop {
            tenant,
            store,
            mut reads,
        },
        found,
    ) = open_for(state, &slugs.0, &slugs.1, &asks).await?;
    if let (Some(seen), Some((_, fingerprint))) = (found.key, replay_of) {
        let answered = idempotency::finished(&seen.request_hash, seen.status_code, seen.response_body, fingerprint)?;
        if let Some(response) = answered {
            return Ok(Err(response));
        }
    }
    let mut cart = match found.hits {
        Some(hits) => cart::from_joined(&store, body, hits)?,
        None => cart::build(reads.txn(&state.db).await?, &store, body).await?,
    };
    if let Some(stream_id) = body.stream_id {
        cart.stream = Some(crate::live::streams::for_cart(reads.on(), store.id, stream_id).await?);
    }
    let shopper = customers::identify(body.customer_id, body.email.as_deref(), found.customer)?;
    cart.customer = shopper.as_ref().map(Shopper::to_abi);
    cart.checkout = checkout;
    let mut prepared = pricing::prepare(state, reads.on(), &store, cart).await?;
    let handover = if checkout {
        checkout::hand_over(reads, prepared.account.take()).await?
    } else {
        // No connection is held while plug-ins run.
        drop(reads);
        Handover::Nothing
    };
    let priced = pricing::run(state, tenant.id, prepared).await?;
    Ok(Ok(Quote {
        tenant_id: tenant.id,
        store,
        shopper,
        priced,
        handover,
    }))
}

/// Prices a cart: the catalogue's prices, shaped by the store's plug-ins.
/// Nothing is reserved; checkout prices again.
#[utoipa::path(tag = "storefront", request_body = CartRequest,
    responses((status = 200, body = Breakdown), (status = 404, description = "no such active store"),
        (status = 422, description = "validation_failed, unknown_variant, unavailable, duplicate_line, currency_mismatch, unknown_customer or unknown_stream")))]
#[post("/storefront/{tenant_slug}/{store_slug}/cart/price")]
pub async fn price(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Valid<CartRequest>,
) -> ApiResult<HttpResponse> {
    match quote(&state, &path, &body.0, false, None).await? {
        Ok(mut quote) => {
            quote.priced.flag_refused_claims(&state, quote.tenant_id).await?;
            Ok(HttpResponse::Ok().json(quote.priced.breakdown()))
        }
        Err(response) => Ok(response),
    }
}

/// Places an order: prices the cart again, then takes stock and plug-in
/// claims and writes the order in one transaction. Needs `Idempotency-Key`.
#[utoipa::path(tag = "storefront", request_body = CartRequest,
    params(("Idempotency-Key" = String, Header, description = "required; a retry with the same key and body gets the first answer")),
    responses((status = 201, body = crate::orders::views::OrderView),
        (status = 400, description = "idempotency_key_required"),
        (status = 404, description = "no such active store"),
        (status = 409, description = "out_of_stock, claim_refused or price_changed (nothing was written), idempotency_in_progress"),
        (status = 422, description = "validation_failed, customer_required, unknown_variant, unavailable, duplicate_line, currency_mismatch, unknown_customer, unknown_stream, order_rejected, idempotency_key_reused")))]
#[post("/storefront/{tenant_slug}/{store_slug}/orders")]
pub async fn place(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    key: IdempotencyKey,
    body: Valid<CartRequest>,
) -> ApiResult<HttpResponse> {
    let Some(raw_key) = key.0.as_deref() else {
        return Err(ApiError::bad_request(
            "idempotency_key_required",
            format!("send an {HEADER} header (e.g. a random UUID) so a retry cannot order twice"),
        ));
    };
    let body = body.0;
    if body.customer_id.is_none() && body.email.is_none() {
        return Err(ApiError::field(
            "customer_required",
            "email",
            "send `email` (guest) or `customer_id`",
        ));
    }
    let route = format!("POST /storefront/{}/{}/orders", path.0, path.1);
    let fingerprint = idempotency::fingerprint(&route, &body)?;
    // A price that ends between pricing and commit (a countdown) is not
    // committed; the cart is priced again, with the later clock, once.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let quote = match quote(&state, &path, &body, true, Some((raw_key, &fingerprint))).await? {
            Ok(quote) => quote,
            Err(replayed) => return Ok(replayed),
        };
        let shopper = quote
            .shopper
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("checkout without a shopper")))?;
        let placed = checkout::place(
            &state,
            Placing {
                handover: quote.handover,
                tenant_id: quote.tenant_id,
                store: &quote.store,
                shopper,
                stream_id: body.stream_id,
                priced: quote.priced,
                key: &key,
                fingerprint: fingerprint.clone(),
            },
        )
        .await;
        match placed {
            Err(ApiError::Conflict { code, .. }) if code == checkout::PRICE_CHANGED && attempts < 2 => continue,
            other => return other,
        }
    }
}
