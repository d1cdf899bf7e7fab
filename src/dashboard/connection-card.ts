import type { Kysely, Selectable } from 'kysely';
import { canManageConnections } from '../accounts/roles.ts';
import { CONNECT_RESULTS, isConnectResultCode } from '../connections/connect.ts';
import { findPagerDutyConnection, type Connection } from '../connections/repository.ts';
import type { DB, Role, SyncRunStreamsTable } from '../db/schema.ts';
import { nextScheduledSync, type ScheduledSyncKind } from '../sync/schedule.ts';

export type ConnectionCardState = 'not_connected' | 'connected' | 'syncing' | 'needs_reconnect' | 'error';

export interface ConnectionCardView {
  state: ConnectionCardState;
  /** The viewer is an owner or admin. */
  canConnect: boolean;
  account: {
    subdomain: string;
    region: 'us' | 'eu';
    connectedBy: { name: string; email: string; role: string };
    grantedScope: string;
    connectedAt: string;
  } | null;
  /** The last sync of the live connection, or of the disconnected account whose data was kept. */
  lastSyncAt: string | null;
  /**
   * The account disconnected with its synced data kept; its runs stay in `recentRuns`. Null when
   * connected, never connected, or disconnected with the data deleted.
   */
  keptAccount: { subdomain: string | null; disconnectedAt: string } | null;
  /** The reason the connection needs a reconnect, failed or is limited, in plain words. */
  statusReason: string | null;
  statusChangedAt: string | null;
  currentRun: {
    id: string;
    status: string;
    startedAt: string | null;
    streams: { stream: string; status: string; pages: number; records: number; expectedRecords: number | null; message: string | null }[];
  } | null;
  /** The latest runs other than `currentRun`, newest first, each with every stream it started. */
  recentRuns: {
    id: string;
    kind: string;
    trigger: string;
    status: string;
    startedAt: string | null;
    finishedAt: string | null;
    errorMessage: string | null;
    streams: RunStreamOutcome[];
  }[];
  /**
   * The next sync of a connected account: a queued run, or the next run of the hourly and daily
   * schedules. Null unless the connection is connected, because the schedules skip every other one.
   */
  nextSync: {
    /** A run waits in the queue and starts when a sync worker is free. */
    isQueued: boolean;
    /** The next scheduled run, which is a full run while the connection has no last sync. */
    scheduled: { at: string; kind: ScheduledSyncKind };
  } | null;
  /** The sentence for the `result` code of an OAuth redirect. */
  notice: { kind: 'success' | 'error'; message: string } | null;
  /**
   * The offer to switch to another PagerDuty account, made after a connect to a different account
   * was rejected. It is null otherwise, and for viewers who may not connect.
   */
  accountSwitch: { currentSubdomain: string } | null;
  supportEmail: string;
}

/** One stream of a finished run. `message` is the reason a stream was unavailable or failed, or a note. */
export interface RunStreamOutcome {
  stream: string;
  status: string;
  records: number;
  startedAt: string | null;
  finishedAt: string | null;
  message: string | null;
}

/** How many finished runs the card lists. */
const RECENT_RUN_COUNT = 10;

/** Builds the PagerDuty connections card for one viewer of one organization. */
export async function presentConnectionCard(
  db: Kysely<DB>,
  organizationId: string,
  viewer: { role: Role; supportEmail: string },
  resultCode?: string,
  now: Date = new Date(),
): Promise<ConnectionCardView> {
  const connection = await findPagerDutyConnection(db, organizationId);
  const isLive = connection !== null && connection.status !== 'disconnected';
  // A disconnect that deletes the data deletes the runs too, so runs left on a disconnected row
  // mean its data was kept.
  const runs = connection !== null ? await readRuns(db, organizationId, connection.id) : { current: null, recent: [], hasQueuedRun: false };
  const isDataKept = connection !== null && !isLive && runs.recent.length > 0;

  return {
    state: stateOf(connection, isLive && runs.current !== null),
    canConnect: canManageConnections(viewer.role),
    account: isLive ? accountOf(connection) : null,
    lastSyncAt: isLive || isDataKept ? (connection.lastSyncAt?.toISOString() ?? null) : null,
    keptAccount: isDataKept ? { subdomain: connection.subdomain, disconnectedAt: connection.statusChangedAt.toISOString() } : null,
    statusReason: connection?.statusReason ?? null,
    statusChangedAt: connection?.statusChangedAt.toISOString() ?? null,
    currentRun: isLive ? runs.current : null,
    recentRuns: runs.recent,
    nextSync: connection?.status === 'connected' ? nextSyncOf(connection, runs.hasQueuedRun, now) : null,
    notice: noticeOf(resultCode, isLive && runs.current !== null),
    accountSwitch:
      resultCode === 'account_mismatch' && connection !== null && canManageConnections(viewer.role)
        ? { currentSubdomain: connection.subdomain ?? connection.accountId ?? 'the connected account' }
        : null,
    supportEmail: viewer.supportEmail,
  };
}

/**
 * Returns the sentence for an OAuth redirect's result code. "Connected" reports that a sync started, so it
 * goes once that sync ends and the history shows its outcome.
 */
function noticeOf(resultCode: string | undefined, isRunActive: boolean): ConnectionCardView['notice'] {
  if (resultCode === undefined || !isConnectResultCode(resultCode)) return null;
  if (resultCode === 'connected' && !isRunActive) return null;
  return { ...CONNECT_RESULTS[resultCode] };
}

