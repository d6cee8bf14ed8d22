//! PostgreSQL: `livemall_refuse(answered)`, which fails the statement that
//! calls it. A checkout's last statement is sent together with its
//! `COMMIT`, so a part of it that did not take what it asked for (stock, a
//! plug-in's claim) has to fail the statement itself: the error skips the
//! `COMMIT`, and names, in its detail, the steps that did answer.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000032_refuse"
    }
}

/// The SQLSTATE of the error `livemall_refuse` raises.
pub const REFUSED: &str = "LMREF";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&format!(
                    "CREATE OR REPLACE FUNCTION livemall_refuse(answered text) RETURNS int \
                     LANGUAGE plpgsql VOLATILE AS $$ BEGIN \
                       RAISE EXCEPTION USING ERRCODE = '{REFUSED}', \
                         MESSAGE = 'a part of the statement did not take what it asked for', \
                         DETAIL = coalesce(answered, ''); \
                     END $$"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS livemall_refuse(text)")
                .await?;
        }
        Ok(())
    }
}
