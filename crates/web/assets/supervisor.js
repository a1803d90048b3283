// Supervisor view: live wall of agents, queues, campaigns and live calls,
// and the recordings module (search with tags, playback, download).

import { get, post, put, qs, serverNow } from './api.js';
import {
  $, h, replaceChildren, announce, showError, run, confirmDialog,
  fmtDuration, fmtDateTime, fmtTime, statusLabel, callStateLabel, targetLabel,
} from './dom.js';
import { store, on, involves } from './store.js';

let initialised = false;

function agentCall(username) {
  return [...store.calls.values()].find((c) => c.state !== 'ended' && involves(c, username)) || null;
}

export function renderWall() {
  const wall = $('#agent-wall');
  const agents = [...store.agents.values()].sort((a, b) => a.username.localeCompare(b.username));
  const counts = {};
  for (const a of agents) counts[a.status] = (counts[a.status] || 0) + 1;
  $('#wall-summary').textContent = Object.entries(counts)
    .map(([s, n]) => `${n} ${statusLabel(s).toLowerCase()}`).join(' · ');
  if (!agents.length) {
    replaceChildren(wall, h('li', { class: 'muted' }, 'No agents.'));
    return;
  }
  replaceChildren(wall, agents.map((a) => {
    const c = agentCall(a.username);
    const label = statusLabel(a.status) + (a.status === 'paused' && a.pause_reason ? ` (${a.pause_reason})` : '')
      + (a.chosen_by && a.chosen === a.status ? ` by ${a.chosen_by}` : '');
    return h('li', {
      class: 'agent-card', id: `agent-card-${a.username}`, 'data-testid': `agent-card-${a.username}`,
      dataset: { status: a.status || 'offline' },
      'aria-label': `${a.name || a.username}: ${label}`,
    },
    h('div', { class: 'agent-card-head' },
      h('span', { class: 'agent-card-name' }, a.name || a.username),
      h('span', { class: 'muted' }, a.username)),
    h('div', { class: 'agent-card-state' },
      h('span', { class: 'badge agent-state', dataset: { status: a.status } }, label),
      h('span', { class: 'timer', dataset: { since: a.since || '' }, 'aria-label': 'time in state' }, a.since ? fmtDuration(serverNow() - a.since) : '')),
    h('div', { class: 'agent-card-phone small', dataset: { registered: String(!!a.registered) } },
      a.registered ? 'Phone registered' : 'Phone not registered'),
    c ? h('div', { class: 'agent-card-call small' },
      h('span', { class: 'badge call-state', dataset: { state: c.state } }, callStateLabel(c.state)), ' ',
      `${c.caller} → ${c.callee}`, c.campaign ? ` · ${c.campaign}` : '', ' ',
      h('span', { class: 'timer', dataset: { since: c.answered_at || c.started_at } }, fmtDuration(serverNow() - (c.answered_at || c.started_at))))
      : null,
    c ? superviseButtons(a, c) : null,
    stateControl(a));
  }));
}

/** The agent's chosen state, shown and changed by the supervisor: ready,
 * paused with a reason, or logged out. An agent on a call keeps it and takes
 * the new state after it. */
function stateControl(a) {
  const who = a.name || a.username;
  const reasons = store.pauseReasons.map((r) => r.name);
  const current = a.chosen === 'paused' ? `paused:${a.pause_reason || ''}` : a.chosen || 'offline';
  const values = ['ready', ...(reasons.length ? reasons : ['Break']).map((r) => `paused:${r}`), 'offline'];
  if (!values.includes(current)) values.splice(1, 0, current);
  const label = (v) => (v === 'ready' ? 'Ready' : v === 'offline' ? 'Logged out' : `Paused: ${v.slice(7)}`);
  const sel = h('select', {
    class: 'small', id: `agent-state-${a.username}`, 'aria-label': `State chosen for ${who}`,
    onchange: async (e) => {
      const s = e.currentTarget;
      const [state, reason] = s.value.split(/:(.*)/s);
      const body = state === 'paused' ? { state, reason } : { state };
      const r = await run(s, () => put(`/api/agents/${encodeURIComponent(a.username)}/state`, body),
        `${who}: ${state === 'offline' ? 'logged out' : state}`);
      if (r === undefined) s.value = current;
    },
  }, ...values.map((v) => h('option', { value: v }, label(v))));
  sel.value = current;
  return h('div', { class: 'agent-card-set-state small' }, sel);
}

/** States in which a call can be supervised (answered, not over). */
const SUPERVISABLE = ['connected', 'held', 'transferring', 'consulting', 'conference'];

/** Listen / whisper / barge / take over / stop on the agent's current call
 * (the supervisor's phone is rung on the first one; later ones change the mode live). */
