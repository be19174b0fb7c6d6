// SPDX-License-Identifier: BSD-2-Clause
// Figure (not pass/fail): card insertion → the prompt visible in the kiosk browser, next to
// pcscd's own detection time in the same runs.
//
//   CARDUPD_BIN=build/cardupd node tests/bench/bench_kiosk_latency.mjs   (BENCH_RUNS=5)
//
// Rig: tests/rig/rigd.py (private pcscd + vpcd, scripted PIV card, TLS test CMS, cardupd)
// and Debian's Chromium through playwright-core (tests/browser/node_modules).
// Clocks: all wall-clock (CLOCK_REALTIME) on this machine: the scripted card's timestamps
// (Python time.time()) and the page's (performance.timeOrigin + performance.now()).
//
//   insert    the card's TCP connection to vpcd is made ("card inserted")
//   detect    vpcd's first control message to the card (pcscd polled the reader, found
//             the card and powers it up / reads its ATR): pcscd's own detection time
//   cms       the test CMS has read cardupd's check request (card read, TLS, request)
//   prompt    the page set data-phase=prompt (SSE event applied) ...
//   painted   ... the first frame after it was produced: a task posted from the first
//             animation-frame callback runs once that frame's paint is done
//   visible   ... and two animation frames later (an upper bound: one frame late)
import { Rig } from '../browser/lib/rig.mjs';
import { launch } from '../browser/lib/browser.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 5);

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: mid, min: s[0], max: s[s.length - 1] };
}
const f = (x) => x.toFixed(1).padStart(7);

async function main() {
  const rig = await Rig.start();
  const browser = await launch({ spki: rig.info.spki, under: rig.info.dir });
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      window.__marks = [];
      const now = () => performance.timeOrigin + performance.now();
      new MutationObserver(() => {
        const phase = document.body && document.body.dataset.phase;
        const last = window.__marks[window.__marks.length - 1];
        if (!phase || (last && last.phase === phase)) return;
        const mark = { phase, t: now(), frame: null, painted: null };
        window.__marks.push(mark);
        const ch = new MessageChannel();
        ch.port1.onmessage = () => { mark.frame = now(); };
        requestAnimationFrame(() => {
          ch.port2.postMessage(0);
          requestAnimationFrame(() => { mark.painted = now(); });
        });
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-phase'] });
    });
    await page.goto(rig.info.kiosk_url);
    await page.waitForFunction(() => document.body.dataset.phase === 'idle' && document.body.dataset.conn === 'live');
    await rig.call('cms', { answer: { pending: [['certificate_renewal', 'Your certificate expires soon']] } });

    const rows = [];
    for (let i = 0; i <= RUNS; i++) {          // run 0 warms up (TLS full handshake, caches)
      await rig.call('cms_reset');
      await rig.call('cms', { answer: { pending: [['certificate_renewal', 'Your certificate expires soon']] } });
      await page.evaluate(() => { window.__marks = []; });
      const { t_connect_ms: tIns } = await rig.call('insert');
      await page.waitForFunction(() => window.__marks.some((m) => m.phase === 'prompt' && m.painted), null, { timeout: 10000 });
      const mark = await page.evaluate(() => window.__marks.find((m) => m.phase === 'prompt'));
      const times = await rig.call('card_times');
      const reqs = await rig.call('cms_requests');
      const first = times.controls.find(([t]) => t >= tIns - 1);
      const row = {
        detect: first[0] - tIns,
        cms: reqs.requests.length ? reqs.requests[0].t_ms - tIns : NaN,
        prompt: mark.t - tIns,
        frame: mark.frame - tIns,
        visible: mark.painted - tIns,
      };
      if (i > 0) rows.push(row);
      await rig.call('remove');
      await page.waitForFunction(() => document.body.dataset.phase === 'idle', null, { timeout: 10000 });
    }
    console.log(`kiosk latency from card insertion, ms, ${RUNS} runs (after 1 warm-up)`);
    console.log('                                    median     min     max');
    const line = (label, xs) => {
      const s = stats(xs);
      console.log(`${label.padEnd(34)}${f(s.median)} ${f(s.min)} ${f(s.max)}`);
    };
    line('pcscd detects the card (vpcd poll)', rows.map((r) => r.detect));
    line('CMS has the check request', rows.map((r) => r.cms));
    line('page shows phase=prompt', rows.map((r) => r.prompt));
    line('prompt painted (next frame done)', rows.map((r) => r.frame));
    line('  state on the page -> painted', rows.map((r) => r.frame - r.prompt));
    line('prompt visible (2 frames later)', rows.map((r) => r.visible));
    line('  of which after pcscd detection', rows.map((r) => r.visible - r.detect));
    line('  of which after the CMS request', rows.map((r) => r.visible - r.cms));
    console.log(`runs: ${rows.map((r) => `${r.visible.toFixed(0)}`).join(' ')} ms visible`);
  } finally {
    await browser.close();
    await rig.close();
  }
}

main().catch((e) => { console.error(`bench_kiosk_latency: ${e.stack || e}`); process.exit(1); });
