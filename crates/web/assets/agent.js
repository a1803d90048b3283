// Agent console: the webphone call panel and its actions, the "Call out of
// campaign" and "Transfer" dialogs, the disposition form (with Agenda), the
// agenda list and today's call history.

import { get, post, qs, serverNow } from './api.js';
import {
  $, h, replaceChildren, setEnabled, announce, showError, run, openDialog, dialogError,
  confirmDialog, fmtDuration, fmtDateTime, fmtTime, fmtInOffset, browserZone, zoneNames, allOffsets,
  statusLabel, callStateLabel, targetLabel,
} from './dom.js';
import { store, on, emit, involves, campaignByName, campaignById } from './store.js';

const ANSWERED = ['connected', 'held', 'transferring', 'consulting', 'conference'];
const OTHER = '__other__';

let initialised = false;
/** Call the panel showed last (to notice when the agent leaves it). */
let tracked = null; // {call, controlled}
/** Calls dispositioned or skipped in this page (not asked again). */
const settled = new Set();
/** Contact lookups per call id: Promise of contact row or null. */
const contactCache = new Map();

// ---------------------------------------------------------------------------
// Current call
// ---------------------------------------------------------------------------

const me = () => store.me?.username;

/** Live calls involving me, the one I control first, newest first. */
export function myCalls() {
  const u = me();
  return [...store.calls.values()]
    .filter((c) => c.state !== 'ended' && involves(c, u))
    .sort((a, b) => ((b.agent === u) - (a.agent === u)) || ((b.started_at || 0) - (a.started_at || 0)));
}

export const currentCall = () => myCalls()[0] || null;

function canControl(c) {
  return !!c && (c.agent === me() || store.supervisor);
}

/** The number of the party the agent serves (for contact lookup and callbacks). */
function customerNumber(c) {
  if (!c) return '';
  if (c.direction === 'inbound') return c.caller;
  if (c.direction === 'outbound') return c.callee;
  return c.customer?.party || c.callee;
}

function partyLabel(p, role) {
  if (!p) return '';
  if (p.agent === me()) return `You (${p.agent})`;
  if (p.agent) {
    const a = store.agents.get(p.agent);
    return a?.name && a.name !== p.agent ? `${a.name} (${p.agent})` : `Agent ${p.agent}`;
  }
  return p.party || role;
}

const NOTICE_VERB = { listen: 'is listening to this call', whisper: 'is whispering to you (only you hear them)', barge: 'has joined this call (everyone hears them)' };

/** The supervisors the campaign shows on my call (supervision_notice events). */
function renderSupervisionNotice(c) {
  const el = $('#supervision-notice');
  const mine = [...store.notices.values()].filter((n) => n.call_id === c.call_id && n.agent === me());
  el.hidden = !mine.length;
  el.textContent = mine.map((n) => `Supervisor ${n.supervisor} ${NOTICE_VERB[n.mode] || n.mode}.`).join(' ');
  el.dataset.mode = mine[0]?.mode || '';
}

export function renderCall() {
  const c = currentCall();
  noteTransitions(c);
  const stateEl = $('#call-state');
  const timer = $('#call-timer');
  $('#call-empty').hidden = !!c;
  $('#call-details').hidden = !c;
  if (!c) {
    stateEl.textContent = 'No call';
    stateEl.dataset.state = 'idle';
    timer.textContent = '';
    delete timer.dataset.since;
    $('#tag-form').hidden = true;
    $('#btn-tag').setAttribute('aria-expanded', 'false');
  } else {
    stateEl.textContent = callStateLabel(c.state);
    stateEl.dataset.state = c.state;
    timer.dataset.since = String(c.answered_at || c.started_at || serverNow());
    timer.textContent = fmtDuration(serverNow() - Number(timer.dataset.since));
    $('#call-direction').textContent = c.direction || '';
    $('#call-caller').textContent = c.caller || '';
    $('#call-callee').textContent = c.callee || '';
    $('#call-campaign').textContent = c.campaign || 'None (out of campaign)';
    const note = $('#call-role-note');
    if (!canControl(c)) {
      note.hidden = false;
      note.textContent = c.agent
        ? `This call is controlled by ${c.agent}. Use your phone to leave it.`
        : 'You are the called party of this call. Use your phone to hang up.';
    } else {
      note.hidden = true;
    }
    renderSupervisionNotice(c);
    const tr = $('#call-transfer');
    if (c.transfer) {
      tr.hidden = false;
      const kind = c.transfer.kind === 'blind' ? 'Blind transfer' : 'Consultative transfer';
      tr.textContent = `${kind} to ${targetLabel(c.transfer.target)}: ${c.transfer.phase}`;
    } else if (c.state === 'conference') {
      tr.hidden = false;
      tr.textContent = 'Three-way conference.';
    } else {
      tr.hidden = true;
    }
    const indicator = $('#call-recording');
    indicator.hidden = !c.recording;
    indicator.lastChild.textContent = c.recording_paused ? ' Recording paused' : ' Recording';
    indicator.classList.toggle('paused', !!c.recording_paused);
    renderParties(c);
    renderContact(c);
    renderCallLog(c);
  }
  const focused = document.activeElement;
  renderActions(c);
  renderDisposition();
  renderCampaignDial();
  // A call action that just became disabled loses the keyboard focus: move it
  // to where the agent continues (the disposition form, or the next action).
  if (focused && focused.closest && focused.closest('.call-actions, #call-parties') && (focused.disabled || !document.contains(focused))) {
    const next = !$('#disposition-panel').hidden && !c ? $('#disposition-select')
      : [...document.querySelectorAll('.call-actions button')].find((x) => !x.disabled) || $('#btn-call-out');
    if (next && !next.disabled) next.focus();
  }
}

