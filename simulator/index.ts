import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../src/lib/logger.ts';
import { AccountIndex } from './account-index.ts';
import { parseLicenseAccess, type LicenseAccess, type RequestLogEntry, type SimulatorContext, type TokenExchangeFailure } from './context.ts';
import type { PlanName, SimAccount } from './model.ts';
import { CredentialStore, newApiKey } from './credentials.ts';
import { PdError } from './errors.ts';
import { FaultInjector, type FaultRates } from './faults.ts';
import { generateAccount } from './generator.ts';
import { computeGroundTruth, listActions, type GroundTruth, type PersonAction } from './ground-truth.ts';
import { BodyTooLargeError, queryRecord, sendJson } from './http-kit.ts';
import { handleIdentity } from './oauth.ts';
import { handleApi, sendError } from './rest.ts';
import { loadState, saveState } from './state-file.ts';
import { computeUsageTruth, type UsageTruth, type UsageTruthOptions } from './usage-truth.ts';

export type { GroundTruth, PersonAction, PersonTruth, SeatTruth } from './ground-truth.ts';
export type { LicenseAccess, RequestLogEntry, TokenExchangeFailure } from './context.ts';
export type { FaultRates } from './faults.ts';
export { incidentPriority } from './incident-priority.ts';
export type { PlanName, SimAccount } from './model.ts';
export type { CoverageTruth, FeatureSignals, FeatureUseTruth, IncidentSubscriberReads, RecommendationTruth, UsageTruth, UsageTruthOptions } from './usage-truth.ts';

export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** 0 = any free port; identity and the US API listen here. */
  port?: number;
  /** 0 = any free port; the EU API host listens here. */
  euPort?: number;
  /** Default 42. */
  seed?: number;
  /** Default 250. */
  people?: number;
  /** The demo account's region, default 'us'. */
  region?: 'us' | 'eu';
  /** Reference instant for generated history; default the one in `stateFile`, else now. */
  now?: Date;
  /** Default 100. */
  historyDays?: number;
  /** Default 'seatwise-demo-client'. */
  clientId?: string;
  /** Default a fixed demo secret. */
  clientSecret?: string;
  /** Shown on the consent screen, default 'Seatwise'. */
  appName?: string;
  /** Exact redirect URIs allowed; default any http://127.0.0.1:* or http://localhost:* URI. */
  redirectUris?: string[];
  /** Requests a minute per token, default 960. */
  rateLimitPerMinute?: number;
  /** Delay before every response, in milliseconds; default 0. */
  latencyMs?: number;
  /** Default 30 days (Classic User OAuth). */
  accessTokenLifetimeSeconds?: number;
  /** Default 210 days. */
  refreshTokenLifetimeSeconds?: number;
  /** The account's plan, default 'business'; it decides abilities (402 for missing ones) and account features. */
  plan?: PlanName;
  /** The account's IANA time zone, default 'Etc/UTC'; `since` and `until` without an offset are read in it. */
  timeZone?: string;
  /**
   * Incidents over the whole history, for large accounts: history is then generated lazily, one day
   * at a time, with about ten log entries per incident. Default: a per-person history of about 20
   * incidents a person, or for more than 3,000 people a lazy one of 15 incidents a person.
   */
  incidents?: number;
  /** With `incidents`: one day, `daysAgo` days back, with this many extra incidents (a burst). */
  burst?: { daysAgo: number; incidents: number };
  /**
   * Rearranges people so every recommendation guardrail, blocking or flagging, has a case. Inactive
   * people become the only target of a second escalation level, the account owner, the last admin
   * and members of a backup rotation that starts after the on-call horizon. One inactive Full User
   * signs in recently, and every Stakeholder seat is allocated. Default false.
   */
  guardrailCases?: boolean;
  /**
   * Whether `/licenses`, `/license_allocations` and `/users/{id}/license` can be read: 'readable'
   * (the default), 'forbidden' (403 Access Denied, a token that may not read them) or 'absent'
   * (404 Not Found, an account without flexible licensing).
   */
  licenseAccess?: LicenseAccess;
  /** Probabilities of injected REST faults, each in [0, 1]; default none. */
  faults?: FaultRates;
  /** Pause in the middle of a `slowBody` fault, default 2,000 ms. */
  slowBodyDelayMs?: number;
  /** Default a silent logger. */
  logger?: Logger;
  /**
   * A JSON file that keeps the issued credentials (OAuth delegations, access and refresh tokens,
   * API keys, the ID-token signing key) and the first start's reference instant across restarts.
   * Written with mode 0600 after every change; default none, so everything lives in memory.
   * An explicit `now` still wins over the stored instant.
   */
  stateFile?: string;
}

