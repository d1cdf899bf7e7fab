import { z } from 'zod';
import type { Database } from '../db/database.ts';
import type { Logger } from '../lib/logger.ts';

/** Back-off after a failed fetch, so a database outage does not turn into a busy loop. */
const FETCH_ERROR_DELAY_MS = 5_000;
/** Back-off after two workers raced for jobs of one connection; the loser simply fetches again. */
const FETCH_RACE_DELAY_MS = 50;
/** SQLSTATE of a unique violation. */
const UNIQUE_VIOLATION = '23505';

/** A job taken from the queue: now `active`, with the retry count this fetch gave it. */
export interface FetchedJob {
  id: string;
  data: unknown;
  retryCount: number;
}

const fetchedJobRow = z.object({ id: z.string(), data: z.unknown(), retry_count: z.coerce.number() });

/**
 * Takes up to `$2` jobs of queue `$1` the way pg-boss 10.4's fetch does: highest priority, then
 * oldest, `retry` jobs once their delay passed, and the retry count raised on a re-fetch. Unlike
 * it, this skips a job whose singleton key already has an active job and takes one job per key.
 * pg-boss's own fetch would try to activate such a job, hit the `stately` policy's unique index
 * and return no job at all, so one long sync with a queued successor stalled the whole queue.
 * NOTE: this statement depends on pg-boss 10's `job` table; recheck it when upgrading pg-boss.
 */
const FETCH_UNBLOCKED_JOBS = `
  with candidates as (
    select job.id, job.singleton_key, job.priority, job.created_on
    from pgboss.job as job
    where job.name = $1
      and job.state < 'active'
      and job.start_after < now()
      and not exists (
        select 1 from pgboss.job as busy
        where busy.name = job.name and busy.state = 'active' and busy.singleton_key = job.singleton_key
      )
    order by job.priority desc, job.created_on, job.id
    limit $2
    for update skip locked
  ), one_per_key as (
    select distinct on (coalesce(singleton_key, id::text)) id
    from candidates
    order by coalesce(singleton_key, id::text), priority desc, created_on, id
  )
  update pgboss.job as job set
    state = 'active',
    started_on = now(),
    retry_count = case when job.started_on is not null then job.retry_count + 1 else job.retry_count end
  from one_per_key
  where job.name = $1 and job.id = one_per_key.id
  returning job.id::text as id, job.data, job.retry_count`;

export interface SyncSlotsOptions {
  database: Database;
  queueName: string;
  /** Jobs run at once; a fetch requests exactly the free slots. */
  concurrency: number;
  /** Wait between fetches while the queue is empty. */
  pollingIntervalMs: number;
  logger: Logger;
  /** Runs one job and settles it in pg-boss itself (complete, fail or hand back). */
  runJob: (job: FetchedJob) => Promise<void>;
}

export interface SyncSlots {
  /** Jobs running now. */
  readonly runningCount: number;
  /** Stops fetching and resolves once every running job has settled. */
  drain(): Promise<void>;
}

/**
 * Starts a fetch loop with a fixed number of slots. pg-boss's own `work` hands a batch to one callback
 * and fetches again only when the whole batch is done, so one long sync would hold its batch's
 * free slots idle, and a batch that throws fails every job in it. Here each job has its own slot:
 * a finished job frees its slot at once and the loop fetches a successor, highest priority first.
 */
export function startSyncSlots(options: SyncSlotsOptions): SyncSlots {
  const running = new Set<Promise<void>>();
  let isStopping = false;
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  function startJob(job: FetchedJob): void {
    const settled = options
      .runJob(job)
      .catch((error: unknown) => options.logger.error({ err: error, jobId: job.id }, 'A sync job failed outside its run; pg-boss expires it'))
      .finally(() => {
        running.delete(settled);
        wake?.();
      });
    running.add(settled);
  }

  async function fetchLoop(): Promise<void> {
    while (!isStopping) {
      const free = options.concurrency - running.size;
      if (free <= 0) {
        await sleep(options.pollingIntervalMs);
        continue;
      }
      let jobs: FetchedJob[] = [];
      try {
        jobs = await fetchUnblockedJobs(options.database, options.queueName, free);
      } catch (error) {
        if (isUniqueViolation(error)) {
          await sleep(FETCH_RACE_DELAY_MS);
          continue;
        }
        options.logger.error({ err: error, queue: options.queueName }, 'Failed to fetch sync jobs; retrying');
        await sleep(FETCH_ERROR_DELAY_MS);
        continue;
      }
      if (isStopping) {
        // Fetched while the worker began to stop: these jobs start and stop at once, handing themselves back.
        for (const job of jobs) startJob(job);
        break;
      }
      for (const job of jobs) startJob(job);
      // A full fetch may leave more waiting; otherwise wait for a free slot or the polling interval.
      if (jobs.length < free) await sleep(options.pollingIntervalMs);
    }
  }

  const loop = fetchLoop();

  return {
    get runningCount() {
      return running.size;
    },
    async drain() {
      isStopping = true;
      wake?.();
      await loop;
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

async function fetchUnblockedJobs(database: Database, queueName: string, limit: number): Promise<FetchedJob[]> {
  const { rows } = await database.query(FETCH_UNBLOCKED_JOBS, [queueName, limit]);
  return rows.map((row) => {
    const job = fetchedJobRow.parse(row);
    return { id: job.id, data: job.data, retryCount: job.retry_count };
  });
}

/** Checks for PostgreSQL's unique violation, which pg-boss's `stately` index raises for a second job of one key and state. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === UNIQUE_VIOLATION;
}