function renderParties(c) {
  const list = $('#call-parties');
  const muted = store.muted.get(c.call_id) || new Set();
  const conference = c.state === 'conference' && canControl(c);
  const rows = [];
  for (const [role, p] of [['customer', c.customer], ['agent', c.agent_leg], ['third', c.third]]) {
    if (!p) continue;
    const isMuted = muted.has(p.leg);
    const label = partyLabel(p, role);
    rows.push(h('li', { class: 'party', dataset: { role, leg: p.leg } },
      h('span', { class: 'party-name' }, label),
      h('span', { class: 'party-role muted' }, role === 'customer' ? 'served party' : role === 'agent' ? 'agent' : 'third party'),
      h('span', { class: `leg-state leg-${p.state}` }, p.state),
      isMuted ? h('span', { class: 'badge muted-badge' }, 'Muted') : null,
      conference ? h('button', {
        type: 'button',
        id: `btn-mute-${role}`,
        'data-testid': `btn-mute-${role}`,
        class: 'small secondary',
        'aria-pressed': isMuted ? 'true' : 'false',
        onclick: (e) => mute(e.currentTarget, c, p.leg, !isMuted, label),
      }, isMuted ? `Unmute ${label}` : `Mute ${label}`) : null));
  }
  replaceChildren(list, rows.length ? rows : h('li', { class: 'muted' }, 'Connecting…'));
}

async function mute(btn, c, leg, muted, label) {
  const r = await run(btn, () => post(`/api/calls/${encodeURIComponent(c.call_id)}/mute`, { leg, muted }),
    `${label} ${muted ? 'muted' : 'unmuted'}`);
  if (r !== undefined) {
    const set = store.muted.get(c.call_id) || new Set();
    if (muted) set.add(leg); else set.delete(leg);
    store.muted.set(c.call_id, set);
    renderCall();
  }
}

function renderContact(c) {
  const panel = $('#contact-panel');
  const box = $('#contact-details');
  const number = customerNumber(c);
  if (!c.campaign || !number) { panel.hidden = true; return; }
  if (!contactCache.has(c.call_id)) {
    contactCache.set(c.call_id, get(`/api/contacts${qs({ q: number, campaign: c.campaign, limit: 10 })}`)
      .then((r) => (r.contacts || []).find((x) => x.phone === number) || (r.contacts || [])[0] || null)
      .catch(() => null));
  }
  contactCache.get(c.call_id).then((contact) => {
    if (currentCall()?.call_id !== c.call_id) return;
    if (!contact) { panel.hidden = true; return; }
    panel.hidden = false;
    const extra = contact.extra && typeof contact.extra === 'object' ? Object.entries(contact.extra) : [];
    replaceChildren(box, h('dl', { class: 'contact-facts', id: 'contact-facts' },
      h('div', {}, h('dt', {}, 'Name'), h('dd', { id: 'contact-name' }, contact.name || '—')),
      h('div', {}, h('dt', {}, 'Phone'), h('dd', {}, contact.phone)),
      h('div', {}, h('dt', {}, 'Status'), h('dd', {}, `${contact.status} (${contact.attempts} attempts)`)),
      extra.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, String(v))))));
  });
}

function renderCallLog(c) {
  const evs = store.events.get(c.call_id) || [];
  replaceChildren($('#call-log'), evs.slice(-15).map((e) => h('li', {},
    h('time', {}, fmtTime(e.at)), ' ', h('strong', {}, e.kind), e.detail ? ` ${e.detail}` : '', e.actor ? ` (${e.actor})` : '')));
}

function renderActions(c) {
  const ctl = canControl(c);
  const st = c?.state;
  const noCtl = c ? 'Only the agent controlling the call can do this' : 'No active call';
  const btn = (id) => document.getElementById(id);
  setEnabled(btn('btn-hold'), ctl && st === 'connected', ctl ? 'Only a connected call can be put on hold' : noCtl);
  setEnabled(btn('btn-unhold'), ctl && st === 'held', ctl ? 'The call is not on hold' : noCtl);
  setEnabled(btn('btn-transfer'), ctl && (st === 'connected' || st === 'held'),
    ctl ? 'A transfer starts from a connected or held call' : noCtl);
  setEnabled(btn('btn-cancel-transfer'), ctl && st === 'consulting',
    ctl ? 'No consultative transfer in progress' : noCtl);
  const talking = st === 'consulting' && c?.transfer?.phase === 'talking';
  setEnabled(btn('btn-complete-transfer'), ctl && talking,
    ctl ? (st === 'consulting' ? 'Wait until the consulted party answers' : 'No consultative transfer in progress') : noCtl);
  setEnabled(btn('btn-confer'), ctl && talking,
    ctl ? (st === 'consulting' ? 'Wait until the consulted party answers' : 'Start a consultative transfer first') : noCtl);
  setEnabled(btn('btn-hangup'), ctl && !!st && st !== 'ended', noCtl);
  setEnabled(btn('btn-tag'), ctl && ANSWERED.includes(st), ctl ? 'Tags apply to an answered call' : noCtl);

  const rec = btn('btn-record');
  const hint = $('#record-hint');
  const recording = !!c?.recording;
  const auto = !!c?.auto_recording;
  rec.textContent = auto ? 'Recorded automatically' : recording ? 'Stop recording' : 'Record';
  rec.setAttribute('aria-pressed', recording ? 'true' : 'false');
  rec.classList.toggle('recording', recording && !auto);
  if (auto) {
    const why = 'This campaign records every call automatically; on-demand recording is not available.';
    setEnabled(rec, false, why);
    hint.textContent = why;
    hint.hidden = false;
  } else {
    hint.hidden = true;
    hint.textContent = '';
    setEnabled(rec, ctl && ANSWERED.includes(st), ctl ? 'Recording starts once the call is answered' : noCtl);
  }
  // Pause while the customer keys a card number: the file gets silence until resumed.
  const pause = btn('btn-record-pause');
  const paused = !!c?.recording_paused;
  pause.hidden = !recording;
  pause.textContent = paused ? 'Resume recording' : 'Pause recording';
  pause.setAttribute('aria-pressed', paused ? 'true' : 'false');
  setEnabled(pause, ctl && recording, ctl ? 'The call is not being recorded' : noCtl);

  const out = btn('btn-call-out');
  setEnabled(out, !c, 'Finish the current call first');
}

