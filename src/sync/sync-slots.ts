import type PgBoss from 'pg-boss';
import type { Logger } from '../lib/logger.ts';

/** Back-off after a failed fetch, so a database outage does not turn into a busy loop. */
const FETCH_ERROR_DELAY_MS = 5_000;

export interface SyncSlotsOptions {
  boss: PgBoss;
  queueName: string;
  /** Jobs run at once; a fetch asks for exactly the free slots. */
  concurrency: number;
  /** Wait between fetches while the queue is empty. */
  pollingIntervalMs: number;
  logger: Logger;
  /** Runs one job and settles it in pg-boss itself (complete, fail or hand back). */
  runJob: (job: PgBoss.JobWithMetadata<unknown>) => Promise<void>;
}

export interface SyncSlots {
  /** Jobs running now. */
  readonly runningCount: number;
  /** Stops fetching and resolves once every running job has settled. */
  drain(): Promise<void>;
}

/**
 * A fetch loop with a fixed number of slots. pg-boss's own `work` hands a batch to one callback
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

  function startJob(job: PgBoss.JobWithMetadata<unknown>): void {
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
      let jobs: PgBoss.JobWithMetadata<unknown>[] = [];
      try {
        jobs = await options.boss.fetch(options.queueName, { batchSize: free, includeMetadata: true });
      } catch (error) {
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
