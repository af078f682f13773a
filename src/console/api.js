// fetch() for the console's API calls: the session cookie goes along (same origin), the CSRF
// token on every request that is not GET/HEAD, JSON in and out, and errors as ApiError with the
// server's {"error":{"code","message"}}.

let csrfToken = null;
let onUnauthorized = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
}

// Called with the ApiError when a signed-in request gets 401 (the session ended).
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export async function api(method, path, body, {quiet401 = false} = {}) {
  const headers = {Accept: 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'callbridge cannot be reached; check your connection');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    const e = new ApiError(
      res.status,
      err.code || `http_${res.status}`,
      err.message || `${res.status} ${res.statusText}`,
    );
    if (res.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(e);
    throw e;
  }
  return data;
}
