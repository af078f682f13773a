// The call on screen: the incoming panel (screen pop, Answer/Decline), the active call (status,
// timer, mute through the softphone, hold, transfer, recording, hang-up through
// /api/calls/{id}/hangup|hold|transfer|recording), and how events move it. crm() gives the
// Open CTI wiring (opencti.js) when the console runs inside Salesforce, else null.

import {api} from './api.js';
import {
  $,
  announce,
  isFinal,
  maskNumber,
  mmss,
  partyLabel,
  partyNumber,
  setError,
  show,
} from './util.js';

export function initCall(store, {softphone, crm, onCallEnded}) {
  const timer = $('call-timer');
  let tick = null;
  let liveSince = null; // ms since epoch the call was answered (server time when known)
  let focusedFor = null;

  const current = () => store.getState().call;
  const conference = () => {
    const c = store.getState().config;
    return !c || !c.telephony || c.telephony.conference !== false;
  };

  // Adopt a call as the one on screen (a new call resets what belonged to the previous one).
  function setCall(call, phase) {
    const s = store.getState();
    const same = s.call && s.call.call_id === call.call_id;
    store.update({
      call: same ? mergeCall(s.call, call) : call,
      phase,
      ...(same ? {} : {incoming: null, wrapUpSaved: false, muted: false}),
    });
  }

  function phaseOf(call) {
    if (isFinal(call.status)) return 'wrap_up';
    return call.status === 'in-progress' ? 'live' : 'ringing';
  }

  // The server's view of the call over ours, except the party's name, company and record when
  // the server has none and the console knew them (the screen pop, the dialer's lookup).
  function mergeCall(ours, theirs) {
    const out = {...ours, ...theirs};
    for (const k of ['party_name', 'party_company', 'party_url']) {
      if ((theirs[k] === null || theirs[k] === undefined) && ours[k]) out[k] = ours[k];
    }
    return out;
  }

  async function refresh(callId) {
    try {
      const full = await api('GET', `/api/calls/${encodeURIComponent(callId)}`);
      const s = store.getState();
      if (s.call && s.call.call_id === callId) store.update({call: mergeCall(s.call, full)});
      return full;
    } catch (e) {
      return null;
    }
  }

  async function act(path, body) {
    const call = current();
    if (!call) return null;
    setError($('call-error'), '');
    try {
      const res = await api('POST', `/api/calls/${encodeURIComponent(call.call_id)}/${path}`, body);
      if (res && res.controls) {
        const s = store.getState();
        if (s.call && s.call.call_id === call.call_id) {
          store.update({call: {...s.call, controls: res.controls}});
        }
      }
      return res;
    } catch (e) {
      setError($('call-error'), e.message);
      return null;
    }
  }

  // ---- events ------------------------------------------------------------------------------

  function onCallStatus(d) {
    const call = current();
    if (call && call.call_id === d.call_id) {
      const was = call.status;
      const next = {...call, status: d.status};
      if (d.duration_s !== undefined) next.duration_s = d.duration_s;
      if (d.status === 'in-progress' && !next.answered_at)
        next.answered_at = new Date().toISOString();
      const answered = Boolean(next.answered_at);
      let phase = phaseOf(next);
      if (isFinal(d.status) && !answered && next.direction === 'inbound') phase = null; // missed
      store.update({
        call: next,
        phase,
        incoming: phase === 'ringing' ? store.getState().incoming : null,
      });
      if (was !== d.status) announce(`Call ${d.status.replace('-', ' ')}`);
      if (isFinal(d.status)) {
        softphone.hangup();
        onCallEnded(next);
      }
      return;
    }
    // Another call of ours (e.g. dialled from another tab): take it when nothing is going on.
    if (!call || isFinal(call.status) || store.getState().phase === null) {
      setCall(
        {
          call_id: d.call_id,
          status: d.status,
          direction: d.direction,
          to: d.to || '',
          from: null,
          controls: null,
        },
        phaseOf(d),
      );
      refresh(d.call_id);
    }
  }

  function onScreenPop(d) {
    const m = (d.matches || [])[0] || {};
    setCall(
      {
        call_id: d.call_id,
        direction: 'inbound',
        status: 'ringing',
        from: d.from,
        to: '',
        party_name: m.name || null,
        party_company: m.company || null,
        party_url: m.url || null,
        controls: null,
      },
      'ringing',
    );
    store.update({incoming: d});
    const cti = crm();
    if (cti) {
      cti.showPanel();
      if (m.id) cti.screenPop(m.id);
    }
    announce(`Incoming call from ${m.name || maskNumber(d.from)}`);
    refresh(d.call_id);
  }

  function onControl(d) {
    const s = store.getState();
    if (s.call && s.call.call_id === d.call_id)
      store.update({call: {...s.call, controls: d.controls}});
  }

  // The softphone rings: the bridged leg of our click-to-dial call is taken at once; another
  // leg waits for Answer (with or without a screen pop).
  function onLeg(params) {
    const s = store.getState();
    if (s.call && s.call.direction === 'outbound' && !isFinal(s.call.status)) {
      softphone.accept();
      return;
    }
    if (!s.incoming && (!s.call || isFinal(s.call.status))) {
      store.update({
        incoming: {call_id: null, from: params.From || '', matches: []},
        phase: 'ringing',
      });
      const cti = crm();
      if (cti) cti.showPanel();
    }
  }

  // ---- controls ----------------------------------------------------------------------------

  $('answer').addEventListener('click', () => {
    softphone.accept();
    const s = store.getState();
    store.update({incoming: null, phase: s.call ? 'live' : null});
    $('active').focus();
  });
  // Decline turns down this softphone's leg only: the call goes where routing sends it next
  // (the fallback agent or number); the customer is not hung up on.
  $('decline').addEventListener('click', () => {
    softphone.reject();
    store.update({incoming: null, phase: null, call: null});
    $('dial-number').focus();
  });
  $('mute').addEventListener('click', () => softphone.toggleMute());
  $('hold').addEventListener('click', () => {
    const c = current();
    act('hold', {on: !(c && c.controls && c.controls.held)});
  });
  function transferPanel(open) {
    $('transfer-panel').hidden = !open;
    $('transfer').setAttribute('aria-expanded', String(open));
    if (open) {
      const c = store.getState().config;
      const targets = ((c && c.transfer_targets) || []).map(
        (t) => `${t.name}${t.status ? ` (${t.status.replace('_', '-')})` : ''}`,
      );
      $('transfer-hint').textContent =
        "An agent's name or a number in +E.164 form." +
        (targets.length ? ` Agents: ${targets.join(', ')}.` : '');
      $('transfer-to').focus();
    }
  }
  $('transfer').addEventListener('click', () => transferPanel($('transfer-panel').hidden));
  $('transfer-panel').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    transferPanel(false);
    $('transfer').focus();
  });
  $('transfer-go').addEventListener('click', async () => {
    const to = $('transfer-to').value.trim();
    const mode = document.querySelector('input[name="transfer-mode"]:checked').value;
    if (!to) {
      setError($('call-error'), 'Say whom to transfer to.');
      $('transfer-to').focus();
      return;
    }
    if (await act('transfer', {to, mode}))
      announce(mode === 'warm' ? `Ringing ${to}` : `Transferred to ${to}`);
  });
  $('transfer-complete').addEventListener('click', () => act('transfer', {action: 'complete'}));
  $('transfer-cancel').addEventListener('click', () => act('transfer', {action: 'cancel'}));
  $('recording').addEventListener('click', () => {
    const c = current();
    const paused = c && c.controls && c.controls.recording === 'paused';
    act('recording', {action: paused ? 'resume' : 'pause'});
  });
  $('hangup').addEventListener('click', async () => {
    softphone.hangup();
    await act('hangup');
  });

  // ---- rendering ---------------------------------------------------------------------------

  function renderTimer() {
    const c = current();
    if (!c) return;
    if (isFinal(c.status) && typeof c.duration_s === 'number') {
      timer.textContent = mmss(c.duration_s);
    } else if (liveSince !== null) {
      timer.textContent = mmss((Date.now() - liveSince) / 1000);
    } else {
      timer.textContent = '00:00';
    }
  }

  // The record owner's name: the signed-in agent's own name when they own it (Salesforce ids
  // compared on their 15-character form), else what the CRM said (its username).
  function ownerName(s, m) {
    const me = s.session && s.session.agent;
    const mine =
      me &&
      me.crm_user_id &&
      m.owner_id &&
      me.crm_user_id.slice(0, 15) === String(m.owner_id).slice(0, 15);
    return mine ? me.display_name || me.name : m.owner || '';
  }

  function renderIncoming(s) {
    const inc = s.incoming;
    const panel = $('incoming');
    const visible = Boolean(inc) && s.phase === 'ringing';
    show(panel, visible);
    if (!visible) {
      focusedFor = null;
      return;
    }
    const c = s.call && s.call.call_id === inc.call_id ? s.call : null;
    const m = (inc.matches || [])[0] || {};
    $('incoming-name').textContent = m.name || (c && c.party_name) || 'Unknown caller';
    $('incoming-company').textContent = m.company || (c && c.party_company) || '';
    const owner = ownerName(s, m);
    $('incoming-owner').textContent = owner ? `Owner: ${owner}` : '';
    $('incoming-number').textContent = inc.from || '';
    const url = m.url || (c && c.party_url);
    const link = $('incoming-record');
    link.hidden = !url;
    if (url) link.href = url;
    const key = inc.call_id || 'leg';
    if (focusedFor !== key) {
      focusedFor = key;
      panel.focus();
    }
  }

  function renderActive(s) {
    const c = s.call;
    const visible =
      Boolean(c) && !(s.phase === 'ringing' && c.direction === 'inbound') && s.phase !== null;
    show($('active'), visible);
    if (!visible) {
      if (tick) window.clearInterval(tick);
      tick = null;
      return;
    }
    $('active-party').textContent = c.party_name || 'Unknown contact';
    $('active-number').textContent = partyNumber(c) || '';
    $('call-status').textContent = c.status;
    const final = isFinal(c.status);
    const live = c.status === 'in-progress';
    liveSince = c.answered_at ? Date.parse(c.answered_at) : null;
    if (live && !tick) tick = window.setInterval(renderTimer, 1000);
    if (!live && tick) {
      window.clearInterval(tick);
      tick = null;
    }
    renderTimer();
    const ctl = c.controls || {held: false, recording: 'active', hung_up: false, transfer: null};
    const pendingTransfer = ctl.transfer && ctl.transfer.state === 'pending';
    const mute = $('mute');
    mute.textContent = s.muted ? 'Unmute' : 'Mute';
    mute.setAttribute('aria-pressed', String(s.muted));
    mute.disabled = !s.leg || final;
    const hold = $('hold');
    hold.textContent = ctl.held && !pendingTransfer ? 'Resume' : 'Hold';
    hold.disabled = !live || !conference() || pendingTransfer;
    $('transfer').disabled = !live || (ctl.transfer && ctl.transfer.state === 'done');
    show($('warm-actions'), Boolean(pendingTransfer));
    $('transfer-go').disabled = Boolean(pendingTransfer);
    const rec = $('recording');
    rec.textContent = ctl.recording === 'paused' ? 'Resume recording' : 'Pause recording';
    rec.disabled = !live || ctl.recording === 'off' || pendingTransfer;
    $('hangup').disabled = final;
    if (final) {
      show($('transfer-panel'), false);
      $('transfer').setAttribute('aria-expanded', 'false');
    }
  }

  store.subscribe((s) => {
    renderIncoming(s);
    renderActive(s);
  });

  return {
    setCall,
    phaseOf,
    refresh,
    onCallStatus,
    onScreenPop,
    onControl,
    onLeg,
    label: partyLabel,
  };
}
