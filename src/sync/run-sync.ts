import type { Kysely } from 'kysely';
import { crunchConnection, type CrunchOptions } from '../analytics/crunch.ts';
import { findChangedSince } from '../analytics/sync-changes.ts';
import { getAccessToken, markNeedsReconnect } from '../connections/refresh.ts';
import type { Vault } from '../connections/vault.ts';
import { PagerDutyClient, type CredentialSource, type PagerDutyCredential, type RetryPolicy } from '../connectors/pagerduty/client.ts';
import { describeApiError, type ApiError } from '../connectors/pagerduty/errors.ts';
import type { OAuthClient } from '../connectors/pagerduty/oauth.ts';
import { sharedRateBudget, type RateBudget, type RateBudgetOptions } from '../connectors/pagerduty/rate-budget.ts';
import { PostgresTokenBucket } from '../connectors/pagerduty/shared-rate-budget.ts';
import type { Database } from '../db/database.ts';
import type { DB, StreamStatus, SyncRunStatus } from '../db/schema.ts';
import type { Logger } from '../lib/logger.ts';
import { probeCapabilities, recordUnavailableStreams, unavailabilityReason } from './capabilities.ts';
import { CheckpointStore } from './checkpoints.ts';
import { StreamProgress } from './progress.ts';
import { STREAMS } from './streams/catalogue.ts';
import type { Capabilities, StreamDefinition, StreamName } from './streams/types.ts';
import { DAY_MS } from './windows.ts';

/** Streams read at once; they share the connection's rate budget. */
const STREAM_CONCURRENCY = 4;
/**
 * Pages of one list in flight at once. PagerDuty's latency and PGlite writes on the event loop
 * stretch each request to several hundred milliseconds, so fewer in flight fall short of the
 * per-token rate (docs/benchmarks.md). The rate budget keeps the pace under the limit.
 */
const PAGE_CONCURRENCY = 16;

export interface SyncDeps {
  database: Database;
  vault: Vault;
  logger: Logger;
  config: { syncHistoryDays: number };
  /** The OAuth app that refreshes tokens; null when only API-key connections exist. */
  oauthClient: OAuthClient | null;
  /** Computes the dashboard figures after a sync; defaults to the analytics crunch. */
  crunch?: (db: Kysely<DB>, connectionId: string, asOf: Date, options?: CrunchOptions) => Promise<void>;
  /** The run's notion of now; tests against a simulator with a fixed clock pass its instant. */
  now?: () => Date;
  /** Stops the run at the next request; its checkpoints stay so the next run resumes. */
  signal?: AbortSignal;
  /** Only these streams, for tests and the command line; all by default. */
  streams?: readonly StreamName[];
  retry?: Partial<RetryPolicy>;
  /** Requests of this connection in flight at once. */
  maxInFlight?: number;
  /** Called after each stream ends, for a terminal progress display. */
  onStreamEnd?: (stream: StreamOutcome) => void;
}

export interface StreamOutcome {
  name: StreamName;
  status: Exclude<StreamStatus, 'pending' | 'running'>;
  pages: number;
  records: number;
  message: string | null;
}

export type SyncOutcomeStatus = SyncRunStatus | 'needs_reconnect';

export interface SyncOutcome {
  syncRunId: string;
  /**
   * `succeeded` when every stream succeeded or is unavailable to this account, `partial` when
   * some failed, `failed` when none could be read, and `needs_reconnect` when PagerDuty no
   * longer accepts the connection's credentials.
   */
  status: SyncOutcomeStatus;
  streams: StreamOutcome[];
  requestCount: number;
  errorMessage: string | null;
  /** Whether a later retry may succeed: the failures were faults or rate limits, not the account. */
  isRetryable: boolean;
}

/**
 * Runs one sync of a connection: marks the run running, probes what the connection may read,
 * reads every stream with per-stream failure isolation and progress after every page, sets
 * `last_sync_at`, then crunches the dashboard figures. A 401 that a token refresh cannot cure
 * marks the connection `needs_reconnect`, keeping all data; 429s and 5xx never do.
 */
