// The API client. The key lives in sessionStorage (this tab only, gone when it
// closes) and travels only in the Authorization header, never in a URL.

const STORAGE = 'creditlink.apiKey';

export const getKey = () => sessionStorage.getItem(STORAGE) || '';
export const setKey = (key) => sessionStorage.setItem(STORAGE, key);
export const clearKey = () => sessionStorage.removeItem(STORAGE);

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function api(path, { method = 'GET', params, body } = {}) {
  const key = getKey();
  if (!key) throw new ApiError(0, 'no_key', '请先输入 API 密钥 (paste an API key first)');
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one !== undefined && one !== null && one !== '') url.searchParams.append(k, String(one));
    }
  }
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (err) {
    throw new ApiError(0, 'network', `无法连接服务 (network error: ${err.message})`);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || 'http_error', e.message || res.statusText, e.details);
  }
  return data;
}

/** The API's documented paths (public): sections whose endpoints are absent stay hidden. */
export async function endpoints() {
  try {
    const res = await fetch('/openapi.json', { cache: 'no-store', credentials: 'omit' });
    const schema = await res.json();
    return new Set(Object.keys(schema.paths || {}));
  } catch {
    return new Set();
  }
}
