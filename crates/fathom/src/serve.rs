//! `fathom serve`: the HTTP server, until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;
use fathom_api::{ApiConfig, AppState, RateLimits};
use fathom_events::{Relay, RelayHandle};
use fathom_service::{IndexSettings, ServiceSettings, Services, Store};

use crate::config::Config;
use crate::demo;
use crate::telemetry::tell;
use tracing::Level;

/// How often undecided requests are expired and ended grants told.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Connections waiting to be accepted, as `tokio::net::TcpListener::bind` sets it.
const LISTEN_BACKLOG: u32 = 1024;

/// A socket bound to `address`, not yet listening: connections to it are refused.
fn bind(address: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restart may take the port back while old connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    Ok(socket)
}

/// Serves the catalogue of `store` (migrated) as `config` says, with the demo catalogue loaded
/// first when `load_demo`.
pub async fn run(store: Store, config: &Config, load_demo: bool) -> anyhow::Result<()> {
    let policy = Arc::new(config.load_policy()?);
    // The port is taken now, so that a busy one fails at once, but connections are accepted only
    // once the search index is up to date (below): until then they are refused, and a load
    // balancer passes them to another replica instead of waiting on this one.
    let socket =
        bind(config.listen).with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = socket.local_addr()?;
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    // The relay reads the outbox beside the use cases, and they report its health: the binary
    // wires the two over the one store.
    let relay = Arc::new(start_relay(&store, config));
    let mut settings = config.service_settings(&policy, &format!("{scheme}://{address}"))?;
    settings.index = Some(IndexSettings {
        data_dir: config.data_dir.clone(),
        cache_entries: config.search_cache,
    });
    settings.webhooks.own_addresses = vec![address];
    settings.relay = relay.health();
    if load_demo {
        // The demo's officers, unless the configuration names its own; SPARQL, for its small graph.
        if config.sharing.is_none() {
            settings.sharing = Some(demo::sharing_settings(&policy));
        }
        settings.sparql = ServiceSettings::default().sparql;
    }
    if let Some(oidc) = &settings.oidc {
        if let Some(audience) = &oidc.audience {
            tracing::info!(issuer = %oidc.issuer, %audience, "accepting OpenID Connect tokens");
        }
        if let Some(client) = &oidc.client {
            tracing::info!(issuer = %oidc.issuer, client = %client.id, "people may sign in at the OpenID Connect issuer");
        }
    }
    let services =
        Services::new(store, policy, settings).context("cannot open the search index")?;
    if let Some(token) = &config.bootstrap_token
        && services
            .identity
            .bootstrap_admin(token.expose())
            .await
            .context("cannot create the bootstrap admin")?
    {
        tracing::info!("created the user `admin` with the bootstrap token");
    }
    if load_demo {
        let tokens = demo::load(&services)
            .await
            .context("cannot load the demo catalogue")?;
        tell(
            Level::INFO,
            &format!("Demo admin token (shown once): {}", tokens.admin),
        );
        tell(
            Level::INFO,
            &format!(
                "Demo analyst token, NATO SECRET, Norway, NATO (shown once): {}",
                tokens.analyst
            ),
        );
        for (name, token) in &tokens.sharing {
            tell(
                Level::INFO,
                &format!("Demo {name} token (shown once): {token}"),
            );
        }
        for (name, password) in &tokens.passwords {
            tell(
                Level::INFO,
                &format!("Demo {name} password, to sign in at /sign-in (shown once): {password}"),
            );
        }
    }
    // The pages for people, at `/`, over the same use cases as the API.
    let pages = fathom_web::WebState::new(
        services.clone(),
        fathom_web::WebSettings {
            basemap_url: config.ui_basemap_url.clone(),
        },
    )
    .map(fathom_web::router);
    let state = AppState::new(services)?;
    state
        .search
        .prepare()
        .await
        .context("cannot bring the search index up to date")?;
    let indexer = state.search.spawn_indexer();
    let webhook_sync = state.webhooks.clone().spawn_sync(Arc::clone(&relay));
    let sharing_sweeper = state.sharing.clone().spawn_sweeper(SWEEP_EVERY);
    let harvest_scheduler = state.harvesting.clone().spawn_scheduler();
    let pruning = tokio::spawn(prune_idempotency_keys_and_sessions(state.clone()));
    // The graph loads in the background: the server answers meanwhile (SPARQL with 503).
    let sparql_sync = state.sparql.clone().map(fathom_service::Sparql::spawn_sync);

    let cors_origins = config
        .cors_origins
        .iter()
        .map(|origin| fathom_api::parse_origin(origin))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|message| anyhow::anyhow!("cors_origins: {message}"))?;
    let admin = match config.admin_listen {
        Some(admin_address) => {
            let admin_listener = tokio::net::TcpListener::bind(admin_address)
                .await
                .with_context(|| format!("cannot listen on {admin_address}"))?;
            let admin_address = admin_listener.local_addr()?;
            tracing::info!(address = %admin_address, "serving metrics and health checks");
            tell(
                Level::INFO,
                &format!(
                    "Fathom serves /metrics on http://{admin_address} (and the health checks)"
                ),
            );
            let admin_app = fathom_api::admin_app(state.clone());
            Some(tokio::spawn(async move {
                axum::serve(admin_listener, admin_app).await
            }))
        }
        None => None,
    };
    let backend = state.backend();
    let app = fathom_api::app(
        state.clone(),
        &ApiConfig {
            body_limit: config.body_limit,
            cors_origins,
            strict_transport_security: config.tls_cert.is_some(),
            rate_limits: RateLimits {
                per_token: config.rate_limit_per_token,
                per_address: config.rate_limit_per_address,
                failures_per_address: config.rate_limit_failures_per_address,
                trusted_proxies: config.trusted_proxies.clone(),
            },
            metrics: config.admin_listen.is_none(),
            access_log: config.access_log,
        },
        pages,
    );
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            let loaded = RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
            Some((loaded, cert.clone(), key.clone()))
        }
        (None, None) => None,
        _ => anyhow::bail!("tls_cert and tls_key are given together or not at all"),
    };
    let listener = socket
        .listen(LISTEN_BACKLOG)
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!(%address, scheme, backend, "serving");
    tell(
        Level::INFO,
        &format!(
            "Fathom is listening on {scheme}://{address} (API docs at {scheme}://{address}/docs)"
        ),
    );
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some((tls, cert, key)) => {
            let reloading = tokio::spawn(reload_on_hangup(tls.clone(), cert, key));
            let handle = axum_server::Handle::new();
            let stopping = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                stopping.graceful_shutdown(Some(DRAIN));
            });
            axum_server::from_tcp_rustls(listener.into_std()?, tls)?
                .handle(handle)
                .serve(app)
                .await
                .context("server error")?;
            reloading.abort();
        }
        None => axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server error")?,
    }
    if let Some(admin) = admin {
        admin.abort();
    }
    pruning.abort();
    indexer.abort();
    webhook_sync.abort();
    sharing_sweeper.abort();
    harvest_scheduler.abort();
    if let Some(sparql_sync) = sparql_sync {
        sparql_sync.abort();
    }
    relay.stop(DRAIN).await;
    state.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts relaying the outbox to the configured targets (and pruning what was delivered).
