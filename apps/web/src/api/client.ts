/**
 * The one way the web app talks to the server: fetch with the session cookie, the CSRF header on every
 * non-GET request, JSON in and out, and every error answer ({error, message, issues?}) thrown as ApiError.
 */

export interface ApiIssue {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** Machine-readable code from the server, e.g. invalid_credentials, locked, forbidden, validation. */
    readonly code: string,
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Don't call the 401 handler (the login form handles its own 401). */
  quiet401?: boolean;
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called whenever the server answers 401: the session ended or was revoked. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toApiError(status: number, payload: unknown, statusText: string): ApiError {
  if (isRecord(payload) && typeof payload.message === 'string') {
    const issues = Array.isArray(payload.issues)
      ? payload.issues.filter(isRecord).map((i) => ({
          // The contract says `field`; accept `path` too (arrays or strings) for older answers.
          field:
            typeof i.field === 'string'
              ? i.field
              : Array.isArray(i.path)
                ? i.path.join('.')
                : typeof i.path === 'string'
                  ? i.path
                  : '',
          message: typeof i.message === 'string' ? i.message : '',
        }))
      : [];
    return new ApiError(status, typeof payload.error === 'string' ? payload.error : `http_${status}`, payload.message, issues);
  }
  if (status === 429) return new ApiError(429, 'rate_limited', 'Too many requests: wait a minute and try again.');
  return new ApiError(status, `http_${status}`, `The server answered ${status} ${statusText}.`);
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  let url = path;
  if (opts.query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;

  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the network and try again.');
  }

  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let payload: unknown = undefined;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
  }
  if (!res.ok) {
    const error = toApiError(res.status, payload, res.statusText);
    if (res.status === 401 && !opts.quiet401 && onUnauthorized) onUnauthorized();
    throw error;
  }
  return payload as T;
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  delete: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
};
