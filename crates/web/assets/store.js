import { serverNow } from './api.js';

// Shared client state fed by the API and the event WebSocket, with a tiny
// publish/subscribe so each view re-renders what changed.

export const store = {
  /** Logged-in account (agent row: id, username, display_name, role, ...). */
  me: null,
  supervisor: false,
  admin: false,
  /** username -> presence {username, name, role, chosen, pause_reason, status, since, registered, calls}. */
  agents: new Map(),
  /** call_id -> live call JSON. */
  calls: new Map(),
  /** call_id -> recent call events [{kind, detail, actor, at}]. */
  events: new Map(),
  /** Campaign rows from GET /api/campaigns (with dispositions and member agents). */
  campaigns: [],
  /** Music classes (names). */
  musicClasses: [],
  /** Pause reasons [{id, name}]. */
  pauseReasons: [],
  /** Inbound queues [{campaign, waiting, longest_wait_ms, calls}] and when they arrived. */
  queues: [],
  queuesAt: 0,
  /** 'connecting' | 'open' | 'closed'. */
  wsStatus: 'closed',
  /** Ids of calls that ended recently (so late HTTP answers do not resurrect them). */
  ended: new Set(),
  /** call_id -> Set of muted legs (the call JSON does not carry mute state). */
  muted: new Map(),
  /** `call_id|supervisor` -> supervision notice {agent, call_id, supervisor, mode} shown to agents. */
  notices: new Map(),
};

const listeners = new Map();

/** Subscribe to a topic ('agents', 'calls', 'events', 'queues', 'campaigns', 'ws', 'me'). */
export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic).delete(fn);
}

export function emit(topic, detail) {
  for (const fn of listeners.get(topic) || []) {
    try { fn(detail); } catch (e) { console.error(`listener for ${topic} failed`, e); }
  }
}

/** Does the live call involve `user` (controller, agent leg, served party or third party)? */
export function involves(call, user) {
  return !!call && (call.agent === user
    || call.agent_leg?.agent === user
    || call.customer?.agent === user
    || call.third?.agent === user);
}

/** Campaign row by name. */
export const campaignByName = (name) => store.campaigns.find((c) => c.name === name);
/** Campaign row by id. */
export const campaignById = (id) => store.campaigns.find((c) => c.id === id);

/** Apply one WebSocket message to the store and notify listeners. */
export function applyEvent(msg) {
  switch (msg.type) {
    case 'snapshot': {
      const s = msg.snapshot || {};
      store.agents = new Map((s.agents || []).map((a) => [a.username, a]));
      store.calls = new Map((s.calls || []).filter(Boolean).map((c) => [c.call_id, c]));
      if (Array.isArray(s.music_classes)) store.musicClasses = s.music_classes;
      store.notices = new Map((s.supervision_notices || []).map((n) => [`${n.call_id}|${n.supervisor}`, n]));
      emit('agents');
      emit('calls');
      break;
    }
    case 'supervision_notice': {
      const key = `${msg.call_id}|${msg.supervisor}`;
      if (msg.mode) store.notices.set(key, msg);
      else store.notices.delete(key);
      emit('calls', msg.call_id);
      break;
    }
    case 'call': {
      const c = msg.call;
      if (!c || !c.call_id) break;
      store.calls.set(c.call_id, c);
      emit('calls', c.call_id);
      break;
    }
    case 'call_ended': {
      const had = store.calls.get(msg.call_id);
      store.calls.delete(msg.call_id);
      store.muted.delete(msg.call_id);
      store.ended.add(msg.call_id);
      for (const k of [...store.notices.keys()]) if (k.startsWith(`${msg.call_id}|`)) store.notices.delete(k);
      if (store.ended.size > 500) store.ended.delete(store.ended.values().next().value);
      emit('calls', msg.call_id);
      emit('call_ended', { call_id: msg.call_id, call: had });
      break;
    }
    case 'call_event': {
      const list = store.events.get(msg.call_id) || [];
      list.push({ kind: msg.kind, detail: msg.detail, actor: msg.actor, at: msg.at });
      if (list.length > 50) list.shift();
      store.events.set(msg.call_id, list);
      // Forget logs of calls long gone.
      if (store.events.size > 200) {
        for (const k of store.events.keys()) {
          if (!store.calls.has(k)) { store.events.delete(k); break; }
        }
      }
      // Recording changes are not always followed by a `call` update: apply them here.
      const call = store.calls.get(msg.call_id);
      if (call && (msg.kind === 'RECORDING_STARTED' || msg.kind === 'RECORDING_STOPPED')) {
        call.recording = msg.kind === 'RECORDING_STARTED';
        call.recording_paused = false;
        emit('calls', msg.call_id);
      }
      if (call && (msg.kind === 'RECORDING_PAUSED' || msg.kind === 'RECORDING_RESUMED')) {
        call.recording_paused = msg.kind === 'RECORDING_PAUSED';
        emit('calls', msg.call_id);
      }
      emit('events', msg.call_id);
      break;
    }
    case 'agent_state': {
      const a = store.agents.get(msg.agent) || { username: msg.agent, name: msg.agent, calls: [], registered: false };
      a.status = msg.status;
      a.pause_reason = msg.pause_reason;
      a.since = msg.since;
      if (msg.chosen) a.chosen = msg.chosen;
      else if (['ready', 'paused', 'offline'].includes(msg.status)) a.chosen = msg.status;
      a.chosen_by = msg.chosen_by || null;
      store.agents.set(msg.agent, a);
      emit('agents', msg.agent);
      break;
    }
    case 'agent_registration': {
      const a = store.agents.get(msg.agent);
      if (a) {
        a.registered = msg.registered;
        emit('agents', msg.agent);
      }
      break;
    }
    case 'queues': {
      store.queues = msg.queues || [];
      store.queuesAt = serverNow();
      emit('queues');
      break;
    }
    case 'agenda_reminder': {
      emit('agenda_reminder', msg.agenda);
      break;
    }
    default:
      break;
  }
}
