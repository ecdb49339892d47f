// Browser tests of the web map on the real data: the binary serves the committed 2023 (ANCT phase II)
// and 2019 (phase I) editions of geodata/ (no flag), headless Debian chromium renders the page with
// SwiftShader WebGL, and each test checks what a person would see. Screenshots go to target/browser/.
//
//   cd tests/browser && npm ci && node --test --test-concurrency=1
//
// Environment: TERRITOIRES_BIN (default: target/debug/territoires, else target/release/territoires),
// CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (default target/browser).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessibilityViolations, launchChromium, startServer } from './harness.mjs';
import { PNG } from 'pngjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const KNOWN_SITES = path.join(root, 'tests/fixtures/known-sites.csv');
const SHOTS = path.resolve(root, process.env.SCREENSHOTS ?? 'target/browser');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
// The map's own colours (web/js/style.js COLORS): sea and land are the background of the pixel checks.
const SEA = [0xdc, 0xe8, 0xf0];
const LAND = [0xf4, 0xf1, 0xe8];

// Everything the tests need is committed: nothing is ever skipped.
const skip = false;

let server;
let base;
let browser;


before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  // The shipped editions, as `serve` loads them with no flag.
  server = await startServer(path.join(SHOTS, 'server.log'));
  base = server.base;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh page that records console errors and uncaught exceptions. */
async function openPage(pathAndQuery, viewport = DESKTOP, { acceptDownloads = false } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.errors = [];
  page.requests = [];
  page.on('request', (r) => page.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => page.errors.push(`exception: ${e.message}`));
  await page.goto(base + pathAndQuery);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  await idle(page);
  return page;
}

/** Resolves once the map has no tile to load and no move under way. */
async function idle(page) {
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const map = window.territoires.map;
        const done = () => !map.isMoving() && map.loaded() && map.areTilesLoaded();
        if (done()) {
          resolve();
          return;
        }
        const check = () => (done() ? resolve() : map.once('idle', check));
        map.once('idle', check);
      }),
  );
}

/**
 * Types into the search box as a person would, one key at a time, until a suggestion (of this kind,
 * with this text) shows; returns the box and the matching suggestions.
 */
async function searchUntil(page, text, { kind, hasText } = {}) {
  const input = page.locator('[data-testid="search"]');
  await input.focus();
  await input.pressSequentially(text, { delay: 10 });
  const selector = kind ? `[data-testid="search-option"][data-kind="${kind}"]` : '[data-testid="search-option"]';
  const option = page.locator(selector, hasText ? { hasText } : {});
  await option.first().waitFor();
  return { input, option };
}

async function close(page) {
  await page.context().close();
}

function includes(text, part, message = part) {
  assert.ok(typeof part === 'string' && part !== '', `nothing to look for (${message})`);
  assert.ok(text.includes(part), `${message}: ${JSON.stringify(part)} not in ${JSON.stringify(text)}`);
}

function assertNoErrors(page) {
  assert.deepEqual(page.errors, [], 'console errors or exceptions on the page');
}

async function api(pathAndQuery) {
  const r = await fetch(base + pathAndQuery);
  assert.equal(r.status, 200, pathAndQuery);
  return r.json();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Share of the map's pixels that are neither sea nor land: what our layers drew. */
async function drawnShare(page) {
  const box = await page.locator('#map canvas').boundingBox();
  const png = PNG.sync.read(await page.screenshot({ clip: box }));
  let drawn = 0;
  const n = png.width * png.height;
  for (let i = 0; i < n; i += 1) {
    const rgb = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2]];
    const far = (bg) => rgb.reduce((s, v, k) => s + Math.abs(v - bg[k]), 0) > 30;
    if (far(SEA) && far(LAND)) drawn += 1;
  }
  return drawn / n;
}

/** Ids of the rendered features of a layer. */
async function renderedIds(page, layer) {
  return page.evaluate((layer) => {
    const map = window.territoires.map;
    if (!map.getLayer(layer)) return [];
    return [...new Set(map.queryRenderedFeatures({ layers: [layer] }).map((f) => f.properties.id))];
  }, layer);
}

async function mapBounds(page) {
  return page.evaluate(() => window.territoires.map.getBounds().toArray().flat());
}

function intersects([w1, s1, e1, n1], [w2, s2, e2, n2]) {
  return w1 <= e2 && w2 <= e1 && s1 <= n2 && s2 <= n1;
}

