//! `Application::build`: settings -> database -> HTTP server. Tests start the
//! application exactly like production, on port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::tokens::JwtKeys;
use crate::db::Db;
use crate::error::ApiError;
use crate::http::{extract, request_id};
use crate::marketplace::journal::CallJournal;
use crate::marketplace::modules::Modules;
use crate::marketplace::registry;
use crate::openapi::ApiDoc;
use crate::plugin_host::{BreakerConfig, CircuitBreaker, Host, HostConfig};
use crate::settings::Settings;
use crate::state::AppState;
use crate::{auth, billing, catalog, events, health, live, marketplace, orders, tenancy};

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = Db::connect(&settings).await?;
        if settings.database.migrate_on_start {
            db.migrate().await?;
        }
        if settings.seed_demo() {
            let base = format!("http://{}:{}", settings.server.host, settings.server.port);
            crate::demo::seed(&db, &base).await?;
        }
        let keys = JwtKeys::load(&settings.auth, &settings.data_dir).context("loading signing keys")?;
        let host = plugin_runtime(&settings)?;
        let breaker = CircuitBreaker::new(BreakerConfig {
            threshold: settings.plugins.breaker_threshold,
            ..BreakerConfig::default()
        });
        let calls = CallJournal::start(db.clone(), settings.plugins.calls_kept);
        let feed_poll = std::time::Duration::from_millis(settings.live.feed_poll_ms.max(1));
        let hub = Arc::new(live::Hub::new(db.clone(), feed_poll));
        let settings_billing = settings.billing.clone();
        let state = AppState {
            db,
            settings: Arc::new(settings),
            keys: Arc::new(keys),
            host,
            modules: Arc::new(Modules::default()),
            breaker: Arc::new(breaker),
            calls,
            live: hub,
            events: Arc::default(),
            numbers: Arc::default(),
            billing: crate::billing::Billing::from_settings(&settings_billing)?,
        };
        let bundled = state.settings.plugins.bundled_dir.clone();
        let registered = registry::register_bundled(&state, &bundled)
            .await
            .context("registering bundled plug-ins")?;
        tracing::info!(count = registered.len(), dir = %bundled.display(), "bundled plug-ins registered");
        if state.settings.seed_demo() {
            // The examples give a fresh demo server plug-ins to install.
            for dir in ["examples/hello-plugin", "examples/wat-plugin"] {
                registry::register_bundled(&state, std::path::Path::new(dir))
                    .await
                    .with_context(|| format!("registering the example plug-ins in {dir}"))?;
            }
        }
        events::notify::spawn_listener(state.clone());
        if state.settings.events.dispatcher {
            events::dispatcher::spawn(state.clone());
        }
        let address = format!("{}:{}", state.settings.server.host, state.settings.server.port);
        let listener = TcpListener::bind(&address).with_context(|| format!("binding {address}"))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        let server = run(listener, state.clone())?;
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// One plug-in runtime per process (tests start many applications in one
/// process; they share it). Compiled modules are cached under the data dir.
fn plugin_runtime(settings: &Settings) -> anyhow::Result<Arc<Host>> {
    let mut config = HostConfig::production(Some(settings.data_dir.join("module-cache")));
    config.slots = settings.plugins.pool_slots;
    Host::shared(config)
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let settings = state.settings.clone();
    let data = web::Data::new(state);
    let workers = settings.server.workers;
    let shutdown = settings.server.shutdown_timeout;
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(Compress::default())
            .wrap(from_fn(request_id::middleware))
            .app_data(data.clone())
            .app_data(extract::json_config(settings.server.json_limit))
            .app_data(extract::path_config())
            .app_data(extract::query_config())
            .service(health::live)
            .service(health::ready)
            .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", ApiDoc::openapi()))
            .service(
                // The router tries each route in turn, a regular expression
                // for each with a path parameter; the shopper's cart and
                // order routes, the busiest, go first.
                web::scope("/api/v1")
                    .configure(orders::routes)
                    .configure(auth::routes)
                    .configure(tenancy::routes)
                    .configure(catalog::routes)
                    .configure(marketplace::routes)
                    .configure(live::routes)
                    .configure(events::routes)
                    .configure(billing::routes),
            )
            .default_service(web::to(not_found))
    })
    .shutdown_timeout(shutdown);
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.listen(listener).context("listening")?.run())
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
