import type { CryptoKey, JWK } from 'jose';
import type { Logger } from '../src/lib/logger.ts';
import type { CredentialStore } from './credentials.ts';
import type { FaultInjector } from './faults.ts';
import type { SimAccount } from './model.ts';

export interface RequestLogEntry {
  at: string;
  /** The listener that served the request. Identity and the US API share the `us` port. */
  server: 'us' | 'eu';
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  status: number;
}

export type TokenExchangeFailure = 'server_error' | 'invalid_grant';

export interface PendingAuthorization {
  id: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  codeChallenge: string | undefined;
  nonce: string | undefined;
  /** Set once the person has signed in on the login form. */
  userId: string | undefined;
  expiresAtMs: number;
}

export interface AuthorizationCode {
  code: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string | undefined;
  nonce: string | undefined;
  userId: string;
  scopes: string[];
  expiresAtMs: number;
  isUsed: boolean;
}

export interface SimulatorSettings {
  clientId: string;
  clientSecret: string;
  appName: string;
  /** Exact redirect URIs allowed; undefined allows any http URI on 127.0.0.1 or localhost. */
  redirectUris: string[] | undefined;
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  rateLimitPerMinute: number;
  latencyMs: number;
  /** Every generated person signs in with this password. */
  demoPassword: string;
  licenseAccess: LicenseAccess;
}

/** Whether the license endpoints return their lists, 403 Access Denied or 404 Not Found. */
export type LicenseAccess = 'readable' | 'forbidden' | 'absent';

export const LICENSE_ACCESS_VALUES: readonly LicenseAccess[] = ['readable', 'forbidden', 'absent'];

/** Validates a `licenseAccess` option. Undefined means 'readable'. */
export function parseLicenseAccess(value: string | undefined): LicenseAccess {
  if (value === undefined) return 'readable';
  const found = LICENSE_ACCESS_VALUES.find((candidate) => candidate === value);
  if (found === undefined) throw new Error(`licenseAccess "${value}" is invalid; use one of ${LICENSE_ACCESS_VALUES.join(', ')}`);
  return found;
}

/** Everything the simulator's handlers share. */
export interface SimulatorContext {
  account: SimAccount;
  settings: SimulatorSettings;
  urls: { identityUrl: string; apiUrl: string; euApiUrl: string };
  credentials: CredentialStore;
  /** The simulator's clock: real time plus an offset tests move forward. */
  clock: { offsetMs: number; nowMs(): number };
  /**
   * Now in the generated account's timeline: `options.now` at start, moving with the clock. API
   * defaults (the last month of incidents, current on-calls) use it; tokens use the real clock.
   */
  dataNowMs(): number;
  /** The instant ground truth is computed for when none is given: `options.now` when set, else the clock. */
  defaultAsOf(): Date;
  signing: { privateKey: CryptoKey; publicJwk: JWK; kid: string };
  pendingAuthorizations: Map<string, PendingAuthorization>;
  authorizationCodes: Map<string, AuthorizationCode>;
  faults: { nextTokenExchange: TokenExchangeFailure | null; injector: FaultInjector };
  rateWindows: Map<string, { startMs: number; count: number }>;
  requestLog: RequestLogEntry[];
  logger: Logger;
}

/** Returns the API base URL that serves the account: the EU host for EU accounts. */
export function accountApiUrl(context: SimulatorContext): string {
  return context.account.region === 'eu' ? context.urls.euApiUrl : context.urls.apiUrl;
}
