import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../lib/logger.ts';

/**
 * Age a job must have in the `active` state before it may be reaped. A live worker takes its
 * lease right after fetching the job and then checks that the job is still its own, so reaping
 * a job in that gap costs a repeated fetch, never a second sync of the connection.
 */
const REAP_MIN_ACTIVE_SECONDS = 2;

const connectionIdSchema = z.uuid();

/** How often leases are confirmed and how long a silent worker keeps them. */
export interface LeaseTiming {
  /** Interval of the lease session's heartbeat and of the search for dead jobs. */
  heartbeatSeconds: number;
  /**
   * Silence after which PostgreSQL ends the lease session (`idle_session_timeout` and TCP
   * timeouts), so its advisory locks free themselves; at least twice `heartbeatSeconds`.
   */
  timeoutSeconds: number;
}

/** A sync job that is `active` in pg-boss while no worker holds its connection's lease. */
export interface DeadSyncJob {
  jobId: string;
  connectionId: string;
}

/** The lease a task runs under. */
export interface HeldLease {
  /**
   * Aborted when this process loses its lease session (heartbeat failed or timed out): another
   * worker may take the connection over, so the task must stop.
   */
  signal: AbortSignal;
}

/**
 * Per-connection sync leases on PostgreSQL: a session-level advisory lock, held on one dedicated
 * session of this process for as long as the sync runs. PostgreSQL drops the lock when that
 * session ends: at once when the process dies, and after `timeoutSeconds` of silence when its
 * host or network does. Another worker's reaper then distinguishes a dead job (active in pg-boss,
 * lease free) from a running one and hands it back.
 * On PGlite every lease is granted at once and the reaper does nothing: one process owns the
 * embedded database, so the job queue recovers the jobs a killed process left `active` when it
 * starts (`recoverInterruptedJobs` in src/sync/queue.ts).
 */
export interface ConnectionLeases {
  /**
   * Runs `task` while this process holds the connection's lease; null when another process holds
   * it. `isLost` is true when the lease session failed while the task ran.
   */
  withLease<T>(connectionId: string, task: (lease: HeldLease) => Promise<T>): Promise<{ value: T; isLost: boolean } | null>;
  /**
   * Starts looking, every heartbeat, for active sync jobs whose lease is free, and hands each to
   * `handBack` while holding its lease, so no worker starts the connection meanwhile.
   */
  startReaper(options: { queueName: string; handBack: (job: DeadSyncJob) => Promise<void> }): void;
  /** Ends the lease session, which releases every lease still held. */
  close(): Promise<void>;
}

export function createConnectionLeases(options: { databaseUrl: string | null; logger: Logger; timing: LeaseTiming }): ConnectionLeases {
  if (options.databaseUrl === null) return embeddedLeases();
  return postgresLeases(options.databaseUrl, options.logger, options.timing);
}

function embeddedLeases(): ConnectionLeases {
  const never = new AbortController().signal;
  return {
    async withLease(_connectionId, task) {
      return { value: await task({ signal: never }), isLost: false };
    },
    startReaper() {},
    async close() {},
  };
}

/** One PostgreSQL session that holds advisory locks; replaced by a new one once it fails. */
interface LeaseSession {
  client: pg.Client;
  ready: Promise<void>;
  /** Aborted when the session fails; every lease it held is gone with it. */
  lost: AbortController;
}

