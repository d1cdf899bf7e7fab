import type { Database } from '../db/database.ts';

/** An arbitrary constant that names the queue set-up lock among PostgreSQL advisory locks. */
const QUEUE_SETUP_LOCK_KEY = 7_314_560_022;
/** PostgreSQL's SQLSTATE for a transaction chosen as a deadlock victim and rolled back. */
const DEADLOCK_DETECTED = '40P01';
const SETUP_ATTEMPTS = 5;
const SETUP_RETRY_DELAY_MS = 200;

/**
 * Runs `task` while this process holds the queue set-up lock, so processes that start at once
 * create pg-boss's queues one after another. pg-boss 10 creates and attaches a partition table
 * per queue, and that deadlocks with another process's `createQueue` or with its job fetches.
 * The lock removes the first case. A deadlock with the second rolls the attempt back, so the
 * task runs again, up to 5 times. On PGlite the task runs once at once, because one process
 * owns the embedded database.
 */
export async function withQueueSetupLock<T>(database: Database, task: () => Promise<T>): Promise<T> {
  if (database.kind !== 'postgres') return task();
  // The lock lives on its own session while `task` runs on pg-boss's pool; other processes wait on it.
  return database.withSession(async (run) => {
    await run(`select pg_advisory_lock(${QUEUE_SETUP_LOCK_KEY})`);
    try {
      return await retryOnDeadlock(task);
    } finally {
      await run(`select pg_advisory_unlock(${QUEUE_SETUP_LOCK_KEY})`);
    }
  });
}

async function retryOnDeadlock<T>(task: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      const isDeadlock = typeof error === 'object' && error !== null && 'code' in error && error.code === DEADLOCK_DETECTED;
      if (!isDeadlock || attempt >= SETUP_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, SETUP_RETRY_DELAY_MS * attempt));
    }
  }
}
