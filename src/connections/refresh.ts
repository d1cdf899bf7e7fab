import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import type { PagerDutyCredential } from '../connectors/pagerduty/client.ts';
import { refreshAccessToken, type OAuthClient } from '../connectors/pagerduty/oauth.ts';
import type { Logger } from '../lib/logger.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { readCredentials, saveCredentials, type Credentials } from './credentials.ts';
import type { Vault } from './vault.ts';

/** An access token this close to expiry is refreshed before use. */
export const REFRESH_MARGIN_MS = 60 * 60 * 1000;
/** Refresh tokens unused for long lapse (210 days for Classic OAuth), so each is used at least this often. */
export const KEEP_ALIVE_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface TokenDeps {
  database: Database;
  vault: Vault;
  /** The OAuth app; null when only API-key connections exist. */
  oauthClient: OAuthClient | null;
  logger: Logger;
}

export type AccessTokenFailure =
  /** The refresh token was rejected or is missing: only the user can restore access. */
  | { kind: 'needs_reconnect'; message: string }
  /** The token endpoint failed in a way that may pass; try again later. */
  | { kind: 'temporary'; message: string };

export interface AccessTokenOptions {
  /** Refresh even when the stored token is not near expiry, as after a 401 or for the daily keep-alive. */
  forceRefresh?: boolean;
  /** The token a 401 rejected; when the stored token differs, another process already refreshed it. */
  rejectedAccessToken?: string;
}

/**
 * Returns a usable credential for a connection, refreshing the OAuth access token before expiry.
 * Refreshes run one at a time per connection across processes: under a PostgreSQL advisory
 * transaction lock, or on PGlite inside a transaction, which its dialect runs alone. The
 * credentials are read again after the lock, so a token another process just refreshed is used
 * instead of spending the rotated refresh token twice. `invalid_grant` marks the connection
 * `needs_reconnect`, keeping all synced data.
 */
export async function getAccessToken(
  deps: TokenDeps,
  connectionId: string,
  options: AccessTokenOptions = {},
): Promise<Result<PagerDutyCredential, AccessTokenFailure>> {
  const { db } = deps.database;
  const connection = await db.selectFrom('connections').select(['method']).where('id', '=', connectionId).executeTakeFirst();
  if (!connection) throw new Error(`Connection ${connectionId} does not exist`);

  const stored = await readCredentials(db, deps.vault, connectionId);
  if (!stored) return err(await markNeedsReconnect(db, connectionId, 'No PagerDuty credentials are stored for this connection; reconnect PagerDuty.'));

  // API keys do not expire and have nothing to refresh.
  if (connection.method === 'api_key') return ok({ kind: 'api_key', apiKey: stored.accessToken });
  if (!needsRefresh(stored, options)) return ok({ kind: 'oauth', accessToken: stored.accessToken });

  return db.transaction().execute(async (trx) => {
    await lockConnection(deps.database, trx, connectionId);

    const current = await readCredentials(trx, deps.vault, connectionId);
    if (!current) return err(await markNeedsReconnect(trx, connectionId, 'No PagerDuty credentials are stored for this connection; reconnect PagerDuty.'));
    const wasRefreshedMeanwhile = current.accessToken !== stored.accessToken || (options.rejectedAccessToken !== undefined && current.accessToken !== options.rejectedAccessToken);
    if (wasRefreshedMeanwhile && !isNearExpiry(current)) return ok({ kind: 'oauth', accessToken: current.accessToken } as const);

    return refreshLocked(deps, trx, connectionId, current);
  });
}

/** Refreshes the token of an OAuth connection whose refresh token was not used for a day. */
export async function keepAliveRefresh(deps: TokenDeps, connectionId: string): Promise<Result<'refreshed' | 'skipped', AccessTokenFailure>> {
  const row = await deps.database.db
    .selectFrom('connections')
    .innerJoin('connection_credentials', 'connection_credentials.connection_id', 'connections.id')
    .select(['connections.method', 'connections.status', 'connection_credentials.refreshed_at'])
    .where('connections.id', '=', connectionId)
    .executeTakeFirst();
  if (!row || row.method === 'api_key' || row.status !== 'connected') return ok('skipped');
  if (row.refreshed_at !== null && Date.now() - row.refreshed_at.getTime() < KEEP_ALIVE_INTERVAL_MS) return ok('skipped');

  const result = await getAccessToken(deps, connectionId, { forceRefresh: true });
  return result.ok ? ok('refreshed') : result;
}