test('the page loads with no console error and draws the 2023 territories', { skip }, async () => {
  const page = await openPage('/');
  assert.equal(await page.locator('#edition').inputValue(), '2023', 'the latest edition by default');

  // Every territory whose box meets the view is drawn (a few tiny ones may be under a pixel).
  const rendered = await renderedIds(page, 'ti-main-fill');
  const all = await api('/api/territories?edition=2023');
  const bounds = await mapBounds(page);
  const expected = all.filter((t) => intersects(t.bbox, bounds)).map((t) => t.id);
  const known = new Set(all.map((t) => t.id));
  assert.ok(rendered.every((id) => known.has(id)), 'only 2023 territories are drawn');
  const missingIds = expected.filter((id) => !rendered.includes(id));
  assert.ok(
    missingIds.length <= expected.length * 0.03,
    `${rendered.length} drawn of ${expected.length} in view; missing ${missingIds.join(', ')}`,
  );
  assert.ok(rendered.length > 150, `${rendered.length} territories drawn in metropolitan France`);
  assert.deepEqual(await renderedIds(page, 'epci-line'), [], 'no EPCI boundaries at national zoom');

  // The legend names every region that has territories, with their count.
  await page.locator('#regions summary').click();
  const legend = await page.locator('#region-legend li').allInnerTexts();
  const regions = new Map();
  for (const t of all) regions.set(t.region_name, (regions.get(t.region_name) ?? 0) + 1);
  assert.equal(legend.length, regions.size, legend.join(' / '));
  for (const [name, count] of regions) includes(legend.join('\n'), `${name} (${count})`);

  // The screenshot shows them: many pixels are neither sea nor land, and far fewer once the layer is off.
  await shot(page, 'desktop-national');
  const on = await drawnShare(page);
  await page.locator('[data-testid="toggle-territories"]').uncheck();
  await idle(page);
  const off = await drawnShare(page);
  await shot(page, 'desktop-national-territories-off');
  assert.ok(on > 0.1, `territories cover ${(on * 100).toFixed(1)} % of the map`);
  assert.ok(off < on / 4, `with the layer off ${(off * 100).toFixed(1)} % is still drawn (on: ${(on * 100).toFixed(1)} %)`);
  assertNoErrors(page);
  await close(page);
});

test('/?lookup=LON,LAT opens with the site checked: Soissons is in Soissonnais – Valois', { skip }, async () => {
  const page = await openPage('/?lookup=3.328181,49.383574');
  const result = page.locator('[data-testid="lookup-result"]');
  await result.locator('[data-testid="lookup-territory"]').waitFor();
  assert.equal(await page.locator('#edition').inputValue(), '2023');
  assert.match(await result.innerText(), /Soissonnais/);
  assert.equal(await result.getAttribute('data-edition'), '2023');
  const answer = await api('/api/lookup?lon=3.328181&lat=49.383574&edition=2023');
  const [inside] = answer.territories;
  assert.equal(await result.getAttribute('data-territory'), inside.id);
  includes(await result.innerText(), inside.via.name, 'through which member');

  // The territory containing it is opened in the side panel with its members.
  const panel = page.locator('[data-testid="territory-panel"]');
  await panel.locator('[data-testid="members"]').waitFor();
  assert.equal(await panel.locator('[data-testid="territory-name"]').innerText(), inside.name);
  const detail = await api(`/api/territories/2023/${inside.id}`);
  const members = await panel.locator('[data-testid="members"] tbody tr').allInnerTexts();
  assert.equal(members.length, detail.member_list.length);
  for (const m of detail.member_list) {
    assert.ok(members.some((row) => row.includes(m.name) && row.includes(m.siren)), `member ${m.name} ${m.siren}`);
  }
  includes(await panel.innerText(), detail.region_name, 'region name');
  // Communes and population, as the API gives them (164 communes for ti-3214), in the page's number format.
  assert.equal(detail.communes, 164);
  const digits = (text) => text.replace(/\D/g, '');
  assert.equal(digits(await panel.locator('[data-testid="territory-communes"]').innerText()), String(detail.communes));
  assert.equal(digits(await panel.locator('[data-testid="territory-population"]').innerText()), String(detail.population));
  // The edition selector names the edition by its label and list date; the attribution line by its source.
  includes(await page.locator('#edition option[value="2023"]').innerText(), 'Phase II (2023-2027)', 'edition label');
  includes(await page.locator('#edition option[value="2023"]').innerText(), '2024-07-04', 'list date');
  includes(await page.locator('.maplibregl-ctrl-attrib-inner').textContent(), "ANCT — Territoires d'industrie, données 2024-07-04", 'attribution');
  await idle(page);
  assert.ok((await renderedIds(page, 'epci-line')).includes(inside.via.code), 'EPCI boundaries at local zoom');
  await shot(page, 'desktop-local-lookup');
  assert.match(page.url(), /lookup=3\.328181,49\.383574/);
  includes(page.url(), `territory=${inside.id}`);
  assertNoErrors(page);
  await close(page);
});

