// Recent calls (GET /api/calls, newest first) with search (?q=: digits match the numbers,
// text the party's name or company, the disposition or notes). Each call can be dialled again
// and its insights opened.

import {api} from './api.js';
import {$, el, localTime, partyLabel, partyNumber} from './util.js';

export function initRecent(store, {onDial, onInsights}) {
  const list = $('recent-list');
  const search = $('recent-search');
  let timer = null;
  let seq = 0;

  async function load() {
    const my = ++seq;
    const q = search.value.trim();
    const path = `/api/calls?limit=20${q ? `&q=${encodeURIComponent(q)}` : ''}`;
    let page;
    try {
      page = await api('GET', path);
    } catch (e) {
      if (my === seq)
        list.replaceChildren(el('li', {class: 'error'}, `Calls not loaded: ${e.message}`));
      return;
    }
    if (my !== seq) return; // an older search answered late
    const items = (page.calls || []).map((c) => {
      const label = partyLabel(c);
      const number = partyNumber(c);
      const dialable = number && /^\+?[0-9]{3,}$/.test(number);
      return el(
        'li',
        {dataset: {callId: c.call_id}},
        el(
          'span',
          {class: 'who'},
          `${c.direction === 'inbound' ? 'From' : 'To'} ${label}`,
          c.party_company ? ` (${c.party_company})` : '',
        ),
        el(
          'span',
          {class: 'meta'},
          [c.status, c.disposition, localTime(c.created_at)].filter(Boolean).join(' · '),
        ),
        el(
          'button',
          {
            type: 'button',
            disabled: !dialable,
            onclick: () => onDial(number, c.crm_record_id || null),
          },
          `Call ${label}`,
        ),
        el(
          'button',
          {
            type: 'button',
            'aria-label': `Insights: ${label}`,
            onclick: () => onInsights(c.call_id),
          },
          'Insights',
        ),
      );
    });
    list.replaceChildren(
      ...(items.length
        ? items
        : [el('li', {class: 'hint'}, q ? 'No call matches.' : 'No calls yet.')]),
    );
  }

  search.addEventListener('input', () => {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(load, 250);
  });

  return {load};
}
