// CSV in the browser: decoding a picked file, reading the batch answer, finding the coordinate columns
// by the names the server reads them by (GET /api/lookup/columns, from src/tabular/columns.rs), and
// writing the download with a BOM.

/**
 * Longitude and latitude header names, by priority, from the server's column table
 * (`{columns: [{role, names}]}`): the WGS84 names first, then x/y, which the server reads as degrees
 * when the file gives no CRS.
 */
export function coordinateNames(table) {
  const names = (role) => table?.columns?.find((c) => c.role === role)?.names ?? [];
  return { lon: [...names('longitude'), ...names('x')], lat: [...names('latitude'), ...names('y')] };
}

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

/** The separator, guessed from the header line as the server does: the most frequent of , ; tab | outside quotes. */
export function sniffDelimiter(text) {
  const end = text.indexOf('\n');
  const header = end < 0 ? text : text.slice(0, end);
  const candidates = [',', ';', '\t', '|'];
  const counts = new Map(candidates.map((c) => [c, 0]));
  let quoted = false;
  for (const c of header) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c) + 1);
  }
  // Ties go to the earlier candidate (the comma first), like the server.
  return candidates.reduce((best, c) => (counts.get(c) > counts.get(best) ? c : best), ',');
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
