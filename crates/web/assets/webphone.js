/**
 * Browser audio ("webphone"): one WebRTC audio session with the server for
 * the whole shift, signalled over the console's WebSocket. While it is
 * connected, the agent's calls come to this page (ringing with an Answer
 * button, or answered at once) instead of the SIP phone.
 *
 * Messages sent: {type:'audio_offer', sdp, auto_answer}, {type:'audio_close'},
 * {type:'answer_call'}, {type:'leave_call'}, {type:'echo_test', on}. Received: audio_answer {sdp}, audio_state {state,
 * reason}, audio_error {message}. After a reload the page opens browser
 * audio again by itself (remembered in localStorage) and the server
 * re-attaches the call that waited for it.
 *
 * The admin's per-agent setting (`store.me.audio`) narrows the choice:
 * `phone` hides browser audio altogether, `browser` connects it at once
 * and offers no way back to a SIP phone; `either` leaves it to the agent.
 */
import { $ } from './dom.js';
import { get } from './api.js';
import { store, on, emit } from './store.js';

let send = null;
let pc = null;
let mic = null;
let wanted = false; // the agent asked for browser audio (reconnect after a WebSocket drop or a reload)
const KEY = 'sb_webphone';
const status = { state: 'off', reason: '' };
/** The admin's setting for this agent: either | browser | phone. */
let policy = 'either';

/** Exposed for tests and diagnostics: the connection, remote stream, levels (0..1). */
window.webphone = { status, pc: () => pc, remote: null, levels: { in: 0, out: 0 } };
const MIC_KEY = 'sb_webphone_mic';
const SPEAKER_KEY = 'sb_webphone_speaker';
const PROCESSING_KEY = 'sb_webphone_processing';

/** Microphone constraints: the chosen device, and the browser's echo
 * cancellation, noise suppression and gain control unless turned off (a
 * good headset may not need them). */
function micConstraints(deviceId) {
  const on = $('#webphone-processing').checked;
  const c = { echoCancellation: on, noiseSuppression: on, autoGainControl: on };
  if (deviceId) c.deviceId = deviceId;
  return c;
}
let meters = null; // { ctx, timer }

function setState(state, reason) {
  status.state = state;
  status.reason = reason || '';
  const el = $('#webphone-state');
  const labels = {
    off: policy === 'browser' ? 'Off: connect audio to take calls' : 'Off: calls ring your SIP phone',
    connecting: 'Connecting…',
    connected: 'Connected: calls come to this page',
    closed: 'Closed',
    failed: 'Failed',
  };
  el.textContent = labels[state] + (reason ? ` (${reason})` : '');
  el.dataset.state = state;
  const live = state === 'connecting' || state === 'connected';
  $('#webphone-connect').hidden = live;
  $('#webphone-disconnect').hidden = !live || policy === 'browser';
  $('#webphone-mute').hidden = state !== 'connected';
  $('#webphone-keypad').hidden = state !== 'connected';
  $('#webphone-devices').hidden = state !== 'connected';
  $('#webphone-echo').hidden = state !== 'connected';
  if (state !== 'connected') stopEcho(false);
  renderRinging();
  emit('agents'); // the header says where calls ring
}

function showError(message) {
  const el = $('#webphone-error');
  el.textContent = message;
  el.hidden = !message;
}

/** RMS of what an analyser sees now (0..1). */
function rms(an, buf) {
  an.getFloatTimeDomainData(buf);
  let sum = 0;
  for (const v of buf) sum += v * v;
  return Math.sqrt(sum / buf.length);
}

/** Input and output level meters, ten times a second. */
function startMeters() {
  stopMeters();
  const ctx = new AudioContext();
  const analyser = (stream) => {
    if (!stream) return null;
    const an = ctx.createAnalyser();
    an.fftSize = 1024;
    ctx.createMediaStreamSource(stream).connect(an);
    return an;
  };
  const buf = new Float32Array(1024);
  let mic = null;
  let out = null;
  const timer = setInterval(() => {
    if (!mic && window.webphone.mic) mic = analyser(window.webphone.mic);
    if (!out && window.webphone.remote) out = analyser(window.webphone.remote);
    const levels = window.webphone.levels;
    levels.in = mic ? Math.min(1, rms(mic, buf) * 2) : 0;
    levels.out = out ? Math.min(1, rms(out, buf) * 2) : 0;
    $('#webphone-level-in').value = levels.in;
    $('#webphone-level-out').value = levels.out;
  }, 100);
  meters = { ctx, timer };
}

function stopMeters() {
  if (!meters) return;
  clearInterval(meters.timer);
  meters.ctx.close().catch(() => {});
  meters = null;
}

