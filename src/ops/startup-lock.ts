import type { Database } from '../db/database.ts';

/** An arbitrary constant that names the queue set-up lock among PostgreSQL advisory locks. */
const QUEUE_SETUP_LOCK_KEY = 7_314_560_022;

/**
 * Runs `task` while this process holds the queue set-up lock, so processes that start at once
 * create pg-boss's queues one after another. pg-boss 10 creates a partition table per queue,
 * and concurrent `createQueue` calls for one queue deadlock on PostgreSQL.
 * On PGlite the task runs at once, because one process owns the embedded database.
 */
export async function withQueueSetupLock<T>(database: Database, task: () => Promise<T>): Promise<T> {
  if (database.kind !== 'postgres') return task();
  // The lock lives on its own session while `task` runs on pg-boss's pool; other processes wait on it.
  return database.withSession(async (run) => {
    await run(`select pg_advisory_lock(${QUEUE_SETUP_LOCK_KEY})`);
    try {
      return await task();
    } finally {
      await run(`select pg_advisory_unlock(${QUEUE_SETUP_LOCK_KEY})`);
    }
  });
}
