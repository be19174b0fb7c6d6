// SPDX-License-Identifier: BSD-2-Clause
// cardupd administration pages. No framework; every value from the device or the CMS
// reaches the page through textContent (never as markup), and the CSP forbids inline
// scripts and styles.
'use strict';

// gen: the session generation, bumped at every login, setup and logout. An answer to a
// request sent in an earlier generation (a dashboard refresh still on its way when the
// user logged out and in again) must not act on the session of now.
const S = { csrf: null, tab: null, timer: null, readers: [], gen: 0 };

function newSession(csrf) {
  S.gen++;
  S.csrf = csrf;
}
const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function row(tbody, cells) {
  const tr = el('tr');
  for (const c of cells) {
    const td = el('td');
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '' : String(c);
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
  return tr;
}

function when(unix) {
  if (!unix) return '';
  return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function flash(msg) {
  const f = $('flash');
  f.textContent = msg || '';
  f.hidden = !msg;
}

async function api(method, path, body, type) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (S.csrf && method !== 'GET') opts.headers['X-CSRF-Token'] = S.csrf;
  if (body !== undefined) {
    opts.headers['Content-Type'] = type || 'application/json';
    opts.body = type ? body : JSON.stringify(body);
  }
  const gen = S.gen;
  const r = await fetch(path, opts);
  let data = null;
  const ct = r.headers.get('Content-Type') || '';
  if (ct.startsWith('application/json')) data = await r.json(); else data = await r.text();
  // The answers to /login and /setup make the session: never stale. Any other answer
  // to a request sent before a login or logout since says nothing of this session.
  const makes = path.endsWith('/login') || path.endsWith('/setup');
  if (gen !== S.gen && !makes) return { status: 0, stale: true, data: null };
  // A 401 ends the session the page holds; without one (logged out already) there is
  // nothing to end, and a new generation would make a login on its way look stale.
  if (r.status === 401 && !makes && S.csrf !== null) {
    newSession(null);
    show('login');
  }
  return { status: r.status, data };
}

function show(tab) {
  S.tab = tab;
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== 'tab-' + tab;
  const inside = tab !== 'login' && tab !== 'setup';
  $('nav').hidden = !inside;
  for (const b of document.querySelectorAll('nav button[data-tab]')) b.classList.toggle('active', b.dataset.tab === tab);
  if (S.timer) { clearInterval(S.timer); S.timer = null; }
  if (tab === 'dashboard') { loadDashboard(); S.timer = setInterval(loadDashboard, 3000); }
  if (tab === 'settings') loadSettings();
  if (tab === 'anchors') loadAnchors();
  if (tab === 'actions') loadActions();
  if (tab === 'tokens') loadTokens();
  if (tab === 'audit') loadAudit();
}

// ---- dashboard -------------------------------------------------------------------

function anchorRows(tbody, anchors) {
  clear(tbody);
  for (const a of anchors || []) {
    const exp = el('span', when(a.not_after) + (a.expired ? ' (expired)' : ''), a.expired ? 'bad' : '');
    row(tbody, [a.subject, exp]);
  }
}

async function loadDashboard() {
  if (document.hidden) return;
  const r = await api('GET', '/api/v1/admin/status');
  if (r.status !== 200) return;
  const st = r.data;
  $('device').textContent = st.device;
  S.readers = st.readers;
  const rb = $('readers').tBodies[0];
  clear(rb);
  for (const x of st.readers) {
    const ups = (x.updates || []).map((u) => u.type + ': ' + u.description).join('\n');
    row(rb, [x.name, x.card, x.phase, x.code, x.message, ups]);
  }
  if (!st.readers.length) row(rb, ['no readers', '', '', '', '', '']);
  const cms = $('cms');
  clear(cms);
  const pairs = [['URL', st.cms.url],
    ['Reachable', st.cms.reachable === null ? 'no check yet' : st.cms.reachable ? 'yes' : 'no'],
    ['Last result', st.cms.last_result], ['Last latency', st.cms.last_latency_ms === null ? '' : st.cms.last_latency_ms + ' ms'],
    ['Last check', when(st.cms.last_when)], ['Admin certificate SHA-256', st.tls_fingerprint]];
  for (const [k, v] of pairs) { cms.appendChild(el('dt', k)); cms.appendChild(el('dd', v)); }
  const pre = $('prereqs');
  clear(pre);
  for (const p of st.prerequisites) {
    const li = el('li');
    li.appendChild(el('span', p.ok ? '✔ ' : '✘ ', p.ok ? 'ok' : 'bad'));
    li.appendChild(el('span', p.name + (p.detail ? ' — ' + p.detail : '')));
    li.dataset.id = p.id;
    pre.appendChild(li);
  }
  const cb = $('checks').tBodies[0];
  clear(cb);
  for (const c of st.checks) row(cb, [when(c.when), c.reader, c.trigger, c.result, c.http_status || '', c.latency_ms + ' ms']);
  anchorRows($('dash-anchors').tBodies[0], st.anchors);
}

// ---- settings --------------------------------------------------------------------

async function loadSettings() {
  const r = await api('GET', '/api/v1/admin/settings');
  if (r.status !== 200) return;
  $('settings-file').textContent = r.data.file;
  const box = $('settings-fields');
  clear(box);
  $('settings-error').textContent = '';
  for (const k of r.data.keys) {
    const f = el('div', null, 'field');
    const lab = el('label', k.name);
    if (k.restart) lab.appendChild(el('span', 'restart', 'restart'));
    const inp = el('input');
    inp.name = k.name;
    inp.value = r.data.values[k.name];
    inp.dataset.orig = inp.value;
    inp.disabled = !k.editable;
    if (!k.editable) inp.title = 'changed on the device only';
    lab.appendChild(inp);
    f.appendChild(lab);
    const err = el('span', '', 'error');
    err.dataset.for = k.name;
    f.appendChild(err);
    box.appendChild(f);
  }
}

async function saveSettings(ev) {
  ev.preventDefault();
  const values = {};
  for (const inp of $('settings-fields').querySelectorAll('input')) {
    if (!inp.disabled && inp.value !== inp.dataset.orig) values[inp.name] = inp.value;
  }
  for (const e of $('settings-fields').querySelectorAll('.error')) e.textContent = '';
  $('settings-error').textContent = '';
  const r = await api('POST', '/api/v1/admin/settings', { values });
  if (r.status === 200) {
    flash(r.data.changed.length ? 'Saved and applied: ' + r.data.changed.join(', ') +
      (r.data.restart_needed.length ? ' (restart needed for ' + r.data.restart_needed.join(', ') + ')' : '') : 'Nothing changed.');
    setTimeout(loadSettings, 300);
    return;
  }
  const errs = (r.data && r.data.errors) || {};
  for (const [name, msg] of Object.entries(errs)) {
    const span = $('settings-fields').querySelector('.error[data-for="' + CSS.escape(name) + '"]');
    if (span) span.textContent = msg; else $('settings-error').textContent += name + ': ' + msg + ' ';
  }
  if (r.data && r.data.error) $('settings-error').textContent += r.data.error;
}

// ---- anchors, actions, tokens, audit -------------------------------------------------

async function loadAnchors() {
  const r = await api('GET', '/api/v1/admin/anchors');
  if (r.status !== 200) return;
  $('anchors-path').textContent = r.data.path;
  $('anchors-error').textContent = r.data.error || '';
  anchorRows($('anchors-list').tBodies[0], r.data.anchors);
}

async function uploadAnchors(ev) {
  ev.preventDefault();
  const file = $('anchors-file').files[0];
  $('anchors-error').textContent = '';
  if (!file) { $('anchors-error').textContent = 'choose a PEM file first'; return; }
  const text = await file.text();
  const r = await api('POST', '/api/v1/admin/anchors', text, 'application/x-pem-file');
  if (r.status === 200) {
    flash('Trust anchors replaced: ' + r.data.anchors + ' certificate(s).');
    setTimeout(loadAnchors, 300);
  } else {
    $('anchors-error').textContent = (r.data && r.data.error) || ('HTTP ' + r.status);
  }
}

async function loadActions() {
  const r = await api('GET', '/api/v1/admin/status');
  if (r.status !== 200) return;
  const sel = $('check-reader');
  clear(sel);
  for (const x of r.data.readers) {
    const o = el('option', x.name + (x.card === 'present' ? ' (card)' : ''));
    o.value = x.name;
    sel.appendChild(o);
  }
}

async function doCheck(ev) {
  ev.preventDefault();
  const reader = $('check-reader').value;
  const r = await api('POST', '/api/v1/admin/check', { reader });
  if (r.status !== 202) { $('check-result').textContent = (r.data && r.data.error) || 'HTTP ' + r.status; return; }
  $('check-result').textContent = 'Checking…';
  const gen = S.gen;	// the poll belongs to this session: a logout ends it
  for (let i = 0; i < 40; i++) {
    await new Promise((res) => setTimeout(res, 500));
    if (S.gen !== gen) return;
    const s = await api('GET', '/api/v1/admin/status');
    const x = s.status === 200 && s.data.readers.find((y) => y.name === reader);
    if (x && x.phase === 'prompt') { $('check-result').textContent = 'Update found: ' + x.updates.map((u) => u.type).join(', '); return; }
    if (x && x.message && x.phase !== 'checking') { $('check-result').textContent = x.message + (x.code ? ' [' + x.code + ']' : ''); return; }
  }
}

async function doReconnect(ev) {
  ev.preventDefault();
  const r = await api('POST', '/api/v1/admin/reconnect', {});
  flash(r.status === 202 ? 'Reconnecting to pcscd.' : (r.data && r.data.error) || 'HTTP ' + r.status);
}

async function loadTokens() {
  const r = await api('GET', '/api/v1/admin/tokens');
  if (r.status !== 200) return;
  const tb = $('tokens-list').tBodies[0];
  clear(tb);
  for (const t of r.data.tokens) {
    const b = el('button', 'Delete');
    b.type = 'button';
    b.addEventListener('click', async () => {
      const d = await api('DELETE', '/api/v1/admin/tokens/' + encodeURIComponent(t.id));
      flash(d.status === 200 ? 'Token ' + t.id + ' deleted.' : (d.data && d.data.error) || 'HTTP ' + d.status);
      loadTokens();
    });
    row(tb, [t.id, t.name, when(t.created), b]);
  }
}

async function createToken(ev) {
  ev.preventDefault();
  $('token-error').textContent = '';
  const r = await api('POST', '/api/v1/admin/tokens', { name: $('token-name').value });
  if (r.status !== 201) { $('token-error').textContent = (r.data && r.data.error) || 'HTTP ' + r.status; return; }
  $('token-value').textContent = r.data.token;
  $('token-new').hidden = false;
  loadTokens();
}

async function loadAudit() {
  const r = await api('GET', '/api/v1/admin/audit');
  if (r.status === 200) $('audit').textContent = r.data;
}

// ---- setup, login, password ------------------------------------------------------------

async function doSetup(ev) {
  ev.preventDefault();
  $('setup-error').textContent = '';
  if ($('setup-password').value !== $('setup-password2').value) { $('setup-error').textContent = 'the two passwords differ'; return; }
  const r = await api('POST', '/api/v1/admin/setup', { code: $('setup-code').value, password: $('setup-password').value });
  if (r.status !== 200) { $('setup-error').textContent = (r.data && r.data.error) || 'HTTP ' + r.status; return; }
  newSession(r.data.csrf);
  flash('Password set. You are logged in.');
  show('dashboard');
}

async function doLogin(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  const r = await api('POST', '/api/v1/admin/login', { password: $('login-password').value });
  $('login-password').value = '';
  if (r.status !== 200) { $('login-error').textContent = (r.data && r.data.error) || 'HTTP ' + r.status; return; }
  newSession(r.data.csrf);
  flash('');
  show('dashboard');
}

async function doLogout() {
  await api('POST', '/api/v1/admin/logout', {});
  newSession(null);
  flash('Logged out.');
  show('login');
}

async function doPassword(ev) {
  ev.preventDefault();
  $('pw-error').textContent = '';
  if ($('pw-new').value !== $('pw-new2').value) { $('pw-error').textContent = 'the two passwords differ'; return; }
  const r = await api('POST', '/api/v1/admin/password', { current: $('pw-current').value, new: $('pw-new').value });
  for (const id of ['pw-current', 'pw-new', 'pw-new2']) $(id).value = '';
  if (r.status !== 200) { $('pw-error').textContent = (r.data && r.data.error) || 'HTTP ' + r.status; return; }
  newSession(r.data.csrf);	// the server gave this session a new cookie too
  flash('Password changed; other sessions were ended.');
}

async function start() {
  for (const b of document.querySelectorAll('nav button[data-tab]')) b.addEventListener('click', () => show(b.dataset.tab));
  $('logout').addEventListener('click', doLogout);
  $('setup-form').addEventListener('submit', doSetup);
  $('login-form').addEventListener('submit', doLogin);
  $('settings-form').addEventListener('submit', saveSettings);
  $('anchors-form').addEventListener('submit', uploadAnchors);
  $('check-form').addEventListener('submit', doCheck);
  $('reconnect-form').addEventListener('submit', doReconnect);
  $('token-form').addEventListener('submit', createToken);
  $('password-form').addEventListener('submit', doPassword);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && S.tab === 'dashboard') loadDashboard(); });
  const r = await api('GET', '/api/v1/admin/info');
  if (r.status !== 200) { flash('The device does not answer.'); return; }
  $('setup-fpr').textContent = r.data.fingerprint;
  $('login-fpr').textContent = r.data.fingerprint;
  if (r.data.setup_needed) show('setup');
  else if (r.data.logged_in) { S.csrf = r.data.csrf; show('dashboard'); } else show('login');
}

start();
