// What the browser tests share: the territoires binary under test and a headless Chromium started the
// way the developers' guide says (no GPU: SwiftShader WebGL, no background traffic).

import { existsSync } from 'node:fs';
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
