// Admin view: agents, campaigns (kind, DID, recording, music, strategy, outbound trunks and caller ID,
// timers, dispositions, members), trunks (health, registration), pause
// reasons, contact CSV import and contact search.

import { get, post, put, del, qs, ApiError, getToken } from './api.js';
import {
  $, h, replaceChildren, announce, showError, clearError, run, openDialog, dialogError, confirmDialog,
  fmtDateTime,
} from './dom.js';
import { store, on, emit } from './store.js';

let initialised = false;
let adminAgents = [];
/** How the agents table shows the audio setting. */
const AUDIO_LABELS = { either: 'Chosen at login', browser: 'Browser only', phone: 'SIP phone only' };

// ---------------------------------------------------------------------------
// Trunks: addresses, health and registration (GET /api/trunks)
// ---------------------------------------------------------------------------

// Names of the configured trunks (the campaign form's hint).
let trunkNames = [];

export async function loadTrunks() {
  try {
    const r = await get('/api/trunks');
    trunkNames = (r.trunks || []).map((t) => t.name);
    renderTrunks(r.trunks || []);
  } catch (e) {
    showError(`Trunks: ${e.message}`);
  }
}

function registrationText(r) {
  if (!r) return 'not registering';
  switch (r.state) {
    case 'registered': return `registered (expires in ${r.expires_in_secs} s)`;
    case 'failed': return `failed: ${r.reason || 'unknown'} (retry in ${r.retry_in_secs} s)`;
    case 'waiting': return 'waiting for DNS';
    default: return r.state;
  }
}

