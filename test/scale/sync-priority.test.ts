import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createJobQueue, type JobQueue } from '../../src/sync/queue.ts';
import { createTestConnection, testVault } from '../../src/sync/testing.ts';

/** The order pg-boss 10 fetches jobs in when a worker fetches with `priority: true`, its default. */
const FETCH_ORDER = `select data->>'connectionId' as connection_id, priority from pgboss.job where name = 'sync' order by priority desc, created_on, id`;

describe('sync job priorities', () => {
  let database: Database;
  let queue: JobQueue;
  const vault = testVault();

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
    const config = loadConfig({ LOG_LEVEL: 'silent', SEATWISE_DATA_DIR: '/tmp/seatwise-priority-test' });
    queue = createJobQueue({ database, logger: createLogger('silent'), config, vault, pagerduty: null });
    // Without a worker, jobs stay queued and their order can be read.
    await queue.start({ runWorker: false });
  }, 60_000);

  afterAll(async () => {
    await queue.stop();
    await database.close();
  });

  it('puts Sync now before scheduled syncs', async () => {
    const apiBaseUrl = 'http://127.0.0.1:9';
    const scheduled = await createTestConnection(database, vault, { apiBaseUrl, method: 'api_key', accessToken: 'key-a' });
    const firstSync = await createTestConnection(database, vault, { apiBaseUrl, method: 'api_key', accessToken: 'key-b' });
    const manual = await createTestConnection(database, vault, { apiBaseUrl, method: 'api_key', accessToken: 'key-c' });
    const syncedBefore = new Date('2026-06-01T00:00:00Z');
    await database.db.updateTable('connections').set({ last_sync_at: syncedBefore }).where('id', 'in', [scheduled.connectionId, manual.connectionId]).execute();

    await queue.enqueueSync(scheduled.connectionId, 'schedule');
    await queue.enqueueSync(firstSync.connectionId, 'schedule');
    await queue.enqueueSync(manual.connectionId, 'manual');

    const { rows } = await database.query<{ connection_id: string; priority: number }>(FETCH_ORDER);
    expect(rows.map((row) => row.connection_id)).toEqual([firstSync.connectionId, manual.connectionId, scheduled.connectionId]);
    expect(rows[0]?.priority).toBeGreaterThan(rows[2]?.priority ?? 0);
  });
});
