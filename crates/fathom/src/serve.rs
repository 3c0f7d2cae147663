//! `fathom serve`: the HTTP server, until SIGTERM or Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fathom_api::{ApiConfig, AppState, RateLimits};
use fathom_service::{Search, Store};

use crate::config::Config;
use crate::demo;

pub async fn run(store: Store, config: &Config, load_demo: bool) -> anyhow::Result<()> {
    let policy = Arc::new(config.load_policy()?);
    let search = Search::open(
        &config.data_dir,
        store.clone(),
        Arc::clone(&policy),
        config.search_cache,
    )
    .context("cannot open the search index")?;
    let state = AppState::new(store.clone(), search.clone(), policy);
    if let Some(token) = &config.bootstrap_token
        && state
            .identity
            .bootstrap_admin(token)
            .await
            .context("cannot create the bootstrap admin")?
    {
        tracing::info!("created the user `admin` with the bootstrap token");
    }
    if load_demo {
        let token = demo::load(&state)
            .await
            .context("cannot load the demo catalogue")?;
        eprintln!("\nDemo admin token (shown once): {token}\n");
    }
    search
        .prepare()
        .await
        .context("cannot bring the search index up to date")?;
    let indexer = search.spawn_indexer();
    let pruning = tokio::spawn(prune_idempotency_keys(state.clone()));

    let cors_origins = config
        .cors_origins
        .iter()
        .map(|origin| fathom_api::parse_origin(origin))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|message| anyhow::anyhow!("cors_origins: {message}"))?;
    let app = fathom_api::app(
        state,
        &ApiConfig {
            body_limit: config.body_limit,
            cors_origins,
            rate_limits: RateLimits {
                per_token: config.rate_limit_per_token,
                per_address: config.rate_limit_per_address,
                failures_per_address: config.rate_limit_failures_per_address,
                trusted_proxies: config.trusted_proxies.clone(),
            },
        },
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = store.backend(), "serving");
    eprintln!("Fathom is listening on http://{address} (API docs at http://{address}/docs)");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;
    pruning.abort();
    indexer.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Forgets old idempotency keys every hour.
async fn prune_idempotency_keys(state: AppState) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match state.idempotency.prune().await {
            Ok(pruned) => tracing::debug!(pruned, "pruned idempotency keys"),
            Err(error) => tracing::warn!(?error, "cannot prune idempotency keys"),
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
