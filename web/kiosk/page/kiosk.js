// SPDX-License-Identifier: BSD-2-Clause
// cardupd kiosk page. Reads the daemon's state (SSE, with polling as a fallback) and shows
// one screen for the "most interesting" reader. Untrusted strings are set as text only.
//
// What the page shows is mirrored on <body> for tests and kiosk tooling:
//   data-phase   connecting | idle | reading | checking | prompt | update_found (a manual
//                check found an update: OK / Cancel) | up_to_date | check_failed | portal
//                (navigating there) | reinsert (back from the portal: re-insert the card)
//   data-result  on result screens: found | no_update | updated | failed
//   data-conn    live (event stream) | polling | lost (the daemon is not answering)
'use strict';

(() => {
  // ---------------------------------------------------------------- strings
  const STRINGS = {
    en: {
      title: 'Card update',
      insert: 'Insert your card',
      cardIn: 'Your card is in the reader',
      cardsIn: 'Your cards are in the readers',
      check: 'Check for card update',
      chooseReader: 'Check for card update: choose the reader with your card',
      busy: 'Checking your card…',
      busyHint: 'Please leave your card in the reader.',
      promptTitle: 'Updates are available for your card',
      proceed: 'Proceed',
      close: 'Close',
      ok: 'OK',
      cancel: 'Cancel',
      countdown: (t) => `Closes in ${t}`,
      more: (n) => (n === 1 ? 'and 1 more update' : `and ${n} more updates`),
      upToDate: 'No update is available for your card',
      upToDateMsg: 'There is nothing to do. You can remove your card.',
      failed: 'The check failed',
      failedMsg: 'Please try again later.',
      portal: 'Continue in the card portal…',
      reinsert: 'Remove and re-insert your card to apply your new credentials',
      setupCode: 'Administrator setup code:',
      updating: 'Updating your card — do not remove it',
      updatingHint: 'This can take a minute.',
      cancelUpdate: 'Cancel the update',
      connecting: 'Connecting to the card service…',
      connectingHint: 'This takes a few seconds.',
      found: 'An update is available for your card',
      foundMsg: 'Press OK to see what it is and update your card now.',
      updated: 'Your card is up to date',
      updatedMsg: 'Your new credentials are on your card. You can remove it now.',
      errNetwork: 'The card service is not responding. Please try again.',
      errNoCard: 'There is no card in this reader.',
      errExpired: 'This update offer has expired.',
      errPortal: 'The card portal address is not allowed.',
      errGeneric: 'Something went wrong. Please try again.',
      types: {
        certificate_renewal: 'Renew your certificates',
        credential_add: 'Add new credentials',
        credential_remove: 'Remove old credentials',
        card_lock: 'Lock your card',
        card_unlock: 'Unlock your card',
        card_issuance: 'Issue your new card',
        temporary_replacement: 'Temporary replacement card',
        permanent_replacement: 'Permanent replacement card',
        other: 'Card update',
      },
      // check_failed codes (state readers[].code) in plain words; unknown codes show the
      // daemon's message.
      codes: {
        dns: 'The card service could not be found on the network.',
        connect: 'The card service could not be reached.',
        timeout: 'The card service did not answer in time.',
        tls_untrusted: 'The card service could not be verified, so it was not used.',
        tls_hostname: 'The card service could not be verified, so it was not used.',
        tls_expired: 'The card service’s security certificate has expired.',
        tls_clock: 'This kiosk’s clock is wrong, so the card service cannot be verified.',
        tls_version: 'The card service uses an outdated security protocol, so it was not used.',
        tls_no_shared_cipher: 'The card service offers no encryption this kiosk accepts, so it was not used.',
        tls_no_forward_secrecy: 'The card service’s encryption is outdated, so it was not used.',
        tls_weak_cipher: 'The card service’s encryption is outdated, so it was not used.',
        tls_weak_signature: 'The card service’s security certificate uses an outdated signature, so it was not used.',
        tls: 'A secure connection to the card service could not be made.',
        http_status: 'The card service is not available right now.',
        bad_response: 'The card service sent an answer that could not be understood.',
        portal_not_allowed: 'The card service sent an address this kiosk may not open.',
        cms_down: 'The card service is not reachable right now. Please try again in a few minutes.',
        card_unavailable: 'The card was removed or stopped answering during the update. Insert it again to retry.',
        different_card: 'A different card is in the reader. Insert the card you started with.',
        session_failed: 'The card update did not finish. Insert your card again to retry.',
        card_unreadable: 'Your card could not be read. Remove it and insert it again.',
        busy: 'This kiosk is busy. Please try again in a moment.',
      },
    },
    fr: {
      title: 'Mise à jour de la carte',
      insert: 'Insérez votre carte',
      cardIn: 'Votre carte est dans le lecteur',
      cardsIn: 'Vos cartes sont dans les lecteurs',
      check: 'Vérifier les mises à jour de la carte',
      chooseReader: 'Vérifier les mises à jour : choisissez le lecteur de votre carte',
      busy: 'Vérification de votre carte…',
      busyHint: 'Veuillez laisser votre carte dans le lecteur.',
      promptTitle: 'Des mises à jour sont disponibles pour votre carte',
      proceed: 'Continuer',
      close: 'Fermer',
      ok: 'OK',
      cancel: 'Annuler',
      countdown: (t) => `Se ferme dans ${t}`,
      more: (n) => (n === 1 ? 'et 1 autre mise à jour' : `et ${n} autres mises à jour`),
      upToDate: 'Aucune mise à jour n’est disponible pour votre carte',
      upToDateMsg: 'Il n’y a rien à faire. Vous pouvez retirer votre carte.',
      failed: 'La vérification a échoué',
      failedMsg: 'Veuillez réessayer plus tard.',
      portal: 'Continuez dans le portail de la carte…',
      reinsert: 'Retirez puis réinsérez votre carte pour appliquer vos nouveaux identifiants',
      setupCode: 'Code de configuration administrateur :',
      updating: 'Mise à jour de votre carte — ne la retirez pas',
      updatingHint: 'Cela peut prendre une minute.',
      cancelUpdate: 'Annuler la mise à jour',
      connecting: 'Connexion au service de carte…',
      connectingHint: 'Cela prend quelques secondes.',
      found: 'Une mise à jour est disponible pour votre carte',
      foundMsg: 'Appuyez sur OK pour la voir et mettre à jour votre carte maintenant.',
      updated: 'Votre carte est à jour',
      updatedMsg: 'Vos nouveaux identifiants sont sur votre carte. Vous pouvez la retirer.',
      errNetwork: 'Le service de carte ne répond pas. Veuillez réessayer.',
      errNoCard: 'Il n’y a pas de carte dans ce lecteur.',
      errExpired: 'Cette proposition de mise à jour a expiré.',
      errPortal: 'L’adresse du portail de la carte n’est pas autorisée.',
      errGeneric: 'Une erreur s’est produite. Veuillez réessayer.',
      types: {
        certificate_renewal: 'Renouveler vos certificats',
        credential_add: 'Ajouter de nouveaux identifiants',
        credential_remove: 'Supprimer les anciens identifiants',
        card_lock: 'Verrouiller votre carte',
        card_unlock: 'Déverrouiller votre carte',
        card_issuance: 'Émettre votre nouvelle carte',
        temporary_replacement: 'Carte de remplacement temporaire',
        permanent_replacement: 'Carte de remplacement définitive',
        other: 'Mise à jour de la carte',
      },
      codes: {
        dns: 'Le service de carte est introuvable sur le réseau.',
        connect: 'Le service de carte est injoignable.',
        timeout: 'Le service de carte n’a pas répondu à temps.',
        tls_untrusted: 'Le service de carte n’a pas pu être vérifié ; il n’a pas été utilisé.',
        tls_hostname: 'Le service de carte n’a pas pu être vérifié ; il n’a pas été utilisé.',
        tls_expired: 'Le certificat de sécurité du service de carte a expiré.',
        tls_clock: 'L’horloge de cette borne est fausse : le service de carte ne peut pas être vérifié.',
        tls_version: 'Le service de carte utilise un protocole de sécurité obsolète ; il n’a pas été utilisé.',
        tls_no_shared_cipher: 'Le service de carte ne propose aucun chiffrement accepté par cette borne ; il n’a pas été utilisé.',
        tls_no_forward_secrecy: 'Le chiffrement du service de carte est obsolète ; il n’a pas été utilisé.',
        tls_weak_cipher: 'Le chiffrement du service de carte est obsolète ; il n’a pas été utilisé.',
        tls_weak_signature: 'Le certificat de sécurité du service de carte utilise une signature obsolète ; il n’a pas été utilisé.',
        tls: 'Aucune connexion sécurisée au service de carte n’a pu être établie.',
        http_status: 'Le service de carte n’est pas disponible pour le moment.',
        bad_response: 'Le service de carte a envoyé une réponse incompréhensible.',
        portal_not_allowed: 'Le service de carte a envoyé une adresse que cette borne ne peut pas ouvrir.',
        cms_down: 'Le service de carte est injoignable pour le moment. Réessayez dans quelques minutes.',
        card_unavailable: 'La carte a été retirée ou ne répond plus pendant la mise à jour. Réinsérez-la pour réessayer.',
        different_card: 'Une autre carte est dans le lecteur. Insérez la carte de départ.',
        session_failed: 'La mise à jour de la carte n\'a pas abouti. Réinsérez votre carte pour réessayer.',
        card_unreadable: 'Votre carte n’a pas pu être lue. Retirez-la puis insérez-la à nouveau.',
        busy: 'Cette borne est occupée. Veuillez réessayer dans un instant.',
      },
    },
  };

  const POLL_MS = 2000;
  const FETCH_TIMEOUT_MS = 8000;
  const ERROR_SHOW_MS = 6000;
  const SSE_RETRY_MS = 3000;
  const MAX_TEXT = 400;       // untrusted strings are cut to this many characters

  let lang = 'en';
  const t = (key, ...args) => {
    const v = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
    return typeof v === 'function' ? v(...args) : v;
  };
  const typeLabel = (type) => {
    const types = STRINGS[lang].types;
    return Object.prototype.hasOwnProperty.call(types, type) ? types[type] : types.other;
  };
  const codeText = (code) => {
    const codes = STRINGS[lang].codes;
    return typeof code === 'string' && Object.prototype.hasOwnProperty.call(codes, code)
      ? codes[code] : null;
  };
  const clip = (s) => {
    if (typeof s !== 'string') return '';
    s = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ').trim();
    return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT - 1) + '…' : s;
  };

  // ---------------------------------------------------------------- elements
  const $ = (id) => document.getElementById(id);
  const el = {
    screens: {
      idle: $('screen-idle'), busy: $('screen-busy'), prompt: $('screen-prompt'),
      result: $('screen-result'), portal: $('screen-portal'), reinsert: $('screen-reinsert'),
      updating: $('screen-updating'), conn: $('screen-conn'),
    },
    idleTitle: $('idle-title'), setup: $('setup'), setupCode: $('setup-code'), setupFp: $('setup-fp'), manual: $('manual'), btnCheck: $('btn-check'), readerBlock: $('reader-block'),
    readerList: $('reader-list'), updates: $('prompt-updates'),
    btnProceed: $('btn-proceed'), btnClose: $('btn-close'), countdown: $('countdown'),
    resultTitle: $('result-title'), resultMessage: $('result-message'), resultIcon: $('result-icon'),
    btnResultOk: $('btn-result-ok'), btnResultCancel: $('btn-result-cancel'),
    progress: $('session-progress'), btnSessionCancel: $('btn-session-cancel'),
    error: $('error'), live: $('live'),
  };

  // ---------------------------------------------------------------- state
  let state = null;            // the last state applied
  let appliedAt = -Infinity;   // performance.now() when it was applied
  let lastSeq = -1;
  const deadlines = new Map(); // prompt id -> performance.now() deadline
  const dismissedPrompts = new Set();   // prompt ids closed, expired here
  const dismissedResults = new Map();   // reader name -> phase hidden by OK
  const acceptedManual = new Set();     // manual-check prompt ids past "update found" (OK)
  const inFlight = new Set();           // 'proceed' | 'close' | 'check' | 'ok'
  let navigating = false;
  let connLost = false;        // no stream and the last poll failed: the daemon is away
  let shownKey = null;
  let shown = null;            // {screen, reader, prompt}
  let ticker = 0;
  let errorTimer = 0;

  function validState(s) {
    return s && typeof s === 'object' && Array.isArray(s.readers);
  }

  function applyState(s, fetchStartedAt) {
    if (!validState(s)) return;
    const seq = Number.isFinite(s.seq) ? s.seq : 0;
    // A poll answer older than what the stream already gave is stale; a poll started after
    // the last update reflects the daemon now (its seq may have restarted from 0).
    if (fetchStartedAt !== undefined && seq < lastSeq && fetchStartedAt < appliedAt) return;
    const now = performance.now();
    lastSeq = seq;
    appliedAt = now;
    state = s;

    const live = new Set();
    for (const r of s.readers) {
      if (!r || typeof r !== 'object') continue;
      if (dismissedResults.has(r.name) && dismissedResults.get(r.name) !== r.phase) {
        dismissedResults.delete(r.name);
      }
      const p = r.phase === 'prompt' ? r.prompt : null;
      if (p && typeof p === 'object' && typeof p.id === 'string') {
        live.add(p.id);
        const secs = Number.isFinite(p.expires_in_s) ? Math.max(0, p.expires_in_s) : 0;
        const d = now + secs * 1000;
        // count down from first sight; a later copy of the same prompt may only shorten it
        if (!deadlines.has(p.id) || d < deadlines.get(p.id)) deadlines.set(p.id, d);
      }
    }
    for (const name of [...dismissedResults.keys()]) {
      if (!s.readers.some((r) => r && r.name === name)) dismissedResults.delete(name);
    }
    for (const id of [...deadlines.keys()]) if (!live.has(id)) deadlines.delete(id);
    for (const id of [...dismissedPrompts]) if (!live.has(id)) dismissedPrompts.delete(id);
    for (const id of [...acceptedManual]) if (!live.has(id)) acceptedManual.delete(id);

    connLost = false;
    render();
  }

  // rank of a reader on screen; 0 means "nothing to show for it"
  function rank(r) {
    switch (r.phase) {
      case 'prompt': {
        const p = r.prompt;
        if (!p || typeof p.id !== 'string' || dismissedPrompts.has(p.id)) return 0;
        return 6;
      }
      case 'portal': return r.session ? 7 : 5;    // an update on the card outranks all
      case 'reinsert': return 4;
      case 'checking': case 'reading': return 3;
      case 'up_to_date': case 'check_failed':
        if (r.message === null || r.message === undefined) return 0;
        return dismissedResults.get(r.name) === r.phase ? 0 : 2;
      default: return 0;
    }
  }

  function pick() {
    let best = null, bestRank = 0;
    for (const r of state.readers) {
      if (!r || typeof r !== 'object') continue;
      const k = rank(r);
      if (k > bestRank) { best = r; bestRank = k; }
    }
    return best;
  }

  // ---------------------------------------------------------------- render
  function applyLang() {
    const want = state && state.ui && state.ui.lang === 'fr' ? 'fr' : 'en';
    if (want === lang && document.documentElement.lang === want) return false;
    lang = want;
    document.documentElement.lang = lang;
    document.title = t('title');
    for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
    return true;
  }

  function showScreen(name) {
    for (const [k, node] of Object.entries(el.screens)) node.hidden = k !== name;
  }

  // After a re-insert that follows an update the daemon says so with the code "updated"
  // (the page decides on codes, never on the daemon's English wording).
  const isUpdated = (r) => r.code === 'updated';

  function render() {
    if (!state && !connLost) return;
    const langChanged = state ? applyLang() : false;
    const r = navigating || connLost ? null : pick();
    let screen, phase, key, announce;

    if (connLost && !navigating) {
      screen = 'conn'; phase = 'connecting'; key = 'conn';
      announce = t('connecting');
    } else if (navigating) {
      screen = 'portal'; phase = 'portal'; key = 'navigating';
      announce = t('portal');
    } else if (!r) {
      screen = 'idle'; phase = 'idle';
      const cards = renderIdle();
      key = `idle\n${cards}`;
      announce = el.idleTitle.textContent;
    } else if (r.phase === 'prompt' && r.prompt.manual === true && !acceptedManual.has(r.prompt.id)) {
      // a manual check found something: say so first (OK / Cancel); OK shows the prompt
      screen = 'result'; phase = 'update_found'; key = `found\n${r.name}\n${r.prompt.id}`;
      renderResult(r, 'found');
      announce = el.resultTitle.textContent + '. ' + el.resultMessage.textContent;
    } else if (r.phase === 'prompt') {
      screen = 'prompt'; phase = 'prompt'; key = `prompt\n${r.name}\n${r.prompt.id}`;
      if (key !== shownKey || langChanged) renderPrompt(r.prompt);
      announce = t('promptTitle') + '. ' + el.updates.dataset.summary;
    } else if (r.phase === 'portal' && r.session && typeof r.session === 'object') {
      // cardupd runs the CMS's update on the card (SERAM session): keep the card in
      const progress = typeof r.session.progress === 'string' ? clip(r.session.progress) : '';
      screen = 'updating'; phase = 'updating'; key = `updating\n${r.name}\n${progress}`;
      el.progress.textContent = progress;              // text only: from the remote agent
      el.progress.hidden = !progress;
      announce = t('updating') + (progress ? '. ' + progress : '');
    } else if (r.phase === 'portal' || r.phase === 'reinsert') {
      // This page is on screen again while the daemon still has the portal session open:
      // the user came back from the portal, and the new credentials need a re-insert.
      screen = 'reinsert'; phase = 'reinsert'; key = `reinsert\n${r.name}`;
      announce = t('reinsert');
    } else if (r.phase === 'checking' || r.phase === 'reading') {
      screen = 'busy'; phase = r.phase; key = `busy\n${r.name}`;
      announce = t('busy');
    } else {
      const kind = r.phase === 'check_failed' ? 'failed' : isUpdated(r) ? 'updated' : 'no_update';
      screen = 'result'; phase = r.phase;
      key = `result\n${r.name}\n${r.phase}\n${r.message}\n${r.code}`;
      renderResult(r, kind);
      announce = el.resultTitle.textContent + '. ' + el.resultMessage.textContent;
    }

    const prev = shown;
    shown = { screen, reader: r ? r.name : null, prompt: r && r.phase === 'prompt' ? r.prompt : null,
              kind: screen === 'result' ? el.screens.result.dataset.kind : null };
    showScreen(screen);
    updateButtons();
    document.body.dataset.phase = phase;
    document.body.dataset.seq = String(lastSeq);
    document.body.dataset.conn = connLost ? 'lost' : sseUp ? 'live' : 'polling';
    if (screen === 'result') document.body.dataset.result = shown.kind;
    else delete document.body.dataset.result;

    if (key !== shownKey || langChanged) {
      const changed = key !== shownKey;
      shownKey = key;
      el.live.textContent = announce;
      if (changed) {
        if (!prev || prev.screen !== screen) hideError();
        if (screen === 'prompt') el.btnProceed.focus();
        else if (screen === 'result') el.btnResultOk.focus();
        else if (document.activeElement && document.activeElement !== document.body &&
                 document.activeElement.offsetParent === null) document.activeElement.blur();
      }
    }
    if (screen === 'prompt') fitPrompt();
    setTicker(!!shown.prompt);
    if (shown.prompt) tick();
  }

  // Returns how many cards are in. With a card in and nothing to show (the check found
  // nothing: no alert), the title says so rather than asking for a card.
  function renderIdle() {
    const allowed = !!(state.ui && state.ui.manual_check);
    // No administrator password yet: the one-time setup code (and the admin listener's
    // certificate fingerprint) for the first administrator, who stands here.
    const code = state.ui && typeof state.ui.setup_code === 'string' ? clip(state.ui.setup_code) : '';
    el.setup.hidden = !code;
    el.setupCode.textContent = code;
    el.setupFp.textContent = code && typeof state.ui.admin_fingerprint === 'string'
      ? 'SHA-256 ' + clip(state.ui.admin_fingerprint) : '';
    const present = state.readers.filter((r) => r && r.card === 'present' && typeof r.name === 'string');
    const title = present.length === 0 ? t('insert') : present.length === 1 ? t('cardIn') : t('cardsIn');
    if (el.idleTitle.textContent !== title) el.idleTitle.textContent = title;
    const withCard = allowed ? present : [];
    el.manual.hidden = withCard.length === 0;
    el.btnCheck.hidden = withCard.length !== 1;
    el.readerBlock.hidden = withCard.length < 2;
    el.btnCheck.dataset.reader = withCard.length === 1 ? withCard[0].name : '';

    const names = withCard.length >= 2 ? withCard.map((r) => r.name) : [];
    const have = [...el.readerList.querySelectorAll('button')].map((b) => b.dataset.reader);
    if (names.join('\n') !== have.join('\n')) {
      el.readerList.replaceChildren(...names.map((name) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'btn btn-secondary reader-btn';
        b.dataset.reader = name;
        b.textContent = clip(name) || '—';
        b.addEventListener('click', () => check(name));
        li.append(b);
        return li;
      }));
    }
    return present.length;
  }

  function renderPrompt(p) {
    const updates = Array.isArray(p.updates) ? p.updates : [];
    const items = updates.map((u) => {
      const li = document.createElement('li');
      li.className = 'update';
      const title = document.createElement('span');
      title.className = 'update-title';
      title.textContent = typeLabel(u && u.type);
      const desc = document.createElement('span');
      desc.className = 'update-desc';
      desc.textContent = clip(u && u.description);      // text only: untrusted
      li.append(title, desc);
      return li;
    });
    el.updates.replaceChildren(...items);
    el.updates.dataset.summary = updates.map((u) => typeLabel(u && u.type)).join(', ');
    el.btnProceed.textContent = t('proceed');
    el.btnClose.textContent = t('close');
  }

  // The list never scrolls and never shows half an item: when it does not fit, the
  // descriptions get one line each, then only the titles are shown, then the last items
  // make way for an "and N more updates" line (the portal shows them all).
  function fitPrompt() {
    if (el.screens.prompt.hidden) return;
    const list = el.updates;
    const items = [...list.querySelectorAll('li.update')];
    const over = () => list.scrollHeight > list.clientHeight + 1;
    list.classList.remove('compact', 'titles');
    for (const li of items) li.hidden = false;
    for (const li of list.querySelectorAll('li.update-more')) li.remove();
    if (!over()) return;
    list.classList.add('compact');
    if (!over()) return;
    list.classList.add('titles');
    if (!over()) return;
    const more = document.createElement('li');
    more.className = 'update-more';
    list.append(more);
    for (let n = items.length - 1; n >= 1; n--) {
      items[n].hidden = true;
      more.textContent = t('more', items.length - n);
      if (!over()) break;
    }
  }
  window.addEventListener('resize', fitPrompt);

  // kind: found (a manual check found an update), no_update, updated, failed
  function renderResult(r, kind) {
    let title, msg;
    if (kind === 'found') {
      title = t('found'); msg = t('foundMsg');
    } else if (kind === 'updated') {
      title = t('updated'); msg = t('updatedMsg');
    } else if (kind === 'no_update') {
      title = t('upToDate'); msg = t('upToDateMsg');
    } else {
      // the reason in plain words: ours for the codes we know, else the daemon's (English)
      title = t('failed');
      msg = codeText(r.code) || (lang === 'en' ? clip(r.message) : '') || t('failedMsg');
    }
    el.screens.result.dataset.kind = kind;
    el.resultIcon.className = `result-icon result-icon-${kind}`;
    el.resultTitle.textContent = title;
    el.resultMessage.textContent = msg;
    el.btnResultCancel.hidden = kind !== 'found';
  }

  function updateButtons() {
    const promptBusy = navigating || inFlight.has('proceed') || inFlight.has('close');
    el.btnProceed.disabled = promptBusy;
    el.btnClose.disabled = promptBusy;
    el.btnResultOk.disabled = inFlight.has('ok') || inFlight.has('close');
    el.btnResultCancel.disabled = inFlight.has('close');
    el.btnSessionCancel.disabled = inFlight.has('cancel');
    const checkBusy = inFlight.has('check');
    el.btnCheck.disabled = checkBusy;
    for (const b of el.readerList.querySelectorAll('button')) b.disabled = checkBusy;
  }

  // ---------------------------------------------------------------- countdown
  function setTicker(on) {
    if (on && !ticker) ticker = setInterval(tick, 250);
    else if (!on && ticker) { clearInterval(ticker); ticker = 0; }
  }

  function tick() {
    if (!shown || !shown.prompt) return;
    const id = shown.prompt.id;
    const left = (deadlines.get(id) ?? 0) - performance.now();
    if (left <= 0 && !inFlight.has('proceed') && !navigating) {
      el.countdown.textContent = t('countdown', '0:00');
      dismissedPrompts.add(id);          // expired: the daemon drops it too
      render();
      return;
    }
    const secs = Math.max(0, Math.ceil(left / 1000));
    const text = t('countdown', `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`);
    if (el.countdown.textContent !== text) el.countdown.textContent = text;
  }

  // ---------------------------------------------------------------- errors
  function showError(msg) {
    el.error.textContent = msg;
    el.error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(hideError, ERROR_SHOW_MS);
  }
  function hideError() {
    clearTimeout(errorTimer);
    el.error.hidden = true;
    el.error.textContent = '';
  }

  // ---------------------------------------------------------------- POSTs
  async function post(path, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        cache: 'no-store',
        signal: ctl.signal,
      });
      let data = null;
      try { data = await res.json(); } catch (_) { data = null; }
      return { ok: res.ok, status: res.status, data };
    } catch (_) {
      return { ok: false, status: 0, data: null };      // network error, timeout
    } finally {
      clearTimeout(timer);
    }
  }

  // Runs one POST action: its button(s) stay disabled while it is in flight. fn returns an
  // error text to show, or nothing; the error is shown after the screen has been redrawn.
  async function run(action, fn) {
    if (inFlight.has(action)) return;
    inFlight.add(action);
    updateButtons();
    let err = null;
    try { err = await fn(); } catch (_) { err = t('errGeneric'); }
    inFlight.delete(action);
    render();
    if (err) showError(err);
  }

  function portalAllowed(raw) {
    let u;
    try { u = new URL(raw, location.href); } catch (_) { return null; }
    if (u.protocol === 'https:') return u.href;
    // plain http only to this machine (test rigs); the daemon itself only allows https
    if (u.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(u.hostname)) return u.href;
    return null;
  }

  function proceed() {
    if (!shown || shown.screen !== 'prompt' || !shown.prompt) return;
    const reader = shown.reader, id = shown.prompt.id;
    run('proceed', async () => {
      const res = await post('/api/v1/prompt/proceed', { reader, prompt: id });
      if (res.ok) {
        const url = res.data && typeof res.data.portal_url === 'string' ? portalAllowed(res.data.portal_url) : null;
        if (!url) return t('errPortal');
        navigating = true;
        window.location.assign(url);
        return null;
      }
      if (res.status === 404 || res.status === 409 || res.status === 410) {
        dismissedPrompts.add(id);
        return t('errExpired');
      }
      return res.status === 0 ? t('errNetwork') : t('errGeneric');
    });
  }

  // Close on the prompt, Cancel on "update found"
  function closePrompt() {
    if (!shown || !shown.prompt || !(shown.screen === 'prompt' || shown.kind === 'found')) return;
    const reader = shown.reader, id = shown.prompt.id;
    run('close', async () => {
      const res = await post('/api/v1/prompt/close', { reader, prompt: id });
      dismissedPrompts.add(id);      // the user wants it gone, whatever the daemon says
      if (!res.ok && res.status !== 404 && res.status !== 409 && res.status !== 410) {
        return res.status === 0 ? t('errNetwork') : t('errGeneric');
      }
      return null;
    });
  }

  function resultOk() {
    if (!shown || shown.screen !== 'result' || !shown.reader) return;
    if (shown.kind === 'found') {            // OK: continue to the prompt itself
      if (shown.prompt) acceptedManual.add(shown.prompt.id);
      render();
      return;
    }
    const reader = shown.reader;
    const r = state.readers.find((x) => x && x.name === reader);
    if (r) dismissedResults.set(reader, r.phase);        // hide now, until the phase changes
    render();
    run('ok', async () => {
      const res = await post('/api/v1/prompt/close', { reader, prompt: null });
      return !res.ok && res.status === 0 ? t('errNetwork') : null;
    });
  }

  function check(reader) {
    if (typeof reader !== 'string' || !reader) return;
    run('check', async () => {
      const res = await post('/api/v1/check', { reader });
      if (res.ok) return null;
      if (res.status === 409) return t('errNoCard');
      return res.status === 0 ? t('errNetwork') : t('errGeneric');
    });
  }

  function cancelSession() {
    if (!shown || shown.screen !== 'updating' || !shown.reader) return;
    const reader = shown.reader;
    run('cancel', async () => {
      const res = await post('/api/v1/session/cancel', { reader });
      if (res.ok || res.status === 404 || res.status === 409) return null;
      return res.status === 0 ? t('errNetwork') : t('errGeneric');
    });
  }

  el.btnSessionCancel.addEventListener('click', cancelSession);
  el.btnProceed.addEventListener('click', proceed);
  el.btnClose.addEventListener('click', closePrompt);
  el.btnResultOk.addEventListener('click', resultOk);
  el.btnResultCancel.addEventListener('click', closePrompt);
  el.btnCheck.addEventListener('click', () => check(el.btnCheck.dataset.reader));

  // ---------------------------------------------------------------- transport
  let es = null;
  let sseUp = false;
  let pollTimer = 0;
  let polling = false;

  function parse(text) {
    try { return JSON.parse(text); } catch (_) { return null; }
  }

  async function fetchState() {
    const started = performance.now();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch('/api/v1/state', { cache: 'no-store', signal: ctl.signal });
      if (!res.ok) throw new Error('status');
      const s = parse(await res.text());
      if (!validState(s)) throw new Error('shape');
      applyState(s, started);
      return true;
    } catch (_) {
      if (!sseUp && !connLost) { connLost = true; render(); }
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    const loop = async () => {
      if (!polling) return;
      await fetchState();
      if (polling) pollTimer = setTimeout(loop, POLL_MS);
    };
    pollTimer = setTimeout(loop, POLL_MS);
  }

  function stopPolling() {
    polling = false;
    clearTimeout(pollTimer);
  }

  function connect() {
    if (typeof EventSource !== 'function') { startPolling(); return; }
    const src = new EventSource('/api/v1/events');
    es = src;
    const onData = (e) => { if (es === src) applyState(parse(e.data)); };
    src.addEventListener('state', onData);
    src.addEventListener('message', onData);
    src.addEventListener('open', () => {
      if (es !== src) return;
      sseUp = true;
      stopPolling();
      fetchState();          // the stream may only carry changes: catch up now
    });
    src.addEventListener('error', () => {
      if (es !== src) return;
      const wasUp = sseUp;
      sseUp = false;
      if (wasUp) fetchState();    // find out now whether the daemon is still there
      startPolling();
      if (src.readyState === EventSource.CLOSED) {
        // the browser gave up (e.g. an HTTP error while the daemon restarted): start over
        src.close();
        es = null;
        setTimeout(connect, SSE_RETRY_MS);
      }
    });
  }

  // ---------------------------------------------------------------- start
  fetchState();
  connect();
})();
