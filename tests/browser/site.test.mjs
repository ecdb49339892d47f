// The static site of `territoires export --format pmtiles,site`, with no API running: a plain node file
// server that honours HTTP Range requests (as object storage or a CDN does) serves site/, and headless
// chromium checks that the page draws, searches, opens a territory and checks Soissons by decoding the
// zoom-12 tile of tiles.pmtiles in the browser.
//
// Environment: TERRITOIRES_BIN (default: target/debug/territoires), CHROMIUM (default /usr/bin/chromium),
// SCREENSHOTS (default target/browser).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { binary, launchChromium } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const SHOTS = path.resolve(root, process.env.SCREENSHOTS ?? 'target/browser');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

let out;
let server;
let base;
let browser;
const ranges = [];


/** A static file server of `dir`: GET and HEAD, single `bytes=a-b` ranges, nothing else. */
function fileServer(dir) {
  return createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = path.join(dir, decodeURIComponent(url.pathname));
    if (!file.startsWith(dir)) return res.writeHead(403).end();
    if (url.pathname.endsWith('/')) file = path.join(file, 'index.html');
    let size;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      return res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
    const headers = { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Accept-Ranges': 'bytes' };
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (req.headers.range && !m) return res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
    if (m) {
      let start = m[1] === '' ? size - Number(m[2]) : Number(m[1]);
      let end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      start = Math.max(0, start);
      if (start > end) return res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      ranges.push(url.pathname);
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
      return req.method === 'HEAD' ? res.end() : createReadStream(file, { start, end }).pipe(res);
    }
    res.writeHead(200, { ...headers, 'Content-Length': size });
    return req.method === 'HEAD' ? res.end() : createReadStream(file).pipe(res);
  });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  out = mkdtempSync(path.join(os.tmpdir(), 'territoires-site-'));
  execFileSync(binary(), ['export', '--out', out, '--format', 'pmtiles,site'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  server = fileServer(path.join(out, 'site'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r()));
  if (out) rmSync(out, { recursive: true, force: true });
});

async function openPage(query = '') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => page.errors.push(`exception: ${e.message}`));
  page.requests = [];
  page.on('request', (r) => page.requests.push(r.url()));
  await page.goto(`${base}/${query}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return page;
}

test('the static site checks Soissons from the tiles: ti-3214 in 2023, with no API', async () => {
  const page = await openPage();
  await page.locator('[data-testid="coords"]').fill('49.3817, 3.3236');
  await page.locator('[data-testid="coords"]').press('Enter');
  const result = page.locator('[data-testid="lookup-result"]');
  await result.locator('[data-testid="lookup-territory"]').waitFor({ timeout: 20_000 });
  assert.equal(await result.getAttribute('data-edition'), '2023');
  assert.equal(await result.getAttribute('data-territory'), 'ti-3214');
  assert.match(await result.locator('[data-testid="lookup-note"]').innerText(), /tuiles|tiles/);
  // The territory opens from the static JSON files.
  const panel = page.locator('[data-testid="territory-panel"]');
  await panel.locator('[data-testid="members"]').waitFor({ timeout: 20_000 });
  assert.match(await panel.locator('[data-testid="territory-name"]').innerText(), /Soissonnais/);
  // The map drew tiles from the archive: rendered territory features near Soissons.
  await page.waitForFunction(() => window.territoires.map.areTilesLoaded(), null, { timeout: 20_000 });
  const drawn = await page.evaluate(() => window.territoires.map.querySourceFeatures('ti-main', { sourceLayer: 'territories-2023' }).length);
  assert.ok(drawn > 0, 'territory features drawn from tiles.pmtiles');
  assert.ok(ranges.includes('/tiles.pmtiles'), 'the archive was read by HTTP Range requests');
  assert.ok(!page.requests.some((u) => new URL(u).pathname.startsWith('/api/')), 'no API request');
  await page.screenshot({ path: path.join(SHOTS, 'site-soissons.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the static site searches in the browser and opens the territory found', async () => {
  const page = await openPage();
  const input = page.locator('[data-testid="search"]');
  await input.focus();
  await input.pressSequentially('Saint-Omer', { delay: 20 });
  const option = page.locator('[data-testid="search-option"][data-kind="territory"]', { hasText: 'Saint-Omer' });
  await option.first().waitFor({ timeout: 20_000 });
  await option.first().click();
  const panel = page.locator('[data-testid="territory-panel"]');
  await panel.locator('[data-testid="members"]').waitFor({ timeout: 20_000 });
  assert.match(await panel.locator('[data-testid="territory-name"]').innerText(), /Saint-Omer/);
  assert.ok(!page.requests.some((u) => new URL(u).pathname.startsWith('/api/')), 'no API request');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
