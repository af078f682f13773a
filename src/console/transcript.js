// The live transcript: transcript_final segments as lines (li data-speaker="agent|customer",
// in sequence order, each once), key words in <mark data-rule="…"> in their rule's colour
// (GET /api/console/config rules[].color); transcript_partial shown below the log, not in it.

import {$, el, textColourFor} from './util.js';

const LABELS = {agent: 'Agent', customer: 'Customer'};

// Split text into text nodes and <mark>s for each keyword occurrence (case-insensitive,
// longest keyword first where they overlap).
function highlighted(text, keywords, colours) {
  const hits = [];
  const lower = text.toLowerCase();
  const words = [...(keywords || [])]
    .filter((k) => k && k.keyword)
    .sort((a, b) => b.keyword.length - a.keyword.length);
  for (const k of words) {
    const needle = k.keyword.toLowerCase();
    for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, i + needle.length)) {
      if (!hits.some((h) => i < h.end && i + needle.length > h.start)) {
        hits.push({start: i, end: i + needle.length, rule: k.rule || ''});
      }
    }
  }
  hits.sort((a, b) => a.start - b.start);
  const out = [];
  let at = 0;
  for (const h of hits) {
    if (h.start > at) out.push(text.slice(at, h.start));
    const mark = el('mark', {dataset: {rule: h.rule}}, text.slice(h.start, h.end));
    const colour = colours.get(h.rule);
    if (colour) {
      mark.style.backgroundColor = colour;
      mark.style.color = textColourFor(colour);
    }
    mark.title = h.rule;
    out.push(mark);
    at = h.end;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

export function initTranscript(store) {
  const list = $('transcript-lines');
  const partial = $('transcript-partial');
  let callId = null;
  const seen = new Set();

  function colours() {
    const c = store.getState().config;
    return new Map(((c && c.rules) || []).map((r) => [r.name, r.color]));
  }

  function clear() {
    list.replaceChildren();
    partial.textContent = '';
    seen.clear();
    $('transcript-empty').hidden = false;
  }

  function add(seg) {
    const key = seg.sequence !== undefined ? `s${seg.sequence}` : `t${seg.speaker}:${seg.text}`;
    if (seen.has(key)) return;
    seen.add(key);
    const speaker = seg.speaker === 'agent' ? 'agent' : 'customer';
    const li = el(
      'li',
      {dataset: {speaker, sequence: seg.sequence ?? ''}},
      el('span', {class: 'speaker'}, `${LABELS[speaker]}:`),
      ' ',
      ...highlighted(seg.text || '', seg.keywords, colours()),
    );
    // In sequence order: a late segment lands in its place.
    const after = [...list.children].find(
      (n) =>
        n.dataset.sequence !== '' &&
        seg.sequence !== undefined &&
        Number(n.dataset.sequence) > seg.sequence,
    );
    list.insertBefore(li, after || null);
    partial.textContent = '';
    $('transcript-empty').hidden = true;
    const box = $('transcript');
    box.scrollTop = box.scrollHeight;
  }

  store.subscribe((s) => {
    const id = s.call ? s.call.call_id : null;
    if (id !== callId) {
      callId = id;
      clear();
    }
  });

  return {
    onFinal(d) {
      if (d.call_id === callId) add(d);
    },
    onPartial(d) {
      if (d.call_id !== callId) return;
      const who = LABELS[d.speaker === 'agent' ? 'agent' : 'customer'];
      partial.textContent = `${who}: ${d.text || ''}…`;
    },
    // The segments so far, after a reload (GET /api/agent/call "transcript").
    restore(segments) {
      for (const seg of segments || []) add(seg);
    },
  };
}
