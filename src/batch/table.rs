//! The answer side of table batches: one writer per answer format (CSV streamed, XLSX in constant
//! memory, Parquet by record batch) taking any input's rows — CSV records, spreadsheet cells, Arrow
//! record batches — so every table format can be answered in every other. It writes input cells and
//! the added fields of [`RowReader::emit`]; it neither reads inputs nor locates rows.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    ByteArrayType, Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, GenericByteArray, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::rows::{Field, RowAnswer, RowReader, added_names};
use super::{BatchError, TableFormat, unique_name};
use crate::atlas::Atlas;

/// One input cell, as its format holds it.
pub(super) enum Cell<'a> {
    /// Nothing there.
    Empty,
    /// A CSV field (UTF-8): text of unknown type, which a typed answer may read as a number.
    Raw(&'a [u8]),
    /// Text.
    Text(Cow<'a, str>),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A spreadsheet date and time, as Excel's serial number (days since 1899-12-30).
    DateTime(f64),
}

impl Cell<'_> {
    /// The cell as a CSV answer writes it: numbers as Rust prints them (shortest exact form), dates as
    /// `YYYY-MM-DD hh:mm:ss`.
    pub(super) fn text(&self) -> Cow<'_, str> {
        match self {
            Self::Empty => Cow::Borrowed(""),
            Self::Raw(bytes) => String::from_utf8_lossy(bytes),
            Self::Text(text) => Cow::Borrowed(text),
            Self::Number(n) => Cow::Owned(n.to_string()),
            Self::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Self::DateTime(serial) => Cow::Owned(excel_datetime_text(*serial)),
        }
    }
}

/// An Excel serial date-time as `YYYY-MM-DD hh:mm:ss` (`YYYY-MM-DD` at midnight).
fn excel_datetime_text(serial: f64) -> String {
    // 25569: days from Excel's epoch (1899-12-30) to 1970-01-01.
    #[allow(clippy::cast_possible_truncation)]
    let ms = ((serial - 25_569.0) * 86_400_000.0).round() as i64;
    match arrow_array::temporal_conversions::timestamp_ms_to_datetime(ms) {
        Some(t) if ms.rem_euclid(86_400_000) == 0 => t.date().to_string(),
        Some(t) => t.to_string(),
        None => serial.to_string(),
    }
}

/// A CSV field written as a plain decimal number (`3.328181`, `75056`, `734812.0`; not `02722`,
/// `2A004`, `1e5`, `3,5`, nor more than 15 digits, past a double's precision): such a field becomes a
/// number in a spreadsheet answer, the others stay text, so codes keep their leading zeros.
fn exact_number(field: &str) -> Option<f64> {
    let unsigned = field.strip_prefix('-').unwrap_or(field);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let plain = !int.is_empty()
        && digits(int)
        && digits(frac)
        && (unsigned.len() == int.len() || !frac.is_empty())
        && (int == "0" || !int.starts_with('0'))
        && int.len() + frac.len() <= 15;
    if plain { field.parse().ok() } else { None }
}

/// The type of an input column, for answers that type their columns (Parquet).
#[derive(Debug, Clone)]
pub(super) enum ColumnKind {
    /// Text (every CSV column; spreadsheet columns of mixed cells).
    Text,
    /// Numbers only.
    Number,
    /// Booleans only.
    Bool,
    /// A Parquet column, kept as it is when the answer is Parquet.
    Arrow(Arc<ArrowField>),
}

/// A chunk of input rows, cell by cell.
pub(super) trait Chunk {
    /// Rows in the chunk.
    fn rows(&self) -> usize;
    /// Fields of row `row` (a CSV row may have more or fewer than its header).
    fn fields(&self, row: usize) -> usize;
    /// One cell; [`Cell::Empty`] past the row's end.
    fn cell(&self, row: usize, column: usize) -> Cell<'_>;
    /// The chunk as an Arrow record batch, when it is one (kept whole in a Parquet answer).
    fn record_batch(&self) -> Option<&RecordBatch> {
        None
    }
    /// Row `row`'s input line without its line break, when a CSV answer can copy it as it came (it is
    /// UTF-8 and none of its fields was quoted).
    fn raw_line(&self, _row: usize) -> Option<&[u8]> {
        None
    }
}

