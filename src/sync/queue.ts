import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import type { Config } from '../config/env.ts';
import { keepAliveRefresh } from '../connections/refresh.ts';
import type { Vault } from '../connections/vault.ts';
import type { OAuthClient } from '../connectors/pagerduty/oauth.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../lib/logger.ts';
import { createConnectionLeases } from '../ops/connection-lease.ts';
import { withQueueSetupLock } from '../ops/startup-lock.ts';
import { runSync, type SyncDeps, type SyncOutcome } from './run-sync.ts';
import { FULL_SYNC_CRON, INCREMENTAL_SYNC_CRON, SYNC_SCHEDULE_TIME_ZONE } from './schedule.ts';
import { isUniqueViolation, startSyncSlots, type FetchedJob, type SyncSlots } from './sync-slots.ts';

export type SyncTrigger = 'connect' | 'manual' | 'schedule';

/**
 * The job catalogue: each job's name, payload schema, timeout and retry policy in one place.
 * `sync` runs one connection's sync; at most one is queued and one running per connection
 * (pg-boss's `stately` policy keyed by connection). A failed sync keeps its checkpoints and is
 * retried with backoff. A sync whose worker stopped or died goes back to the queue at once and
 * continues from its checkpoints, spending one retry. `sync-schedule` enqueues a sync of every
 * connected account: incremental hourly, full daily. `token-keep-alive` refreshes unused OAuth refresh tokens daily so they do
 * not lapse.
 */
export const JOBS = {
  sync: {
    name: 'sync',
    payload: z.object({ connectionId: z.uuid(), syncRunId: z.uuid() }),
    options: { policy: 'stately', retryLimit: 3, retryDelay: 60, retryBackoff: true, expireInSeconds: 2 * 60 * 60 },
  },
  /** Hourly incremental runs read what changed since the high-water marks. */
  incrementalSyncSchedule: {
    name: 'sync-schedule-incremental',
    payload: z.object({ kind: z.enum(['full', 'incremental']) }),
    options: { policy: 'singleton', retryLimit: 0, expireInSeconds: 10 * 60 },
    cron: INCREMENTAL_SYNC_CRON,
    kind: 'incremental',
  },
  /** The daily full run also re-reads the roster lists, which have no updated-since filter. */
  fullSyncSchedule: {
    name: 'sync-schedule-full',
    payload: z.object({ kind: z.enum(['full', 'incremental']) }),
    options: { policy: 'singleton', retryLimit: 0, expireInSeconds: 10 * 60 },
    cron: FULL_SYNC_CRON,
    kind: 'full',
  },
  tokenKeepAlive: {
    name: 'token-keep-alive',
    payload: z.object({}).loose(),
    options: { policy: 'singleton', retryLimit: 2, retryDelay: 300, expireInSeconds: 10 * 60 },
    cron: '17 3 * * *',
  },
} as const;

/** Jobs of the schedule and keep-alive queues fetched at once; syncs use `SYNC_WORKER_CONCURRENCY` slots. */
const WORKER_BATCH_SIZE = 8;
const POLLING_INTERVAL_SECONDS = 1;
const STOP_TIMEOUT_MS = 10_000;
/**
 * Connections a scheduled round enqueues per statement. One by one, a round of 1,000 took about
 * two minutes on a loaded 2-core machine while the worker's syncs held the database pool.
 */
const SCHEDULE_CHUNK_SIZE = 250;
const INTERRUPTED_JOB_MESSAGE = 'The worker running this sync stopped without finishing it';
/**
 * pg-boss fetches higher priorities first. First syncs and "Sync now" go ahead of the hourly and
 * daily runs, so a person waiting on the card is not queued behind a thousand scheduled syncs.
 */
const INTERACTIVE_SYNC_PRIORITY = 10;
const SCHEDULED_SYNC_PRIORITY = 0;

