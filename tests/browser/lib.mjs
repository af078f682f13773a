// Helpers of the browser tests (console.test.mjs): the stack from CB_BROWSER_FIXTURE (written by
// run_console.py), chromium through playwright-core, the API with the agent's bearer key, the
// sandbox's control API, Twilio-signed webhooks, and polling with a deadline (never a fixed
// sleep). Test-only; never shipped.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FX = JSON.parse(process.env.CB_BROWSER_FIXTURE || '{}');
export const TIMEOUT = 30_000; // UI waits; server-side work (analysis) gets its own
const TWILIO_STUB = readFileSync(path.join(HERE, 'stubs', 'twilio-voice-stub.js'), 'utf8');
const OPENCTI_STUB = readFileSync(path.join(HERE, 'stubs', 'opencti-stub.js'), 'utf8');

// Records every text the call-status element shows, from the page's first paint on (the
// status may pass through queued/initiated/ringing faster than a poll would see).
const STATUS_RECORDER = `(() => {
  window.__statusSeen = [];
  const note = () => {
    const el = document.querySelector('[data-testid="call-status"]');
    const t = el && el.textContent.trim();
    if (t && window.__statusSeen[window.__statusSeen.length - 1] !== t) window.__statusSeen.push(t);
  };
  new MutationObserver(note).observe(document, {subtree: true, childList: true, characterData: true});
})();`;

export async function launch() {
  return chromium.launch({
    executablePath: FX.chromium,
    headless: true,
    // root in a container: no setuid sandbox; small /dev/shm; a fake microphone should the
    // console ask for one; audio may play without a gesture (the recording page).
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
      '--disable-gpu'],
  });
}

// A fresh context: the Voice SDK replaced by the stub, nothing leaves the machine, the Open CTI
// stub installed when asked.
export async function newContext(browser, { opencti = false } = {}) {
  const context = await browser.newContext({ baseURL: FX.url, viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(TIMEOUT);
  // The page's own errors and warnings go to the test's output: a failure's first clue.
  context.on('page', (page) => {
    page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') {
        process.stderr.write(`[console ${m.type()}] ${m.text()}\n`);
      }
    });
  });
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') return route.fallback();
    return route.abort('blockedbyclient');
  });
  await context.route('**/console/twilio.min.js', (route) =>
    route.fulfill({ status: 200, contentType: 'application/javascript', body: TWILIO_STUB }));
  await context.addInitScript({ content: STATUS_RECORDER });
  if (opencti) await context.addInitScript({ content: OPENCTI_STUB });
  return context;
}

// The cookie session of POST /auth/session, in the context's cookie jar.
export async function signInByApi(context, key = FX.api_key) {
  const r = await context.request.post(FX.url + '/auth/session', { data: { api_key: key } });
  assert.equal(r.status(), 201, `POST /auth/session: ${r.status()} ${await r.text()}`);
  return r.json();
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(FX.artifacts, name + '.png'), fullPage: true });
}

// ---- polling ------------------------------------------------------------------------------

// Calls fn until it returns something truthy (returned) or the deadline passes (throws with
// `what` and the last value or error).
export async function eventually(fn, what, timeout = TIMEOUT, interval = 200) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// A locator's text is exactly `text` (trimmed), with Playwright's auto-waiting.
export async function expectExactText(locator, text, timeout = TIMEOUT) {
  const esc = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await locator.filter({ hasText: new RegExp(`^\\s*${esc}\\s*$`) }).first()
    .waitFor({ state: 'visible', timeout });
}

// ---- the API, the sandbox, Twilio's webhooks -----------------------------------------------

export async function api(method, p, body, key = FX.api_key) {
  const r = await fetch(FX.url + p, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: r.status, body: json };
}

export async function sandboxState() {
  const r = await fetch(FX.sandbox_url + '/__sandbox/state');
  assert.equal(r.status, 200);
  return r.json();
}