/** Notice when the agent leaves a call they controlled: ask for its disposition. */
function noteTransitions(c) {
  if (tracked && (!c || c.call_id !== tracked.call.call_id)) {
    const old = tracked.call;
    const still = store.calls.get(old.call_id);
    const gone = !still || still.state === 'ended' || !involves(still, me());
    if (gone && tracked.controlled && (old.answered_at || old.campaign) && !settled.has(old.call_id)) {
      addPending(old);
      announce(`Call with ${customerNumber(old) || old.callee} ended. Choose its disposition.`);
    }
    tracked = null;
  }
  if (c) {
    const controlled = (tracked?.controlled || false) || c.agent === me();
    tracked = { call: c, controlled };
  }
}

/**
 * The event stream stops sending a call's updates to an agent once the agent
 * is no longer part of it (e.g. after completing a transfer), so ask the
 * server which calls are still ours and drop the stale ones.
 */
let reconciling = null;
export function reconcileCalls() {
  if (reconciling) return reconciling;
  reconciling = get('/api/calls').then((r) => {
    const live = new Map((r.calls || []).map((c) => [c.call_id, c]));
    let changed = false;
    for (const [id, c] of [...store.calls]) {
      if (!live.has(id) && (store.supervisor || involves(c, me()))) {
        store.calls.delete(id);
        changed = true;
      }
    }
    for (const [id, c] of live) {
      if (!store.calls.has(id) && !store.ended.has(id)) {
        store.calls.set(id, c);
        changed = true;
      }
    }
    if (changed) emit('calls');
  }).catch(() => { /* next event retries */ }).finally(() => { reconciling = null; });
  return reconciling;
}

/** Call events after which the agent may have left the call. */
const LEAVING = ['TRANSFER_COMPLETED', 'AGENT_RELEASED', 'CONFERENCE_LEFT', 'TRANSFER_BLIND'];

// ---------------------------------------------------------------------------
// Pending dispositions (kept in localStorage across reloads)
// ---------------------------------------------------------------------------

const pendingKey = () => `sb.pending-dispositions.${me()}`;

function loadPending() {
  try { return JSON.parse(localStorage.getItem(pendingKey()) || '[]'); } catch { return []; }
}
function savePending(list) {
  localStorage.setItem(pendingKey(), JSON.stringify(list.slice(-20)));
}
function addPending(call) {
  const list = loadPending().filter((p) => p.call_id !== call.call_id);
  list.push({
    call_id: call.call_id, campaign: call.campaign || null, caller: call.caller, callee: call.callee,
    direction: call.direction, started_at: call.started_at, ended: true,
  });
  savePending(list);
}
function removePending(id) {
  savePending(loadPending().filter((p) => p.call_id !== id));
}

/** Calls the form can disposition: ended ones waiting, then the current one. */
function dispositionCandidates() {
  const list = loadPending().filter((p) => !settled.has(p.call_id));
  const c = currentCall();
  if (c && canControl(c) && !settled.has(c.call_id) && !list.some((p) => p.call_id === c.call_id)) {
    list.push({
      call_id: c.call_id, campaign: c.campaign || null, caller: c.caller, callee: c.callee,
      direction: c.direction, started_at: c.started_at, ended: false,
    });
  }
  return list;
}

function describeCandidate(p) {
  const who = `${p.caller} → ${p.callee}`;
  return `${p.ended ? 'Ended' : 'Current'} call ${who}${p.campaign ? ` (${p.campaign})` : ''}${p.started_at ? ` at ${fmtTime(p.started_at)}` : ''}`;
}

let shownCandidate = null;

function renderDisposition() {
  const panel = $('#disposition-panel');
  const cands = dispositionCandidates();
  if (!cands.length) {
    panel.hidden = true;
    shownCandidate = null;
    return;
  }
  panel.hidden = false;
  const sel = $('#disposition-call');
  const previous = sel.value;
  const key = cands.map((p) => `${p.call_id}:${p.ended}`).join('|');
  if (sel.dataset.key !== key) {
    sel.dataset.key = key;
    sel.replaceChildren(...cands.map((p) => h('option', { value: p.call_id }, describeCandidate(p))));
    if (cands.some((p) => p.call_id === previous)) sel.value = previous;
  }
  $('#disposition-call-field').hidden = cands.length < 2;
  const cand = cands.find((p) => p.call_id === sel.value) || cands[0];
  sel.value = cand.call_id;
  $('#disposition-title').textContent = cands.length < 2 ? `Disposition: ${describeCandidate(cand)}` : 'Disposition';
  if (shownCandidate !== cand.call_id) {
    shownCandidate = cand.call_id;
    fillDispositionOptions(cand);
  }
}

