//! CSV batches: rows streamed in (any separator, UTF-8 or Windows-1252), block by block, each block's
//! records cut into pieces parsed and answered in parallel, streamed out in UTF-8 with the same separator
//! (or in the table format asked for).

use std::io::{BufRead, Write};

use rayon::prelude::*;

use super::rows::{RowAnswer, RowReader};
use super::table::{Cell, Chunk, TableHeader, TableWriter, csv_rows};
use super::{BatchError, BatchOptions, BatchStats, TableFormat};
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

/// Looks up every row of `input` (CSV with a header) and writes it to `output` (in
/// [`BatchOptions::output`]'s format, CSV by default) with, for each edition `E`, the columns `territory_E` (ids, `;`-joined), `territory_E_name` and `border_m_E` (metres from
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
    let mut block = Block::default();
    block.fill(&mut input)?;
    if block.bytes.is_empty() {
        return Err(BatchError::Empty(source_name.to_owned()));
    }
    // The encoding is told by the first block; a later field that is not UTF-8 is still converted
    // (`field_to_utf8`), so the output is UTF-8 throughout.
    let encoding = detect_encoding(&block.bytes, block.at_end);
    let delimiter = sniff_separator(first_line(&block.bytes));
    let csv_error = |error: csv::Error| BatchError::Csv {
        source_name: source_name.to_owned(),
        line: error.position().map_or(0, csv::Position::line),
        error,
    };
    let reader = || {
        let mut builder = csv::ReaderBuilder::new();
        builder.delimiter(delimiter).flexible(true).has_headers(false);
        builder
    };
    let header_end = block.record_ends(delimiter, 1).first().copied().unwrap_or(block.bytes.len());
    let mut headers = csv::ByteRecord::new();
    reader().from_reader(&block.bytes[..header_end]).read_byte_record(&mut headers).map_err(csv_error)?;
    block.bytes.drain(..header_end);
    record_to_utf8(&mut headers, encoding);
    let names: Vec<String> = headers.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
    let rows = RowReader::new(atlas, &names, delimiter != b',', options, source_name)?;

    let format = options.output.unwrap_or(TableFormat::Csv);
    let header = TableHeader::text(names, delimiter, "sites");
    let mut writer = TableWriter::new(atlas, format, &header, options.bom, output, source_name)?;

    let mut stats = BatchStats::default();
    let mut pool: Vec<Piece> = Vec::new();
    // Block after block: the complete records of a block are cut into pieces, each piece parsed,
    // answered and written out by one worker, and the pieces' bytes written in order. Memory is bounded
    // by the block, whatever the input's length.
    loop {
        if !block.at_end && block.bytes.len() < BLOCK_BYTES {
            block.fill(&mut input)?;
        }
        let ends = block.record_ends(delimiter, usize::MAX);
        let complete = if block.at_end { block.bytes.len() } else { ends.last().copied().unwrap_or(0) };
        if complete == 0 {
            if block.at_end {
                break;
            }
            // One record longer than a block: read on until it ends.
            block.grow(&mut input)?;
            continue;
        }
        let cuts = pieces(&ends, complete, rayon::current_num_threads() * 4);
        if pool.len() < cuts.len() {
            pool.resize_with(cuts.len(), Piece::default);
        }
        let parsed: Vec<Result<(), csv::Error>> = pool
            .par_iter_mut()
            .zip(&cuts)
            .map(|(piece, &(from, to))| {
                let mut parse = reader().from_reader(&block.bytes[from..to]);
                // The piece's records from the last block are read into again: no allocation per row.
                (piece.rows, piece.stats) = (0, BatchStats::default());
                piece.answers.clear();
                loop {
                    if piece.records.len() == piece.rows {
                        piece.records.push(csv::ByteRecord::new());
                    }
                    let record = &mut piece.records[piece.rows];
                    if !parse.read_byte_record(record)? {
                        break;
                    }
                    record_to_utf8(record, encoding);
                    let answer = rows.answer(record);
                    answer.count(&mut piece.stats);
                    piece.answers.push(answer);
                    piece.rows += 1;
                }
                // A CSV answer is written out here too, in parallel; other formats are written in order.
                if format == TableFormat::Csv {
                    piece.csv =
                        csv_rows(&Records(&piece.records[..piece.rows]), &piece.answers, &rows, delimiter)?;
                }
                Ok(())
            })
            .collect();
        let answered = &pool[..cuts.len()];
        let added: u64 = answered.iter().map(|p| p.stats.rows).sum();
        if stats.rows + added > options.max_rows {
            return Err(BatchError::TooManyRows {
                source_name: source_name.to_owned(),
                max: options.max_rows,
            });
        }
        for (piece, result) in answered.iter().zip(parsed) {
            result.map_err(csv_error)?;
            if format == TableFormat::Csv {
                writer.write_csv(&piece.csv)?;
            } else {
                writer.write(&Records(&piece.records[..piece.rows]), &piece.answers, &rows)?;
            }
            stats.add(&piece.stats);
        }
        block.bytes.drain(..complete);
        if block.at_end && block.bytes.is_empty() {
            break;
        }
    }
    writer.finish()?;
    Ok(stats)
}

