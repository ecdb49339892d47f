//! The `territoires` binary: parses the command line and runs it; errors are printed, exit code 1.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = territoires::cli::Cli::parse();
    match territoires::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
