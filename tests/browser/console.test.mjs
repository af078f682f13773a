// The agent console in a real browser (issue 14): Debian's chromium, headless, driven by
// playwright-core against the whole product (run_console.py starts it and describes it in
// CB_BROWSER_FIXTURE). The Twilio Voice SDK is replaced by stubs/twilio-voice-stub.js, Open CTI
// by stubs/opencti-stub.js. Every check waits for what a person would see (Playwright's
// auto-waiting locators) or polls the server with a deadline; none sleeps. Screenshots of the
// main screens go to ${CMAKE_BINARY_DIR}/artifacts/console/.
//
// The scenarios run in order in one browser; each starts from the agent available with no call
// (settleAgent). The outbound call's steps share that call and are subtests, so the report
// says which step failed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  FX, TIMEOUT, api, eventually, expectExactText, hexToRgb, inboundCall, launch, newCallSid,
  newContext, newestCallTo, screenshot, settleAgent, signInByApi, taskOf, twilioRest,
} from './lib.mjs';

const ANALYSIS_TIMEOUT = 120_000;
let browser;
let outbound = null; // {cid, sid} of the dialled call, for the recording-link scenario

before(async () => {
  assert.ok(FX.url, 'CB_BROWSER_FIXTURE is missing: run this through run_console.py (ctest -R browser)');
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const byName = (page, role, name) => page.getByRole(role, { name, exact: true });
const activeCall = (page) => byName(page, 'region', 'Active call');
const stubState = (page) => page.evaluate(() => window.__twilioStub.state());

// A signed-in console page (cookie from POST /auth/session), the header showing the agent.
async function consolePage(opts = {}) {
  const context = await newContext(browser, opts);
  await signInByApi(context);
  const page = await context.newPage();
  await page.goto(opts.path || '/console/');
  await page.getByText(FX.display_name, { exact: true }).first().waitFor();
  return { context, page };
}

async function setStatus(page, label) {
  await byName(page, 'combobox', 'Status').selectOption({ label });
}

// The sandbox's conference of a click-to-dial call: the agent participant's CallSid once the
// customer and the agent are both connected.
async function agentLegSid(customerSid) {
  return eventually(async () => {
    const confs = (await twilioRest(`/Conferences.json?FriendlyName=cb-${customerSid}&Status=in-progress`))
      .conferences;
    if (!confs.length) return null;
    const parts = (await twilioRest(`/Conferences/${confs[0].sid}/Participants.json`)).participants;
    const agent = parts.find((p) => p.label === 'agent' && p.status === 'connected');
    return agent ? agent.call_sid : null;
  }, `the agent's leg of ${customerSid} bridged`);
}

// The Voice SDK rings the agent's leg, as Twilio does when the bridge adds the agent; answered
// in the console if it asks (an "Incoming call" panel), else the console accepted it itself.
async function ringAgentLeg(page, sid, from) {
  const idx = await page.evaluate(([s, f]) => window.__twilioStub.ring({ CallSid: s, From: f, To: 'client:alice' }),
    [sid, from]);
  const incoming = byName(page, 'region', 'Incoming call');
  await eventually(async () => {
    const st = await stubState(page);
    if (st.calls[idx].status === 'open') return true;
    if (await incoming.isVisible()) await byName(incoming, 'button', 'Answer').click();
    return false;
  }, 'the softphone leg accepted (call.accept() on the stub)');
  return idx;
}

// ---- the stubs on a trivial page (the test infrastructure itself) -----------------------------

test('stubs: the Voice SDK and Open CTI stand-ins behave like their SDKs', async () => {
  const context = await newContext(browser, { opencti: true });
  const page = await context.newPage();
  // A page of our own origin that only loads the (stubbed) SDK.
  await context.route('**/__stubcheck.html', (route) => route.fulfill({
    contentType: 'text/html', body: '<!doctype html><title>stub</title><script src="/console/twilio.min.js"></script>',
  }));
  await page.goto('/__stubcheck.html');
  const got = await page.evaluate(async () => {
    const jwt = (claims) => ['e30', btoa(JSON.stringify(claims)).replace(/=+$/, ''), 'sig'].join('.');
    const d = new window.Twilio.Device(jwt({ grants: { identity: 'alice' } }), { closeProtection: true });
    const events = [];
    for (const n of ['registered', 'incoming', 'tokenWillExpire', 'error']) d.on(n, () => events.push(n));
    await d.register();
    d.updateToken(jwt({ grants: { identity: 'alice' } }));
    const idx = window.__twilioStub.ring({ From: '+14155550142' });
    const call = window.__twilioStub.calls[idx];
    const accepted = new Promise((r) => call.on('accept', r));
    call.accept();
    await accepted;
    call.mute(true);
    const muted = call.isMuted();
    const out = await d.connect({ params: { To: '+14155550123' } });
    window.__twilioStub.expireSoon();
    let clicked = null;
    window.sforce.opencti.onClickToDial({ listener: (p) => { clicked = p; } });
    const cb = await new Promise((r) => window.sforce.opencti.enableClickToDial({ callback: r }));
    window.__openctiStub.clickToDial({ number: '+14155550123', recordId: '003x' });
    window.sforce.opencti.screenPop({ type: 'sobject', params: { recordId: '003y' } });
    return { events, muted, outTo: out.parameters.To, state: window.__twilioStub.state(), clicked, cb,
      pops: window.__openctiStub.calls('screenPop') };
  });
  assert.deepEqual(got.events, ['registered', 'incoming', 'tokenWillExpire']);
  assert.equal(got.muted, true);
  assert.equal(got.outTo, '+14155550123');
  assert.equal(got.state.identity, 'alice');
  assert.equal(got.state.registered, true);
  assert.equal(got.state.tokens, 1);
  assert.deepEqual(got.state.log.slice(0, 3), ['construct', 'register', 'updateToken']);
  assert.deepEqual(got.clicked, { number: '+14155550123', recordId: '003x' });
  assert.deepEqual(got.cb, { success: true, returnValue: null, errors: null });
  assert.deepEqual(got.pops, [{ type: 'sobject', params: { recordId: '003y' } }]);
  await context.close();
});

// ---- sign-in ---------------------------------------------------------------------------------

test('sign in with an API key', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto('/console');
  assert.match(page.url(), /\/console\/(\?.*)?$/, 'GET /console redirects to /console/');
  await byName(page, 'heading', 'Sign in to callbridge').waitFor();
  const sf = byName(page, 'link', 'Sign in with Salesforce');
  assert.match(await sf.getAttribute('href'), /^\/auth\/salesforce\/login\?return_to=/);
  await screenshot(page, 'sign-in');
  // A wrong key: an alert, still signed out.
  await byName(page, 'textbox', 'API key').fill('cbk_not_a_key');
  await byName(page, 'button', 'Sign in').click();
  await page.getByRole('alert').filter({ hasText: /\S/ }).first().waitFor();
  await byName(page, 'textbox', 'API key').fill(FX.api_key);
  await byName(page, 'button', 'Sign in').click();
  await page.getByText(FX.display_name, { exact: true }).first().waitFor();
  await byName(page, 'combobox', 'Status').waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'cb_session');
  assert.ok(session, 'the cb_session cookie is set');
  assert.equal(session.httpOnly, true);
  // Signing out revokes it: the sign-in form again, and the old cookie no longer works.
  await byName(page, 'button', 'Sign out').click();
  await byName(page, 'heading', 'Sign in to callbridge').waitFor();
  const again = await fetch(FX.url + '/auth/session', { headers: { Cookie: `cb_session=${session.value}` } });
  assert.equal(again.status, 401);
  await context.close();
});