/// One piece of a block, answered; kept from block to block so its buffers are reused.
#[derive(Default)]
struct Piece {
    /// Records read, the first `rows` of them this block's.
    records: Vec<csv::ByteRecord>,
    rows: usize,
    answers: Vec<RowAnswer>,
    stats: BatchStats,
    /// The rows as a CSV answer writes them, when the answer is CSV.
    csv: Vec<u8>,
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

/// Bytes read from the input at a time; the complete records among them are answered in parallel.
/// About 8,000 SIRENE rows: enough pieces for every core, and a streamed answer starts soon.
const BLOCK_BYTES: usize = 1 << 20;

/// Input bytes not answered yet.
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    at_end: bool,
}

impl Block {
    /// Reads until the block holds [`BLOCK_BYTES`] or the input ends.
    fn fill(&mut self, input: &mut impl BufRead) -> std::io::Result<()> {
        while self.bytes.len() < BLOCK_BYTES {
            let available = input.fill_buf()?;
            if available.is_empty() {
                self.at_end = true;
                break;
            }
            let take = available.len().min(BLOCK_BYTES - self.bytes.len());
            self.bytes.extend_from_slice(&available[..take]);
            input.consume(take);
        }
        Ok(())
    }

    /// Reads one more block's worth, for a record longer than a block.
    fn grow(&mut self, input: &mut impl BufRead) -> std::io::Result<()> {
        let before = self.bytes.len();
        let mut more = Block::default();
        more.fill(input)?;
        self.bytes.extend_from_slice(&more.bytes);
        self.at_end = more.at_end || self.bytes.len() == before;
        Ok(())
    }

    /// Positions just past the first `max` record ends of the block, as the CSV reader sees them
    /// (a line break inside a quoted field ends no record). A block without quotes is cut at its `\n`
    /// directly; one with quotes (or only `\r` line ends) is walked by the CSV state machine itself.
    fn record_ends(&self, delimiter: u8, max: usize) -> Vec<usize> {
        let bytes = &self.bytes;
        if memchr::memchr(b'"', bytes).is_none() && memchr::memchr(b'\n', bytes).is_some() {
            return memchr::memchr_iter(b'\n', bytes).map(|i| i + 1).take(max).collect();
        }
        let mut ends = Vec::new();
        let mut core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let (mut out, mut field_ends) = (vec![0u8; 1 << 16], vec![0usize; 1024]);
        let mut at = 0;
        while at < bytes.len() && ends.len() < max {
            let (result, read, _, _) = core.read_record(&bytes[at..], &mut out, &mut field_ends);
            at += read;
            match result {
                csv_core::ReadRecordResult::Record => {
                    // The reader stops after `\n` or after the `\r` of `\r\n`: take the whole line break
                    // (a lone `\r` ends a record too).
                    let end = if at < bytes.len() && bytes[at - 1] == b'\r' && bytes[at] == b'\n' {
                        at + 1
                    } else {
                        at
                    };
                    if end > *ends.last().unwrap_or(&0) {
                        ends.push(end);
                    }
                    at = end;
                    core.reset();
                }
                csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => field_ends.resize(field_ends.len() * 2, 0),
                csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => break,
            }
        }
        ends
    }
}

/// About `n` pieces of `bytes[..complete]`, cut at record ends.
fn pieces(ends: &[usize], complete: usize, n: usize) -> Vec<(usize, usize)> {
    let target = complete.div_ceil(n.max(1)).max(1);
    let mut pieces = Vec::with_capacity(n + 1);
    let mut from = 0;
    for &end in ends.iter().filter(|&&e| e <= complete) {
        if end - from >= target {
            pieces.push((from, end));
            from = end;
        }
    }
    if from < complete {
        pieces.push((from, complete));
    }
    pieces
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