/** Names of the labels MapLibre drew (not merely loaded) on screen. */
async function renderedNames(page) {
  return page.evaluate(() => {
    const map = window.territoires.map;
    return [...new Set(map.queryRenderedFeatures({ layers: ['place-label'] }).map((f) => f.properties.name))];
  });
}

test('commune names and borders from the server alone: Laon at zoom 7, Soissons and its border at zoom 12', { skip }, async () => {
  const page = await openPage('/#7.00/49.50/3.50');
  let names = await renderedNames(page);
  assert.ok(names.includes('Laon'), `the prefecture of the Aisne is named at zoom 7: ${names}`);
  assert.ok(!names.includes('Soissons'), 'a town of 26,000 waits for zoom 8');
  assert.ok(names.includes('Saint-Quentin'), `the largest town of the Aisne too: ${names}`);
  assert.equal(await page.locator('#toggle-places').isChecked(), true);

  await page.evaluate(() => window.territoires.map.jumpTo({ center: [3.3235, 49.3817], zoom: 12 }));
  await idle(page);
  names = await renderedNames(page);
  assert.ok(names.includes('Soissons'), `Soissons drawn at zoom 12: ${names}`);
  for (const neighbour of ['Belleu', 'Crouy', 'Cuffies', 'Villeneuve-Saint-Germain']) {
    assert.ok(names.includes(neighbour), `every commune named from zoom 11: ${neighbour} not in ${names}`);
  }
  const borders = await page.evaluate(() =>
    window.territoires.map.queryRenderedFeatures({ layers: ['commune-line'] }).map((f) => f.properties.code),
  );
  assert.ok(borders.includes('02722'), 'the commune border of Soissons is drawn');
  // The label sits under the checked site: a click on Soissons puts the marker above its name.
  const order = await page.evaluate(() => window.territoires.map.getStyle().layers.map((l) => l.id));
  assert.ok(order.indexOf('place-label') < order.indexOf('site-point'));
  await shot(page, 'desktop-place-names-z12');
  // Accents drawn from the server's glyphs, as written in geodata.
  await page.evaluate(() => window.territoires.map.jumpTo({ center: [3.4027, 49.0466], zoom: 12 }));
  await idle(page);
  names = await renderedNames(page);
  assert.ok(names.includes('Château-Thierry'), `an accented name: ${names}`);
  assert.ok(names.some((n) => n.includes('Étampes-sur-Marne') || n.includes('Brasles')), `its neighbours: ${names}`);
  await shot(page, 'desktop-place-names-accents');

  // The check box hides names and borders together.
  await page.locator('#toggle-places').uncheck();
  await idle(page);
  assert.deepEqual(await renderedNames(page), []);
  await page.locator('#toggle-places').check();

  const fonts = page.requests.filter((u) => u.startsWith(`${base}/fonts/`));
  assert.ok(fonts.some((u) => u.includes('/fonts/DejaVu%20Sans%20Book/0-255.pbf')), `glyphs from the server: ${fonts}`);
  const foreign = page.requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
  assert.deepEqual(foreign, [], 'requests that left the server');
  assertNoErrors(page);
  await close(page);
});

test('a site in no territory gives the nearest one and its distance (Paris)', { skip }, async () => {
  const page = await openPage('/');
  // Typed in latitude, longitude order: the page detects it.
  await page.locator('[data-testid="coords"]').fill('48.857265, 2.320103');
  await page.locator('[data-testid="coords"]').press('Enter');
  const result = page.locator('[data-testid="lookup-result"]');
  await result.locator('[data-testid="lookup-nearest"]').waitFor();
  const answer = await api('/api/lookup?lon=2.320103&lat=48.857265&edition=2023');
  assert.equal(answer.territories.length, 0);
  const text = await result.innerText();
  includes(text, answer.nearest[0].name, 'nearest territory');
  const km = (answer.nearest[0].distance_m / 1000).toFixed(1).replace('.', ',');
  assert.ok(text.includes(`${km} km`), `distance ${km} km in: ${text}`);
  assert.match(text, /Paris/, 'the commune');
  assert.equal(await page.locator('[data-testid="territory-panel"]').isHidden(), true);
  assertNoErrors(page);
  await close(page);
});