function fillDispositionOptions(cand) {
  const camp = cand.campaign ? campaignByName(cand.campaign) : null;
  const names = camp?.dispositions || [];
  const sel = $('#disposition-select');
  const opts = [h('option', { value: '' }, 'Choose a disposition…')];
  for (const n of names) opts.push(h('option', { value: n }, n));
  opts.push(h('option', { value: 'Agenda' }, 'Agenda (schedule a callback)'));
  if (!names.length) opts.push(h('option', { value: OTHER }, 'Other…'));
  sel.replaceChildren(...opts);
  sel.value = '';
  const all = new Set(store.campaigns.flatMap((x) => x.dispositions || []));
  $('#disposition-suggestions').replaceChildren(...[...all].map((n) => h('option', { value: n })));
  $('#disposition-note').value = '';
  $('#disposition-custom').value = '';
  const global = $('#agenda-kind-global');
  const dialer = camp?.kind === 'dialer';
  global.disabled = !dialer;
  $('#agenda-global-hint').textContent = dialer
    ? 'A global callback puts the contact back in the dialer at that time.'
    : 'Global callbacks are only possible for calls of dialer campaigns.';
  $('#agenda-kind-personal').checked = true;
  // Default callback time: tomorrow, this hour.
  const t = new Date(Date.now() + 24 * 3600 * 1000);
  const two = (n) => String(n).padStart(2, '0');
  $('#agenda-date').value = `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())}`;
  $('#agenda-time').value = `${two(t.getHours())}:00`;
  $('#agenda-tz').value = browserZone(t);
  $('#agenda-reason').value = '';
  $('#disposition-dnc').checked = false;
  // Only a campaign call's number can go on the campaign's do-not-call list.
  $('#disposition-dnc-field').hidden = !camp;
  onDispositionChange();
  const err = $('#disposition-form .dialog-error');
  err.hidden = true;
  err.textContent = '';
}

function onDispositionChange() {
  const v = $('#disposition-select').value;
  $('#agenda-fields').hidden = v !== 'Agenda';
  $('#disposition-custom-field').hidden = v !== OTHER;
}

async function submitDisposition(ev) {
  ev.preventDefault();
  const form = $('#disposition-form');
  const callId = $('#disposition-call').value;
  let name = $('#disposition-select').value;
  if (name === OTHER) name = $('#disposition-custom').value.trim();
  const fail = (m, field) => {
    dialogError(form, m);
    if (field) field.focus();
  };
  if (!callId) return fail('There is no call to disposition.');
  if (!name) return fail('Choose a disposition.', $('#disposition-select'));
  const body = { disposition: name, note: $('#disposition-note').value };
  if ($('#disposition-dnc').checked) {
    if (name === 'Agenda') return fail('A callback and the do-not-call list contradict each other: choose one.', $('#disposition-dnc'));
    body.dnc = true;
  }
  if (name === 'Agenda') {
    const date = $('#agenda-date').value;
    const time = $('#agenda-time').value;
    const tz = $('#agenda-tz').value.trim();
    if (!date) return fail('Choose the callback date.', $('#agenda-date'));
    if (!time) return fail('Choose the callback time.', $('#agenda-time'));
    if (!/^[+-]\d{2}:\d{2}$/.test(tz) && !/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/.test(tz)) {
      return fail('Write the time zone as a name such as Europe/Madrid, or as +HH:MM.', $('#agenda-tz'));
    }
    body.agenda = {
      kind: $('#agenda-kind-global').checked ? 'global' : 'personal',
      at: `${date}T${time}`,
      tz,
      reason: $('#agenda-reason').value,
    };
  }
  const r = await run($('#disposition-submit'),
    () => post(`/api/calls/${encodeURIComponent(callId)}/disposition`, body),
    name === 'Agenda' ? 'Disposition saved and callback scheduled' : `Disposition "${name}" saved`);
  if (r === undefined) {
    const err = form.querySelector('.dialog-error');
    err.textContent = $('#error-text').textContent;
    err.hidden = false;
    return;
  }
  settled.add(callId);
  removePending(callId);
  shownCandidate = null;
  renderDisposition();
  loadAgenda();
  loadHistory();
}

function skipDisposition() {
  const callId = $('#disposition-call').value;
  if (!callId) return;
  settled.add(callId);
  removePending(callId);
  shownCandidate = null;
  renderDisposition();
  announce('Disposition skipped');
  const panel = $('#disposition-panel');
  if (panel.hidden) $('#btn-call-out').focus();
}

// ---------------------------------------------------------------------------
// Call actions
// ---------------------------------------------------------------------------

/**
 * Take a call JSON from an HTTP answer only when the event stream has not
 * shown the call yet: WebSocket updates may already be newer than the answer.
 */
function adopt(call) {
  if (call && call.call_id && call.state !== 'ended' && !store.calls.has(call.call_id)
    && !store.ended.has(call.call_id)) {
    store.calls.set(call.call_id, call);
  }
}

const callPath = (c, action) => `/api/calls/${encodeURIComponent(c.call_id)}/${action}`;

function act(btnId, action, msg) {
  const btn = document.getElementById(btnId);
  btn.addEventListener('click', () => {
    const c = currentCall();
    if (!c) return;
    run(btn, () => post(callPath(c, action)), msg).then((r) => {
      adopt(r);
      renderCall();
    });
  });
}

