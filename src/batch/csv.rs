//! CSV batches: rows streamed in (any separator, UTF-8 or Windows-1252), block by block, each block's
//! records cut into pieces parsed and answered in parallel, streamed out in UTF-8 with the same separator
//! (or in the table format asked for).

use std::io::{BufRead, Write};

use rayon::prelude::*;

use super::rows::{RowAnswer, RowReader};
use super::table::{Cell, Chunk, TableHeader, TableWriter, csv_rows};
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
    let answer_pieces = |pool: &mut Vec<Piece>, bytes: &[u8], cuts: &[(usize, usize)]| {
        if pool.len() < cuts.len() {
            pool.resize_with(cuts.len(), Piece::default);
        }
        let pool = &mut pool[..cuts.len()];
        // The pieces are parsed in parallel; their rows answered together, in site order; their CSV
        // answers written in parallel.
        let parsed = pool
            .par_iter_mut()
            .zip(cuts)
            .map(|(piece, &(from, to))| {
                let piece_bytes = &bytes[from..to];
                let mut parse = reader().from_reader(piece_bytes);
                // The piece's records from the last block are read into again: no allocation per row.
                (piece.rows, piece.stats) = (0, BatchStats::default());
                piece.lines.clear();
                // Without quotes, a record is its line: a CSV answer copies it rather than rewriting
                // its fields one by one.
                piece.quoteless = format == TableFormat::Csv && memchr::memchr(b'"', piece_bytes).is_none();
                loop {
                    if piece.records.len() == piece.rows {
                        piece.records.push(csv::ByteRecord::new());
                    }
                    let record = &mut piece.records[piece.rows];
                    if !parse.read_byte_record(record)? {
                        break;
                    }
                    if piece.quoteless {
                        let line = verbatim_line(piece_bytes, record, encoding);
                        piece.lines.push(line.map(|(a, b)| (a + from, b + from)));
                    }
                    record_to_utf8(record, encoding);
                    piece.rows += 1;
                }
                Ok(())
            })
            .collect::<Vec<Result<(), csv::Error>>>();
        let records: Vec<&[csv::ByteRecord]> =
            pool.iter().map(|piece| &piece.records[..piece.rows]).collect();
        let answers = rows.answer_pieces(&records);
        pool.par_iter_mut().zip(answers).for_each(|(piece, answers)| {
            piece.answers = answers;
            for answer in &piece.answers {
                answer.count(&mut piece.stats);
            }
            // A CSV answer is written out here too, in parallel; other formats are written in order.
            if format == TableFormat::Csv {
                let records = Records {
                    records: &piece.records[..piece.rows],
                    lines: piece.quoteless.then_some((bytes, &piece.lines[..])),
                };
                piece.csv = csv_rows(&records, &piece.answers, &rows, delimiter);
            }
        });
        parsed
    };
    // Writes a block's answered pieces in order (the first that failed to parse stops the batch).
    let write_pieces = |writer: &mut TableWriter<W>,
                        stats: &mut BatchStats,
                        pool: &[Piece],
                        parsed: Vec<Result<(), csv::Error>>|
     -> Result<(), BatchError> {
        for (piece, result) in pool.iter().zip(parsed) {
            result.map_err(csv_error)?;
            if format == TableFormat::Csv {
                writer.write_csv(&piece.csv)?;
            } else {
                let records = Records { records: &piece.records[..piece.rows], lines: None };
                writer.write(&records, &piece.answers, &rows)?;
            }
            stats.add(&piece.stats);
        }
        Ok(())
    };

    // Block after block: the complete records of a block are cut into pieces, each piece parsed,
    // answered and written out by one worker, and the pieces' bytes written in order. While a block
    // is answered, the previous one is written and the next one read. Memory is bounded by two blocks,
    // whatever the input's length.
    let mut pools: [Vec<Piece>; 2] = [Vec::new(), Vec::new()];
    let mut next = Block::default();
    // The pool and parse results of the block answered last, not written yet.
    let mut pending: Option<(usize, Vec<Result<(), csv::Error>>)> = None;
    let mut answered_rows = 0u64;
    loop {
        // The pool the previous block is not waiting in.
        let now = pending.as_ref().map_or(0, |&(previous, _)| 1 - previous);
        if !block.at_end && block.bytes.len() < BLOCK_BYTES {
            block.fill(&mut input)?;
        }
        // At most CHUNK_ROWS records a block: a file of short rows would otherwise hold many more
        // rows (and their answers) in memory than a wide one.
        let ends = block.record_ends(delimiter, CHUNK_ROWS + 1);
        let complete = if ends.len() > CHUNK_ROWS {
            ends[CHUNK_ROWS - 1]
        } else if block.at_end {
            block.bytes.len()
        } else {
            ends.last().copied().unwrap_or(0)
        };
        if complete == 0 {
            if block.at_end {
                break;
            }
            // One record longer than a block: read on until it ends.
            block.grow(&mut input)?;
            continue;
        }
        let cuts = pieces(&ends, complete, rayon::current_num_threads() * 4);
        // The bytes after the complete records start the next block.
        next.bytes.clear();
        next.bytes.extend_from_slice(&block.bytes[complete..]);
        next.at_end = block.at_end;
        let [pool_a, pool_b] = &mut pools;
        let (pool, previous) = if now == 0 { (pool_a, &*pool_b) } else { (pool_b, &*pool_a) };
        let (parsed, io) = std::thread::scope(|scope| {
            let answering = scope.spawn(|| answer_pieces(pool, &block.bytes[..complete], &cuts));
            let io = (|| -> Result<(), BatchError> {
                if let Some((_, parsed)) = pending.take() {
                    write_pieces(&mut writer, &mut stats, previous, parsed)?;
                }
                if !next.at_end {
                    next.fill(&mut input)?;
                }
                Ok(())
            })();
            let parsed = answering.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (parsed, io)
        });
        io?;
        answered_rows += pools[now][..cuts.len()].iter().map(|p| p.stats.rows).sum::<u64>();
        if answered_rows > options.max_rows {
            return Err(BatchError::TooManyRows {
                source_name: source_name.to_owned(),
                max: options.max_rows,
            });
        }
        pending = Some((now, parsed));
        std::mem::swap(&mut block, &mut next);
        if block.at_end && block.bytes.is_empty() {
            break;
        }
    }
    if let Some((last, parsed)) = pending.take() {
        write_pieces(&mut writer, &mut stats, &pools[last], parsed)?;
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
    /// Whether the piece has no quotes (and the answer is CSV): its lines can then be copied.
    quoteless: bool,
    /// Where each record's line lies in the block, when the piece has no quotes and the line can be
    /// copied as it came (see [`verbatim_line`]).
    lines: Vec<LineRange>,
    /// The rows as a CSV answer writes them, when the answer is CSV.
    csv: Vec<u8>,
}

