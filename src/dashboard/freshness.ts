import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { findPagerDutyConnection } from '../connections/repository.ts';
import type { ConnectionCardState } from './connection-card.ts';
import { toIso } from './overview.ts';

export interface FreshnessView {
  /** The connection as the PagerDuty card shows it; `not_connected` also covers a disconnected account with kept data. */
  connectionStatus: ConnectionCardState;
  /** The reason, in plain words, that the connection needs a reconnect, failed, or reads only part of the account. */
  statusReason: string | null;
  statusChangedAt: string | null;
  /**
   * True when Seatwise is connected through a PagerDuty user who is not an admin or owner, so
   * licenses, audit records and some people may be missing.
   */
  isVisibilityLimited: boolean;
  /** When the newest sync that stored data started (succeeded or partial). */
  lastSyncAt: string | null;
  /** When the newest sync in which every stream succeeded finished. */
  lastSuccessfulSyncAt: string | null;
  /** The newest finished sync run, whatever its outcome. */
  lastRun: { status: 'succeeded' | 'partial' | 'failed'; finishedAt: string | null; errorMessage: string | null } | null;
}

/** Builds the data freshness of an organization's PagerDuty data: connection status and sync times. */
export async function presentFreshness(db: Kysely<DB>, organizationId: string): Promise<FreshnessView> {
  const connection = await findPagerDutyConnection(db, organizationId);
  if (connection === null) {
    return { connectionStatus: 'not_connected', statusReason: null, statusChangedAt: null, isVisibilityLimited: false, lastSyncAt: null, lastSuccessfulSyncAt: null, lastRun: null };
  }

  const runs = db.selectFrom('sync_runs').where('organization_id', '=', organizationId).where('connection_id', '=', connection.id);
  const active = await runs.select('id').where('status', 'in', ['queued', 'running']).limit(1).executeTakeFirst();
  const lastSuccess = await runs.select((eb) => eb.fn.max('finished_at').as('finished_at')).where('status', '=', 'succeeded').executeTakeFirst();
  const lastRun = await runs
    .select(['status', 'finished_at', 'error_message'])
    .where('status', 'in', ['succeeded', 'partial', 'failed'])
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();

  const connectionStatus = cardState(connection.status, active !== undefined);
  return {
    connectionStatus,
    statusReason: connection.statusReason,
    statusChangedAt: connection.statusChangedAt.toISOString(),
    // A connected row keeps a status reason only when the consenting user was not an admin.
    isVisibilityLimited: (connectionStatus === 'connected' || connectionStatus === 'syncing') && connection.statusReason !== null,
    lastSyncAt: toIso(connection.lastSyncAt),
    lastSuccessfulSyncAt: toIso(lastSuccess?.finished_at ?? null),
    lastRun:
      lastRun === undefined
        ? null
        : { status: lastRun.status as 'succeeded' | 'partial' | 'failed', finishedAt: toIso(lastRun.finished_at), errorMessage: lastRun.error_message },
  };
}

function cardState(status: 'connected' | 'needs_reconnect' | 'error' | 'disconnected', isSyncing: boolean): ConnectionCardState {
  switch (status) {
    // A disconnected row keeps history but no access.
    case 'disconnected':
      return 'not_connected';
    case 'needs_reconnect':
    case 'error':
      return status;
    case 'connected':
      return isSyncing ? 'syncing' : 'connected';
    default: {
      const unreachable: never = status;
      throw new Error(`Unknown connection status ${String(unreachable)}`);
    }
  }
}
