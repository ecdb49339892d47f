//! The `import-list` command: runs [`territoires::source::import::import_list`], fills the edition's metadata
//! from flags, the existing sidecar and the file names, writes both files and prints the report.
//!
//! Parsing and repairs live in `source::import`; this module only decides metadata and does the I/O.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::ImportListArgs;

use territoires::model::{EditionMeta, Label, Licence, ListSource, SourceFile};
use territoires::source::edition_meta::{meta_json, read_edition_meta, sidecar_path};
use territoires::source::import::{
    ImportOptions, Imported, UnitRegistry, import_list as import_files, list_changes, read_normalised,
};

/// The data.gouv.fr page where ANCT publishes the lists.
pub const ANCT_DATASET_URL: &str = "https://www.data.gouv.fr/fr/datasets/programme-territoires-dindustrie/";

/// Runs `import-list`.
///
/// # Errors
/// Every unfixable problem of the input (listed), unreadable geodata, unwritable output.
pub fn import_list(args: &ImportListArgs) -> anyhow::Result<()> {
    let registry = UnitRegistry::from_geodata(&args.geodata)?;
    let opts = ImportOptions { sheet: args.sheet.clone(), strict: args.strict };
    let imported = import_files(&args.files, &registry, &opts)?;
    let csv_path = args.out.join(format!("{}.csv", args.edition));
    let meta_path = sidecar_path(&csv_path);
    let csv = imported.to_csv();
    let previous = std::fs::read(&csv_path).ok();
    let existing = meta_path.exists().then(|| read_edition_meta(&csv_path, &args.edition)).transpose()?;
    let meta = edition_meta(args, existing.as_ref(), previous.as_deref(), &csv)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create", args.out.display()))?;
    std::fs::write(&csv_path, &csv).with_context(|| format!("{}: cannot write", csv_path.display()))?;
    std::fs::write(&meta_path, meta_json(&meta)?)
        .with_context(|| format!("{}: cannot write", meta_path.display()))?;
    print!("{}", report(args, &imported, previous.as_deref(), &csv_path, &meta_path, &csv));
    // The lists of a geodata directory that holds a snapshot: bring it up to date (same call as
    // `territoires snapshot`), so the binary built next embeds the new list.
    let geodata_lists = args.geodata.join("territories");
    let same_dir =
        |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    if args.geodata.join(territoires::snapshot::FILE_NAME).is_file() && same_dir(&args.out, &geodata_lists) {
        let written = territoires::snapshot::write_for_dir(&args.geodata)?;
        println!(
            "  {}: {}",
            written.path.display(),
            if written.changed { "updated (rebuild the binary to embed it)" } else { "unchanged" }
        );
    }
    Ok(())
}

fn report(
    args: &ImportListArgs,
    imported: &Imported,
    previous: Option<&[u8]>,
    csv_path: &Path,
    meta_path: &Path,
    csv: &str,
) -> String {
    let mut out = String::new();
    let files: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
    let _ = writeln!(out, "import-list: edition {} from {}", args.edition, files.join(", "));
    let kinds: Vec<String> = imported.members_by_kind().iter().map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(
        out,
        "  {} territories, {} members ({})",
        imported.territory_count(),
        imported.rows.len(),
        kinds.join(", ")
    );
    let _ = writeln!(out, "repairs: {}", imported.repairs.len());
    for r in &imported.repairs {
        let _ = writeln!(out, "  {r}");
    }
    for n in &imported.notes {
        let _ = writeln!(out, "note: {n}");
    }
    match previous {
        None => {
            let _ = writeln!(out, "changes: new edition (no {} before)", csv_path.display());
        }
        Some(bytes) if bytes == csv.as_bytes() => {
            let _ = writeln!(out, "changes: none ({} unchanged, same bytes)", csv_path.display());
        }
        Some(bytes) => match read_normalised(bytes) {
            Some(old) => {
                let _ = write!(
                    out,
                    "changes since the previous {}:\n{}",
                    csv_path.display(),
                    list_changes(&old, &imported.rows)
                );
            }
            None => {
                let _ =
                    writeln!(out, "changes: the previous {} was not a normalised list", csv_path.display());
            }
        },
    }
    let _ = writeln!(
        out,
        "wrote {} (sha256 {}) and {}",
        csv_path.display(),
        sha256(csv.as_bytes()),
        meta_path.display()
    );
    out
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `YYYY-MM-DD` from a file name holding `YYYYMMDD` or `YYYY-MM-DD` (`liste-ti-20240704.csv`).
fn date_in_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let digits: Vec<char> = name.chars().collect();
    for start in 0..digits.len() {
        let rest: String = digits[start..].iter().collect();
        let candidate = if rest.len() >= 10 && rest.as_bytes()[4] == b'-' && rest.as_bytes()[7] == b'-' {
            format!("{}{}{}", &rest[..4], &rest[5..7], &rest[8..10])
        } else if rest.len() >= 8 {
            rest.chars().take(8).collect()
        } else {
            continue;
        };
        if candidate.len() == 8 && candidate.bytes().all(|b| b.is_ascii_digit()) {
            let (y, m, d) = (&candidate[..4], &candidate[4..6], &candidate[6..8]);
            let ok = y.starts_with("20") && ("01"..="12").contains(&m) && ("01"..="31").contains(&d);
            if ok {
                return Some(format!("{y}-{m}-{d}"));
            }
        }
    }
    None
}

