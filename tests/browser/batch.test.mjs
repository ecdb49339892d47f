// Browser tests of the batch panel with spreadsheets and Parquet: the page shows the columns the server
// recognised, lets a person pick them when the names leave doubt, shows the answer and offers it in the
// file's own format. The fixtures are tests/fixtures/known-sites.csv made into a workbook and a Parquet
// file (tests/fixtures/README.md). The downloads are read back by the server itself (answered as CSV with
// `Accept`): the Python reference tests read the formats with openpyxl and pyarrow.
//
//   cd tests/browser && npm ci && node --test --test-concurrency=1 batch.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessibilityViolations, launchChromium, startServer } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const fixture = (name) => path.join(root, 'tests/fixtures', name);
const SHOTS = path.resolve(root, process.env.SCREENSHOTS ?? 'target/browser');
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PARQUET = 'application/vnd.apache.parquet';

let server;
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer(path.join(SHOTS, 'server-batch.log'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage(query = '/') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.requests = [];
  page.on('request', (r) => page.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => page.errors.push(`exception: ${e.message}`));
  await page.goto(server.base + query);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return page;
}

/** The known sites' CSV: header and rows. */
function knownSites() {
  const [header, ...rows] = readFileSync(fixture('known-sites.csv'), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(','));
  return { header, rows };
}

/** A downloaded answer read back as CSV rows by the server (`Accept: text/csv`). */
async function readBack(bytes, media) {
  const r = await fetch(`${server.base}/api/lookup/inspect`, { method: 'POST', headers: { 'Content-Type': media }, body: bytes });
  assert.equal(r.status, 200, `the download is a readable ${media}`);
  return r.json();
}

/** Downloads the answer and returns its bytes and name. */
async function download(page) {
  const link = page.locator('[data-testid="batch-download"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="batch-download"]')?.getAttribute('aria-disabled') !== 'true' && document.querySelector('[data-testid="batch-download"]')?.href);
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  return { bytes: readFileSync(await file.path()), name: file.suggestedFilename() };
}

function assertLocal(page) {
  const foreign = page.requests.filter((u) => !u.startsWith(server.base) && !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], 'no request leaves the server');
  assert.deepEqual(page.errors, [], 'no console error');
}

test('an XLSX is recognised, checked at once, shown, and answered as an XLSX', async () => {
  const { header, rows } = knownSites();
  const page = await openPage('/');
  await page.locator('[data-testid="batch-file"]').setInputFiles(fixture('known-sites.xlsx'));
  await page.locator('[data-testid="batch-table"] tbody').waitFor();
  // The recognised columns, as the server read them.
  assert.equal(await page.locator('[data-testid="batch-column-lon"]').inputValue(), 'lon');
  assert.equal(await page.locator('[data-testid="batch-column-lat"]').inputValue(), 'lat');
  assert.equal(await page.locator('[data-testid="batch-column-commune_code"]').inputValue(), 'insee_com');
  assert.equal(await page.locator('[data-testid="batch-column-siren"]').inputValue(), '');
  const status = await page.locator('[data-testid="batch-columns-status"]').innerText();
  assert.match(status, /XLSX de 6 colonnes : les sites sont situés par leurs coordonnées/);
  // The table and the map: one row and one point per site.
  assert.equal(await page.locator('[data-testid="batch-table"] tbody tr').count(), rows.length);
  const points = await page.evaluate(() => window.territoires.map.getSource('batch').getData());
  assert.equal(points.features.length, rows.length);
  const cells = await page.locator('[data-testid="batch-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const th = await page.locator('[data-testid="batch-table"] thead th').allInnerTexts();
  const [answer, expected] = [th.indexOf('territory_2023_2'), th.indexOf('territory_2023')];
  for (const row of cells) assert.equal(row[answer], row[expected], row.join(' | '));

  const { bytes, name } = await download(page);
  assert.equal(name, 'known-sites-territoires.xlsx');
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'a zip (XLSX)');
  const back = await readBack(bytes, XLSX);
  assert.equal(back.sheet, 'Sites', 'the sheet keeps its name');
  assert.equal(back.rows, rows.length, 'N rows in, N out');
  assert.deepEqual(back.header.slice(0, header.length), header, 'every input column kept, in order');
  assert.ok(back.header.includes('territory_2023_2') && back.header.includes('located_by'));
  assert.deepEqual(back.sample.map((r) => r[0]), rows.slice(0, 5).map((r) => r[0]), 'rows in order');
  const violations = await accessibilityViolations(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await page.screenshot({ path: path.join(SHOTS, 'batch-xlsx.png') });
  assertLocal(page);
  await page.context().close();
});

test('a Parquet file whose names say nothing: the page asks, the person picks, the answer is Parquet', async () => {
  const { rows } = knownSites();
  const page = await openPage('/?lang=en');
  await page.locator('[data-testid="batch-file"]').setInputFiles(fixture('known-sites-renamed.parquet'));
  const status = page.locator('[data-testid="batch-columns-status"]');
  await status.waitFor();
  assert.match(await status.innerText(), /No column locates the sites: choose the coordinate or code columns\./);
  assert.equal(await page.locator('[data-testid="batch-columns"]').getAttribute('data-unsure'), 'true');
  // Nothing ran: the page waits for the choice, with the first select focused for the keyboard.
  assert.equal(await page.locator('#batch-results').isHidden(), true);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'batch-column-lon');
  const violations = await accessibilityViolations(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  // Choosing with the keyboard: the select's options are the file's header.
  await page.locator('[data-testid="batch-column-lon"]').selectOption('Longitude GPS');
  await page.locator('[data-testid="batch-column-lat"]').selectOption('Latitude GPS');
  await page.locator('[data-testid="batch-run"]').focus();
  await page.keyboard.press('Enter');
  await page.locator('[data-testid="batch-table"] tbody').waitFor();
  assert.equal(await page.locator('[data-testid="batch-table"] tbody tr').count(), rows.length);
  const points = await page.evaluate(() => window.territoires.map.getSource('batch').getData());
  assert.equal(points.features.length, rows.length, 'the sites are on the map by the chosen columns');
  const summary = await page.locator('[data-testid="batch-summary"]').innerText();
  const inside = rows.filter((r) => r[5] !== '').length;
  assert.match(summary, new RegExp(`${rows.length} sites; ${inside} in`), summary);
  const lookups = page.requests.filter((u) => u.includes('/api/lookup?'));
  assert.ok(lookups.every((u) => u.includes('lon=Longitude+GPS') && u.includes('lat=Latitude+GPS')), lookups.join('\n'));

  const { bytes, name } = await download(page);
  assert.equal(name, 'known-sites-renamed-territoires.parquet');
  assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
  const back = await readBack(bytes, PARQUET);
  assert.equal(back.rows, rows.length);
  assert.deepEqual(back.header.slice(0, 6), ['name', 'code commune', 'Longitude GPS', 'Latitude GPS', 'epci_siren', 'territory_2023']);
  const t = back.header.indexOf('territory_2023_2');
  for (const [i, row] of back.sample.entries()) assert.equal(row[t], row[5], `row ${i}: the answer matches the file's territory`);
  assertLocal(page);
  await page.context().close();
});