export interface SimulatorControl {
  /** Revokes every OAuth delegation: their access and refresh tokens stop working. */
  revokeAllTokens(): void;
  /** Revokes one delegation (the ID token's `delegation_id`); returns false when unknown. */
  revokeDelegation(delegationId: string): boolean;
  /** Makes every access token issued so far expired; refresh tokens keep working. */
  expireAccessTokens(): void;
  /** Makes the next `POST /oauth/token` fail: HTTP 500 `server_error` by default, or 400 `invalid_grant`. */
  failNextTokenExchange(failure?: TokenExchangeFailure): void;
  setLatency(ms: number): void;
  /** Replaces the fault rates; `{}` turns faults off. */
  setFaults(rates: FaultRates): void;
  setRateLimit(requestsPerMinute: number): void;
  /** Changes whether the license endpoints can be read, as the `licenseAccess` option does. */
  setLicenseAccess(access: LicenseAccess): void;
  /** Moves the simulator's clock forward (code, token and rate-limit expiry), not the generated history. */
  advanceClock(ms: number): void;
  /**
   * Creates a REST API key: a user key acting as `userId`, or another account key when omitted.
   * Returns the key for `Authorization: Token token=...`.
   */
  createApiKey(userId?: string): string;
  /** The requests served so far, oldest first: method, path, query and status. Keeps the last 50,000 at least. */
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
}

export interface RunningSimulator {
  /** e.g. http://127.0.0.1:PORT; authorize = identityUrl + '/oauth/authorize', token = '/oauth/token'. */
  identityUrl: string;
  /** US REST API base, no trailing slash. */
  apiUrl: string;
  /** EU REST API base, no trailing slash. */
  euApiUrl: string;
  clientId: string;
  clientSecret: string;
  /** The demo account owner, shown on the login page. */
  login: { email: string; password: string };
  /** An account-level REST API key (`Authorization: Token token=...`). */
  apiKey: string;
  account: { id: string; subdomain: string; region: 'us' | 'eu'; apiUrl: string };
  groundTruth(asOf?: Date): GroundTruth;
  /**
   * The generated account every response is built from, for tests that compare synced records
   * with it field by field. Tests must only read it.
   */
  generated: Readonly<SimAccount>;
  /** Lists who did what, when and through which channel in [since, until), newest first. */
  actions(since: Date, until: Date, userId?: string): PersonAction[];
  /** Computes per-person feature use, coverage and recommendations from the account's own model. */
  usageTruth(options: UsageTruthOptions): UsageTruth;
  control: SimulatorControl;
  close(): Promise<void>;
}

/** Requests kept in the log; a long-running simulator drops the oldest half beyond twice this. */
const REQUEST_LOG_LIMIT = 50_000;
const DEFAULT_CLIENT_ID = 'seatwise-demo-client';
const DEFAULT_CLIENT_SECRET = 'seatwise-demo-secret-not-for-production';
const DEMO_PASSWORD = 'simulated-pagerduty';
const DAY_SECONDS = 86_400;

