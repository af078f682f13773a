// The agent's event stream (GET /api/events, Server-Sent Events, the session cookie). On a
// network error EventSource reconnects by itself, sending Last-Event-ID; when the server ends
// or refuses the stream (EventSource gives up: readyState CLOSED) it is opened again here with
// ?last_event_id= after a backoff (1 s doubling to 30 s). onState gets 'connected' or
// 'reconnecting'; onEvent(type, data) gets each event the console knows; unknown types are
// ignored.

const TYPES = [
  'call_status',
  'screen_pop',
  'agent_status',
  'call_control',
  'transcript_partial',
  'transcript_final',
  'transcript_ready',
  'reset',
];

export function openEvents({onEvent, onState, beforeReopen}) {
  let source = null;
  let lastId = null;
  let backoff = 1000;
  let timer = null;
  let stopped = false;

  function connect() {
    timer = null;
    const url = lastId ? `/api/events?last_event_id=${encodeURIComponent(lastId)}` : '/api/events';
    source = new EventSource(url, {withCredentials: true});
    source.onopen = () => {
      backoff = 1000;
      onState('connected');
    };
    source.onerror = () => {
      onState('reconnecting');
      if (source.readyState !== EventSource.CLOSED || stopped) return;
      source.close();
      const wait = backoff;
      backoff = Math.min(backoff * 2, 30000);
      timer = window.setTimeout(async () => {
        // e.g. the session ended: the caller shows sign-in and stops us
        if (beforeReopen && !(await beforeReopen())) return;
        if (!stopped) connect();
      }, wait);
    };
    for (const type of TYPES) {
      source.addEventListener(type, (ev) => {
        if (ev.lastEventId) lastId = ev.lastEventId;
        let data = null;
        try {
          data = JSON.parse(ev.data);
        } catch (e) {
          return;
        }
        onEvent(type, data);
      });
    }
  }

  connect();
  return {
    close() {
      stopped = true;
      if (timer) window.clearTimeout(timer);
      if (source) source.close();
    },
  };
}
