// Switchboard web console: entry module (login, header, routing, live events).
//
// Stable ids / data-testid of the main controls (for the browser tests):
//
//   Login ........ #login-form #login-username #login-password #login-submit #login-error
//   Header ....... #app-header #agent-name #agent-ext #agent-status (effective status text,
//                  data-status=ready|paused|...) #agent-status-timer #phone-status (data-registered)
//                  #state-select (values "offline", "ready", "paused:<reason>") #ws-status
//                  (data-state=open|connecting|closed) #btn-logout
//                  nav: #nav-agent #nav-supervisor #nav-admin (hash routes #/agent #/supervisor #/admin)
//   Messages ..... #status-region (role=status, empty when idle) #error-region (role=alert) with
//                  #error-text (empty when no error) #error-dismiss
//   Views ........ #boot-status (until the session is known) #login-view #agent-view
//                  #supervisor-view #admin-view
//   Call panel ... #call-panel #call-state (data-state=idle|originating|ringing|connected|held|
//                  transferring|consulting|conference) #call-timer #call-empty #call-details
//                  #call-direction #call-caller #call-callee #call-campaign #call-transfer
//                  #call-recording #call-parties (li[data-role=customer|agent|third][data-leg])
//                  #contact-panel #contact-name #call-log
//   Call actions . #btn-call-out #btn-hold #btn-unhold #btn-transfer #btn-cancel-transfer
//                  #btn-complete-transfer #btn-confer #btn-hangup #btn-tag #btn-record
//                  (aria-pressed = recording; disabled + #record-hint when auto recording)
//                  #btn-mute-customer #btn-mute-agent #btn-mute-third (conference only)
//                  tag form: #tag-form #tag-text #tag-submit #tag-cancel
//   Call out ..... #callout-dialog #callout-kind-number #callout-kind-agent #callout-number
//                  #callout-agent-list (radios #callout-agent-<username>) #callout-submit #callout-cancel
//   Transfer ..... #transfer-dialog #transfer-mode-blind #transfer-mode-consultative
//                  #transfer-to-agent #transfer-to-number #transfer-to-campaign
//                  #transfer-agent-list (radios #transfer-agent-<username>) #transfer-number
//                  #transfer-campaign #transfer-submit #transfer-cancel
//   Campaign calls #campaign-dial-panel (manual/preview campaigns I belong to) #campaign-dial-select
//                  #campaign-manual-form #campaign-dial-number #campaign-dial-call (manual)
//                  #btn-next-contact #preview-contact #preview-name #preview-phone #preview-call
//   Disposition .. #disposition-panel #disposition-form #disposition-call #disposition-select
//                  (option "Agenda", "__other__" = free text) #disposition-custom #disposition-note
//                  #agenda-fields #agenda-date #agenda-time #agenda-tz #agenda-reason
//                  #agenda-kind-personal #agenda-kind-global #disposition-submit #disposition-skip
//   Agenda ....... #agenda-list (rows #agenda-row-<id>; buttons #agenda-call-<id> #agenda-done-<id>
//                  #agenda-cancel-<id>) #agenda-include-done #agenda-refresh #agenda-empty
//   History ...... #history-list (rows #history-row-<call id>, #history-dispo-<call id>) #history-refresh
//   Supervisor ... #agent-wall (li #agent-card-<username>, data-status) #wall-summary #queue-list
//                  (#queue-row-<campaign>, #queue-waiting-<campaign>) #campaign-list #live-calls
//                  (#live-call-<id>, #live-hangup-<id>)
//   Recordings ... #recordings-form #rec-tag #rec-agent #rec-campaign #rec-number #rec-disposition
//                  #rec-from #rec-to #rec-search #recordings-results (#rec-row-<id> #rec-play-<id>
//                  #rec-audio-<id> #rec-download-<id>)
//   Admin ........ #admin-agents (#admin-agent-<u>, #agent-edit-<u>, #agent-disable-<u>, #agent-enable-<u>)
//                  #btn-new-agent #agent-dialog #agent-form-username #agent-form-name #agent-form-password
//                  #agent-form-sip-password #agent-form-role #agent-form-groups #agent-form-enabled
//                  #agent-form-submit; #admin-campaigns (#admin-campaign-<name>, #campaign-edit-<name>)
//                  #btn-new-campaign #campaign-dialog #campaign-form-name #campaign-form-kind
//                  #campaign-form-did #campaign-form-music #campaign-form-strategy
//                  #campaign-form-queue-timeout #campaign-form-acw #campaign-form-recording
//                  #campaign-form-active #campaign-form-dispositions #campaign-form-members
//                  (#campaign-member-<u>) #campaign-form-submit; #pause-reason-list #pause-reason-name
//                  #pause-reason-add; #import-form #import-list #import-campaign #import-file
//                  #import-text #import-submit #import-result (#import-ok, #import-errors li)
//                  #contacts-form #contacts-q #contacts-campaign #contacts-search #contacts-results
//   Confirm ...... #confirm-dialog #confirm-message #confirm-ok #confirm-cancel
//
// Every element with data-since="<ms>" shows the time elapsed since then, updated every second.

