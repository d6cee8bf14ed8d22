//! PostgreSQL row-level security: the second wall behind the tenant scope.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The role every application transaction switches to. It has no BYPASSRLS,
/// so the policies below hold even when the server connects as an owner.
pub const APP_ROLE: &str = "livemall_app";

/// Creates the application role once per cluster and lets the migrating user
/// switch to it. Parallel migrations (tests) may race, so duplicates are fine.
pub async fn ensure_app_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
             CREATE ROLE {APP_ROLE} NOLOGIN NOBYPASSRLS;
           END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$;"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "DO $$ BEGIN
           EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
         EXCEPTION WHEN OTHERS THEN NULL;
         END $$;"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "GRANT USAGE ON SCHEMA public TO {APP_ROLE};
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
         ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE};"
    ))
    .await?;
    Ok(())
}

/// Grants the role access to `table` and confines it to the tenant in
/// `app.tenant_id` (set per transaction). `column` holds the tenant id.
pub async fn protect(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let tenant = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE};
             ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON {table}
               USING ({column} = {tenant}) WITH CHECK ({column} = {tenant});"
        ))
        .await?;
    Ok(())
}

/// Grants the role access to a platform-level table (no tenant column).
pub async fn platform_table(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE};"
        ))
        .await?;
    Ok(())
}