function bindActions() {
  act('btn-hold', 'hold', 'Call on hold: the customer hears music');
  act('btn-unhold', 'unhold', 'Call resumed');
  act('btn-cancel-transfer', 'transfer/cancel', 'Transfer cancelled: back with the customer');
  act('btn-complete-transfer', 'transfer/complete', 'Transfer completed');
  act('btn-confer', 'confer', 'Three-way conference started');
  act('btn-hangup', 'hangup', 'Call hung up');

  $('#btn-record').addEventListener('click', (e) => {
    const c = currentCall();
    if (!c) return;
    const start = !c.recording;
    run(e.currentTarget, () => post(callPath(c, `recording/${start ? 'start' : 'stop'}`)),
      start ? 'Recording started' : 'Recording stopped').then((r) => {
      // Only recording commands change `recording`: take it from the answer.
      const known = r && store.calls.get(r.call_id);
      if (known) known.recording = !!r.recording;
      adopt(r);
      renderCall();
    });
  });

  $('#btn-record-pause').addEventListener('click', (e) => {
    const c = currentCall();
    if (!c) return;
    const pause = !c.recording_paused;
    run(e.currentTarget, () => post(callPath(c, `recording/${pause ? 'pause' : 'resume'}`)),
      pause ? 'Recording paused: nothing is recorded until you resume' : 'Recording resumed').then((r) => {
      const known = r && store.calls.get(r.call_id);
      if (known) known.recording_paused = !!r.recording_paused;
      adopt(r);
      renderCall();
    });
  });

  $('#btn-tag').addEventListener('click', () => {
    const form = $('#tag-form');
    form.hidden = !form.hidden;
    $('#btn-tag').setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) $('#tag-text').focus();
  });
  const closeTag = () => {
    $('#tag-form').hidden = true;
    $('#tag-text').value = '';
    $('#btn-tag').setAttribute('aria-expanded', 'false');
    $('#btn-tag').focus();
  };
  $('#tag-cancel').addEventListener('click', closeTag);
  $('#tag-form').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeTag(); });
  $('#tag-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const c = currentCall();
    const text = $('#tag-text').value.trim();
    if (!c) { showError('There is no call to tag.'); return; }
    if (!text) { showError('Write the tag text first.'); $('#tag-text').focus(); return; }
    const r = await run($('#tag-submit'), () => post(callPath(c, 'tags'), { text }),
      (x) => (x.recording ? 'Tag saved on the recording' : 'Tag saved (the call is not being recorded right now)'));
    if (r !== undefined) closeTag();
  });

  $('#btn-call-out').addEventListener('click', (e) => openCallOut(e.currentTarget));
  $('#btn-transfer').addEventListener('click', (e) => openTransfer(e.currentTarget));

  $('#disposition-form').addEventListener('submit', submitDisposition);
  $('#disposition-select').addEventListener('change', onDispositionChange);
  $('#disposition-call').addEventListener('change', () => { shownCandidate = null; renderDisposition(); });
  $('#disposition-skip').addEventListener('click', skipDisposition);
  $('#tz-offsets').replaceChildren(...[...zoneNames(), ...allOffsets()].map((o) => h('option', { value: o })));

  $('#agenda-refresh').addEventListener('click', () => loadAgenda(true));
  $('#agenda-include-done').addEventListener('change', () => loadAgenda());
  $('#history-refresh').addEventListener('click', () => loadHistory(true));
}

// ---------------------------------------------------------------------------
// Agent pickers (call out and transfer): every agent with their state
// ---------------------------------------------------------------------------

function agentAvailability(a) {
  if (!a.registered) return 'phone not registered';
  if (a.status === 'paused') return `paused${a.pause_reason ? ` (${a.pause_reason})` : ''}`;
  if (['on_call', 'ringing'].includes(a.status)) return statusLabel(a.status).toLowerCase();
  return '';
}

function renderAgentPicker(container, name, exclude) {
  const agents = [...store.agents.values()]
    .filter((a) => !exclude.includes(a.username))
    .sort((a, b) => (agentAvailability(a) === '') === (agentAvailability(b) === '')
      ? (a.name || a.username).localeCompare(b.name || b.username)
      : (agentAvailability(a) === '' ? -1 : 1));
  const checked = container.querySelector('input:checked')?.value;
  if (!agents.length) {
    replaceChildren(container, h('p', { class: 'muted' }, 'No other agents.'));
    return;
  }
  replaceChildren(container, agents.map((a) => {
    const id = `${name}-${a.username}`;
    const why = agentAvailability(a);
    return h('label', { class: 'agent-pick-item', for: id },
      h('input', { type: 'radio', name, id, value: a.username, checked: a.username === checked }),
      h('span', { class: 'pick-name' }, a.name && a.name !== a.username ? `${a.name} (${a.username})` : a.username),
      h('span', { class: 'badge', dataset: { status: a.status } }, statusLabel(a.status)),
      why ? h('span', { class: 'muted small' }, why) : null);
  }));
}

// Call out of campaign ------------------------------------------------------

function calloutKind() {
  return $('#callout-kind-agent').checked ? 'agent' : 'number';
}

function syncCallOut() {
  const kind = calloutKind();
  $('#callout-number-field').hidden = kind !== 'number';
  $('#callout-agent-field').hidden = kind !== 'agent';
}

function openCallOut(opener) {
  const dlg = $('#callout-dialog');
  renderAgentPicker($('#callout-agent-list'), 'callout-agent', [me()]);
  syncCallOut();
  openDialog(dlg, opener);
  if (calloutKind() === 'number') $('#callout-number').focus();
}

async function submitCallOut(e) {
  e.preventDefault();
  const dlg = $('#callout-dialog');
  let body;
  if (calloutKind() === 'number') {
    const n = $('#callout-number').value.trim();
    if (!n) { dialogError(dlg, 'Enter the number to dial.'); $('#callout-number').focus(); return; }
    body = { number: n };
  } else {
    const a = $('#callout-agent-list input:checked')?.value;
    if (!a) { dialogError(dlg, 'Choose the agent to call.'); $('#callout-agent-list input')?.focus(); return; }
    body = { agent: a };
  }
  const r = await run($('#callout-submit'), () => post('/api/calls', body),
    `Calling ${body.number || `agent ${body.agent}`}: answer your phone first`);
  if (r === undefined) {
    dialogError(dlg, $('#error-text').textContent);
    return;
  }
  adopt(r);
  dlg.close();
  $('#callout-number').value = '';
  renderCall();
}

