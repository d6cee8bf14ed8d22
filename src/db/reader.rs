//! SQLite: reads on connections of the application's own, on the caller's
//! thread.
//!
//! Through the driver a read is a string of hand-offs to a connection's
//! worker thread (`BEGIN`, each statement, the rollback and the ping of a
//! connection returned to its pool), each of which wakes the other thread
//! and waits for it. A read here is one statement, run where it is asked
//! for: SQLite's work of a single statement is the same, and there is no
//! thread between it and its caller. It suits the short, hot reads that a
//! request needs before it can go on (the storefront with a cart, the
//! store's installs); everything else reads through the driver.
//!
//! Rows are read through [`Cells`], as the driver's rows are, so the code
//! that decodes them is the same for both; a model is read as the driver
//! reads it, column by column into the entity's fields. SQLite keeps no
//! column types, so every column a statement answers is given its type
//! ([`Kinds`]), taken from the entities for their columns: a value is read
//! the way the driver wrote it (see [`super::writer::bind`]).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
// Columns are looked up by name for every value read; a fast hash suits short, trusted names.
use foldhash::HashMap;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::ColumnType;
use sea_orm::sea_query::ValueType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, QueryResult, Statement,
    TryGetable, TryIntoModel, Value,
};

use super::writer::bind;

/// The type a column is read as; each is one of the driver's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// `i32`.
    Int,
    /// `i64`.
    BigInt,
    Text,
    Uuid,
    Json,
    /// A time in UTC.
    Time,
}

impl Kind {
    /// The kind of an entity's column; `None` for a type no entity read
    /// here has.
    fn of(column: &ColumnType) -> Option<Kind> {
        Some(match column {
            ColumnType::Boolean => Kind::Bool,
            ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => Kind::Int,
            ColumnType::BigInteger => Kind::BigInt,
            ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Kind::Text,
            ColumnType::Uuid => Kind::Uuid,
            ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
            ColumnType::TimestampWithTimeZone => Kind::Time,
            _ => return None,
        })
    }
}

/// The columns a statement may answer, each with its kind, by name.
#[derive(Debug, Default)]
pub struct Kinds(HashMap<String, Option<Kind>>);

impl Kinds {
    pub fn new() -> Kinds {
        Kinds::default()
    }

    /// Every column of `E`, named with `prefix` in front (as
    /// `FromQueryResult` reads them).
    pub fn entity<E: EntityTrait>(mut self, prefix: &str) -> Kinds {
        for column in E::Column::iter() {
            let kind = Kind::of(column.def().get_column_type());
            self.0.insert(format!("{prefix}{}", column.as_str()), kind);
        }
        self
    }

    /// An entity's column under another name (a subquery's).
    pub fn column_of(mut self, name: &str, column: impl ColumnTrait) -> Kinds {
        self.0
            .insert(name.to_string(), Kind::of(column.def().get_column_type()));
        self
    }

    /// A column that is no entity's (a computed one).
    pub fn column(mut self, name: &str, kind: Kind) -> Kinds {
        self.0.insert(name.to_string(), Some(kind));
        self
    }

    fn get(&self, name: &str) -> Result<Kind, DbErr> {
        match self.0.get(name) {
            Some(Some(kind)) => Ok(*kind),
            Some(None) => Err(DbErr::Type(format!(
                "column `{name}` is of a type the reader does not read"
            ))),
            None => Err(DbErr::Type(format!("column `{name}` has no kind given"))),
        }
    }
}

/// Connections kept for reading, each used by one caller at a time.
#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Connections kept idle at most; one is in use per request that reads
/// here at the same moment, which the request workers bound.
const KEPT: usize = 8;

/// Prepared statements kept per connection (the storefront's differ with
/// the cart's lines).
const PREPARED: usize = 64;

impl Readers {
    pub fn new(path: PathBuf) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `statement` (one statement: its own read transaction) and
    /// answers its rows, each column read as `kinds` says.
    pub fn rows(&self, statement: Statement, kinds: &Kinds) -> Result<Rows, DbErr> {
        let conn = match self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(conn) => conn,
            None => open(&self.path).map_err(error)?,
        };
        let rows = query(&conn, statement, kinds);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < KEPT {
                idle.push(conn);
            }
        }
        rows
    }
}

fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // This connection only reads; a statement that would write fails.
    conn.execute_batch("PRAGMA query_only = ON;")?;
    conn.set_prepared_statement_cache_capacity(PREPARED);
    Ok(conn)
}

fn error(e: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("reading SQLite: {e}"))
}

