// Checking a file of sites: the CSV goes to POST /api/lookup as it is (re-encoded to UTF-8 if it was not),
// the server answers the same rows with territory columns per edition; the page shows them in a table,
// places the sites on the map and offers the answer as a download (UTF-8 with BOM).

import { h, fill, byId } from './dom.js';
import { t, formatNumber } from './i18n.js';
import { ApiError, getJSON } from './api.js';
import { errorReason } from './panels/common.js';
import { decode, sniffDelimiter, parseCsv, findColumn, parseNumber, withBom, coordinateNames } from './csv.js';

/** Rows drawn in the table; the download always has all of them. */
const TABLE_ROWS = 2000;

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
    };
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

  async run(file) {
    this.els.error.hidden = true;
    this.progress(t('batch.reading', { name: file.name }), 0);
    const { text, encoding } = decode(new Uint8Array(await file.arrayBuffer()));
    const rows = Math.max(0, text.split('\n').filter((l) => l.trim() !== '').length - 1);
    try {
      // The names the server reads coordinates by, asked once (a failed ask is asked again next time).
      this.columns ??= getJSON('/api/lookup/columns').then(coordinateNames, (error) => {
        this.columns = null;
        throw error;
      });
      const [answer, names] = await Promise.all([this.send(text, rows), this.columns]);
      this.show(file.name, answer, encoding, names);
    } catch (error) {
      this.els.error.textContent = t('batch.failed', { message: errorReason(error, { what: 'batch' }) });
      this.els.error.hidden = false;
    } finally {
      this.els.progress.hidden = true;
    }
  }

  /** POSTs the CSV with XMLHttpRequest, which, unlike fetch, reports upload progress. */
  send(text, rows) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/lookup');
      xhr.setRequestHeader('Content-Type', 'text/csv; charset=utf-8');
      xhr.responseType = 'text';
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) this.progress(t('batch.upload', { percent: Math.round((100 * e.loaded) / e.total) }), (100 * e.loaded) / e.total);
      });
      xhr.upload.addEventListener('load', () => this.progress(t('batch.processing', { rows: formatNumber(rows) })));
      xhr.addEventListener('progress', (e) => {
        this.progress(t('batch.download.progress'), e.lengthComputable ? (100 * e.loaded) / e.total : undefined);
      });
      xhr.addEventListener('load', () => {
        if (xhr.status === 200) {
          resolve(xhr.responseText);
          return;
        }
        // The API's code says what went wrong; the page words it in its own language (errorReason).
        let code = `http_${xhr.status}`;
        let message = `${xhr.status} ${xhr.statusText}`;
        try {
          ({ code, message } = JSON.parse(xhr.responseText).error);
        } catch {
          // Not our JSON error shape: keep the status.
        }
        reject(new ApiError(xhr.status, code, message));
      });
      xhr.addEventListener('error', () => reject(Object.assign(new Error('network'), { network: true })));
      xhr.send(text);
    });
  }

  show(fileName, answer, encoding, names) {
    const delimiter = sniffDelimiter(answer);
    const [header = [], ...records] = parseCsv(answer, delimiter);
    const lon = findColumn(header, names.lon);
    const lat = findColumn(header, names.lat);
    const sites = records.map((record, row) => ({
      row,
      lon: lon >= 0 ? parseNumber(record[lon], delimiter) : NaN,
      lat: lat >= 0 ? parseNumber(record[lat], delimiter) : NaN,
      record,
    }));
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    this.downloadUrl = URL.createObjectURL(new Blob([withBom(answer)], { type: 'text/csv;charset=utf-8' }));
    const base = fileName.replace(/\.(csv|tsv|txt)$/i, '');
    this.els.download.href = this.downloadUrl;
    this.els.download.download = `${base}-territoires.csv`;
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
