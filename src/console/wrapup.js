// The wrap-up form: disposition from [agents] dispositions (GET /api/console/config; required
// when disposition_required), notes; POST /api/calls/{id}/disposition. Shown once the call is
// answered or over.

import {api} from './api.js';
import {$, announce, el, setError, show} from './util.js';

export function initWrapUp(store, {onSaved}) {
  const form = $('wrapup');
  const select = $('disposition');
  const notes = $('notes');
  const status = $('wrapup-status');
  let optionsFrom = null;
  let callId = null;

  function fillOptions(config) {
    if (optionsFrom === config) return;
    optionsFrom = config;
    const list = (config && config.dispositions) || [];
    const required = Boolean(config && config.disposition_required);
    select.replaceChildren(
      el('option', {value: ''}, required ? 'Choose one (required)' : 'None'),
      ...list.map((d) => el('option', {value: d.value}, d.label || d.value)),
    );
    select.required = required;
    select.setAttribute('aria-required', String(required));
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = store.getState();
    if (!s.call) return;
    setError($('wrapup-error'), '');
    status.textContent = '';
    if (!select.value) {
      setError($('wrapup-error'), 'Choose a disposition.');
      select.focus();
      return;
    }
    const body = {disposition: select.value};
    if (notes.value.trim()) body.notes = notes.value;
    try {
      const res = await api(
        'POST',
        `/api/calls/${encodeURIComponent(s.call.call_id)}/disposition`,
        body,
      );
      store.update({
        wrapUpSaved: true,
        call: {...store.getState().call, disposition: res.disposition, notes: res.notes},
      });
      status.textContent = 'Wrap-up saved';
      announce('Wrap-up saved');
      onSaved(s.call);
    } catch (e) {
      setError($('wrapup-error'), `Not saved: ${e.message}`);
    }
  });

  store.subscribe((s) => {
    fillOptions(s.config);
    const c = s.call;
    const visible =
      Boolean(c) &&
      c.call_id !== null &&
      (s.phase === 'wrap_up' || c.status === 'in-progress' || Boolean(c.answered_at));
    show(form, visible);
    if (!c) return;
    if (c.call_id !== callId) {
      callId = c.call_id;
      select.value = c.disposition || '';
      notes.value = c.notes || '';
      status.textContent = '';
      setError($('wrapup-error'), '');
    }
  });
}
