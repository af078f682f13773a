// Audio through the Twilio Voice JS SDK (twilio.min.js, window.Twilio.Device). The Device
// registers with a token from POST /api/softphone/token as the agent's client identity, takes
// the bridged legs callbridge rings it with (click-to-dial and inbound calls), and can dial out
// through the TwiML app itself (device.connect). The token is renewed on tokenWillExpire with
// device.updateToken. What is used of the SDK (a test stub must provide it): new Device(token,
// options), device.on('registered'|'unregistered'|'incoming'|'tokenWillExpire'|'error'),
// device.register(), device.updateToken(token), device.connect({params}), device.destroy();
// call.on('accept'|'disconnect'|'cancel'|'reject'|'mute'|'error'), call.accept(),
// call.reject(), call.disconnect(), call.mute(bool), call.isMuted(), call.parameters.

import {api} from './api.js';

export function createSoftphone({onState, onIncoming, onLegChange, onMute}) {
  let device = null;
  let pending = null; // a ringing leg, not yet accepted
  let active = null; // the accepted leg

  function setActive(call) {
    active = call;
    onLegChange(Boolean(active));
  }

  function watch(call) {
    const gone = () => {
      if (pending === call) pending = null;
      if (active === call) setActive(null);
    };
    call.on('disconnect', gone);
    call.on('cancel', gone);
    call.on('reject', gone);
    call.on('error', (e) => onState('error', e && e.message ? e.message : 'audio error'));
    call.on('mute', (muted) => onMute(Boolean(muted)));
    call.on('accept', () => {
      if (pending === call) pending = null;
      setActive(call);
    });
  }

  async function token() {
    const t = await api('POST', '/api/softphone/token');
    return t.token;
  }

  async function start() {
    const Device = window.Twilio && window.Twilio.Device;
    if (!Device) {
      onState(
        'unavailable',
        'Audio unavailable: this callbridge was built without the Twilio ' +
          'Voice SDK. Calls still work from a phone, but not in this browser.',
      );
      return;
    }
    onState('starting', '');
    try {
      device = new Device(await token(), {
        logLevel: 'error',
        closeProtection: true,
        codecPreferences: ['opus', 'pcmu'],
      });
    } catch (e) {
      onState('unavailable', `Audio unavailable: ${e.message}`);
      return;
    }
    device.on('registered', () => onState('ready', ''));
    device.on('unregistered', () => onState('starting', ''));
    device.on('error', (e) => onState('error', `Audio error: ${e && e.message ? e.message : e}`));
    device.on('tokenWillExpire', async () => {
      try {
        device.updateToken(await token());
      } catch (e) {
        onState('error', `Audio token could not be renewed: ${e.message}`);
      }
    });
    device.on('incoming', (call) => {
      pending = call;
      watch(call);
      onIncoming(call.parameters || {});
    });
    try {
      await device.register();
    } catch (e) {
      onState('error', `Audio could not register: ${e.message}`);
    }
  }

  return {
    start,
    hasPending: () => Boolean(pending),
    ready: () => Boolean(device),
    accept() {
      if (!pending) return false;
      pending.accept();
      return true;
    },
    reject() {
      if (!pending) return false;
      pending.reject();
      pending = null;
      return true;
    },
    async dial(number) {
      const call = await device.connect({params: {To: number}});
      watch(call);
      setActive(call);
      return call;
    },
    toggleMute() {
      if (!active) return;
      active.mute(!active.isMuted());
    },
    hangup() {
      if (active) active.disconnect();
      if (pending) pending.reject();
      pending = null;
      setActive(null);
    },
    destroy() {
      if (device) device.destroy();
      device = null;
      pending = null;
      active = null;
    },
  };
}