export async function taskOf(callId) {
  const tasks = ((await sandboxState()).Task || []).filter((t) => t.Callbridge_Call_Id__c === callId);
  return tasks.length === 1 ? tasks[0] : null;
}

// The sandbox's Twilio REST API (Basic auth with the account's token).
export async function twilioRest(p) {
  const cred = Buffer.from(`${FX.twilio.account_sid}:${FX.twilio.auth_token}`).toString('base64');
  const r = await fetch(`${FX.sandbox_url}/2010-04-01/Accounts/${FX.twilio.account_sid}${p}`,
    { headers: { Authorization: `Basic ${cred}` } });
  assert.equal(r.status, 200, `GET ${p}: ${r.status}`);
  return r.json();
}

// Twilio's documented request signature: base64(HMAC-SHA1(auth token, URL + each POST
// parameter sorted by name, name then value)).
export function twilioSignature(url, params) {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', FX.twilio.auth_token).update(data).digest('base64');
}

// POST a webhook to callbridge signed like Twilio; returns the HTTP status.
export async function twilioWebhook(target, params) {
  const r = await fetch(FX.url + target, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded',
      'X-Twilio-Signature': twilioSignature(FX.url + target, params) },
    body: new URLSearchParams(params).toString(),
  });
  await r.arrayBuffer();
  return r.status;
}

export function newCallSid() {
  return 'CA' + [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The agent back to available with no call: a live call hung up, a wrap-up given a
// disposition, then PUT available until it holds. Between scenarios, so each starts alike.
export async function settleAgent() {
  await eventually(async () => {
    const st = await api('GET', '/api/agent/status');
    assert.equal(st.status, 200, JSON.stringify(st));
    const s = st.body;
    if (s.status === 'available') return true;
    if (s.status === 'busy' && s.call_id) {
      await api('POST', `/api/calls/${s.call_id}/hangup`);
    } else if (s.status === 'wrap_up' && s.call_id) {
      const c = await api('GET', `/api/calls/${s.call_id}`);
      if (c.status === 200 && !c.body.disposition) {
        await api('POST', `/api/calls/${s.call_id}/disposition`, { disposition: 'no_answer' });
      }
    } else {
      await api('PUT', '/api/agent/status', { status: 'available' });
    }
    return false;
  }, 'the agent available with no call', 60_000, 500);
}

// The newest call of the agent to `to` (the API's view), or null.
export async function newestCallTo(to) {
  const r = await api('GET', '/api/calls?limit=10');
  assert.equal(r.status, 200, JSON.stringify(r));
  return (r.body.calls || []).find((c) => c.to === to) || null;
}

export function hexToRgb(hex) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || '');
  return m ? `rgb(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)})` : null;
}

// An inbound call as Twilio starts it: the voice webhook (ringing), signed. Returns
// {sid, params, end()}; end() sends the final status callback (completed), so that a failed
// scenario leaves no call ringing for the next one.
export async function inboundCall(from) {
  const sid = newCallSid();
  const params = { CallSid: sid, AccountSid: FX.twilio.account_sid, From: from,
    To: FX.twilio.our_number, Direction: 'inbound', CallStatus: 'ringing' };
  const before = new Set(((await api('GET', '/api/calls?limit=50')).body.calls || []).map((c) => c.call_id));
  assert.equal(await twilioWebhook('/webhooks/twilio/voice', params), 200, 'the voice webhook');
  let cid = null; // the newest inbound call from `from` once listed
  const callId = async () => {
    cid = cid || await eventually(async () => (await api('GET', '/api/calls?limit=20')).body.calls
      .find((c) => c.direction === 'inbound' && c.from === from && !before.has(c.call_id))?.call_id, 'the inbound call listed');
    return cid;
  };
  const status = async (CallStatus, extra = {}) => {
    const cid = await callId();
    return twilioWebhook(`/webhooks/twilio/status?call_id=${cid}`, { ...params, CallStatus, ...extra });
  };
  return { sid, params, callId, status, end: () => status('completed', { CallDuration: '9' }).catch(() => null) };
}