test('clicking the map checks the site there and opens its territory; hover names it', { skip }, async () => {
  const page = await openPage('/#9/49.38357/3.32818');
  const box = await page.locator('#map canvas').boundingBox();
  const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await page.mouse.move(centre.x, centre.y);
  await page.locator('#hover').waitFor({ state: 'visible' });
  const expected = await api('/api/lookup?lon=3.32818&lat=49.38357&edition=2023');
  assert.equal(await page.locator('#hover').innerText(), expected.territories[0].name);
  await page.mouse.click(centre.x, centre.y);
  await page.locator('[data-testid="territory-panel"] [data-testid="members"]').waitFor();
  assert.equal(
    await page.locator('[data-testid="territory-panel"] [data-testid="territory-name"]').innerText(),
    expected.territories[0].name,
  );
  assert.equal(await page.locator('[data-testid="lookup-result"]').getAttribute('data-territory'), expected.territories[0].id);
  assertNoErrors(page);
  await close(page);
});

test('search "Saint-Omer" suggests the territory; choosing it with the keyboard zooms there', { skip }, async () => {
  const page = await openPage('/');
  const { input, option } = await searchUntil(page, 'Saint-Omer', { kind: 'territory', hasText: 'Saint-Omer' });
  const [expected] = (await api('/api/territories?edition=2023&q=Saint-Omer')).filter((t) => t.name.includes('Saint-Omer'));
  assert.equal(await option.first().getAttribute('data-code'), expected.id);
  // Keyboard only: arrow down to the territory, Enter.
  const options = await page.locator('[data-testid="search-option"]').evaluateAll((els) => els.map((e) => e.dataset.code));
  const index = options.indexOf(expected.id);
  for (let i = 0; i < index; i += 1) await input.press('ArrowDown');
  await input.press('Enter');
  const panel = page.locator('[data-testid="territory-panel"]');
  await panel.locator('[data-testid="members"]').waitFor();
  assert.equal(await panel.locator('[data-testid="territory-name"]').innerText(), expected.name);
  await idle(page);
  const [w, s, e, n] = expected.bbox;
  const { lng, lat, zoom } = await page.evaluate(() => {
    const m = window.territoires.map;
    return { ...m.getCenter(), zoom: m.getZoom() };
  });
  assert.ok(lng > w && lng < e && lat > s && lat < n, `map centred on the territory (${lng}, ${lat})`);
  assert.ok(zoom > 8, `zoomed in (${zoom})`);
  includes(page.url(), `territory=${expected.id}`);
  await shot(page, 'desktop-search-saint-omer');
  assertNoErrors(page);
  await close(page);
});

test('search is accent- and case-insensitive and finds communes', { skip }, async () => {
  const page = await openPage('/');
  const { option } = await searchUntil(page, 'villers-cotterets', { hasText: 'Villers-Cotterêts' });
  const code = await option.first().getAttribute('data-code');
  await option.first().click();
  const unit = page.locator('[data-testid="unit-panel"]');
  await unit.locator('h2').waitFor();
  assert.equal(await unit.locator('h2').innerText(), 'Villers-Cotterêts');
  const detail = await api(`/api/units/${code}`);
  assert.ok(detail.territories.length > 0, 'Villers-Cotterêts is in territories');
  for (const t of detail.territories) includes(await unit.innerText(), `${t.edition} : ${t.name}`);
  assertNoErrors(page);
  await close(page);
});

test('a CSV of sites uploads: one table row per site, the answers match, the download has a BOM', { skip }, async () => {
  const page = await openPage('/', DESKTOP, { acceptDownloads: true });
  const text = readFileSync(KNOWN_SITES, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const sites = lines.length - 1;
  await page.locator('[data-testid="batch-file"]').setInputFiles(KNOWN_SITES);
  const rows = page.locator('[data-testid="batch-table"] tbody tr');
  await page.locator('[data-testid="batch-table"] tbody').waitFor();
  assert.equal(await rows.count(), sites, 'one row per site');

  // The file says which 2023 territory holds each site (empty: none): the table's answer column agrees.
  // The file already has a `territory_2023` column, so the server names its own `territory_2023_2`.
  const header = await page.locator('[data-testid="batch-table"] thead th').allInnerTexts();
  const answerColumn = header.indexOf('territory_2023_2');
  const expectedColumn = header.indexOf('territory_2023');
  assert.ok(answerColumn > expectedColumn && expectedColumn > 0, `the answer column follows the input columns: ${header}`);
  const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  for (const row of cells) assert.equal(row[answerColumn], row[expectedColumn], `row ${row[0]}: ${row.join(' | ')}`);
  const inside = cells.filter((row) => row[answerColumn] !== '').length;
  includes(await page.locator('[data-testid="batch-summary"]').innerText(), `${sites} sites ; ${inside} dans`);

  // The sites are on the map.
  const points = await page.evaluate(() => window.territoires.map.getSource('batch').getData());
  assert.equal((await points).features.length, sites);
  await idle(page);
  await shot(page, 'desktop-batch');

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="batch-download"]').click()]);
  const bytes = readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const downloaded = bytes.toString('utf8').slice(1).split('\n').filter((l) => l.trim() !== '');
  assert.equal(downloaded.length, sites + 1);
  assert.ok(downloaded.some((l) => l.startsWith('Villers-Cotterêts,')), 'accents kept');
  assertNoErrors(page);
  await close(page);
});