export async function runSync(deps: SyncDeps, input: { connectionId: string; syncRunId: string }): Promise<SyncOutcome> {
  const { db } = deps.database;
  const { connectionId, syncRunId } = input;
  const logger = deps.logger.child({ connectionId, syncRunId });

  const connection = await db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
  if (!connection) throw new Error(`Cannot sync connection ${connectionId}: it does not exist`);
  const run = await db.selectFrom('sync_runs').select(['kind', 'status', 'started_at']).where('id', '=', syncRunId).where('connection_id', '=', connectionId).executeTakeFirst();
  if (!run) throw new Error(`Cannot run sync ${syncRunId}: no such run for connection ${connectionId}`);
  // A resumed run keeps its first start, so its passes end where they were planned to and its
  // duration covers every attempt.
  const now = run.started_at === null ? (deps.now?.() ?? new Date()) : new Date(run.started_at);

  if (connection.status !== 'connected') {
    const message = `The PagerDuty connection is ${connection.status.replace('_', ' ')}${connection.status_reason ? `: ${connection.status_reason}` : ''}; reconnect PagerDuty, then sync again.`;
    await finishRun(db, syncRunId, 'failed', 0, 'connection_not_connected', message);
    return { syncRunId, status: connection.status === 'needs_reconnect' ? 'needs_reconnect' : 'failed', streams: [], requestCount: 0, errorMessage: message, isRetryable: false };
  }

  await db.updateTable('sync_runs').set({ status: 'running', started_at: now, error_code: null, error_message: null }).where('id', '=', syncRunId).execute();
  logger.info({ kind: run.kind }, 'Sync started');

  const auth = createCredentialSource(deps, connectionId);
  const client = new PagerDutyClient({
    apiBaseUrl: connection.api_base_url,
    credentials: auth.source,
    logger,
    budget: connectionRateBudget(deps, connectionId),
    retry: deps.retry,
    signal: deps.signal,
  });

  const probe = await probeCapabilities({ db, client, connectionId, method: connection.method, grantedScope: connection.granted_scope, region: connection.region, now });
  if (!probe.ok) return endWithError(deps, logger, { connectionId, syncRunId, client, auth, error: probe.error, streams: [] });

  const streams = STREAMS.filter((stream) => deps.streams === undefined || deps.streams.includes(stream.name));
  const outcomes = await runStreams(deps, logger, {
    client,
    connectionId,
    syncRunId,
    kind: run.kind,
    now,
    capabilities: probe.value,
    streams,
    shouldStop: () => auth.needsReconnect() !== null,
  });
  const unavailable = Object.fromEntries(outcomes.filter((outcome) => outcome.status === 'unavailable').map((outcome) => [outcome.name, outcome.message ?? '']));
  await recordUnavailableStreams(db, connectionId, unavailable);

  if (auth.needsReconnect() !== null) {
    return endWithError(deps, logger, { connectionId, syncRunId, client, auth, error: null, streams: outcomes });
  }

  const failed = outcomes.filter((outcome) => outcome.status === 'failed');
  let status: SyncRunStatus = 'partial';
  if (failed.length === 0) status = 'succeeded';
  else if (failed.length === outcomes.length) status = 'failed';
  const errorMessage = failed.length === 0 ? null : failed.map((outcome) => `${outcome.name}: ${outcome.message ?? 'failed'}`).join('; ');

  if (status !== 'failed') {
    await db.updateTable('connections').set({ last_sync_at: now, updated_at: new Date() }).where('id', '=', connectionId).execute();
    // Activity facts are recomputed only from the earliest event this run or an uncrunched one changed.
    const changedSince = await findChangedSince(db, connectionId, syncRunId);
    await (deps.crunch ?? crunchConnection)(db, connectionId, now, changedSince === undefined ? {} : { changedSince });
  }
  await finishRun(db, syncRunId, status, client.requestCount, failed.length === 0 ? null : 'streams_failed', errorMessage);
  logger.info({ status, requests: client.requestCount, failedStreams: failed.map((outcome) => outcome.name) }, 'Sync finished');
  return { syncRunId, status, streams: outcomes, requestCount: client.requestCount, errorMessage, isRetryable: failed.length > 0 };
}

