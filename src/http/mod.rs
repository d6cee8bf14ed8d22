//! HTTP plumbing shared by every domain: request ids, JSON extraction with
//! validation, pagination, idempotency keys, problem answers for extractor errors.

pub mod extract;
pub mod idempotency;
pub mod pagination;
pub mod request_id;