export interface JobQueueDeps {
  database: Database;
  logger: Logger;
  config: Config;
  /** The PostgreSQL URL pg-boss connects with; defaults to DATABASE_URL. */
  databaseUrl?: string;
  vault: Vault;
  /** The OAuth app that refreshes tokens; absent or null when only API-key connections exist. */
  pagerduty?: { clientId: string; clientSecret: string; identityUrl: string } | null;
  /** Overrides for the sync runner, for tests (clock, crunch, retry policy). */
  sync?: Partial<Pick<SyncDeps, 'crunch' | 'now' | 'retry' | 'maxInFlight'>>;
  /** Called after every sync job, for tests and metrics. */
  onSyncFinished?: (outcome: SyncOutcome) => void;
}

export interface JobQueue {
  start(options: { runWorker: boolean }): Promise<void>;
  /** Creates the `queued` sync run, then its job; returns the run id (an existing queued run's, if any). */
  enqueueSync(connectionId: string, trigger: SyncTrigger): Promise<string>;
  /** Enqueues one scheduled round now, as the hourly and daily schedule jobs do. */
  enqueueScheduledRound(kind: 'full' | 'incremental'): Promise<void>;
  stop(): Promise<void>;
}

export function createJobQueue(deps: JobQueueDeps): JobQueue {
  const { database, logger } = deps;
  const boss =
    database.kind === 'postgres'
      ? new PgBoss({ connectionString: requireDatabaseUrl(deps), schedule: true })
      : new PgBoss({ db: { executeSql: (text, values) => database.query(text, values) }, schedule: true });
  boss.on('error', (error) => logger.error({ err: error }, 'Job queue error'));
  // Guards against two processes syncing one connection, as when a job outlives its expiry.
  const leases = createConnectionLeases({
    databaseUrl: database.kind === 'postgres' ? requireDatabaseUrl(deps) : null,
    logger,
    timing: { heartbeatSeconds: deps.config.syncWorker.leaseHeartbeatSeconds, timeoutSeconds: deps.config.syncWorker.leaseTimeoutSeconds },
  });

  const abort = new AbortController();
  let isStarted = false;
  let syncSlots: SyncSlots | null = null;

  const syncDeps: SyncDeps = {
    database,
    vault: deps.vault,
    logger,
    config: { syncHistoryDays: deps.config.syncHistoryDays },
    oauthClient: oauthClientOf(deps),
    signal: abort.signal,
    ...deps.sync,
  };

  function enqueueSync(connectionId: string, trigger: SyncTrigger): Promise<string> {
    return enqueueSyncOfKind(connectionId, trigger, null);
  }

  /** `kind` null lets the trigger decide: scheduled runs are incremental, others full. */
  async function enqueueSyncOfKind(connectionId: string, trigger: SyncTrigger, requestedKind: 'full' | 'incremental' | null): Promise<string> {
    const { db } = database;
    const connection = await db.selectFrom('connections').select(['organization_id', 'last_sync_at']).where('id', '=', connectionId).executeTakeFirst();
    if (!connection) throw new Error(`Cannot enqueue a sync of connection ${connectionId}: it does not exist`);

    // A scheduled run reads only what changed; a first, connect or manual run re-reads every roster list.
    const kind = connection.last_sync_at === null ? 'full' : (requestedKind ?? (trigger === 'schedule' ? 'incremental' : 'full'));

    const queued = await db.selectFrom('sync_runs').select(['id', 'trigger']).where('connection_id', '=', connectionId).where('status', '=', 'queued').orderBy('created_at', 'desc').executeTakeFirst();
    if (queued) {
      if (trigger !== 'schedule' && queued.trigger === 'schedule') await promoteQueuedRun(queued.id, trigger, kind);
      return queued.id;
    }

    const run = await db
      .insertInto('sync_runs')
      .values({ organization_id: connection.organization_id, connection_id: connectionId, kind, status: 'queued', trigger })
      .returning('id')
      .executeTakeFirstOrThrow();

    const priority = syncPriority(trigger, connection.last_sync_at);
    const jobId = await boss.send(JOBS.sync.name, { connectionId, syncRunId: run.id }, { singletonKey: connectionId, priority });
    if (jobId === null) {
      // Another job of this connection was queued after the check above, so that run is kept.
      await db.deleteFrom('sync_runs').where('id', '=', run.id).execute();
      const existing = await db.selectFrom('sync_runs').select('id').where('connection_id', '=', connectionId).where('status', 'in', ['queued', 'running']).orderBy('created_at', 'desc').executeTakeFirst();
      if (existing) return existing.id;
      throw new Error(`Could not enqueue a sync of connection ${connectionId}: the queue rejected the job and no run is pending`);
    }
    logger.info({ connectionId, syncRunId: run.id, trigger, kind }, 'Sync queued');
    return run.id;
  }

  /**
   * Turns a queued scheduled run into the interactive one a person just requested: its kind and
   * trigger change and its job moves to the interactive priority, so "Sync now" pressed during a
   * scheduled round does not wait behind the round.
   * NOTE: pg-boss 10 has no call that changes a job's priority, so this updates its `job` table.
   */
  async function promoteQueuedRun(syncRunId: string, trigger: SyncTrigger, kind: 'full' | 'incremental'): Promise<void> {
    await database.db.updateTable('sync_runs').set({ trigger, kind }).where('id', '=', syncRunId).where('status', '=', 'queued').execute();
    await database.query(`update pgboss.job set priority = $1 where name = $2 and state < 'active' and data->>'syncRunId' = $3`, [INTERACTIVE_SYNC_PRIORITY, JOBS.sync.name, syncRunId]);
    logger.info({ syncRunId, trigger, kind }, 'Queued scheduled sync promoted to an interactive one');
  }

  /**
   * Runs one fetched sync job under its connection's lease and settles it while still holding the
   * lease: complete when done, fail (pg-boss retries with backoff) on a retryable failure, and
   * hand back at once when this worker stops, so another worker continues from the checkpoints.
   */
  async function runSyncJob(job: FetchedJob): Promise<void> {
    const payload = JOBS.sync.payload.safeParse(job.data);
    if (!payload.success) {
      logger.error({ jobId: job.id, problem: payload.error.issues[0]?.message }, 'Dropped a sync job with an invalid payload');
      await boss.complete(JOBS.sync.name, job.id);
      return;
    }
    const { connectionId, syncRunId } = payload.data;

    const leased = await leases.withLease(connectionId, async (lease) => {
      // The reaper may have handed the job back between the fetch and the lease.
      if (!(await isJobStillOurs(job))) return 'handed back' as const;
      // A job fetched while this worker began to stop goes back untouched.
      if (abort.signal.aborted) {
        await handBackSyncJob(job.id, 'The worker stopped before this sync started');
        return 'settled' as const;
      }
      let outcome: SyncOutcome | null = null;
      let failure: unknown = null;
      try {
        outcome = await runSync({ ...syncDeps, signal: AbortSignal.any([abort.signal, lease.signal]) }, payload.data);
        deps.onSyncFinished?.(outcome);
      } catch (error) {
        failure = error;
      }
      // Without its lease the job may already run elsewhere; the reaper of a live worker settles it.
      if (lease.signal.aborted) return 'lease lost' as const;
      if (outcome !== null) {
        await settleSyncJob(job.id, outcome);
        return 'settled' as const;
      }
      await settleThrownSync(job.id, syncRunId, failure);
      return 'settled' as const;
    });

    if (leased === null) {
      await boss.fail(JOBS.sync.name, job.id, { message: `Sync ${syncRunId} postponed: another worker is syncing connection ${connectionId}` });
      return;
    }
    if (leased.value === 'handed back') logger.info({ jobId: job.id, connectionId, syncRunId }, 'Skipped a sync job handed back before it started');
    if (leased.value === 'lease lost') logger.warn({ jobId: job.id, connectionId, syncRunId }, 'Stopped a sync that lost its lease; another worker continues it');
  }

  /** Checks that the job is still active under this fetch, because a re-fetch raises pg-boss's retry count. */
  async function isJobStillOurs(job: FetchedJob): Promise<boolean> {
    const { rows } = await database.query(`select 1 from pgboss.job where name = $1 and id = $2 and state = 'active' and retry_count = $3`, [JOBS.sync.name, job.id, job.retryCount]);
    return rows.length > 0;
  }

  /** Settles a job whose sync threw instead of returning an outcome, as an abort can make it. */
  async function settleThrownSync(jobId: string, syncRunId: string, error: unknown): Promise<void> {
    if (abort.signal.aborted) {
      await handBackSyncJob(jobId, 'The worker running this sync stopped before it finished');
      return;
    }
    logger.error({ err: error, jobId, syncRunId }, 'Sync failed with an unexpected error; the job queue retries it');
    await boss.fail(JOBS.sync.name, jobId, { message: `Sync ${syncRunId} failed: ${error instanceof Error ? error.message : String(error)}` });
  }

  async function settleSyncJob(jobId: string, outcome: SyncOutcome): Promise<void> {
    if (outcome.status === 'succeeded') {
      await boss.complete(JOBS.sync.name, jobId);
      return;
    }
    // A run cut short by a stopping worker goes back at once, so another worker finishes it.
    if (abort.signal.aborted) {
      await handBackSyncJob(jobId, 'The worker running this sync stopped before it finished');
      return;
    }
    // pg-boss retries a failed job with backoff; the checkpoints stay.
    if (outcome.isRetryable) {
      await boss.fail(JOBS.sync.name, jobId, { message: `Sync ${outcome.syncRunId} ended ${outcome.status}: ${outcome.errorMessage ?? 'no message'}` });
      return;
    }
    await boss.complete(JOBS.sync.name, jobId);
  }

  /**
   * Puts an active sync job back in the queue at once. The caller must hold the connection's lease.
   * Cancel and resume make the job `created` without pg-boss's retry delay. Its next fetch still
   * raises the retry count, and a job out of retries is failed instead. pg-boss's `stately`
   * policy allows one queued job per connection, so when another one already waits, that job does
   * the work and this job's run is marked interrupted.
   */
  async function handBackSyncJob(jobId: string, reason: string): Promise<void> {
    const { rows } = await database.query(`select state::text as state, retry_count, retry_limit, data from pgboss.job where name = $1 and id = $2`, [JOBS.sync.name, jobId]);
    const job = rows[0] === undefined ? null : handBackRow.parse(rows[0]);
    if (job === null || job.state !== 'active') return;
    const syncRunId = JOBS.sync.payload.safeParse(job.data).data?.syncRunId ?? null;

    if (job.retry_count >= job.retry_limit) {
      await boss.fail(JOBS.sync.name, jobId, { message: reason });
      await markRunInterrupted(syncRunId, `${reason}; it ran out of retries. Sync again to continue from its checkpoint.`);
      return;
    }
    await boss.cancel(JOBS.sync.name, jobId);
    try {
      await boss.resume(JOBS.sync.name, jobId);
      logger.info({ jobId, syncRunId, reason }, 'Sync job handed back to the queue');
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await markRunInterrupted(syncRunId, INTERRUPTED_RUN_MESSAGE);
      logger.info({ jobId, syncRunId, reason }, 'Sync job cancelled: a queued job of the connection continues its work');
    }
  }

  async function markRunInterrupted(syncRunId: string | null, message: string): Promise<void> {
    if (syncRunId === null) return;
    await database.db
      .updateTable('sync_runs')
      .set({ status: 'failed', finished_at: new Date(), error_code: 'interrupted', error_message: message })
      .where('id', '=', syncRunId)
      .where('status', 'in', ['queued', 'running'])
      .execute();
  }

  async function handleSchedule(jobs: PgBoss.Job<unknown>[]): Promise<void> {
    for (const job of jobs) {
      const payload = JOBS.incrementalSyncSchedule.payload.safeParse(job.data);
      const kind = payload.success ? payload.data.kind : 'incremental';
      await enqueueScheduledRound(kind);
    }
  }

  /**
   * Enqueues a scheduled sync of every connected account that has none queued, in chunks: one
   * statement inserts a chunk's runs and one its jobs. A job the `stately` policy rejects, because
   * a sync of that connection was queued meanwhile, has its run deleted again.
   */
  async function enqueueScheduledRound(requestedKind: 'full' | 'incremental'): Promise<void> {
    const { db } = database;
    const connections = await db
      .selectFrom('connections')
      .select(['id', 'organization_id', 'last_sync_at'])
      .where('status', '=', 'connected')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('sync_runs').select('sync_runs.id').whereRef('sync_runs.connection_id', '=', 'connections.id').where('sync_runs.status', '=', 'queued'))),
      )
      .execute();

    let queued = 0;
    for (let start = 0; start < connections.length; start += SCHEDULE_CHUNK_SIZE) {
      const chunk = connections.slice(start, start + SCHEDULE_CHUNK_SIZE);
      const runs = await db
        .insertInto('sync_runs')
        .values(
          chunk.map((connection) => ({
            organization_id: connection.organization_id,
            connection_id: connection.id,
            kind: connection.last_sync_at === null ? ('full' as const) : requestedKind,
            status: 'queued' as const,
            trigger: 'schedule' as const,
          })),
        )
        .returning(['id', 'connection_id'])
        .execute();
      const lastSyncAt = new Map(chunk.map((connection) => [connection.id, connection.last_sync_at]));
      const jobs = runs.map((run) => ({
        id: randomUUID(),
        name: JOBS.sync.name,
        data: { connectionId: run.connection_id, syncRunId: run.id },
        singletonKey: run.connection_id,
        priority: syncPriority('schedule', lastSyncAt.get(run.connection_id) ?? null),
      }));
      await boss.insert(jobs);

      const { rows } = await database.query(`select id::text as id from pgboss.job where name = $1 and id = any($2::uuid[])`, [JOBS.sync.name, jobs.map((job) => job.id)]);
      const inserted = new Set(rows.map((row) => String((row as { id: unknown }).id)));
      const rejectedRunIds = jobs.filter((job) => !inserted.has(job.id)).map((job) => job.data.syncRunId);
      if (rejectedRunIds.length > 0) await db.deleteFrom('sync_runs').where('id', 'in', rejectedRunIds).execute();
      queued += jobs.length - rejectedRunIds.length;
    }
    logger.info({ kind: requestedKind, queued, connections: connections.length }, 'Scheduled syncs queued');
  }

  async function handleKeepAlive(): Promise<void> {
    const connections = await database.db.selectFrom('connections').select('id').where('status', '=', 'connected').where('method', '!=', 'api_key').execute();
    const tokenDeps = { database, vault: deps.vault, oauthClient: oauthClientOf(deps), logger };
    for (const connection of connections) {
      const result = await keepAliveRefresh(tokenDeps, connection.id);
      if (!result.ok) logger.warn({ connectionId: connection.id, reason: result.error.message }, 'Keep-alive token refresh failed');
    }
  }

  return {
    async start({ runWorker }) {
      await boss.start();
      isStarted = true;
      await withQueueSetupLock(database, async () => {
        for (const job of [JOBS.sync, JOBS.incrementalSyncSchedule, JOBS.fullSyncSchedule, JOBS.tokenKeepAlive]) {
          await boss.createQueue(job.name, { name: job.name, ...job.options });
        }
      });
      if (!runWorker) return;
      // One process owns an embedded database, so a job it finds active was left by a killed process.
      if (database.kind === 'pglite') await recoverInterruptedJobs(boss, database, logger);

      for (const schedule of [JOBS.incrementalSyncSchedule, JOBS.fullSyncSchedule]) {
        await boss.schedule(schedule.name, schedule.cron, { kind: schedule.kind }, { tz: SYNC_SCHEDULE_TIME_ZONE });
      }
      await boss.schedule(JOBS.tokenKeepAlive.name, JOBS.tokenKeepAlive.cron, {});
      const workOptions = { batchSize: WORKER_BATCH_SIZE, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS };
      syncSlots = startSyncSlots({
        database,
        queueName: JOBS.sync.name,
        concurrency: deps.config.syncWorker.concurrency,
        pollingIntervalMs: POLLING_INTERVAL_SECONDS * 1000,
        logger,
        runJob: runSyncJob,
      });
      await boss.work(JOBS.incrementalSyncSchedule.name, workOptions, handleSchedule);
      await boss.work(JOBS.fullSyncSchedule.name, workOptions, handleSchedule);
      await boss.work(JOBS.tokenKeepAlive.name, workOptions, handleKeepAlive);
      leases.startReaper({
        queueName: JOBS.sync.name,
        handBack: async ({ jobId }) => {
          // The attempt ends as interrupted with its checkpoints kept; the handed-back job resumes the run.
          await endInterruptedRun(database, jobId);
          await handBackSyncJob(jobId, INTERRUPTED_JOB_MESSAGE);
        },
      });
      logger.info({ concurrency: deps.config.syncWorker.concurrency }, 'Sync worker started');
    },
    enqueueSync,
    enqueueScheduledRound,
    async stop() {
      if (!isStarted) return;
      isStarted = false;
      // Running syncs stop at their next request, checkpoint and go back to the queue under their leases.
      abort.abort(new Error('The job queue is stopping'));
      await syncSlots?.drain();
      await boss.stop({ graceful: true, wait: true, timeout: STOP_TIMEOUT_MS });
      await leases.close();
    },
  };
}

