import type { IncomingMessage, ServerResponse } from 'node:http';
import { computeGroundTruth } from './ground-truth.ts';
import { accountApiUrl, type SimulatorContext } from './context.ts';
import type { Caller } from './credentials.ts';
import { PD_ERRORS, PdError } from './errors.ts';
import { sendJson } from './http-kit.ts';
import type { SimLogEntry } from './model.ts';
import { offsetPage, parseOffsetRequest } from './paging.ts';
import { formatInstant, isValidTimeZone } from './time.ts';
import { licenseAllocation, licenseWithCounts, logEntryObject, userObject, type WireContext } from './wire.ts';
import type { AccountIndex } from './account-index.ts';

export const GROUND_TRUTH_PATH = '/__simulator/ground-truth';

type Json = Record<string, unknown>;

interface RouteInput {
  context: SimulatorContext;
  caller: Caller;
  params: URLSearchParams;
  pathParams: string[];
  wire: WireContext;
}

interface Route {
  pattern: RegExp;
  /** The Scoped OAuth scope PagerDuty requires (`x-pd-requires-scope`); null when it names none. */
  scope: string | null;
  handle: (input: RouteInput) => Json;
}

const ROUTES: Route[] = [
  { pattern: /^\/users\/me$/, scope: null, handle: getCurrentUser },
  { pattern: /^\/users$/, scope: 'users.read', handle: listUsers },
  { pattern: /^\/users\/([A-Z0-9]+)$/, scope: 'users.read', handle: getUser },
  { pattern: /^\/licenses$/, scope: 'licenses.read', handle: listLicenses },
  { pattern: /^\/license_allocations$/, scope: 'licenses.read', handle: listLicenseAllocations },
  { pattern: /^\/abilities$/, scope: 'abilities.read', handle: listAbilities },
  { pattern: /^\/log_entries$/, scope: 'incidents.read', handle: listLogEntries },
];

/** Serves one REST request on the US (`us`) or EU (`eu`) API host. */
export async function handleApi(context: SimulatorContext, server: 'us' | 'eu', request: IncomingMessage, response: ServerResponse, url: URL, index: AccountIndex): Promise<void> {
  if (url.pathname === GROUND_TRUTH_PATH && request.method === 'GET') {
    serveGroundTruth(context, response, url.searchParams);
    return;
  }

  const caller = context.credentials.authenticate(request.headers.authorization, context.clock.nowMs());
  // A token or key belongs to one account, which one regional host serves; the other host does not know it.
  if (caller === null || server !== context.account.region) {
    sendError(response, new PdError('authenticationFailed'));
    return;
  }

  const rateHeaders = countRequest(context, caller.rateLimitKey);
  if (rateHeaders.isLimited) {
    sendError(response, new PdError('rateLimited'), rateHeaders.headers);
    return;
  }

  const match = findRoute(request.method ?? 'GET', url.pathname);
  if (match === null) {
    sendError(response, new PdError('notFound', [`No route for ${request.method ?? 'GET'} ${url.pathname}`]), rateHeaders.headers);
    return;
  }
  if (!hasScope(caller, match.route.scope)) {
    sendError(response, new PdError('accessDenied', [`The token lacks the scope ${match.route.scope ?? 'for this endpoint'}`]), rateHeaders.headers);
    return;
  }

  try {
    const timeZone = url.searchParams.get('time_zone') ?? undefined;
    if (timeZone !== undefined && !isValidTimeZone(timeZone)) throw new PdError('invalidInput', [`time_zone "${timeZone}" is not a valid IANA time zone`]);
    const wire: WireContext = { account: context.account, index, apiUrl: accountApiUrl(context), formatTime: (at) => formatInstant(at, timeZone) };
    const body = match.route.handle({ context, caller, params: url.searchParams, pathParams: match.pathParams, wire });
    sendJson(response, 200, body, rateHeaders.headers);
  } catch (error) {
    if (error instanceof PdError) sendError(response, error, rateHeaders.headers);
    else throw error;
  }
}

function findRoute(method: string, path: string): { route: Route; pathParams: string[] } | null {
  if (method !== 'GET') return null;
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (found !== null) return { route, pathParams: found.slice(1) };
  }
  return null;
}

/** Classic `read`/`write` tokens and API keys reach every read endpoint; Scoped tokens need the endpoint's scope. */
function hasScope(caller: Caller, scope: string | null): boolean {
  if (caller.kind !== 'oauth') return true;
  if (caller.scopes.includes('read') || caller.scopes.includes('write')) return true;
  return scope !== null && caller.scopes.includes(scope);
}

export function sendError(response: ServerResponse, error: PdError, headers: Record<string, string> = {}): void {
  sendJson(response, error.status, error.body(), headers);
}

const RATE_WINDOW_MS = 60_000;

/** Counts a request against the credential's per-minute budget and returns the `ratelimit-*` headers. */
function countRequest(context: SimulatorContext, key: string): { isLimited: boolean; headers: Record<string, string> } {
  const nowMs = context.clock.nowMs();
  let window = context.rateWindows.get(key);
  if (window === undefined || nowMs - window.startMs >= RATE_WINDOW_MS) {
    window = { startMs: nowMs, count: 0 };
    context.rateWindows.set(key, window);
  }
  window.count += 1;
  const limit = context.settings.rateLimitPerMinute;
  const headers = {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': String(Math.max(0, limit - window.count)),
    'ratelimit-reset': String(Math.max(1, Math.ceil((window.startMs + RATE_WINDOW_MS - nowMs) / 1000))),
  };
  return { isLimited: window.count > limit, headers };
}

function includes(params: URLSearchParams, allowed: readonly string[]): Set<string> {
  const values = params.getAll('include[]');
  for (const value of values) {
    if (!allowed.includes(value)) throw new PdError('invalidInput', [`include[] value "${value}" is not one of ${allowed.join(', ')}`]);
  }
  return new Set(values);
}

