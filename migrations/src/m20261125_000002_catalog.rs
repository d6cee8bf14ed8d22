//! The catalog: products with their tags and variants, and collections.
//! Every table keys on `tenant_id` first and points at its parents through
//! `(tenant_id, ...)`, so no row can reference another tenant's.

use sea_orm_migration::prelude::*;

use crate::columns::{at, big, flag, index, int, json, tenant_fk, text, unique, uuid};
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000002_catalog"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("products")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("store_id"))
                .col(text("title"))
                .col(text("description"))
                .col(text("status"))
                .col(json("images"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("products", "store_id", "stores"))
                .to_owned(),
        )
        .await?;
        index(m, "products_store", "products", &["tenant_id", "store_id", "id"]).await?;
        rls::protect(m, "products", "tenant_id").await?;

        // Tags live in their own table so `?tag=` is an indexed lookup on both engines.
        m.create_table(
            Table::create()
                .table("product_tags")
                .col(uuid("tenant_id"))
                .col(uuid("product_id"))
                .col(uuid("store_id"))
                .col(text("tag"))
                .primary_key(Index::create().col("tenant_id").col("product_id").col("tag"))
                .foreign_key(&mut tenant_fk("product_tags", "product_id", "products"))
                .to_owned(),
        )
        .await?;
        index(m, "product_tags_tag", "product_tags", &["tenant_id", "store_id", "tag"]).await?;
        rls::protect(m, "product_tags", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("variants")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("store_id"))
                .col(uuid("product_id"))
                .col(text("sku"))
                .col(text("title"))
                .col(big("price"))
                .col(big("stock"))
                .col(int("position"))
                .col(flag("archived"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("variants", "product_id", "products"))
                // The database itself refuses to oversell, whatever the application does.
                .check(("variants_stock_not_negative", Expr::col("stock").gte(0)))
                .check(("variants_price_not_negative", Expr::col("price").gte(0)))
                .to_owned(),
        )
        .await?;
        unique(m, "variants_sku", "variants", &["tenant_id", "store_id", "sku"]).await?;
        index(
            m,
            "variants_product",
            "variants",
            &["tenant_id", "product_id", "position"],
        )
        .await?;
        rls::protect(m, "variants", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("collections")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("store_id"))
                .col(text("title"))
                .col(text("slug"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("collections", "store_id", "stores"))
                .to_owned(),
        )
        .await?;
        unique(m, "collections_slug", "collections", &["tenant_id", "store_id", "slug"]).await?;
        rls::protect(m, "collections", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("collection_products")
                .col(uuid("tenant_id"))
                .col(uuid("collection_id"))
                .col(uuid("product_id"))
                .col(int("position"))
                .primary_key(Index::create().col("tenant_id").col("collection_id").col("product_id"))
                .foreign_key(&mut tenant_fk("collection_products", "collection_id", "collections"))
                .foreign_key(&mut tenant_fk("collection_products", "product_id", "products"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "collection_products_product",
            "collection_products",
            &["tenant_id", "product_id"],
        )
        .await?;
        rls::protect(m, "collection_products", "tenant_id").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "collection_products",
            "collections",
            "variants",
            "product_tags",
            "products",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