import { get, post, put, setToken, setUnauthorizedHandler, connectEvents, serverNow } from './api.js';
import { $, $$, h, announce, showError, clearError, fmtDuration, statusLabel } from './dom.js';
import { store, on, emit, applyEvent } from './store.js';
import { initWebphone, onWebphoneMessage, onLinkStatus, stopWebphone } from './webphone.js';
import { initAgent, resetAgent, checkAgendaDue } from './agent.js';
import { initSupervisor, showSupervisor, resetSupervisor } from './supervisor.js';
import { initAdmin, showAdmin, resetAdmin, loadCampaigns, loadPauseReasons } from './admin.js';

let events = null;
let sessionStarted = false;

// ---------------------------------------------------------------------------
// Login / logout
// ---------------------------------------------------------------------------

function showLogin(message) {
  sessionStarted = false;
  $('#boot-status').hidden = true;
  $('#app-header').hidden = true;
  for (const v of ['agent', 'supervisor', 'admin']) $(`#${v}-view`).hidden = true;
  $('#login-view').hidden = false;
  const err = $('#login-error');
  err.textContent = message || '';
  err.hidden = !message;
  document.title = 'Switchboard: log in';
  $('#login-username').focus();
}

async function login(e) {
  e.preventDefault();
  const username = $('#login-username').value.trim();
  const password = $('#login-password').value;
  const err = $('#login-error');
  if (!username || !password) {
    err.textContent = 'Enter your username and password.';
    err.hidden = false;
    (username ? $('#login-password') : $('#login-username')).focus();
    return;
  }
  const btn = $('#login-submit');
  if (btn.dataset.busy) return;
  btn.dataset.busy = '1';
  btn.setAttribute('aria-busy', 'true');
  try {
    const r = await post('/api/login', { username, password }, { noAuthRedirect: true });
    setToken(r.token);
    err.hidden = true;
    $('#login-password').value = '';
    const meInfo = await get('/api/me');
    await startSession(meInfo);
  } catch (ex) {
    err.textContent = ex.message;
    err.hidden = false;
    $('#login-password').focus();
  } finally {
    delete btn.dataset.busy;
    btn.removeAttribute('aria-busy');
  }
}

async function logout() {
  const mine = store.agents.get(store.me?.username);
  try {
    if (mine && mine.chosen && mine.chosen !== 'offline') await put('/api/agents/me/state', { state: 'offline' });
  } catch { /* logging out anyway */ }
  try { await post('/api/logout'); } catch { /* session may be gone already */ }
  stopWebphone();
  endSession();
  showLogin();
  announce('Logged out');
}

function endSession() {
  if (events) events.close();
  events = null;
  setToken(null);
  store.me = null;
  store.agents = new Map();
  store.calls = new Map();
  store.events = new Map();
  store.queues = [];
  resetAgent();
  resetSupervisor();
  resetAdmin();
  clearError();
}

// ---------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------

async function startSession(meInfo) {
  store.me = meInfo.agent;
  store.supervisor = !!meInfo.supervisor;
  store.admin = !!meInfo.admin;
  sessionStarted = true;
  $('#boot-status').hidden = true;
  $('#login-view').hidden = true;
  $('#app-header').hidden = false;
  $('#nav-supervisor').hidden = !store.supervisor;
  $('#nav-admin').hidden = !store.admin;
  $('#agent-name').textContent = store.me.display_name || store.me.username;
  $('#agent-ext').textContent = `ext. ${store.me.username} · ${store.me.role}`;
  renderHeader();
  await Promise.all([loadPauseReasons(), loadCampaigns(), loadMusic()]);
  initAgent();
  if (store.supervisor) initSupervisor();
  if (store.admin) initAdmin();
  if (events) events.close();
  const onMessage = (msg) => (String(msg.type).startsWith('audio_') ? onWebphoneMessage(msg) : applyEvent(msg));
  events = connectEvents(onMessage, (s) => {
    store.wsStatus = s;
    emit('ws');
    onLinkStatus(s);
    // A refused upgrade looks like a plain close: check the session (a 401
    // brings the login form back through the unauthorized handler).
    if (s === 'closed' && sessionStarted) get('/api/me').catch(() => {});
  });
  initWebphone((m) => events.send(m));
  route();
}

async function loadMusic() {
  try {
    const r = await get('/api/music-classes');
    store.musicClasses = r.music_classes || [];
  } catch { /* the snapshot also carries them */ }
}

// ---------------------------------------------------------------------------
// Header: effective status and the state selector
// ---------------------------------------------------------------------------

function stateValue(p) {
  if (!p) return 'offline';
  if (p.chosen === 'paused') return `paused:${p.pause_reason || ''}`;
  return p.chosen || 'offline';
}

