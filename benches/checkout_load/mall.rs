//! The mall under load: the real application in this process, a merchant,
//! a store with one hot variant and 10,000 others, and the plug-ins.

use std::sync::atomic::AtomicU64;

use anyhow::{bail, Context};
use livemall::db::Access;
use livemall::entities::stores;
use livemall::marketplace::{installs, registry};
use livemall::settings::Settings;
use livemall::startup::Application;
use livemall::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{Config, PgConnect, Plugins};

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Far more than any run sells, and below the catalogue's 10^9 limit.
pub const HOT_STOCK: i64 = 100_000_000;
/// A few hundred units at most go to one spread variant in a run.
pub const SPREAD_STOCK: i64 = 1_000_000;
/// 100 products x 100 variants (the most one create accepts).
const PRODUCTS: usize = 100;
const VARIANTS_PER_PRODUCT: usize = 100;

#[derive(Debug, Clone)]
pub struct Variant {
    pub id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
}

pub struct Mall {
    pub state: AppState,
    pub base: String,
    pub client: reqwest::Client,
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    pub store: stores::Model,
    /// A store of the same tenant without installs: the baseline prices through it.
    pub bare_store: stores::Model,
    pub hot: Variant,
    pub spread: Vec<Variant>,
    /// Checkouts answered 201 (HTTP) or committed (baseline), warm-up included.
    pub placed: AtomicU64,
    /// The live stream shoppers order from (bundled plug-ins only).
    pub stream_id: Option<Uuid>,
    pub pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

/// The application's URL for database `name`: through the server's Unix
/// socket, or over TCP on the loopback without or with TLS.
fn pg_url(connect: PgConnect, name: &str) -> String {
    match connect {
        PgConnect::Socket => format!("postgres://postgres@localhost/{name}?host=/var/run/postgresql"),
        PgConnect::Tcp => format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable"),
        PgConnect::Tls => format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=require"),
    }
}

async fn create_pg_database(connect: PgConnect) -> anyhow::Result<(String, String)> {
    let name = format!("livemall_load_{}", std::process::id());
    let admin = Database::connect(PG_ADMIN).await.context("connecting to PostgreSQL")?;
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    admin.close().await?;
    Ok((name.clone(), pg_url(connect, &name)))
}

pub async fn drop_pg_database(name: &str) -> anyhow::Result<()> {
    let admin = Database::connect(PG_ADMIN).await?;
    // FORCE: the application's pool is still open.
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin.close().await?;
    Ok(())
}

impl Mall {
    pub async fn open(config: &Config) -> anyhow::Result<Mall> {
        let dir = tempfile::tempdir()?;
        let mut settings = Settings {
            data_dir: dir.path().to_path_buf(),
            demo_data: Some(false),
            ..Settings::default()
        };
        settings.server.port = 0;
        settings.plugins.bundled_dir = dir.path().join("no-bundled-plugins");
        if let Some(pool) = config.pool {
            settings.database.max_connections = pool;
        }
        if let Some(workers) = config.workers {
            settings.server.workers = workers;
        }
        let mut pg_database = None;
        if config.postgres {
            let (name, url) = create_pg_database(config.pg_connect).await?;
            settings.database.url = url;
            pg_database = Some(name);
        }
        let app = Application::build(settings).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
        let mut setup = Setup {
            client: &client,
            base: &base,
            token: String::new(),
        };
        let signup = setup
            .post(
                "/api/v1/auth/signup",
                json!({"email": "load@example.com", "password": "correct horse battery staple", "tenant_name": "Load"}),
            )
            .await?;
        setup.token = str_of(&signup["access_token"])?;
        if config.plan {
            setup.subscribe(&state).await?;
        }
        let tenant_id: Uuid = str_of(&signup["tenant"]["id"])?.parse()?;
        let tenant_slug = str_of(&signup["tenant"]["slug"])?;
        let store_id = setup.store("main").await?;
        let bare_id = setup.store("bare").await?;

        let hot = setup.products(store_id, "HOT", 1, 1, HOT_STOCK).await?.remove(0);
        let spread = setup
            .products(store_id, "SP", PRODUCTS, VARIANTS_PER_PRODUCT, SPREAD_STOCK)
            .await?;

        let txn = state.db.tenant(tenant_id, Access::Read).await?;
        let store = livemall::tenancy::stores::find(&txn, store_id).await?;
        let bare_store = livemall::tenancy::stores::find(&txn, bare_id).await?;
        drop(txn);
        let stream_id = match config.plugins {
            Plugins::Examples(n) => {
                install_plugins(&state, tenant_id, store_id, n).await?;
                None
            }
            Plugins::Bundled => Some(setup.bundled(&state, store_id, &hot).await?),
        };
        Ok(Mall {
            state,
            base,
            client,
            tenant_id,
            tenant_slug,
            store,
            bare_store,
            hot,
            spread,
            placed: AtomicU64::new(0),
            stream_id,
            pg_database,
            _dir: dir,
        })
    }

    pub fn orders_url(&self) -> String {
        format!("{}/api/v1/storefront/{}/main/orders", self.base, self.tenant_slug)
    }
}

fn str_of(v: &Value) -> anyhow::Result<String> {
    v.as_str()
        .map(str::to_string)
        .with_context(|| format!("expected a string, got {v}"))
}

struct Setup<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    token: String,
}

