import type { SimulatorContext } from '../context.ts';
import type { Caller } from '../credentials.ts';
import { PdError } from '../errors.ts';
import type { UserRole } from '../model.ts';
import { parseInstantInZone } from '../time.ts';
import type { WireContext } from '../wire.ts';

export type Json = Record<string, unknown>;

export interface RouteInput {
  context: SimulatorContext;
  caller: Caller;
  params: URLSearchParams;
  pathParams: string[];
  /** The parsed JSON body of a POST; an empty object for GET. */
  body: Json;
  wire: WireContext;
  /** The request's `time_zone`, else the account's. */
  timeZone: string;
}

export interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  /**
   * The Scoped OAuth scopes of which a token needs one (`x-pd-requires-scope`); null when PagerDuty
   * names none, in which case Scoped tokens are rejected.
   */
  scope: string | readonly string[] | null;
  /** Returns the response body, or null for HTTP 204 No Content. */
  handle: (input: RouteInput) => Json | null;
}

/** Reads `include[]`, rejecting values the endpoint does not document. */
export function includes(params: URLSearchParams, allowed: readonly string[]): Set<string> {
  const values = params.getAll('include[]');
  for (const value of values) {
    if (!allowed.includes(value)) throw new PdError('invalidInput', [`include[] value "${value}" is not one of ${allowed.join(', ')}`]);
  }
  return new Set(values);
}

export function requireAbility(context: SimulatorContext, ability: string): void {
  if (!context.account.abilities.includes(ability)) throw new PdError('missingAbility', [`The account lacks the ${ability} ability`]);
}

/** Returns the role of the person behind the caller. Account API keys act with admin rights. */
export function callerRole(input: RouteInput): UserRole {
  if (input.caller.kind === 'account_api_key') return 'admin';
  return input.wire.index.user(input.caller.userId)?.role ?? 'limited_user';
}

export function isAdminRole(role: UserRole): boolean {
  return role === 'owner' || role === 'admin';
}

/** Reads `since` or `until`; times without an offset are read in `timeZone`. */
export function instantParam(params: URLSearchParams, name: string, timeZone: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const parsed = parseInstantInZone(raw, timeZone);
  if (parsed === undefined) throw new PdError('invalidInput', [`${name} "${raw}" is not a valid date-time; send an ISO 8601 instant such as 2026-01-31T00:00:00Z`]);
  return parsed;
}

export function pathParam(input: RouteInput, index = 0): string {
  return input.pathParams[index] ?? '';
}

/** Reads an array filter sent as `name[]=a&name[]=b`. */
export function arrayParam(params: URLSearchParams, name: string): string[] {
  return params.getAll(`${name}[]`);
}

export function reference(wire: WireContext, type: string, id: string, summary: string | null, apiPath: string, webPath: string | null): Json {
  return {
    id,
    type,
    summary,
    self: `${wire.apiUrl}${apiPath}`,
    html_url: webPath === null ? null : `https://${wire.account.subdomain}.pagerduty.com${webPath}`,
  };
}

/** Cursor pagination: the cursor is the opaque offset of the next record. */
export function cursorPage<T>(params: URLSearchParams, items: T[], defaultLimit: number, maxLimit: number): { items: T[]; limit: number; nextCursor: string | null } {
  const rawLimit = params.get('limit');
  const limit = rawLimit === null ? defaultLimit : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1) throw new PdError('invalidInput', [`limit must be a positive integer, got "${rawLimit ?? ''}"`]);
  const effectiveLimit = Math.min(limit, maxLimit);

  const cursor = params.get('cursor');
  let start = 0;
  if (cursor !== null && cursor !== '') {
    const decoded = Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^offset:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw new PdError('invalidInput', [`cursor "${cursor}" is not a cursor this endpoint returned`]);
    start = decoded;
  }
  const end = start + effectiveLimit;
  return {
    items: items.slice(start, end),
    limit: effectiveLimit,
    nextCursor: end < items.length ? Buffer.from(`offset:${end}`).toString('base64url') : null,
  };
}
