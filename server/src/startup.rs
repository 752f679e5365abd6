//! Wiring: database, sessions, dashboard, REST API and middleware into one axum application.
//! `Application::build` binds the listener (port 0 in tests) and exposes the chosen port.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use lifeboat_app::{shell, App};
use lifeboat_domain::blobs::BlobStore;
use lifeboat_domain::service::backup::{BackupEnv, ManagedStorage};
use lifeboat_domain::service::{identity, Backend};
use lifeboat_domain::storage::crypto::ServerKey;
use lifeboat_domain::storage::{S3Location, Storage};
use tokio_util::sync::CancellationToken;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::Session;
use tower_sessions_sqlx_store::SqliteStore;

use crate::auth::{self, LoginThrottle};
use crate::config::Config;
use crate::demo::{self, DemoCredentials};

/// Everything a request handler may need.
#[derive(Clone)]
pub struct AppState {
    pub backend: Backend,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    pub login_throttle: Arc<LoginThrottle>,
    pub api_limits: Arc<crate::api::ApiLimits>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    addr: SocketAddr,
    backend: Backend,
    pub demo: Option<DemoCredentials>,
}

/// The backup engine's environment: managed storage (a directory or an S3 bucket) and the server key.
pub fn backup_env(config: &Config) -> anyhow::Result<BackupEnv> {
    let settings = config.backup_settings();
    for root in &settings.filesystem_roots {
        // Filesystem storages must lie inside these; they must exist to be resolved.
        std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    }
    let managed = match &settings.managed_storage {
        ManagedStorage::Filesystem { path } => {
            let dir = path.clone().unwrap_or_else(|| config.data_dir.join("managed-storage"));
            Storage::local("", &dir).with_context(|| format!("cannot use managed storage {}", dir.display()))?
        }
        ManagedStorage::S3 { bucket, region, endpoint, prefix, access_key_id, secret_access_key } => Storage::s3(
            "",
            &S3Location {
                bucket: bucket.clone(),
                region: region.clone(),
                endpoint: endpoint.clone(),
                prefix: prefix.clone(),
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
            },
        )
        .context("cannot use the managed S3 storage")?,
    };
    let key_file = settings.key_file.clone().unwrap_or_else(|| config.data_dir.join("server.key"));
    let key = ServerKey::load_or_create(&key_file).context("cannot load the server key")?;
    Ok(BackupEnv::new(settings, managed, key))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let db = identity::open_database(&config.database_url()).await.context("cannot open the database")?;

        let session_store = SqliteStore::new(db.clone());
        session_store.migrate().await.context("cannot prepare the session table")?;
        tokio::spawn(session_store.clone().continuously_delete_expired(tokio::time::Duration::from_secs(60)));
        tokio::spawn(auth::forget_ended_sign_ins(db.clone(), auth::sign_in_retention(&config.session)));

        let blobs = BlobStore::new(config.blobs_dir());
        let demo = if config.demo { Some(demo::ensure_demo(&db, &blobs, &config).await?) } else { None };

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;

        let leptos_options = LeptosOptions::builder()
            .output_name("lifeboat")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(if std::env::var("LEPTOS_ENV").is_ok_and(|e| e.eq_ignore_ascii_case("dev")) {
                leptos::config::Env::DEV
            } else {
                leptos::config::Env::PROD
            })
            .build();

        let backend = Backend { db, blobs, backup: Arc::new(backup_env(&config)?) };
        let state = AppState {
            backend: backend.clone(),
            login_throttle: Arc::new(LoginThrottle::new(&config.login_limit)),
            api_limits: Arc::new(crate::api::ApiLimits::new(&config.api_limits)),
            config: Arc::new(config),
            leptos_options,
        };
        let session_layer = auth::session_layer(session_store, &state.config);
        let router = router(state, session_layer);
        Ok(Application { listener, router, addr, backend, demo })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The database pool the server runs on (tests inspect its connections).
    pub fn db(&self) -> lifeboat_domain::store::Db {
        self.backend.db.clone()
    }

    /// Serves (and runs the job runner, scheduler and sweeper) until Ctrl-C or SIGTERM, then
    /// finishes the requests in flight. A job still running is recovered at the next start.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stop = CancellationToken::new();
        let workers = lifeboat_domain::jobs::spawn_all(self.backend.clone(), stop.clone());
        let served = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await;
        stop.cancel();
        for w in workers {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), w).await;
        }
        served
    }
}

fn router(state: AppState, session_layer: tower_sessions::SessionManagerLayer<SqliteStore>) -> Router {
    let routes = generate_route_list(App);
    let backend = state.backend.clone();
    let reference = lifeboat_app::server_fns::api_reference::ApiDocument(Arc::new(crate::api::reference()));
    let dashboard = Router::new()
        .route("/", get(home))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(backend.clone());
                provide_context(reference.clone());
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn_with_state(state.clone(), auth::session_guard))
        .layer(session_layer);

    let hsts = state.config.served_over_tls().then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        )
    });

    // The compiled assets, outside the session layer: they need no session, and the layer saves the
    // session after every request (`always_save`), so an asset request still in flight when the admin
    // signed out would write the deleted session back (a page loads dozens of WASM chunks at once).
    let site_root = std::path::PathBuf::from(state.leptos_options.site_root.as_ref());
    let assets = Router::new()
        .nest_service(&format!("/{}", state.leptos_options.site_pkg_dir), tower_http::services::ServeDir::new(site_root.join(state.leptos_options.site_pkg_dir.as_ref())))
        .route_service("/favicon.svg", tower_http::services::ServeFile::new(site_root.join("favicon.svg")));

    Router::new()
        .merge(dashboard)
        .merge(assets)
        .nest("/api/v1", crate::api::router())
        .route("/healthz", get(|| async { "ok" }))
        .layer(from_fn_with_state(state.clone(), auth::refuse_cross_origin))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'; object-src 'none'; base-uri 'self'"),
        ))
        .layer(tower::util::option_layer(hsts))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `/`: the first organization's *Backup and restore* page (the session guard already sent
/// signed-out visitors to the sign-in page).
async fn home(State(state): State<AppState>, session: Session) -> Response {
    let admin_id: Option<String> = session.get(lifeboat_app::session::ADMIN_ID).await.ok().flatten();
    let orgs = match admin_id {
        Some(id) => identity::signed_in_admin(&state.backend.db, &id).await.ok().flatten().map(|a| a.orgs),
        None => None,
    };
    match orgs.as_deref().and_then(|o| o.first()) {
        Some(org) => Redirect::to(&format!("/orgs/{}/backup-and-restore", org.org_id)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
