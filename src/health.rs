//! Liveness (the process answers) and readiness (the database answers).

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

#[utoipa::path(tag = "health", responses((status = 200, description = "the process is up")))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[utoipa::path(tag = "health", responses((status = 200, description = "ready"), (status = 503, description = "the database does not answer")))]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "database": "unreachable"}))
        }
    }
}
