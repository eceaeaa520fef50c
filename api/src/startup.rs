//! Building and running the HTTP server: middleware, routes, docs, metrics.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Condition, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;
use anyhow::Context;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::guard::AddressLimits;
use crate::auth::password;
use crate::auth::tokens::TokenKeys;
use crate::config::{MetricsEndpoint, Settings};
use crate::error::{ApiError, render_problem, request_id};
use crate::extract::{JSON_LIMIT, path_config};
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::throttle::{self, Limit};
use crate::{
    applications, assets, audit, auth, banks, bootstrap, db, equity, health, matching, middleware,
    notifications, organizations, products, regions, stats, storage, users,
};

/// Every route of the service, for the server and for the OpenAPI document alike.
fn configure_routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/v1")
            .configure(auth::routes)
            .configure(users::routes)
            .configure(regions::routes)
            .configure(organizations::routes)
            .configure(banks::routes)
            .configure(stats::routes)
            .configure(assets::routes)
            .configure(assets::document_routes)
            .configure(equity::routes)
            .configure(products::routes)
            .configure(matching::routes)
            .configure(applications::routes)
            .configure(audit::routes::routes)
            .configure(notifications::routes),
    )
    .configure(health::routes);
}

pub fn api_routes_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure_routes)
        .split_for_parts();
    utoipa::Modify::modify(&crate::openapi::SharedResponses, &mut document);
    crate::openapi::describe_responses(&mut document);
    document
}

/// Connects, applies migrations and makes sure an admin exists: everything before serving.
pub async fn prepare(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = db::connect(settings.database_url().expose_secret()).await?;
    db::migrate(&db).await?;
    bootstrap::ensure_admin(&db, settings).await?;
    Ok(db)
}

pub struct Application {
    port: u16,
    server: Server,
    metrics_server: Option<Server>,
    sweepers: [tokio::task::JoinHandle<()>; 4],
}