test('sign in with Salesforce (the sandbox authorize page)', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto('/console/');
  await byName(page, 'link', 'Sign in with Salesforce').click();
  await page.waitForURL((u) => u.pathname === '/services/oauth2/authorize');
  const user = page.locator('form').filter({ hasText: FX.sf_user.username });
  await user.getByRole('button', { name: /log in/i }).click();
  await page.waitForURL((u) => u.origin === FX.url && u.pathname.startsWith('/console/'));
  await page.getByText(FX.display_name, { exact: true }).first().waitFor();
  const me = await context.request.get(FX.url + '/auth/session');
  assert.equal(me.status(), 200);
  const body = await me.json();
  assert.equal(body.agent.name, FX.agent);
  assert.equal(body.agent.crm_user_id, FX.sf_user.id);
  await context.close();
});

// ---- presence --------------------------------------------------------------------------------

test('go available (and away with a reason)', async () => {
  await settleAgent();
  await api('PUT', '/api/agent/status', { status: 'offline' });
  const { context, page } = await consolePage();
  await expectExactText(page.getByTestId('agent-status'), 'offline');
  await setStatus(page, 'Away');
  const reason = byName(page, 'textbox', 'Away reason');
  await reason.waitFor();
  await reason.fill('lunch');
  await reason.press('Tab'); // the reason is committed when the field is left
  await expectExactText(page.getByTestId('agent-status'), 'away');
  await eventually(async () => {
    const st = (await api('GET', '/api/agent/status')).body;
    return st.status === 'away' && st.reason === 'lunch';
  }, 'away for lunch on the server');
  await setStatus(page, 'Available');
  await expectExactText(page.getByTestId('agent-status'), 'available');
  await eventually(async () => (await api('GET', '/api/agent/status')).body.status === 'available',
    'the server has the agent available');
  await eventually(async () => (await stubState(page)).registered, 'the softphone registered');
  assert.equal((await stubState(page)).identity, FX.agent, 'the Device has the agent identity');
  // Twilio warns before the token expires: the console fetches a new one and hands it over.
  await page.evaluate(() => window.__twilioStub.expireSoon());
  await eventually(async () => (await stubState(page)).tokens === 1, 'device.updateToken() after tokenWillExpire');
  assert.equal(await page.evaluate(() => window.__twilioStub.log.find((e) => e.what === 'updateToken').identity),
    FX.agent, 'the renewed token is the agent\'s');
  await expectExactText(page.getByTestId('connection'), 'connected');
  await screenshot(page, 'available-idle');
  await context.close();
});

