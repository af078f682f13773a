// The console's one store: the state every module renders from. update() merges a patch and
// tells every subscriber; modules never keep their own copy of shared state.

const state = {
  session: null, // {agent:{name,display_name,admin,crm_user_id}, csrf_token, expires_at}
  config: null, // GET /api/console/config
  agentStatus: null, // GET /api/agent/status, agent_status events
  connection: 'reconnecting', // the event stream: connected | reconnecting
  audio: {state: 'off', message: ''}, // softphone: off | starting | ready | unavailable | error
  call: null, // the call on screen: GET /api/calls/{id} shape, updated by events
  phase: null, // ringing | live | wrap_up | null
  incoming: null, // the screen pop of the ringing call: {call_id, from, matches}
  muted: false,
  leg: false, // the softphone has an audio leg for the call
  wrapUpSaved: false,
};

const listeners = new Set();

export function getState() {
  return state;
}

export function update(patch) {
  Object.assign(state, patch);
  for (const fn of listeners) fn(state);
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
