//! CSV batches: rows streamed in (any separator, UTF-8 or Windows-1252), answered chunk by chunk in
//! parallel, streamed out in UTF-8 with the same separator (or in the table format asked for).

use std::io::{BufRead, Write};

use rayon::prelude::*;

use super::rows::{RowAnswer, RowReader};
use super::table::{Cell, Chunk, TableHeader, TableWriter};
use super::{BatchError, BatchOptions, BatchStats, CHUNK_ROWS, TableFormat};
use crate::atlas::Atlas;
use crate::tabular::{TextEncoding, UTF8_BOM, detect_encoding, field_to_utf8, first_line, sniff_separator};

/// Rewrites a record's fields in UTF-8 (no-op for the usual ASCII or UTF-8 row).
pub(super) fn record_to_utf8(record: &mut csv::ByteRecord, encoding: TextEncoding) {
    if record.as_slice().is_ascii() {
        return;
    }
    let fields: Vec<Vec<u8>> = record.iter().map(|f| field_to_utf8(f, encoding).into_owned()).collect();
    if fields.iter().zip(record.iter()).all(|(new, old)| new == old) {
        return;
    }
    record.clear();
    for f in &fields {
        record.push_field(f);
    }
}

/// Looks up every row of `input` (CSV with a header) and writes it to `output` with, for each edition
/// `E` (in [`BatchOptions::output`]'s format, CSV by default), the columns `territory_E` (ids, `;`-joined), `territory_E_name` and `border_m_E` (metres from
/// the site to the nearest territory border of `E`, point answers only), then `commune` (the current
/// INSEE code the row lands in), `located_by` (`point`, `point+code_agrees`, `point+code_disagrees`,
/// `commune_code`, `siren`, `postal_code`), `check` (why the row is worth a second look, empty when
/// not) and `error`.
///
/// A row is located by its point (`lon`/`lat`, or `x`/`y` in the CRS of its `epsg` column or of
/// [`BatchOptions::crs`]), else by a commune code, a SIREN or a postal code column; with both a point
/// and a code it is answered by the point and says whether the code agrees. SIRENE's `qualite_xy` 33
/// (the point is the commune's centre) is answered by the commune code.
///
/// # Errors
/// A missing header or no column to locate rows by, an unreadable stream, more rows than
/// [`BatchOptions::max_rows`], a failed write. Bad rows are not errors: they are answered in `error`.
pub fn annotate_csv<R: BufRead, W: Write>(
    atlas: &Atlas,
    mut input: R,
    output: W,
    source_name: &str,
    options: &BatchOptions,
) -> Result<BatchStats, BatchError> {
    if input.fill_buf()?.starts_with(UTF8_BOM) {
        input.consume(UTF8_BOM.len());
    }
    let peek = input.fill_buf()?;
    if peek.is_empty() {
        return Err(BatchError::Empty(source_name.to_owned()));
    }
    // The encoding is told by the first buffer; a later field that is not UTF-8 is still converted
    // (`field_to_utf8`), so the output is UTF-8 throughout.
    let encoding = detect_encoding(peek, false);
    let delimiter = sniff_separator(first_line(peek));
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(input);
    let csv_error = |error: csv::Error| BatchError::Csv {
        source_name: source_name.to_owned(),
        line: error.position().map_or(0, csv::Position::line),
        error,
    };
    let mut headers = reader.byte_headers().map_err(csv_error)?.clone();
    record_to_utf8(&mut headers, encoding);
    let names: Vec<String> = headers.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    let rows = RowReader::new(atlas, &names, delimiter != b',', options, source_name)?;
    let format = options.output.unwrap_or(TableFormat::Csv);
    let header = TableHeader::text(names, delimiter, "sites");
    let mut writer = TableWriter::new(atlas, format, &header, options.bom, output, source_name)?;

    let mut stats = BatchStats::default();
    // Records are read into the same buffers chunk after chunk: a batch allocates per chunk and for
    // messages, not per row.
    let mut chunk: Vec<csv::ByteRecord> = Vec::with_capacity(CHUNK_ROWS);
    loop {
        let mut filled = 0;
        while filled < CHUNK_ROWS {
            if chunk.len() == filled {
                chunk.push(csv::ByteRecord::new());
            }
            if !reader.read_byte_record(&mut chunk[filled]).map_err(csv_error)? {
                break;
            }
            filled += 1;
        }
        if filled == 0 {
            break;
        }
        if stats.rows + filled as u64 > options.max_rows {
            return Err(BatchError::TooManyRows {
                source_name: source_name.to_owned(),
                max: options.max_rows,
            });
        }
        let answers: Vec<RowAnswer> = chunk[..filled]
            .par_iter_mut()
            .map(|record| {
                record_to_utf8(record, encoding);
                rows.answer(record)
            })
            .collect();
        for answer in &answers {
            answer.count(&mut stats);
        }
        writer.write(&Records(&chunk[..filled]), &answers, &rows)?;
    }
    writer.finish()?;
    Ok(stats)
}

/// CSV records as a chunk of cells.
struct Records<'a>(&'a [csv::ByteRecord]);

impl Chunk for Records<'_> {
    fn rows(&self) -> usize {
        self.0.len()
    }

    fn fields(&self, row: usize) -> usize {
        self.0[row].len()
    }

    fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        self.0[row].get(column).map_or(Cell::Empty, Cell::Raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_records_come_out_in_utf8() {
        let mut record = ::csv::ByteRecord::from(vec![&b"Villers-Cotter\xeats"[..], b"3.09"]);
        record_to_utf8(&mut record, TextEncoding::Windows1252);
        assert_eq!(&record[0], "Villers-Cotterêts".as_bytes());
        assert_eq!(&record[1], b"3.09");
    }
}
