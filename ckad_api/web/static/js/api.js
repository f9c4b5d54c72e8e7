// The one client of the public API (/api/v1): bearer token, JSON, problem+json errors.

const BASE = '/api/v1';
const TOKEN_KEY = 'ckad.token';

/** An API failure carrying the RFC 9457 problem (`detail` is what the learner sees). */
export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail || problem.title || 'The request failed');
    this.problem = problem;
    this.status = problem.status || 0;
    this.detail = this.message;
    this.title = problem.title || 'Error';
    this.errors = problem.errors || null;
  }
}

let unauthorizedHandler = () => {};

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export function token() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value) {
  try {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* private mode without storage: the token lives until the tab closes */
  }
}

/** Call the API; resolves to the parsed JSON (null for 204), rejects with ApiError. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const init = { method, headers, signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError({
      title: 'Network error',
      status: 0,
      detail: 'the service cannot be reached; check that it is running and try again',
    });
  }
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    data = await response.json().catch(() => null);
  }
  if (!response.ok) {
    const problem =
      data && typeof data === 'object'
        ? data
        : { title: response.statusText || 'Error', status: response.status };
    problem.status = problem.status || response.status;
    if (!problem.detail) {
      problem.detail = `the server answered ${response.status} ${response.statusText}`.trim();
    }
    const error = new ApiError(problem);
    if (response.status === 401 && bearer) {
      setToken(null);
      unauthorizedHandler(error);
    }
    throw error;
  }
  return data;
}

export const get = (path, options) => api(path, options);
export const post = (path, body, options = {}) => api(path, { ...options, method: 'POST', body });
export const patch = (path, body, options = {}) => api(path, { ...options, method: 'PATCH', body });

/** Query string from an object, skipping empty values. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The public OpenAPI document, to find out which optional routes this server offers. */
let specPromise = null;
export function openapi() {
  if (!specPromise) {
    specPromise = fetch('/openapi.json', { headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
  }
  return specPromise;
}