impl Application {
    /// Connects, migrates, makes sure an admin exists, and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = prepare(&settings).await?;
        Self::build_with_db(settings, db).await
    }

    /// Serves an already connected and migrated database.
    pub async fn build_with_db(settings: Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        let secret = settings.resolve_jwt_secret()?;
        let dummy_hash = tokio::task::spawn_blocking(password::dummy_hash).await??;
        let state = web::Data::new(AppState {
            db: db.clone(),
            tokens: TokenKeys::new(&secret),
            dummy_hash: Arc::from(dummy_hash),
            store: storage::open(&settings)?,
            body_timeout: Duration::from_secs(settings.body_timeout_secs.max(1)),
            limits: AddressLimits {
                login: Limit::per_minute(settings.login_rate_per_address),
                refresh: Limit::per_minute(settings.refresh_rate_per_address),
                trust_proxy_headers: settings.trust_proxy_headers,
            },
        });
        let store = state.store.clone();
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let mut metrics_builder = PrometheusMetricsBuilder::new("api");
        if settings.metrics == MetricsEndpoint::Main {
            metrics_builder = metrics_builder.endpoint("/metrics");
        }
        let metrics = metrics_builder
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| anyhow::anyhow!("metrics setup failed: {e}"))?;
        let metrics_enabled = settings.metrics != MetricsEndpoint::Off;
        let metrics_server = match &settings.metrics {
            MetricsEndpoint::Separate(address) => {
                Some(serve_metrics(address, metrics.registry.clone())?)
            }
            MetricsEndpoint::Main | MetricsEndpoint::Off => None,
        };
        let document = api_routes_document();

        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(JSON_LIMIT))
                .app_data(path_config())
                .configure(configure_routes)
                .split_for_parts();
            app.service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/api-docs/openapi.json", document.clone())
                    .config(Config::default().validator_url("none")),
            )
            .service(web::redirect("/docs", "/docs/"))
            .service(web::redirect("/", "/docs/"))
            .default_service(web::to(|| async { Err::<String, _>(ApiError::NotFound) }))
            .wrap(from_fn(middleware::body_deadline))
            .wrap(ErrorHandlers::new().default_handler(render_problem))
            .wrap(from_fn(middleware::access_log))
            .wrap_fn(|req, srv| {
                let response = srv.call(req);
                async move {
                    let mut response = response.await?;
                    if let Some(id) = request_id(response.request())
                        && let Ok(value) = HeaderValue::from_str(&id)
                    {
                        response
                            .headers_mut()
                            .insert(HeaderName::from_static("x-request-id"), value);
                    }
                    Ok(response)
                }
            })
            .wrap(TracingLogger::default())
            .wrap(Condition::new(metrics_enabled, metrics.clone()))
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        let sweepers = [
            tokio::spawn(sweep_orphan_documents(db.clone(), store)),
            tokio::spawn(sweep_throttles(db.clone())),
            tokio::spawn(sweep_shortfalls(
                db.clone(),
                Duration::from_secs(settings.shortfall_sweep_secs),
            )),
            tokio::spawn(seal_audit(
                db,
                Duration::from_secs(settings.audit_seal_secs),
            )),
        ];
        Ok(Application {
            port,
            server,
            metrics_server,
            sweepers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests (up to 30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics_handle = self.metrics_server.as_ref().map(Server::handle);
        if let Some(metrics_server) = self.metrics_server {
            tokio::spawn(metrics_server);
        }
        let result = self.server.await;
        if let Some(handle) = metrics_handle {
            handle.stop(true).await;
        }
        for sweeper in &self.sweepers {
            sweeper.abort();
        }
        result
    }
}

/// `/metrics` on an address of its own, for a scraper that the public must not reach.
fn serve_metrics(address: &str, registry: prometheus::Registry) -> anyhow::Result<Server> {
    let listener = TcpListener::bind(address)
        .with_context(|| format!("cannot listen for metrics on {address}"))?;
    let server = HttpServer::new(move || {
        let registry = registry.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let families = registry.gather();
                async move {
                    match prometheus::TextEncoder::new().encode_to_string(&families) {
                        Ok(text) => actix_web::HttpResponse::Ok()
                            .content_type(prometheus::TEXT_FORMAT)
                            .body(text),
                        Err(_) => actix_web::HttpResponse::InternalServerError().finish(),
                    }
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)?
    .shutdown_timeout(5)
    .run();
    Ok(server)
}

/// Sign-in counters whose windows ended long ago mean nothing; delete them now and then. Every
/// instance may do it: the delete is idempotent.
async fn sweep_throttles(db: DatabaseConnection) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        if let Err(err) = throttle::sweep(&db, chrono::Duration::hours(1)).await {
            tracing::warn!(error = %err, "sweeping sign-in counters failed");
        }
    }
}

/// An upload cut short by a crash can leave its bytes without a row; every hour, bytes older
/// than an hour that no document refers to are deleted. Every instance may do it.
async fn sweep_orphan_documents(db: DatabaseConnection, store: crate::storage::Store) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    every.tick().await;
    loop {
        every.tick().await;
        match crate::assets::remove_orphan_objects(&db, &store, chrono::Duration::hours(1)).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "orphan document bytes removed"),
            Err(err) => tracing::warn!(error = %err, "removing orphan document bytes failed"),
        }
    }
}

/// Valuations expire with the date, not with a write: every disbursed loan's shortfall is
/// re-evaluated now and then. Every instance may do it: a flag changes once.
async fn sweep_shortfalls(db: DatabaseConnection, period: Duration) {
    let mut every = tokio::time::interval(period);
    // The first tick is immediate: skip it, so that a restart (or ten instances starting at
    // once) does not walk every loan while the instance warms up.
    every.tick().await;
    loop {
        every.tick().await;
        match crate::applications::ops::sweep_shortfalls(&db).await {
            Ok(checked) => tracing::debug!(checked, "shortfalls re-evaluated"),
            Err(err) => tracing::warn!(error = %err, "re-evaluating shortfalls failed"),
        }
    }
}

/// Seals the audit chains now and then. A seal covers the events written until ten minutes
/// ago: a transaction still open when the seal is taken cannot add a covered event later. Every
/// instance may seal; the seals' own chain admits one successor per seal.
async fn seal_audit(db: DatabaseConnection, period: Duration) {
    let mut every = tokio::time::interval(period);
    // The first tick is immediate: skip it, a fresh start has nothing new to seal.
    every.tick().await;
    loop {
        every.tick().await;
        let covers_until = crate::db::now() - chrono::TimeDelta::minutes(10);
        match crate::audit::chain::seal(&db, covers_until).await {
            Ok(Some(seal)) => {
                tracing::info!(chains = seal.chains, events = seal.events, "audit sealed")
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "sealing the audit chains failed"),
        }
    }
}
