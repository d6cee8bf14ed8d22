//! Tenants, identities, API keys, invitations, stores and idempotency keys.
//! Tenant-owned tables key on `(tenant_id, id)` so a tenant-sharded
//! PostgreSQL can distribute them by `tenant_id`.

use sea_orm_migration::prelude::*;

use crate::columns::{at, at_null, index, text, unique, uuid, uuid_null};
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_foundation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rls::ensure_app_role(m).await?;

        m.create_table(
            Table::create()
                .table("tenants")
                .col(uuid("id").primary_key())
                .col(text("name"))
                .col(text("slug"))
                .col(text("status"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "tenants_slug", "tenants", &["slug"]).await?;
        rls::protect(m, "tenants", "id").await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(text("email"))
                .col(text("password_hash"))
                .col(text("role"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("users", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Login identities are global: one email, one account.
        unique(m, "users_email", "users", &["email"]).await?;
        rls::protect(m, "users", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("platform_admins")
                .col(uuid("id").primary_key())
                .col(text("email"))
                .col(text("password_hash"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "platform_admins_email", "platform_admins", &["email"]).await?;
        rls::platform_table(m, "platform_admins").await?;

        m.create_table(
            Table::create()
                .table("refresh_tokens")
                .col(uuid("id").primary_key())
                .col(uuid("family_id"))
                .col(text("subject_kind"))
                .col(uuid("subject_id"))
                .col(uuid_null("tenant_id"))
                .col(text("token_hash"))
                .col(at("expires_at"))
                .col(at_null("used_at"))
                .col(at_null("revoked_at"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "refresh_tokens_hash", "refresh_tokens", &["token_hash"]).await?;
        index(m, "refresh_tokens_family", "refresh_tokens", &["family_id"]).await?;
        index(m, "refresh_tokens_subject", "refresh_tokens", &["subject_id"]).await?;
        rls::platform_table(m, "refresh_tokens").await?;

        m.create_table(
            Table::create()
                .table("login_attempts")
                .col(text("email").primary_key())
                .col(ColumnDef::new("failures").integer().not_null())
                .col(at("window_started_at"))
                .col(at_null("locked_until"))
                .to_owned(),
        )
        .await?;
        rls::platform_table(m, "login_attempts").await?;

        m.create_table(
            Table::create()
                .table("api_keys")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(text("name"))
                .col(text("prefix"))
                .col(text("key_hash"))
                .col(ColumnDef::new("scopes").json_binary().not_null())
                .col(uuid("created_by"))
                .col(at("created_at"))
                .col(at_null("last_used_at"))
                .col(at_null("revoked_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("api_keys", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // Keys are looked up by their hash before the tenant is known.
        unique(m, "api_keys_hash", "api_keys", &["key_hash"]).await?;
        rls::protect(m, "api_keys", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("invitations")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(text("email"))
                .col(text("role"))
                .col(text("token_hash"))
                .col(uuid("invited_by"))
                .col(at("expires_at"))
                .col(at_null("accepted_at"))
                .col(at_null("revoked_at"))
                .col(at("created_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("invitations", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        unique(m, "invitations_token", "invitations", &["token_hash"]).await?;
        rls::protect(m, "invitations", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("stores")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(text("name"))
                .col(text("slug"))
                .col(text("currency"))
                .col(text("time_zone"))
                .col(text("status"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("stores", "tenant_id")
                        .to("tenants", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        unique(m, "stores_slug", "stores", &["tenant_id", "slug"]).await?;
        rls::protect(m, "stores", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(uuid("tenant_id"))
                .col(text("key"))
                .col(text("request_hash"))
                .col(ColumnDef::new("status_code").integer().not_null())
                .col(text("response_body"))
                .col(at("created_at"))
                .primary_key(Index::create().col("tenant_id").col("key"))
                .to_owned(),
        )
        .await?;
        rls::protect(m, "idempotency_keys", "tenant_id").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "idempotency_keys",
            "stores",
            "invitations",
            "api_keys",
            "login_attempts",
            "refresh_tokens",
            "platform_admins",
            "users",
            "tenants",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
