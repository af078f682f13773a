// Call Insights: the analysis of a call (GET /api/calls/{id}, transcripts[0]) once it is in —
// sentiment, intent, tags, key words, entities, summary, follow-ups — and its recording
// (recordings[].link, played from this origin with the session cookie).

import {api} from './api.js';
import {$, el, localTime, partyLabel} from './util.js';

// A list item's text for a value the analysis gives as a string or an object.
function itemText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return String(v);
  if (v.type && v.text) return `${v.type}: ${v.text}`;
  const main = v.keyword || v.name || v.subject || v.text || v.word || v.tag || v.rule;
  if (main && typeof v.count === 'number') return `${main} (${v.count})`;
  if (main && v.due) return `${main} (due ${v.due})`;
  return main ? String(main) : JSON.stringify(v);
}

function fillList(testid, values) {
  const ul = document.querySelector(`[data-testid="${testid}"]`);
  const items = (values || []).map((v) => el('li', {}, itemText(v)));
  ul.replaceChildren(...(items.length ? items : [el('li', {class: 'none'}, 'none')]));
}

function setText(testid, text) {
  document.querySelector(`[data-testid="${testid}"]`).textContent = text;
}

// Where the player fetches the recording: the API's own route (the session cookie is enough,
// Range included). The stable link (recordings[].link, <public_url>/r/<id>) is what the CRM
// holds; it may name another host (the one Twilio reaches).
function recordingSrc(call, rec) {
  const id = encodeURIComponent(call.call_id);
  return `/api/calls/${id}/recording/${encodeURIComponent(rec.recording_id)}`;
}

export function initInsights(store) {
  let shownFor = null;

  function render(call) {
    const t = (call.transcripts || [])[0];
    const rec = (call.recordings || []).find((r) => r.state === 'stored');
    if (!t && !rec) return false;
    shownFor = call.call_id;
    // The name the console knew (e.g. from the dialer's lookup) when the call has none.
    const shown = store.getState().call;
    const named =
      shown && shown.call_id === call.call_id && !call.party_name
        ? {...call, party_name: shown.party_name}
        : call;
    $('insights-for').textContent = `${partyLabel(named)}, ${localTime(call.created_at)}`;
    if (t) {
      const score = typeof t.sentiment === 'number' ? ` (${t.sentiment.toFixed(2)})` : '';
      setText('insight-sentiment', t.sentiment_label ? `${t.sentiment_label}${score}` : 'unknown');
      setText('insight-intent', t.intent || 'none');
      fillList('insight-tags', t.tags);
      fillList('insight-keywords', t.keywords);
      fillList('insight-entities', t.entities);
      setText('insight-summary', t.summary || 'No summary.');
      fillList('insight-follow-ups', t.follow_ups);
    }
    const player = $('insights').querySelector('audio');
    if (rec) {
      const src = recordingSrc(call, rec);
      if (player.getAttribute('src') !== src) player.setAttribute('src', src);
    } else {
      player.removeAttribute('src');
    }
    $('insights').hidden = false;
    return true;
  }

  async function load(callId) {
    try {
      const call = await api('GET', `/api/calls/${encodeURIComponent(callId)}`);
      return render(call);
    } catch (e) {
      return false;
    }
  }

  // A new call on screen hides the previous call's insights.
  store.subscribe((s) => {
    if (s.call && shownFor && s.call.call_id !== shownFor && !s.call.transcripts) {
      $('insights').hidden = true;
      shownFor = null;
    }
  });

  return {load, render};
}
