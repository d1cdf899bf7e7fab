import { OFFSET_LIMIT_EXCEEDED_DETAIL, PdError } from './errors.ts';

/** PagerDuty's classic offset pagination: `limit` 25 by default and at most 100. */
export const DEFAULT_PAGE_LIMIT = 25;
export const MAX_PAGE_LIMIT = 100;
/** Offset pagination reaches only the first 10,000 records: `offset + limit` may not exceed it. */
export const MAX_OFFSET_RECORDS = 10_000;

export interface OffsetRequest {
  limit: number;
  offset: number;
  wantsTotal: boolean;
}

function integerParam(params: URLSearchParams, name: string, fallback: number, minimum: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new PdError('invalidInput', [`${name} must be an integer, got "${raw}"`]);
  const value = Number(raw);
  if (value < minimum) throw new PdError('invalidInput', [`${name} must be at least ${minimum}, got ${value}`]);
  return value;
}

/** Reads `limit`, `offset` and `total`, rejecting pages beyond the 10,000-record cap with code 2002. */
export function parseOffsetRequest(params: URLSearchParams): OffsetRequest {
  const limit = Math.min(integerParam(params, 'limit', DEFAULT_PAGE_LIMIT, 1), MAX_PAGE_LIMIT);
  const offset = integerParam(params, 'offset', 0, 0);
  if (offset + limit > MAX_OFFSET_RECORDS) throw new PdError('offsetLimitExceeded', [OFFSET_LIMIT_EXCEEDED_DETAIL]);
  return { limit, offset, wantsTotal: params.get('total') === 'true' };
}

export interface OffsetPage<T> {
  items: T[];
  envelope: { limit: number; offset: number; more: boolean; total: number | null };
}

export function offsetPage<T>(request: OffsetRequest, count: number, slice: (start: number, end: number) => T[]): OffsetPage<T> {
  const end = Math.min(count, request.offset + request.limit);
  return {
    items: request.offset >= count ? [] : slice(request.offset, end),
    envelope: { limit: request.limit, offset: request.offset, more: request.offset + request.limit < count, total: request.wantsTotal ? count : null },
  };
}
