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
  /** A connection whose job waits at the scheduled priority, for comparison. */
  let firstScheduledConnectionId = '';
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
    firstScheduledConnectionId = scheduled.connectionId;
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

  it('promotes a queued scheduled sync on Sync now', async () => {
    const connection = await createTestConnection(database, vault, { apiBaseUrl: 'http://127.0.0.1:9', method: 'api_key', accessToken: 'key-g' });
    await database.db.updateTable('connections').set({ last_sync_at: new Date('2026-06-01T00:00:00Z') }).where('id', '=', connection.connectionId).execute();

    const scheduledRunId = await queue.enqueueSync(connection.connectionId, 'schedule');
    const manualRunId = await queue.enqueueSync(connection.connectionId, 'manual');

    expect(manualRunId).toBe(scheduledRunId);
    const run = await database.db.selectFrom('sync_runs').select(['trigger', 'kind', 'status']).where('id', '=', manualRunId).executeTakeFirstOrThrow();
    expect(run).toEqual({ trigger: 'manual', kind: 'full', status: 'queued' });
    const { rows } = await database.query<{ priority: number }>(`select priority from pgboss.job where name = 'sync' and data->>'syncRunId' = $1`, [manualRunId]);
    const { rows: scheduled } = await database.query<{ priority: number }>(`select priority from pgboss.job where name = 'sync' and data->>'connectionId' = $1`, [firstScheduledConnectionId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.priority).toBeGreaterThan(scheduled[0]!.priority);
  });

  it('queues a scheduled round in bulk', async () => {
    const apiBaseUrl = 'http://127.0.0.1:9';
    const synced = await createTestConnection(database, vault, { apiBaseUrl, method: 'api_key', accessToken: 'key-d' });
    const neverSynced = await createTestConnection(database, vault, { apiBaseUrl, method: 'api_key', accessToken: 'key-e' });
    const disconnected = await createTestConnection(database, vault, { apiBaseUrl, method: 'api_key', accessToken: 'key-f' });
    await database.db.updateTable('connections').set({ last_sync_at: new Date('2026-06-01T00:00:00Z') }).where('id', '=', synced.connectionId).execute();
    await database.db.updateTable('connections').set({ status: 'disconnected' }).where('id', '=', disconnected.connectionId).execute();
    const before = await database.db.selectFrom('sync_runs').select('id').execute();

    await queue.enqueueScheduledRound('incremental');

    const added = await database.db
      .selectFrom('sync_runs')
      .select(['id', 'connection_id', 'kind', 'trigger', 'status'])
      .where('id', 'not in', before.map((run) => run.id))
      .execute();
    // The three connections of the first case already have a queued run each, so only the new ones get one.
    expect(added.map((run) => run.connection_id).sort()).toEqual([synced.connectionId, neverSynced.connectionId].sort());
    expect(added.find((run) => run.connection_id === synced.connectionId)?.kind).toBe('incremental');
    expect(added.find((run) => run.connection_id === neverSynced.connectionId)?.kind).toBe('full');
    expect(added.every((run) => run.trigger === 'schedule' && run.status === 'queued')).toBe(true);

    const { rows } = await database.query<{ connection_id: string; run_id: string; priority: number }>(
      `select data->>'connectionId' as connection_id, data->>'syncRunId' as run_id, priority from pgboss.job where name = 'sync' and data->>'syncRunId' = any($1::text[])`,
      [added.map((run) => run.id)],
    );
    expect(rows).toHaveLength(2);
    const priorityOf = new Map(rows.map((row) => [row.connection_id, row.priority]));
    expect(priorityOf.get(neverSynced.connectionId)).toBeGreaterThan(priorityOf.get(synced.connectionId)!);

    // A second round finds every connected account queued and adds nothing.
    await queue.enqueueScheduledRound('incremental');
    const after = await database.db.selectFrom('sync_runs').select('id').execute();
    expect(after.length).toBe(before.length + 2);
  });
});
