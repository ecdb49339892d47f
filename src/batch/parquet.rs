//! Parquet and GeoParquet batches, streamed by record batch: each batch's location columns (or, in a
//! GeoParquet of points without them, its WKB point geometry) are read as text, the rows answered in
//! parallel, and the batch written back whole, its own columns untouched, the added ones after them (or,
//! when another format is asked for, cell by cell through `table`).
//! The file's key-value metadata (GeoParquet's `geo`) is carried over, so a GeoParquet stays one.

use std::fmt::Write as _;
use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::KeyValue;
use parquet::file::reader::ChunkReader;
use rayon::prelude::*;

use super::rows::{RowAnswer, RowReader};
use super::table::{Cell, Chunk, ColumnKind, TableHeader, TableWriter, arrow_cell};
use super::{BatchError, BatchOptions, BatchStats, CHUNK_ROWS, PIECE_ROWS, TableFormat};
use crate::atlas::Atlas;
use crate::source::crs::Crs;
use crate::tabular::columns::{ColumnRole, find_column};

/// The point geometry column of a GeoParquet read as virtual coordinate columns.
struct GeometryColumn {
    /// Position in the file's columns.
    index: usize,
}

/// Answers every row of a Parquet file (GeoParquet included) into `output`, in [`BatchOptions::output`]'s
/// format (Parquet by default): the same columns, then those of [`annotate_csv`](super::annotate_csv)
/// (`border_m_E` as doubles, the others as text).
///
/// # Errors
/// A file that is not Parquet, a location column of a type that cannot hold coordinates or codes, no
/// column to locate rows by, more rows than [`BatchOptions::max_rows`], a failed write.
pub fn annotate_parquet<R: ChunkReader + 'static, W: Write>(
    atlas: &Atlas,
    input: R,
    output: W,
    source_name: &str,
    options: &BatchOptions,
) -> Result<BatchStats, BatchError> {
    let failed = |message: String| BatchError::Parquet(format!("{source_name}: {message}"));
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(input).map_err(|e| failed(format!("not Parquet: {e}")))?;
    let schema = builder.schema().clone();
    let metadata: Vec<KeyValue> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().filter(|k| k.key != "ARROW:schema").cloned().collect())
        .unwrap_or_default();
    let mut names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut options = options.clone();
    // A GeoParquet of points with no coordinate column by name: its geometry gives them.
    let geometry = point_geometry(&metadata, &schema, &names).map(|(index, crs)| {
        let geographic = crs.is_none_or(Crs::is_geographic);
        names.extend(if geographic { ["lon", "lat"] } else { ["x", "y"] }.map(String::from));
        if !geographic {
            options.crs = crs;
        }
        GeometryColumn { index }
    });
    let reader = RowReader::new(atlas, &names, false, &options, source_name)?;
    let used_columns = reader.used_columns();
    for &c in used_columns.iter().filter(|&&c| c < schema.fields().len()) {
        let field = &schema.fields()[c];
        if !readable(field.data_type()) {
            return Err(failed(format!(
                "column {:?} is {}, which holds no coordinate or code",
                field.name(),
                field.data_type()
            )));
        }
    }

    // Which of the row's fields (the file's columns, then the geometry's two) the reader reads.
    let used: Vec<bool> = (0..names.len()).map(|c| used_columns.contains(&c)).collect();

    let format = options.output.unwrap_or(TableFormat::Parquet);
    let header = TableHeader {
        names: schema.fields().iter().map(|f| f.name().clone()).collect(),
        kinds: schema.fields().iter().map(|f| ColumnKind::Arrow(f.clone())).collect(),
        delimiter: b',',
        sheet: "sites".to_owned(),
        schema_metadata: schema.metadata().clone().into(),
        key_values: metadata,
    };
    let mut writer = TableWriter::new(atlas, format, &header, options.bom, output, source_name)?;

    let mut batches = builder.with_batch_size(CHUNK_ROWS).build().map_err(|e| failed(e.to_string()))?;
    let answer_batch = |batch: &RecordBatch| -> Vec<RowAnswer> {
        let rows: Vec<usize> = (0..batch.num_rows()).collect();
        let pieces: Vec<Vec<csv::ByteRecord>> = rows
            .par_chunks(PIECE_ROWS)
            .map(|piece| {
                let mut text = String::new();
                piece.iter().map(|&row| record(batch, row, &used, geometry.as_ref(), &mut text)).collect()
            })
            .collect();
        let pieces: Vec<&[csv::ByteRecord]> = pieces.iter().map(Vec::as_slice).collect();
        reader.answer_pieces(&pieces).into_iter().flatten().collect()
    };
    let mut stats = BatchStats::default();
    // While a batch is answered, the previous one is written and the next one read.
    let mut next = batches.next();
    let mut pending: Option<(RecordBatch, Vec<RowAnswer>)> = None;
    while let Some(batch) = next.take() {
        let batch = batch.map_err(|e| failed(e.to_string()))?;
        if stats.rows + batch.num_rows() as u64 > options.max_rows {
            return Err(BatchError::TooManyRows {
                source_name: source_name.to_owned(),
                max: options.max_rows,
            });
        }
        let (answers, written) = std::thread::scope(|scope| {
            let answering = scope.spawn(|| answer_batch(&batch));
            let written = pending
                .take()
                .map_or(Ok(()), |(done, answers)| writer.write(&Batch(&done), &answers, &reader));
            next = batches.next();
            (answering.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), written)
        });
        written?;
        for answer in &answers {
            answer.count(&mut stats);
        }
        pending = Some((batch, answers));
    }
    if let Some((done, answers)) = pending {
        writer.write(&Batch(&done), &answers, &reader)?;
    }
    writer.finish()?;
    Ok(stats)
}