function renderTrunks(trunks) {
  const box = $('#admin-trunks');
  if (!trunks.length) {
    replaceChildren(box, h('p', { class: 'muted' }, 'No trunks configured.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, 'Trunks'),
    h('thead', {}, h('tr', {}, ['Name', 'Host', 'Priority', 'Health', 'Addresses', 'Registration'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, trunks.map((t) => h('tr', { id: `admin-trunk-${t.name}`, class: t.health === 'down' ? 'disabled-row' : '' },
      h('th', { scope: 'row' }, t.name),
      h('td', {}, t.host),
      h('td', {}, String(t.priority)),
      h('td', {}, t.health),
      h('td', {}, t.resolve_error
        ? `DNS: ${t.resolve_error}`
        : (t.targets || []).map((x) => `${x.address} ${x.health}${x.reason ? ` (${x.reason})` : ''}`).join(', ') || '—'),
      h('td', {}, registrationText(t.registration)))))));
}

// ---------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------

export async function loadAdminAgents() {
  try {
    const r = await get('/api/admin/agents');
    adminAgents = r.agents || [];
    renderAgents();
  } catch (e) {
    showError(`Agents: ${e.message}`);
  }
}

function renderAgents() {
  const box = $('#admin-agents');
  if (!adminAgents.length) {
    replaceChildren(box, h('p', { class: 'muted' }, 'No agents.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, 'Agents'),
    h('thead', {}, h('tr', {}, ['Username', 'Name', 'Role', 'Groups', 'Audio', 'Status', 'Created', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, adminAgents.map((a) => h('tr', { id: `admin-agent-${a.username}`, class: a.enabled ? '' : 'disabled-row' },
      h('th', { scope: 'row' }, a.username),
      h('td', {}, a.display_name),
      h('td', {}, a.role),
      h('td', {}, (a.groups || []).join(', ') || '—'),
      h('td', {}, AUDIO_LABELS[a.audio] || a.audio || '—'),
      h('td', {}, a.enabled ? 'Enabled' : 'Disabled'),
      h('td', {}, fmtDateTime(a.created_at)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'small secondary', id: `agent-edit-${a.username}`, 'aria-haspopup': 'dialog', onclick: (e) => openAgent(e.currentTarget, a) }, `Edit ${a.username}`),
        a.enabled
          ? h('button', { type: 'button', class: 'small danger', id: `agent-disable-${a.username}`, 'aria-label': `Disable ${a.username}`, onclick: (e) => disableAgent(e.currentTarget, a) }, 'Disable')
          : h('button', { type: 'button', class: 'small secondary', id: `agent-enable-${a.username}`, 'aria-label': `Enable ${a.username}`, onclick: (e) => enableAgent(e.currentTarget, a) }, 'Enable')))))));
}

function openAgent(opener, a) {
  const editing = !!a;
  $('#agent-dialog-title').textContent = editing ? `Edit agent ${a.username}` : 'New agent';
  $('#agent-form-id').value = a?.id || '';
  const user = $('#agent-form-username');
  user.value = a?.username || '';
  user.readOnly = editing;
  user.setAttribute('aria-readonly', String(editing));
  $('#agent-form-name').value = a?.display_name || '';
  $('#agent-form-password').value = '';
  $('#agent-form-password').required = !editing;
  $('#agent-form-sip-password').value = '';
  $('#agent-form-sip-password').required = !editing;
  $('#agent-form-role').value = a?.role || 'agent';
  $('#agent-form-groups').value = (a?.groups || []).join(', ');
  $('#agent-form-audio').value = a?.audio || 'either';
  $('#agent-form-enabled').checked = a ? !!a.enabled : true;
  renderScope(editing && a.role === 'supervisor' ? a.username : null);
  openDialog($('#agent-dialog'), opener);
  (editing ? $('#agent-form-name') : user).focus();
}

/** The campaign checkboxes of a supervisor (an admin limits what they see). */
async function renderScope(supervisor) {
  const box = $('#agent-form-scope');
  box.hidden = !supervisor;
  box.dataset.supervisor = supervisor || '';
  const list = $('#agent-form-scope-list');
  list.replaceChildren();
  if (!supervisor) return;
  let assigned = [];
  try {
    assigned = (await get(`/api/admin/supervisors/${encodeURIComponent(supervisor)}/campaigns`)).campaigns || [];
  } catch { /* shown as none ticked */ }
  list.replaceChildren(...store.campaigns.map((c) => h('label', { class: 'inline-check' },
    h('input', { type: 'checkbox', value: c.name, checked: assigned.includes(c.name), 'data-testid': `scope-${c.name}` }), ` ${c.name}`)));
}

/** Save the supervisor's campaigns when the dialog showed them. */
async function saveScope() {
  const supervisor = $('#agent-form-scope').dataset.supervisor;
  if (!supervisor || $('#agent-form-role').value !== 'supervisor') return true;
  const campaigns = [...document.querySelectorAll('#agent-form-scope-list input:checked')].map((i) => i.value);
  const r = await run($('#agent-form-submit'),
    () => put(`/api/admin/supervisors/${encodeURIComponent(supervisor)}/campaigns`, { campaigns }),
    'Supervisor campaigns saved');
  return r !== undefined;
}

async function submitAgent(e) {
  e.preventDefault();
  const dlg = $('#agent-dialog');
  const id = $('#agent-form-id').value;
  const body = {
    name: $('#agent-form-name').value.trim() || undefined,
    role: $('#agent-form-role').value,
    audio: $('#agent-form-audio').value,
    enabled: $('#agent-form-enabled').checked,
    groups: $('#agent-form-groups').value.split(',').map((s) => s.trim()).filter(Boolean),
  };
  const pw = $('#agent-form-password').value;
  const sip = $('#agent-form-sip-password').value;
  if (pw) body.password = pw;
  if (sip) body.sip_password = sip;
  if (!id) {
    body.username = $('#agent-form-username').value.trim();
    if (!body.username) { dialogError(dlg, 'Enter the username.'); $('#agent-form-username').focus(); return; }
  }
  const r = await run($('#agent-form-submit'),
    () => (id ? put(`/api/admin/agents/${encodeURIComponent(id)}`, body) : post('/api/admin/agents', body)),
    id ? 'Agent saved' : `Agent ${body.username} created`);
  if (r === undefined) { dialogError(dlg, $('#error-text').textContent); return; }
  if (!(await saveScope())) { dialogError(dlg, $('#error-text').textContent); return; }
  dlg.close();
  await loadAdminAgents();
  refreshPresence();
}

async function disableAgent(btn, a) {
  if (!(await confirmDialog(`Disable agent ${a.username}? They can no longer log in or take calls.`, 'Disable'))) return;
  const r = await run(btn, () => del(`/api/admin/agents/${encodeURIComponent(a.id)}`), `Agent ${a.username} disabled`);
  if (r !== undefined) {
    await loadAdminAgents();
    refreshPresence();
    document.getElementById(`agent-enable-${a.username}`)?.focus();
  }
}

async function enableAgent(btn, a) {
  const r = await run(btn, () => put(`/api/admin/agents/${encodeURIComponent(a.id)}`, { enabled: true }), `Agent ${a.username} enabled`);
  if (r !== undefined) {
    await loadAdminAgents();
    refreshPresence();
    document.getElementById(`agent-disable-${a.username}`)?.focus();
  }
}

/** Live presence list after agents change (the snapshot only arrives on connect). */
async function refreshPresence() {
  try {
    const r = await get('/api/agents');
    const fresh = new Map((r.agents || []).map((a) => [a.username, a]));
    store.agents = fresh;
    emit('agents');
  } catch { /* shown elsewhere */ }
}

// ---------------------------------------------------------------------------
// Campaigns
// ---------------------------------------------------------------------------

export async function loadCampaigns() {
  try {
    const r = await get('/api/campaigns');
    store.campaigns = r.campaigns || [];
    emit('campaigns');
  } catch (e) {
    showError(`Campaigns: ${e.message}`);
  }
}

function renderCampaigns() {
  const box = $('#admin-campaigns');
  if (!box) return;
  if (!store.campaigns.length) {
    replaceChildren(box, h('p', { class: 'muted' }, 'No campaigns yet.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, 'Campaigns'),
    h('thead', {}, h('tr', {}, ['Name', 'Kind', 'DID', 'Recording', 'Music', 'Strategy', 'ACW', 'Dispositions', 'Members', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, store.campaigns.map((c) => h('tr', { id: `admin-campaign-${c.name}`, class: c.active === false ? 'disabled-row' : '' },
      h('th', { scope: 'row' }, c.name),
      h('td', {}, c.kind),
      h('td', {}, c.did || '—'),
      h('td', {}, c.auto_recording ? 'Automatic' : 'On demand'),
      h('td', {}, c.music_class),
      h('td', {}, c.strategy),
      h('td', { class: 'num' }, `${c.acw_secs} s`),
      h('td', {}, (c.dispositions || []).join(', ') || '—'),
      h('td', {}, (c.agents || []).join(', ') || '—'),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'small secondary', id: `campaign-edit-${c.name}`, 'aria-haspopup': 'dialog',
        onclick: (e) => openCampaign(e.currentTarget, c),
      }, `Edit ${c.name}`)))))));
}

async function openCampaign(opener, c) {
  if (!adminAgents.length) await loadAdminAgents();
  $('#campaign-dialog-title').textContent = c ? `Edit campaign ${c.name}` : 'New campaign';
  $('#campaign-form-id').value = c?.id || '';
  $('#campaign-form-name').value = c?.name || '';
  $('#campaign-form-kind').value = c?.kind || 'inbound';
  $('#campaign-form-did').value = c?.did || '';
  const music = $('#campaign-form-music');
  const classes = store.musicClasses.length ? store.musicClasses : ['default'];
  const want = c?.music_class || 'default';
  music.replaceChildren(...[...new Set([...classes, want])].map((m) => h('option', { value: m }, m)));
  music.value = want;
  $('#campaign-form-strategy').value = c?.strategy || 'longest_idle';
  $('#campaign-form-queue-timeout').value = c?.queue_timeout_secs ?? 60;
  $('#campaign-form-acw').value = c?.acw_secs ?? 10;
  $('#campaign-form-overflow').value = c?.overflow_target || '';
  $('#campaign-form-ratio').value = c?.dialer_ratio ?? 1;
  $('#campaign-form-attempts').value = c?.max_attempts ?? 3;
  $('#campaign-form-retry').value = c?.retry_delay_secs ?? 3600;
  $('#campaign-form-recording').checked = !!c?.auto_recording;
  $('#campaign-form-active').checked = c ? c.active !== false : true;
  $('#campaign-form-dispositions').value = (c?.dispositions || []).join('\n');
  const sup = c?.supervision || {};
  $('#campaign-form-notice').value = sup.notice || 'whisper_barge';
  $('#campaign-form-sl').value = sup.service_level_secs ?? 20;
  $('#campaign-form-alert-sl').value = sup.alert_service_level_below ?? '';
  $('#campaign-form-alert-wait').value = sup.alert_longest_wait_secs ?? '';
  const out = c?.outbound || {};
  $('#campaign-form-trunks').value = (out.trunks || []).join(', ');
  $('#campaign-form-trunks-hint').textContent = `Empty: the trunks' own priority and prefixes.${trunkNames.length ? ` Configured: ${trunkNames.join(', ')}.` : ''}`;
  $('#campaign-form-cid-number').value = out.caller_id?.number || '';
  $('#campaign-form-cid-name').value = out.caller_id?.name || '';
  $('#campaign-form-cid-privacy').checked = !!out.caller_id?.privacy;
  const members = new Set(c?.agents || []);
  replaceChildren($('#campaign-form-members'), adminAgents.filter((a) => a.enabled).map((a) => h('label', { class: 'inline-check' },
    h('input', { type: 'checkbox', value: a.username, id: `campaign-member-${a.username}`, checked: members.has(a.username) }),
    ` ${a.display_name && a.display_name !== a.username ? `${a.display_name} (${a.username})` : a.username}`)));
  syncCampaignKind();
  openDialog($('#campaign-dialog'), opener);
  $('#campaign-form-name').focus();
}

function syncCampaignKind() {
  const inbound = $('#campaign-form-kind').value === 'inbound';
  $('#campaign-form-did').closest('.field').classList.toggle('dim', !inbound);
}

async function submitCampaign(e) {
  e.preventDefault();
  const dlg = $('#campaign-dialog');
  const id = $('#campaign-form-id').value;
  const num = (sel, def) => {
    const v = $(sel).value;
    return v === '' ? def : Number(v);
  };
  const name = $('#campaign-form-name').value.trim();
  if (!name) { dialogError(dlg, 'Enter the campaign name.'); $('#campaign-form-name').focus(); return; }
  const dispositions = $('#campaign-form-dispositions').value.split('\n').map((s) => s.trim()).filter(Boolean);
  if (dispositions.some((d) => d === 'Agenda')) {
    dialogError(dlg, '"Agenda" is built in: remove it from the list.');
    $('#campaign-form-dispositions').focus();
    return;
  }
  const cidNumber = $('#campaign-form-cid-number').value.trim();
  const cidName = $('#campaign-form-cid-name').value.trim();
  if (!cidNumber && (cidName || $('#campaign-form-cid-privacy').checked)) {
    dialogError(dlg, 'Enter the caller ID number (or clear the name and privacy).');
    $('#campaign-form-cid-number').focus();
    return;
  }
  const outbound = {
    trunks: $('#campaign-form-trunks').value.split(',').map((s) => s.trim()).filter(Boolean),
    caller_id: cidNumber
      ? { number: cidNumber, name: cidName || null, privacy: $('#campaign-form-cid-privacy').checked }
      : null,
  };
  const body = {
    name,
    kind: $('#campaign-form-kind').value,
    did: $('#campaign-form-did').value.trim() || null,
    auto_recording: $('#campaign-form-recording').checked,
    music_class: $('#campaign-form-music').value || 'default',
    strategy: $('#campaign-form-strategy').value,
    queue_timeout_secs: num('#campaign-form-queue-timeout', 60),
    overflow_target: $('#campaign-form-overflow').value.trim() || null,
    acw_secs: num('#campaign-form-acw', 10),
    dialer_ratio: num('#campaign-form-ratio', 1),
    max_attempts: num('#campaign-form-attempts', 3),
    retry_delay_secs: num('#campaign-form-retry', 3600),
    active: $('#campaign-form-active').checked,
    dispositions,
    agents: [...document.querySelectorAll('#campaign-form-members input:checked')].map((i) => i.value),
    supervision: {
      notice: $('#campaign-form-notice').value,
      service_level_secs: num('#campaign-form-sl', 20),
      alert_service_level_below: num('#campaign-form-alert-sl', null),
      alert_longest_wait_secs: num('#campaign-form-alert-wait', null),
    },
    outbound,
  };
  const r = await run($('#campaign-form-submit'),
    () => (id ? put(`/api/campaigns/${encodeURIComponent(id)}`, body) : post('/api/campaigns', body)),
    id ? `Campaign ${name} saved` : `Campaign ${name} created`);
  if (r === undefined) { dialogError(dlg, $('#error-text').textContent); return; }
  dlg.close();
  await loadCampaigns();
}

// ---------------------------------------------------------------------------
// Pause reasons
// ---------------------------------------------------------------------------

export async function loadPauseReasons() {
  try {
    const r = await get('/api/pause-reasons');
    store.pauseReasons = r.pause_reasons || [];
    emit('pause_reasons');
  } catch (e) {
    showError(`Pause reasons: ${e.message}`);
  }
}

function renderPauseReasons() {
  const list = $('#pause-reason-list');
  if (!list) return;
  replaceChildren(list, store.pauseReasons.length
    ? store.pauseReasons.map((p) => h('li', { class: 'chip' }, p.name))
    : h('li', { class: 'muted' }, 'None yet: agents can pause with any reason.'));
}

async function addPauseReason(e) {
  e.preventDefault();
  const input = $('#pause-reason-name');
  const name = input.value.trim();
  if (!name) { showError('Enter the pause reason.'); input.focus(); return; }
  const r = await run($('#pause-reason-add'), () => post('/api/pause-reasons', { name }), `Pause reason "${name}" added`);
  if (r !== undefined) { input.value = ''; await loadPauseReasons(); input.focus(); }
}

// ---------------------------------------------------------------------------
// Contacts: CSV import and search
// ---------------------------------------------------------------------------

function fillCampaignSelects() {
  for (const sel of [$('#import-campaign'), $('#contacts-campaign')]) {
    if (!sel) continue;
    const cur = sel.value;
    const first = sel.options[0]?.textContent || 'None';
    sel.replaceChildren(h('option', { value: '' }, first), ...store.campaigns.map((c) => h('option', { value: c.name }, c.name)));
    sel.value = cur;
  }
}

/** POST `blob` as raw bytes (the file as the spreadsheet saved it, any
 * encoding) with upload progress `onProgress(0..1)`; resolves to the JSON
 * answer or rejects with an ApiError like the other calls. */
function upload(path, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'text/csv');
    const token = getToken();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) onProgress(ev.loaded / ev.total); };
    xhr.upload.onload = () => onProgress(1);
    xhr.onerror = () => reject(new ApiError(0, 'cannot reach the server'));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = xhr.responseText; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data?.error || `${xhr.status} error`, data));
    };
    xhr.send(blob);
  });
}

