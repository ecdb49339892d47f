//! GeoParquet 1.1: the table's columns, a WKB `geometry` column and a `bbox` covering column, with the
//! `geo` file metadata (primary column, encoding, geometry types, bbox; no `crs` key, which the
//! specification reads as OGC:CRS84, the Atlas's lon/lat).

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Fields, Schema};
use geo::BoundingRect;
use geozero::{CoordDimensions, ToWkb};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::{Value, json};

use super::ExportError;
use super::table::{ColumnType, Table};

/// Rows per row group: readers filtering by the bbox covering skip groups of this size.
const ROW_GROUP_ROWS: usize = 4096;

/// Writes `table` to `path`; returns the rows written.
pub fn write(table: &Table<'_>, path: &Path) -> Result<usize, ExportError> {
    let mut fields: Vec<Field> =
        table.columns.iter().map(|c| Field::new(&c.name, arrow_type(c.kind), c.nullable)).collect();
    fields.push(Field::new("geometry", DataType::Binary, false));
    fields.push(Field::new("bbox", DataType::Struct(bbox_fields()), false));
    let mut total = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for row in &table.rows {
        if let Some(r) = row.geometry.bounding_rect() {
            total = [
                total[0].min(r.min().x),
                total[1].min(r.min().y),
                total[2].max(r.max().x),
                total[3].max(r.max().y),
            ];
        }
    }
    let geo = json!({
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": { "geometry": {
            "encoding": "WKB",
            "geometry_types": ["MultiPolygon"],
            "bbox": total,
            "covering": { "bbox": {
                "xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"],
                "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"],
            }},
        }},
    });
    let schema = Arc::new(Schema::new(fields));
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![KeyValue::new("geo".to_owned(), geo.to_string())]))
        .build();
    let file = std::fs::File::create(path).map_err(ExportError::io(path))?;
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
        .map_err(|e| ExportError::encode(path)(&e))?;
    for chunk in table.rows.chunks(ROW_GROUP_ROWS) {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        for (i, column) in table.columns.iter().enumerate() {
            let values = chunk.iter().map(|r| &r.values[i]);
            arrays.push(match column.kind {
                ColumnType::Text => {
                    let mut b = StringBuilder::new();
                    for v in values {
                        match v {
                            Value::Null => b.append_null(),
                            Value::String(s) => b.append_value(s),
                            other => b.append_value(other.to_string()),
                        }
                    }
                    Arc::new(b.finish())
                }
                ColumnType::Integer => {
                    let mut b = Int64Builder::new();
                    values.for_each(|v| b.append_option(v.as_i64()));
                    Arc::new(b.finish())
                }
                ColumnType::Decimal => {
                    let mut b = Float64Builder::new();
                    values.for_each(|v| b.append_option(v.as_f64()));
                    Arc::new(b.finish())
                }
                ColumnType::Boolean => {
                    let mut b = BooleanBuilder::new();
                    values.for_each(|v| b.append_option(v.as_bool()));
                    Arc::new(b.finish())
                }
            });
        }
        let mut wkb = BinaryBuilder::new();
        let mut corners: [Float64Builder; 4] = std::array::from_fn(|_| Float64Builder::new());
        for row in chunk {
            let bytes = geo::Geometry::MultiPolygon(row.geometry.clone())
                .to_wkb(CoordDimensions::xy())
                .map_err(|e| ExportError::encode(path)(&e))?;
            wkb.append_value(bytes);
            let r = row.geometry.bounding_rect().unwrap_or_else(|| geo::Rect::new((0.0, 0.0), (0.0, 0.0)));
            for (b, v) in corners.iter_mut().zip([r.min().x, r.min().y, r.max().x, r.max().y]) {
                b.append_value(v);
            }
        }
        arrays.push(Arc::new(wkb.finish()));
        let corner_arrays: Vec<ArrayRef> =
            corners.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        arrays.push(Arc::new(
            StructArray::try_new(bbox_fields(), corner_arrays, None)
                .map_err(|e| ExportError::encode(path)(&e))?,
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), arrays).map_err(|e| ExportError::encode(path)(&e))?;
        writer.write(&batch).map_err(|e| ExportError::encode(path)(&e))?;
    }
    writer.close().map_err(|e| ExportError::encode(path)(&e))?;
    Ok(table.rows.len())
}

fn arrow_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::Text => DataType::Utf8,
        ColumnType::Integer => DataType::Int64,
        ColumnType::Decimal => DataType::Float64,
        ColumnType::Boolean => DataType::Boolean,
    }
}

fn bbox_fields() -> Fields {
    ["xmin", "ymin", "xmax", "ymax"].into_iter().map(|n| Field::new(n, DataType::Float64, false)).collect()
}
