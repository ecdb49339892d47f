// Checking a file of sites (CSV, XLSX or Parquet): POST /api/lookup/inspect says which column the server
// reads for each role (lon/lat, x/y, codes...) and why a person should check them; the page shows them as
// a form of selects, runs the batch at once when the names leave no doubt, else waits for the choice.
// POST /api/lookup then answers the same rows (CSV asked for with Accept, shown in a table and on the map),
// and the download is the answer in the file's own format (a second request with that Accept for XLSX and
// Parquet; the CSV answer itself, with a BOM, for a CSV). A CSV is re-encoded to UTF-8 before it is sent.

import { h, fill, byId } from './dom.js';
import { t, formatNumber } from './i18n.js';
import { ApiError } from './api.js';
import { errorReason } from './panels/common.js';
import { decode, sniffDelimiter, parseCsv, findColumn, parseNumber, withBom } from './csv.js';

/** Rows drawn in the table; the download always has all of them. */
const TABLE_ROWS = 2000;

/** The table formats, by file extension: media type, label. */
const FORMATS = {
  csv: { media: 'text/csv; charset=utf-8', label: 'CSV' },
  xlsx: { media: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', label: 'XLSX' },
  parquet: { media: 'application/vnd.apache.parquet', label: 'Parquet' },
};

/** The roles a person can choose a column for (the keys of GET /api/lookup/columns). */
const ROLES = ['lon', 'lat', 'x', 'y', 'epsg', 'commune_code', 'siren', 'postal_code'];

/** A CSV sent for inspection is cut to its first bytes: the server reads the header and five rows. */
const INSPECT_CSV_CHARS = 64 * 1024;

/** The format of a file name (its extension; CSV for anything else, as the server reads it). */
export function formatOf(name) {
  const ext = /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase();
  if (ext === 'xlsx' || ext === 'xlsm') return 'xlsx';
  if (ext === 'parquet' || ext === 'geoparquet') return 'parquet';
  return 'csv';
}

export class Batch {
  /**
   * @param {{edition: () => string, onSites: (collection, fresh: boolean) => void, onShow: (site) => void}} options
   */
  constructor({ edition, onSites, onShow }) {
    this.edition = edition;
    this.onSites = onSites;
    this.onShow = onShow;
    this.result = null;
    this.downloadUrl = null;
    this.els = {
      input: byId('batch-file'),
      dropzone: byId('dropzone'),
      progress: byId('batch-progress'),
      bar: byId('batch-bar'),
      progressText: byId('batch-progress-text'),
      error: byId('batch-error'),
      results: byId('batch-results'),
      summary: byId('batch-summary'),
      table: byId('batch-table'),
      more: byId('batch-more'),
      download: byId('batch-download'),
      close: byId('batch-close'),
      columns: byId('batch-columns'),
      columnsStatus: byId('batch-columns-status'),
      columnsFields: byId('batch-columns-fields'),
    };
    this.els.columns.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.pending) this.check(this.pending);
    });
    this.els.input.addEventListener('change', () => {
      const file = this.els.input.files?.[0];
      if (file) this.run(file);
      // Picking the same file again must run again.
      this.els.input.value = '';
    });
    const zone = this.els.dropzone;
    // The whole page accepts a dropped file, so a planner does not have to aim at the small zone.
    document.addEventListener('dragover', (e) => {
      if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
      e.preventDefault();
      zone.classList.add('dragging');
    });
    document.addEventListener('dragleave', (e) => {
      if (e.relatedTarget === null) zone.classList.remove('dragging');
    });
    document.addEventListener('drop', (e) => {
      const file = e.dataTransfer?.files?.[0];
      zone.classList.remove('dragging');
      if (!file) return;
      e.preventDefault();
      this.run(file);
    });
    this.els.close.addEventListener('click', () => this.clear());
    this.els.table.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-row]');
      if (button && this.result) this.onShow(this.result.sites[Number(button.dataset.row)]);
    });
  }

  progress(text, percent) {
    this.els.progress.hidden = false;
    this.els.progressText.textContent = text;
    // No value: an indeterminate bar while the server works and no byte count is known.
    if (percent === undefined) this.els.bar.removeAttribute('value');
    else this.els.bar.value = percent;
  }

  /** Reads a picked file, asks the server which columns it reads, and checks it when no doubt is left. */
  async run(file) {
    this.els.error.hidden = true;
    this.els.columns.hidden = true;
    this.pending = null;
    this.progress(t('batch.inspecting', { name: file.name }), 0);
    try {
      const format = formatOf(file.name);
      const bytes = new Uint8Array(await file.arrayBuffer());
      // A CSV goes as UTF-8 text (the server reads Windows-1252 too, but the page says what it read);
      // a workbook or a Parquet file goes as it is.
      const { text, encoding } = format === 'csv' ? decode(bytes) : { text: null, encoding: 'UTF-8' };
      const body = text ?? bytes;
      const rows = text !== null ? Math.max(0, text.split('\n').filter((l) => l.trim() !== '').length - 1) : null;
      this.progress(t('batch.inspecting', { name: file.name }));
      const inspected = await this.request('/api/lookup/inspect', text !== null ? text.slice(0, INSPECT_CSV_CHARS) : bytes, format, {
        accept: 'application/json',
        type: 'json',
      });
      this.pending = { file, format, body, rows: rows ?? inspected.rows ?? 0, encoding, inspected };
      this.showColumns(inspected);
      if (inspected.unsure.length === 0) await this.check(this.pending);
      else this.els.columnsFields.querySelector('select')?.focus();
    } catch (error) {
      this.fail(error);
    } finally {
      this.els.progress.hidden = true;
    }
  }

  fail(error) {
    this.els.error.textContent = t('batch.failed', { message: errorReason(error, { what: 'batch' }) });
    this.els.error.hidden = false;
  }

  /** The inspected columns as one labelled select per role, with the server's reading selected. */
  showColumns(inspected) {
    const fields = ROLES.map((key) => {
      const role = inspected.columns.find((c) => c.key === key);
      const id = `batch-column-${key}`;
      const read = role?.column ?? '';
      const names = inspected.geometry && read === inspected.geometry ? [read, ...inspected.header] : inspected.header;
      return h(
        'div',
        { class: 'batch-column' },
        h('label', { for: id }, t(`batch.columns.role.${key}`)),
        h(
          'select',
          { id, name: key, 'data-testid': id, dataset: { read } },
          h('option', { value: '' }, t('batch.columns.none')),
          [...new Set(names)].map((name) => h('option', { value: name, selected: name === read }, name)),
        ),
      );
    });
    fill(this.els.columnsFields, fields);
    const byKey = (key) => inspected.columns.find((c) => c.key === key)?.column;
    const by = inspected.geometry && byKey('lon') === inspected.geometry
      ? t('batch.columns.by.geometry', { column: inspected.geometry })
      : byKey('lon') || byKey('x')
        ? t('batch.columns.by.point')
        : t('batch.columns.by.code');
    const found = t('batch.columns.found', { format: FORMATS[inspected.format].label, columns: formatNumber(inspected.header.length), by });
    const doubts = inspected.unsure.map((d) =>
      t(`batch.columns.doubt.${d.reason}`, {
        role: d.key ? t(`batch.columns.role.${d.key}`) : '',
        missing: d.missing ? t(`batch.columns.role.${d.missing}`) : '',
        columns: (d.columns ?? []).join(', '),
        read: d.read ?? '',
      }),
    );
    const sure = inspected.unsure.length === 0;
    fill(
      this.els.columnsStatus,
      doubts.some((_, i) => inspected.unsure[i].reason === 'no_location') ? '' : `${found} `,
      doubts.join(' '),
      doubts.length ? ' ' : '',
      t(sure ? 'batch.columns.sure' : 'batch.columns.unsure'),
    );
    this.els.columns.dataset.unsure = String(!sure);
    this.els.columns.hidden = false;
  }

  /** The columns chosen where they differ from the server's reading: `{lon: 'Longitude GPS', siren: ''}`. */
  chosenColumns() {
    const chosen = {};
    for (const select of this.els.columnsFields.querySelectorAll('select')) {
      if (select.value !== select.dataset.read) chosen[select.name] = select.value;
    }
    return chosen;
  }

  /** Runs the batch with the chosen columns: the CSV answer for the page, the file's own format to download. */
  async check(pending) {
    const { file, format, body, rows, encoding } = pending;
    this.els.error.hidden = true;
    const chosen = this.chosenColumns();
    const path = `/api/lookup${new URLSearchParams(chosen).size ? `?${new URLSearchParams(chosen)}` : ''}`;
    this.progress(t('batch.reading', { name: file.name }), 0);
    try {
      const answer = await this.request(path, body, format, { accept: 'text/csv', type: 'text', rows });
      // Where the page reads the sites' positions: the chosen (or recognised) lon/lat, else x/y as degrees.
      const select = (key) => this.els.columnsFields.querySelector(`select[name="${key}"]`)?.value ?? '';
      const coordinates = { lon: select('lon') || select('x'), lat: select('lat') || select('y') };
      this.show(file.name, format, answer, encoding, coordinates);
      if (format !== 'csv') {
        const label = FORMATS[format].label;
        this.els.download.textContent = t('batch.download.preparing', { format: label });
        this.els.download.setAttribute('aria-disabled', 'true');
        this.els.download.removeAttribute('href');
        const blob = await this.request(path, body, format, { accept: FORMATS[format].media.split(';')[0], type: 'blob' });
        this.offer(blob, file.name, format);
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.els.progress.hidden = true;
    }
  }

  /**
   * POSTs a body in a table format with XMLHttpRequest, which, unlike fetch, reports upload progress;
   * `accept` is the answer's media type, `type` the XHR response type.
   */
  request(path, body, format, { accept, type, rows }) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', path);
      xhr.setRequestHeader('Content-Type', FORMATS[format].media);
      xhr.setRequestHeader('Accept', accept);
      xhr.responseType = type === 'json' ? 'text' : type;
      if (rows !== undefined) {
        xhr.upload.addEventListener('progress', (e) => {
          if (e.lengthComputable) this.progress(t('batch.upload', { percent: Math.round((100 * e.loaded) / e.total) }), (100 * e.loaded) / e.total);
        });
        xhr.upload.addEventListener('load', () => this.progress(t('batch.processing', { rows: formatNumber(rows) })));
        xhr.addEventListener('progress', (e) => {
          this.progress(t('batch.download.progress'), e.lengthComputable ? (100 * e.loaded) / e.total : undefined);
        });
      }
      xhr.addEventListener('load', async () => {
        if (xhr.status === 200) {
          resolve(type === 'json' ? JSON.parse(xhr.responseText) : xhr.response);
          return;
        }
        // The API's code says what went wrong; the page words it in its own language (errorReason).
        let code = `http_${xhr.status}`;
        let message = `${xhr.status} ${xhr.statusText}`;
        try {
          const text = type === 'blob' ? await xhr.response.text() : xhr.responseText;
          ({ code, message } = JSON.parse(text).error);
        } catch {
          // Not our JSON error shape: keep the status.
        }
        reject(new ApiError(xhr.status, code, message));
      });
      xhr.addEventListener('error', () => reject(Object.assign(new Error('network'), { network: true })));
      xhr.send(body);
    });
  }

  /** Offers `blob` as the download, named after the file. */
  offer(blob, fileName, format) {
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    this.downloadUrl = URL.createObjectURL(blob);
    const base = fileName.replace(/\.(csv|tsv|txt|xlsx|xlsm|parquet|geoparquet)$/i, '');
    this.els.download.href = this.downloadUrl;
    this.els.download.download = `${base}-territoires.${format}`;
    this.els.download.removeAttribute('aria-disabled');
    this.els.download.textContent = t('batch.download', { format: FORMATS[format].label });
  }

  show(fileName, format, answer, encoding, coordinates) {
    const delimiter = sniffDelimiter(answer);
    const [header = [], ...records] = parseCsv(answer.replace(/^\uFEFF/, ''), delimiter);
    const lon = coordinates.lon ? findColumn(header, [coordinates.lon.trim().toLowerCase()]) : -1;
    const lat = coordinates.lat ? findColumn(header, [coordinates.lat.trim().toLowerCase()]) : -1;
    // Degrees only: projected x/y (Lambert-93...) would land nowhere, so they are not drawn.
    const degrees = (v, max) => (Number.isFinite(v) && Math.abs(v) <= max ? v : NaN);
    const sites = records.map((record, row) => ({
      row,
      lon: lon >= 0 ? degrees(parseNumber(record[lon], delimiter), 180) : NaN,
      lat: lat >= 0 ? degrees(parseNumber(record[lat], delimiter), 90) : NaN,
      record,
    }));
    if (format === 'csv') this.offer(new Blob([withBom(answer)], { type: 'text/csv;charset=utf-8' }), fileName, 'csv');
    this.result = { fileName, header, sites, encoding, hasCoords: lon >= 0 && lat >= 0 };
    this.render(true);
  }

  /**
   * The answer's columns for the current edition. The server appends `territory_E` and `territory_E_name`
   * for each edition, then `error`, renaming any the input already has to `_2`, `_3`...: so they are
   * found from the end, name or renamed name.
   */
  answerColumns(header) {
    const named = (column, base) => column === base || (column.startsWith(`${base}_`) && /^\d+$/.test(column.slice(base.length + 1)));
    const error = header.length > 0 && named(header[header.length - 1], 'error') ? header.length - 1 : -1;
    const base = `territory_${this.edition()}`;
    for (let i = header.length - 3; i >= 0; i -= 1) {
      if (named(header[i], base) && named(header[i + 1], `${base}_name`)) return { territory: i, error };
    }
    return { territory: -1, error };
  }

  /**
   * Draws the table and the sites for the current edition (called again when the edition changes);
   * `fresh` for a new file, so the map frames its sites once, not at every redraw.
   */
  render(fresh = false) {
    const r = this.result;
    if (!r) return;
    const { territory: column, error: errorColumn } = this.answerColumns(r.header);
    let inside = 0;
    let errors = 0;
    const features = [];
    for (const site of r.sites) {
      const error = errorColumn >= 0 ? (site.record[errorColumn] ?? '') : '';
      const territory = column >= 0 ? (site.record[column] ?? '') : '';
      site.status = error ? 'error' : territory ? 'in' : 'out';
      if (site.status === 'in') inside += 1;
      if (site.status === 'error') errors += 1;
      if (Number.isFinite(site.lon) && Number.isFinite(site.lat)) {
        features.push({
          type: 'Feature',
          properties: { row: site.row, status: site.status },
          geometry: { type: 'Point', coordinates: [site.lon, site.lat] },
        });
      }
    }
    const rows = r.sites.length;
    fill(
      this.els.summary,
      t('batch.summary', {
        file: r.fileName,
        rows: formatNumber(rows),
        inside: formatNumber(inside),
        outside: formatNumber(rows - inside - errors),
        errors: formatNumber(errors),
        edition: this.edition(),
      }),
      r.encoding !== 'UTF-8' ? ` ${t('batch.encoding', { encoding: r.encoding })}` : '',
      r.hasCoords ? '' : ` ${t('batch.noCoords')}`,
    );
    const highlighted = new Set([column, column + 1].filter((i) => i >= 0));
    const head = h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, '#'),
        r.header.map((name, i) => h('th', { scope: 'col', class: highlighted.has(i) ? 'current' : null }, name)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('batch.show'))),
      ),
    );
    const body = h(
      'tbody',
      {},
      r.sites.slice(0, TABLE_ROWS).map((site) =>
        h(
          'tr',
          { class: `status-${site.status}`, 'data-testid': 'batch-row' },
          h('td', { class: 'num' }, String(site.row + 1)),
          r.header.map((_, i) => h('td', { class: highlighted.has(i) ? 'current' : null }, site.record[i] ?? '')),
          h(
            'td',
            {},
            Number.isFinite(site.lon) && Number.isFinite(site.lat)
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'button ghost small',
                    dataset: { row: String(site.row) },
                    'aria-label': t('batch.showLabel', { row: site.row + 1 }),
                  },
                  t('batch.show'),
                )
              : null,
          ),
        ),
      ),
    );
    fill(this.els.table, head, body);
    this.els.more.hidden = rows <= TABLE_ROWS;
    this.els.more.textContent = t('batch.more', { shown: formatNumber(TABLE_ROWS), rows: formatNumber(rows) });
    this.els.results.hidden = false;
    this.onSites({ type: 'FeatureCollection', features }, fresh);
  }

  clear() {
    this.result = null;
    this.els.results.hidden = true;
    fill(this.els.table);
    this.onSites(null);
  }
}