async function importContacts(e) {
  e.preventDefault();
  const out = $('#import-result');
  replaceChildren(out);
  const list = $('#import-list').value.trim();
  if (!list) { showError('Enter the contact list name.'); $('#import-list').focus(); return; }
  // A file goes as the bytes the spreadsheet wrote (Windows-1252, UTF-16...):
  // the server detects the encoding; pasted text is UTF-8.
  const file = $('#import-file').files[0];
  const text = $('#import-text').value;
  const body = file || new Blob([text], { type: 'text/csv' });
  if (!file && !text.trim()) { showError('Choose a CSV file or paste the CSV text.'); $('#import-file').focus(); return; }
  const btn = $('#import-submit');
  if (btn.dataset.busy) return;
  btn.dataset.busy = '1';
  btn.setAttribute('aria-busy', 'true');
  const bar = $('#import-progress');
  const status = $('#import-status');
  const kb = Math.max(1, Math.round(body.size / 1024));
  bar.hidden = false;
  bar.value = 0;
  status.textContent = `Sending ${kb} KB…`;
  try {
    const r = await upload(`/api/contacts/import${qs({ list, campaign: $('#import-campaign').value })}`, body, (f) => {
      bar.value = Math.round(f * 100);
      status.textContent = f < 1 ? `Sending ${kb} KB… ${Math.round(f * 100)}%` : 'Checking every line and importing…';
    });
    const n = r.report?.imported ?? 0;
    const dups = r.report?.duplicates ?? [];
    clearError();
    announce(`Imported ${n} contacts into list ${list}`);
    const read = r.report?.encoding ? ` Read as ${r.report.encoding}, "${r.report.delimiter === '\t' ? 'tab' : r.report.delimiter}" separated.` : '';
    replaceChildren(out, h('p', { class: 'ok', id: 'import-ok' }, `Imported ${n} contacts into list "${list}".${read}`),
      dups.length ? h('p', { id: 'import-duplicates' },
        `${dups.length} duplicate${dups.length === 1 ? '' : 's'} skipped: `,
        dups.slice(0, 20).map((d) => `line ${d.line} (${d.phone}${d.first_line ? `, as line ${d.first_line}` : ', already in the list'})`).join('; '),
        dups.length > 20 ? '…' : '') : null);
  } catch (err) {
    let report = null;
    if (err instanceof ApiError && err.status === 422) {
      report = err.body?.report ?? null;
    }
    if (report && Array.isArray(report.errors)) {
      const n = report.errors.length;
      showError(`Nothing was imported: ${n} line${n === 1 ? '' : 's'} ha${n === 1 ? 's' : 've'} errors.`);
      replaceChildren(out, h('div', { class: 'import-errors' },
        h('p', {}, `Nothing was imported. Fix ${n === 1 ? 'this line' : 'these lines'} and try again:`),
        h('ul', { id: 'import-errors' }, report.errors.map((x) => h('li', {}, h('strong', {}, `Line ${x.line}: `), x.reason)))));
    } else {
      showError(err.message);
    }
  } finally {
    delete btn.dataset.busy;
    btn.removeAttribute('aria-busy');
    bar.hidden = true;
    status.textContent = '';
  }
}

