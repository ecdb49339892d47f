//! FlatGeobuf: the table's columns and MultiPolygon geometries in EPSG:4326 (lon/lat order, as the format
//! stores it), with the packed Hilbert R-tree so readers can fetch a bbox without reading the file.

use std::io::BufWriter;
use std::path::Path;

use flatgeobuf::geozero::ColumnValue;
use flatgeobuf::geozero::PropertyProcessor;
use flatgeobuf::{FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use serde_json::Value;

use super::ExportError;
use super::table::{ColumnType, Table};
use crate::atlas::features::Collection;

/// Writes `table` to `path`; returns the features written.
pub fn write(table: &Table<'_>, collection: &Collection, path: &Path) -> Result<usize, ExportError> {
    let fail = |e: &dyn std::fmt::Display| ExportError::encode(path)(e);
    let options = FgbWriterOptions {
        write_index: true,
        crs: FgbCrs { code: 4326, ..FgbCrs::default() },
        title: Some(&collection.title),
        description: Some(&collection.description),
        ..FgbWriterOptions::default()
    };
    let mut fgb = FgbWriter::create_with_options(&table.name, GeometryType::MultiPolygon, options)
        .map_err(|e| fail(&e))?;
    for column in &table.columns {
        let kind = match column.kind {
            ColumnType::Text => flatgeobuf::ColumnType::String,
            ColumnType::Integer => flatgeobuf::ColumnType::Long,
            ColumnType::Decimal => flatgeobuf::ColumnType::Double,
            ColumnType::Boolean => flatgeobuf::ColumnType::Bool,
        };
        let nullable = column.nullable;
        fgb.add_column(&column.name, kind, |_, args| args.nullable = nullable);
    }
    for row in &table.rows {
        let mut failure = None;
        fgb.add_feature_geom(geo::Geometry::MultiPolygon(row.geometry.clone()), |feature| {
            for (i, (column, value)) in table.columns.iter().zip(&row.values).enumerate() {
                let text;
                let value = match (column.kind, value) {
                    (_, Value::Null) => continue,
                    (ColumnType::Text, Value::String(s)) => ColumnValue::String(s),
                    (ColumnType::Text, other) => {
                        text = other.to_string();
                        ColumnValue::String(&text)
                    }
                    (ColumnType::Integer, v) => ColumnValue::Long(v.as_i64().unwrap_or_default()),
                    (ColumnType::Decimal, v) => ColumnValue::Double(v.as_f64().unwrap_or_default()),
                    (ColumnType::Boolean, v) => ColumnValue::Bool(v.as_bool().unwrap_or_default()),
                };
                if let Err(e) = feature.property(i, &column.name, &value) {
                    failure.get_or_insert(e);
                }
            }
        })
        .map_err(|e| fail(&e))?;
        if let Some(e) = failure {
            return Err(fail(&e));
        }
    }
    let file = std::fs::File::create(path).map_err(ExportError::io(path))?;
    fgb.write(BufWriter::new(file)).map_err(|e| fail(&e))?;
    Ok(table.rows.len())
}
