//! The listener: accepts connections with limits (connections, header read time, header size),
//! reloads on SIGHUP, and on SIGTERM/SIGINT stops accepting and gives in-flight requests a bounded time
//! to finish. It serves a state built by its caller and starts no logging of its own.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::{info, warn};

use super::config::ServerConfig;
use super::routes::build_app;
use super::state::AppState;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenError {
    /// The async runtime could not start.
    #[error("starting the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The address is malformed, taken or not ours.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The configured address.
        addr: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// Serves `state` on `config.addr` until SIGTERM or SIGINT, on a runtime of its own.
///
/// # Errors
/// The runtime cannot start, or the address cannot be listened on.
pub fn serve(config: &ServerConfig, state: AppState) -> Result<(), ListenError> {
    let runtime = tokio::runtime::Runtime::new().map_err(ListenError::Runtime)?;
    runtime.block_on(run(config, state))
}

async fn run(config: &ServerConfig, state: AppState) -> Result<(), ListenError> {
    let bind_error = |source| ListenError::Bind { addr: config.addr.clone(), source };
    let listener = TcpListener::bind(&config.addr).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    // Signal handlers are in place before we say we listen: a signal sent as soon as the address is
    // known must not meet the default action (which for SIGHUP and SIGTERM ends the process).
    spawn_reload_on_sighup(state.clone());
    let shutdown = shutdown_signal();
    let app = build_app(state);
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(config.max_header_bytes);
    tokio::pin!(shutdown);
    info!("listening on http://{local}/ (the map; the API under /api/, OGC API under /ogc/)");
    loop {
        // Wait for a free slot before accepting, so excess clients queue in the backlog. The semaphore
        // is never closed, so an error cannot happen; stopping is the safe answer anyway.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!("accept failed: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |request: hyper::Request<hyper::body::Incoming>| {
                app.clone().oneshot(request.map(axum::body::Body::new))
            }
        });
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    info!("shutting down: no new connections, {} s for requests in flight", config.shutdown_grace.as_secs());
    tokio::select! {
        () = graceful.shutdown() => info!("all connections closed"),
        () = tokio::time::sleep(config.shutdown_grace) => warn!("grace period over, closing remaining connections"),
    }
    Ok(())
}

fn spawn_reload_on_sighup(state: AppState) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            warn!("cannot listen for SIGHUP; reload with POST /admin/reload");
            return;
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                info!("SIGHUP: reloading");
                // The outcome is logged and counted by `reload`.
                let _ = state.reload().await;
            }
        });
    }
    #[cfg(not(unix))]
    let _ = state;
}

/// Resolves on SIGINT or SIGTERM; the handlers are installed when this is called, not when first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let terminate = async {
                match terminate.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! { () = terminate => {}, () = interrupt => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
