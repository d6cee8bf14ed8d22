//! `Idempotency-Key`: a POST sent again with the same key and body gets the
//! first answer again; the same key with another body is refused. The key is
//! recorded in the same transaction as the work, so it commits with it or not at all.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Set};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::batch::{Batch, Chain};
use crate::db::insert::{self, Computed};
use crate::db::TenantTxn;
use crate::entities::idempotency_keys;
use crate::error::{ApiError, ApiResult};

pub const HEADER: &str = "Idempotency-Key";
const MAX_LEN: usize = 255;

/// The optional `Idempotency-Key` header, checked for shape.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(HEADER) {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(s) if !s.is_empty() && s.len() <= MAX_LEN && s.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(IdempotencyKey(Some(s.to_string())))
                }
                _ => Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    format!("{HEADER} must be 1 to {MAX_LEN} printable ASCII characters"),
                )
                .into()),
            },
        };
        Box::pin(async move { parsed })
    }
}

/// A claimed key, to be completed with the response in the same transaction.
pub struct Claimed {
    key: String,
}

/// What `begin` found.
pub enum Begin {
    /// First use: do the work, then `complete`.
    Fresh(Option<Claimed>),
    /// Seen before with the same request: send this again.
    Replay(HttpResponse),
}

/// Fingerprint of what the request asks for: the route and the parsed body.
pub fn fingerprint(route: &str, body: &impl Serialize) -> ApiResult<String> {
    let bytes = serde_json::to_vec(body).map_err(anyhow::Error::from)?;
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    Ok(hex::encode(hasher.finalize()))
}

pub async fn begin(txn: &TenantTxn, key: &IdempotencyKey, fingerprint: String) -> ApiResult<Begin> {
    let Some(key) = key.0.clone() else {
        return Ok(Begin::Fresh(None));
    };
    // On PostgreSQL a concurrent holder of the key makes this wait for its
    // commit; then the conflict shows its finished answer.
    let inserted = claim(txn.tenant_id(), &key, fingerprint.clone())
        .exec_without_returning(&**txn)
        .await?;
    if inserted == 1 {
        return Ok(Begin::Fresh(Some(Claimed { key })));
    }
    used_before(txn, key, &fingerprint).await.map(Begin::Replay)
}

/// PostgreSQL: [`begin`] as a part of `chain`. Answers the part, which
/// returns a row when the key was free, and the claim to complete; when it
/// returns none, [`used_before`] has the answer.
pub fn begin_chained(chain: &mut Chain, tenant_id: uuid::Uuid, key: &str, fingerprint: String) -> (String, Claimed) {
    let mut insert = claim(tenant_id, key, fingerprint).build(DbBackend::Sqlite);
    insert.sql.push_str(" RETURNING 1");
    let part = chain.push_statement(insert);
    (part, Claimed { key: key.to_string() })
}

/// The key's row at status 0 (claimed, no answer yet), unless it exists.
fn claim(tenant_id: uuid::Uuid, key: &str, fingerprint: String) -> sea_orm::Insert<idempotency_keys::ActiveModel> {
    idempotency_keys::Entity::insert(key_row(tenant_id, key, fingerprint, 0, String::new())).on_conflict(
        OnConflict::columns([idempotency_keys::Column::TenantId, idempotency_keys::Column::Key])
            .do_nothing()
            .to_owned(),
    )
}

/// The answer for a key another request holds or held: its first answer,
/// or a refusal.
pub async fn used_before(txn: &TenantTxn, key: String, fingerprint: &str) -> ApiResult<HttpResponse> {
    let existing = stored(txn, key).await?.ok_or_else(in_progress)?;
    answer_again(existing, fingerprint)
}

/// The key's row, as committed or as written in `txn`.
pub async fn stored(txn: &TenantTxn, key: String) -> ApiResult<Option<idempotency_keys::Model>> {
    Ok(idempotency_keys::Entity::find_by_id((txn.tenant_id(), key))
        .one(&**txn)
        .await?)
}

/// The answer for a key found already used: the first response, or a refusal.
pub fn answer_again(existing: idempotency_keys::Model, fingerprint: &str) -> ApiResult<HttpResponse> {
    replay(existing, fingerprint)?.ok_or_else(in_progress)
}

/// SQLite: the key's row with its answer into `batch`, the answer's body
/// computed by `body` (SQL with `?` placeholders, and their values) from
/// what the batch wrote before it. A plain insert: a key already used
/// stops the batch with a unique-key error. The writer's lock, held from
/// before the batch to the commit, keeps a request with the same key from
/// taking it in between.
pub fn answered_in(
    batch: &mut Batch,
    tenant_id: uuid::Uuid,
    key: &str,
    fingerprint: String,
    status: StatusCode,
    body: (&str, Vec<sea_orm::Value>),
) {
    let (sql, values) = answered_sql(tenant_id, key, fingerprint, status, body);
    batch.push_sql(&sql, values);
}

