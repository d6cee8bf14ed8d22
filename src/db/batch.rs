//! SQLite: many statements in one round trip. Every statement sent through
//! the driver is a hand-off to the connection's thread and back, and with
//! one writer at a time those hand-offs, not SQLite's work, bounded how many
//! write transactions a second could commit. A batch joins its statements
//! into one multi-statement query, so the thread runs them all in one go.
//!
//! All statements run, in order, whatever the earlier ones did (an error
//! stops the batch). A statement whose outcome matters answers rows whose
//! first column is its step (`RETURNING <step>`); the caller reads which
//! steps answered and rolls the transaction back when one that had to did not.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement, Value};

use super::insert;

/// Statements to send together; SQLite only.
#[derive(Default)]
pub struct Batch {
    statements: Vec<(String, Vec<Value>)>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// A statement written in SQL with `?` placeholders, bound in order.
    pub fn push_sql(&mut self, sql: &str, values: impl IntoIterator<Item = Value>) {
        self.statements.push((sql.to_string(), values.into_iter().collect()));
    }

    /// The insert of `models`, whole rows of their table (none for none).
    pub fn push_rows<M: insert::Row>(&mut self, models: Vec<M>) {
        if let Some((sql, values)) = insert::rows(models) {
            self.statements.push((sql, values));
        }
    }

    /// The statements, each with its values, in order.
    pub fn into_statements(self) -> Vec<(String, Vec<Value>)> {
        self.statements
    }

    /// Runs every statement in one round trip; answers the rows, in order.
    pub async fn run(self, conn: &impl ConnectionTrait) -> Result<Steps, DbErr> {
        if self.statements.is_empty() {
            return Ok(Steps(Vec::new()));
        }
        let mut sql = String::new();
        let mut values = Vec::new();
        for (text, mut bound) in self.statements {
            if !sql.is_empty() {
                sql.push_str(";\n");
            }
            sql.push_str(&text);
            values.append(&mut bound);
        }
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values))
            .await?;
        Steps::of(rows)
    }
}

/// PostgreSQL: statements in one round trip, as the parts of one statement
/// (data-modifying CTEs). PostgreSQL runs the parts with one snapshot, in
/// the order the main query reads them: a part sees no row another part
/// wrote, so no two parts may change the same row. The main query is the
/// union of the answers, each a `SELECT` whose first column is a step.
#[derive(Default)]
pub struct Chain {
    parts: Vec<String>,
    answers: Vec<String>,
    values: Vec<Value>,
    answer_values: Vec<Value>,
}

impl Chain {
    pub fn new() -> Chain {
        Chain::default()
    }

    /// A part written in SQL with `?` placeholders; answers its name, for
    /// an answer or a later part to read what it returned.
    pub fn push_sql(&mut self, sql: &str, values: impl IntoIterator<Item = Value>) -> String {
        let name = format!("q{}", self.parts.len());
        self.parts.push(format!("{name} AS ({sql})"));
        self.values.extend(values);
        name
    }

    /// A part built by sea-orm (for SQLite, so with `?` placeholders).
    pub fn push_statement(&mut self, statement: Statement) -> String {
        let values = statement.values.map(|v| v.0).unwrap_or_default();
        self.push_sql(&statement.sql, values)
    }

    /// A part inserting `models`, whole rows of their table (none for none).
    pub fn push_rows<M: insert::Row>(&mut self, models: Vec<M>) {
        if let Some((sql, values)) = insert::rows(models) {
            self.push_sql(&sql, values);
        }
    }

    /// An answer: a `SELECT` with `?` placeholders whose first column is
    /// its step; every answer has the same columns.
    pub fn answer(&mut self, select: &str, values: impl IntoIterator<Item = Value>) {
        self.answers.push(select.to_string());
        self.answer_values.extend(values);
    }

    /// Runs the statement; answers the answers' rows.
    pub async fn run(mut self, conn: &impl ConnectionTrait) -> Result<Steps, DbErr> {
        let main = if self.answers.is_empty() {
            "SELECT NULL::int8 WHERE false".to_string()
        } else {
            self.answers.join(" UNION ALL ")
        };
        let text = if self.parts.is_empty() {
            main
        } else {
            format!("WITH {} {main}", self.parts.join(", "))
        };
        self.values.append(&mut self.answer_values);
        let sql = super::placeholders(DbBackend::Postgres, &text);
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, self.values))
            .await?;
        Steps::of(rows)
    }
}

/// The rows a batch answered, each with its statement's step; a row is
/// the driver's (`QueryResult`) or, from the writer's own connection (see
/// [`super::writer`]), its values.
pub struct Steps<R = QueryResult>(Vec<(i64, R)>);

impl Steps {
    fn of(rows: Vec<QueryResult>) -> Result<Steps, DbErr> {
        let mut steps = Vec::with_capacity(rows.len());
        for row in rows {
            steps.push((row.try_get_by_index::<i64>(0)?, row));
        }
        Ok(Steps(steps))
    }
}

impl<R> Steps<R> {
    /// Rows already read, each with its step.
    pub fn from_rows(rows: Vec<(i64, R)>) -> Steps<R> {
        Steps(rows)
    }

    /// Whether the statement of `step` answered a row.
    pub fn answered(&self, step: i64) -> bool {
        self.0.iter().any(|(s, _)| *s == step)
    }

    /// The first row the statement of `step` answered.
    pub fn row(&self, step: i64) -> Option<&R> {
        self.0.iter().find(|(s, _)| *s == step).map(|(_, row)| row)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

    use super::Batch;

    /// One connection: every connection to `sqlite::memory:` is its own database.
    async fn table_with_five() -> DatabaseConnection {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0))")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO t VALUES (1, 5)").await.unwrap();
        db
    }

    fn take(batch: &mut Batch, n: i64, step: i64) {
        batch.push_sql(
            &format!("UPDATE t SET n = n - ? WHERE id = 1 AND n >= ? RETURNING {step}"),
            [n.into(), n.into()],
        );
    }

    #[tokio::test]
    async fn every_statement_runs_and_only_those_that_changed_a_row_answer_their_step() {
        let db = table_with_five().await;
        let mut batch = Batch::new();
        take(&mut batch, 3, 1);
        take(&mut batch, 3, 2);
        take(&mut batch, 2, 3);
        batch.push_sql("SELECT 4, n FROM t WHERE id = ?", [1i64.into()]);
        let steps = batch.run(&db).await.unwrap();
        assert!(steps.answered(1));
        assert!(!steps.answered(2), "only 2 were left");
        assert!(steps.answered(3));
        let left: i64 = steps.row(4).unwrap().try_get_by_index(1).unwrap();
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn an_error_stops_the_batch_at_its_statement() {
        let db = table_with_five().await;
        let mut batch = Batch::new();
        batch.push_sql("UPDATE t SET n = -1 WHERE id = 1", []);
        take(&mut batch, 1, 1);
        assert!(batch.run(&db).await.is_err(), "the CHECK refuses a negative n");
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT n FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.try_get_by_index::<i64>(0).unwrap(),
            5,
            "the statement after the error did not run"
        );
    }

    #[tokio::test]
    async fn an_empty_batch_answers_nothing() {
        let db = table_with_five().await;
        let steps = Batch::new().run(&db).await.unwrap();
        assert!(!steps.answered(0));
    }
}