async function searchContacts(e) {
  e.preventDefault();
  const r = await run($('#contacts-search'),
    () => get(`/api/contacts${qs({ q: $('#contacts-q').value.trim(), campaign: $('#contacts-campaign').value, limit: 200 })}`),
    (x) => { const n = (x.contacts || []).length; return `${n} contact${n === 1 ? '' : 's'} found`; });
  if (r === undefined) return;
  const rows = r.contacts || [];
  const box = $('#contacts-results');
  if (!rows.length) { replaceChildren(box, h('p', { class: 'muted' }, 'No contacts match.')); return; }
  const campName = (id) => store.campaigns.find((c) => c.id === id)?.name || '—';
  replaceChildren(box, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, 'Contacts'),
    h('thead', {}, h('tr', {}, ['Name', 'Phone', 'Campaign', 'Status', 'Attempts', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((c) => h('tr', {},
      h('td', {}, c.name || '—'),
      h('td', {}, c.phone),
      h('td', {}, campName(c.campaign_id)),
      h('td', {}, c.status),
      h('td', { class: 'num' }, String(c.attempts)),
      h('td', {}, Object.entries(c.extra || {}).map(([k, v]) => `${k}: ${v}`).join('; ') || '—'))))));
}

// ---------------------------------------------------------------------------

