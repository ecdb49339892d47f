//! `territoires serve`: its flags, turned into the library's [`ServerConfig`], and the start-up summary.

use std::time::Duration;

use clap::Args;
use territoires::http::state::Loaded;
use territoires::http::{AppState, ServerConfig, listener};
use territoires::model::UnitKind;

use super::DataArgs;

/// `serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TERRITOIRES_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Enables `POST /admin/reload` with this bearer token (absent: no admin route). SIGHUP reloads too.
    #[arg(long, env = "TERRITOIRES_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Base of absolute links in answers (OGC API links), as clients reach the server through proxies:
    /// `https://territoires.example.fr`. Without it, links follow the request's Host and
    /// X-Forwarded-Proto headers.
    #[arg(long, env = "TERRITOIRES_PUBLIC_URL")]
    pub public_url: Option<territoires::http::PublicUrl>,
    /// Most connections served at once; more wait in the kernel's backlog.
    #[arg(long, env = "TERRITOIRES_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "TERRITOIRES_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace: u64,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "TERRITOIRES_REQUEST_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
    /// Log one line per request (method, path, status, latency); without it the log holds the start-up
    /// summary, reloads and warnings.
    #[arg(long, env = "TERRITOIRES_ACCESS_LOG")]
    pub access_log: bool,
    /// Batch and polygon requests running at once (default: twice the cores); more get 503 + Retry-After.
    #[arg(long, env = "TERRITOIRES_MAX_BATCHES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_batches: Option<u64>,
    #[command(flatten)]
    pub data: DataArgs,
}

impl ServeArgs {
    /// The server configuration these flags describe.
    #[must_use]
    pub fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.addr.clone_from(&self.addr);
        config.admin_token.clone_from(&self.admin_token);
        config.public_url.clone_from(&self.public_url);
        config.max_connections = self.max_connections;
        config.shutdown_grace = Duration::from_secs(self.shutdown_grace);
        config.limits.request_timeout = Duration::from_secs(self.request_timeout);
        if let Some(n) = self.max_batches {
            config.limits.max_batches = usize::try_from(n).unwrap_or(usize::MAX);
        }
        config
    }
}

/// Loads the Atlas and its layers (built-in snapshot or files), then serves the API and the map until
/// interrupted.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let origin = args.data.origin()?;
    let (atlas, layers, from) = origin.atlas_and_layers()?;
    for warning in atlas.warnings() {
        tracing::warn!("{warning}");
    }
    let summary = atlas.summary();
    let mut kinds: Vec<_> = summary.units.iter().collect();
    kinds.sort_by_key(|(k, _)| k.to_string());
    let name = |k: &UnitKind| if *k == UnitKind::Commune { "communes".to_owned() } else { k.to_string() };
    let units = kinds.iter().map(|(k, n)| format!("{n} {}", name(k))).collect::<Vec<_>>().join(", ");
    let editions = summary
        .editions
        .iter()
        .map(|e| format!("{} ({} territories, {} members)", e.id, e.territories, e.members))
        .collect::<Vec<_>>()
        .join(", ");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // Built from files, the steps say where the time went (a snapshot is decoded in one step).
    let t = atlas.timings();
    let steps = if t.index_ms > 0.0 {
        format!(
            " (unit files {:.0} ms, lists {:.0} ms, outlines and indexes {:.0} ms)",
            t.units_ms, t.editions_ms, t.index_ms
        )
    } else {
        String::new()
    };
    tracing::info!("loaded {units}; editions {editions}; in {ms:.0} ms {from}{steps}");
    let config = args.config();
    let loaded = std::sync::Arc::new(Loaded::from_parts(atlas, layers));
    let state = AppState::from_loaded(loaded).with_origin(origin).with_config(&config);
    Ok(listener::serve(&config, state)?)
}