/**
 * Returns the request budget of a connection in this process. On PostgreSQL it also draws from
 * the connection's row in `pagerduty_rate_budgets`, so every process that sends requests for the
 * connection shares PagerDuty's per-token limit. On PGlite one process owns the database.
 */
function connectionRateBudget(deps: SyncDeps, connectionId: string): RateBudget {
  const key = `connection:${connectionId}`;
  const options: RateBudgetOptions = deps.maxInFlight === undefined ? {} : { maxInFlight: deps.maxInFlight };
  if (deps.database.kind === 'postgres') {
    options.shared = new PostgresTokenBucket(deps.database, key);
    options.onSharedError = (error) => deps.logger.warn({ err: error, connectionId }, 'Failed to share a rate-limit pause with other processes; this process still pauses');
  }
  return sharedRateBudget(key, options);
}

interface StreamRunInput {
  client: PagerDutyClient;
  connectionId: string;
  syncRunId: string;
  kind: 'full' | 'incremental';
  now: Date;
  capabilities: Capabilities;
  streams: readonly StreamDefinition[];
  shouldStop(): boolean;
}

/** Runs streams at most `STREAM_CONCURRENCY` at once, each after the streams it depends on. */
async function runStreams(deps: SyncDeps, logger: Logger, input: StreamRunInput): Promise<StreamOutcome[]> {
  const outcomes = new Map<StreamName, StreamOutcome>();
  const running = new Map<StreamName, Promise<void>>();
  const pending = [...input.streams];
  const selected = new Set(input.streams.map((stream) => stream.name));

  while (pending.length > 0 || running.size > 0) {
    const readyIndex = pending.findIndex((stream) => (stream.dependsOn ?? []).every((name) => !selected.has(name) || outcomes.has(name)));
    if (readyIndex >= 0 && running.size < STREAM_CONCURRENCY) {
      const [stream] = pending.splice(readyIndex, 1);
      if (!stream) continue;
      const task = runOneStream(deps, logger, input, stream, outcomes).then((outcome) => {
        outcomes.set(stream.name, outcome);
        running.delete(stream.name);
        deps.onStreamEnd?.(outcome);
      });
      running.set(stream.name, task);
      continue;
    }
    await Promise.race(running.values());
  }
  return input.streams.map((stream) => outcomes.get(stream.name)!);
}

async function runOneStream(
  deps: SyncDeps,
  parentLogger: Logger,
  input: StreamRunInput,
  stream: StreamDefinition,
  finished: ReadonlyMap<StreamName, StreamOutcome>,
): Promise<StreamOutcome> {
  const { db } = deps.database;
  const logger = parentLogger.child({ stream: stream.name });
  const progress = new StreamProgress(db, input.syncRunId, stream.name);
  const earlier = await progress.start();
  if (earlier?.status === 'succeeded') {
    logger.debug({ records: progress.records }, 'Stream skipped as read before the run was interrupted');
    return { name: stream.name, status: earlier.status, pages: progress.pages, records: progress.records, message: earlier.message };
  }

  const end = async (status: StreamOutcome['status'], message: string | null): Promise<StreamOutcome> => {
    await progress.finish(status, message);
    return { name: stream.name, status, pages: progress.pages, records: progress.records, message };
  };

  // After PagerDuty rejected the credentials, no other stream starts.
  if (input.shouldStop()) return end('failed', 'Not read: PagerDuty rejected the credentials, so the connection needs a reconnect.');

  const unmetDependency = (stream.dependsOn ?? []).map((name) => finished.get(name)).find((outcome) => outcome !== undefined && outcome.status === 'failed');
  if (unmetDependency) return end('failed', `Not read because the ${unmetDependency.name} stream did not complete.`);

  const reason = unavailabilityReason(stream, input.capabilities);
  if (reason !== null) {
    logger.debug({ reason }, 'Stream skipped as unavailable');
    return end('unavailable', reason);
  }

  let result;
  try {
    result = await stream.run({
      db,
      client: input.client,
      connectionId: input.connectionId,
      checkpoints: new CheckpointStore(db, input.connectionId),
      progress,
      logger,
      now: input.now,
      historyStart: new Date(input.now.getTime() - deps.config.syncHistoryDays * DAY_MS),
      kind: input.kind,
      capabilities: input.capabilities,
      pageConcurrency: PAGE_CONCURRENCY,
    });
  } catch (error) {
    // A stopped run leaves its checkpoints for the next one; anything else is a bug.
    if (deps.signal?.aborted) return end('failed', 'The sync was stopped before this stream finished; the next sync continues from its checkpoint.');
    throw error;
  }
  if (result.ok) return end('succeeded', result.value.message);
  return end(...streamFailure(result.error, logger));
}