impl Setup<'_> {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        if !status.is_success() {
            bail!("POST {path}: {status} {body}");
        }
        Ok(body)
    }

    /// The three bundled plug-ins as a merchant sets them up for a live
    /// sale, each touching every order of the hot variant: an automatic 5%
    /// promotion with a usage limit (a claim per order), a 30-minute
    /// countdown on the hot product, pinned in a live stream, and a flash
    /// deal on the hot variant (a claim per unit). Returns the stream.
    async fn bundled(&self, state: &AppState, store: Uuid, hot: &Variant) -> anyhow::Result<Uuid> {
        let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/dist");
        registry::register_bundled(state, &dist).await?;
        let installs = [
            json!({"plugin": "coupons", "priority": 100, "config": {"campaigns": [{"id": "load", "automatic": true,
                "title": "Live week", "discount": "percentage", "percent": 5, "usage_limit": 1_000_000_000}]}}),
            json!({"plugin": "countdown", "priority": 20, "config": {"duration_seconds": 1800, "percent_off": 10}}),
            json!({"plugin": "flash-deals", "priority": 10, "config": {"deals": [{"id": "hot", "variant": hot.sku,
                "price": 990, "quantity": 1_000_000_000, "per_customer_limit": 1_000_000}]}}),
        ];
        for body in installs {
            self.post(&format!("/api/v1/stores/{store}/plugins"), body).await?;
        }
        let stream = self
            .post(
                &format!("/api/v1/stores/{store}/streams"),
                json!({"title": "Load live", "scheduled_at": "2026-11-27T18:00:00Z"}),
            )
            .await?;
        let stream_id: Uuid = str_of(&stream["id"])?.parse()?;
        self.post(&format!("/api/v1/stores/{store}/streams/{stream_id}/start"), json!({}))
            .await?;
        self.post(
            &format!("/api/v1/stores/{store}/streams/{stream_id}/pins"),
            json!({"product_id": hot.product_id}),
        )
        .await?;
        Ok(stream_id)
    }

    /// Subscribes the tenant to a plan without limits, as a paying
    /// merchant is: every order then counts towards its usage.
    async fn subscribe(&self, state: &AppState) -> anyhow::Result<()> {
        let (email, password) = ("root@load.test", "correct horse battery staple");
        livemall::admin::create_admin(&state.db, email, password.into()).await?;
        let anonymous = Setup {
            client: self.client,
            base: self.base,
            token: String::new(),
        };
        let login = anonymous
            .post("/api/v1/auth/login", json!({"email": email, "password": password}))
            .await?;
        let admin = Setup {
            token: str_of(&login["access_token"])?,
            ..anonymous
        };
        let plan = admin
            .post(
                "/api/v1/admin/plans",
                json!({"name": "Open", "slug": "open", "price": 1000, "currency": "EUR", "trial_days": 0, "limits": {}}),
            )
            .await?;
        self.post("/api/v1/billing/subscription", json!({"plan_id": plan["id"]}))
            .await?;
        Ok(())
    }

    async fn store(&self, slug: &str) -> anyhow::Result<Uuid> {
        let body = json!({"name": slug, "slug": slug, "currency": "EUR", "time_zone": "Europe/Paris"});
        Ok(str_of(&self.post("/api/v1/stores", body).await?["id"])?.parse()?)
    }

    /// `products` products of `per` variants each; every variant costs 19.90.
    async fn products(
        &self,
        store: Uuid,
        prefix: &str,
        products: usize,
        per: usize,
        stock: i64,
    ) -> anyhow::Result<Vec<Variant>> {
        let mut out = Vec::with_capacity(products * per);
        for p in 0..products {
            let variants: Vec<Value> = (0..per)
                .map(|v| json!({"sku": format!("{prefix}-{p}-{v}"), "title": format!("#{v}"), "price": 1990, "stock": stock}))
                .collect();
            let body = json!({"title": format!("{prefix} {p}"), "status": "active", "variants": variants});
            let created = self.post(&format!("/api/v1/stores/{store}/products"), body).await?;
            let product_id: Uuid = str_of(&created["id"])?.parse()?;
            for v in created["variants"].as_array().context("variants")? {
                out.push(Variant {
                    id: str_of(&v["id"])?.parse()?,
                    product_id,
                    sku: str_of(&v["sku"])?,
                });
            }
        }
        Ok(out)
    }
}

/// Registers and installs up to three real plug-ins: the SDK example, the
/// hand-written WAT discount, and a guest that answers a fixed 0.50 off.
async fn install_plugins(state: &AppState, tenant_id: Uuid, store_id: Uuid, count: usize) -> anyhow::Result<()> {
    let root = env!("CARGO_MANIFEST_DIR");
    let guests = [
        (
            "hello",
            std::fs::read(format!("{root}/examples/hello-plugin/hello_plugin.wasm"))?,
            json!({}),
        ),
        (
            "wat-discount",
            std::fs::read(format!("{root}/examples/wat-plugin/discount.wasm"))?,
            json!({}),
        ),
        (
            "fixed-off",
            wat::parse_file(format!("{root}/tests/guests/config_effects.wat"))?,
            json!({"adjustments": [{"amount": -50, "label": "0.50 off", "class": "promo"}]}),
        ),
    ];
    for (i, (slug, wasm, config)) in guests.into_iter().take(count).enumerate() {
        let plugin = registry::NewPlugin {
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            author: "load".into(),
            version: "1.0.0".into(),
            config_schema: json!({"type": "object"}),
            wasm,
        };
        let registered = registry::register(state, plugin).await?;
        let txn = state.db.tenant(tenant_id, Access::Write).await?;
        let priority = 10 * (i32::try_from(i)? + 1);
        installs::install(state, &txn, store_id, registered.plugin_id, config, priority)
            .await
            .map_err(|e| anyhow::anyhow!("installing {slug}: {e}"))?;
        txn.commit().await?;
    }
    Ok(())
}
