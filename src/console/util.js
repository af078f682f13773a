// Small DOM and formatting helpers shared by the console's modules.

export const $ = (id) => document.getElementById(id);

// Create an element: el('li', {class: 'x', dataset: {speaker: 'agent'}}, 'text', child).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'onclick') node.addEventListener('click', v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

export function show(node, visible) {
  node.hidden = !visible;
}

// Set an error paragraph's text and show it; '' hides it.
export function setError(node, message) {
  node.textContent = message || '';
  node.hidden = !message;
}

// Tell screen readers about a change (an aria-live="polite" paragraph).
export function announce(text) {
  const a = $('announcer');
  a.textContent = '';
  window.setTimeout(() => {
    a.textContent = text;
  }, 50);
}

export const FINAL_STATUSES = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

export function isFinal(status) {
  return FINAL_STATUSES.has(status);
}

// mm:ss of a number of seconds (minutes go past 59 rather than adding hours).
export function mmss(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

// A phone number for display and names: the last four digits only ("…0123"); numbers the API
// masked already stay as they are.
export function maskNumber(number) {
  if (!number) return 'unknown number';
  if (/[*•…x]/i.test(number.replace(/^\+/, ''))) return number;
  const digits = number.replace(/\D/g, '');
  return digits.length > 4 ? `…${digits.slice(-4)}` : number;
}

// The other party's number of a call: the number called for outbound, the caller for inbound.
export function partyNumber(call) {
  return call.direction === 'inbound' ? call.from : call.to;
}

// What to call a call's other party: the CRM name when known, else the masked number.
export function partyLabel(call) {
  return call.party_name || maskNumber(partyNumber(call));
}

export function localTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? ''
    : d.toLocaleString([], {dateStyle: 'short', timeStyle: 'short'});
}

// Black or white text, whichever contrasts more with the background colour "#rrggbb".
export function textColourFor(hex) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || '');
  if (!m) return '#1b1f24';
  const lin = (c) => {
    const v = parseInt(c, 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(m[1]) + 0.7152 * lin(m[2]) + 0.0722 * lin(m[3]);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

// A local path to go back to after sign-in ("/r/…"), or null: never another origin.
export function localPath(value) {
  if (
    typeof value !== 'string' ||
    !value.startsWith('/') ||
    value.startsWith('//') ||
    value.startsWith('/\\')
  ) {
    return null;
  }
  return value;
}

// A random idempotency key (crypto.randomUUID needs a secure context; getRandomValues not).
export function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