/** Shown on a sync run that a stopped process left `running` or `queued` without a job. */
export const INTERRUPTED_RUN_MESSAGE = 'Seatwise stopped during this sync; it continues from its checkpoint';

export interface RecoveredJobs {
  /** Sync jobs put back in the queue at once; their runs continue from the stream checkpoints. */
  resumedSyncJobs: string[];
  /** Sync jobs cancelled because another job of the same connection is already waiting. */
  cancelledSyncJobs: string[];
  /** Jobs of other queues handed to pg-boss's retry policy. */
  failedJobs: string[];
  /** Runs marked failed because no job remains to finish them. */
  failedRuns: string[];
}

const jobDataRow = z.object({ data: z.unknown() });

/**
 * Ends the attempt of a sync job whose worker died, while the caller holds the connection's lease.
 * The run goes back to `queued` with the code `interrupted` and the attempt's end time, because
 * pg-boss retries the job. Its stream checkpoints stay, so the retry continues the same run.
 */
export async function endInterruptedRun(database: Database, jobId: string): Promise<string | null> {
  const { rows } = await database.query(`select data from pgboss.job where name = $1 and id = $2`, [JOBS.sync.name, jobId]);
  const row = rows[0] === undefined ? null : jobDataRow.parse(rows[0]);
  const payload = JOBS.sync.payload.safeParse(row?.data);
  if (!payload.success) return null;
  await database.db
    .updateTable('sync_runs')
    .set({ status: 'queued', finished_at: new Date(), error_code: 'interrupted', error_message: INTERRUPTED_RUN_MESSAGE })
    .where('id', '=', payload.data.syncRunId)
    .where('status', '=', 'running')
    .execute();
  return payload.data.syncRunId;
}

