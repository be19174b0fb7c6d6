// SPDX-License-Identifier: BSD-2-Clause
// Browser test of the admin pages (issue 6): Debian's Chromium (playwright-core) against
// the real cardupd with its admin listener on, through the rig controller
// (tests/rig/rigd.py). Chromium trusts the daemon's self-signed certificate by its key
// (SPKI pin), nothing else.
//
//   CARDUPD_BIN=build/cardupd node tests/browser/admin.mjs
//
// Setup code → first password, dashboard, a bad and a good settings change, markup
// shown as text, logout/login, a bad and a good trust anchor upload, an axe-core audit
// of every screen shot (0 violations). Exit status 1 on
// failure. Screenshots go to tests/browser/screenshots/admin-*.png.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rig } from './lib/rig.mjs';
import { launch } from './lib/browser.mjs';
import { auditA11y } from './lib/a11y.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.join(here, 'screenshots');
const PASSWORD = 'correct horse battery';
const MARKUP = '<img src=x onerror=alert(1)><b>bold</b>';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

async function logMatch(rig, re, ms = 20000) {   // bounds a failure only
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const { text } = await rig.call('log');
    const m = text.match(re);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${re} not in the cardupd log`);
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  let rig, browser, failed = false, shown = null;
  const trail = [];
  // Every screen shot is also audited by axe-core (lib/a11y.mjs, the kiosk's rules):
  // the findings are asserted at the end, named by screen.
  const a11y = [];
  const shot = async (page, name) => {
    await page.screenshot({ path: path.join(SHOTS, `admin-${name}.png`), fullPage: true });
    for (const v of await auditA11y(page)) a11y.push(`${name}: ${v}`);
  };
  try {
    rig = await Rig.start();
    const port = await freePort();
    const state = path.join(rig.info.dir, 'admin');
    await rig.call('restart', { conf: { admin: { listen: `127.0.0.1:${port}`, state_dir: state } } });
    const fpr = await logMatch(rig, /certificate SHA-256 ([0-9A-F:]{95})/);
    const code = await logMatch(rig, /setup code ([0-9A-Z-]{14})/);
    const cert = new crypto.X509Certificate(fs.readFileSync(path.join(state, 'admin-cert.pem')));
    assert.equal(cert.fingerprint256, fpr, 'the logged fingerprint is the certificate\'s');
    const spki = crypto.createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    browser = await launch({ spki, under: rig.info.dir });
    const page = await browser.context.newPage();
    const dialogs = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
    // What the page did, for the report of a failure: every API exchange, page errors.
    const t0 = Date.now();
    page.on('requestfinished', async (r) => {
      const resp = await r.response().catch(() => null);
      trail.push(`${Date.now() - t0} ms ${r.method()} ${new URL(r.url()).pathname} -> ${resp ? resp.status() : '?'}`);
    });
    page.on('requestfailed', (r) => trail.push(`${Date.now() - t0} ms ${r.method()} ${new URL(r.url()).pathname} FAILED ${r.failure() && r.failure().errorText}`));
    page.on('pageerror', (e) => trail.push(`${Date.now() - t0} ms page error: ${e.message}`));
    page.on('console', (m) => trail.push(`${Date.now() - t0} ms console.${m.type()}: ${m.text()}`));
    shown = () => page.evaluate(() => ({
      tab: [...document.querySelectorAll('main > section')].filter((s) => !s.hidden).map((s) => s.id),
      loginError: document.querySelector('#login-error').textContent,
      flash: document.querySelector('#flash').textContent }));
    const base = `https://127.0.0.1:${port}`;

    // 1. Setup: the fingerprint is on the page, the code sets the first password.
    await page.goto(base + '/');
    await page.waitForSelector('#tab-setup:not([hidden])');
    assert.equal(await page.textContent('#setup-fpr'), fpr);
    await shot(page, 'setup');
    await page.fill('#setup-code', 'AAAA-BBBB-CCCC');
    await page.fill('#setup-password', PASSWORD);
    await page.fill('#setup-password2', PASSWORD);
    await page.click('#setup-submit');
    await page.waitForFunction(() => document.querySelector('#setup-error').textContent.includes('wrong setup code'));
    await page.fill('#setup-code', code);
    await page.click('#setup-submit');
    await page.waitForSelector('#tab-dashboard:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#readers tbody tr').length === 2);
    const cookies = await browser.context.cookies(base);
    const c = cookies.find((x) => x.name === '__Host-cardupd');
    assert.ok(c && c.httpOnly && c.secure && c.sameSite === 'Strict', 'session cookie flags');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the cookie is out of reach of scripts');
    await page.waitForFunction(() => document.querySelectorAll('#prereqs li').length >= 5);
    await shot(page, 'dashboard');
    console.log('  ok    setup code, first password, dashboard');

    // 2. Settings: a bad value is shown beside its field; a good one is applied.
    await page.click('nav button[data-tab="settings"]');
    await page.waitForSelector('input[name="kiosk.prompt_timeout_s"]');
    await page.fill('input[name="kiosk.prompt_timeout_s"]', '2');
    await page.click('#settings-save');
    await page.waitForFunction(() => /out of range/.test(
      document.querySelector('.error[data-for="kiosk.prompt_timeout_s"]').textContent));
    await shot(page, 'settings-error');
    await page.fill('input[name="kiosk.prompt_timeout_s"]', '25');
    await page.fill('input[name="device.id"]', MARKUP);
    await page.click('#settings-save');
    await page.waitForFunction(() => /Saved and applied/.test(document.querySelector('#flash').textContent));
    await page.waitForFunction(() => document.querySelector('input[name="kiosk.prompt_timeout_s"]').value === '25');
    const st = await rig.call('state');
    assert.ok(st.readers.length === 2);
    console.log('  ok    settings: bad value refused at its field, good value applied');

    // 3. Markup from the settings is text, never markup.
    await page.click('nav button[data-tab="dashboard"]');
    await page.waitForFunction((m) => document.querySelector('#device').textContent === m, MARKUP);
    assert.equal(await page.$$eval('header img, header b', (n) => n.length), 0);
    assert.deepEqual(dialogs, []);
    console.log('  ok    markup in settings shown as text');

    // 4. Logout, then log in again. A dashboard refresh sent before the logout is held
    // back (as a loaded machine or a slow link does) and its answer — the daemon's 401
    // for an ended session — arrives only after the new login: the page must stay on
    // the dashboard of the new session. (It went back to the login form: the CI's
    // "#tab-dashboard not visible within 30 s". The held request is answered here, not
    // sent on: sent now, Chromium would give it the new session's cookie.)
    let held = null, releaseHeld;
    const heldOut = new Promise((resolve) => { releaseHeld = resolve; });
    await page.route('**/api/v1/admin/status', async (route) => {
      if (held) return route.continue();
      held = route;
      await heldOut;
      await route.fulfill({ status: 401, contentType: 'application/json',
        body: JSON.stringify({ error: 'log in first' }) });
    });
    await page.click('nav button[data-tab="dashboard"]');
    for (let i = 0; !held; i++) {
      assert.ok(i < 400, 'no dashboard refresh was sent');
      await new Promise((r) => setTimeout(r, 50));
    }
    await page.click('#logout');
    await page.waitForSelector('#tab-login:not([hidden])');
    await page.fill('#login-password', 'wrong password');
    await page.click('#login-submit');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('wrong password'));
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#tab-dashboard:not([hidden])');
    const late = page.waitForResponse((r) => r.request() === held.request());
    releaseHeld();
    assert.equal((await late).status(), 401, 'the held refresh carried the ended session');
    // The refreshes after it (every 3 s) are answered 200 and shown: by then the late 401
    // has long been handled; the dashboard must still be there.
    await Promise.race([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/status') &&
        r.request() !== held.request() && r.status() === 200),
      page.waitForSelector('#tab-login:not([hidden])'),
    ]);
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    assert.deepEqual((await shown()).tab, ['tab-dashboard'], 'a late 401 of the old session logged the new one out');
    await page.unroute('**/api/v1/admin/status');
    console.log('  ok    logout and login (a late answer of the old session does not log the new one out)');

    // 4b. A manual check from Actions still polling when the user logs out: its polls
    // were answered 401 while the next login's answer was on its way, and the login's
    // answer was dropped as stale ("HTTP 0" on the login form). The login is held here
    // until such a 401 has come back, or three poll intervals (1.5 s) have passed
    // without one (the polls now stop at logout). The login must land on the dashboard.
    await rig.call('cms', { answer: [{ nothing: true }, { gated: true, nothing: true }] });
    await rig.call('insert');
    await rig.waitState((st) => st.readers[0].card === 'present' && st.readers[0].phase === 'up_to_date',
      { what: 'card in reader 0, checked' });
    await page.click('nav button[data-tab="actions"]');
    await page.waitForFunction(() => /\(card\)/.test(document.querySelector('#check-reader').textContent));
    await page.click('#check-submit');
    await page.waitForFunction(() => document.querySelector('#check-result').textContent === 'Checking…');
    let polls401 = 0, sawPoll401;
    const poll401 = new Promise((resolve) => { sawPoll401 = resolve; });
    const onResponse = (r) => {
      if (r.url().endsWith('/api/v1/admin/status') && r.status() === 401) { polls401++; sawPoll401(); }
    };
    page.on('response', onResponse);
    await page.route('**/api/v1/admin/login', async (route) => {
      await Promise.race([poll401, new Promise((r) => setTimeout(r, 1500))]);
      await route.continue();
    });
    await page.click('#logout');
    await page.waitForSelector('#tab-login:not([hidden])');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await Promise.race([
      page.waitForSelector('#tab-dashboard:not([hidden])'),
      page.waitForFunction(() => document.querySelector('#login-error').textContent !== ''),
    ]);
    assert.deepEqual((await shown()).tab, ['tab-dashboard'],
      `the login's answer was dropped: ${JSON.stringify(await shown())}`);
    await page.unroute('**/api/v1/admin/login');
    // The check's poll loop belongs to the ended session: it stops (no 401 after the
    // next dashboard refresh).
    await page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/status') && r.status() === 200);
    const seen = polls401;
    await page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/status') && r.status() === 200);
    assert.equal(polls401, seen, 'the old check kept polling after the new login');
    page.off('response', onResponse);
    await rig.call('cms_release');
    await rig.call('remove');
    console.log('  ok    a check polling across logout and login: the new login lands on the dashboard');

    // 5. Trust anchors: a bad file is refused, a good one replaces the list.
    await page.click('nav button[data-tab="anchors"]');
    await page.waitForFunction(() => document.querySelectorAll('#anchors-list tbody tr').length === 1);
    const bad = path.join(rig.info.dir, 'bad.pem');
    fs.writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    await page.setInputFiles('#anchors-file', bad);
    await page.click('#anchors-upload');
    await page.waitForFunction(() => document.querySelector('#anchors-error').textContent.length > 0);
    await shot(page, 'anchors-error');
    const good = path.join(rig.info.dir, 'pki', 'ca.pem');
    await page.setInputFiles('#anchors-file', good);
    await page.click('#anchors-upload');
    await page.waitForFunction(() => /Trust anchors replaced: 1/.test(document.querySelector('#flash').textContent));
    await page.waitForFunction(() => /cardupd test CA/.test(document.querySelector('#anchors-list tbody').textContent));
    await shot(page, 'anchors');
    console.log('  ok    trust anchors: bad PEM refused, good PEM installed');

    // 6. Accessibility: no axe-core violation on any screen shot above.
    assert.deepEqual(a11y, [], 'accessibility violations (axe-core)');
    console.log('  ok    accessibility: axe-core finds no violation on the admin screens');
  } catch (e) {
    failed = true;
    console.log('  FAIL  ' + (e.stack || e));
    if (shown) console.log('  page now: ' + JSON.stringify(await shown().catch((x) => String(x))));
    console.log(trail.map((l) => '  | ' + l).join('\n'));
    if (rig) {
      console.log(rig.stderrTail());
      const log = await rig.logSince(0).catch(() => ({ text: '' }));
      console.log(log.text.trim().split('\n').slice(-40).map((l) => '  cardupd| ' + l).join('\n'));
    }
  }
  if (process.env.CARDUPD_TEST_TRACE && !failed && rig) {   // the same report on success
    console.log(trail.map((l) => '  | ' + l).join('\n'));
    const log = await rig.logSince(0).catch(() => ({ text: '' }));
    console.log(log.text.trim().split('\n').filter((l) => /admin|MHD|limit/i.test(l))
      .map((l) => '  cardupd| ' + l).join('\n'));
  }
  if (browser) await browser.close();
  // close(): shutdown, then wait for rigd to exit (it removes its folder on the way out;
  // exiting at once left /tmp/cardupd-rigd-* behind after every run).
  if (rig) await rig.close().catch(() => {});
  console.log(failed ? 'admin browser test: FAILED' : 'admin browser test: ok');
  process.exit(failed ? 1 : 0);
}

main();