function stateOf(connection: Connection | null, isSyncing: boolean): ConnectionCardState {
  if (connection === null) return 'not_connected';
  switch (connection.status) {
    // A disconnected row keeps history but no access, so the card offers Connect again.
    case 'disconnected':
      return 'not_connected';
    case 'needs_reconnect':
      return 'needs_reconnect';
    case 'error':
      return 'error';
    case 'connected':
      return isSyncing ? 'syncing' : 'connected';
    default: {
      const unreachable: never = connection.status;
      throw new Error(`Unknown connection status ${String(unreachable)}`);
    }
  }
}

function accountOf(connection: Connection): ConnectionCardView['account'] {
  return {
    subdomain: connection.subdomain ?? '',
    region: connection.region === 'eu' ? 'eu' : 'us',
    connectedBy: connection.method === 'api_key' ? { name: 'Account API key', email: '', role: 'api_key' } : {
      name: connection.providerUser.name ?? 'Unknown PagerDuty user',
      email: connection.providerUser.email ?? '',
      role: connection.providerUser.role ?? 'unknown',
    },
    grantedScope: connection.grantedScope ?? '',
    connectedAt: connection.connectedAt.toISOString(),
  };
}

interface RunHistory {
  current: ConnectionCardView['currentRun'];
  recent: ConnectionCardView['recentRuns'];
  hasQueuedRun: boolean;
}

async function readRuns(db: Kysely<DB>, organizationId: string, connectionId: string): Promise<RunHistory> {
  const rows = await db
    .selectFrom('sync_runs')
    .select(['id', 'kind', 'trigger', 'status', 'started_at', 'finished_at', 'error_message'])
    .where('organization_id', '=', organizationId)
    .where('connection_id', '=', connectionId)
    .orderBy('created_at', 'desc')
    .limit(RECENT_RUN_COUNT + 1)
    .execute();

  const active = rows.find((row) => row.status === 'queued' || row.status === 'running');
  const listed = rows.filter((row) => row !== active).slice(0, RECENT_RUN_COUNT);
  const firstConnectRunId = await findFirstConnectRunId(db, connectionId);
  const streams = await readStreams(db, [...(active ? [active.id] : []), ...listed.map((row) => row.id)]);

  const current = active
    ? { id: active.id, status: active.status, startedAt: iso(active.started_at), streams: (streams.get(active.id) ?? []).map(progressOf) }
    : null;
  const recent = listed.map((row) => ({
    id: row.id,
    kind: row.kind,
    trigger: row.trigger === 'connect' && row.id !== firstConnectRunId ? 'reconnect' : row.trigger,
    status: row.status,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    errorMessage: row.error_message,
    streams: (streams.get(row.id) ?? []).map(outcomeOf),
  }));
  return { current, recent, hasQueuedRun: rows.some((row) => row.status === 'queued') };
}

/**
 * Returns the next sync of a connected account. The scheduled round queues a full run for a
 * connection without a last sync (no run succeeded, even in part), whichever schedule fires.
 */
function nextSyncOf(connection: Connection, hasQueuedRun: boolean, now: Date): NonNullable<ConnectionCardView['nextSync']> {
  const next = nextScheduledSync(now);
  return {
    isQueued: hasQueuedRun,
    scheduled: { at: next.at.toISOString(), kind: connection.lastSyncAt === null ? 'full' : next.kind },
  };
}

/**
 * Finds the run the first connect of this connection started. A reconnect reuses the connection
 * row and enqueues its run with the same `connect` trigger, so every later such run is a reconnect.
 */
async function findFirstConnectRunId(db: Kysely<DB>, connectionId: string): Promise<string | null> {
  const row = await db
    .selectFrom('sync_runs')
    .select('id')
    .where('connection_id', '=', connectionId)
    .where('trigger', '=', 'connect')
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}

type StreamRow = Pick<Selectable<SyncRunStreamsTable>, 'stream' | 'status' | 'pages' | 'records' | 'expected_records' | 'message' | 'started_at' | 'finished_at'>;

/** Reads the streams of several runs in one query, keyed by run id and ordered by stream name. */
async function readStreams(db: Kysely<DB>, syncRunIds: string[]): Promise<Map<string, StreamRow[]>> {
  const byRun = new Map<string, StreamRow[]>();
  if (syncRunIds.length === 0) return byRun;

  const rows = await db
    .selectFrom('sync_run_streams')
    .select(['sync_run_id', 'stream', 'status', 'pages', 'records', 'expected_records', 'message', 'started_at', 'finished_at'])
    .where('sync_run_id', 'in', syncRunIds)
    .orderBy('sync_run_id')
    .orderBy('stream')
    .execute();
  for (const row of rows) {
    const list = byRun.get(row.sync_run_id) ?? [];
    list.push(row);
    byRun.set(row.sync_run_id, list);
  }
  return byRun;
}

function progressOf(row: StreamRow): NonNullable<ConnectionCardView['currentRun']>['streams'][number] {
  return {
    stream: row.stream,
    status: row.status,
    pages: row.pages,
    records: row.records,
    expectedRecords: row.expected_records,
    message: row.message,
  };
}

function outcomeOf(row: StreamRow): RunStreamOutcome {
  return {
    stream: row.stream,
    status: row.status,
    records: row.records,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    message: row.message,
  };
}

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}
