// What the browser tests share: the territoires binary under test and a headless Chromium started the
// way the developers' guide says (no GPU: SwiftShader WebGL, no background traffic).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The repository's root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The binary: TERRITOIRES_BIN, else the debug build, else the release build. */
export function binary() {
  const candidates = [process.env.TERRITOIRES_BIN, 'target/debug/territoires', 'target/release/territoires'];
  const found = candidates.filter(Boolean).map((p) => path.resolve(root, p)).find((p) => existsSync(p));
  if (!found) throw new Error('no territoires binary: run cargo build (or set TERRITOIRES_BIN)');
  return found;
}

/** Headless Chromium (CHROMIUM, default /usr/bin/chromium). */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
      // WebGL without a GPU: SwiftShader, asked for explicitly (the silent fallback is deprecated).
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `territoires serve` on the committed geodata (the shipped editions, no flag: from the repository's
 * folder, so through the built-in snapshot while it matches `geodata/`) on a free port and resolves once
 * /healthz answers: `{ base, stop }`. Its log goes to `logFile` when it exits.
 */
export async function startServer(logFile) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  const child = spawn(binary(), ['serve', '--addr', `127.0.0.1:${port}`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(d));
  child.stderr.on('data', (d) => log.push(d));
  child.on('exit', () => logFile && writeFileSync(logFile, Buffer.concat(log)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('server not healthy after 120 s');
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  return { base, stop };
}

const AXE = readFileSync(path.join(root, 'tests/browser/node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now. Injected through the DevTools
 * protocol (page.evaluate), which the page's CSP does not govern, so the page is checked under its own CSP.
 */
export async function accessibilityViolations(page) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