/// What an answer needs to know of its input before the first row.
pub(super) struct TableHeader {
    /// Input column names.
    pub(super) names: Vec<String>,
    /// Input column types, one per name.
    pub(super) kinds: Vec<ColumnKind>,
    /// The field separator of a CSV input (a CSV answer keeps it; `,` otherwise).
    pub(super) delimiter: u8,
    /// The sheet name of a spreadsheet answer.
    pub(super) sheet: String,
    /// Arrow schema metadata and Parquet key-value metadata of a Parquet input (GeoParquet's `geo`),
    /// carried over to a Parquet answer.
    pub(super) schema_metadata: std::collections::HashMap<String, String>,
    /// See `schema_metadata`.
    pub(super) key_values: Vec<KeyValue>,
}

impl TableHeader {
    /// The header of an input whose columns are all text.
    pub(super) fn text(names: Vec<String>, delimiter: u8, sheet: &str) -> Self {
        let kinds = vec![ColumnKind::Text; names.len()];
        Self {
            names,
            kinds,
            delimiter,
            sheet: sheet.to_owned(),
            schema_metadata: std::collections::HashMap::new(),
            key_values: Vec::new(),
        }
    }
}

/// Writes answered rows in one table format.
pub(super) struct TableWriter<W: Write> {
    sink: Sink<W>,
    /// The separator of a CSV answer.
    delimiter: u8,
    /// Input columns.
    width: usize,
    scratch: Vec<u8>,
    source_name: String,
}

enum Sink<W: Write> {
    /// The header is written; rows come as [`csv_rows`] makes them.
    Csv(W),
    Xlsx {
        workbook: Box<Workbook>,
        date: Format,
        next_row: u32,
        output: W,
    },
    Parquet {
        // The encoder writes into a buffer drained into `output` after each batch: `output` need not
        // be `Send` (an HTTP body is not), and what is written is bounded by a batch's encoding.
        writer: Box<ArrowWriter<Vec<u8>>>,
        schema: Arc<Schema>,
        kinds: Vec<ColumnKind>,
        metres: Vec<bool>,
        output: W,
    },
}

/// Rows per row group of a Parquet answer.
const ANSWER_ROW_GROUP_ROWS: usize = 131_072;

/// Rows an XLSX sheet can hold, header included.
const MAX_SHEET_ROWS: u32 = 1_048_576;

