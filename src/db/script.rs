//! PostgreSQL: a tenant's write transaction sent as text, in two messages.
//!
//! A transaction whose last statement locks rows every other checkout
//! needs (a hot variant's stock, the store's order number) holds them until
//! its `COMMIT` is done. Sent the usual way, the `COMMIT` leaves only after
//! the statement's answer has reached this process and its task has been
//! run again, which on a busy machine is most of the time the rows stay
//! locked. Here the statement and its `COMMIT` go in one message (the
//! simple query protocol, which takes several statements but no bound
//! parameters, so values are written in as literals, see [`literal`]): the
//! rows are held for the statement and the commit's WAL flush, no longer.
//!
//! 1. `BEGIN`, the tenant's role and settings, and the first statement.
//! 2. The last statement, failing unless every part of it took what it
//!    asked for (see [`crate::db::batch::Chain::script_all_or_nothing`]),
//!    and `COMMIT`, which the server skips when the statement fails.

use std::sync::Arc;

use chrono::SecondsFormat;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::{PgDatabaseError, Postgres};
use sea_orm::sqlx::{self, AssertSqlSafe, PgConnection};
use sea_orm::{DbErr, QueryResult, RuntimeErr, Value};
use uuid::Uuid;

use super::batch::{Chain, Steps};
use super::APP_ROLE;
use crate::events::notify::Notifier;

/// `value` as a literal of the type sqlx binds it as, so a statement means
/// the same written either way. Strings are escape strings (`E'..'`) with
/// every backslash and quote doubled, which no input can end early, so the
/// literal is one value whatever it holds; a NUL, which no PostgreSQL text
/// holds, is refused.
pub fn literal(value: &Value) -> Result<String, DbErr> {
    fn typed(text: Option<String>, ty: &str) -> String {
        format!("CAST({} AS {ty})", text.as_deref().unwrap_or("NULL"))
    }
    let text = |s: Option<&String>| s.map(|s| quote(s)).transpose();
    Ok(match value {
        Value::Bool(v) => typed(v.map(|b| b.to_string()), "bool"),
        Value::SmallInt(v) => typed(v.map(|n| n.to_string()), "int2"),
        Value::Int(v) => typed(v.map(|n| n.to_string()), "int4"),
        Value::BigInt(v) => typed(v.map(|n| n.to_string()), "int8"),
        Value::String(v) => typed(text(v.as_ref())?, "text"),
        Value::Json(v) => {
            let json = v.as_deref().map(serde_json::to_string).transpose();
            let json = json.map_err(|e| DbErr::Custom(format!("a JSON value: {e}")))?;
            typed(text(json.as_ref())?, "jsonb")
        }
        Value::Uuid(v) => typed(v.map(|u| format!("'{u}'")), "uuid"),
        Value::ChronoDateTimeUtc(v) => typed(
            v.map(|t| format!("'{}'", t.to_rfc3339_opts(SecondsFormat::Micros, true))),
            "timestamptz",
        ),
        Value::ChronoDateTime(v) => typed(
            v.map(|t| format!("'{}'", t.format("%Y-%m-%dT%H:%M:%S%.6f"))),
            "timestamp",
        ),
        Value::ChronoDate(v) => typed(v.map(|d| format!("'{}'", d.format("%Y-%m-%d"))), "date"),
        other => return Err(DbErr::Custom(format!("no PostgreSQL literal for {other:?}"))),
    })
}