/** Maps a stream's failed request to the stream's status and a message in plain words. */
function streamFailure(error: ApiError, logger: Logger): [StreamOutcome['status'], string] {
  const detail = describeApiError(error);
  switch (error.kind) {
    // The plan lacks the feature: expected on smaller plans, and other streams go on.
    case 'plan_gated':
      return ['unavailable', `Not on the PagerDuty plan (${detail}).`];
    // The token or person may not read it: expected for non-admin connections.
    case 'forbidden':
      return ['unavailable', `The connection may not read this (${detail}). Reconnect as a PagerDuty admin to include it.`];
    // The refresh already failed; the run ends as needing a reconnect.
    case 'unauthorized':
      return ['failed', `PagerDuty rejected the credentials (${detail}).`];
    // Faults that outlasted the retry budget: the next sync continues from the checkpoint.
    case 'rate_limited':
    case 'server':
    case 'network':
      logger.warn({ reason: detail }, 'Stream failed after retries; its checkpoint is kept');
      return ['failed', `PagerDuty did not answer reliably (${detail}). The next sync continues from where this one stopped.`];
    // The account has no such list, as when PagerDuty does not offer the endpoint to it.
    case 'not_found':
      return ['unavailable', `PagerDuty does not serve this list to the account (${detail}).`];
    // Requests PagerDuty rejects as invalid, or responses Seatwise cannot read, need a person to look.
    case 'invalid_request':
    case 'offset_cap':
    case 'invalid_response':
      logger.error({ reason: detail }, 'Stream failed');
      return ['failed', `${detail}. Contact support if this repeats.`];
    default: {
      const unreachable: never = error.kind;
      throw new Error(`Unknown API error kind ${String(unreachable)}`);
    }
  }
}

interface CredentialState {
  source: CredentialSource;
  /** The reason the connection needs a reconnect, once a refresh could not cure a 401. */
  needsReconnect(): string | null;
  temporaryFailure(): string | null;
}

/**
 * Creates the credential source of a run: the stored token, refreshed before expiry, and one
 * forced refresh after a 401. When that refresh fails the run records why, and every later
 * renewal returns null at once instead of calling the token endpoint again.
 */