// Transfer -------------------------------------------------------------------

function transferMode() { return $('#transfer-mode-consultative').checked ? 'consultative' : 'blind'; }
function transferTo() {
  return $('#transfer-to-number').checked ? 'number' : $('#transfer-to-campaign').checked ? 'campaign' : 'agent';
}

function syncTransfer() {
  const consult = transferMode() === 'consultative';
  const camp = $('#transfer-to-campaign');
  camp.disabled = consult;
  if (consult && camp.checked) $('#transfer-to-agent').checked = true;
  const to = transferTo();
  $('#transfer-agent-field').hidden = to !== 'agent';
  $('#transfer-number-field').hidden = to !== 'number';
  $('#transfer-campaign-field').hidden = to !== 'campaign';
  $('#transfer-submit').textContent = consult ? 'Start consultation' : 'Transfer';
}

function openTransfer(opener) {
  const c = currentCall();
  if (!c) return;
  const exclude = [me(), c.customer?.agent].filter(Boolean);
  renderAgentPicker($('#transfer-agent-list'), 'transfer-agent', exclude);
  const inbound = store.campaigns.filter((x) => x.kind === 'inbound' && x.active !== false);
  const sel = $('#transfer-campaign');
  sel.replaceChildren(...(inbound.length
    ? inbound.map((x) => h('option', { value: x.name }, x.name))
    : [h('option', { value: '' }, 'No inbound campaigns')]));
  syncTransfer();
  openDialog($('#transfer-dialog'), opener);
}

async function submitTransfer(e) {
  e.preventDefault();
  const dlg = $('#transfer-dialog');
  const c = currentCall();
  if (!c) { dialogError(dlg, 'The call has ended.'); return; }
  const mode = transferMode();
  const to = transferTo();
  const body = { mode };
  if (to === 'agent') {
    const a = $('#transfer-agent-list input:checked')?.value;
    if (!a) { dialogError(dlg, 'Choose the agent.'); $('#transfer-agent-list input')?.focus(); return; }
    body.agent = a;
  } else if (to === 'number') {
    const n = $('#transfer-number').value.trim();
    if (!n) { dialogError(dlg, 'Enter the number.'); $('#transfer-number').focus(); return; }
    body.number = n;
  } else {
    const camp = $('#transfer-campaign').value;
    if (!camp) { dialogError(dlg, 'Choose the campaign.'); $('#transfer-campaign').focus(); return; }
    body.campaign = camp;
  }
  const dest = body.agent ? `agent ${body.agent}` : body.number ? body.number : `campaign ${body.campaign}`;
  const r = await run($('#transfer-submit'), () => post(callPath(c, 'transfer'), body),
    mode === 'blind' ? `Transferring to ${dest}` : `Consulting ${dest}: the customer is on hold`);
  if (r === undefined) {
    dialogError(dlg, $('#error-text').textContent);
    return;
  }
  adopt(r);
  dlg.close();
  $('#transfer-number').value = '';
  renderCall();
}

function bindDialogs() {
  for (const id of ['callout-kind-number', 'callout-kind-agent']) {
    document.getElementById(id).addEventListener('change', () => {
      syncCallOut();
      if (calloutKind() === 'agent') $('#callout-agent-list input')?.focus();
    });
  }
  $('#callout-form').addEventListener('submit', submitCallOut);
  $('#callout-cancel').addEventListener('click', () => $('#callout-dialog').close());
  for (const id of ['transfer-mode-blind', 'transfer-mode-consultative', 'transfer-to-agent', 'transfer-to-number', 'transfer-to-campaign']) {
    document.getElementById(id).addEventListener('change', syncTransfer);
  }
  $('#transfer-form').addEventListener('submit', submitTransfer);
  $('#transfer-cancel').addEventListener('click', () => $('#transfer-dialog').close());
}

// ---------------------------------------------------------------------------
// Campaign calls: manual campaigns (dial a number within the campaign) and
// preview campaigns (reserve the next contact, see it, then call it).
// ---------------------------------------------------------------------------

let previewContact = null; // {campaign, contact, history}

function myDialCampaigns() {
  return store.campaigns.filter((c) => (c.kind === 'manual' || c.kind === 'preview')
    && c.active !== false && (c.agents || []).includes(me()));
}

function renderCampaignDial() {
  const panel = $('#campaign-dial-panel');
  const camps = myDialCampaigns();
  panel.hidden = !camps.length;
  if (!camps.length) return;
  const sel = $('#campaign-dial-select');
  const key = camps.map((c) => `${c.name}:${c.kind}`).join('|');
  if (sel.dataset.key !== key) {
    const cur = sel.value;
    sel.dataset.key = key;
    sel.replaceChildren(...camps.map((c) => h('option', { value: c.name }, `${c.name} (${c.kind})`)));
    if (camps.some((c) => c.name === cur)) sel.value = cur;
  }
  const camp = camps.find((c) => c.name === sel.value) || camps[0];
  $('#campaign-manual-form').hidden = camp.kind !== 'manual';
  const busy = !!currentCall();
  for (const id of ['campaign-dial-call', 'preview-call']) {
    const b = document.getElementById(id);
    if (b) setEnabled(b, !busy, 'Finish the current call first');
  }
  renderPreview();
}

