//! Running the HTTP server: build the Atlas, bind, serve until SIGINT/SIGTERM, finish in-flight requests.

use anyhow::Context;
use tracing::info;

use crate::api::{AppState, build_app};
use crate::cli::DataArgs;

/// Builds the Atlas, then serves the API on `addr` until interrupted.
///
/// # Errors
/// Atlas build errors, a bad or busy address.
pub fn serve(addr: &str, data: DataArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let atlas = data.build_atlas()?;
    let t = atlas.timings();
    info!(units_ms = t.units_ms, editions_ms = t.editions_ms, index_ms = t.index_ms, "atlas built");
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        info!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, build_app(AppState::new(atlas)))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving")
    })
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
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    info!("shutting down");
}