fn query(conn: &Connection, statement: Statement, kinds: &Kinds) -> Result<Rows, DbErr> {
    let mut prepared = conn.prepare_cached(&statement.sql).map_err(error)?;
    let values = statement.values.map(|v| v.0).unwrap_or_default();
    if prepared.parameter_count() != values.len() {
        return Err(DbErr::Custom(format!(
            "reading SQLite: {} values for {} parameters",
            values.len(),
            prepared.parameter_count()
        )));
    }
    for (i, value) in values.into_iter().enumerate() {
        prepared
            .raw_bind_parameter(i + 1, bind(value).map_err(error)?)
            .map_err(error)?;
    }
    let mut columns = HashMap::with_capacity_and_hasher(prepared.column_count(), Default::default());
    let mut types = Vec::with_capacity(prepared.column_count());
    for (i, name) in prepared.column_names().into_iter().enumerate() {
        types.push((name.to_string(), kinds.get(name)?));
        columns.insert(name.to_string(), i);
    }
    let mut rows = prepared.raw_query();
    let mut values = Vec::new();
    while let Some(row) = rows.next().map_err(error)? {
        let mut cells = Vec::with_capacity(types.len());
        for (i, (name, kind)) in types.iter().enumerate() {
            let raw = row.get_ref(i).map_err(error)?;
            cells.push(read(*kind, raw).map_err(|why| DbErr::Type(format!("column `{name}`: {why}")))?);
        }
        values.push(cells);
    }
    Ok(Rows { columns, values })
}

/// The rows of one statement on a reader.
#[derive(Debug)]
pub struct Rows {
    /// Each column's place in a row, by name.
    columns: HashMap<String, usize>,
    values: Vec<Vec<Value>>,
}

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.values.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }
}

/// One row of [`Rows`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a HashMap<String, usize>,
    values: &'a [Value],
}

impl Row<'_> {
    fn value(&self, name: &str) -> Result<&Value, DbErr> {
        self.columns
            .get(name)
            .and_then(|i| self.values.get(*i))
            .ok_or_else(|| DbErr::Type(format!("no column `{name}`")))
    }
}

/// A row's columns by name, read as the driver's rows are read: a value
/// of a column, or a model from the columns named with a prefix.
pub trait Cells {
    fn get<T: TryGetable + ValueType>(&self, name: &str) -> Result<T, DbErr>;

    fn model<E: EntityTrait>(&self, prefix: &str) -> Result<E::Model, DbErr>
    where
        E::ActiveModel: TryIntoModel<E::Model>;
}

impl Cells for QueryResult {
    fn get<T: TryGetable + ValueType>(&self, name: &str) -> Result<T, DbErr> {
        self.try_get("", name)
    }

    fn model<E: EntityTrait>(&self, prefix: &str) -> Result<E::Model, DbErr>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        E::Model::from_query_result(self, prefix)
    }
}

impl<C: Cells> Cells for &C {
    fn get<T: TryGetable + ValueType>(&self, name: &str) -> Result<T, DbErr> {
        (*self).get(name)
    }

    fn model<E: EntityTrait>(&self, prefix: &str) -> Result<E::Model, DbErr>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        (*self).model::<E>(prefix)
    }
}

impl Cells for Row<'_> {
    fn get<T: TryGetable + ValueType>(&self, name: &str) -> Result<T, DbErr> {
        T::try_from(self.value(name)?.clone())
            .map_err(|_| DbErr::Type(format!("column `{name}` is no {}", T::type_name())))
    }

    /// Each field set from its column, as the driver's rows set them: the
    /// value must be of the field's type.
    fn model<E: EntityTrait>(&self, prefix: &str) -> Result<E::Model, DbErr>
    where
        E::ActiveModel: TryIntoModel<E::Model>,
    {
        let mut model = <E::ActiveModel as ActiveModelTrait>::default();
        let mut name = String::with_capacity(prefix.len() + 24);
        for column in E::Column::iter() {
            name.clear();
            name.push_str(prefix);
            name.push_str(column.as_str());
            model.try_set(column, self.value(&name)?.clone())?;
        }
        model.try_into_model()
    }
}

