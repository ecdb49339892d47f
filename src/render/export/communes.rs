//! `commune-territories.parquet` / `.csv`: one row per current commune with its EPCI, its EPT and, per
//! edition, the territory it belongs to (through its EPCI, its EPT or itself as a member). The table a
//! data engine broadcasts to tag millions of rows by commune code, without any geometry.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::ExportError;
use crate::atlas::Atlas;
use crate::model::{TerritoryIx, UnitKind};

/// The table's rows: `code_insee`, `nom`, `epci_siren`, `ept_siren`, then `territory_E`,
/// `territory_E_name` per edition (several territories `;`-joined, sorted by id).
pub fn rows(atlas: &Atlas) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut header: Vec<String> = ["code_insee", "nom", "epci_siren", "ept_siren"].map(String::from).into();
    for e in atlas.editions() {
        header.push(format!("territory_{}", e.edition.id));
        header.push(format!("territory_{}_name", e.edition.id));
    }
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    for &c in atlas.units_of_kind(UnitKind::Commune) {
        let commune = atlas.unit(c);
        let parents = atlas.parents_of(c);
        let parent_of = |kind: UnitKind| {
            parents.iter().map(|&p| atlas.unit(p)).find(|p| p.kind == kind).map(|p| p.code().to_owned())
        };
        let mut row = vec![
            Some(commune.code().to_owned()),
            Some(commune.name.clone()),
            parent_of(UnitKind::Epci),
            parent_of(UnitKind::Ept),
        ];
        for e in atlas.editions() {
            let mut territories: Vec<TerritoryIx> = std::iter::once(c)
                .chain(parents.iter().copied())
                .flat_map(|u| e.territories_of_unit(u).iter().copied())
                .collect();
            territories.sort_by(|a, b| e.territory(*a).id.as_str().cmp(e.territory(*b).id.as_str()));
            territories.dedup();
            let join = |f: &dyn Fn(TerritoryIx) -> String| {
                (!territories.is_empty())
                    .then(|| territories.iter().map(|&t| f(t)).collect::<Vec<_>>().join(";"))
            };
            row.push(join(&|t| e.territory(t).id.to_string()));
            row.push(join(&|t| e.territory(t).name.clone()));
        }
        rows.push(row);
    }
    (header, rows)
}

/// Writes `DIR/commune-territories.parquet` and `.csv` (UTF-8 without BOM, `,`, header: what engines
/// read without options); returns each file with its rows and start time.
pub fn write(atlas: &Atlas, dir: &Path) -> Result<Vec<(PathBuf, usize, Instant)>, ExportError> {
    let started = Instant::now();
    let (header, rows) = rows(atlas);
    let parquet_path = dir.join("commune-territories.parquet");
    let fail = |path: &Path, e: &dyn std::fmt::Display| ExportError::encode(path)(e);
    let schema = Arc::new(Schema::new(
        header.iter().enumerate().map(|(i, h)| Field::new(h, DataType::Utf8, i >= 2)).collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = (0..header.len())
        .map(|i| {
            let mut b = StringBuilder::new();
            for r in &rows {
                b.append_option(r[i].as_deref());
            }
            Arc::new(b.finish()) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| fail(&parquet_path, &e))?;
    let file = std::fs::File::create(&parquet_path).map_err(ExportError::io(&parquet_path))?;
    let properties = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let mut writer =
        ArrowWriter::try_new(file, schema, Some(properties)).map_err(|e| fail(&parquet_path, &e))?;
    writer.write(&batch).map_err(|e| fail(&parquet_path, &e))?;
    writer.close().map_err(|e| fail(&parquet_path, &e))?;
    let parquet_done = (parquet_path, rows.len(), started);

    let started = Instant::now();
    let csv_path = dir.join("commune-territories.csv");
    let mut csv = csv::Writer::from_path(&csv_path).map_err(|e| fail(&csv_path, &e))?;
    csv.write_record(&header).map_err(|e| fail(&csv_path, &e))?;
    for row in &rows {
        csv.write_record(row.iter().map(|v| v.as_deref().unwrap_or(""))).map_err(|e| fail(&csv_path, &e))?;
    }
    csv.flush().map_err(ExportError::io(&csv_path))?;
    Ok(vec![parquet_done, (csv_path, rows.len(), started)])
}
