import { randomBytes } from 'node:crypto';

/** Read scopes Scoped OAuth apps may ask for, from PagerDuty's OpenAPI description (`x-pd-requires-scope`). */
export const SCOPED_OAUTH_SCOPES: ReadonlySet<string> = new Set([
  'abilities.read', 'addons.read', 'analytics.read', 'analytics.write', 'audit_records.read', 'change_events.read',
  'custom_fields.read', 'escalation_policies.read', 'event_orchestrations.read', 'event_rules.read', 'extension_schemas.read',
  'extensions.read', 'incident_types.read', 'incident_workflows.read', 'incidents.read', 'licenses.read',
  'oauth_delegations.read', 'oncalls.read', 'priorities.read', 'schedules.read', 'services.read', 'status_dashboards.read',
  'status_pages.read', 'subscribers.read', 'tags.read', 'teams.read', 'users.read', 'users:contact_methods.read',
  'users:notifications.read', 'users:sessions.read', 'vendors.read', 'webhook_subscriptions.read',
]);

/** Classic User OAuth scopes: `read` reads everything the user can see, `write` may also change it. */
export const CLASSIC_SCOPES: ReadonlySet<string> = new Set(['read', 'write']);

/**
 * Returns the scopes granted for a requested scope string. PagerDuty drops scopes it does not know without
 * an error and always adds `openid`, so an invalid request yields `openid` alone.
 */
export function grantScopes(requested: string | undefined): string[] {
  const granted = new Set<string>(['openid']);
  for (const scope of (requested ?? '').split(/\s+/)) {
    if (CLASSIC_SCOPES.has(scope) || SCOPED_OAUTH_SCOPES.has(scope)) granted.add(scope);
  }
  return [...granted];
}

export interface Delegation {
  id: string;
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: Date;
  isRevoked: boolean;
}

export interface AccessTokenRecord {
  token: string;
  delegationId: string;
  expiresAtMs: number;
}

export interface RefreshTokenRecord {
  token: string;
  delegationId: string;
  expiresAtMs: number;
  isSpent: boolean;
}

export interface ApiKeyRecord {
  key: string;
  /** An account key acts for no user; a user key acts as that user. */
  userId: string | null;
  isReadOnly: boolean;
}

/** The identity behind an authenticated REST request. */
export type Caller =
  | { kind: 'oauth'; delegation: Delegation; userId: string; scopes: string[]; rateLimitKey: string }
  | { kind: 'account_api_key'; rateLimitKey: string }
  | { kind: 'user_api_key'; userId: string; rateLimitKey: string };

/** Returns a PagerDuty-style token: `pdus+_` and a digit, then random characters. */
export function newToken(kind: 0 | 1): string {
  return `pdus+_${kind}${randomBytes(30).toString('base64url')}`;
}

export function newApiKey(): string {
  return randomBytes(15).toString('base64url');
}

/** All OAuth delegations, tokens and API keys of one simulator. */
export class CredentialStore {
  readonly delegations = new Map<string, Delegation>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  /**
   * Called after every change made through this class's methods, to save the store. The OAuth
   * handlers mark a refresh token spent or add a delegation just before `issueTokens`, which
   * then calls it.
   */
  onChange: () => void = () => {};

  addApiKey(record: ApiKeyRecord): void {
    this.apiKeys.set(record.key, record);
    this.onChange();
  }

  issueTokens(delegation: Delegation, nowMs: number, accessLifetimeSeconds: number, refreshLifetimeSeconds: number): { access: AccessTokenRecord; refresh: RefreshTokenRecord } {
    const access: AccessTokenRecord = { token: newToken(0), delegationId: delegation.id, expiresAtMs: nowMs + accessLifetimeSeconds * 1000 };
    const refresh: RefreshTokenRecord = { token: newToken(1), delegationId: delegation.id, expiresAtMs: nowMs + refreshLifetimeSeconds * 1000, isSpent: false };
    this.accessTokens.set(access.token, access);
    this.refreshTokens.set(refresh.token, refresh);
    this.onChange();
    return { access, refresh };
  }

  /** Revokes a delegation, which invalidates every access and refresh token issued under it. */
  revokeDelegation(delegationId: string): boolean {
    const delegation = this.delegations.get(delegationId);
    if (delegation === undefined) return false;
    delegation.isRevoked = true;
    this.onChange();
    return true;
  }

  revokeAll(): void {
    for (const delegation of this.delegations.values()) delegation.isRevoked = true;
    this.onChange();
  }

  expireAccessTokens(nowMs: number): void {
    for (const record of this.accessTokens.values()) record.expiresAtMs = Math.min(record.expiresAtMs, nowMs - 1000);
    this.onChange();
  }

  /** Resolves an `Authorization` header to a caller, or null when it is missing, unknown, expired or revoked. */
  authenticate(header: string | undefined, nowMs: number): Caller | null {
    if (header === undefined) return null;

    const bearer = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (bearer?.[1] !== undefined) {
      const record = this.accessTokens.get(bearer[1]);
      if (record === undefined || record.expiresAtMs <= nowMs) return null;
      const delegation = this.delegations.get(record.delegationId);
      if (delegation === undefined || delegation.isRevoked) return null;
      return { kind: 'oauth', delegation, userId: delegation.userId, scopes: delegation.scopes, rateLimitKey: `oauth:${delegation.clientId}:${delegation.userId}` };
    }

    const tokenKey = /^Token\s+token=(\S+)$/i.exec(header.trim());
    if (tokenKey?.[1] !== undefined) {
      const record = this.apiKeys.get(tokenKey[1]);
      if (record === undefined) return null;
      if (record.userId === null) return { kind: 'account_api_key', rateLimitKey: `key:${record.key}` };
      // User API keys share one budget per user, across all that user's keys.
      return { kind: 'user_api_key', userId: record.userId, rateLimitKey: `user:${record.userId}` };
    }
    return null;
  }
}
