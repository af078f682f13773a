/* A stand-in for Salesforce's Open CTI for Lightning (opencti_min.js: window.sforce.opencti),
 * installed by the browser tests with page.addInitScript before the console loads (the console
 * then does not load the real script). Test-only: never ships. Every method answers its
 * callback the way Salesforce does ({success, returnValue, errors}) and records its arguments.
 *
 * window.__openctiStub (the test hook):
 *   log                 [{what, args}] in order (callbacks left out)
 *   calls(what)         the recorded args of one method
 *   clickToDialEnabled  what the last enableClickToDial/disableClickToDial left
 *   clickToDial(p)      a user clicking a phone number in Salesforce: calls the onClickToDial
 *                       listener with p ({number, recordId, recordName, objectType, ...});
 *                       false when no listener is registered
 *   navigate(p)         an onNavigationChange notification
 */
(function () {
	'use strict';

	var hook = {log: [], clickToDialEnabled: false, listener: null, navListener: null};

	function withoutFunctions(args) {
		var out = {};
		for (var k in args || {})
			if (typeof args[k] !== 'function') out[k] = args[k];
		return out;
	}

	/* One method: record, then answer the callback asynchronously, as Salesforce does. */
	function method(name, value, effect) {
		return function (args) {
			args = args || {};
			hook.log.push({what: name, args: JSON.parse(JSON.stringify(withoutFunctions(args)))});
			if (effect) effect(args);
			if (typeof args.callback === 'function') {
				var cb = args.callback;
				var rv = typeof value === 'function' ? value(args) : value;
				setTimeout(function () {
					cb({success: true, returnValue: rv, errors: null});
				});
			}
		};
	}

	hook.calls = function (what) {
		return hook.log.filter(function (e) {
			return e.what === what;
		}).map(function (e) {
			return e.args;
		});
	};
	hook.clickToDial = function (payload) {
		if (!hook.listener) return false;
		hook.listener(payload);
		return true;
	};
	hook.navigate = function (payload) {
		if (hook.navListener) hook.navListener(payload);
	};

	var visible = false;
	var opencti = {
		SCREENPOP_TYPE: {URL: 'url', SOBJECT: 'sobject', OBJECTHOME: 'objecthome', LIST: 'list',
			SEARCH: 'search', NEW_RECORD_MODAL: 'newRecord', FLOW: 'flow'},
		CALL_TYPE: {INBOUND: 'inbound', OUTBOUND: 'outbound', INTERNAL: 'internal'},
		enableClickToDial: method('enableClickToDial', null, function () {
			hook.clickToDialEnabled = true;
		}),
		disableClickToDial: method('disableClickToDial', null, function () {
			hook.clickToDialEnabled = false;
		}),
		onClickToDial: method('onClickToDial', null, function (a) {
			hook.listener = a.listener;
		}),
		onNavigationChange: method('onNavigationChange', null, function (a) {
			hook.navListener = a.listener;
		}),
		screenPop: method('screenPop', null),
		searchAndScreenPop: method('searchAndScreenPop', function () {
			return {};
		}),
		setSoftphonePanelVisibility: method('setSoftphonePanelVisibility', null, function (a) {
			visible = !!a.visible;
		}),
		isSoftphonePanelVisible: method('isSoftphonePanelVisible', function () {
			return {visible: visible};
		}),
		setSoftphonePanelHeight: method('setSoftphonePanelHeight', null),
		setSoftphonePanelWidth: method('setSoftphonePanelWidth', null),
		setSoftphonePanelLabel: method('setSoftphonePanelLabel', null),
		setSoftphonePanelIcon: method('setSoftphonePanelIcon', null),
		getAppViewInfo: method('getAppViewInfo', function () {
			return {url: 'https://example.lightning.force.com/lightning/page/home',
				recordId: '', recordName: '', objectType: ''};
		}),
		getCallCenterSettings: method('getCallCenterSettings', function () {
			return {'/reqGeneralInfo/reqAdapterUrl': location.href};
		}),
		getSoftphoneLayout: method('getSoftphoneLayout', function () {
			return {};
		}),
		saveLog: method('saveLog', function () {
			return {};
		}),
		refreshView: method('refreshView', null),
		runApex: method('runApex', null),
		notifyInitializationComplete: method('notifyInitializationComplete', null),
	};

	window.__openctiStub = hook;
	window.sforce = window.sforce || {};
	window.sforce.opencti = opencti;
})();