const handBackRow = z.object({ state: z.string(), retry_count: z.coerce.number(), retry_limit: z.coerce.number(), data: z.unknown() });
const pendingJobRow = z.object({ id: z.string(), name: z.string(), state: z.string(), singleton_key: z.string().nullable(), data: z.unknown() });

/**
 * Recovers the work of a process that stopped without finishing it, on a database that only
 * this process uses (PGlite): every `active` job is dead. A dead sync job is cancelled and
 * resumed, which puts it back as `created` without spending a retry. When another job of the
 * same connection already waits, the dead job stays cancelled and the waiting one does the
 * work, because pg-boss's `stately` policy allows one job per state and connection. Dead jobs
 * of other queues are failed, so their own retry policy applies. Last, every `running` or
 * `queued` run without a pending job is marked failed. Must run before the workers start.
 */
export async function recoverInterruptedJobs(boss: PgBoss, database: Database, logger: Logger): Promise<RecoveredJobs> {
  const recovered: RecoveredJobs = { resumedSyncJobs: [], cancelledSyncJobs: [], failedJobs: [], failedRuns: [] };
  // pg-boss 10 has no call that lists jobs by state, so this reads its table; changes go through its API.
  const { rows } = await database.query(`select id::text as id, name, state::text as state, singleton_key, data from pgboss.job where state in ('created', 'retry', 'active')`);
  const jobs = rows.map((row) => pendingJobRow.parse(row));
  const waitingKeys = new Set(jobs.filter((job) => job.name === JOBS.sync.name && job.state !== 'active').map((job) => job.singleton_key));

  for (const job of jobs.filter((candidate) => candidate.state === 'active')) {
    if (job.name !== JOBS.sync.name) {
      await boss.fail(job.name, job.id, { message: 'Seatwise stopped while this job ran' });
      recovered.failedJobs.push(job.id);
      continue;
    }
    await boss.cancel(job.name, job.id);
    if (waitingKeys.has(job.singleton_key)) {
      recovered.cancelledSyncJobs.push(job.id);
      continue;
    }
    await boss.resume(job.name, job.id);
    recovered.resumedSyncJobs.push(job.id);
  }

  const liveRunIds = new Set<string>();
  for (const job of jobs) {
    if (job.name !== JOBS.sync.name || recovered.cancelledSyncJobs.includes(job.id)) continue;
    const payload = JOBS.sync.payload.safeParse(job.data);
    if (payload.success) liveRunIds.add(payload.data.syncRunId);
  }
  const unfinished = await database.db.selectFrom('sync_runs').select(['id', 'connection_id']).where('status', 'in', ['queued', 'running']).execute();
  const orphaned = unfinished.filter((run) => !liveRunIds.has(run.id)).map((run) => run.id);
  if (orphaned.length > 0) {
    await database.db
      .updateTable('sync_runs')
      .set({ status: 'failed', finished_at: new Date(), error_code: 'interrupted', error_message: INTERRUPTED_RUN_MESSAGE })
      .where('id', 'in', orphaned)
      .execute();
  }
  recovered.failedRuns = orphaned;

  const count = recovered.resumedSyncJobs.length + recovered.cancelledSyncJobs.length + recovered.failedJobs.length + recovered.failedRuns.length;
  if (count > 0) logger.warn(recovered, 'Recovered the jobs and sync runs of a Seatwise process that stopped without finishing them');
  return recovered;
}

/** First syncs and every trigger but the schedule go ahead of scheduled syncs. */
function syncPriority(trigger: SyncTrigger, lastSyncAt: Date | null): number {
  return trigger === 'schedule' && lastSyncAt !== null ? SCHEDULED_SYNC_PRIORITY : INTERACTIVE_SYNC_PRIORITY;
}

function oauthClientOf(deps: JobQueueDeps): OAuthClient | null {
  const pagerduty = deps.pagerduty;
  if (!pagerduty) return null;
  return { clientId: pagerduty.clientId, clientSecret: pagerduty.clientSecret, identityUrl: pagerduty.identityUrl };
}

function requireDatabaseUrl(deps: JobQueueDeps): string {
  const url = deps.databaseUrl ?? deps.config.databaseUrl;
  if (!url) throw new Error('The job queue on PostgreSQL needs DATABASE_URL');
  return url;
}