// ---- an outbound call, start to finish -------------------------------------------------------

test('an outbound call from the dialer', async (t) => {
  await settleAgent();
  const { context, page } = await consolePage();
  let cid = null;
  let sid = null;
  let stubIdx = null;
  let linesBefore = 0;
  const step = (name, fn) => t.test(name, async (st) => {
    if (cid === null && name !== 'dial a seeded contact and watch the status move') {
      st.skip('no call was placed');
      return;
    }
    await fn();
  });

  await step('dial a seeded contact and watch the status move', async () => {
    await byName(page, 'textbox', 'Phone number').fill(FX.numbers.ada);
    await byName(page, 'button', 'Call').click();
    await activeCall(page).waitFor();
    const call = await eventually(() => newestCallTo(FX.numbers.ada), 'the call in GET /api/calls');
    cid = call.call_id;
    await expectExactText(page.getByTestId('call-status'), 'in-progress');
    const seen = await page.evaluate(() => window.__statusSeen);
    assert.ok(seen.length >= 2, `the status moved: ${JSON.stringify(seen)}`);
    assert.equal(seen[seen.length - 1], 'in-progress');
    assert.ok(seen.slice(0, -1).every((s) => ['queued', 'initiated', 'ringing'].includes(s)),
      `only earlier statuses before: ${JSON.stringify(seen)}`);
    await page.getByRole('timer').first().waitFor();
    assert.match((await page.getByTestId('call-timer').textContent()).trim(), /^\d{2}:\d{2}$/);
    sid = (await api('GET', `/api/calls/${cid}`)).body.telephony.call_id;
    stubIdx = await ringAgentLeg(page, await agentLegSid(sid), FX.twilio.our_number);
    outbound = { cid, sid };
  });

  await step('the dialled contact is named in the call and on screen', async () => {
    const name = `${FX.records.ada.FirstName} ${FX.records.ada.LastName}`;
    await eventually(async () => (await api('GET', `/api/calls/${cid}`)).body.party_name === name,
      `GET /api/calls/{id} party_name ${name}`);
    await activeCall(page).getByText(name).first().waitFor();
  });

  await step('live transcript lines arrive with highlights', async () => {
    const log = byName(page, 'log', 'Live transcript');
    await log.locator('li[data-speaker="customer"]').first().waitFor();
    await log.locator('li[data-speaker="agent"]').first().waitFor();
    const mark = log.locator('mark[data-rule]').first();
    await mark.waitFor();
    const cfg = await api('GET', '/api/console/config');
    assert.equal(cfg.status, 200, JSON.stringify(cfg));
    const rules = Object.fromEntries((cfg.body.rules || []).map((r) => [r.name, r.color]));
    const marks = await log.locator('mark[data-rule]').evaluateAll((els) => els.map((m) => {
      const cs = getComputedStyle(m);
      return { rule: m.dataset.rule, text: m.textContent,
        colours: [cs.backgroundColor, cs.color, cs.borderBottomColor, cs.outlineColor,
          cs.textDecorationColor, cs.boxShadow].join(' ') };
    }));
    for (const m of marks) {
      assert.ok(m.rule in rules, `mark "${m.text}" names a rule of /api/console/config: ${m.rule}`);
      assert.ok(m.colours.includes(hexToRgb(rules[m.rule])),
        `mark "${m.text}" has its rule's colour ${rules[m.rule]}: ${m.colours}`);
    }
    assert.ok(marks.some((m) => /quote|pricing/i.test(m.text)), JSON.stringify(marks));
    // Four lines of the conversation (the competitor's name among them) before the picture and
    // the hang-up, so the analysis has something to say.
    await log.locator('li').nth(3).waitFor({ timeout: 60_000 });
    linesBefore = await log.locator('li').count();
    await screenshot(page, 'in-call');
  });

  await step('hold and resume', async () => {
    await byName(activeCall(page), 'button', 'Hold').click();
    await byName(activeCall(page), 'button', 'Resume').waitFor();
    await eventually(async () => (await api('GET', `/api/calls/${cid}`)).body.controls?.held === true,
      'the call held on the server');
    await byName(activeCall(page), 'button', 'Resume').click();
    await byName(activeCall(page), 'button', 'Hold').waitFor();
    await eventually(async () => (await api('GET', `/api/calls/${cid}`)).body.controls?.held === false,
      'the call resumed on the server');
  });

  await step('mute through the Voice SDK', async () => {
    await byName(activeCall(page), 'button', 'Mute').click();
    await activeCall(page).getByRole('button', { name: 'Unmute', exact: true, pressed: true }).waitFor();
    assert.equal((await stubState(page)).calls[stubIdx].muted, true, 'call.mute(true) on the SDK call');
    await byName(activeCall(page), 'button', 'Unmute').click();
    await activeCall(page).getByRole('button', { name: 'Mute', exact: true, pressed: false }).waitFor();
    assert.equal((await stubState(page)).calls[stubIdx].muted, false, 'call.mute(false)');
  });

  await step('a reload mid-call restores the active call', async () => {
    await page.reload();
    await activeCall(page).waitFor();
    await expectExactText(page.getByTestId('call-status'), 'in-progress');
    const log = byName(page, 'log', 'Live transcript');
    await eventually(async () => (await log.locator('li').count()) >= linesBefore,
      `the transcript restored (${linesBefore} lines before the reload)`);
    await log.locator('mark[data-rule]').first().waitFor();
    // The SDK rings the (new) Device again, as Twilio would after a reconnect.
    await eventually(async () => (await stubState(page)).registered, 'the softphone registered again');
    stubIdx = await ringAgentLeg(page, newCallSid(), FX.twilio.our_number);
  });

  await step('hang up', async () => {
    await byName(activeCall(page), 'button', 'Hang up').click();
    await eventually(async () => (await api('GET', `/api/calls/${cid}`)).body.status === 'completed',
      'the call completed on the server');
    await byName(page, 'form', 'Wrap-up').waitFor();
    await eventually(async () => (await stubState(page)).calls[stubIdx].status === 'closed',
      'the softphone leg disconnected');
  });

  await step('wrap-up saved and visible on the CRM Task', async () => {
    const form = byName(page, 'form', 'Wrap-up');
    await byName(form, 'combobox', 'Disposition').selectOption({ label: 'Interested' });
    const notes = 'Wants a demo on Friday.\nSend the annual pricing.';
    await byName(form, 'textbox', 'Notes').fill(notes);
    await screenshot(page, 'wrap-up');
    await byName(form, 'button', 'Save wrap-up').click();
    await page.getByRole('status').filter({ hasText: 'Wrap-up saved' }).first().waitFor();
    const task = await eventually(async () => {
      const t = await taskOf(cid);
      return t && t.CallDisposition === 'Interested' && (t.Description || '').includes(notes) ? t : null;
    }, "the Task's CallDisposition and Description", 60_000);
    assert.equal(task.Status, 'Completed');
    await expectExactText(page.getByTestId('agent-status'), 'available');
  });

  await step('insights appear when the analysis is in', async () => {
    await eventually(async () => {
      const c = (await api('GET', `/api/calls/${cid}`)).body;
      return (c.transcripts || []).some((x) => x.timings?.analysed);
    }, 'the transcript analysed', ANALYSIS_TIMEOUT);
    const insights = byName(page, 'region', 'Call Insights');
    if (!(await insights.isVisible())) {
      // Not opened by itself: open the call's insights from Recent calls.
      await byName(page, 'region', 'Recent calls').locator('li').first()
        .getByRole('button', { name: /insights/i }).click();
    }
    await insights.waitFor();
    await page.getByTestId('insight-sentiment').filter({ hasText: /positive|neutral|negative/i }).waitFor();
    await page.getByTestId('insight-summary').filter({ hasText: /\S/ }).waitFor();
    await page.getByTestId('insight-tags').locator('li').first().waitFor();
    await page.getByTestId('insight-keywords').filter({ hasText: /pricing|quote/i }).waitFor();
    for (const id of ['insight-intent', 'insight-entities', 'insight-follow-ups']) {
      await page.getByTestId(id).waitFor({ state: 'attached' });
    }
    await page.getByTestId('recording-player').waitFor({ state: 'attached' });
    await screenshot(page, 'insights');
  });
  await context.close();
});

