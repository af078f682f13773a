// The header: the agent's name, the status selector (available, away with a reason, offline;
// busy and wrap-up shown as they happen in data-testid="agent-status"), the event stream's
// state, the softphone's state and sign-out. PUT /api/agent/status on a change.

import {api} from './api.js';
import {$, announce, show} from './util.js';

const CHOOSABLE = new Set(['available', 'away', 'offline']);

export function initStatus(store, {onSignOut, onError}) {
  const select = $('status-select');
  const reason = $('away-reason');
  const reasonWrap = $('away-reason-wrap');
  let lastAnnounced = null;
  let choosing = null; // the rep's choice while its PUT is under way

  let queue = Promise.resolve();

  // One PUT at a time, in the order the rep chose: the last choice is the one that stays.
  function put(status, why) {
    const body = {status};
    if (why) body.reason = why;
    choosing = status;
    queue = queue.then(async () => {
      try {
        const st = await api('PUT', '/api/agent/status', body);
        if (choosing === status) choosing = null;
        store.update({agentStatus: st});
      } catch (e) {
        choosing = null;
        onError(`Status not changed: ${e.message}`);
        render(store.getState());
      }
    });
  }

  select.addEventListener('change', () => {
    show(reasonWrap, select.value === 'away');
    put(select.value, select.value === 'away' ? reason.value.trim() : '');
  });
  reason.addEventListener('change', () => {
    if (select.value === 'away') put('away', reason.value.trim());
  });
  $('signout').addEventListener('click', onSignOut);

  function render(s) {
    const st = s.agentStatus;
    $('agent-name').textContent = s.session
      ? s.session.agent.display_name || s.session.agent.name
      : '';
    $('connection').textContent = s.connection;
    $('audio-state').textContent =
      s.audio.state === 'ready'
        ? 'Audio: ready'
        : s.audio.state === 'starting'
          ? 'Audio: connecting'
          : '';
    const banner = $('banner');
    banner.textContent = s.audio.message || '';
    banner.hidden = !s.audio.message;
    if (!st) return;
    const pill = $('agent-status');
    pill.textContent = st.status;
    pill.dataset.status = st.status;
    // The selector shows the rep's own choice: the status, or where busy/wrap-up will go.
    const chosen =
      choosing || (CHOOSABLE.has(st.status) ? st.status : st.next_status || 'available');
    select.value = chosen;
    show(reasonWrap, select.value === 'away');
    const why =
      st.status === 'away' ? st.reason : st.next_status === 'away' ? st.next_reason : null;
    if (why !== undefined && why !== null && document.activeElement !== reason) reason.value = why;
    const said = `${st.status}${st.next_status ? `>${st.next_status}` : ''}`;
    if (said !== lastAnnounced) {
      if (lastAnnounced !== null) announce(`Status: ${st.status.replace('_', '-')}`);
      lastAnnounced = said;
    }
  }

  store.subscribe(render);
}
