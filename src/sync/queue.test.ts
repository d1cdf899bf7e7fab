import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { loadConfig } from '../config/env.ts';
import { migrate } from '../db/migrate.ts';
import type { Database } from '../db/database.ts';
import { createLogger } from '../lib/logger.ts';
import { createScratchDatabase, testDatabaseTargets } from '../../test/support/databases.ts';
import { openDatabase } from '../db/database.ts';
import { createJobQueue, type JobQueue } from './queue.ts';
import type { SyncOutcome } from './run-sync.ts';
import { createTestConnection, testVault } from './testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');

interface QueueTarget {
  name: string;
  open(): Promise<{ database: Database; databaseUrl?: string }>;
}

/** Lists the databases to test on. pg-boss needs the PostgreSQL URL itself, so scratch databases are opened by URL. */
function queueTargets(): QueueTarget[] {
  const adminUrl = process.env.TEST_DATABASE_URL;
  return testDatabaseTargets().map((target) => ({
    name: target.name,
    open: async () => {
      if (target.name !== 'PostgreSQL' || !adminUrl) return { database: await target.open() };
      const databaseUrl = await createScratchDatabase(adminUrl);
      return { database: await openDatabase({ kind: 'postgres', url: databaseUrl }), databaseUrl };
    },
  }));
}

describe.each(queueTargets())('job queue on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let database: Database;
  let queue: JobQueue;
  const finished: SyncOutcome[] = [];
  const vault = testVault();

  beforeAll(async () => {
    simulator = await startSimulator({ people: 20, seed: 9, now: NOW });
    const opened = await open();
    database = opened.database;
    await migrate(database);
    const config = loadConfig({ LOG_LEVEL: 'silent', SEATWISE_DATA_DIR: '/tmp/seatwise-queue-test' });
    queue = createJobQueue({
      database,
      databaseUrl: opened.databaseUrl,
      logger: createLogger('silent'),
      config,
      vault,
      pagerduty: null,
      sync: { now: () => NOW, crunch: async () => {} },
      onSyncFinished: (outcome) => finished.push(outcome),
    });
    await queue.start({ runWorker: true });
  }, 60_000);

  afterAll(async () => {
    await queue.stop();
    await simulator.close();
    await database.close();
  });

  it('runs an enqueued sync once', async () => {
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });

    const syncRunId = await queue.enqueueSync(connection.connectionId, 'connect');
    const again = await queue.enqueueSync(connection.connectionId, 'manual');

    expect(again).toBe(syncRunId);
    const queued = await database.db.selectFrom('sync_runs').select(['status', 'kind', 'trigger']).where('id', '=', syncRunId).executeTakeFirstOrThrow();
    expect(queued.kind).toBe('full');
    expect(queued.trigger).toBe('connect');

    const deadline = Date.now() + 60_000;
    while (!finished.some((outcome) => outcome.syncRunId === syncRunId) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const outcome = finished.find((candidate) => candidate.syncRunId === syncRunId);
    expect(outcome?.errorMessage ?? null).toBeNull();
    expect(outcome?.status).toBe('succeeded');
    const run = await database.db.selectFrom('sync_runs').select('status').where('id', '=', syncRunId).executeTakeFirstOrThrow();
    expect(run.status).toBe('succeeded');
    const users = await database.db.selectFrom('pd_users').select('id').where('connection_id', '=', connection.connectionId).execute();
    expect(users.length).toBe(20);
    // The hourly incremental round runs on the wall clock and may add a scheduled run while this test runs,
    // so only the runs this test asked for are counted.
    const requestedRuns = await database.db
      .selectFrom('sync_runs')
      .select('id')
      .where('connection_id', '=', connection.connectionId)
      .where('trigger', '!=', 'schedule')
      .execute();
    expect(requestedRuns.map((run) => run.id)).toEqual([syncRunId]);
  }, 90_000);
});