function requireAbility(context: SimulatorContext, ability: string): void {
  if (!context.account.abilities.includes(ability)) throw new PdError('missingAbility', [`The account lacks the ${ability} ability`]);
}

const USER_INCLUDES = ['contact_methods', 'notification_rules', 'teams', 'subdomains'] as const;
const USER_DETAIL_INCLUDES = [...USER_INCLUDES, 'calendar_urls'] as const;

function getCurrentUser({ caller, params, wire }: RouteInput): Json {
  // NOTE: PagerDuty documents that account-level keys cannot call /users/me, but not the status it returns; 400 is a guess.
  if (caller.kind === 'account_api_key') {
    throw new PdError('invalidInput', ['/users/me needs a user-level API key or an OAuth token; account-level API keys act for no user']);
  }
  const user = wire.index.user(caller.userId);
  if (user === undefined) throw new PdError('notFound', [`User ${caller.userId} not found`]);
  return { user: userObject(wire, user, includes(params, USER_DETAIL_INCLUDES)) };
}

function getUser({ params, pathParams, wire }: RouteInput): Json {
  const id = pathParams[0] ?? '';
  const user = wire.index.user(id);
  if (user === undefined) throw new PdError('notFound', [`User ${id} not found`]);
  return { user: userObject(wire, user, includes(params, USER_DETAIL_INCLUDES)) };
}

function listUsers({ context, params, wire }: RouteInput): Json {
  const include = includes(params, USER_INCLUDES);
  const query = (params.get('query') ?? '').trim().toLowerCase();
  const teamIds = params.getAll('team_ids[]');
  if (teamIds.length > 0) requireAbility(context, 'teams');
  const paging = parseOffsetRequest(params);

  const matching = context.account.users.filter(
    (user) =>
      (query === '' || user.name.toLowerCase().includes(query) || user.email.toLowerCase().includes(query)) &&
      (teamIds.length === 0 || user.teamIds.some((teamId) => teamIds.includes(teamId))),
  );
  const page = offsetPage(paging, matching.length, (start, end) => matching.slice(start, end));
  return { users: page.items.map((user) => userObject(wire, user, include)), ...page.envelope };
}

function listLicenses({ context, wire }: RouteInput): Json {
  return { licenses: context.account.licenses.map((license) => licenseWithCounts(wire, license)) };
}

function listLicenseAllocations({ context, params, wire }: RouteInput): Json {
  const paging = parseOffsetRequest(params);
  const users = context.account.users;
  const page = offsetPage(paging, users.length, (start, end) => users.slice(start, end));
  return { license_allocations: page.items.map((user) => licenseAllocation(wire, user)), ...page.envelope };
}

function listAbilities({ context }: RouteInput): Json {
  return { abilities: [...context.account.abilities] };
}

/**
 * Entry types left out of `is_overview=true`: notifications and escalation bookkeeping.
 * NOTE: PagerDuty documents only that the overview keeps "the most important changes", so this list is a guess.
 */
const NON_OVERVIEW_TYPES: ReadonlySet<SimLogEntry['type']> = new Set(['notify_log_entry', 'assign_log_entry', 'urgency_change_log_entry']);

function parseInstant(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const parsed = Date.parse(raw);
  if (Number.isNaN(parsed)) throw new PdError('invalidInput', [`${name} "${raw}" is not a valid date-time; send an ISO 8601 instant such as 2026-01-31T00:00:00Z`]);
  return parsed;
}

/** Index of the first entry (newest first) created before `instantMs`. */
function firstOlderThan(entries: SimLogEntry[], instantMs: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((entries[middle] as SimLogEntry).createdAt.getTime() >= instantMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * `GET /log_entries`, newest first. `since` is inclusive and `until` exclusive.
 * NOTE: PagerDuty documents no default window for log entries; without `since` all history is served.
 */
function listLogEntries({ context, params, wire }: RouteInput): Json {
  const include = includes(params, ['incidents', 'services', 'channels', 'teams']);
  const since = parseInstant(params, 'since');
  const until = parseInstant(params, 'until') ?? context.clock.nowMs();
  if (since !== undefined && since > until) throw new PdError('invalidInput', ['since must be before until']);
  const paging = parseOffsetRequest(params);
  const isOverview = params.get('is_overview') === 'true';
  const teamIds = params.getAll('team_ids[]');
  if (teamIds.length > 0) requireAbility(context, 'teams');

  const entries = context.account.logEntries;
  const start = firstOlderThan(entries, until);
  const end = since === undefined ? entries.length : firstOlderThan(entries, since);
  let selected: SimLogEntry[] = entries.slice(start, Math.max(start, end));
  if (isOverview) selected = selected.filter((entry) => !NON_OVERVIEW_TYPES.has(entry.type));
  if (teamIds.length > 0) selected = selected.filter((entry) => teamIds.includes(wire.index.service(entry.serviceId)?.teamId ?? ''));

  const page = offsetPage(paging, selected.length, (from, to) => selected.slice(from, to));
  return { log_entries: page.items.map((entry) => logEntryObject(wire, entry, include)), ...page.envelope };
}

function serveGroundTruth(context: SimulatorContext, response: ServerResponse, params: URLSearchParams): void {
  const raw = params.get('as_of');
  const asOf = raw === null ? context.defaultAsOf() : new Date(raw);
  if (Number.isNaN(asOf.getTime())) {
    sendJson(response, PD_ERRORS.invalidInput.status, new PdError('invalidInput', [`as_of "${raw ?? ''}" is not a valid ISO 8601 instant`]).body());
    return;
  }
  sendJson(response, 200, computeGroundTruth(context.account, asOf));
}
