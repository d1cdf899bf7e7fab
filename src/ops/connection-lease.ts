import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';

/** How often a worker looks for sync jobs whose process died. */
const REAP_INTERVAL_MS = 10_000;
/**
 * Age a job must have in the `active` state before it may be reaped. A live worker takes its
 * lease right after fetching the job, so an active job older than this without a lease has
 * lost its process.
 */
const REAP_MIN_ACTIVE_SECONDS = 20;

const connectionIdSchema = z.uuid();

/**
 * Per-connection sync leases on PostgreSQL: a session-level advisory lock, held on one dedicated
 * connection of this process for as long as the sync runs. PostgreSQL drops the lock when that
 * session ends, so a killed worker's leases free themselves, and another worker's reaper can
 * tell a dead job (active in pg-boss, lease free) from a running one.
 * On PGlite every lease is granted at once and the reaper does nothing: one process owns the
 * embedded database, so the job queue recovers the jobs a killed process left `active` when it
 * starts (`recoverInterruptedJobs` in src/sync/queue.ts).
 */
export interface ConnectionLeases {
  /** Runs `task` while this process holds the connection's lease; null when another process holds it. */
  withLease<T>(connectionId: string, task: () => Promise<T>): Promise<{ value: T } | null>;
  /**
   * Starts looking, every 10 s, for active sync jobs whose lease is free, and hands each to
   * `failJob` so pg-boss retries it on a live worker.
   */
  startReaper(options: { queueName: string; failJob: (jobId: string) => Promise<void> }): void;
  close(): Promise<void>;
}

export function createConnectionLeases(options: { databaseUrl: string | null; logger: Logger }): ConnectionLeases {
  if (options.databaseUrl === null) return embeddedLeases();
  return postgresLeases(options.databaseUrl, options.logger);
}

function embeddedLeases(): ConnectionLeases {
  return {
    async withLease(_connectionId, task) {
      return { value: await task() };
    },
    startReaper() {},
    async close() {},
  };
}

function postgresLeases(databaseUrl: string, logger: Logger): ConnectionLeases {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'seatwise-leases' });
  let connecting: Promise<void> | null = null;
  let isClosed = false;
  let reaper: NodeJS.Timeout | null = null;
  /** Connections whose lease this process holds; the lock is re-entrant, so the reaper skips them. */
  const leasedConnections = new Set<string>();
  // One session runs its statements in order, so the lock calls need no queue of their own.
  client.on('error', (error) => logger.error({ err: error }, 'The sync lease connection failed; running syncs lose their leases'));

  const ready = (): Promise<void> => {
    connecting ??= client.connect().then(() => undefined);
    return connecting;
  };

  async function tryLock(connectionId: string): Promise<boolean> {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [leaseName(connectionId)]);
    return rows[0]?.locked === true;
  }

  async function unlock(connectionId: string): Promise<void> {
    await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [leaseName(connectionId)]);
  }

  async function reap(queueName: string, failJob: (jobId: string) => Promise<void>): Promise<void> {
    const { rows } = await client.query<{ id: string; singleton_key: string | null }>(
      `select id, singleton_key from pgboss.job where name = $1 and state = 'active' and started_on < now() - make_interval(secs => $2)`,
      [queueName, REAP_MIN_ACTIVE_SECONDS],
    );
    for (const job of rows) {
      const connectionId = connectionIdSchema.safeParse(job.singleton_key);
      if (!connectionId.success || leasedConnections.has(connectionId.data)) continue;
      if (!(await tryLock(connectionId.data))) continue;
      try {
        logger.warn({ jobId: job.id, connectionId: connectionId.data }, 'A sync job lost its worker; handing it back to the queue');
        await failJob(job.id);
      } finally {
        await unlock(connectionId.data);
      }
    }
  }

  return {
    async withLease(connectionId, task) {
      const id = connectionIdSchema.parse(connectionId);
      if (leasedConnections.has(id)) return null;
      await ready();
      if (!(await tryLock(id))) return null;
      leasedConnections.add(id);
      try {
        return { value: await task() };
      } finally {
        leasedConnections.delete(id);
        await unlock(id).catch((error: unknown) => logger.error({ err: error, connectionId: id }, 'Failed to release a sync lease; it ends with the session'));
      }
    },
    startReaper({ queueName, failJob }) {
      if (reaper !== null) return;
      let isReaping = false;
      reaper = setInterval(() => {
        if (isReaping || isClosed) return;
        isReaping = true;
        ready()
          .then(() => reap(queueName, failJob))
          .catch((error: unknown) => logger.error({ err: error }, 'Failed to look for sync jobs that lost their worker'))
          .finally(() => {
            isReaping = false;
          });
      }, REAP_INTERVAL_MS);
      reaper.unref();
    },
    async close() {
      isClosed = true;
      if (reaper !== null) clearInterval(reaper);
      if (connecting !== null) await client.end();
    },
  };
}

function leaseName(connectionId: string): string {
  return `seatwise:sync:${connectionId}`;
}
