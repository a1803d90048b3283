// DOM helpers shared by the console views: element builder, announcements
// (aria-live), modal dialogs with focus return, time formatting.

/** Build an element: h('button', {id: 'x', onclick: fn}, 'text', child...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Replace the children of `el`, keeping keyboard focus on the element with the same id. */
export function replaceChildren(el, ...children) {
  const active = document.activeElement;
  const focusId = active && el.contains(active) ? active.id : null;
  el.replaceChildren();
  append(el, children);
  if (focusId) {
    const again = document.getElementById(focusId);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }
}

/** Set a button's enabled state and the reason it is disabled (tooltip + accessible description). */
export function setEnabled(btn, enabled, whyNot = '') {
  btn.disabled = !enabled;
  if (!enabled && whyNot) btn.title = whyNot;
  else btn.removeAttribute('title');
}

// ---------------------------------------------------------------------------
// Announcements: polite status messages and assertive errors, both visible.
// ---------------------------------------------------------------------------

let statusTimer = null;

/** Polite status message (aria-live region #status-region). */
export function announce(msg) {
  const region = document.getElementById('status-region');
  if (!region) return;
  region.textContent = msg;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { region.textContent = ''; }, 6000);
}

/** Error message (role=alert region #error-region); stays until dismissed or replaced. */
export function showError(msg) {
  const text = document.getElementById('error-text');
  if (!text) { console.error(msg); return; }
  // Re-set the text even when equal, so the alert is announced again.
  text.textContent = '';
  text.textContent = msg;
  document.getElementById('error-toast').classList.add('has-error');
  document.getElementById('error-dismiss').hidden = false;
}

export function clearError() {
  const text = document.getElementById('error-text');
  if (text) text.textContent = '';
  document.getElementById('error-toast')?.classList.remove('has-error');
  const btn = document.getElementById('error-dismiss');
  if (btn) btn.hidden = true;
}

/**
 * Run an async action for a button: ignore repeated clicks while it runs
 * (without disabling the button, which would drop the keyboard focus), show
 * the error message of a failure, announce success. Resolves to the result,
 * or undefined on failure.
 */
export async function run(trigger, fn, successMsg) {
  if (trigger) {
    if (trigger.dataset.busy) return undefined;
    trigger.dataset.busy = '1';
    trigger.setAttribute('aria-busy', 'true');
  }
  try {
    const r = await fn();
    clearError();
    if (successMsg) announce(typeof successMsg === 'function' ? successMsg(r) : successMsg);
    return r;
  } catch (e) {
    showError(e.message || String(e));
    return undefined;
  } finally {
    if (trigger) {
      delete trigger.dataset.busy;
      trigger.removeAttribute('aria-busy');
    }
  }
}

// ---------------------------------------------------------------------------
// Dialogs: native <dialog> (modal, Escape closes) with focus return.
// ---------------------------------------------------------------------------

/** Open a <dialog> modally; focus its first field; return focus to the opener when it closes. */
export function openDialog(dialog, opener = document.activeElement) {
  const err = dialog.querySelector('.dialog-error');
  if (err) { err.textContent = ''; err.hidden = true; }
  dialog.addEventListener('close', () => {
    if (opener && document.contains(opener) && typeof opener.focus === 'function') {
      opener.focus();
    }
  }, { once: true });
  dialog.showModal();
  const first = dialog.querySelector('[autofocus]:not([disabled]), input:not([type=hidden]):not([disabled]):checked, input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])');
  if (first) first.focus();
}

/** Show an error inside a dialog (and in the global error region). */
export function dialogError(dialog, msg) {
  if (!msg) return;
  const err = dialog.querySelector('.dialog-error');
  if (err) { err.textContent = msg; err.hidden = false; }
  showError(msg);
}

/** A yes/no confirmation using the shared #confirm-dialog. Resolves true/false. */
export function confirmDialog(message, okLabel = 'Confirm', cancelLabel = 'Cancel') {
  const dlg = document.getElementById('confirm-dialog');
  document.getElementById('confirm-message').textContent = message;
  document.getElementById('confirm-ok').textContent = okLabel;
  document.getElementById('confirm-cancel').textContent = cancelLabel;
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    openDialog(dlg);
  });
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/** "1:05", "1:02:03" for a duration in ms. */
export function fmtDuration(ms) {
  if (!(ms >= 0)) ms = 0;
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

/** Local date and time "2026-11-25 14:03". */
export function fmtDateTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Local time "14:03:27". */
export function fmtTime(ms) {
  if (!ms) return '';
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** Date/time of `ms` as seen in a zone: an IANA name ("Europe/Madrid", daylight saving
 * included) or a fixed offset "+HH:MM" (an agenda entry's own zone). */
export function fmtInOffset(ms, tz) {
  const two = (n) => String(n).padStart(2, '0');
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz || '');
  if (!m) {
    try {
      if (tz) {
        const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
          timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
          hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
        }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
        return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} (${tz})`;
      }
    } catch (_) { /* unknown zone: local time below */ }
    return `${fmtDateTime(ms)}`;
  }
  const off = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  const d = new Date(ms + off * 60000);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} (UTC${tz})`;
}

/** The browser's IANA time zone ("Europe/Madrid"), or its UTC offset when unknown. */
export function browserZone(date = new Date()) {
  try {
    const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (z) return z;
  } catch (_) { /* old browser */ }
  return browserOffset(date);
}

/** IANA zone names the browser knows (empty when it cannot list them). */
export function zoneNames() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch (_) {
    return [];
  }
}

/** The browser's current UTC offset as "+HH:MM". */
export function browserOffset(date = new Date()) {
  const off = -date.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Every whole and common half-hour offset, for the time zone datalist. */
export function allOffsets() {
  const out = [];
  for (let m = -12 * 60; m <= 14 * 60; m += 30) {
    const sign = m < 0 ? '-' : '+';
    const a = Math.abs(m);
    out.push(`${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`);
  }
  for (const extra of ['+05:45', '+08:45', '+12:45']) out.push(extra);
  return out.sort();
}

const STATUS_LABELS = {
  offline: 'Offline', ready: 'Ready', paused: 'Paused', ringing: 'Ringing',
  on_call: 'On call', after_call_work: 'After-call work',
};
export const statusLabel = (s) => STATUS_LABELS[s] || s || 'Unknown';

const CALL_STATE_LABELS = {
  originating: 'Ringing your phone', ringing: 'Ringing', connected: 'Connected', held: 'On hold',
  transferring: 'Transferring', consulting: 'Consulting', conference: 'Conference', ended: 'Ended',
};
export const callStateLabel = (s) => CALL_STATE_LABELS[s] || s || '';

/** "agent 1002", "number 555", "campaign support" for a transfer target {agent|number|campaign}. */
export function targetLabel(t) {
  if (!t) return '';
  if (typeof t === 'string') return t;
  for (const k of ['agent', 'number', 'campaign']) if (t[k] !== undefined) return `${k} ${t[k]}`;
  return JSON.stringify(t);
}