/// A stored value as the driver's value of `kind`.
fn read(kind: Kind, raw: ValueRef<'_>) -> Result<Value, String> {
    let text = |t: &[u8]| std::str::from_utf8(t).map(str::to_owned).map_err(|e| e.to_string());
    Ok(match (kind, raw) {
        (Kind::Bool, ValueRef::Null) => Value::Bool(None),
        (Kind::Bool, ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
        (Kind::Int, ValueRef::Null) => Value::Int(None),
        (Kind::Int, ValueRef::Integer(i)) => {
            Value::Int(Some(<i32 as TryFrom<i64>>::try_from(i).map_err(|e| e.to_string())?))
        }
        (Kind::BigInt, ValueRef::Null) => Value::BigInt(None),
        (Kind::BigInt, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
        (Kind::Text, ValueRef::Null) => Value::String(None),
        (Kind::Text, ValueRef::Text(t)) => Value::String(Some(text(t)?)),
        (Kind::Uuid, ValueRef::Null) => Value::Uuid(None),
        (Kind::Uuid, ValueRef::Blob(b)) => Value::Uuid(Some(uuid::Uuid::from_slice(b).map_err(|e| e.to_string())?)),
        (Kind::Uuid, ValueRef::Text(t)) => Value::Uuid(Some(text(t)?.parse().map_err(|e: uuid::Error| e.to_string())?)),
        (Kind::Json, ValueRef::Null) => Value::Json(None),
        (Kind::Json, ValueRef::Text(t) | ValueRef::Blob(t)) => {
            Value::Json(Some(Box::new(serde_json::from_slice(t).map_err(|e| e.to_string())?)))
        }
        (Kind::Time, ValueRef::Null) => Value::ChronoDateTimeUtc(None),
        (Kind::Time, ValueRef::Text(t)) => {
            Value::ChronoDateTimeUtc(Some(time(std::str::from_utf8(t).map_err(|e| e.to_string())?)?))
        }
        (Kind::Time, ValueRef::Integer(seconds)) => Value::ChronoDateTimeUtc(Some(
            DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("{seconds} is no time"))?,
        )),
        (kind, raw) => return Err(format!("{:?} stored where {kind:?} is read", raw.data_type())),
    })
}

/// A time as the driver reads it: RFC 3339, or one of SQLite's own
/// formats (without an offset, in UTC).
fn time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in ["%F %T%.f%:z", "%F %T%.fZ", "%FT%T%.f%:z", "%FT%T%.fZ"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Ok(at.with_timezone(&Utc));
        }
    }
    for format in ["%F %T%.f", "%FT%T%.f", "%F %R", "%FT%R"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(at.and_utc());
        }
    }
    Err(format!("`{text}` is no time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Values;

    fn readers() -> (tempfile::TempDir, Readers) {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("read.db");
        let conn = Connection::open(&path).expect("a database");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (b, i, l, s, u, j, at); \
             INSERT INTO t VALUES (1, -7, 9000000000, 'x', NULL, '{\"a\":[1]}', '2026-11-27 10:11:12');",
        )
        .expect("a table");
        (dir, Readers::new(path))
    }

    fn kinds() -> Kinds {
        Kinds::new()
            .column("b", Kind::Bool)
            .column("i", Kind::Int)
            .column("l", Kind::BigInt)
            .column("s", Kind::Text)
            .column("u", Kind::Uuid)
            .column("j", Kind::Json)
            .column("at", Kind::Time)
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("a time").with_timezone(&Utc)
    }

    fn select(sql: &str, values: Vec<Value>) -> Statement {
        Statement {
            sql: sql.into(),
            values: Some(Values(values)),
            db_backend: sea_orm::DbBackend::Sqlite,
        }
    }

    /// Each value comes back as the driver's value the entity's field reads.
    #[test]
    fn a_value_written_as_the_driver_writes_it_reads_back_the_same() {
        let (_dir, readers) = readers();
        let id = uuid::Uuid::now_v7();
        let at = utc("2026-11-27T10:11:12.345678+00:00");
        // The values bound as parameters go through the writer's binding.
        let statement = select(
            "SELECT ? AS b, ? AS i, ? AS l, ? AS s, ? AS u, ? AS j, ? AS at",
            vec![
                false.into(),
                42i32.into(),
                i64::MAX.into(),
                "text".into(),
                id.into(),
                serde_json::json!({"k": "v"}).into(),
                at.into(),
            ],
        );
        let rows = readers.rows(statement, &kinds()).expect("rows");
        let row = rows.iter().next().expect("a row");
        assert!(!row.get::<bool>("b").expect("b"));
        assert_eq!(row.get::<i32>("i").expect("i"), 42);
        assert_eq!(row.get::<i64>("l").expect("l"), i64::MAX);
        assert_eq!(row.get::<String>("s").expect("s"), "text");
        assert_eq!(row.get::<uuid::Uuid>("u").expect("u"), id);
        assert_eq!(
            row.get::<serde_json::Value>("j").expect("j"),
            serde_json::json!({"k": "v"})
        );
        assert_eq!(row.get::<DateTime<Utc>>("at").expect("at"), at);
        // A value is read as its own type only.
        assert!(row.get::<i64>("i").is_err());
        assert!(row.get::<Option<String>>("missing").is_err());
    }

    #[test]
    fn nulls_and_sqlite_own_times_read_as_the_driver_reads_them() {
        let (_dir, readers) = readers();
        let rows = readers.rows(select("SELECT * FROM t", vec![]), &kinds()).expect("rows");
        let row = rows.iter().next().expect("a row");
        assert!(row.get::<bool>("b").expect("b"));
        assert_eq!(row.get::<i32>("i").expect("i"), -7);
        assert_eq!(row.get::<i64>("l").expect("l"), 9_000_000_000);
        assert_eq!(row.get::<Option<uuid::Uuid>>("u").expect("u"), None);
        assert!(row.get::<uuid::Uuid>("u").is_err(), "a null is not a value");
        assert_eq!(
            row.get::<serde_json::Value>("j").expect("j"),
            serde_json::json!({"a": [1]})
        );
        assert_eq!(
            row.get::<DateTime<Utc>>("at").expect("at").to_rfc3339(),
            "2026-11-27T10:11:12+00:00"
        );
    }

    #[test]
    fn a_column_without_a_kind_or_of_another_kind_is_an_error_not_a_guess() {
        let (_dir, readers) = readers();
        let unnamed = readers.rows(select("SELECT 1 AS other", vec![]), &kinds());
        assert!(
            matches!(unnamed, Err(DbErr::Type(ref m)) if m.contains("`other` has no kind")),
            "{unnamed:?}"
        );
        // Text where an integer is read.
        let wrong = readers.rows(select("SELECT 'x' AS i", vec![]), &kinds());
        assert!(
            matches!(wrong, Err(DbErr::Type(ref m)) if m.contains("`i`")),
            "{wrong:?}"
        );
        // An i32 column holding more than an i32.
        let wide = readers.rows(select("SELECT 9000000000 AS i", vec![]), &kinds());
        assert!(wide.is_err());
    }

    #[test]
    fn a_reader_does_not_write() {
        let (_dir, readers) = readers();
        let write = readers.rows(select("DELETE FROM t RETURNING b", vec![]), &kinds());
        assert!(write.is_err());
        let left = readers.rows(select("SELECT * FROM t", vec![]), &kinds()).expect("rows");
        assert_eq!(left.iter().count(), 1);
    }

    /// A model is read field by field from its prefixed columns.
    #[test]
    fn a_model_is_read_from_the_columns_of_its_prefix() {
        use crate::entities::tenants;
        let (_dir, readers) = readers();
        let id = uuid::Uuid::now_v7();
        let at = utc("2026-11-27T10:11:12.5+00:00");
        let kinds = Kinds::new().entity::<tenants::Entity>("B_");
        let sql = "SELECT ? AS B_id, 'Ann' AS B_name, 'ann' AS B_slug, 'active' AS B_status, \
                   ? AS B_created_at, ? AS B_updated_at";
        let rows = readers
            .rows(select(sql, vec![id.into(), at.into(), at.into()]), &kinds)
            .expect("rows");
        let row = rows.iter().next().expect("a row");
        let tenant = row.model::<tenants::Entity>("B_").expect("a tenant");
        let expected = tenants::Model {
            id,
            name: "Ann".into(),
            slug: "ann".into(),
            status: "active".into(),
            created_at: at,
            updated_at: at,
        };
        assert_eq!(tenant, expected);
        assert!(row.model::<tenants::Entity>("A_").is_err(), "no columns of that prefix");
    }

    #[test]
    fn an_entity_gives_its_columns_kinds_under_a_prefix() {
        let kinds = Kinds::new().entity::<crate::entities::variants::Entity>("cv_");
        assert_eq!(kinds.get("cv_position").ok(), Some(Kind::Int));
        assert_eq!(kinds.get("cv_price").ok(), Some(Kind::BigInt));
        assert_eq!(kinds.get("cv_archived").ok(), Some(Kind::Bool));
        assert_eq!(kinds.get("cv_id").ok(), Some(Kind::Uuid));
        assert_eq!(kinds.get("cv_created_at").ok(), Some(Kind::Time));
        assert!(kinds.get("position").is_err());
    }
}