/** Fill the microphone and speaker lists (labels are known once the microphone is allowed). */
async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (sel, kind, saved) => {
    sel.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) => {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || `${kind} ${i + 1}`;
      o.selected = d.deviceId === saved;
      return o;
    }));
  };
  fill($('#webphone-mic'), 'audioinput', localStorage.getItem(MIC_KEY));
  fill($('#webphone-speaker'), 'audiooutput', localStorage.getItem(SPEAKER_KEY));
}

/** The agent picked another microphone: swap the track on the live connection. */
async function changeMic() {
  const id = $('#webphone-mic').value;
  localStorage.setItem(MIC_KEY, id);
  if (!pc) return;
  try {
    const next = await navigator.mediaDevices.getUserMedia({ audio: micConstraints({ exact: id }) });
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
    if (sender) await sender.replaceTrack(next.getAudioTracks()[0]);
    if (mic) mic.getTracks().forEach((t) => t.stop());
    mic = next;
    window.webphone.mic = next;
    startMeters();
  } catch (e) {
    showError(`That microphone cannot be used: ${e.message}`);
  }
}

/** The agent picked another speaker (where the browser supports choosing). */
async function changeSpeaker() {
  const id = $('#webphone-speaker').value;
  localStorage.setItem(SPEAKER_KEY, id);
  const el = $('#webphone-audio');
  if (el.setSinkId) {
    try { await el.setSinkId(id); } catch (e) { showError(`That speaker cannot be used: ${e.message}`); }
  }
}

let echoTimer = null;

/** Hear oneself through the server for ten seconds (between calls). */
function startEcho() {
  send({ type: 'echo_test', on: true });
  $('#webphone-echo').textContent = 'Stop the test';
  $('#webphone-echo').setAttribute('aria-pressed', 'true');
  echoTimer = setTimeout(() => stopEcho(true), 10000);
}

function stopEcho(tell) {
  if (echoTimer === null) return;
  clearTimeout(echoTimer);
  echoTimer = null;
  if (tell) send({ type: 'echo_test', on: false });
  $('#webphone-echo').textContent = 'Test my audio';
  $('#webphone-echo').setAttribute('aria-pressed', 'false');
}

function teardown() {
  stopMeters();
  window.webphone.mic = null;
  window.webphone.remote = null;
  if (pc) { try { pc.close(); } catch { /* closed */ } }
  pc = null;
  if (mic) mic.getTracks().forEach((t) => t.stop());
  mic = null;
}

async function connect() {
  wanted = true;
  localStorage.setItem(KEY, JSON.stringify({ auto_answer: $('#webphone-auto').checked }));
  showError('');
  teardown();
  setState('connecting');
  try {
    const saved = localStorage.getItem(MIC_KEY);
    const audio = micConstraints(saved ? { ideal: saved } : null);
    mic = await navigator.mediaDevices.getUserMedia({ audio, video: false });
  } catch (e) {
    wanted = false;
    setState('failed', 'no microphone');
    showError(`The microphone is not available: ${e.name === 'NotAllowedError' ? 'permission denied' : e.message}`);
    return;
  }
  window.webphone.mic = mic;
  listDevices().catch(() => {});
  startMeters();
  // A TURN relay (with fresh credentials) when the server has one.
  let ice = { ice_servers: [], ice_transport_policy: 'all' };
  try { ice = await get('/api/webphone/ice'); } catch { /* direct UDP only */ }
  window.webphone.ice = { servers: ice.ice_servers.length, policy: ice.ice_transport_policy };
  if (!wanted) { teardown(); return; }
  pc = new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceServers: ice.ice_servers,
    iceTransportPolicy: ice.ice_transport_policy,
  });
  mic.getTracks().forEach((t) => pc.addTrack(t, mic));
  pc.ontrack = (e) => {
    const stream = e.streams[0] || new MediaStream([e.track]);
    window.webphone.remote = stream;
    $('#webphone-audio').srcObject = stream;
  };
  pc.onconnectionstatechange = () => {
    if (pc && pc.connectionState === 'failed') setState('failed', 'the audio connection failed');
  };
  await pc.setLocalDescription(await pc.createOffer());
  // No trickle: wait (briefly) for the browser's candidates.
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    // A relay's candidates take longer to gather than the host's.
    const t = setTimeout(resolve, ice.ice_servers.length ? 5000 : 2000);
    pc.onicegatheringstatechange = () => {
      if (pc && pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    };
  });
  if (!pc) return;
  send({ type: 'audio_offer', sdp: pc.localDescription.sdp, auto_answer: $('#webphone-auto').checked });
}

function disconnect() {
  wanted = false;
  localStorage.removeItem(KEY);
  send({ type: 'audio_close' });
  teardown();
  setState('off');
}

