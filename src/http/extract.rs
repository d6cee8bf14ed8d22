//! `Valid<T>`: a JSON body that deserialized and passed `validator`, and the
//! problem answers for bodies, paths and queries that cannot be read.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;

/// A JSON body that deserialized and validated.
pub struct Valid<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Valid<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<T>::from_request(req, payload);
        Box::pin(async move {
            let body = json.await?.into_inner();
            body.validate().map_err(ApiError::from)?;
            Ok(Valid(body))
        })
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_error(err, limit).into())
}

fn json_error(err: JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge { limit }
        }
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            // Well-formed JSON with a missing field or a wrong type.
            let field = e.to_string();
            ApiError::Unprocessable {
                code: "invalid_body",
                detail: field.clone(),
                errors: [("body".to_string(), vec![field])].into_iter().collect(),
            }
        }
        other => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {other}")),
    }
}

pub fn path_config() -> web::PathConfig {
    // A path that does not parse (e.g. not a UUID) names no resource.
    web::PathConfig::default().error_handler(|_err: PathError, _req| ApiError::NotFound.into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err: QueryPayloadError, _req| ApiError::bad_request("invalid_query", err.to_string()).into())
}