function postgresLeases(databaseUrl: string, logger: Logger, timing: LeaseTiming): ConnectionLeases {
  let session: LeaseSession | null = null;
  let isClosed = false;
  let heartbeat: NodeJS.Timeout | null = null;
  let reaper: { queueName: string; handBack: (job: DeadSyncJob) => Promise<void> } | null = null;
  /** Connections whose lease this process holds; the lock is re-entrant, so the reaper skips them. */
  const leasedConnections = new Set<string>();

  function openSession(): LeaseSession {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'seatwise-leases', keepAlive: true });
    const opened: LeaseSession = { client, lost: new AbortController(), ready: Promise.resolve() };
    // One session runs its statements in order, so the lock calls need no queue of their own.
    client.on('error', (error) => markLost(opened, error));
    client.on('end', () => markLost(opened, new Error('The lease session ended')));
    opened.ready = client.connect().then(() => client.query(sessionSettings(timing))).then(() => undefined);
    opened.ready.catch((error: unknown) => markLost(opened, error));
    return opened;
  }

  function markLost(lost: LeaseSession, error: unknown): void {
    if (lost.lost.signal.aborted) return;
    lost.lost.abort(error);
    if (session === lost) session = null;
    void lost.client.end().catch(() => undefined);
    if (!isClosed) logger.error({ err: error }, 'The sync lease session failed; syncs holding its leases stop and other workers take them over');
  }

  function currentSession(): LeaseSession {
    session ??= openSession();
    ensureHeartbeat();
    return session;
  }

  function ensureHeartbeat(): void {
    if (heartbeat !== null) return;
    let isBeating = false;
    heartbeat = setInterval(() => {
      if (isBeating || isClosed) return;
      isBeating = true;
      beat()
        .catch((error: unknown) => logger.error({ err: error }, 'Failed to look for sync jobs that lost their worker'))
        .finally(() => {
          isBeating = false;
        });
    }, timing.heartbeatSeconds * 1000);
    heartbeat.unref();
  }

  /** Confirms the session within its deadline, then reaps. */
  async function beat(): Promise<void> {
    const active = session ?? (reaper !== null ? currentSession() : null);
    if (active === null) return;
    const alive = await confirmSession(active);
    if (!alive || reaper === null) return;
    await reap(active, reaper.queueName, reaper.handBack);
  }

  /**
   * Sends the heartbeat. PostgreSQL ends the session `timeoutSeconds` after the previous one
   * reached it, so a response later than `timeoutSeconds - heartbeatSeconds` may come from a
   * session whose locks are already gone. The leases count as lost then.
   */
  async function confirmSession(active: LeaseSession): Promise<boolean> {
    const deadlineMs = (timing.timeoutSeconds - timing.heartbeatSeconds) * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(() => resolve('timed out'), deadlineMs);
    });
    try {
      const response = await Promise.race([active.ready.then(() => active.client.query('select 1')), timedOut]);
      if (response === 'timed out') {
        markLost(active, new Error(`The lease heartbeat timed out: no response within ${deadlineMs} ms`));
        return false;
      }
      return true;
    } catch (error) {
      markLost(active, error);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function tryLock(active: LeaseSession, connectionId: string): Promise<boolean> {
    await active.ready;
    const { rows } = await active.client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [leaseName(connectionId)]);
    return rows[0]?.locked === true;
  }

  async function unlock(active: LeaseSession, connectionId: string): Promise<void> {
    // A lost session took its locks with it.
    if (active.lost.signal.aborted) return;
    await active.client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [leaseName(connectionId)]);
  }

  async function reap(active: LeaseSession, queueName: string, handBack: (job: DeadSyncJob) => Promise<void>): Promise<void> {
    const { rows } = await active.client.query<{ id: string; singleton_key: string | null }>(
      `select id, singleton_key from pgboss.job where name = $1 and state = 'active' and started_on < now() - make_interval(secs => $2)`,
      [queueName, REAP_MIN_ACTIVE_SECONDS],
    );
    for (const job of rows) {
      const connectionId = connectionIdSchema.safeParse(job.singleton_key);
      if (!connectionId.success || leasedConnections.has(connectionId.data)) continue;
      if (!(await tryLock(active, connectionId.data))) continue;
      try {
        logger.warn({ jobId: job.id, connectionId: connectionId.data }, 'A sync job lost its worker; handing it back to the queue');
        await handBack({ jobId: job.id, connectionId: connectionId.data });
      } finally {
        await unlock(active, connectionId.data);
      }
    }
  }

  return {
    async withLease(connectionId, task) {
      const id = connectionIdSchema.parse(connectionId);
      if (isClosed) throw new Error(`Cannot lease connection ${id}: the leases are closed`);
      if (leasedConnections.has(id)) return null;
      const active = currentSession();
      if (!(await tryLock(active, id))) return null;
      leasedConnections.add(id);
      try {
        const value = await task({ signal: active.lost.signal });
        return { value, isLost: active.lost.signal.aborted };
      } finally {
        leasedConnections.delete(id);
        await unlock(active, id).catch((error: unknown) => logger.error({ err: error, connectionId: id }, 'Failed to release a sync lease; it ends with the session'));
      }
    },
    startReaper(options) {
      reaper = options;
      ensureHeartbeat();
    },
    async close() {
      isClosed = true;
      if (heartbeat !== null) clearInterval(heartbeat);
      // A clean stop has released every lease by now; any left are freed by ending the session.
      logger.info({ heldLeases: leasedConnections.size }, 'Closing the sync lease session');
      const closing = session;
      session = null;
      if (closing === null) return;
      closing.lost.abort(new Error('The leases are closed'));
      await closing.client.end().catch(() => undefined);
    },
  };
}

/**
 * Makes PostgreSQL end the lease session, and so free its locks, once the worker falls silent:
 * `idle_session_timeout` (PostgreSQL 14+) covers a stalled process, the TCP settings a lost host.
 */
function sessionSettings(timing: LeaseTiming): string {
  const timeoutMs = timing.timeoutSeconds * 1000;
  const probeSeconds = Math.max(1, Math.floor(timing.timeoutSeconds / 3));
  return [
    `set idle_session_timeout = ${timeoutMs}`,
    `set tcp_keepalives_idle = ${probeSeconds}`,
    `set tcp_keepalives_interval = ${probeSeconds}`,
    `set tcp_keepalives_count = 2`,
    `set tcp_user_timeout = ${timeoutMs}`,
  ].join('; ');
}

function leaseName(connectionId: string): string {
  return `seatwise:sync:${connectionId}`;
}