function superviseButtons(a, c) {
  const me = store.me?.username;
  if (!me || a.username === me || !SUPERVISABLE.includes(c.state)) return null;
  const mine = (c.supervisions || []).find((s) => s.supervisor === me);
  const act = (mode, label) => h('button', {
    type: 'button',
    class: 'small' + (mine?.mode === mode ? ' active' : ''),
    id: `supervise-${mode}-${a.username}`,
    'aria-pressed': mine?.mode === mode ? 'true' : undefined,
    onclick: (e) => run(e.currentTarget,
      () => post(`/api/calls/${encodeURIComponent(c.call_id)}/supervise`, { mode }),
      `${label}: ${a.name || a.username}`),
  }, label);
  return h('div', { class: 'agent-card-supervise small', role: 'group', 'aria-label': `Supervise ${a.username}` },
    act('listen', 'Listen'), act('whisper', 'Whisper'), act('barge', 'Barge'),
    mine ? act('takeover', 'Take over') : null,
    mine ? act('stop', 'Stop') : null,
    mine ? h('span', { class: 'muted' }, mine.answered ? ` ${mine.mode}` : ' ringing your phone…') : null);
}

function renderQueues() {
  const box = $('#queue-list');
  const inbound = store.campaigns.filter((c) => c.kind === 'inbound');
  const byName = new Map(store.queues.map((q) => [q.campaign, q]));
  const names = [...new Set([...inbound.map((c) => c.name), ...store.queues.map((q) => q.campaign)])];
  if (!names.length) {
    replaceChildren(box, h('p', { class: 'muted' }, 'No inbound campaigns.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, 'Inbound queues'),
    h('thead', {}, h('tr', {}, ['Campaign', 'Waiting', 'Longest wait', 'Being offered to', 'Service level', 'Answered', 'Abandoned', 'Avg handle', 'Agents']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, names.map((n) => {
      const q = byName.get(n);
      const waiting = q?.waiting || 0;
      const since = waiting ? store.queuesAt - (q.longest_wait_ms || 0) : 0;
      const ringing = (q?.calls || []).map((x) => x.ringing).filter(Boolean);
      const sl = q?.service_level;
      const alerts = q?.alerts || [];
      const alertOf = (kind) => alerts.find((a) => a.kind === kind);
      const slAlert = alertOf('service_level');
      const waitAlert = alertOf('longest_wait');
      return h('tr', { id: `queue-row-${n}`, class: [waiting ? 'waiting' : '', alerts.length ? 'alert' : ''].filter(Boolean).join(' '), dataset: { alerts: alerts.map((a) => a.kind).join(' ') } },
        h('th', { scope: 'row' }, n),
        h('td', { class: 'num', id: `queue-waiting-${n}` }, String(waiting)),
        h('td', { id: `queue-wait-${n}`, class: waitAlert ? 'alert' : '' },
          waiting ? h('span', { class: 'timer', dataset: { since } }, fmtDuration(serverNow() - since)) : '—',
          waitAlert ? h('span', { class: 'badge alert-badge', id: `queue-alert-wait-${n}` }, ` over ${waitAlert.above_secs}s`) : null),
        h('td', {}, ringing.join(', ') || '—'),
        h('td', { class: 'num' + (slAlert ? ' alert' : ''), id: `queue-sl-${n}` },
          sl && sl.percent !== null && sl.percent !== undefined ? `${sl.percent}% in ${sl.threshold_secs}s` : '—',
          slAlert ? h('span', { class: 'badge alert-badge', id: `queue-alert-sl-${n}` }, ` below ${slAlert.below}%`) : null),
        h('td', { class: 'num', id: `queue-answered-${n}` }, sl ? `${sl.answered} (${sl.answered_within} in ${sl.threshold_secs}s)` : '—'),
        h('td', { class: 'num', id: `queue-abandoned-${n}` }, sl ? String(sl.abandoned) : '—'),
        h('td', { class: 'num', id: `queue-aht-${n}`, title: sl?.handled ? `${sl.handled} calls ended` : '' },
          sl && sl.avg_handle_secs !== null && sl.avg_handle_secs !== undefined ? fmtDuration(sl.avg_handle_secs * 1000) : '—'),
        h('td', { class: 'small' }, agentsByState(n)));
    }))));
}

/** Member agents of a campaign counted by state ("2 ready · 1 on call"). */
function agentsByState(campaign) {
  const c = store.campaigns.find((x) => x.name === campaign);
  const counts = {};
  for (const u of c?.agents || []) {
    const a = store.agents.get(u);
    if (a) counts[a.status] = (counts[a.status] || 0) + 1;
  }
  const parts = Object.entries(counts).map(([s, k]) => `${k} ${statusLabel(s).toLowerCase()}`);
  return parts.join(' · ') || '—';
}

function renderCampaigns() {
  const box = $('#campaign-list');
  if (!store.campaigns.length) {
    replaceChildren(box, h('p', { class: 'muted' }, 'No campaigns.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, 'Campaigns'),
    h('thead', {}, h('tr', {}, ['Campaign', 'Kind', 'DID', 'Agents ready', 'On call', 'Recording'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, store.campaigns.map((c) => {
      const members = (c.agents || []).map((u) => store.agents.get(u)).filter(Boolean);
      const ready = members.filter((a) => a.status === 'ready').length;
      const busy = members.filter((a) => a.status === 'on_call' || a.status === 'ringing').length;
      return h('tr', { id: `campaign-row-${c.name}` },
        h('th', { scope: 'row' }, c.name, c.active === false ? h('span', { class: 'muted' }, ' (inactive)') : null),
        h('td', {}, c.kind),
        h('td', {}, c.did || '—'),
        h('td', { class: 'num' }, `${ready} / ${members.length}`),
        h('td', { class: 'num' }, String(busy)),
        h('td', {}, c.auto_recording ? 'Automatic' : 'On demand'));
    }))));
}

/** Below this MOS a call sounds poor (as `/metrics` counts it). */
const POOR_MOS = 3.6;

/** The worst live MOS of a call's legs, or null before any measure. */
function callMos(c) {
  const all = [c.customer, c.agent_leg, c.third].map((l) => l?.quality?.mos).filter((m) => typeof m === 'number');
  return all.length ? Math.min(...all) : null;
}

/** The call's live MOS, red below 3.6; the tooltip gives each side's loss and jitter. */
function mosCell(c) {
  const mos = callMos(c);
  if (mos === null) return h('td', { class: 'muted' }, '—');
  const side = (name, l) => (l?.quality ? `${name}: MOS ${l.quality.mos ?? '—'}, loss ${l.quality.loss_percent}%, jitter ${l.quality.jitter_ms} ms` : null);
  const title = [side('customer', c.customer), side('agent', c.agent_leg)].filter(Boolean).join('\n');
  return h('td', {}, h('span', {
    class: mos < POOR_MOS ? 'mos mos-poor' : 'mos', id: `live-mos-${c.call_id}`, title,
  }, mos.toFixed(1)));
}

function renderLiveCalls() {
  const box = $('#live-calls');
  const calls = [...store.calls.values()].filter((c) => c.state !== 'ended')
    .sort((a, b) => (a.started_at || 0) - (b.started_at || 0));
  if (!calls.length) {
    replaceChildren(box, h('p', { class: 'muted' }, 'No live calls.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, 'Live calls'),
    h('thead', {}, h('tr', {}, ['State', 'From', 'To', 'Agent', 'Campaign', 'Duration', 'MOS', 'Transfer', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, calls.map((c) => h('tr', { id: `live-call-${c.call_id}` },
      h('td', {}, h('span', { class: 'badge call-state', dataset: { state: c.state } }, callStateLabel(c.state)),
        c.recording ? h('span', { class: 'rec-indicator small' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), ' rec') : null),
      h('td', {}, c.caller),
      h('td', {}, c.callee),
      h('td', {}, c.agent || c.customer?.agent || '—'),
      h('td', {}, c.campaign || '—'),
      h('td', {}, h('span', { class: 'timer', dataset: { since: c.answered_at || c.started_at } }, fmtDuration(serverNow() - (c.answered_at || c.started_at)))),
      mosCell(c),
      h('td', {}, c.transfer ? `${c.transfer.kind} → ${targetLabel(c.transfer.target)} (${c.transfer.phase})` : '—'),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'small danger', id: `live-hangup-${c.call_id}`,
        onclick: async (e) => {
          const btn = e.currentTarget;
          if (!(await confirmDialog(`Hang up the call ${c.caller} → ${c.callee} for everyone?`, 'Hang up'))) return;
          run(btn, () => post(`/api/calls/${encodeURIComponent(c.call_id)}/hangup`), 'Call hung up');
        },
      }, 'Hang up')))))));
}

// ---------------------------------------------------------------------------
// Recordings
// ---------------------------------------------------------------------------

function dayStart(v) {
  if (!v) return '';
  const [y, m, d] = v.split('-').map(Number);
  return new Date(y, m - 1, d).getTime();
}

function fillRecordingFilters() {
  const agentSel = $('#rec-agent');
  const cur = agentSel.value;
  agentSel.replaceChildren(h('option', { value: '' }, 'Any'),
    ...[...store.agents.values()].sort((a, b) => a.username.localeCompare(b.username))
      .map((a) => h('option', { value: a.username }, a.name && a.name !== a.username ? `${a.name} (${a.username})` : a.username)));
  agentSel.value = cur;
  const campSel = $('#rec-campaign');
  const cc = campSel.value;
  campSel.replaceChildren(h('option', { value: '' }, 'Any'), ...store.campaigns.map((c) => h('option', { value: c.name }, c.name)));
  campSel.value = cc;
}

async function searchRecordings(e) {
  e?.preventDefault();
  const from = dayStart($('#rec-from').value);
  const toDay = dayStart($('#rec-to').value);
  const params = {
    tag: $('#rec-tag').value.trim(),
    agent: $('#rec-agent').value,
    campaign: $('#rec-campaign').value,
    number: $('#rec-number').value.trim(),
    disposition: $('#rec-disposition').value.trim(),
    from,
    to: toDay === '' ? '' : toDay + 24 * 3600 * 1000 - 1,
  };
  const r = await run($('#rec-search'), () => get(`/api/recordings${qs(params)}`),
    (x) => { const n = (x.recordings || []).length; return `${n} recording${n === 1 ? '' : 's'} found`; });
  if (r === undefined) return;
  renderRecordings(r.recordings || []);
}

function renderRecordings(rows) {
  const box = $('#recordings-results');
  if (!rows.length) {
    replaceChildren(box, h('p', { class: 'muted', id: 'recordings-empty' }, 'No recordings match.'));
    return;
  }
  replaceChildren(box, h('table', { class: 'table recordings' },
    h('caption', { class: 'sr-only' }, 'Recordings'),
    h('thead', {}, h('tr', {}, ['Started', 'Agent', 'Campaign', 'From', 'To', 'Length', 'Disposition', 'Tags', 'Audio'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => {
      const src = `/api/recordings/${encodeURIComponent(r.id)}/audio`;
      const audioCell = h('td', { class: 'audio-cell' });
      const play = h('button', {
        type: 'button', class: 'small primary', id: `rec-play-${r.id}`, 'aria-expanded': 'false',
        onclick: () => {
          let audio = audioCell.querySelector('audio');
          if (audio) {
            audio.pause();
            audio.remove();
            play.textContent = 'Play';
            play.setAttribute('aria-expanded', 'false');
            return;
          }
          audio = h('audio', { controls: true, preload: 'none', src, id: `rec-audio-${r.id}`, 'aria-label': `Recording of ${r.caller} → ${r.callee}` });
          audio.addEventListener('error', () => showError(`Cannot play the recording ${r.id}: the file is missing or unreadable.`));
          audioCell.append(audio);
          audio.play().catch(() => {});
          play.textContent = 'Close player';
          play.setAttribute('aria-expanded', 'true');
          audio.focus();
        },
      }, 'Play');
      audioCell.append(play, ' ', h('a', { href: `${src}?download=1`, download: `${r.id}.wav`, class: 'small', id: `rec-download-${r.id}` }, 'Download'));
      return h('tr', { id: `rec-row-${r.id}` },
        h('td', {}, fmtDateTime(r.started_at), r.segment > 1 ? h('span', { class: 'muted' }, ` (part ${r.segment})`) : null),
        h('td', {}, r.agent_username || '—'),
        h('td', {}, r.campaign_name || '—'),
        h('td', {}, r.caller),
        h('td', {}, r.callee),
        h('td', {}, r.duration_ms != null ? fmtDuration(r.duration_ms) : (r.ended_at ? '' : 'recording…')),
        h('td', {}, r.disposition || '—'),
        h('td', {}, (r.tags || []).length
          ? h('ul', { class: 'tags' }, r.tags.map((t) => h('li', {},
            h('span', { class: 'tag-text' }, t.text),
            h('span', { class: 'muted small' }, ` — ${t.author} at ${fmtDuration(t.offset_ms)} (${fmtTime(t.at)})`))))
          : '—'),
        audioCell);
    }))));
}

export function initSupervisor() {
  if (!initialised) {
    initialised = true;
    on('agents', () => { renderWall(); renderCampaigns(); renderQueues(); });
    on('calls', () => { renderWall(); renderLiveCalls(); });
    on('queues', renderQueues);
    on('campaigns', () => { renderQueues(); renderCampaigns(); fillRecordingFilters(); });
    $('#recordings-form').addEventListener('submit', searchRecordings);
  }
  renderWall();
  renderQueues();
  renderCampaigns();
  renderLiveCalls();
  fillRecordingFilters();
}

/** First visit to the view: show the latest recordings. */
let searched = false;
export function showSupervisor() {
  fillRecordingFilters();
  if (!searched) {
    searched = true;
    searchRecordings();
  }
}
export function resetSupervisor() { searched = false; replaceChildren($('#recordings-results')); }

export { announce };
