// The dialer: a number (or click-to-dial from Salesforce) → POST /api/call/initiate, which
// places the call and rings this softphone with the bridged leg; with telephony "none" and a
// registered softphone the Device dials out itself through the TwiML app. Typing a number
// looks it up (GET /api/lookup) and offers the matching records as "Call <name>".

import {api} from './api.js';
import {$, el, newKey, setError} from './util.js';

export function initDialer(store, {call, softphone}) {
  const input = $('dial-number');
  const results = $('lookup-results');
  let timer = null;
  let seq = 0;
  let matches = {digits: '', list: []}; // the last lookup, to name the party of a dial

  // A lookup that answers after the dial names the call's party, when nothing else did.
  function nameDialled() {
    const c = store.getState().call;
    const m = matches.list[0];
    if (!c || !m || c.party_name || c.direction !== 'outbound') return;
    if (String(c.to || '').replace(/\D/g, '') !== matches.digits) return;
    store.update({
      call: {...c, party_name: m.name, party_company: m.company || null, party_url: m.url || null},
    });
  }

  async function dial(number, recordId) {
    const to = String(number || '').trim();
    setError($('dial-error'), '');
    if (!to) {
      setError($('dial-error'), 'Enter a phone number.');
      input.focus();
      return;
    }
    const s = store.getState();
    const tel = s.config && s.config.telephony ? s.config.telephony.provider : 'twilio';
    try {
      if (tel === 'none' && softphone.ready()) {
        await softphone.dial(to);
        return;
      }
      const body = {to, idempotency_key: newKey()};
      if (recordId) body.crm_record_id = recordId;
      const res = await api('POST', '/api/call/initiate', body);
      const digits = to.replace(/\D/g, '');
      const known =
        matches.digits === digits ? matches.list.find((x) => !recordId || x.id === recordId) : null;
      const m = res.crm_record && res.crm_record.name ? res.crm_record : known || null;
      call.setCall(
        {
          call_id: res.call_id,
          status: res.status,
          direction: 'outbound',
          to,
          from: null,
          party_name: m ? m.name : null,
          party_company: m ? m.company || null : null,
          party_url: m ? m.url || null : null,
          controls: null,
        },
        'ringing',
      );
      call.refresh(res.call_id);
      $('active').focus();
    } catch (e) {
      setError($('dial-error'), `Not dialled: ${e.message}`);
    }
  }

  async function lookup() {
    const my = ++seq;
    const phone = input.value.trim();
    if (phone.replace(/\D/g, '').length < 7) {
      results.replaceChildren();
      return;
    }
    try {
      const res = await api('GET', `/api/lookup?phone=${encodeURIComponent(phone)}`);
      if (my !== seq) return;
      matches = {digits: phone.replace(/\D/g, ''), list: res.matches || []};
      nameDialled();
      results.replaceChildren(
        ...(res.matches || []).map((m) =>
          el(
            'li',
            {},
            el('span', {}, [m.name, m.company, m.type].filter(Boolean).join(' · ')),
            el('button', {type: 'button', onclick: () => dial(phone, m.id)}, `Call ${m.name}`),
          ),
        ),
      );
    } catch (e) {
      if (my === seq) results.replaceChildren();
    }
  }

  $('dial-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    dial(input.value);
  });
  input.addEventListener('input', () => {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(lookup, 300);
  });

  return {dial};
}