test('a large CSV shows progress, then a capped table and every site on the map', { skip }, async () => {
  const page = await openPage('/');
  // 25,000 sites spread over metropolitan France (semicolons and decimal commas, as French spreadsheets
  // write them), one unreadable row in 5,000.
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rows = ['id;longitude;latitude'];
  const total = 25_000;
  for (let i = 0; i < total; i += 1) {
    const lon = (-4.5 + random() * 12).toFixed(5).replace('.', ',');
    const lat = (43 + random() * 7.5).toFixed(5).replace('.', ',');
    rows.push(i % 5_000 === 0 ? `${i};abc;${lat}` : `${i};${lon};${lat}`);
  }
  const file = path.join(SHOTS, 'large-sites.csv');
  writeFileSync(file, rows.join('\n'));
  const progress = page.locator('[data-testid="batch-progress"]');
  await page.locator('[data-testid="batch-file"]').setInputFiles(file);
  await progress.waitFor({ state: 'visible' });
  await page.locator('[data-testid="batch-table"] tbody').waitFor({ timeout: 120_000 });
  await progress.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('[data-testid="batch-table"] tbody tr').count(), 2000, 'the table is capped');
  assert.match(await page.locator('#batch-more').innerText(), /25\s000/);
  const summary = await page.locator('[data-testid="batch-summary"]').innerText();
  assert.match(summary, /25\s000 sites/);
  assert.match(summary, /, 5 en erreur/);
  const points = await page.evaluate(() => window.territoires.map.getSource('batch').getData());
  assert.equal(points.features.length, total - 5, 'every readable site is on the map');
  assertNoErrors(page);
  await close(page);
});

test('switching edition redraws; comparing shows both editions and what changed per member', { skip }, async () => {
  const page = await openPage('/?lookup=3.328181,49.383574');
  await page.locator('[data-testid="territory-panel"] [data-testid="members"]').waitFor();
  await page.locator('#edition').selectOption('2019');
  await idle(page);
  const all2019 = new Set((await api('/api/territories?edition=2019')).map((t) => t.id));
  const rendered = await renderedIds(page, 'ti-main-fill');
  assert.ok(rendered.length > 0 && rendered.every((id) => all2019.has(id)), '2019 territories drawn');
  const answer = await api('/api/lookup?lon=3.328181&lat=49.383574&edition=2019');
  const result = page.locator('[data-testid="lookup-result"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="lookup-result"]').dataset.edition === '2019');
  includes(await result.innerText(), answer.territories[0].name);

  // Back to 2023, compared with 2019.
  await page.locator('#edition').selectOption('2023');
  await page.locator('[data-testid="compare-edition"]').selectOption('2019');
  await page.locator('[data-testid="compare"]').check();
  await idle(page);
  assert.ok((await renderedIds(page, 'ti-compare-fill')).length > 0, 'the compared edition is drawn');
  assert.equal(await page.locator('#compare-legend').isVisible(), true);
  assert.match(page.url(), /compare=2019/);
  const panel = page.locator('[data-testid="territory-panel"]');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="territory-panel"] td.compare-cell')].every((c) => c.textContent !== '…'),
  );
  const cells = await panel.locator('td.compare-cell').evaluateAll((tds) => tds.map((td) => [td.dataset.member, td.textContent]));
  assert.ok(cells.length > 0);
  for (const [code, text] of cells) {
    const unit = await api(`/api/units/${code}`);
    const in2019 = unit.territories.filter((t) => t.edition === '2019').map((t) => t.name);
    assert.equal(text, in2019.length > 0 ? in2019.join(', ') : 'non (entré)', `member ${code}`);
  }
  await shot(page, 'desktop-compare');
  assertNoErrors(page);
  await close(page);
});