fn edition_meta(
    args: &ImportListArgs,
    existing: Option<&EditionMeta>,
    previous: Option<&[u8]>,
    csv: &str,
) -> anyhow::Result<EditionMeta> {
    let id = args.edition.to_string();
    let label_fr =
        args.label_fr.clone().or_else(|| existing.map(|e| e.label.fr.clone())).unwrap_or_else(|| id.clone());
    let label_en = args
        .label_en
        .clone()
        .or_else(|| existing.map(|e| e.label.en.clone()))
        .unwrap_or_else(|| label_fr.clone());
    let list_date = args
        .list_date
        .clone()
        .or_else(|| args.files.iter().find_map(|f| date_in_name(f)))
        .or_else(|| existing.and_then(|e| e.list_date.clone()));
    let old_source = existing.and_then(|e| e.source.clone());
    // Re-importing the edition's own output keeps the source it was imported from.
    let own_output = previous.is_some_and(|p| p == csv.as_bytes())
        && args.files.iter().all(|f| std::fs::read(f).ok().as_deref() == previous);
    let files = if own_output && old_source.is_some() {
        old_source.as_ref().map(|s| s.files.clone()).unwrap_or_default()
    } else {
        let mut files = Vec::new();
        for f in &args.files {
            let bytes = std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()))?;
            files.push(SourceFile { name: file_name(f), sha256: sha256(&bytes) });
        }
        files
    };
    let publisher =
        given_or_kept(args.publisher.as_deref(), old_source.as_ref().map(|s| s.publisher.clone()), "ANCT");
    let old_dataset = old_source.as_ref().map(|s| s.dataset.clone());
    let old_url = old_source.as_ref().and_then(|s| s.url.clone());
    let source = ListSource {
        publisher: publisher.clone(),
        dataset: given_or_kept(args.dataset.as_deref(), old_dataset, "Territoires d'industrie"),
        url: Some(given_or_kept(args.dataset_url.as_deref(), old_url, ANCT_DATASET_URL)),
        files,
    };
    let old_licence = existing.and_then(|e| e.licence.clone());
    let (old_name, old_url) = old_licence.map_or((None, None), |l| (Some(l.name), l.url));
    let licence = Licence {
        name: given_or_kept(args.licence.as_deref(), old_name, "Licence Ouverte / Open Licence 2.0"),
        url: Some(given_or_kept(
            args.licence_url.as_deref(),
            old_url,
            territoires::atlas::features::LICENCE_OUVERTE_URL,
        )),
    };
    let same_date = existing.is_some_and(|e| e.list_date == list_date);
    let attribution = args
        .attribution
        .clone()
        .or_else(|| existing.filter(|_| same_date).and_then(|e| e.attribution.clone()))
        .unwrap_or_else(|| match &list_date {
            Some(d) => format!("{publisher} — Territoires d'industrie, données {d}"),
            None => format!("{publisher} — Territoires d'industrie"),
        });
    Ok(EditionMeta {
        edition: id,
        label: Label { fr: label_fr, en: label_en },
        period: args.period.clone().or_else(|| existing.and_then(|e| e.period.clone())),
        list_date,
        source: Some(source),
        licence: Some(licence),
        attribution: Some(attribution),
        population: Some(territoires::figures::population_source()),
    })
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The value given on the command line, else the one the edition already had, else the default.
fn given_or_kept(given: Option<&str>, kept: Option<String>, default: &str) -> String {
    given.map(str::to_owned).or(kept).unwrap_or_else(|| default.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_found_in_file_names() {
        assert_eq!(date_in_name(Path::new("liste-ti-20240704.csv")).as_deref(), Some("2024-07-04"));
        assert_eq!(date_in_name(Path::new("/x/ti_2022-12-31.xlsx")).as_deref(), Some("2022-12-31"));
        assert_eq!(date_in_name(Path::new("ti_geom.geojson")), None);
        assert_eq!(date_in_name(Path::new("2023.csv")), None);
    }
}
