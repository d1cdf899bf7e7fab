import { PAGERDUTY_ERROR_CODES } from './provider.ts';

/**
 * Kinds of failed PagerDuty requests, each with one way to react:
 * - `unauthorized` (401): refresh the token once, then ask the user to reconnect.
 * - `forbidden` (403): the token or person may not read this; the stream is unavailable.
 * - `plan_gated` (402, code 2014): the plan lacks the feature; the stream is unavailable.
 * - `rate_limited` (429, code 2020): wait and retry; never a reason to reconnect.
 * - `server` (5xx, 408): transient; retry with backoff.
 * - `network`: reset, refused or timed out; retry with backoff.
 * - `not_found` (404): the resource is gone.
 * - `invalid_request` (other 4xx): retrying the same request cannot help.
 * - `offset_cap`: the next page would pass `offset + limit = 10,000`, so it was never sent.
 * - `invalid_response`: a 2xx body that does not match the expected schema.
 */
export type ApiErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'plan_gated'
  | 'rate_limited'
  | 'server'
  | 'network'
  | 'not_found'
  | 'invalid_request'
  | 'offset_cap'
  | 'invalid_response';

export interface ApiError {
  kind: ApiErrorKind;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** PagerDuty's error code from the body, when it sent one. */
  code: number | null;
  message: string;
  /** The request as `METHOD /path` without query secrets (PagerDuty queries hold none). */
  request: string;
}

export interface ErrorBody {
  code: number | null;
  message: string;
  details: string[];
}

/**
 * Parses an error body in any shape PagerDuty or a proxy in front of it has been seen to send:
 * `{"error": {"message", "code", "errors": [...]}}`, `{"error": [...]}`, `{"error": "..."}`, a bare
 * array or string, plain text or nothing.
 */
export function parseErrorBody(text: string): ErrorBody {
  const trimmed = text.trim();
  if (trimmed === '') return { code: null, message: '', details: [] };

  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { code: null, message: trimmed.slice(0, 500), details: [] };
  }
  return errorBodyOf(parsed);
}

function errorBodyOf(value: unknown): ErrorBody {
  if (typeof value === 'string') return { code: null, message: value, details: [] };
  if (Array.isArray(value)) {
    const details = value.map(describe);
    return { code: null, message: details[0] ?? '', details };
  }
  if (value === null || typeof value !== 'object') return { code: null, message: describe(value), details: [] };

  const record = value as Record<string, unknown>;
  if ('error' in record && record.error !== undefined && record.error !== null) {
    const inner = errorBodyOf(record.error);
    if (inner.code === null && typeof record.code === 'number') inner.code = record.code;
    return inner;
  }
  const code = typeof record.code === 'number' ? record.code : typeof record.code === 'string' && /^\d+$/.test(record.code) ? Number(record.code) : null;
  const details = Array.isArray(record.errors) ? record.errors.map(describe) : [];
  const message = typeof record.message === 'string' ? record.message : (details[0] ?? '');
  return { code, message, details };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Classifies a non-2xx response by status first and PagerDuty's code second. */
export function classifyResponse(status: number, body: ErrorBody, request: string): ApiError {
  const message = [body.message, ...body.details.filter((detail) => detail !== body.message)].filter(Boolean).join(': ') || `HTTP ${status}`;
  const error = (kind: ApiErrorKind): ApiError => ({ kind, status, code: body.code, message, request });

  if (status === 401 || body.code === PAGERDUTY_ERROR_CODES.authenticationFailed) return error('unauthorized');
  if (status === 402 || body.code === PAGERDUTY_ERROR_CODES.missingAbility) return error('plan_gated');
  if (status === 403) return error('forbidden');
  if (status === 429 || body.code === PAGERDUTY_ERROR_CODES.rateLimitExceeded) return error('rate_limited');
  if (status === 404) return error('not_found');
  if (status === 408 || status >= 500) return error('server');
  if (status === 400 && body.code === PAGERDUTY_ERROR_CODES.argumentsCausedError && /offset/i.test(message)) return error('offset_cap');
  return error('invalid_request');
}

/** Returns whether a request that failed this way may succeed when sent again. */
export function isRetryable(error: ApiError): boolean {
  return error.kind === 'rate_limited' || error.kind === 'server' || error.kind === 'network';
}

/** Describes the error in one line of plain words, for logs and the run history. */
export function describeApiError(error: ApiError): string {
  const status = error.status === null ? 'no response' : `HTTP ${error.status}${error.code === null ? '' : `, code ${error.code}`}`;
  return `${error.request} failed (${status}): ${error.message}`;
}