test('a shared link reopens the same view: edition, territory, site and map position', { skip }, async () => {
  const all2019 = await api('/api/territories?edition=2019');
  const territory = all2019.find((t) => t.members > 3) ?? all2019[0];
  const page = await openPage(`/?edition=2019&territory=${territory.id}&lookup=3.5,50.3#8.50/50.30000/3.40000`);
  await page.locator('[data-testid="territory-panel"] [data-testid="members"]').waitFor();
  assert.equal(await page.locator('#edition').inputValue(), '2019');
  assert.equal(await page.locator('[data-testid="territory-name"]').innerText(), territory.name);
  const view = await page.evaluate(() => {
    const m = window.territoires.map;
    return { ...m.getCenter(), zoom: m.getZoom() };
  });
  assert.ok(Math.abs(view.zoom - 8.5) < 0.01 && Math.abs(view.lat - 50.3) < 1e-4 && Math.abs(view.lng - 3.4) < 1e-4, JSON.stringify(view));
  await page.locator('[data-testid="lookup-result"] p.verdict').waitFor();
  // Moving the map rewrites the hash.
  await page.evaluate(() => window.territoires.map.jumpTo({ center: [2, 47], zoom: 6 }));
  await page.waitForFunction(() => location.hash === '#6.00/47.00000/2.00000');
  assert.ok(page.url().endsWith(`?edition=2019&territory=${territory.id}&lookup=3.5,50.3#6.00/47.00000/2.00000`), page.url());
  assertNoErrors(page);
  await close(page);
});

test('the GeoJSON export is the current edition layer', { skip }, async () => {
  const page = await openPage('/?edition=2019');
  const href = await page.locator('[data-testid="export-geojson"]').getAttribute('href');
  const layer = await api(href);
  const editions = await api('/api/editions');
  assert.equal(layer.features.length, editions.find((e) => e.id === '2019').territories);
  assert.ok(layer.features.every((f) => f.properties.edition === '2019'));
  assertNoErrors(page);
  await close(page);
});

test('the overseas départements are each one click away', { skip }, async () => {
  const page = await openPage('/');
  const all = await api('/api/territories?edition=2023');
  for (const [area, region] of [['971', '01'], ['972', '02'], ['973', '03'], ['974', '04'], ['976', '06']]) {
    await page.locator(`.insets button[data-area="${area}"]`).click();
    await idle(page);
    const rendered = await renderedIds(page, 'ti-main-fill');
    const expected = all.filter((t) => t.region === region).map((t) => t.id);
    // Every territory of that département is drawn (none there: nothing from elsewhere either).
    assert.deepEqual(rendered.filter((id) => expected.includes(id)).sort(), expected.sort(), `area ${area}`);
    if (area === '971') await shot(page, 'desktop-guadeloupe');
  }
  assertNoErrors(page);
  await close(page);
});

test('without Internet the OpenStreetMap base map turns itself off and says so', { skip }, async () => {
  const page = await openPage('/');
  await page.route('https://tile.openstreetmap.org/**', (route) => route.abort('internetdisconnected'));
  await page.locator('[data-testid="toggle-osm"]').check();
  await page.waitForFunction(() => !document.querySelector('[data-testid="toggle-osm"]').checked, null, { timeout: 20_000 });
  assert.match(await page.locator('#status').innerText(), /injoignable/);
  // Our own layers are still there.
  assert.ok((await renderedIds(page, 'ti-main-fill')).length > 100);
  await close(page);
});

test('English labels on demand, kept in the link', { skip }, async () => {
  const page = await openPage('/');
  await page.locator('[data-testid="lang"]').click();
  assert.equal(await page.locator('#site-title').innerText(), 'Check a site');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.waitForFunction(() => location.search.includes('lang=en'));
  assertNoErrors(page);
  await close(page);
});

test('one language at a time: switching to English renames the map controls and the page title', { skip }, async () => {
  const page = await openPage('/');
  assert.equal(await page.locator('.maplibregl-ctrl-zoom-in').getAttribute('title'), 'Zoomer');
  await page.locator('[data-testid="lang"]').click();
  assert.equal(await page.locator('.maplibregl-ctrl-zoom-in').getAttribute('title'), 'Zoom in');
  assert.equal(await page.locator('.maplibregl-ctrl-zoom-out').getAttribute('aria-label'), 'Zoom out');
  assert.equal(await page.locator('#map canvas').getAttribute('aria-label'), 'Map of the territories');
  assert.equal(await page.locator('.insets button[data-area="973"]').innerText(), 'French Guiana');
  assert.match(await page.title(), /industrial territories/);
  assertNoErrors(page);
  await close(page);
});

