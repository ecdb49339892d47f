//! Running the HTTP server: build the Atlas, accept connections with limits (connections, header read
//! time, header size), reload on SIGHUP, and on SIGTERM/SIGINT stop accepting and give in-flight requests
//! a bounded time to finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::{info, warn};

use crate::api::{AppState, build_app};
use crate::cli::ServeArgs;

/// A client must send its request headers within this time (slow clients cannot pin a connection).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) accepted, bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Builds the Atlas, then serves the API and the map on `args.addr` until interrupted.
///
/// # Errors
/// Atlas build errors, a bad or busy address.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    // Logs go to stderr (stdout stays for data), coloured only on a terminal.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let sources = args.data.sources()?;
    let atlas = crate::atlas::Atlas::build(&sources)?;
    for warning in atlas.warnings() {
        warn!("{warning}");
    }
    let t = atlas.timings();
    info!(units_ms = t.units_ms, editions_ms = t.editions_ms, index_ms = t.index_ms, "atlas built");
    let mut limits = crate::api::Limits {
        request_timeout: Duration::from_secs(args.request_timeout),
        ..crate::api::Limits::default()
    };
    if let Some(n) = args.max_batches {
        limits.max_batches = usize::try_from(n).unwrap_or(usize::MAX);
    }
    let state = AppState::new(atlas)
        .with_sources(sources)
        .with_admin_token(args.admin_token.clone())
        .with_limits(limits);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(args, state))
}

async fn run(args: &ServeArgs, state: AppState) -> anyhow::Result<()> {
    let listener =
        TcpListener::bind(&args.addr).await.with_context(|| format!("cannot listen on {}", args.addr))?;
    // Signal handlers are in place before we say we listen: a signal sent as soon as the address is
    // known must not meet the default action (which for SIGHUP and SIGTERM ends the process).
    spawn_reload_on_sighup(state.clone());
    let shutdown = shutdown_signal();
    let app = build_app(state);
    let permits = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES);
    tokio::pin!(shutdown);
    info!("listening on http://{}", listener.local_addr()?);
    loop {
        // Wait for a free slot before accepting, so excess clients queue in the backlog.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.context("connection limiter closed")?,
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
    info!("shutting down: no new connections, {} s for requests in flight", args.shutdown_grace);
    tokio::select! {
        () = graceful.shutdown() => info!("all connections closed"),
        () = tokio::time::sleep(Duration::from_secs(args.shutdown_grace)) => warn!("grace period over, closing remaining connections"),
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
