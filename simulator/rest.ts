import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountIndex } from './account-index.ts';
import { accountApiUrl, type SimulatorContext } from './context.ts';
import type { Caller } from './credentials.ts';
import { PD_ERRORS, PdError } from './errors.ts';
import { computeGroundTruth, listActions } from './ground-truth.ts';
import { readBody, sendJson } from './http-kit.ts';
import { ANALYTICS_ROUTES } from './routes/analytics.ts';
import { AUDIT_ROUTES } from './routes/audit.ts';
import type { Json, Route } from './routes/common.ts';
import { INCIDENT_ROUTES } from './routes/incidents.ts';
import { INVENTORY_ROUTES } from './routes/inventory.ts';
import { ONCALL_ROUTES } from './routes/oncall.ts';
import { PEOPLE_ROUTES } from './routes/people.ts';
import { formatInstant, isValidTimeZone } from './time.ts';
import type { WireContext } from './wire.ts';

export const GROUND_TRUTH_PATH = '/__simulator/ground-truth';
export const ACTIONS_PATH = '/__simulator/actions';

export const ROUTES: readonly Route[] = [...PEOPLE_ROUTES, ...ONCALL_ROUTES, ...INCIDENT_ROUTES, ...INVENTORY_ROUTES, ...AUDIT_ROUTES, ...ANALYTICS_ROUTES];

/** Serves one REST request on the US (`us`) or EU (`eu`) API host. */
export async function handleApi(context: SimulatorContext, server: 'us' | 'eu', request: IncomingMessage, response: ServerResponse, url: URL, index: AccountIndex): Promise<void> {
  if (url.pathname === GROUND_TRUTH_PATH && request.method === 'GET') {
    serveGroundTruth(context, response, url.searchParams);
    return;
  }
  if (url.pathname === ACTIONS_PATH && request.method === 'GET') {
    serveActions(context, response, url.searchParams);
    return;
  }

  const caller = context.credentials.authenticate(request.headers.authorization, context.clock.nowMs());
  // A token or key belongs to one account, which one regional host serves; the other host does not know it.
  if (caller === null || server !== context.account.region) {
    sendError(response, new PdError('authenticationFailed'));
    return;
  }

  const rate = countRequest(context, caller.rateLimitKey);
  if (rate.isLimited) {
    sendError(response, new PdError('rateLimited'), rate.headers);
    return;
  }

  const fault = context.faults.injector.draw();
  if (fault !== null && fault !== 'slowBody') {
    context.logger.debug({ fault, path: url.pathname }, 'injected fault');
    context.faults.injector.apply(fault, request, response);
    return;
  }

  const result = await routeRequest(context, caller, request, url, index);
  const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...rate.headers };
  if (result.status === 204) {
    response.writeHead(204, rate.headers);
    response.end();
  } else if (fault === 'slowBody') {
    context.faults.injector.sendSlowly(response, result.status, headers, JSON.stringify(result.body));
  } else {
    sendJson(response, result.status, result.body, rate.headers);
  }
}

async function routeRequest(context: SimulatorContext, caller: Caller, request: IncomingMessage, url: URL, index: AccountIndex): Promise<{ status: number; body: unknown }> {
  const method = request.method ?? 'GET';
  const match = findRoute(method, url.pathname);
  try {
    if (match === null) throw new PdError('notFound', [`No route for ${method} ${url.pathname}`]);
    if (!hasScope(caller, match.route.scope)) throw new PdError('accessDenied', [`The token lacks a required scope: ${[match.route.scope ?? 'none available'].flat().join(' or ')}`]);

    const timeZone = url.searchParams.get('time_zone') ?? context.account.timeZone;
    if (!isValidTimeZone(timeZone)) throw new PdError('invalidInput', [`time_zone "${timeZone}" is not a valid IANA time zone`]);
    const explicitZone = url.searchParams.get('time_zone') ?? undefined;
    const wire: WireContext = { account: context.account, index, apiUrl: accountApiUrl(context), formatTime: (at) => formatInstant(at, explicitZone) };
    const body = method === 'POST' ? await readJsonBody(request) : {};

    const result = match.route.handle({ context, caller, params: url.searchParams, pathParams: match.pathParams, body, wire, timeZone });
    return result === null ? { status: 204, body: null } : { status: 200, body: result };
  } catch (error) {
    if (error instanceof PdError) return { status: error.status, body: error.body() };
    throw error;
  }
}

async function readJsonBody(request: IncomingMessage): Promise<Json> {
  const text = await readBody(request);
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // Reported below as invalid input.
  }
  throw new PdError('invalidInput', ['The request body must be a JSON object']);
}

function findRoute(method: string, path: string): { route: Route; pathParams: string[] } | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (found !== null) return { route, pathParams: found.slice(1) };
  }
  return null;
}

/** Classic `read`/`write` tokens and API keys reach every read endpoint; Scoped tokens need one of the endpoint's scopes. */
function hasScope(caller: Caller, scope: Route['scope']): boolean {
  if (caller.kind !== 'oauth') return true;
  if (caller.scopes.includes('read') || caller.scopes.includes('write')) return true;
  if (scope === null) return false;
  return [scope].flat().some((candidate) => caller.scopes.includes(candidate));
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

function serveGroundTruth(context: SimulatorContext, response: ServerResponse, params: URLSearchParams): void {
  const raw = params.get('as_of');
  const asOf = raw === null ? context.defaultAsOf() : new Date(raw);
  if (Number.isNaN(asOf.getTime())) {
    sendJson(response, PD_ERRORS.invalidInput.status, new PdError('invalidInput', [`as_of "${raw ?? ''}" is not a valid ISO 8601 instant`]).body());
    return;
  }
  sendJson(response, 200, computeGroundTruth(context.account, asOf));
}

/** `GET /__simulator/actions?since=ISO&until=ISO&user_id=ID`: who did what, newest first. */
function serveActions(context: SimulatorContext, response: ServerResponse, params: URLSearchParams): void {
  const since = new Date(params.get('since') ?? '');
  const until = new Date(params.get('until') ?? '');
  if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) {
    sendJson(response, PD_ERRORS.invalidInput.status, new PdError('invalidInput', ['since and until are required ISO 8601 instants']).body());
    return;
  }
  sendJson(response, 200, { actions: listActions(context.account, since, until, params.get('user_id') ?? undefined) });
}
