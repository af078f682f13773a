// Open CTI: the console inside Salesforce's softphone panel (Lightning). Salesforce opens the
// call center's adapter URL with ?sfdcIframeOrigin=<the org's origin>; mode=opencti also
// turns it on. Then opencti_min.js is loaded from that origin (unless window.sforce.opencti is
// there already) and used for click-to-dial on phone fields, the screen pop of the matched
// record when a call rings, and opening the panel when a call rings. Anywhere else it does
// nothing. Salesforce's CSP rules: that origin must be in [console] frame_ancestors.

const API_VERSION = '62.0';

function params() {
  return new URLSearchParams(window.location.search);
}

export function inSalesforce() {
  const p = params();
  return p.has('sfdcIframeOrigin') || p.get('mode') === 'opencti';
}

// The Salesforce origin to load the library from: https only (http for localhost).
function salesforceOrigin() {
  const raw = params().get('sfdcIframeOrigin');
  if (!raw) return null;
  try {
    const u = new URL(raw);
    const local = u.hostname === 'localhost' || u.hostname === '127.0.0.1';
    if (u.protocol !== 'https:' && !(local && u.protocol === 'http:')) return null;
    return u.origin;
  } catch (e) {
    return null;
  }
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

// Resolves to {screenPop(recordId), showPanel()} in Salesforce, else null. onDial(number,
// recordId) runs when the rep clicks a phone field.
export async function initOpenCti({onDial}) {
  if (!inSalesforce()) return null;
  if (!(window.sforce && window.sforce.opencti)) {
    const origin = salesforceOrigin();
    if (!origin) return null;
    try {
      await loadScript(`${origin}/support/api/${API_VERSION}/lightning/opencti_min.js`);
    } catch (e) {
      console.warn('Open CTI:', e.message);
      return null;
    }
  }
  const cti = window.sforce && window.sforce.opencti;
  if (!cti) return null;
  const done = (what) => (res) => {
    if (res && res.success === false) console.warn(`Open CTI ${what}:`, res.errors);
  };
  cti.enableClickToDial({callback: done('enableClickToDial')});
  cti.onClickToDial({
    listener: (payload) => {
      if (payload && payload.number) onDial(String(payload.number), payload.recordId || null);
    },
  });
  return {
    screenPop(recordId) {
      if (!recordId) return;
      const type = (cti.SCREENPOP_TYPE && cti.SCREENPOP_TYPE.SOBJECT) || 'sobject';
      cti.screenPop({type, params: {recordId}, callback: done('screenPop')});
    },
    showPanel() {
      cti.setSoftphonePanelVisibility({
        visible: true,
        callback: done('setSoftphonePanelVisibility'),
      });
    },
  };
}
