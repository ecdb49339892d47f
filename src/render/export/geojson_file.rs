//! GeoJSON (RFC 7946): one FeatureCollection per collection, full-detail geometry, ids and properties as
//! the OGC API items give them.

use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::{Map, Value};

use super::ExportError;
use super::table::Table;

/// Writes `table` to `path`; returns the features written.
pub fn write(table: &Table<'_>, path: &Path) -> Result<usize, ExportError> {
    let file = std::fs::File::create(path).map_err(ExportError::io(path))?;
    let mut out = BufWriter::new(file);
    let io = ExportError::io;
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[").map_err(io(path))?;
    for (n, row) in table.rows.iter().enumerate() {
        if n > 0 {
            out.write_all(b",\n").map_err(io(path))?;
        }
        let properties: Map<String, Value> = table
            .columns
            .iter()
            .zip(&row.values)
            .filter(|(c, _)| c.name != "id")
            .map(|(c, v)| (c.name.clone(), v.clone()))
            .collect();
        let feature = geojson::Feature {
            bbox: None,
            geometry: Some(geojson::Geometry::new(geojson::GeometryValue::from(row.geometry))),
            id: Some(geojson::feature::Id::String(row.id.clone())),
            properties: Some(properties),
            foreign_members: None,
        };
        serde_json::to_writer(&mut out, &feature).map_err(|e| ExportError::encode(path)(&e))?;
    }
    out.write_all(b"]}\n").map_err(io(path))?;
    out.flush().map_err(io(path))?;
    Ok(table.rows.len())
}
