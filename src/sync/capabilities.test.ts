import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { runSync } from './run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from './testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');

describe('sync on a free plan', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 20, seed: 31, now: NOW, plan: 'free', rateLimitPerMinute: 60_000 });
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('marks gated streams unavailable', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const syncRunId = await createQueuedRun(database, connection);

    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW }), { connectionId: connection.connectionId, syncRunId });

    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');
    const byName = new Map(outcome.streams.map((stream) => [stream.name, stream]));
    expect(byName.get('teams')?.status).toBe('unavailable');
    expect(byName.get('teams')?.message).toMatch(/"teams" ability/);
    expect(byName.get('users')?.status).toBe('succeeded');
    expect(byName.get('log_entries')?.status).toBe('succeeded');

    const capabilities = await database.db.selectFrom('pd_capabilities').select(['abilities', 'unavailable_streams']).where('connection_id', '=', connection.connectionId).executeTakeFirstOrThrow();
    expect(capabilities.abilities).toEqual([]);
    expect(Object.keys(capabilities.unavailable_streams)).toContain('teams');
    const rows = await database.db.selectFrom('sync_run_streams').select(['stream', 'status', 'message']).where('sync_run_id', '=', syncRunId).where('status', '=', 'unavailable').execute();
    expect(rows.map((row) => row.stream)).toContain('teams');
    for (const row of rows) expect(row.message, row.stream).not.toBeNull();
    const gatedRequests = simulator.control.requestLog().filter((entry) => entry.path === '/teams');
    expect(gatedRequests).toEqual([]);
  });
});