// ---- an inbound call -------------------------------------------------------------------------

test('an inbound call rings with its screen pop', async () => {
  await settleAgent();
  const { context, page } = await consolePage();
  await eventually(async () => (await stubState(page)).registered, 'the softphone registered');
  const call = await inboundCall(FX.numbers.grace);
  try {
    // Twilio then rings the agent's Device (<Dial><Client>alice</Client>).
    const idx = await page.evaluate(([s, f]) => window.__twilioStub.ring({ CallSid: s, From: f, To: 'client:alice' }),
      [call.sid, FX.numbers.grace]);
    const incoming = byName(page, 'region', 'Incoming call');
    await incoming.waitFor();
    await incoming.getByText('Grace Hopper').first().waitFor();
    await incoming.getByText(FX.records.acme.Name).first().waitFor();
    await screenshot(page, 'incoming-call');
    const link = byName(incoming, 'link', 'Open record');
    assert.ok((await link.getAttribute('href')).includes(FX.records.grace.Id));
    assert.equal(await link.getAttribute('target'), '_blank');
    await byName(incoming, 'button', 'Answer').click();
    await eventually(async () => (await stubState(page)).calls[idx].status === 'open', 'call.accept() on the stub');
    // Twilio's status callbacks follow the answer.
    assert.equal(await call.status('in-progress'), 204);
    await activeCall(page).waitFor();
    await expectExactText(page.getByTestId('call-status'), 'in-progress');
    assert.equal(await call.status('completed', { CallDuration: '9' }), 204);
    await byName(page, 'form', 'Wrap-up').waitFor();
  } finally {
    await call.end();
    await context.close();
  }
});

