// JSON API client (same-origin cookie `sb_token`, plus the bearer token kept
// in sessionStorage) and the live event WebSocket with reconnection.

const TOKEN_KEY = 'sb.token';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let onUnauthorized = () => {};
/** Called when any request answers 401 (session expired). */
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}
export const getToken = () => sessionStorage.getItem(TOKEN_KEY);

/**
 * Call the API. `body` is sent as JSON unless `opts.raw` (then as-is with
 * `opts.contentType`). Resolves to the JSON answer; rejects with ApiError
 * carrying the server's `error` message.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined && body !== null) {
    if (opts.raw) {
      payload = body;
      headers['Content-Type'] = opts.contentType || 'text/plain';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${e.message})`);
  }
  noteServerDate(res.headers.get('Date'));
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const msg = data && typeof data === 'object' && data.error
      ? data.error
      : `${res.status} ${res.statusText || 'error'}${typeof data === 'string' && data ? `: ${data}` : ''}`;
    if (res.status === 401 && !opts.noAuthRedirect) onUnauthorized(msg);
    throw new ApiError(res.status, msg, data);
  }
  return data;
}

// Server clock skew (server ms - browser ms), from the HTTP Date header, so
// "time in state" timers based on server timestamps stay right.
let skew = 0;
function noteServerDate(h) {
  if (!h) return;
  const t = Date.parse(h);
  if (Number.isNaN(t)) return;
  const d = t - Date.now();
  // The header has 1 s resolution: ignore differences that small.
  skew = Math.abs(d) > 1500 ? d : 0;
}
/** Current time on the server's clock (ms). */
export const serverNow = () => Date.now() + skew;

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b ?? undefined, o);
export const put = (p, b, o) => api('PUT', p, b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);

/** Query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, v);
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * Live events. `onEvent(msg)` gets every message (the first is the
 * snapshot); `onStatus('connecting'|'open'|'closed')` reports the link.
 * Reconnects with backoff until `close()`.
 */
export function connectEvents(onEvent, onStatus) {
  let ws = null;
  let stopped = false;
  let delay = 500;
  let timer = null;
  const open = () => {
    if (stopped) return;
    onStatus('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const token = getToken();
    const url = `${proto}//${location.host}/api/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    ws = new WebSocket(url);
    ws.onopen = () => { delay = 500; onStatus('open'); };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      onEvent(msg);
    };
    ws.onclose = () => {
      onStatus('closed');
      if (stopped) return;
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
    ws.onerror = () => { try { ws.close(); } catch { /* closed */ } };
  };
  open();
  return {
    /** Send a message (browser audio signalling); false if not connected. */
    send(obj) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(obj));
      return true;
    },
    close() {
      stopped = true;
      clearTimeout(timer);
      if (ws) try { ws.close(); } catch { /* closed */ }
    },
  };
}