impl<W: Write> TableWriter<W> {
    /// Starts an answer in `format`: writes the header (the input's names, then the added ones).
    ///
    /// # Errors
    /// An input column a non-Parquet answer cannot hold (a Parquet list, struct...), a failed write.
    pub(super) fn new(
        atlas: &Atlas,
        format: TableFormat,
        header: &TableHeader,
        bom: bool,
        mut output: W,
        source_name: &str,
    ) -> Result<Self, BatchError> {
        let added = added_names(atlas);
        let mut names = header.names.clone();
        for (name, _) in &added {
            let unique = unique_name(|n| names.iter().any(|h| h == n), name.clone());
            names.push(unique);
        }
        if format != TableFormat::Parquet {
            for (name, kind) in header.names.iter().zip(&header.kinds) {
                if let ColumnKind::Arrow(field) = kind
                    && !textual(field.data_type())
                {
                    return Err(BatchError::Unconvertible {
                        source_name: source_name.to_owned(),
                        column: name.clone(),
                        kind: field.data_type().to_string(),
                        format: format.name(),
                    });
                }
            }
        }
        let sink = match format {
            TableFormat::Csv => {
                if bom {
                    output.write_all(crate::tabular::UTF8_BOM)?;
                }
                let mut head = csv::WriterBuilder::new().delimiter(header.delimiter).from_writer(Vec::new());
                head.write_record(&names).map_err(csv_write)?;
                output.write_all(&head.into_inner().map_err(|e| BatchError::Write(e.into_error()))?)?;
                Sink::Csv(output)
            }
            TableFormat::Xlsx => {
                let spreadsheet = spreadsheet_error(source_name);
                if names.len() > usize::from(u16::MAX) {
                    return Err(spreadsheet("the answer would not fit in one sheet".into()));
                }
                let mut workbook = Box::new(Workbook::new());
                let sheet = workbook.add_worksheet_with_constant_memory();
                let xlsx = |e: XlsxError| spreadsheet(format!("writing the answer: {e}"));
                sheet.set_name(&header.sheet).map_err(xlsx)?;
                for (c, h) in names.iter().enumerate() {
                    sheet.write_string(0, col(c), h).map_err(xlsx)?;
                }
                let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
                Sink::Xlsx { workbook, date, next_row: 1, output }
            }
            TableFormat::Parquet => {
                let failed = |e: &dyn std::fmt::Display| BatchError::Parquet(format!("{source_name}: {e}"));
                let mut fields: Vec<Arc<ArrowField>> = header
                    .names
                    .iter()
                    .zip(&header.kinds)
                    .map(|(name, kind)| match kind {
                        ColumnKind::Arrow(field) => field.clone(),
                        ColumnKind::Text => Arc::new(ArrowField::new(name, DataType::Utf8, true)),
                        ColumnKind::Number => Arc::new(ArrowField::new(name, DataType::Float64, true)),
                        ColumnKind::Bool => Arc::new(ArrowField::new(name, DataType::Boolean, true)),
                    })
                    .collect();
                for ((_, metres), name) in added.iter().zip(&names[header.names.len()..]) {
                    let kind = if *metres { DataType::Float64 } else { DataType::Utf8 };
                    fields.push(Arc::new(ArrowField::new(name, kind, true)));
                }
                let schema = Arc::new(Schema::new_with_metadata(fields, header.schema_metadata.clone()));
                let key_values = header.key_values.clone();
                let properties = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    // A row group is held in memory until it is complete: bounded, memory stays flat
                    // however long the table (the default, a million rows, grew it by 100 MB).
                    .set_max_row_group_row_count(Some(ANSWER_ROW_GROUP_ROWS))
                    .set_key_value_metadata((!key_values.is_empty()).then_some(key_values))
                    .build();
                let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties))
                    .map_err(|e| failed(&e))?;
                Sink::Parquet {
                    writer: Box::new(writer),
                    schema,
                    kinds: header.kinds.clone(),
                    metres: added.iter().map(|(_, m)| *m).collect(),
                    output,
                }
            }
        };
        Ok(Self {
            sink,
            delimiter: header.delimiter,
            width: header.names.len(),
            scratch: Vec::new(),
            source_name: source_name.to_owned(),
        })
    }

    /// Writes rows a CSV answer made with [`csv_rows`] (a CSV answer's pieces are made in parallel).
    ///
    /// # Errors
    /// A failed write, or an answer that is not CSV.
    pub(super) fn write_csv(&mut self, rows: &[u8]) -> Result<(), BatchError> {
        match &mut self.sink {
            Sink::Csv(output) => Ok(output.write_all(rows)?),
            _ => Err(BatchError::Write(std::io::Error::other("rows in CSV for an answer that is not CSV"))),
        }
    }

    /// Writes a chunk of input rows with their answers (one per row, in order).
    ///
    /// # Errors
    /// A failed write; a spreadsheet answer past a sheet's million rows.
    pub(super) fn write(
        &mut self,
        chunk: &dyn Chunk,
        answers: &[RowAnswer],
        reader: &RowReader<'_>,
    ) -> Result<(), BatchError> {
        let width = self.width;
        let scratch = &mut self.scratch;
        let source_name = self.source_name.as_str();
        match &mut self.sink {
            Sink::Csv(output) => {
                output.write_all(&csv_rows(chunk, answers, reader, self.delimiter))?;
            }
            Sink::Xlsx { workbook, date, next_row, .. } => {
                let spreadsheet = spreadsheet_error(source_name);
                let xlsx = |e: XlsxError| spreadsheet(format!("writing the answer: {e}"));
                if u64::from(*next_row) + answers.len() as u64 > u64::from(MAX_SHEET_ROWS) {
                    return Err(spreadsheet("the answer would not fit in one sheet".into()));
                }
                let sheet = workbook.worksheet_from_index(0).map_err(xlsx)?;
                for (row, answer) in answers.iter().enumerate() {
                    let r = *next_row;
                    for c in 0..width {
                        let at = col(c);
                        match chunk.cell(row, c) {
                            Cell::Empty | Cell::Raw(b"") => Ok(()),
                            Cell::Raw(bytes) => {
                                let text = String::from_utf8_lossy(bytes);
                                match exact_number(&text) {
                                    Some(n) => sheet.write_number(r, at, n).map(|_| ()),
                                    None => sheet.write_string(r, at, text).map(|_| ()),
                                }
                            }
                            Cell::Text(text) => sheet.write_string(r, at, text).map(|_| ()),
                            Cell::Number(n) => sheet.write_number(r, at, n).map(|_| ()),
                            Cell::Bool(b) => sheet.write_boolean(r, at, b).map(|_| ()),
                            Cell::DateTime(serial) => {
                                ExcelDateTime::from_serial_datetime(serial).and_then(|when| {
                                    sheet.write_datetime_with_format(r, at, when, date).map(|_| ())
                                })
                            }
                        }
                        .map_err(xlsx)?;
                    }
                    let mut c = width;
                    let mut result = Ok(());
                    reader.emit(answer, scratch, |field| {
                        let written = match field {
                            Field::Text(b"") | Field::Metres(None) => Ok(()),
                            Field::Text(text) => {
                                sheet.write_string(r, col(c), String::from_utf8_lossy(text)).map(|_| ())
                            }
                            Field::Metres(Some(m)) => sheet.write_number(r, col(c), m.round()).map(|_| ()),
                        };
                        if result.is_ok() {
                            result = written;
                        }
                        c += 1;
                    });
                    result.map_err(xlsx)?;
                    *next_row += 1;
                }
            }
            Sink::Parquet { writer, schema, kinds, metres, output } => {
                let failed = |e: &dyn std::fmt::Display| BatchError::Parquet(format!("{source_name}: {e}"));
                let mut arrays: Vec<ArrayRef> = match chunk.record_batch() {
                    Some(batch) => batch.columns().to_vec(),
                    None => kinds.iter().enumerate().map(|(c, kind)| column_array(chunk, c, kind)).collect(),
                };
                let mut added: Vec<AddedBuilder> = metres
                    .iter()
                    .map(|&m| {
                        if m {
                            AddedBuilder::Metres(Float64Builder::new())
                        } else {
                            AddedBuilder::Text(StringBuilder::new())
                        }
                    })
                    .collect();
                for answer in answers {
                    let mut c = 0;
                    reader.emit(answer, scratch, |field| {
                        match (&mut added[c], field) {
                            (AddedBuilder::Text(b), Field::Text(text)) => {
                                b.append_value(String::from_utf8_lossy(text));
                            }
                            (AddedBuilder::Metres(b), Field::Metres(m)) => b.append_option(m.map(f64::round)),
                            (AddedBuilder::Text(b), Field::Metres(_)) => b.append_null(),
                            (AddedBuilder::Metres(b), Field::Text(_)) => b.append_null(),
                        }
                        c += 1;
                    });
                }
                arrays.extend(added.into_iter().map(AddedBuilder::finish));
                let arrays = arrays.into_iter().map(with_real_values_buffer).collect();
                let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| failed(&e))?;
                writer.write(&batch).map_err(|e| failed(&e))?;
                let encoded = std::mem::take(writer.inner_mut());
                output.write_all(&encoded)?;
            }
        }
        Ok(())
    }

    /// Ends the answer (the zip of a spreadsheet, the footer of a Parquet file) and flushes it.
    ///
    /// # Errors
    /// A failed write.
    pub(super) fn finish(self) -> Result<(), BatchError> {
        let source_name = self.source_name.as_str();
        match self.sink {
            Sink::Csv(mut output) => output.flush()?,
            Sink::Xlsx { mut workbook, mut output, .. } => {
                let bytes = workbook
                    .save_to_buffer()
                    .map_err(|e| spreadsheet_error(source_name)(format!("writing the answer: {e}")))?;
                output.write_all(&bytes)?;
                output.flush()?;
            }
            Sink::Parquet { mut writer, mut output, .. } => {
                writer.finish().map_err(|e| BatchError::Parquet(format!("{source_name}: {e}")))?;
                output.write_all(writer.inner_mut())?;
                output.flush()?;
            }
        }
        Ok(())
    }
}