test("an inbound call's screen pop names the record's owner", async () => {
  await settleAgent();
  const { context, page } = await consolePage();
  await eventually(async () => (await stubState(page)).registered, 'the softphone registered');
  const call = await inboundCall(FX.numbers.grace);
  try {
    const incoming = byName(page, 'region', 'Incoming call');
    await incoming.getByText('Grace Hopper').first().waitFor();
    await incoming.getByText(FX.owner_name).first().waitFor();
  } finally {
    await call.end();
    await context.close();
  }
});

// ---- a Task's recording link -----------------------------------------------------------------

test("a Task's recording link signs in and plays", async () => {
  assert.ok(outbound, 'needs the outbound call of the earlier scenario');
  const task = await eventually(async () => {
    const t = await taskOf(outbound.cid);
    return t && t.Callbridge_Recording_URL__c ? t : null;
  }, "the Task's recording link", ANALYSIS_TIMEOUT);
  const link = task.Callbridge_Recording_URL__c;
  assert.match(link, /\/r\/[^/?]+$/);
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(link);
  await byName(page, 'heading', 'Sign in to callbridge').waitFor();
  assert.ok(new URL(page.url()).searchParams.get('return_to')?.startsWith('/r/'), page.url());
  const media = page.waitForResponse((r) => r.url().includes('/r/') && r.url().includes('play=1'));
  media.catch(() => {}); // awaited below; a failure before then is reported by that step
  await byName(page, 'textbox', 'API key').fill(FX.api_key);
  await byName(page, 'button', 'Sign in').click();
  await page.waitForURL((u) => u.pathname === new URL(link).pathname);
  const audio = page.locator('audio');
  await audio.first().waitFor({ state: 'attached' });
  assert.ok([200, 206].includes((await media).status()), 'the audio streams');
  await page.waitForFunction(() => document.querySelector('audio')?.readyState >= 1, null, { timeout: TIMEOUT });
  await context.close();
});