export function initAdmin() {
  if (!initialised) {
    initialised = true;
    $('#btn-new-agent').addEventListener('click', (e) => openAgent(e.currentTarget, null));
    $('#agent-form').addEventListener('submit', submitAgent);
    $('#agent-form-cancel').addEventListener('click', () => $('#agent-dialog').close());
    $('#btn-new-campaign').addEventListener('click', (e) => openCampaign(e.currentTarget, null));
    $('#campaign-form').addEventListener('submit', submitCampaign);
    $('#campaign-form-cancel').addEventListener('click', () => $('#campaign-dialog').close());
    $('#campaign-form-kind').addEventListener('change', syncCampaignKind);
    $('#pause-reason-form').addEventListener('submit', addPauseReason);
    $('#import-form').addEventListener('submit', importContacts);
    $('#contacts-form').addEventListener('submit', searchContacts);
    $('#btn-refresh-trunks').addEventListener('click', (e) => run(e.currentTarget, loadTrunks));
    on('campaigns', () => { renderCampaigns(); fillCampaignSelects(); });
    on('pause_reasons', renderPauseReasons);
  }
  renderCampaigns();
  renderPauseReasons();
  fillCampaignSelects();
}

export function showAdmin() {
  loadAdminAgents();
  loadTrunks();
}

export function resetAdmin() { adminAgents = []; }