function renderPreview() {
  const box = $('#preview-contact');
  const p = previewContact;
  if (!p || p.campaign !== $('#campaign-dial-select').value) {
    replaceChildren(box);
    return;
  }
  const c = p.contact;
  const extra = c.extra && typeof c.extra === 'object' ? Object.entries(c.extra) : [];
  const past = (p.history?.dispositions || []).map((d) => `${fmtDateTime(d.at)} ${d.name}${d.note ? ` (${d.note})` : ''}`);
  replaceChildren(box, h('div', { class: 'preview-card', id: 'preview-card' },
    h('h3', { id: 'preview-name' }, c.name || c.phone),
    h('dl', { class: 'contact-facts' },
      h('div', {}, h('dt', {}, 'Phone'), h('dd', { id: 'preview-phone' }, c.phone)),
      h('div', {}, h('dt', {}, 'Attempts'), h('dd', {}, String(c.attempts))),
      extra.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, String(v))))),
    past.length ? h('details', {}, h('summary', {}, `Previous outcomes (${past.length})`), h('ul', {}, past.map((x) => h('li', {}, x)))) : null,
    h('div', { class: 'row' },
      h('button', {
        type: 'button', id: 'preview-call', class: 'primary', disabled: !!currentCall(),
        onclick: (e) => dialInCampaign(e.currentTarget, { contact_id: c.id, campaign: p.campaign }, c.name || c.phone),
      }, `Call ${c.name || c.phone}`))));
}

async function dialInCampaign(btn, body, who) {
  const r = await run(btn, () => post('/api/calls', body), `Calling ${who}: answer your phone first`);
  if (r === undefined) return;
  adopt(r);
  if (body.contact_id) previewContact = null;
  if (body.number) $('#campaign-dial-number').value = '';
  renderCall();
  renderCampaignDial();
}

function bindCampaignDial() {
  $('#campaign-dial-select').addEventListener('change', renderCampaignDial);
  $('#campaign-manual-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const n = $('#campaign-dial-number').value.trim();
    if (!n) { showError('Enter the number to call.'); $('#campaign-dial-number').focus(); return; }
    dialInCampaign($('#campaign-dial-call'), { number: n, campaign: $('#campaign-dial-select').value }, n);
  });
  $('#btn-next-contact').addEventListener('click', async (e) => {
    const name = $('#campaign-dial-select').value;
    const r = await run(e.currentTarget, () => post(`/api/campaigns/${encodeURIComponent(name)}/next-contact`),
      (x) => `Next contact: ${x.contact?.name || x.contact?.phone}`);
    if (r === undefined) return;
    previewContact = { campaign: name, contact: r.contact, history: r.history };
    renderPreview();
    $('#preview-call')?.focus();
  });
}

// ---------------------------------------------------------------------------
// Agenda and history
// ---------------------------------------------------------------------------

let agendaRows = [];

export async function loadAgenda(announceIt = false) {
  const include = $('#agenda-include-done').checked;
  try {
    const r = await get(`/api/agenda${qs({ include_done: include ? 'true' : '' })}`);
    agendaRows = r.agenda || [];
    renderAgenda();
    if (announceIt) announce(`Agenda: ${agendaRows.length} entries`);
  } catch (e) {
    showError(`Agenda: ${e.message}`);
  }
}

