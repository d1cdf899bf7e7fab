import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../db/migrate.ts';
import type { Database } from '../db/database.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { runSync } from './run-sync.ts';
import { CORE_STREAMS } from './streams/catalogue.ts';
import { createQueuedRun, createTestConnection, fetchAllPages, testSyncDeps, testVault } from './testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY_MS = 86_400_000;

describe.each(testDatabaseTargets())('first sync on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 60, seed: 7, now: NOW });
    database = await open();
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('copies core streams exactly', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const syncRunId = await createQueuedRun(database, connection);
    let crunchedAt: Date | null = null;

    const outcome = await runSync(
      testSyncDeps(database, vault, {
        now: () => NOW,
        streams: CORE_STREAMS,
        crunch: async (_db, _connectionId, asOf) => {
          crunchedAt = asOf;
        },
      }),
      { connectionId: connection.connectionId, syncRunId },
    );

    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');
    expect(crunchedAt).toEqual(NOW);

    const authorization = `Token token=${simulator.apiKey}`;
    const servedUsers = await fetchAllPages(simulator.apiUrl, '/users', 'users', authorization);
    const users = await database.db.selectFrom('pd_users').select(['id', 'email', 'role']).where('connection_id', '=', connection.connectionId).orderBy('id').execute();
    expect(users).toEqual(servedUsers.map((user) => ({ id: user.id, email: user.email, role: user.role })).sort((a, b) => String(a.id).localeCompare(String(b.id))));

    const servedAllocations = await fetchAllPages(simulator.apiUrl, '/license_allocations', 'license_allocations', authorization);
    const allocations = await database.db.selectFrom('pd_license_allocations').select(['user_id', 'license_id']).where('connection_id', '=', connection.connectionId).execute();
    expect(allocations.length).toBe(servedAllocations.length);
    const servedPairs = new Set(servedAllocations.map((allocation) => `${(allocation.user as { id: string }).id}:${(allocation.license as { id: string }).id}`));
    expect(new Set(allocations.map((allocation) => `${allocation.user_id}:${allocation.license_id}`))).toEqual(servedPairs);

    const licenses = await database.db.selectFrom('pd_licenses').select(['id', 'current_value']).where('connection_id', '=', connection.connectionId).execute();
    expect(licenses.length).toBeGreaterThan(0);

    const servedEntryIds = new Set<string>();
    const historyStart = NOW.getTime() - 90 * DAY_MS;
    for (let start = historyStart; start < NOW.getTime(); start += 10 * DAY_MS) {
      const until = new Date(Math.min(start + 10 * DAY_MS, NOW.getTime())).toISOString();
      const served = await fetchAllPages(simulator.apiUrl, '/log_entries', 'log_entries', authorization, { since: new Date(start).toISOString(), until });
      for (const entry of served) servedEntryIds.add(String(entry.id));
    }
    const entries = await database.db.selectFrom('pd_log_entries').select('id').where('connection_id', '=', connection.connectionId).execute();
    const storedIds = new Set(entries.map((entry) => entry.id));
    for (const id of servedEntryIds) expect(storedIds.has(id), `log entry ${id} is missing`).toBe(true);
    const inHistory = await database.db
      .selectFrom('pd_log_entries')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('connection_id', '=', connection.connectionId)
      .where('created_at', '>=', new Date(historyStart + 1000))
      .where('created_at', '<', NOW)
      .executeTakeFirstOrThrow();
    expect(Number(inHistory.count)).toBeLessThanOrEqual(servedEntryIds.size);

    const streams = await database.db.selectFrom('sync_run_streams').select(['stream', 'status', 'pages', 'records']).where('sync_run_id', '=', syncRunId).execute();
    expect(streams.map((stream) => stream.stream).sort()).toEqual([...CORE_STREAMS].sort());
    for (const stream of streams) expect(stream.status, stream.stream).toBe('succeeded');

    const run = await database.db.selectFrom('sync_runs').select(['status', 'request_count', 'finished_at']).where('id', '=', syncRunId).executeTakeFirstOrThrow();
    expect(run.status).toBe('succeeded');
    expect(run.request_count).toBeGreaterThan(0);
    const stored = await database.db.selectFrom('connections').select('last_sync_at').where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
    expect(stored.last_sync_at).toEqual(NOW);

    const rejected = simulator.control.requestLog().filter((entry) => entry.status >= 400);
    expect(rejected).toEqual([]);
  });

  it('progress never exceeds expected records', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const syncRunId = await createQueuedRun(database, connection);

    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: ['teams', 'schedules'] }), { connectionId: connection.connectionId, syncRunId });
    expect(outcome.status).toBe('succeeded');

    const streams = await database.db.selectFrom('sync_run_streams').select(['stream', 'records', 'expected_records']).where('sync_run_id', '=', syncRunId).execute();
    expect(streams).toHaveLength(2);
    for (const stream of streams) {
      expect(stream.records, stream.stream).toBeGreaterThan(0);
      if (stream.expected_records !== null) expect(stream.records, stream.stream).toBeLessThanOrEqual(stream.expected_records);
    }
  });
});