/// `s` as an escape string literal.
fn quote(s: &str) -> Result<String, DbErr> {
    if s.contains('\0') {
        return Err(DbErr::Custom("a text value holds a NUL character".into()));
    }
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

/// `sql` with each `?` replaced by the literal of the next of `values`.
pub fn inline(sql: &str, values: &[Value]) -> Result<String, DbErr> {
    let mut out = String::with_capacity(sql.len() + values.len() * 24);
    let mut values = values.iter();
    for c in sql.chars() {
        if c != '?' {
            out.push(c);
            continue;
        }
        let value = values
            .next()
            .ok_or_else(|| DbErr::Custom("a statement has more placeholders than values".into()))?;
        out.push_str(&literal(value)?);
    }
    if values.next().is_some() {
        return Err(DbErr::Custom("a statement has more values than placeholders".into()));
    }
    Ok(out)
}

/// Sends `text` (statements separated by `;`) as one message; answers the
/// rows of every statement in it, in order, each with its step.
pub async fn send(conn: &mut PgConnection, text: String) -> Result<Steps, sqlx::Error> {
    let rows = sqlx::raw_sql(AssertSqlSafe(text)).fetch_all(conn).await?;
    Steps::of(rows.into_iter().map(QueryResult::from).collect()).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// The steps that answered, when `err` is a statement made all or nothing
/// failing because another step did not.
pub fn refused(err: &sqlx::Error) -> Option<Vec<i64>> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    let pg = db.try_downcast_ref::<PgDatabaseError>()?;
    if pg.code() != migration::REFUSED {
        return None;
    }
    let detail = pg.detail().unwrap_or_default();
    Some(detail.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

fn db_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// How a transaction sent with [`ScriptTxn::commit_with`] ended.
pub enum Ended {
    /// Committed; the last statement's answers.
    Committed(Steps),
    /// Rolled back: a step of the last statement did not answer; these did.
    Refused(Vec<i64>),
}

/// A tenant's write transaction on a pooled connection of its own. It
/// ends with [`ScriptTxn::commit_with`] or [`ScriptTxn::rollback`];
/// dropped before that (a request whose client went away), the connection
/// is closed, which rolls the transaction back, rather than returned to
/// the pool inside it.
pub struct ScriptTxn {
    conn: PoolConnection<Postgres>,
    ended: bool,
    notes: Vec<(&'static str, String)>,
    notifier: Option<Arc<Notifier>>,
}

impl ScriptTxn {
    /// Begins the transaction as the application role confined to
    /// `tenant_id` (as [`crate::db::Db::tenant`] does) and runs `first`,
    /// all in one message; answers `first`'s rows.
    pub(super) async fn begin(
        conn: PoolConnection<Postgres>,
        notifier: Option<Arc<Notifier>>,
        tenant_id: Uuid,
        first: Chain,
    ) -> Result<(ScriptTxn, Steps), DbErr> {
        let mut txn = ScriptTxn {
            conn,
            ended: false,
            notes: Vec::new(),
            notifier,
        };
        let text = format!(
            "BEGIN; SET LOCAL ROLE {APP_ROLE}; SET LOCAL app.tenant_id = {}; {}",
            quote(&tenant_id.to_string())?,
            first.script()?
        );
        match send(&mut txn.conn, text).await {
            Ok(steps) => Ok((txn, steps)),
            Err(e) => {
                txn.rollback().await?;
                Err(db_err(e))
            }
        }
    }

    /// Queues a notification, sent once the transaction commits.
    pub fn notify_on_commit(&mut self, channel: &'static str, payload: String) {
        if self.notifier.is_some() {
            self.notes.push((channel, payload));
        }
    }

    /// Runs `last`, all or nothing, and commits, in one message; a part
    /// of `last` that did not answer rolls everything back.
    pub async fn commit_with(mut self, last: Chain) -> Result<Ended, DbErr> {
        let text = format!("{}; COMMIT", last.script_all_or_nothing()?);
        match send(&mut self.conn, text).await {
            Ok(steps) => {
                self.ended = true;
                if let Some(notifier) = &self.notifier {
                    notifier.send(std::mem::take(&mut self.notes));
                }
                Ok(Ended::Committed(steps))
            }
            Err(e) => {
                self.rollback_in_place().await?;
                match refused(&e) {
                    Some(answered) => Ok(Ended::Refused(answered)),
                    None => Err(db_err(e)),
                }
            }
        }
    }

    pub async fn rollback(mut self) -> Result<(), DbErr> {
        self.rollback_in_place().await
    }

    async fn rollback_in_place(&mut self) -> Result<(), DbErr> {
        send(&mut self.conn, "ROLLBACK".into()).await.map_err(db_err)?;
        self.ended = true;
        Ok(())
    }
}

impl Drop for ScriptTxn {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::Value;

    use super::{inline, literal, quote};

    #[test]
    fn quotes_and_backslashes_are_doubled_inside_an_escape_string() {
        assert_eq!(quote("it's").unwrap(), "E'it''s'");
        assert_eq!(quote(r"a\'; DROP TABLE t; --").unwrap(), r"E'a\\''; DROP TABLE t; --'");
        assert_eq!(quote("").unwrap(), "E''");
        assert!(quote("a\0b").is_err(), "no PostgreSQL text holds a NUL");
    }

    #[test]
    fn literals_carry_the_type_the_value_is_bound_as() {
        assert_eq!(
            literal(&Value::BigInt(Some(i64::MIN))).unwrap(),
            "CAST(-9223372036854775808 AS int8)"
        );
        assert_eq!(literal(&Value::Int(None)).unwrap(), "CAST(NULL AS int4)");
        assert_eq!(literal(&Value::Bool(Some(true))).unwrap(), "CAST(true AS bool)");
        let at = chrono::DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        assert_eq!(
            literal(&at.into()).unwrap(),
            "CAST('2025-11-24T16:00:00.123456Z' AS timestamptz)"
        );
        let json = serde_json::json!({"note": "it's \\ fine"});
        assert_eq!(
            literal(&json.into()).unwrap(),
            r#"CAST(E'{"note":"it''s \\\\ fine"}' AS jsonb)"#
        );
        assert!(
            literal(&Value::Double(Some(1.5))).is_err(),
            "a type no statement binds is refused"
        );
    }

    #[test]
    fn placeholders_and_values_must_match() {
        let sql = inline("SELECT ?, ?", &[1i64.into(), "x".into()]).unwrap();
        assert_eq!(sql, "SELECT CAST(1 AS int8), CAST(E'x' AS text)");
        assert!(inline("SELECT ?", &[]).is_err());
        assert!(inline("SELECT 1", &[1i64.into()]).is_err());
    }
}