/** Starts the PagerDuty simulator: identity and US API on one port, the EU API on another. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? createLogger('silent');
  const accountKey = { seed: options.seed ?? 42, people: options.people ?? 250, region: options.region ?? 'us', clientId: options.clientId ?? DEFAULT_CLIENT_ID };
  const state = await loadState(options.stateFile ?? null, accountKey, logger);
  const account = generateAccount({
    seed: accountKey.seed,
    people: accountKey.people,
    region: accountKey.region,
    now: options.now ?? state.referenceNow,
    historyDays: options.historyDays ?? 100,
    plan: options.plan ?? 'business',
    timeZone: options.timeZone ?? 'Etc/UTC',
    ...(options.incidents === undefined ? {} : { incidents: options.incidents }),
    ...(options.burst === undefined ? {} : { burst: options.burst }),
    ...(options.guardrailCases === undefined ? {} : { guardrailCases: options.guardrailCases }),
  });
  const index = new AccountIndex(account);

  // The account's clock runs on from the first start, so a restart neither rewinds nor shifts it.
  const startedAtMs = options.now === undefined ? state.firstStartedAtMs : Date.now();
  const clock = {
    offsetMs: 0,
    nowMs(): number {
      return Date.now() + this.offsetMs;
    },
  };
  const context: SimulatorContext = {
    account,
    settings: {
      clientId: accountKey.clientId,
      clientSecret: options.clientSecret ?? DEFAULT_CLIENT_SECRET,
      appName: options.appName ?? 'Seatwise',
      redirectUris: options.redirectUris,
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 30 * DAY_SECONDS,
      refreshTokenLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? 210 * DAY_SECONDS,
      rateLimitPerMinute: options.rateLimitPerMinute ?? 960,
      latencyMs: options.latencyMs ?? 0,
      demoPassword: DEMO_PASSWORD,
      licenseAccess: parseLicenseAccess(options.licenseAccess),
    },
    urls: { identityUrl: '', apiUrl: '', euApiUrl: '' },
    credentials: new CredentialStore(),
    clock,
    dataNowMs: () => account.generatedAt.getTime() + (clock.nowMs() - startedAtMs),
    defaultAsOf: () => options.now ?? new Date(clock.nowMs()),
    signing: state.signing,
    pendingAuthorizations: new Map(),
    authorizationCodes: new Map(),
    faults: { nextTokenExchange: null, injector: new FaultInjector(options.faults ?? {}, options.seed ?? 42, options.slowBodyDelayMs) },
    rateWindows: new Map(),
    requestLog: [],
    logger,
  };

  state.restoreInto(context.credentials);
  const apiKey = state.accountApiKey ?? newApiKey();
  context.credentials.apiKeys.set(apiKey, { key: apiKey, userId: null, isReadOnly: true });
  const stateFile = options.stateFile;
  if (stateFile !== undefined) {
    const saved = { account: accountKey, referenceNow: options.now ?? state.referenceNow, firstStartedAtMs: startedAtMs, signing: state.signing, privateJwk: state.privateJwk, accountApiKey: apiKey };
    context.credentials.onChange = () => saveState(stateFile, saved, context.credentials, clock.nowMs());
    context.credentials.onChange();
  }

  const usServer = createServer((request, response) => void serve(context, 'us', request, response, index));
  const euServer = createServer((request, response) => void serve(context, 'eu', request, response, index));
  const usPort = await listen(usServer, host, options.port ?? 0);
  const euPort = await listen(euServer, host, options.euPort ?? 0);
  context.urls = { identityUrl: `http://${host}:${usPort}`, apiUrl: `http://${host}:${usPort}`, euApiUrl: `http://${host}:${euPort}` };
  logger.info({ identityUrl: context.urls.identityUrl, euApiUrl: context.urls.euApiUrl, people: account.users.length }, 'simulator started');

  const control: SimulatorControl = {
    revokeAllTokens: () => context.credentials.revokeAll(),
    revokeDelegation: (delegationId) => context.credentials.revokeDelegation(delegationId),
    expireAccessTokens: () => context.credentials.expireAccessTokens(clock.nowMs()),
    failNextTokenExchange: (failure = 'server_error') => {
      context.faults.nextTokenExchange = failure;
    },
    setLatency: (ms) => {
      context.settings.latencyMs = ms;
    },
    setFaults: (rates) => {
      context.faults.injector.rates = rates;
    },
    setLicenseAccess: (access) => {
      context.settings.licenseAccess = parseLicenseAccess(access);
    },
    setRateLimit: (requestsPerMinute) => {
      context.settings.rateLimitPerMinute = requestsPerMinute;
    },
    createApiKey: (userId) => {
      if (userId !== undefined && !account.users.some((user) => user.id === userId)) throw new Error(`createApiKey: user ${userId} is not in the account`);
      const key = newApiKey();
      context.credentials.addApiKey({ key, userId: userId ?? null, isReadOnly: true });
      return key;
    },
    advanceClock: (ms) => {
      clock.offsetMs += ms;
    },
    requestLog: () => context.requestLog.map((entry) => ({ ...entry, query: { ...entry.query } })),
    clearRequestLog: () => {
      context.requestLog.length = 0;
    },
  };

  return {
    identityUrl: context.urls.identityUrl,
    apiUrl: context.urls.apiUrl,
    euApiUrl: context.urls.euApiUrl,
    clientId: context.settings.clientId,
    clientSecret: context.settings.clientSecret,
    login: { email: account.owner.email, password: DEMO_PASSWORD },
    apiKey,
    account: { id: account.id, subdomain: account.subdomain, region: account.region, apiUrl: account.region === 'eu' ? context.urls.euApiUrl : context.urls.apiUrl },
    groundTruth: (asOf) => computeGroundTruth(account, asOf ?? context.defaultAsOf()),
    generated: account,
    actions: (since, until, userId) => listActions(account, since, until, userId),
    usageTruth: (truthOptions) => computeUsageTruth(account, truthOptions),
    control,
    close: async () => {
      await Promise.all([closeServer(usServer), closeServer(euServer)]);
      logger.info({ identityUrl: context.urls.identityUrl }, 'simulator stopped');
    },
  };
}

async function serve(context: SimulatorContext, server: 'us' | 'eu', request: IncomingMessage, response: ServerResponse, index: AccountIndex): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://simulator.invalid');
  response.on('finish', () => {
    context.requestLog.push({
      at: new Date(context.clock.nowMs()).toISOString(),
      server,
      method: request.method ?? 'GET',
      path: url.pathname,
      query: queryRecord(url.searchParams),
      status: response.statusCode,
    });
    if (context.requestLog.length > 2 * REQUEST_LOG_LIMIT) context.requestLog.splice(0, context.requestLog.length - REQUEST_LOG_LIMIT);
  });

  try {
    if (context.settings.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, context.settings.latencyMs));
    if (server === 'us' && (await handleIdentity(context, request, response, url))) return;
    await handleApi(context, server, request, response, url, index);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      sendError(response, new PdError('invalidInput', [error.message]));
      return;
    }
    context.logger.error({ err: error, method: request.method, path: url.pathname }, 'simulator request failed');
    if (!response.headersSent) sendJson(response, 500, new PdError('internalError').body());
    else response.destroy();
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeAllConnections();
  });
}
