// SPDX-License-Identifier: BSD-2-Clause
// The test rig from Node: starts tests/rig/rigd.py (private pcscd + vpcd, TLS test CMS,
// cardupd) as a child process and talks to it in JSON lines over its stdin/stdout (the
// protocol is in rigd.py's docstring). Closing stdin makes rigd clean up and exit, so the
// rig never outlives this process, even when it is killed.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..', '..');
export const RIGD = path.join(REPO, 'tests', 'rig', 'rigd.py');

export class Rig {
  static async start({ bin = process.env.CARDUPD_BIN || path.join(REPO, 'build', 'cardupd'),
                       args = [], quiet = true, timeoutMs = 60000 } = {}) {
    const rig = new Rig();
    await rig._spawn(bin, args, quiet, timeoutMs);
    return rig;
  }

  constructor() {
    this.nextId = 1;
    this.waiting = new Map();
    this.stderr = [];          // the last lines rigd (and the rig modules) wrote
    this.info = null;
  }

  _spawn(bin, args, quiet, timeoutMs) {
    this.proc = spawn('/usr/bin/python3', [RIGD, '--cardupd', bin, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdin.on('error', () => {});
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => {
      for (const line of d.split('\n')) if (line) this.stderr.push(line);
      if (this.stderr.length > 200) this.stderr.splice(0, this.stderr.length - 200);
      if (!quiet) process.stderr.write(d);
    });
    let buf = '';
    this.proc.stdout.setEncoding('utf8');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rigd not ready after ${timeoutMs} ms:\n${this.stderrTail()}`)), timeoutMs);
      this.proc.on('exit', (code, sig) => {
        clearTimeout(timer);
        this.exited = true;
        const err = new Error(`rigd exited (${code ?? sig}):\n${this.stderrTail()}`);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
        reject(err);
      });
      this.proc.stdout.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          let msg;
          try { msg = JSON.parse(line); } catch { continue; }
          if (msg.event === 'ready') { clearTimeout(timer); this.info = msg; resolve(this); }
          else if (msg.event === 'failed') { clearTimeout(timer); reject(new Error(`rigd: ${msg.error}\n${this.stderrTail()}`)); }
          else if (this.waiting.has(msg.id)) {
            const w = this.waiting.get(msg.id);
            this.waiting.delete(msg.id);
            if (msg.ok) w.resolve(msg.result); else w.reject(new Error(`rigd ${w.cmd}: ${msg.error}`));
          }
        }
      });
    });
  }

  stderrTail(n = 40) { return this.stderr.slice(-n).join('\n'); }

  /** One command; resolves with its result, rejects with its error. */
  call(cmd, args = {}) {
    if (this.exited) return Promise.reject(new Error('rigd has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, cmd });
      this.proc.stdin.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    });
  }

  /** Polls cardupd's state until pred(state) is truthy. */
  // The timeout bounds a failure only: generous for a loaded 2-core machine.
  async waitState(pred, { timeoutMs = 20000, what = 'daemon state' } = {}) {
    const end = Date.now() + timeoutMs;
    let last = null;
    for (;;) {
      try { last = await this.call('state'); } catch { last = null; }
      if (last && pred(last)) return last;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  reader(state, name) { return state.readers.find((r) => r.name === name); }

  async logSince(offset = 0) { return this.call('log', { offset }); }

  async close() {
    if (this.exited) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    try { await Promise.race([this.call('shutdown'), new Promise((r) => setTimeout(r, 2000))]); } catch { /* gone */ }
    this.proc.stdin.end();
    const t = setTimeout(() => this.proc.kill('SIGTERM'), 15000);
    await gone;
    clearTimeout(t);
  }
}
