// SPDX-License-Identifier: BSD-2-Clause
// Accessibility audit of the kiosk screens (issue 15): axe-core (npm @axe-core/playwright)
// with every rule axe runs by default (WCAG 2.0/2.1/2.2 A and AA, and its best
// practices). A screen passes with 0 violations; "incomplete" results (what axe cannot
// decide alone) are not failures.
//
// A screen is audited on a snapshot, off the test's own page: its DOM as shown
// (page.content(): the attributes, text and inline styles the page's script set) is
// served again, without scripts, at the kiosk page's URL in another page of the same
// browser context, with the daemon's own CSS and images, at the same viewport. The test
// goes on meanwhile (an audit takes seconds on a loaded machine, and the screens it
// shoots have timers); its audits are awaited when it ends.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));

let AxeBuilder;
function axeBuilder() {
  if (!AxeBuilder) {
    let mod;
    try {
      mod = require('@axe-core/playwright');
    } catch (e) {
      throw new Error('@axe-core/playwright is missing: run `make deps` (npm install in tests/browser)');
    }
    AxeBuilder = mod.AxeBuilder || mod.default;
  }
  return AxeBuilder;
}

/** Audits page as it is; returns the violations as readable lines ([] when none). */
export async function auditA11y(page) {
  const Builder = axeBuilder();
  const res = await new Builder({ page }).analyze();
  return res.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ` +
    v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`).join(' | '));
}

async function auditSnapshot(context, url, html, viewport) {
  const p = await context.newPage();
  try {
    await p.setViewportSize(viewport);
    await p.route('**/*', (route) => {
      const req = route.request();
      if (req.url() === url) {
        return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8',
          body: html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '') });
      }
      if (req.resourceType() === 'script') return route.abort();
      return route.continue();
    });
    await p.goto(url, { waitUntil: 'load' });
    return await auditA11y(p);
  } finally {
    await p.close().catch(() => {});
  }
}

/** An auditor for one test: snap(page, name) takes the screen shown now and starts its
 * audit; violations() waits for every audit started and returns their findings, each
 * prefixed with the screen's name. */
export function screenAuditor(context) {
  const pending = [];
  return {
    async snap(page, name) {
      const html = await page.content();
      const url = page.url();
      const vp = page.viewportSize();
      pending.push(auditSnapshot(context, url, html, vp)
        .then((v) => v.map((x) => `${name} (${vp.width}x${vp.height}): ${x}`),
          (e) => [`${name}: the audit failed: ${e.message}`]));
    },
    async violations() {
      return (await Promise.all(pending)).flat();
    },
  };
}
