// CSV in the browser: decoding a picked file, reading the batch answer, finding the coordinate columns
// the way the server does (src/batch.rs), and writing the download with a BOM.

/** Header names the server accepts for longitude and latitude, by priority (as src/batch.rs). */
export const LON_NAMES = ['lon', 'longitude', 'lng', 'long', 'x'];
export const LAT_NAMES = ['lat', 'latitude', 'y'];

/**
 * Text of a file's bytes: UTF-8 (BOM dropped) when it is valid UTF-8, else Windows-1252, which is what
 * spreadsheet programs in France write when asked for "CSV". Returns {text, encoding}.
 */
export function decode(bytes) {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text: text.replace(/^\uFEFF/, ''), encoding: 'UTF-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'Windows-1252' };
  }
}

/** The separator, guessed from the header line as the server does: the most frequent of ; tab , */
export function sniffDelimiter(text) {
  const end = text.indexOf('\n');
  const header = end < 0 ? text : text.slice(0, end);
  const count = (c) => header.split(c).length - 1;
  const candidates = [';', '\t', ','];
  // Ties go to the comma, like the server.
  return candidates.reduce((best, c) => {
    const better = count(c) > count(best) || (count(c) === count(best) && c === ',');
    return better ? c : best;
  }, ',');
}

/** RFC 4180 records (quotes, doubled quotes, CRLF or LF); a final empty line is not a record. */
export function parseCsv(text, delimiter) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i += 1;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
    } else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (c === '\r' && text[i + 1] === '\n') i += 1;
    } else {
      field += c;
    }
    i += 1;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Index of the first header matching one of `names` (trimmed, case-insensitive), or -1. */
export function findColumn(header, names) {
  const normalised = header.map((h) => h.replace(/^\uFEFF/, '').trim().toLowerCase());
  for (const name of names) {
    const i = normalised.indexOf(name);
    if (i >= 0) return i;
  }
  return -1;
}

/** A coordinate field as the server reads it (decimal comma accepted unless the separator is a comma). */
export function parseNumber(field, delimiter) {
  const s = (field ?? '').trim();
  if (s === '') return NaN;
  return Number(delimiter !== ',' ? s.replace(',', '.') : s);
}

/** The answer as a download: UTF-8 with a BOM, so spreadsheet programs read the accents right. */
export function withBom(text) {
  return '\uFEFF' + text.replace(/^\uFEFF/, '');
}
