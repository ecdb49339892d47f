// Browser tests of the pages for people (server-rendered HTML): the territory page of ti-3214 (edition
// 2023) with its true figures (164 communes, population 107,206, from the issue), the commune page of
// Soissons (INSEE 02722) answering for both editions, French and English, axe-core clean, printable,
// reached from the map's territory panel after a search, and no request leaving the server.
// Screenshots go to SCREENSHOTS (default target/browser/).
//
//   cd tests/browser && npm ci && node --test pages.test.mjs
//
// Environment: TERRITOIRES_BIN (default: target/debug/territoires, else target/release/territoires),
// CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (default target/browser).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessibilityViolations, launchChromium, root, startServer } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.resolve(root, process.env.SCREENSHOTS ?? 'target/browser');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let server;
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer(path.join(SHOTS, 'pages-server.log'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh page that records console errors, exceptions and every request it makes. */
async function openPage(pathAndQuery, { viewport = DESKTOP, acceptDownloads = false } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.errors = [];
  page.requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => page.errors.push(`exception: ${e.message}`));
  page.on('request', (r) => page.requests.push(r.url()));
  page.response = await page.goto(server.base + pathAndQuery);
  return page;
}

/**
 * Checks nothing went wrong and nothing was asked of another origin, then closes the page. A 404 page
 * logs its own status in the console: that one line is expected.
 */
async function done(page, { notFound = false } = {}) {
  const own = `status of 404 (Not Found) (${page.url()})`;
  const errors = page.errors.filter((e) => !(notFound && e.endsWith(own)));
  assert.deepEqual(errors, [], 'console errors or exceptions on the page');
  const foreign = page.requests.filter((u) => !u.startsWith(`${server.base}/`) && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], 'requests that left the server');
  await page.context().close();
}

const text = (page, testid) => page.locator(`[data-testid="${testid}"]`).first().innerText();
/** Digits only: "107 206" (narrow no-break space) and "107,206" both give "107206". */
const digits = (s) => s.replace(/[^0-9]/g, '');

test('the territory page of ti-3214 (2023) shows its true figures, members and map, in French', async () => {
  const page = await openPage('/territoires/2023/ti-3214');
  assert.equal(page.response.status(), 200);
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  assert.equal(await page.title(), "Soissonnais – Valois — Territoire d'industrie · Phase II (2023-2027)");
  const description = await page.getAttribute('meta[name="description"]', 'content');
  assert.match(description, /^Soissonnais – Valois \(Hauts-de-France\), territoire d'industrie/);
  assert.equal(await text(page, 'communes'), '164');
  assert.equal(await text(page, 'population'), '107\u202f206');
  assert.equal(digits(await text(page, 'population')), '107206');
  // Four EPCI members, with SIREN, communes and population adding up to the territory's.
  const rows = await page.locator('[data-testid="members"] tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())),
  );
  assert.equal(rows.length, 4);
  assert.ok(rows.every((r) => r[0] === 'EPCI' && /^\d{9}$/.test(r[2])), JSON.stringify(rows));
  assert.equal(rows.reduce((s, r) => s + Number(digits(r[3])), 0), 164);
  assert.equal(rows.reduce((s, r) => s + Number(digits(r[4])), 0), 107206);
  // The map: drawn, one shape per member and the outline, fitting the column.
  const map = page.locator('[data-testid="map"]');
  assert.equal(await map.locator('path.member').count(), 4);
  const box = await map.boundingBox();
  assert.ok(box.width > 300 && box.height > 200, `map ${box.width}×${box.height}`);
  // The same communes in phase I, the downloads, the way back to the map.
  assert.match(await text(page, 'other-editions'), /Soissonnais-Valois \(ti-3214\)\s*: 164 des 164 communes/);
  assert.equal(await page.getAttribute('[data-testid="download-csv"]', 'href'), '/territoires/2023/ti-3214/membres.csv');
  assert.equal(await page.getAttribute('[data-testid="map-link"]', 'href'), '/?edition=2023&territory=ti-3214');
  assert.deepEqual(await accessibilityViolations(page), []);
  await page.screenshot({ path: path.join(SHOTS, 'page-territory-ti-3214.png'), fullPage: true });
  await done(page);
});

test('the English territory page formats the figures the English way and downloads the members', async () => {
  const page = await openPage('/en/territories/2023/ti-3214', { acceptDownloads: true });
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.title(), 'Soissonnais – Valois — Industrial territory · Phase II (2023-2027)');
  assert.equal(await text(page, 'communes'), '164');
  assert.equal(await text(page, 'population'), '107,206');
  await page.screenshot({ path: path.join(SHOTS, 'page-territory-ti-3214-en.png'), fullPage: false });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-csv"]')]);
  assert.equal(download.suggestedFilename(), '2023-ti-3214-members.csv');
  const csv = readFileSync(await download.path());
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const lines = csv.toString('utf8').slice(1).trim().split('\r\n');
  assert.equal(lines.length, 5, 'a header and four members');
  assert.deepEqual(await accessibilityViolations(page), []);
  await done(page);
});

