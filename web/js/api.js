// Calls to our own API (same origin). Errors carry the server's message: {"error":{"code","message"}}.
// On the static site (`export --format site`) the same paths are answered from files (static-source.js).

import { STATIC, staticJSON } from './static-source.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(response) {
  let code = 'http_' + response.status;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch {
    // Not our JSON error shape (a proxy's page?): keep the status line.
  }
  return new ApiError(response.status, code, message);
}

/** GET a JSON answer; `signal` lets a newer request cancel an older one. */
export async function getJSON(path, { signal } = {}) {
  if (STATIC) {
    try {
      return await staticJSON(path);
    } catch (error) {
      throw new ApiError(error.status ?? 0, error.code ?? 'static', error.message);
    }
  }
  const response = await fetch(path, { signal, headers: { Accept: 'application/json' } });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** Builds `path?k=v&...`, leaving out empty values. */
export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') query.set(k, String(v));
  }
  const s = query.toString();
  return s ? `${path}?${s}` : path;
}