function renderAgenda() {
  const box = $('#agenda-list');
  if (!agendaRows.length) {
    replaceChildren(box, h('p', { class: 'muted', id: 'agenda-empty' }, 'No callbacks scheduled.'));
    return;
  }
  const now = Date.now();
  const rows = [...agendaRows].sort((a, b) => a.scheduled_at - b.scheduled_at).map((a) => {
    const open = a.status === 'pending' || a.status === 'fired';
    const due = open && a.scheduled_at <= now;
    const camp = a.campaign_id ? campaignById(a.campaign_id)?.name : '';
    return h('tr', { id: `agenda-row-${a.id}`, class: due ? 'due' : '', dataset: { status: a.status } },
      h('td', {}, fmtInOffset(a.scheduled_at, a.tz).replace(/ \(.*$/, ''),
        h('div', { class: 'muted small' }, /^[+-]/.test(a.tz || '') ? `UTC${a.tz}` : (a.tz || '')),
        due ? h('span', { class: 'badge due-badge' }, 'Due') : null),
      h('td', {}, a.phone, camp ? h('div', { class: 'muted small' }, camp) : null),
      h('td', {}, a.reason || '—'),
      h('td', {}, a.kind, h('div', { class: 'muted small' }, a.status)),
      h('td', { class: 'actions' }, open ? [
        h('button', { type: 'button', class: 'small primary agenda-call', id: `agenda-call-${a.id}`, 'aria-label': `Call back ${a.phone}`, onclick: (e) => agendaStep(e.currentTarget, a, 'call') }, 'Call back'),
        h('button', { type: 'button', class: 'small secondary', id: `agenda-done-${a.id}`, 'aria-label': `Mark the callback to ${a.phone} done`, onclick: (e) => agendaStep(e.currentTarget, a, 'done') }, 'Done'),
        h('button', { type: 'button', class: 'small secondary', id: `agenda-cancel-${a.id}`, 'aria-label': `Cancel the callback to ${a.phone}`, onclick: (e) => agendaStep(e.currentTarget, a, 'cancel') }, 'Cancel'),
      ] : null));
  });
  replaceChildren(box, h('table', { class: 'table compact' },
    h('caption', { class: 'sr-only' }, 'Scheduled callbacks'),
    h('thead', {}, h('tr', {}, ['When', 'Phone', 'Reason', 'Kind', h('span', { class: 'sr-only' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

async function agendaStep(btn, a, step) {
  if (step === 'cancel' && !(await confirmDialog(`Cancel the callback to ${a.phone}?`, 'Cancel callback', 'Keep it'))) return;
  const msg = step === 'call' ? `Calling back ${a.phone}: answer your phone first`
    : step === 'done' ? 'Callback marked done' : 'Callback cancelled';
  const r = await run(btn, () => post(`/api/agenda/${encodeURIComponent(a.id)}/${step}`), msg);
  if (r === undefined) return;
  adopt(r.call);
  loadAgenda();
  renderCall();
}

let historyRows = [];

export async function loadHistory(announceIt = false) {
  try {
    const r = await get('/api/history');
    historyRows = r.calls || [];
    renderHistory();
    if (announceIt) announce(`${historyRows.length} calls today`);
  } catch (e) {
    showError(`History: ${e.message}`);
  }
}

function renderHistory() {
  const box = $('#history-list');
  if (!historyRows.length) {
    replaceChildren(box, h('p', { class: 'muted' }, 'No calls today.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table compact' },
    h('caption', { class: 'sr-only' }, "Today's calls"),
    h('thead', {}, h('tr', {}, ['Time', 'Call', 'Campaign', 'Length', 'Result', h('span', { class: 'sr-only' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, historyRows.map((c) => {
      const camp = c.campaign_id ? campaignById(c.campaign_id) : null;
      const dur = c.answered_at ? fmtDuration((c.ended_at || serverNow()) - c.answered_at) : '—';
      return h('tr', { id: `history-row-${c.id}` },
        h('td', {}, fmtTime(c.started_at)),
        h('td', {}, `${c.caller} → ${c.callee}`, h('div', { class: 'muted small' }, c.direction)),
        h('td', {}, camp?.name || '—'),
        h('td', { class: 'num' }, dur),
        h('td', {}, c.ended_at ? (c.end_reason || c.status) : c.status),
        h('td', { class: 'actions' }, c.ended_at ? h('button', {
          type: 'button', class: 'small secondary', id: `history-dispo-${c.id}`,
          'aria-label': `Disposition of the call ${c.caller} → ${c.callee} at ${fmtTime(c.started_at)}`,
          onclick: () => {
            settled.delete(c.id);
            addPending({ call_id: c.id, campaign: camp?.name || null, caller: c.caller, callee: c.callee, direction: c.direction, started_at: c.started_at });
            shownCandidate = null;
            renderDisposition();
            $('#disposition-call').value = c.id;
            shownCandidate = null;
            renderDisposition();
            $('#disposition-select').focus();
          },
        }, 'Disposition') : null));
    }))));
}

// ---------------------------------------------------------------------------

/** Bind the agent console once; later calls only refresh data. */
export function initAgent() {
  if (!initialised) {
    initialised = true;
    bindActions();
    bindDialogs();
    bindCampaignDial();
    on('calls', renderCall);
    on('events', (id) => {
      const c = currentCall();
      if (c && c.call_id === id) renderCallLog(c);
      const known = store.calls.get(id);
      const last = (store.events.get(id) || []).slice(-1)[0];
      if (known && involves(known, me()) && last && LEAVING.includes(last.kind)) {
        setTimeout(reconcileCalls, 300);
      }
      // A campaign call placed outside its calling hours: tell the agent.
      if (known && involves(known, me()) && last && last.kind === 'OUTSIDE_HOURS') {
        announce(`Warning: ${last.detail}`);
      }
    });
    on('agents', (u) => {
      const p = store.agents.get(me());
      if ((u === undefined || u === me()) && p && !['on_call', 'ringing'].includes(p.status) && currentCall()) {
        setTimeout(reconcileCalls, 300);
      }
      if ($('#callout-dialog').open) renderAgentPicker($('#callout-agent-list'), 'callout-agent', [me()]);
      if ($('#transfer-dialog').open) {
        const c = currentCall();
        renderAgentPicker($('#transfer-agent-list'), 'transfer-agent', [me(), c?.customer?.agent].filter(Boolean));
      }
    });
    on('campaigns', () => { shownCandidate = null; renderDisposition(); renderHistory(); renderAgenda(); renderCampaignDial(); });
    on('call_ended', () => { setTimeout(loadHistory, 500); });
    on('agenda_reminder', (a) => {
      if (!a) return;
      announce(`Callback reminder: call ${a.phone} at ${fmtInOffset(a.scheduled_at, a.tz)}${a.reason ? ` (${a.reason})` : ''}`);
      loadAgenda();
    });
  }
  tracked = null;
  settled.clear();
  renderCall();
  loadAgenda();
  loadHistory();
}

/** Forget per-session state on logout. */
export function resetAgent() {
  tracked = null;
  settled.clear();
  contactCache.clear();
  agendaRows = [];
  historyRows = [];
  shownCandidate = null;
  previewContact = null;
}

/** Agenda reminder: personal callbacks that became due since the last check. */
const reminded = new Set();
export function checkAgendaDue() {
  const now = Date.now();
  for (const a of agendaRows) {
    if ((a.status === 'pending' || a.status === 'fired') && a.scheduled_at <= now && !reminded.has(a.id)) {
      reminded.add(a.id);
      if (a.scheduled_at > now - 60000) announce(`Callback due now: ${a.phone}${a.reason ? ` (${a.reason})` : ''}`);
    }
  }
  if (agendaRows.some((a) => a.scheduled_at <= now && !document.querySelector(`#agenda-row-${CSS.escape(a.id)}.due`)
    && (a.status === 'pending' || a.status === 'fired'))) renderAgenda();
}

export { fmtDateTime };