fn answered_sql(
    tenant_id: uuid::Uuid,
    key: &str,
    fingerprint: String,
    status: StatusCode,
    (sql, values): (&str, Vec<sea_orm::Value>),
) -> (String, Vec<sea_orm::Value>) {
    let row = idempotency_keys::Model {
        tenant_id,
        key: key.to_string(),
        request_hash: fingerprint,
        status_code: i32::from(status.as_u16()),
        response_body: String::new(),
        created_at: Utc::now(),
    };
    let body = Computed {
        column: idempotency_keys::Column::ResponseBody,
        sql,
        values,
    };
    insert::row_with(row, &body)
}

fn key_row(
    tenant_id: uuid::Uuid,
    key: &str,
    fingerprint: String,
    status_code: i32,
    response_body: String,
) -> idempotency_keys::ActiveModel {
    idempotency_keys::ActiveModel {
        tenant_id: Set(tenant_id),
        key: Set(key.to_string()),
        request_hash: Set(fingerprint),
        status_code: Set(status_code),
        response_body: Set(response_body),
        created_at: Set(Utc::now()),
    }
}

/// The response for a fresh answer's JSON.
pub fn respond(status: StatusCode, json: String) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").body(json)
}

fn in_progress() -> ApiError {
    ApiError::conflict("idempotency_in_progress", "a request with this key is still running")
}

/// The stored answer for a finished request; refuses a key reused with another request.
fn replay(existing: idempotency_keys::Model, fingerprint: &str) -> ApiResult<Option<HttpResponse>> {
    finished(
        &existing.request_hash,
        existing.status_code,
        existing.response_body,
        fingerprint,
    )
}

/// Without claiming anything: the first answer if the request that used
/// the key (its fingerprint, status and body as stored) already finished,
/// so a retry skips expensive work done before `begin`; `None` while it
/// runs. A key used with another request is refused.
pub fn finished(
    request_hash: &str,
    status_code: i32,
    response_body: String,
    fingerprint: &str,
) -> ApiResult<Option<HttpResponse>> {
    if request_hash != fingerprint {
        return Err(ApiError::field(
            "idempotency_key_reused",
            HEADER,
            "this key was already used with a different request",
        ));
    }
    if status_code == 0 {
        return Ok(None);
    }
    let status = StatusCode::from_u16(status_code as u16).unwrap_or(StatusCode::OK);
    Ok(Some(
        HttpResponse::build(status)
            .insert_header(("Idempotent-Replayed", "true"))
            .content_type("application/json")
            .body(response_body),
    ))
}

/// PostgreSQL: the claimed key's answer into `chain`.
pub fn complete_chained(chain: &mut Chain, tenant_id: uuid::Uuid, claimed: Claimed, status: StatusCode, body: String) {
    chain.push_sql(
        "UPDATE idempotency_keys SET status_code = ?, response_body = ? \
         WHERE idempotency_keys.tenant_id = ? AND idempotency_keys.key = ?",
        [
            i32::from(status.as_u16()).into(),
            body.into(),
            tenant_id.into(),
            claimed.key.into(),
        ],
    );
}

/// Stores the answer with the key and builds the response.
pub async fn complete(
    txn: &TenantTxn,
    claimed: Option<Claimed>,
    status: StatusCode,
    body: &impl Serialize,
) -> ApiResult<HttpResponse> {
    let json = serde_json::to_string(body).map_err(anyhow::Error::from)?;
    if let Some(claimed) = claimed {
        // One statement (no read-back of the row).
        idempotency_keys::Entity::update_many()
            .col_expr(
                idempotency_keys::Column::StatusCode,
                Expr::value(i32::from(status.as_u16())),
            )
            .col_expr(idempotency_keys::Column::ResponseBody, Expr::value(json.clone()))
            .filter(idempotency_keys::Column::TenantId.eq(txn.tenant_id()))
            .filter(idempotency_keys::Column::Key.eq(claimed.key))
            .exec(&**txn)
            .await?;
    }
    Ok(respond(status, json))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use actix_web::http::StatusCode;
    use chrono::Utc;
    use sea_orm::sea_query::{Expr, Query, SqliteQueryBuilder};
    use sea_orm::{Iterable, Value};
    use uuid::Uuid;

    use super::answered_sql;
    use crate::entities::idempotency_keys;

    #[test]
    fn the_answered_key_is_the_builders_insert() {
        let tenant = Uuid::from_u128(1);
        let body = "? || (SELECT 1) || ?";
        let parts: Vec<Value> = vec!["{\"number\":".into(), "}".into()];
        let (text, values) = answered_sql(tenant, "k-1", "f".into(), StatusCode::CREATED, (body, parts.clone()));
        let (built, built_values) = Query::insert()
            .into_table(idempotency_keys::Entity)
            .columns(idempotency_keys::Column::iter())
            .values([
                Expr::val(tenant),
                Expr::val("k-1"),
                Expr::val("f"),
                Expr::val(201),
                Expr::cust_with_values(body, parts),
                Expr::val(Utc::now()),
            ])
            .unwrap()
            .build(SqliteQueryBuilder);
        assert_eq!(text, built);
        assert_eq!(values.len(), built_values.0.len());
        // All but the time each was built at.
        assert_eq!(values[..6], built_values.0[..6]);
        assert!(matches!(values[6], Value::ChronoDateTimeUtc(Some(_))));
    }
}