/**
 * Marks a connection as needing the user to reconnect, with the reason and time. Synced records
 * and run history stay; a reconnect to the same account continues from them.
 */
export async function markNeedsReconnect(db: Kysely<DB> | Transaction<DB>, connectionId: string, reason: string, now = new Date()): Promise<AccessTokenFailure> {
  await db
    .updateTable('connections')
    .set({ status: 'needs_reconnect', status_reason: reason, status_changed_at: now, updated_at: now })
    .where('id', '=', connectionId)
    .where('status', '!=', 'disconnected')
    .execute();
  return { kind: 'needs_reconnect', message: reason };
}

async function refreshLocked(
  deps: TokenDeps,
  trx: Transaction<DB>,
  connectionId: string,
  current: Credentials,
): Promise<Result<PagerDutyCredential, AccessTokenFailure>> {
  if (current.refreshToken === null) {
    return err(await markNeedsReconnect(trx, connectionId, 'The PagerDuty access token expired and no refresh token is stored; reconnect PagerDuty.'));
  }
  if (deps.oauthClient === null) {
    throw new Error('Refreshing a PagerDuty OAuth token needs the OAuth app (PAGERDUTY_CLIENT_ID and PAGERDUTY_CLIENT_SECRET)');
  }

  const refreshed = await refreshAccessToken(deps.oauthClient, current.refreshToken);
  if (!refreshed.ok) {
    switch (refreshed.error.kind) {
      // The grant is gone (revoked, expired or already rotated away): only the user can restore it.
      case 'invalid_grant':
        deps.logger.warn({ connectionId, reason: refreshed.error.message }, 'PagerDuty rejected the refresh token; the connection needs a reconnect');
        return err(await markNeedsReconnect(trx, connectionId, `PagerDuty access ended: ${refreshed.error.message} Reconnect PagerDuty to restore it.`));
      // The token endpoint may recover; keep the connection as it is.
      case 'temporary':
        deps.logger.warn({ connectionId, reason: refreshed.error.message }, 'Refreshing the PagerDuty token failed; will try again');
        return err({ kind: 'temporary', message: refreshed.error.message });
      default: {
        const unreachable: never = refreshed.error.kind;
        throw new Error(`Unknown refresh failure ${String(unreachable)}`);
      }
    }
  }

  // The rotated refresh token replaces the spent one in the same transaction as the lock.
  await saveCredentials(trx, deps.vault, connectionId, {
    accessToken: refreshed.value.accessToken,
    refreshToken: refreshed.value.refreshToken,
    accessTokenExpiresAt: refreshed.value.accessTokenExpiresAt,
  });
  deps.logger.info({ connectionId, expiresAt: refreshed.value.accessTokenExpiresAt.toISOString() }, 'Refreshed the PagerDuty access token');
  return ok({ kind: 'oauth', accessToken: refreshed.value.accessToken });
}

function needsRefresh(credentials: Credentials, options: AccessTokenOptions): boolean {
  if (options.forceRefresh) return true;
  if (options.rejectedAccessToken !== undefined && options.rejectedAccessToken === credentials.accessToken) return true;
  return isNearExpiry(credentials);
}

function isNearExpiry(credentials: Credentials): boolean {
  if (credentials.accessTokenExpiresAt === null) return false;
  return credentials.accessTokenExpiresAt.getTime() - Date.now() < REFRESH_MARGIN_MS;
}

/** Takes the per-connection refresh lock, held until the transaction ends. */
async function lockConnection(database: Database, trx: Transaction<DB>, connectionId: string): Promise<void> {
  // PGlite is one connection behind a FIFO lock, so the open transaction already excludes others.
  if (database.kind !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtext(${`seatwise.token-refresh:${connectionId}`}))`.execute(trx);
}
