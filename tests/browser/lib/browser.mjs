// SPDX-License-Identifier: BSD-2-Clause
// Debian's Chromium through playwright-core (never a downloaded browser).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
  '--hide-scrollbars', '--font-render-hinting=none',
];
export const CONTEXT_OPTIONS = {
  viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC',
};

function playwright() {
  try {
    return require('playwright-core');
  } catch (e) {
    throw new Error('playwright-core is missing: run `make deps` (npm install in tests/browser)');
  }
}

/** One Chromium for many tests, each in a context of its own: newContext() is a fresh
 * profile (no cookies, storage, cache or open connections of an earlier test) in
 * milliseconds. spki, under: as for launch(). Chromium's temporary profile and
 * Playwright's artifacts go under `under` (the rig's folder, which rigd deletes even
 * when this process is killed): Playwright puts them in os.tmpdir(), read at launch. */
export async function launchBrowser({ spki, under } = {}) {
  const { chromium } = playwright();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const args = [...ARGS];
  if (spki) args.push(`--ignore-certificate-errors-spki-list=${spki}`);
  const had = Object.prototype.hasOwnProperty.call(process.env, 'TMPDIR');
  const old = process.env.TMPDIR;
  if (under) process.env.TMPDIR = under;
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  } finally {
    if (had) process.env.TMPDIR = old; else delete process.env.TMPDIR;
  }
  return {
    browser,
    newContext: () => browser.newContext(CONTEXT_OPTIONS),
    close: () => browser.close().catch(() => {}),
  };
}

/** Launches Chromium headless with the kiosk test flags (MACHINE-NOTES "Browser") and a
 * fresh user-data-dir. spki: base64 SHA-256 of the test CMS server key, so that its
 * certificate (from a CA made at test time) is accepted, and nothing else is.
 * under: a folder for the profile (the rig's own temporary folder, which rigd deletes
 * even when this process is killed); default: a new folder in the system's tmp. */
export async function launch({ spki, under } = {}) {
  const { chromium } = playwright();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const profile = fs.mkdtempSync(path.join(under || os.tmpdir(), 'cardupd-chromium-'));
  const args = [...ARGS];
  if (spki) args.push(`--ignore-certificate-errors-spki-list=${spki}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args, ...CONTEXT_OPTIONS,
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close, profile };
}
