//! The `territoires` binary: parses the command line, starts logging, runs the command; errors are
//! printed, exit code 1. The library never installs a global subscriber: this file alone does.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.access_log());
    match cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr (stdout stays for data), coloured only on a terminal, filtered by `RUST_LOG`.
/// By default: the start-up summary, reloads and warnings; one line per request only with
/// `serve --access-log` (or `RUST_LOG=tower_http=info`).
fn init_logging(access_log: bool) {
    let default = if access_log { "info" } else { "info,tower_http=warn" };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into()),
        )
        .init();
}