/** The page's console errors other than the browser's own line for an HTTP error status. */
function errorsBut(page, status) {
  return page.errors.filter((e) => !e.includes(`status of ${status}`));
}

test('a shared link to an unknown territory says so in the page language only (French, English)', { skip }, async () => {
  // What the API answers: a 404 with its code and an English message the page must not show as is.
  const r = await fetch(`${base}/api/territories/2023/ti-inconnu`);
  assert.equal(r.status, 404);
  const { error } = await r.json();
  assert.equal(error.code, 'not_found');
  for (const [query, expected, otherLanguage, closeLabel] of [
    ['', "Chargement impossible : aucun territoire « ti-inconnu » dans l'édition 2023.", /\b(no|could|there|load)\b/i, 'Fermer'],
    ['&lang=en', 'Could not load: there is no territory “ti-inconnu” in edition 2023.', /chargement|aucun|impossible|édition/i, 'Close'],
  ]) {
    const page = await openPage(`/?territory=ti-inconnu${query}`);
    const panel = page.locator('[data-testid="territory-panel"]');
    const message = panel.locator('[data-testid="territory-error"]');
    await message.waitFor();
    assert.equal(await message.innerText(), expected);
    assert.ok(!(await panel.innerText()).includes(error.message), "the API's own message is not shown");
    assert.doesNotMatch(await panel.innerText(), otherLanguage);
    assert.equal(await panel.locator('button.close').getAttribute('aria-label'), closeLabel);
    await shot(page, `unknown-territory${query ? '-en' : ''}`);
    assert.deepEqual(errorsBut(page, 404), []);
    await close(page);
  }
});

test('a west longitude and a south latitude read naturally in both languages', { skip }, async () => {
  for (const [query, expected] of [
    ['?lookup=-5,48.4', 'Site : 48,40000° N, 5,00000° O'],
    ['?lookup=-5,48.4&lang=en', 'Site: 48.40000° N, 5.00000° W'],
    ['?lookup=55.45,-21.1&lang=en', 'Site: 21.10000° S, 55.45000° E'],
  ]) {
    const page = await openPage(query);
    const line = page.locator('[data-testid="lookup-result"] .coords-line');
    await line.waitFor();
    assert.equal((await line.innerText()).replace(/\u202f|\u00a0/g, ' '), expected, query);
    if (query === '?lookup=-5,48.4&lang=en') await shot(page, 'west-longitude-en');
    assertNoErrors(page);
    await close(page);
  }
});

test('a file the server refuses: the reason in the page language, not the server message', { skip }, async () => {
  const file = path.join(SHOTS, 'no-coordinates.csv');
  writeFileSync(file, 'nom;ville\nusine;Soissons\n');
  const r = await fetch(`${base}/api/lookup`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'nom;ville\nusine;Soissons\n' });
  assert.equal(r.status, 400);
  const { error } = await r.json();
  for (const [query, start] of [
    ['/', 'Le fichier n’a pas pu être traité : il lui faut une ligne d\'en-tête'],
    ['/?lang=en', 'The file could not be processed: it needs a header line'],
  ]) {
    const page = await openPage(query);
    await page.locator('[data-testid="batch-file"]').setInputFiles(file);
    // No column is recognised: the page asks for them; running anyway gets the server's refusal.
    await page.locator('[data-testid="batch-run"]').click();
    const message = page.locator('#batch-error');
    await message.waitFor({ state: 'visible' });
    const text = await message.innerText();
    assert.ok(text.startsWith(start), text);
    assert.ok(!text.includes(error.message), "the API's own message is not shown");
    assert.deepEqual(errorsBut(page, 400), []);
    await close(page);
  }
});

test('search suggestions in English say nothing in French', { skip }, async () => {
  const page = await openPage('/?lang=en');
  const { option } = await searchUntil(page, 'Saint-Omer', { kind: 'territory', hasText: 'Saint-Omer' });
  const meta = await option.first().locator('.option-meta').innerText();
  assert.match(meta, /^Territory\s+edition 2023 · Hauts-de-France$/, meta);
  assertNoErrors(page);
  await close(page);
});