/// A record batch as a chunk of cells, kept whole in a Parquet answer.
pub(super) struct Batch<'a>(pub(super) &'a RecordBatch);

impl Chunk for Batch<'_> {
    fn rows(&self) -> usize {
        self.0.num_rows()
    }

    fn fields(&self, _row: usize) -> usize {
        self.0.num_columns()
    }

    fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        if column < self.0.num_columns() {
            arrow_cell(self.0.column(column).as_ref(), row)
        } else {
            Cell::Empty
        }
    }

    fn record_batch(&self) -> Option<&RecordBatch> {
        Some(self.0)
    }
}

/// The row as the row reader reads it: the used columns as text, the others empty; the point of the
/// geometry column in the two virtual columns after the file's own. Written into one record with one
/// text buffer (`text`), as a row of a CSV would be: no string per cell.
fn record(
    batch: &RecordBatch,
    row: usize,
    used: &[bool],
    geometry: Option<&GeometryColumn>,
    text: &mut String,
) -> csv::ByteRecord {
    let width = used.len();
    let point = geometry.and_then(|g| wkb_point(batch.column(g.index).as_ref(), row));
    let mut record = csv::ByteRecord::with_capacity(64, width);
    for (c, &is_used) in used.iter().enumerate() {
        text.clear();
        if c < batch.num_columns() {
            if is_used {
                write_cell_text(batch.column(c).as_ref(), row, text);
            }
        } else if let Some((x, y)) = point {
            // The two virtual columns after the file's own.
            let _ = write!(text, "{}", if c == width - 2 { x } else { y });
        }
        record.push_field(text.as_bytes());
    }
    record
}

/// Whether cells of this type can be read as text by [`write_cell_text`].
fn readable(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(_, values) => readable(values),
        t => t.is_numeric() || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
    }
}

/// Appends a cell as text to `out` (nothing for a null, or a type [`readable`] refuses).
fn write_cell_text(array: &dyn Array, i: usize, out: &mut String) {
    // Writing to a `String` cannot fail.
    fn number(out: &mut String, v: impl std::fmt::Display) {
        let _ = write!(out, "{v}");
    }
    if array.is_null(i) {
        return;
    }
    match array.data_type() {
        DataType::Utf8 => out.push_str(array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(i)),
        DataType::Utf8View => out.push_str(array.as_string_view().value(i)),
        DataType::Int8 => number(out, array.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => number(out, array.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => number(out, array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => number(out, array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => number(out, array.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => number(out, array.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => number(out, array.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => number(out, array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float32 => number(out, array.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => number(out, array.as_primitive::<Float64Type>().value(i)),
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            if let Some(key) = super::table::dictionary_key(dictionary.keys(), i) {
                write_cell_text(dictionary.values().as_ref(), key, out);
            }
        }
        _ => {}
    }
}

/// The primary geometry column of a GeoParquet whose geometries are points, and its CRS (`None`: OGC
/// CRS84), when the file has no column named as a coordinate.
pub(super) fn point_geometry(
    metadata: &[KeyValue],
    schema: &Schema,
    names: &[String],
) -> Option<(usize, Option<Crs>)> {
    let named = |role| find_column(names.iter().map(String::as_str), role).is_some();
    if named(ColumnRole::Longitude) || named(ColumnRole::X) {
        return None;
    }
    let geo: serde_json::Value =
        serde_json::from_str(metadata.iter().find(|k| k.key == "geo")?.value.as_deref()?).ok()?;
    let primary = geo.get("primary_column")?.as_str()?;
    let column = geo.get("columns")?.get(primary)?;
    let types = column.get("geometry_types")?.as_array()?;
    if column.get("encoding").and_then(serde_json::Value::as_str) != Some("WKB")
        || !types.iter().all(|t| t.as_str().is_some_and(|t| t.starts_with("Point")))
    {
        return None;
    }
    let crs = match column.get("crs") {
        None | Some(serde_json::Value::Null) => None,
        Some(crs) => {
            let code = crs.get("id").and_then(|id| id.get("code")).and_then(serde_json::Value::as_u64)?;
            Some(Crs::from_epsg(u32::try_from(code).ok()?).ok()?)
        }
    };
    Some((schema.index_of(primary).ok()?, crs))
}

/// The coordinates of a WKB point cell.
fn wkb_point(array: &dyn Array, i: usize) -> Option<(f64, f64)> {
    use geozero::ToGeo;
    if array.is_null(i) {
        return None;
    }
    let bytes = match array.data_type() {
        DataType::Binary => array.as_binary::<i32>().value(i),
        DataType::LargeBinary => array.as_binary::<i64>().value(i),
        DataType::BinaryView => array.as_binary_view().value(i),
        _ => return None,
    };
    match geozero::wkb::Wkb(bytes).to_geo().ok()? {
        geo::Geometry::Point(p) => Some((p.x(), p.y())),
        _ => None,
    }
}