/// An added column being built for a Parquet answer.
enum AddedBuilder {
    Text(StringBuilder),
    Metres(Float64Builder),
}

impl AddedBuilder {
    fn finish(self) -> ArrayRef {
        match self {
            Self::Text(mut b) => Arc::new(b.finish()),
            Self::Metres(mut b) => Arc::new(b.finish()),
        }
    }
}

/// The same column, its values buffer at a real address when every value is empty.
///
/// The Parquet reader gives such a column (SIRENE's unused `plg_*` columns) a values buffer at a
/// dangling address. The Parquet writer compares its values for statistics and
/// dictionaries, and glibc's `memcmp` of zero bytes at that address was about 20 times slower here than
/// at a real one: 131,072 empty strings took 46 ms to write, 2.3 ms with a real buffer. On the
/// SIRENE-shaped file that was a fifth of the whole run.
fn with_real_values_buffer(array: ArrayRef) -> ArrayRef {
    fn backed<T: ByteArrayType>(a: &GenericByteArray<T>) -> Option<ArrayRef> {
        if !a.values().is_empty() || a.null_count() == a.len() {
            return None;
        }
        let values = arrow_buffer::Buffer::from_vec(vec![0u8]).slice_with_length(0, 0);
        let a = GenericByteArray::<T>::try_new(a.offsets().clone(), values, a.nulls().cloned()).ok()?;
        Some(Arc::new(a))
    }
    let backed = match array.data_type() {
        DataType::Utf8 => backed(array.as_string::<i32>()),
        DataType::LargeUtf8 => backed(array.as_string::<i64>()),
        DataType::Binary => backed(array.as_binary::<i32>()),
        DataType::LargeBinary => backed(array.as_binary::<i64>()),
        _ => None,
    };
    backed.unwrap_or(array)
}