/// Where a record's line lies in its block, when it can be copied as it came.
type LineRange = Option<(usize, usize)>;

/// The byte range of `record`'s line in `bytes` (a piece without quotes), without its line break, when
/// a CSV answer can copy it: it is UTF-8 as it stands (ASCII, or valid UTF-8 in a UTF-8 input) and holds
/// no lone `\r` (which the reader takes for a line end).
fn verbatim_line(bytes: &[u8], record: &csv::ByteRecord, encoding: TextEncoding) -> Option<(usize, usize)> {
    let mut start = usize::try_from(record.position()?.byte()).ok()?;
    // After a `\r\n`, the reader may give the record's start at the `\n`; and blank lines are skipped.
    while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
        start += 1;
    }
    let rest = bytes.get(start..)?;
    let mut end = memchr::memchr(b'\n', rest).map_or(bytes.len(), |i| start + i);
    if end > start && bytes[end - 1] == b'\r' {
        end -= 1;
    }
    let line = &bytes[start..end];
    let utf8 = line.is_ascii() || (encoding == TextEncoding::Utf8 && std::str::from_utf8(line).is_ok());
    (utf8 && memchr::memchr(b'\r', line).is_none()).then_some((start, end))
}

/// CSV records as a chunk of cells, with their lines in the block when they can be copied.
struct Records<'a> {
    records: &'a [csv::ByteRecord],
    lines: Option<(&'a [u8], &'a [LineRange])>,
}

impl Chunk for Records<'_> {
    fn rows(&self) -> usize {
        self.records.len()
    }

    fn fields(&self, row: usize) -> usize {
        self.records[row].len()
    }

    fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        self.records[row].get(column).map_or(Cell::Empty, Cell::Raw)
    }

    fn raw_line(&self, row: usize) -> Option<&[u8]> {
        let (bytes, lines) = self.lines?;
        let (start, end) = (*lines.get(row)?)?;
        Some(&bytes[start..end])
    }
}

/// Bytes read from the input at a time; the complete records among them (at most [`CHUNK_ROWS`]) are
/// answered together, in parallel. About 57,000 SIRENE rows: enough sites sorted together for
/// neighbours to be near (see [`RowReader::answer_pieces`]), and a few tens of megabytes in memory.
const BLOCK_BYTES: usize = 4 << 20;

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