/** A call of mine ringing on my browser audio. */
function ringingCall() {
  if (status.state !== 'connected') return null;
  for (const c of store.calls.values()) {
    const legs = [c.agent_leg, c.pending, c.third, c.customer];
    if (legs.some((l) => l && l.agent === store.me?.username && l.state === 'setup')) return c;
  }
  return null;
}

/** A call of mine established on my browser audio. */
function liveCall() {
  if (status.state !== 'connected') return null;
  for (const c of store.calls.values()) {
    const legs = [c.agent_leg, c.pending, c.third, c.customer];
    if (legs.some((l) => l && l.agent === store.me?.username && l.state === 'confirmed')) return c;
  }
  return null;
}

function renderRinging() {
  const c = ringingCall();
  $('#webphone-answer').hidden = !c;
  $('#webphone-ringing').hidden = !c;
  $('#webphone-leave').hidden = !liveCall();
}

/** A WebSocket message about browser audio. */
export async function onWebphoneMessage(msg) {
  switch (msg.type) {
    case 'audio_answer':
      if (pc) {
        try {
          await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
        } catch (e) {
          setState('failed', 'bad answer');
          showError(`The server's answer was refused: ${e.message}`);
        }
      }
      break;
    case 'audio_state':
      if (msg.state === 'closed') {
        teardown();
        const replaced = /another console/.test(msg.reason || '');
        if (wanted && !replaced) {
          // A network blip: open the audio again (the call waits for us).
          setState('connecting', `reconnecting: ${msg.reason || 'closed'}`);
          setTimeout(() => { if (wanted && !pc) connect(); }, 2000);
          break;
        }
        wanted = false;
      }
      setState(msg.state, msg.reason);
      break;
    case 'audio_error':
      showError(msg.message);
      stopEcho(false);
      if (status.state === 'connecting') { teardown(); wanted = false; setState('failed', 'refused'); }
      break;
    default:
      break;
  }
}

/** The WebSocket (re)opened or closed: the server ends our session when
 * it closes, so a wanted session is opened again once it is back. */
export function onLinkStatus(s) {
  if (s === 'closed' && pc) { teardown(); setState('connecting', 'reconnecting'); }
  if (s === 'open' && wanted && !pc) connect();
}

/** Logging out: close browser audio and forget it for the next login. */
export function stopWebphone() {
  if (wanted || pc) disconnect();
}

/** Bind the panel; `sendFn(obj)` sends a message on the WebSocket. */
export function initWebphone(sendFn) {
  send = sendFn;
  policy = store.me?.audio || 'either';
  $('#webphone-panel').dataset.policy = policy;
  $('#webphone-controls').hidden = policy === 'phone';
  $('#webphone-policy').hidden = policy === 'either';
  $('#webphone-policy').textContent = policy === 'phone'
    ? 'Your administrator set you to take calls on your SIP phone.'
    : 'Your administrator set you to take calls in this page: audio connects when you log in.';
  $('#webphone-connect').onclick = connect;
  $('#webphone-disconnect').onclick = disconnect;
  $('#webphone-answer').onclick = () => send({ type: 'answer_call' });
  $('#webphone-leave').onclick = () => send({ type: 'leave_call' });
  $('#webphone-echo').onclick = () => (echoTimer === null ? startEcho() : stopEcho(true));
  $('#webphone-mic').onchange = changeMic;
  $('#webphone-processing').checked = localStorage.getItem(PROCESSING_KEY) !== 'off';
  $('#webphone-processing').onchange = () => {
    localStorage.setItem(PROCESSING_KEY, $('#webphone-processing').checked ? 'on' : 'off');
    if (mic) changeMic();
  };
  $('#webphone-speaker').onchange = changeSpeaker;
  $('#webphone-mute').onclick = () => {
    if (!mic) return;
    const on = mic.getAudioTracks().every((t) => t.enabled);
    mic.getAudioTracks().forEach((t) => { t.enabled = !on; });
    $('#webphone-mute').textContent = on ? 'Unmute' : 'Mute';
    $('#webphone-mute').setAttribute('aria-pressed', String(on));
  };
  // Keypad: RFC 4733 telephone-events on the audio session (IVRs, card numbers).
  for (const key of document.querySelectorAll('#webphone-keypad [data-digit]')) {
    key.onclick = () => {
      const sender = pc && pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
      if (sender && sender.dtmf) sender.dtmf.insertDTMF(key.dataset.digit, 120, 80);
    };
  }
  on('calls', renderRinging);
  setState('off');
  // Browser audio was on before a reload: open it again as soon as the
  // WebSocket is up (the server keeps the call waiting meanwhile).
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (saved) {
      $('#webphone-auto').checked = !!saved.auto_answer;
      wanted = true;
    }
  } catch { /* not JSON: ignore */ }
  if (policy === 'browser') wanted = true;
  if (policy === 'phone') wanted = false;
}
