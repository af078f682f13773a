/* A stand-in for the Twilio Voice JavaScript SDK (@twilio/voice-sdk 2.x dist file), served by
 * the browser tests in place of /console/twilio.min.js (page.route). Test-only: it lives under
 * tests/ and never ships. The real SDK needs Twilio's servers; this one keeps the surface the
 * console uses (window.Twilio.Device and its Call objects, the same method and event names)
 * and records what the console did with it, so a test can assert on it.
 *
 * window.__twilioStub (the test hook):
 *   devices            every Device constructed, newest last
 *   log                [{what, ...}] in order: construct, register, unregister, connect,
 *                      updateToken, destroy, accept, reject, disconnect, mute
 *   ring(params)       a new incoming Call on the newest registered Device ('incoming');
 *                      params become call.parameters (CallSid, From, To...); returns its index
 *   calls              every Call, incoming and outgoing, newest last
 *   cancel(i)          the caller hangs up before answer ('cancel' on calls[i])
 *   remoteHangup(i)    the other side ends an accepted call ('disconnect')
 *   expireSoon()       'tokenWillExpire' on the newest Device
 *   fail(code, msg)    'error' on the newest Device
 *   state()            a JSON-able summary: {registered, identity, tokens, muted, calls:[...]}
 */
(function () {
	'use strict';

	var hook = {devices: [], calls: [], log: []};

	function record(what, extra) {
		var e = {what: what, at: Date.now()};
		for (var k in extra || {}) e[k] = extra[k];
		hook.log.push(e);
	}

	/* The identity a Twilio access token carries: grants.identity of its JWT payload. */
	function identityOf(token) {
		try {
			var p = String(token).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
			while (p.length % 4) p += '=';
			var claims = JSON.parse(atob(p));
			return (claims.grants && claims.grants.identity) || null;
		} catch (e) {
			return null;
		}
	}

	/* on/off/once/emit with the signature of Node's EventEmitter (the SDK's base class). */
	function Emitter() {
		this._handlers = {};
	}
	Emitter.prototype.on = function (name, fn) {
		(this._handlers[name] = this._handlers[name] || []).push(fn);
		return this;
	};
	Emitter.prototype.addListener = Emitter.prototype.on;
	Emitter.prototype.once = function (name, fn) {
		var self = this;
		function once() {
			self.off(name, once);
			fn.apply(self, arguments);
		}
		return this.on(name, once);
	};
	Emitter.prototype.off = function (name, fn) {
		var list = this._handlers[name] || [];
		var i = list.indexOf(fn);
		if (i >= 0) list.splice(i, 1);
		return this;
	};
	Emitter.prototype.removeListener = Emitter.prototype.off;
	Emitter.prototype.removeAllListeners = function (name) {
		if (name) delete this._handlers[name];
		else this._handlers = {};
		return this;
	};
	Emitter.prototype.emit = function (name) {
		var args = Array.prototype.slice.call(arguments, 1);
		var list = (this._handlers[name] || []).slice();
		for (var i = 0; i < list.length; i++) {
			try {
				list[i].apply(this, args);
			} catch (e) {
				setTimeout(function () {
					throw e;
				});
			}
		}
		return list.length > 0;
	};
	Emitter.prototype.listenerCount = function (name) {
		return (this._handlers[name] || []).length;
	};

	function inherit(Child) {
		Child.prototype = Object.create(Emitter.prototype);
		Child.prototype.constructor = Child;
	}

	/* ---- Call ---------------------------------------------------------------------------- */

	function Call(device, direction, parameters, customParameters) {
		Emitter.call(this);
		this._device = device;
		this._status = direction === 'INCOMING' ? 'pending' : 'connecting';
		this._muted = false;
		this.direction = direction;
		this.parameters = parameters || {};
		this.customParameters = new Map(Object.entries(customParameters || {}));
		this.index = hook.calls.length;
		hook.calls.push(this);
	}
	inherit(Call);
	Call.State = {Closed: 'closed', Connecting: 'connecting', Open: 'open', Pending: 'pending',
		Reconnecting: 'reconnecting', Ringing: 'ringing'};
	Call.prototype.status = function () {
		return this._status;
	};
	Call.prototype.accept = function (options) {
		record('accept', {call: this.index, options: options || null});
		if (this._status !== 'pending') return;
		this._status = 'open';
		var self = this;
		setTimeout(function () {
			self.emit('accept', self);
		});
	};
	Call.prototype.reject = function () {
		record('reject', {call: this.index});
		if (this._status !== 'pending') return;
		this._status = 'closed';
		this.emit('reject');
	};
	Call.prototype.ignore = function () {
		record('ignore', {call: this.index});
		this._status = 'closed';
	};
	Call.prototype.disconnect = function () {
		record('disconnect', {call: this.index});
		if (this._status === 'closed') return;
		this._status = 'closed';
		var self = this;
		setTimeout(function () {
			self.emit('disconnect', self);
		});
	};
	Call.prototype.mute = function (shouldMute) {
		var on = shouldMute === undefined ? true : !!shouldMute;
		record('mute', {call: this.index, muted: on});
		if (on === this._muted) return;
		this._muted = on;
		this.emit('mute', on, this);
	};
	Call.prototype.isMuted = function () {
		return this._muted;
	};
	Call.prototype.sendDigits = function (digits) {
		record('sendDigits', {call: this.index, digits: String(digits)});
	};
	Call.prototype.getLocalStream = function () {
		return undefined;
	};
	Call.prototype.getRemoteStream = function () {
		return undefined;
	};
	Call.prototype.postFeedback = function () {
		return Promise.resolve();
	};

	/* ---- Device -------------------------------------------------------------------------- */

	function Device(token, options) {
		if (!(this instanceof Device)) throw new TypeError('Device must be constructed with new');
		Emitter.call(this);
		this._token = token;
		this._options = options || {};
		this.state = 'unregistered';
		this.identity = identityOf(token);
		this.calls = [];
		this.audio = {
			availableOutputDevices: new Map(), availableInputDevices: new Map(),
			speakerDevices: {set: function () { return Promise.resolve(); }, get: function () { return new Set(); }},
			ringtoneDevices: {set: function () { return Promise.resolve(); }, get: function () { return new Set(); }},
			setInputDevice: function () { return Promise.resolve(); },
			unsetInputDevice: function () { return Promise.resolve(); },
			incoming: function () {}, outgoing: function () {}, disconnect: function () {},
			on: function () {}, off: function () {},
		};
		hook.devices.push(this);
		record('construct', {identity: this.identity, options: Object.keys(this._options)});
	}
	inherit(Device);
	Device.EventName = {Destroyed: 'destroyed', Error: 'error', Incoming: 'incoming',
		Registered: 'registered', Registering: 'registering', TokenWillExpire: 'tokenWillExpire',
		Unregistered: 'unregistered'};
	Device.State = {Destroyed: 'destroyed', Unregistered: 'unregistered',
		Registering: 'registering', Registered: 'registered'};
	Device.isSupported = true;
	Device.packageName = '@twilio/voice-sdk';
	Device.version = '2.x-callbridge-test-stub';
	Device.runPreflight = function () {
		throw new Error('not in the test stub');
	};

	Object.defineProperty(Device.prototype, 'token', {
		get: function () {
			return this._token;
		},
	});
	Object.defineProperty(Device.prototype, 'isBusy', {
		get: function () {
			return this.calls.some(function (c) {
				return c._status !== 'closed';
			});
		},
	});
	Device.prototype.register = function () {
		record('register', {identity: this.identity});
		var self = this;
		this.state = 'registering';
		this.emit('registering');
		return new Promise(function (resolve) {
			setTimeout(function () {
				if (self.state === 'destroyed') return resolve();
				self.state = 'registered';
				self.emit('registered');
				resolve();
			});
		});
	};
	Device.prototype.unregister = function () {
		record('unregister', {identity: this.identity});
		var self = this;
		return new Promise(function (resolve) {
			setTimeout(function () {
				self.state = 'unregistered';
				self.emit('unregistered');
				resolve();
			});
		});
	};
	Device.prototype.updateToken = function (token) {
		record('updateToken', {identity: identityOf(token)});
		this._token = token;
	};
	Device.prototype.updateOptions = function (options) {
		record('updateOptions', {options: Object.keys(options || {})});
	};
	Device.prototype.connect = function (options) {
		var params = (options && options.params) || {};
		record('connect', {params: params});
		var call = new Call(this, 'OUTGOING', {To: params.To || params.to || ''}, params);
		this._track(call);
		setTimeout(function () {
			call._status = 'open';
			call.emit('ringing', false);
			call.emit('accept', call);
		});
		return Promise.resolve(call);
	};
	Device.prototype.disconnectAll = function () {
		record('disconnectAll', {});
		this.calls.slice().forEach(function (c) {
			c.disconnect();
		});
	};
	Device.prototype.destroy = function () {
		record('destroy', {identity: this.identity});
		this.disconnectAll();
		this.state = 'destroyed';
		this.emit('destroyed');
	};
	Device.prototype._track = function (call) {
		var self = this;
		this.calls.push(call);
		function gone() {
			var i = self.calls.indexOf(call);
			if (i >= 0) self.calls.splice(i, 1);
		}
		call.on('disconnect', gone);
		call.on('cancel', gone);
		call.on('reject', gone);
	};

	/* ---- the test hook ------------------------------------------------------------------- */

	function newest() {
		var live = hook.devices.filter(function (d) {
			return d.state === 'registered';
		});
		return live[live.length - 1] || hook.devices[hook.devices.length - 1];
	}

	hook.ring = function (params, custom) {
		var d = newest();
		if (!d) throw new Error('no Device was constructed');
		var p = Object.assign({CallSid: 'CA' + Math.random().toString(16).slice(2).padEnd(32, '0'),
			AccountSid: 'AC' + '0'.repeat(32)}, params || {});
		var call = new Call(d, 'INCOMING', p, custom);
		d._track(call);
		record('ring', {call: call.index, params: p});
		d.emit('incoming', call);
		return call.index;
	};
	hook.cancel = function (i) {
		var c = hook.calls[i];
		c._status = 'closed';
		c.emit('cancel');
	};
	hook.remoteHangup = function (i) {
		var c = hook.calls[i];
		c._status = 'closed';
		c.emit('disconnect', c);
	};
	hook.expireSoon = function () {
		newest().emit('tokenWillExpire', newest());
	};
	hook.fail = function (code, message) {
		var err = {code: code || 31005, message: message || 'stub error', name: 'StubError'};
		newest().emit('error', err);
	};
	hook.state = function () {
		var d = newest();
		return {
			devices: hook.devices.length,
			registered: !!d && d.state === 'registered',
			identity: d ? d.identity : null,
			tokens: hook.log.filter(function (e) {
				return e.what === 'updateToken';
			}).length,
			muted: hook.calls.length ? hook.calls[hook.calls.length - 1]._muted : null,
			calls: hook.calls.map(function (c) {
				return {direction: c.direction, status: c._status, muted: c._muted,
					parameters: c.parameters};
			}),
			log: hook.log.map(function (e) {
				return e.what;
			}),
		};
	};

	window.__twilioStub = hook;
	window.Twilio = window.Twilio || {};
	window.Twilio.Device = Device;
	window.Twilio.Call = Call;
})();