test('keyboard: Tab reaches every control with a visible focus ring; a typed site is checked and announced', { skip }, async () => {
  const page = await openPage('/');
  const reached = [];
  for (let i = 0; i < 60; i += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const key = el.id || el.dataset.area || el.className || el.tagName;
      return { key: String(key), outline: parseFloat(style.outlineWidth) || 0, shadow: style.boxShadow !== 'none' };
    });
    if (!focused) continue;
    if (reached.some((r) => r.key === focused.key)) continue;
    reached.push(focused);
  }
  const keys = reached.map((r) => r.key);
  for (const expected of ['search', 'edition', 'lang', 'metro', '973', 'coords', 'check-centre', 'toggle-osm', 'copy-link']) {
    assert.ok(keys.some((k) => k === expected || k.includes(expected)), `${expected} reached by Tab: ${keys.join(', ')}`);
  }
  assert.ok(keys.some((k) => k.includes('maplibregl-ctrl-zoom-in')), `the zoom buttons are reached: ${keys.join(', ')}`);
  for (const r of reached) assert.ok(r.outline >= 2 || r.shadow, `${r.key} shows where the focus is`);

  // Without a mouse: type the site, Enter; the answer is in a live region, so screen readers say it.
  const result = page.locator('[data-testid="lookup-result"]');
  assert.equal(await result.getAttribute('aria-live'), 'polite');
  await page.locator('[data-testid="coords"]').focus();
  await page.keyboard.type('49.383574, 3.328181');
  await page.keyboard.press('Enter');
  await result.locator('[data-testid="lookup-territory"]').waitFor();
  assert.match(await result.innerText(), /Soissonnais/);
  assertNoErrors(page);
  await close(page);
});

test('print view: the map and the panel, without the controls', { skip }, async () => {
  const page = await openPage('/?lookup=3.328181,49.383574');
  await page.locator('[data-testid="territory-panel"] [data-testid="members"]').waitFor();
  await page.emulateMedia({ media: 'print' });
  // What the page does on beforeprint: the map takes its print size.
  await page.evaluate(() => window.territoires.map.resize());
  await idle(page);
  assert.equal(await page.locator('[data-testid="search"]').isVisible(), false);
  assert.equal(await page.locator('[data-testid="territory-panel"]').isVisible(), true);
  await shot(page, 'print-lookup');
  assertNoErrors(page);
  await close(page);
});

test('phone: national and local views fit a 390 px screen', { skip }, async () => {
  for (const [name, url] of [
    ['phone-national', '/'],
    ['phone-local-lookup', '/?lookup=3.328181,49.383574'],
  ]) {
    const page = await openPage(url, PHONE);
    if (url.includes('lookup')) await page.locator('[data-testid="lookup-territory"]').waitFor();
    await idle(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `${name}: page is ${width} px wide`);
    assert.ok((await page.locator('[data-testid="search"]').boundingBox()).width > 300, 'search box usable');
    assert.ok((await renderedIds(page, 'ti-main-fill')).length > 0, 'territories drawn');
    await shot(page, name);
    await page.screenshot({ path: path.join(SHOTS, `${name}-full.png`), fullPage: true });
    assertNoErrors(page);
    await close(page);
  }
});

test('axe-core: no serious or critical violation on the map with a checked site (desktop, phone, English)', { skip }, async () => {
  for (const [name, query, viewport] of [
    ['desktop', '/?lookup=3.328181,49.383574', DESKTOP],
    ['phone', '/?lookup=3.328181,49.383574', PHONE],
    ['desktop-en', '/?lookup=-5,48.4&lang=en', DESKTOP],
  ]) {
    const page = await openPage(query, viewport);
    await page.locator('[data-testid="lookup-result"] .coords-line').waitFor();
    if (query.includes('3.328181')) await page.locator('[data-testid="territory-panel"] [data-testid="members"]').waitFor();
    const violations = await accessibilityViolations(page);
    assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 1)}`);
    assertNoErrors(page);
    await close(page);
  }
});

test('axe-core: no serious or critical violation with suggestions open, a checked file and two editions compared', { skip }, async () => {
  const page = await openPage('/?lookup=3.328181,49.383574&compare=2019');
  await page.locator('[data-testid="territory-panel"] [data-testid="members"]').waitFor();
  await page.locator('[data-testid="batch-file"]').setInputFiles(KNOWN_SITES);
  await page.locator('[data-testid="batch-table"] tbody').waitFor();
  const { input } = await searchUntil(page, 'Soissons');
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  const violations = await accessibilityViolations(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await shot(page, 'desktop-axe-states');
  assertNoErrors(page);
  await close(page);
});