/// Row `i`'s key in a dictionary column's `keys`, `None` when it is not a valid position. (Arrow's
/// `normalized_keys` would convert every key of the column to answer one cell: a batch of pandas
/// categoricals took quadratic time.)
pub(super) fn dictionary_key(keys: &dyn Array, i: usize) -> Option<usize> {
    match keys.data_type() {
        DataType::Int8 => usize::try_from(keys.as_primitive::<Int8Type>().value(i)).ok(),
        DataType::Int16 => usize::try_from(keys.as_primitive::<Int16Type>().value(i)).ok(),
        DataType::Int32 => usize::try_from(keys.as_primitive::<Int32Type>().value(i)).ok(),
        DataType::Int64 => usize::try_from(keys.as_primitive::<Int64Type>().value(i)).ok(),
        DataType::UInt8 => Some(usize::from(keys.as_primitive::<UInt8Type>().value(i))),
        DataType::UInt16 => Some(usize::from(keys.as_primitive::<UInt16Type>().value(i))),
        DataType::UInt32 => usize::try_from(keys.as_primitive::<UInt32Type>().value(i)).ok(),
        DataType::UInt64 => usize::try_from(keys.as_primitive::<UInt64Type>().value(i)).ok(),
        _ => None,
    }
}

/// One input column of a chunk as an Arrow array of the answer's type for it.
fn column_array(chunk: &dyn Chunk, c: usize, kind: &ColumnKind) -> ArrayRef {
    let rows = chunk.rows();
    match kind {
        ColumnKind::Number => {
            let mut b = Float64Builder::with_capacity(rows);
            for row in 0..rows {
                b.append_option(match chunk.cell(row, c) {
                    Cell::Number(n) => Some(n),
                    Cell::Raw(bytes) => std::str::from_utf8(bytes).ok().and_then(|s| s.trim().parse().ok()),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnKind::Bool => {
            let mut b = BooleanBuilder::with_capacity(rows);
            for row in 0..rows {
                b.append_option(match chunk.cell(row, c) {
                    Cell::Bool(v) => Some(v),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        // Arrow columns only reach here from a Parquet chunk, which is kept whole: as text otherwise.
        ColumnKind::Text | ColumnKind::Arrow(_) => {
            let mut b = StringBuilder::new();
            for row in 0..rows {
                match chunk.cell(row, c) {
                    Cell::Empty => b.append_null(),
                    cell => b.append_value(cell.text()),
                }
            }
            Arc::new(b.finish())
        }
    }
}

/// Whether [`arrow_cell`] can give cells of this type (else only a Parquet answer can hold them).
pub(super) fn textual(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(_, values) => textual(values),
        t => {
            t.is_integer()
                || matches!(
                    t,
                    DataType::Float32
                        | DataType::Float64
                        | DataType::Decimal128(_, _)
                        | DataType::Null
                        | DataType::Boolean
                        | DataType::Utf8
                        | DataType::LargeUtf8
                        | DataType::Utf8View
                        | DataType::Binary
                        | DataType::LargeBinary
                        | DataType::BinaryView
                        | DataType::Date32
                        | DataType::Date64
                        | DataType::Timestamp(_, _)
                )
        }
    }
}

/// A cell of an Arrow array: numbers as numbers, dates as text, binary (a GeoParquet geometry) as WKT
/// for a WKB point, else hexadecimal; [`Cell::Empty`] for nulls and types [`textual`] refuses.
#[allow(clippy::cast_precision_loss)] // integers beyond 2^53 in a spreadsheet are doubles anyway
pub(super) fn arrow_cell(array: &dyn Array, i: usize) -> Cell<'_> {
    if array.is_null(i) {
        return Cell::Empty;
    }
    let datetime = |t: Option<String>| t.map_or(Cell::Empty, |t| Cell::Text(Cow::Owned(t)));
    match array.data_type() {
        DataType::Utf8 => Cell::Text(Cow::Borrowed(array.as_string::<i32>().value(i))),
        DataType::LargeUtf8 => Cell::Text(Cow::Borrowed(array.as_string::<i64>().value(i))),
        DataType::Utf8View => Cell::Text(Cow::Borrowed(array.as_string_view().value(i))),
        DataType::Boolean => Cell::Bool(array.as_boolean().value(i)),
        DataType::Int8 => Cell::Number(f64::from(array.as_primitive::<Int8Type>().value(i))),
        DataType::Int16 => Cell::Number(f64::from(array.as_primitive::<Int16Type>().value(i))),
        DataType::Int32 => Cell::Number(f64::from(array.as_primitive::<Int32Type>().value(i))),
        DataType::Int64 => Cell::Number(array.as_primitive::<Int64Type>().value(i) as f64),
        DataType::UInt8 => Cell::Number(f64::from(array.as_primitive::<UInt8Type>().value(i))),
        DataType::UInt16 => Cell::Number(f64::from(array.as_primitive::<UInt16Type>().value(i))),
        DataType::UInt32 => Cell::Number(f64::from(array.as_primitive::<UInt32Type>().value(i))),
        DataType::UInt64 => Cell::Number(array.as_primitive::<UInt64Type>().value(i) as f64),
        DataType::Float32 => Cell::Number(f64::from(array.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => Cell::Number(array.as_primitive::<Float64Type>().value(i)),
        DataType::Date32 => {
            datetime(array.as_primitive::<Date32Type>().value_as_date(i).map(|d| d.to_string()))
        }
        DataType::Date64 => {
            datetime(array.as_primitive::<Date64Type>().value_as_datetime(i).map(|d| d.to_string()))
        }
        DataType::Timestamp(unit, _) => datetime(
            match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value_as_datetime(i),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value_as_datetime(i)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value_as_datetime(i)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value_as_datetime(i),
            }
            .map(|d| d.to_string()),
        ),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes = match array.data_type() {
                DataType::Binary => array.as_binary::<i32>().value(i),
                DataType::LargeBinary => array.as_binary::<i64>().value(i),
                _ => array.as_binary_view().value(i),
            };
            Cell::Text(Cow::Owned(wkb_point_text(bytes).unwrap_or_else(|| hex::encode(bytes))))
        }
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            match dictionary_key(dictionary.keys(), i) {
                Some(key) => arrow_cell(dictionary.values().as_ref(), key),
                None => Cell::Empty,
            }
        }
        DataType::Decimal128(_, _) => {
            Cell::Text(Cow::Owned(array.as_primitive::<Decimal128Type>().value_as_string(i)))
        }
        _ => Cell::Empty,
    }
}

/// A WKB point as WKT (`POINT(2.35 48.85)`).
fn wkb_point_text(bytes: &[u8]) -> Option<String> {
    use geozero::ToGeo;
    match geozero::wkb::Wkb(bytes).to_geo().ok()? {
        geo::Geometry::Point(p) => Some(format!("POINT({} {})", p.x(), p.y())),
        _ => None,
    }
}

/// A column index as rust_xlsxwriter takes it (bounded by the width check of [`TableWriter::new`]).
fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// Rows with their answers as a CSV answer writes them: the input fields (a row's own line when it
/// can be copied as it came), then the added fields, with `delimiter`; a field is quoted only when it
/// holds the delimiter, a quote or a line break (as the `csv` crate's writer does).
pub(super) fn csv_rows(
    chunk: &dyn Chunk,
    answers: &[RowAnswer],
    reader: &RowReader<'_>,
    delimiter: u8,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(answers.len() * 192);
    let mut scratch = Vec::new();
    for (row, answer) in answers.iter().enumerate() {
        let fields = chunk.fields(row);
        if let Some(line) = chunk.raw_line(row) {
            out.extend_from_slice(line);
            // A short row is padded to the header's width.
            out.resize(out.len() + reader.width.saturating_sub(fields), delimiter);
        } else {
            for c in 0..fields.max(reader.width) {
                if c > 0 {
                    out.push(delimiter);
                }
                csv_field(&mut out, chunk.cell(row, c).text().as_bytes(), delimiter);
            }
        }
        reader.emit(answer, &mut scratch, |field| {
            out.push(delimiter);
            match field {
                Field::Text(text) => csv_field(&mut out, text, delimiter),
                // Whole metres, rounded as `{m:.0}` rounds (half to even), printed as an integer:
                // several times cheaper than formatting the float.
                Field::Metres(Some(m)) => {
                    let _ = write!(out, "{}", m.round_ties_even() as i64);
                }
                Field::Metres(None) => {}
            }
        });
        out.push(b'\n');
    }
    out
}

/// Appends one CSV field, quoted (quotes doubled) when it holds the delimiter, a quote or a line break.
fn csv_field(out: &mut Vec<u8>, field: &[u8], delimiter: u8) {
    if field.iter().any(|&b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

fn csv_write(e: csv::Error) -> BatchError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => BatchError::Write(io),
        other => BatchError::Write(std::io::Error::other(format!("{other:?}"))),
    }
}

fn spreadsheet_error(source_name: &str) -> impl Fn(String) -> BatchError + '_ {
    move |message| BatchError::Spreadsheet(format!("{source_name}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_string_columns_get_a_real_buffer_and_keep_their_values() {
        use arrow_array::{BinaryArray, StringArray};
        let dangling = |a: &ArrayRef| a.to_data().buffers()[1].as_ptr() as usize;
        let offsets = arrow_buffer::OffsetBuffer::new(vec![0i32; 4].into());
        let nulls = Some(arrow_buffer::NullBuffer::from(vec![true, false, true]));
        let empty: ArrayRef =
            Arc::new(StringArray::new(offsets, arrow_buffer::Buffer::from_vec(Vec::<u8>::new()), nulls));
        assert!(dangling(&empty) < 4096, "an empty Vec's buffer is not allocated");
        let backed = with_real_values_buffer(empty.clone());
        assert!(dangling(&backed) >= 4096);
        assert_eq!(backed.as_ref(), empty.as_ref(), "same values and nulls");
        let binary: ArrayRef = Arc::new(BinaryArray::from(vec![&b""[..]; 4]));
        assert_eq!(with_real_values_buffer(binary.clone()).as_ref(), binary.as_ref());
        // Columns with a value, or only nulls, are given back as they are.
        for a in [
            Arc::new(StringArray::from(vec![Some("a"), Some("")])) as ArrayRef,
            Arc::new(StringArray::from(vec![None::<&str>, None])) as ArrayRef,
        ] {
            assert!(Arc::ptr_eq(&with_real_values_buffer(a.clone()), &a));
        }
    }

    #[test]
    fn only_plain_decimals_become_numbers() {
        assert_eq!(exact_number("3.328181"), Some(3.328_181));
        assert_eq!(exact_number("75056"), Some(75_056.0));
        assert_eq!(exact_number("-0.5"), Some(-0.5));
        assert_eq!(exact_number("734812.0"), Some(734_812.0));
        assert_eq!(exact_number("92809603209795"), Some(92_809_603_209_795.0));
        for text in [
            "02722",
            "2A004",
            "1e5",
            "3,5",
            " 3",
            "NaN",
            "inf",
            "",
            "01000",
            "3.",
            ".5",
            "-",
            "1234567890123456",
        ] {
            assert_eq!(exact_number(text), None, "{text}");
        }
    }

    #[test]
    fn excel_dates_print_as_iso() {
        assert_eq!(excel_datetime_text(45_292.0), "2024-01-01");
        assert_eq!(excel_datetime_text(45_292.5), "2024-01-01 12:00:00");
    }
}