function createCredentialSource(deps: SyncDeps, connectionId: string): CredentialState {
  const tokenDeps = { database: deps.database, vault: deps.vault, oauthClient: deps.oauthClient, logger: deps.logger };
  let reconnectReason: string | null = null;
  let temporaryReason: string | null = null;
  let current: PagerDutyCredential | null = null;
  // Requests in flight that all got a 401 share one renewal instead of each refreshing the token.
  let renewal: Promise<PagerDutyCredential | null> | null = null;

  const source: CredentialSource = {
    async current() {
      if (current !== null) return current;
      const result = await getAccessToken(tokenDeps, connectionId);
      if (result.ok) {
        current = result.value;
        return current;
      }
      recordFailure(result.error);
      // Requests then fail with a 401 from PagerDuty and the run ends through the usual path.
      return { kind: 'oauth', accessToken: 'unavailable' };
    },
    renew(rejected) {
      // A request that was sent before an earlier renewal finished uses its result.
      if (current !== null && !isSameCredential(current, rejected)) return Promise.resolve(current);
      renewal ??= renewOnce().finally(() => {
        renewal = null;
      });
      return renewal;
    },
  };

  async function renewOnce(): Promise<PagerDutyCredential | null> {
    if (reconnectReason !== null) return null;
    const rejected = current;
    const result = await getAccessToken(tokenDeps, connectionId, {
      forceRefresh: true,
      ...(rejected?.kind === 'oauth' ? { rejectedAccessToken: rejected.accessToken } : {}),
    });
    if (!result.ok) {
      recordFailure(result.error);
      return null;
    }
    // An API key that PagerDuty rejects stays rejected.
    if (result.value.kind === 'api_key') {
      reconnectReason = 'PagerDuty rejected the API key; it may have been deleted or disabled. Connect with a valid key.';
      return null;
    }
    if (rejected?.kind === 'oauth' && result.value.accessToken === rejected.accessToken) {
      reconnectReason = 'PagerDuty rejected the access token after a refresh; reconnect PagerDuty to restore access.';
      return null;
    }
    current = result.value;
    return current;
  }

  function recordFailure(failure: { kind: 'needs_reconnect' | 'temporary'; message: string }): void {
    if (failure.kind === 'needs_reconnect') reconnectReason ??= failure.message;
    else temporaryReason ??= failure.message;
  }

  return { source, needsReconnect: () => reconnectReason, temporaryFailure: () => temporaryReason };
}

function isSameCredential(left: PagerDutyCredential, right: PagerDutyCredential): boolean {
  if (left.kind === 'oauth' && right.kind === 'oauth') return left.accessToken === right.accessToken;
  if (left.kind === 'api_key' && right.kind === 'api_key') return left.apiKey === right.apiKey;
  return false;
}

interface ErrorEnd {
  connectionId: string;
  syncRunId: string;
  client: PagerDutyClient;
  auth: CredentialState;
  error: ApiError | null;
  streams: StreamOutcome[];
}

/** Ends a run that could not proceed: on an uncured 401 the connection needs a reconnect. */
async function endWithError(deps: SyncDeps, logger: Logger, end: ErrorEnd): Promise<SyncOutcome> {
  const { db } = deps.database;
  const reconnectReason = end.auth.needsReconnect() ?? (end.error?.kind === 'unauthorized' ? `PagerDuty rejected the connection's credentials (${describeApiError(end.error)}); reconnect PagerDuty.` : null);

  if (reconnectReason !== null) {
    await markNeedsReconnect(db, end.connectionId, reconnectReason);
    await finishRun(db, end.syncRunId, 'failed', end.client.requestCount, 'needs_reconnect', reconnectReason);
    logger.warn({ reason: reconnectReason }, 'Sync stopped: the connection needs a reconnect');
    return { syncRunId: end.syncRunId, status: 'needs_reconnect', streams: end.streams, requestCount: end.client.requestCount, errorMessage: reconnectReason, isRetryable: false };
  }

  const message = end.error
    ? `Could not read what the connection may access: ${describeApiError(end.error)}. The sync will be retried.`
    : (end.auth.temporaryFailure() ?? 'The sync failed; it will be retried.');
  await finishRun(db, end.syncRunId, 'failed', end.client.requestCount, 'probe_failed', message);
  logger.warn({ reason: message }, 'Sync failed');
  return { syncRunId: end.syncRunId, status: 'failed', streams: end.streams, requestCount: end.client.requestCount, errorMessage: message, isRetryable: true };
}

async function finishRun(db: Kysely<DB>, syncRunId: string, status: SyncRunStatus, requestCount: number, errorCode: string | null, errorMessage: string | null): Promise<void> {
  await db
    .updateTable('sync_runs')
    .set({ status, finished_at: new Date(), request_count: requestCount, error_code: errorCode, error_message: errorMessage })
    .where('id', '=', syncRunId)
    .execute();
}
