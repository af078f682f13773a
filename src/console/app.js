// The agent console's entry point: sign-in, then the agent's config, status, current call and
// recent calls, the event stream and the softphone; routes each event to the module it
// concerns. Modules: store.js (the one store), api.js, events.js, softphone.js, opencti.js,
// signin.js, status.js, dialer.js, call.js, transcript.js, wrapup.js, insights.js, recent.js.

import {api, setCsrfToken, setUnauthorizedHandler} from './api.js';
import {initCall} from './call.js';
import {initDialer} from './dialer.js';
import {openEvents} from './events.js';
import {initInsights} from './insights.js';
import {initOpenCti, inSalesforce} from './opencti.js';
import {initRecent} from './recent.js';
import {initSignIn} from './signin.js';
import {createSoftphone} from './softphone.js';
import {initStatus} from './status.js';
import * as store from './store.js';
import {initTranscript} from './transcript.js';
import {$, isFinal, setError} from './util.js';
import {initWrapUp} from './wrapup.js';

let events = null;
let crm = null;
let dialer = null;

const softphone = createSoftphone({
  onState: (state, message) => store.update({audio: {state, message}}),
  onIncoming: (params) => call.onLeg(params),
  onLegChange: (leg) => store.update({leg, ...(leg ? {} : {muted: false})}),
  onMute: (muted) => store.update({muted}),
});

const transcript = initTranscript(store);
const insights = initInsights(store);
const call = initCall(store, {
  softphone,
  crm: () => crm,
  onCallEnded: () => recentSoon(),
});
const recent = initRecent(store, {
  onDial: (number, recordId) => dialer.dial(number, recordId),
  onInsights: async (callId) => {
    if (await insights.load(callId)) $('insights').focus();
  },
});
initWrapUp(store, {onSaved: () => recent.load()});
dialer = initDialer(store, {call, softphone});

const signIn = initSignIn({onSignedIn: (session) => start(session), embedded: inSalesforce()});
initStatus(store, {
  onSignOut: signOut,
  onError: (message) => setError($('call-error'), message),
});

function stop() {
  if (events) events.close();
  events = null;
  softphone.destroy();
  setCsrfToken(null);
  store.update({
    session: null,
    call: null,
    phase: null,
    incoming: null,
    agentStatus: null,
    connection: 'reconnecting',
    audio: {state: 'off', message: ''},
  });
}

async function signOut() {
  try {
    await api('POST', '/auth/logout');
  } catch (e) {
    // the session may be gone already
  }
  stop();
  signIn.show();
}

setUnauthorizedHandler(() => {
  if (!store.getState().session) return;
  stop();
  signIn.show('Your session has ended. Sign in again.');
});

let recentTimer = null;

// The list follows the calls' statuses, at most every half second.
function recentSoon() {
  if (recentTimer) return;
  recentTimer = window.setTimeout(() => {
    recentTimer = null;
    recent.load();
  }, 500);
}

function onEvent(type, d) {
  switch (type) {
    case 'call_status':
      call.onCallStatus(d);
      recentSoon();
      break;
    case 'screen_pop':
      call.onScreenPop(d);
      break;
    case 'agent_status':
      store.update({agentStatus: d});
      break;
    case 'call_control':
      call.onControl(d);
      break;
    case 'transcript_final':
      transcript.onFinal(d);
      break;
    case 'transcript_partial':
      transcript.onPartial(d);
      break;
    case 'transcript_ready': {
      const s = store.getState();
      if (s.call && s.call.call_id === d.call_id) insights.load(d.call_id);
      recent.load();
      break;
    }
    case 'reset':
      resync();
      break;
    default:
      break;
  }
}

// The agent's current call (a reload mid-call restores it, transcript included).
async function restoreCall() {
  let res = null;
  try {
    res = await api('GET', '/api/agent/call');
  } catch (e) {
    return;
  }
  if (!res || !res.call) return;
  const phase = res.phase || call.phaseOf(res.call);
  call.setCall(res.call, phase);
  if (phase === 'ringing' && res.call.direction === 'inbound') {
    store.update({incoming: {call_id: res.call.call_id, from: res.call.from, matches: []}});
  }
  transcript.restore(res.transcript);
  if (isFinal(res.call.status)) insights.render(res.call);
}

async function resync() {
  try {
    const st = await api('GET', '/api/agent/status');
    // A PUT or an event that answered meanwhile may be newer than this read.
    const cur = store.getState().agentStatus;
    if (!cur || !cur.since || !st.since || st.since >= cur.since) store.update({agentStatus: st});
  } catch (e) {
    // shown as it was
  }
  await restoreCall();
  recent.load();
}

async function loadConfig(session) {
  try {
    return await api('GET', '/api/console/config');
  } catch (e) {
    // An older daemon: the defaults (no dispositions list, no rule colours).
    return {
      agent: session.agent,
      dispositions: [],
      disposition_required: false,
      rules: [],
      telephony: {provider: 'twilio', conference: true},
      transfer_targets: [],
    };
  }
}

async function start(session) {
  // Opened for a recording link (/r/{id} sends a browser without a session here with
  // ?return_to=): back to it once signed in, at most once a minute per link, so a link that
  // sends us here again cannot loop.
  const back = signIn.returnTo();
  if (back && back !== window.location.pathname + window.location.search) {
    const key = `cb_return_to:${back}`;
    const last = Number(window.sessionStorage.getItem(key) || 0);
    if (Date.now() - last > 60000) {
      window.sessionStorage.setItem(key, String(Date.now()));
      window.location.assign(back);
      return;
    }
  }
  setCsrfToken(session.csrf_token);
  store.update({session});
  signIn.hide();
  store.update({config: await loadConfig(session)});
  events = openEvents({
    onEvent,
    onState: (connection) => store.update({connection}),
    beforeReopen: async () => {
      try {
        await api('GET', '/auth/session');
        return true;
      } catch (e) {
        return e.status !== 401;
      }
    },
  });
  await resync();
  softphone.start();
}

async function boot() {
  initOpenCti({onDial: (number, recordId) => dialer.dial(number, recordId)}).then((c) => {
    crm = c;
  });
  try {
    start(await api('GET', '/auth/session', undefined, {quiet401: true}));
  } catch (e) {
    signIn.show(e.status && e.status !== 401 ? `callbridge answered: ${e.message}` : '');
  }
}

boot();