pub fn start_relay(store: &Store, config: &Config) -> RelayHandle {
    let (relay, targets) = config.events();
    for target in &targets {
        tracing::info!(target = target.name(), "relaying events");
    }
    Relay::new(store.clone(), relay).spawn(targets)
}

/// `fathom relay`: relays events without serving HTTP, until SIGTERM or Ctrl-C.
pub async fn relay_only(store: Store, config: &Config) -> anyhow::Result<()> {
    let policy = Arc::new(config.load_policy()?);
    let relay = Arc::new(start_relay(&store, config));
    let mut settings = config.service_settings(&policy, &format!("http://{}", config.listen))?;
    settings.relay = relay.health();
    let services = Services::new(store, policy, settings)?;
    let webhook_sync = services.webhooks.clone().spawn_sync(Arc::clone(&relay));
    tell(
        Level::INFO,
        &format!(
            "Fathom is relaying events to {} targets and the webhook subscriptions",
            relay.targets().len()
        ),
    );
    shutdown_signal().await;
    webhook_sync.abort();
    relay.stop(DRAIN).await;
    services.close().await;
    Ok(())
}

/// Whether the server listening on `listen` (on this host) answers `GET /healthz` with 200 within
/// two seconds.
pub fn healthy(listen: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let address = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            SocketAddr::from(([127, 0, 0, 1], listen.port()))
        }
        ip if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, listen.port()))
        }
        _ => listen,
    };
    let timeout = Duration::from_secs(2);
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&address, timeout) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut status_line = [0_u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut status_line).is_ok()
        && status_line.starts_with(b"HTTP/1.1 200")
}

/// How long requests in flight (over TLS; plain HTTP waits for them) and the relay's last batches
/// may take to finish after SIGTERM.
const DRAIN: Duration = Duration::from_secs(30);

/// Reads the certificate and key again on every SIGHUP (a renewed certificate, without a restart).
async fn reload_on_hangup(tls: RustlsConfig, cert: PathBuf, key: PathBuf) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangups.recv().await.is_some() {
            match tls.reload_from_pem_file(&cert, &key).await {
                Ok(()) => tracing::info!(cert = %cert.display(), "TLS certificate reloaded"),
                Err(error) => {
                    tracing::error!(%error, "cannot reload the TLS certificate; keeping the old one");
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (tls, cert, key);
}

/// Forgets old idempotency keys every hour.
async fn prune_idempotency_keys_and_sessions(state: AppState) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match state.idempotency.prune().await {
            Ok(pruned) => tracing::debug!(pruned, "pruned idempotency keys"),
            Err(error) => tracing::warn!(?error, "cannot prune idempotency keys"),
        }
        match state.sessions.prune().await {
            Ok(pruned) => tracing::debug!(pruned, "pruned ended sessions"),
            Err(error) => tracing::warn!(?error, "cannot prune ended sessions"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