// ---- Open CTI --------------------------------------------------------------------------------

test('Open CTI: click-to-dial from Salesforce dials, an inbound call pops the record', async () => {
  await settleAgent();
  const { context, page } = await consolePage({ opencti: true, path: '/console/?mode=opencti' });
  const cti = () => page.evaluate(() => ({
    enabled: window.__openctiStub.clickToDialEnabled, listening: !!window.__openctiStub.listener,
    pops: window.__openctiStub.calls('screenPop'),
    panel: window.__openctiStub.calls('setSoftphonePanelVisibility'),
  }));
  await eventually(async () => {
    const s = await cti();
    return s.enabled && s.listening;
  }, 'enableClickToDial and onClickToDial called');
  await page.evaluate(([n, r]) => window.__openctiStub.clickToDial({ number: n, recordId: r,
    recordName: 'Linus Pauling', objectType: 'Lead' }), [FX.numbers.linus, FX.records.linus.Id]);
  await activeCall(page).waitFor();
  const out = await eventually(() => newestCallTo(FX.numbers.linus), 'the click-to-dial call placed');
  await expectExactText(page.getByTestId('call-status'), 'in-progress');
  await byName(activeCall(page), 'button', 'Hang up').click();
  await eventually(async () => (await api('GET', `/api/calls/${out.call_id}`)).body.status === 'completed',
    'the call hung up');
  await settleAgent();
  // An inbound call from Grace: the console pops her Contact in Salesforce.
  const call = await inboundCall(FX.numbers.grace);
  try {
    await page.evaluate(([s, f]) => window.__twilioStub.ring({ CallSid: s, From: f, To: 'client:alice' }),
      [call.sid, FX.numbers.grace]);
    const pops = await eventually(async () => {
      const p = (await cti()).pops;
      return p.length ? p : null;
    }, 'sforce.opencti.screenPop called');
    assert.ok(JSON.stringify(pops).includes(FX.records.grace.Id), `screenPop with the record id: ${JSON.stringify(pops)}`);
    const panel = (await cti()).panel;
    assert.ok(panel.some((a) => a.visible === true), 'the softphone panel shown for the ringing call');
  } finally {
    await call.end();
    await context.close();
  }
});

// ---- the keyboard ----------------------------------------------------------------------------

test('keyboard: Tab reaches the status selector and the dialer, Enter dials', async () => {
  await settleAgent();
  const { context, page } = await consolePage();
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return el ? (el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || '').trim() : '';
  });
  const tabTo = async (want) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await byName(page, want.role, want.name).evaluate((el) => el === document.activeElement)) return;
    }
    assert.fail(`Tab never reached the ${want.role} "${want.name}" (last: "${await focused()}")`);
  };
  await page.locator('body').focus();
  await tabTo({ role: 'combobox', name: 'Status' });
  await tabTo({ role: 'textbox', name: 'Phone number' });
  await page.keyboard.type(FX.numbers.busy);
  await page.keyboard.press('Enter');
  await activeCall(page).waitFor();
  const call = await eventually(() => newestCallTo(FX.numbers.busy), 'the call dialled with Enter');
  await eventually(async () => (await api('GET', `/api/calls/${call.call_id}`)).body.status === 'busy',
    'the busy call ended');
  // The console showed it (the status recorder saw every text of call-status: under a slow
  // build the panel may already have moved on to the next state when this looks).
  await eventually(async () => (await page.evaluate(() => window.__statusSeen)).includes('busy'),
    'the console showing the call busy');
  await context.close();
});
