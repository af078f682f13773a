// Sign-in: "Sign in with Salesforce" (the OAuth flow of /auth/salesforce/login, back to this
// page or to return_to) or an API key (POST /auth/session). Inside Salesforce's panel the
// Salesforce sign-in opens in a new tab (its login page refuses frames) and this page asks
// GET /auth/session every 3 s until the session is there.

import {api, ApiError} from './api.js';
import {$, setError, localPath} from './util.js';

let poll = null;

export function initSignIn({onSignedIn, embedded}) {
  const form = $('signin-form');
  const key = $('api-key');
  const err = $('signin-error');
  const back = localPath(new URLSearchParams(window.location.search).get('return_to'));
  const here = window.location.pathname + window.location.search;
  const link = $('sf-login');
  link.href = `/auth/salesforce/login?return_to=${encodeURIComponent(back || here)}`;
  if (embedded) {
    link.target = '_blank';
    link.rel = 'noopener';
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    setError(err, '');
    const value = key.value.trim();
    if (!value) {
      setError(err, 'Enter your API key.');
      key.focus();
      return;
    }
    try {
      const session = await api('POST', '/auth/session', {api_key: value}, {quiet401: true});
      key.value = '';
      onSignedIn(session);
    } catch (e) {
      setError(
        err,
        e instanceof ApiError && e.status === 401
          ? 'That API key was not accepted.'
          : `Sign-in failed: ${e.message}`,
      );
      key.focus();
    }
  });

  return {
    show(message) {
      $('app').hidden = true;
      $('signin').hidden = false;
      setError(err, message || '');
      if (embedded && !poll) {
        poll = window.setInterval(async () => {
          try {
            const session = await api('GET', '/auth/session', undefined, {quiet401: true});
            window.clearInterval(poll);
            poll = null;
            onSignedIn(session);
          } catch (e) {
            // not yet
          }
        }, 3000);
      }
      key.focus();
    },
    hide() {
      if (poll) window.clearInterval(poll);
      poll = null;
      $('signin').hidden = true;
      $('app').hidden = false;
    },
    // Where to go once signed in, when the page was opened for a recording link.
    returnTo: () => back,
  };
}