function renderStateOptions(p) {
  const sel = $('#state-select');
  const reasons = store.pauseReasons.map((r) => r.name);
  const current = p?.chosen === 'paused' ? p.pause_reason || '' : null;
  const opts = [h('option', { value: 'ready' }, 'Ready'),
    ...(reasons.length ? reasons : ['Break']).map((r) => h('option', { value: `paused:${r}` }, `Paused: ${r}`))];
  if (current !== null && !reasons.includes(current) && (reasons.length || current !== 'Break')) {
    opts.push(h('option', { value: `paused:${current}` }, `Paused: ${current}`));
  }
  opts.push(h('option', { value: 'offline' }, 'Offline'));
  const key = opts.map((o) => o.value).join('|');
  if (sel.dataset.key !== key) {
    sel.dataset.key = key;
    sel.replaceChildren(...opts);
  }
  if (document.activeElement !== sel || !sel.dataset.busy) sel.value = stateValue(p);
}

function renderHeader() {
  if (!store.me) return;
  const p = store.agents.get(store.me.username);
  const status = p?.status || 'offline';
  const badge = $('#agent-status');
  badge.textContent = statusLabel(status) + (status === 'paused' && p?.pause_reason ? ` (${p.pause_reason})` : '')
    + (p?.chosen_by && p.chosen === status ? ` by ${p.chosen_by}` : '');
  badge.dataset.status = status;
  const timer = $('#agent-status-timer');
  if (p?.since) {
    timer.dataset.since = String(p.since);
    timer.textContent = fmtDuration(serverNow() - p.since);
  } else {
    delete timer.dataset.since;
    timer.textContent = '';
  }
  const phone = $('#phone-status');
  phone.dataset.registered = String(!!p?.registered);
  const browserAudio = window.webphone?.status?.state === 'connected';
  phone.textContent = browserAudio ? 'Browser audio' : p?.registered ? 'Phone registered' : 'Phone not registered';
  renderStateOptions(p);
}

async function changeState() {
  const sel = $('#state-select');
  const v = sel.value;
  const [state, ...rest] = v.split(':');
  const body = { state };
  if (state === 'paused') body.reason = rest.join(':');
  sel.dataset.busy = '1';
  sel.setAttribute('aria-busy', 'true');
  try {
    const p = await put('/api/agents/me/state', body);
    if (p && p.username) {
      const known = store.agents.get(p.username) || {};
      store.agents.set(p.username, { ...known, ...p });
      emit('agents', p.username);
    }
    clearError();
    announce(state === 'paused' ? `You are paused (${body.reason})` : `You are ${statusLabel(state).toLowerCase()}`);
  } catch (e) {
    showError(e.message);
  } finally {
    delete sel.dataset.busy;
    sel.removeAttribute('aria-busy');
    renderHeader();
  }
}

function renderWs() {
  const el = $('#ws-status');
  el.dataset.state = store.wsStatus;
  el.textContent = store.wsStatus === 'open' ? 'Live' : store.wsStatus === 'connecting' ? 'Connecting…' : 'Disconnected';
}

// ---------------------------------------------------------------------------
// Routing between views (#/agent, #/supervisor, #/admin)
// ---------------------------------------------------------------------------

function allowed(view) {
  return view === 'agent' || (view === 'supervisor' && store.supervisor) || (view === 'admin' && store.admin);
}

function route() {
  if (!sessionStarted) return;
  let view = (location.hash.match(/^#\/(\w+)/) || [])[1];
  if (!allowed(view)) {
    view = store.supervisor && store.me?.role !== 'agent' ? 'supervisor' : 'agent';
    if (location.hash !== `#/${view}`) history.replaceState(null, '', `#/${view}`);
  }
  for (const v of ['agent', 'supervisor', 'admin']) $(`#${v}-view`).hidden = v !== view;
  for (const a of $$('#main-nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `Switchboard: ${view}`;
  if (view === 'supervisor') showSupervisor();
  if (view === 'admin') showAdmin();
}

// ---------------------------------------------------------------------------
// Timers: every [data-since] shows the elapsed time
// ---------------------------------------------------------------------------

function tick() {
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-since]')) {
    const since = Number(el.dataset.since);
    if (since > 0) el.textContent = fmtDuration(now - since);
  }
}

// ---------------------------------------------------------------------------

function boot() {
  $('#login-form').addEventListener('submit', login);
  $('#btn-logout').addEventListener('click', logout);
  $('#state-select').addEventListener('change', changeState);
  $('#error-dismiss').addEventListener('click', clearError);
  window.addEventListener('hashchange', route);
  on('agents', (u) => { if (!u || u === store.me?.username) renderHeader(); });
  on('pause_reasons', renderHeader);
  on('ws', renderWs);
  setUnauthorizedHandler((msg) => {
    if (!sessionStarted) return;
    endSession();
    showLogin(`${msg}`);
  });
  setInterval(tick, 1000);
  setInterval(checkAgendaDue, 15000);
  get('/api/me', { noAuthRedirect: true })
    .then(startSession)
    .catch((e) => showLogin(e.status === 401 || e.status === 403 ? '' : e.message));
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