test('the commune page of Soissons answers: in ti-3214 in both phases, through GrandSoissons Agglomération', async () => {
  for (const [url, lang, yes, through] of [
    ['/communes/02722', 'fr', 'oui', 'par son membre'],
    ['/en/communes/02722', 'en', 'yes', 'through its member'],
  ]) {
    const page = await openPage(url);
    assert.equal(page.response.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    assert.match(await page.title(), /^Soissons \(02722\) — /);
    assert.equal(await text(page, 'name'), 'Soissons');
    for (const edition of ['2023', '2019']) {
      const line = await page.locator(`[data-testid="answer"] li[data-edition="${edition}"]`).innerText();
      assert.ok(line.includes(yes) && line.includes(through) && line.includes('GrandSoissons Agglomération'), line);
      assert.ok(line.includes('(ti-3214)'), line);
    }
    const territory = page.locator('[data-testid="answer"] li[data-edition="2023"] [data-testid="territory-link"]');
    assert.equal(await territory.innerText(), 'Soissonnais – Valois');
    assert.equal(await page.locator('[data-testid="map"] path.focus').count(), 1, 'the commune drawn');
    assert.deepEqual(await accessibilityViolations(page), [], url);
    if (lang === 'fr') {
      await page.screenshot({ path: path.join(SHOTS, 'page-commune-soissons.png'), fullPage: true });
      // Following the link opens the territory page.
      await Promise.all([page.waitForURL('**/territoires/2023/ti-3214'), territory.click()]);
      assert.equal(await text(page, 'communes'), '164');
    }
    await done(page);
  }
});

test('the EPCI page and the 404 page are axe-clean; a phone gets no horizontal scroll', async () => {
  for (const [url, status] of [
    ['/intercommunalites/240200477', 200],
    ['/territoires/2023/ti-9999', 404],
    ['/en/communes/99999', 404],
  ]) {
    const page = await openPage(url, { viewport: PHONE });
    assert.equal(page.response.status(), status, url);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `${url}: ${width} px wide`);
    assert.deepEqual(await accessibilityViolations(page), [], url);
    if (status === 404) assert.ok((await text(page, 'not-found')).includes('9999'), url);
    else await page.screenshot({ path: path.join(SHOTS, 'page-epci-phone.png') });
    await done(page, { notFound: status === 404 });
  }
});

test('the territory page prints: the map and table fit, the header and links are left out', async () => {
  const page = await openPage('/territoires/2023/ti-3214');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.site').isVisible(), false);
  assert.equal(await page.locator('.downloads').isVisible(), false);
  assert.equal(await page.locator('[data-testid="map"]').isVisible(), true);
  const pdf = await page.pdf({ format: 'A4' });
  assert.ok(pdf.length > 10_000 && pdf.subarray(0, 5).toString() === '%PDF-', `${pdf.length} bytes`);
  await done(page);
});

test('from the map: a territory found by search opens its panel, whose link opens the page', async () => {
  const page = await openPage('/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  const input = page.locator('[data-testid="search"]');
  await input.focus();
  await input.pressSequentially('Soissonnais', { delay: 10 });
  const option = page.locator('[data-testid="search-option"][data-kind="territory"]', { hasText: 'Soissonnais' });
  await option.first().click();
  const link = page.locator('[data-testid="territory-panel"] [data-testid="territory-page-link"]');
  assert.equal(await link.innerText(), 'Fiche du territoire');
  assert.equal(await link.getAttribute('href'), '/territoires/2023/ti-3214');
  await page.screenshot({ path: path.join(SHOTS, 'page-link-in-territory-panel.png') });
  await Promise.all([page.waitForURL('**/territoires/2023/ti-3214'), link.click()]);
  assert.equal(await text(page, 'population'), '107\u202f206');
  await done(page);
});

test('the OGC API in a browser: landing, collection, a filtered page of items with its map, one feature; axe-clean', async () => {
  // A browser asks for text/html and gets the pages; the same URLs give JSON to GIS clients.
  let page = await openPage('/ogc');
  assert.equal(page.response.headers()['content-type'], 'text/html; charset=utf-8');
  assert.equal(await page.locator('h1').innerText(), "Territoires d'industrie");
  await page.locator('a', { hasText: 'Collections' }).first().click();
  await page.waitForLoadState();
  assert.ok(page.url().endsWith('/ogc/collections?f=html') || page.url().endsWith('/ogc/collections'), page.url());
  const rows = await page.locator('table.collections tbody tr').count();
  const json = await (await fetch(`${server.base}/ogc/collections`)).json();
  assert.equal(rows, json.collections.length);
  assert.deepEqual(await accessibilityViolations(page), []);
  await done(page);

  // Hauts-de-France's 17 territories: one table row and one outline on the map each.
  page = await openPage('/ogc/collections/territories-2023/items?region=32&limit=50');
  assert.equal(await page.locator('table.items tbody tr').count(), 17);
  assert.equal(await page.locator('[data-testid="map"] path').count(), 17);
  assert.match(await page.locator('main').innerText(), /17 of 17 features/);
  assert.deepEqual(await accessibilityViolations(page), []);
  await page.screenshot({ path: path.join(SHOTS, 'ogc-items-hauts-de-france.png'), fullPage: true });
  await page.locator('table.items a', { hasText: 'Soissonnais' }).click();
  await page.waitForLoadState();
  assert.match(page.url(), /\/ogc\/collections\/territories-2023\/items\/ti-3214\?f=html$/);
  assert.match(await page.locator('table.properties').innerText(), /member_codes\s+.*240200477/);
  assert.equal(await page.locator('[data-testid="map"] path').count(), 1);
  assert.deepEqual(await accessibilityViolations(page), []);
  await page.screenshot({ path: path.join(SHOTS, 'ogc-feature-ti-3214.png'), fullPage: true });
  await done(page);

  // JSON for clients that ask for it, at the same address.
  const feature = await (await fetch(`${server.base}/ogc/collections/territories-2023/items/ti-3214`, { headers: { accept: 'application/geo+json' } })).json();
  assert.equal(feature.id, 'ti-3214');
  assert.ok(feature.links.some((l) => l.rel === 'alternate' && l.type === 'text/html'));
});
