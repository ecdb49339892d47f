//! XLSX batches: the first sheet (or the one named) read with calamine, answered chunk by chunk in
//! parallel, written with rust_xlsxwriter in constant memory: the input cells with their own types
//! (numbers stay numbers, codes stored as text stay text), the added columns after them.

use calamine::Data;
use rayon::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::rows::{Field, RowAnswer, RowReader, added_names};
use super::{BatchError, BatchOptions, BatchStats, CHUNK_ROWS, unique_name};
use crate::atlas::Atlas;

/// Rows an XLSX sheet can hold, header included.
const MAX_SHEET_ROWS: usize = 1_048_576;

/// Answers every row of a spreadsheet's first sheet (or `sheet`) and returns the answered workbook:
/// one sheet of the same name, the input cells as they were, then the columns of
/// [`annotate_csv`](super::annotate_csv).
///
/// # Errors
/// An unreadable workbook, a missing sheet, an empty sheet, no column to locate rows by, more rows than
/// [`BatchOptions::max_rows`]. Bad rows are answered in `error`.
pub fn annotate_xlsx(
    atlas: &Atlas,
    input: &[u8],
    sheet: Option<&str>,
    source_name: &str,
    options: &BatchOptions,
) -> Result<(Vec<u8>, BatchStats), BatchError> {
    let spreadsheet = |message: String| BatchError::Spreadsheet(format!("{source_name}: {message}"));
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(input))
        .map_err(|e| spreadsheet(format!("not a readable spreadsheet: {e}")))?;
    let (name, range) = crate::tabular::sheet::first_or_named(&mut book, sheet).map_err(spreadsheet)?;
    let mut cells = range.rows();
    let header_cells =
        cells.next().ok_or_else(|| BatchError::Empty(format!("{source_name}, sheet {name:?}")))?;
    let names: Vec<String> =
        header_cells.iter().map(|c| crate::model::trim_name(&c.to_string()).to_owned()).collect();
    let reader = RowReader::new(atlas, &names, false, options, source_name)?;
    let rows: Vec<&[Data]> = cells.collect();
    if rows.len() as u64 > options.max_rows {
        return Err(BatchError::TooManyRows { source_name: source_name.to_owned(), max: options.max_rows });
    }
    let added = added_names(atlas);
    if rows.len() + 1 > MAX_SHEET_ROWS || names.len() + added.len() > usize::from(u16::MAX) {
        return Err(spreadsheet("the answer would not fit in one sheet".into()));
    }

    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let out = workbook.add_worksheet_with_constant_memory();
    let xlsx = |e: XlsxError| spreadsheet(format!("writing the answer: {e}"));
    out.set_name(&name).map_err(xlsx)?;
    let mut header: Vec<String> = names.clone();
    for (added_name, _) in added {
        let unique = unique_name(|n| header.iter().any(|h| h == n), added_name);
        header.push(unique);
    }
    for (c, h) in header.iter().enumerate() {
        out.write_string(0, col(c), h).map_err(xlsx)?;
    }
    let mut stats = BatchStats::default();
    let mut scratch = Vec::new();
    let mut next_row: u32 = 1;
    for chunk in rows.chunks(CHUNK_ROWS) {
        let answers: Vec<RowAnswer> = chunk
            .par_iter()
            .map(|cells| {
                let record: csv::ByteRecord = cells.iter().map(cell_text).collect();
                reader.answer(&record)
            })
            .collect();
        for (cells, answer) in chunk.iter().zip(answers) {
            answer.count(&mut stats);
            for (c, cell) in cells.iter().enumerate() {
                write_cell(out, next_row, col(c), cell, &date).map_err(xlsx)?;
            }
            let mut c = cells.len();
            let mut result = Ok(());
            reader.emit(&answer, &mut scratch, |field| {
                let written = match field {
                    Field::Text(b"") | Field::Metres(None) => Ok(()),
                    Field::Text(text) => {
                        out.write_string(next_row, col(c), String::from_utf8_lossy(text)).map(|_| ())
                    }
                    Field::Metres(Some(m)) => out.write_number(next_row, col(c), m.round()).map(|_| ()),
                };
                if result.is_ok() {
                    result = written;
                }
                c += 1;
            });
            result.map_err(xlsx)?;
            next_row += 1;
        }
    }
    let bytes = workbook.save_to_buffer().map_err(xlsx)?;
    Ok((bytes, stats))
}

/// A column index as rust_xlsxwriter takes it (bounded by the width check above).
fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// A cell as the row reader reads it: numbers as they print (`2722`, `3.328181`), text as it is.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// Writes an input cell back with its type.
fn write_cell(out: &mut Worksheet, row: u32, c: u16, cell: &Data, date: &Format) -> Result<(), XlsxError> {
    #[allow(clippy::cast_precision_loss)] // integers from a sheet are doubles to Excel anyway
    match cell {
        Data::Empty => Ok(()),
        Data::Int(i) => out.write_number(row, c, *i as f64).map(|_| ()),
        Data::Float(f) => out.write_number(row, c, *f).map(|_| ()),
        Data::Bool(b) => out.write_boolean(row, c, *b).map(|_| ()),
        Data::DateTime(d) => {
            let when = ExcelDateTime::from_serial_datetime(d.as_f64())?;
            out.write_datetime_with_format(row, c, when, date).map(|_| ())
        }
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
            out.write_string(row, c, s).map(|_| ())
        }
        Data::Error(e) => out.write_string(row, c, e.to_string()).map(|_| ()),
    }
}
