//! XLSX batches: the first sheet (or the one named) read with calamine, answered chunk by chunk in
//! parallel, written (by `table`) in the format asked for: XLSX by default, in constant memory, the
//! input cells with their own types (numbers stay numbers, codes stored as text stay text), the added
//! columns after them.

use std::borrow::Cow;
use std::io::Write;

use calamine::Data;
use rayon::prelude::*;

use super::rows::{RowAnswer, RowReader};
use super::table::{Cell, Chunk, ColumnKind, TableHeader, TableWriter};
use super::{BatchError, BatchOptions, BatchStats, CHUNK_ROWS, TableFormat};
use crate::atlas::Atlas;

/// Answers every row of a spreadsheet's first sheet (or `sheet`) into `output`, in
/// [`BatchOptions::output`]'s format (XLSX by default: one sheet of the same name, the input cells as
/// they were, then the columns of [`annotate_csv`](super::annotate_csv)).
///
/// # Errors
/// An unreadable workbook, a missing sheet, an empty sheet, no column to locate rows by, more rows than
/// [`BatchOptions::max_rows`], a failed write. Bad rows are answered in `error`.
pub fn annotate_xlsx<W: Write>(
    atlas: &Atlas,
    input: &[u8],
    sheet: Option<&str>,
    output: W,
    source_name: &str,
    options: &BatchOptions,
) -> Result<BatchStats, BatchError> {
    let (name, range) = read_sheet(input, sheet, source_name)?;
    let mut cells = range.rows();
    let header_cells =
        cells.next().ok_or_else(|| BatchError::Empty(format!("{source_name}, sheet {name:?}")))?;
    let names = header_names(header_cells);
    let reader = RowReader::new(atlas, &names, false, options, source_name)?;
    let rows: Vec<&[Data]> = cells.collect();
    if rows.len() as u64 > options.max_rows {
        return Err(BatchError::TooManyRows { source_name: source_name.to_owned(), max: options.max_rows });
    }
    let format = options.output.unwrap_or(TableFormat::Xlsx);
    let mut header = TableHeader::text(names, b',', &name);
    header.kinds = column_kinds(&rows, header.names.len());
    let mut writer = TableWriter::new(atlas, format, &header, options.bom, output, source_name)?;
    let mut stats = BatchStats::default();
    for chunk in rows.chunks(CHUNK_ROWS) {
        let records: Vec<csv::ByteRecord> =
            chunk.par_iter().map(|cells| cells.iter().map(cell_text).collect()).collect();
        let answers: Vec<RowAnswer> = reader.answer_pieces(&[&records]).into_iter().flatten().collect();
        for answer in &answers {
            answer.count(&mut stats);
        }
        writer.write(&Cells(chunk), &answers, &reader)?;
    }
    writer.finish()?;
    Ok(stats)
}

/// The name and cells of the sheet a batch reads.
pub(super) fn read_sheet(
    input: &[u8],
    sheet: Option<&str>,
    source_name: &str,
) -> Result<(String, calamine::Range<Data>), BatchError> {
    let spreadsheet = |message: String| BatchError::Spreadsheet(format!("{source_name}: {message}"));
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(input))
        .map_err(|e| spreadsheet(format!("not a readable spreadsheet: {e}")))?;
    crate::tabular::sheet::first_or_named(&mut book, sheet).map_err(spreadsheet)
}

/// The header row's names, trimmed.
pub(super) fn header_names(cells: &[Data]) -> Vec<String> {
    cells.iter().map(|c| crate::model::trim_name(&c.to_string()).to_owned()).collect()
}

/// The type of each column for a typed answer: numbers when every filled cell is one, booleans when
/// every one is, text otherwise.
fn column_kinds(rows: &[&[Data]], width: usize) -> Vec<ColumnKind> {
    (0..width)
        .map(|c| {
            let filled = || rows.iter().filter_map(|r| r.get(c)).filter(|d| !matches!(d, Data::Empty));
            if filled().next().is_none() {
                ColumnKind::Text
            } else if filled().all(|d| matches!(d, Data::Int(_) | Data::Float(_))) {
                ColumnKind::Number
            } else if filled().all(|d| matches!(d, Data::Bool(_))) {
                ColumnKind::Bool
            } else {
                ColumnKind::Text
            }
        })
        .collect()
}

/// Spreadsheet rows as a chunk of cells.
pub(super) struct Cells<'a, 'b>(pub(super) &'a [&'b [Data]]);

impl Chunk for Cells<'_, '_> {
    fn rows(&self) -> usize {
        self.0.len()
    }

    fn fields(&self, row: usize) -> usize {
        self.0[row].len()
    }

    fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        self.0[row].get(column).map_or(Cell::Empty, data_cell)
    }
}

/// A spreadsheet cell as a table cell.
#[allow(clippy::cast_precision_loss)] // integers from a sheet are doubles to Excel anyway
fn data_cell(data: &Data) -> Cell<'_> {
    match data {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => Cell::DateTime(d.as_f64()),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(Cow::Borrowed(s)),
        Data::Error(e) => Cell::Text(Cow::Owned(e.to_string())),
    }
}

/// A cell as the row reader reads it: numbers as they print (`2722`, `3.328181`), text as it is.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}
