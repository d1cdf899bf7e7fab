import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { runSync } from './run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from './testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY_MS = 86_400_000;
const HISTORY_DAYS = 90;
const PAGE_SIZE = 100;
/** Requests a stream may spend per page its records need at the minimum. */
const MAX_REQUESTS_PER_MINIMUM = 1.05;

/** The windowed streams and the list each one reads. */
const STREAM_PATHS = { incidents: '/incidents', log_entries: '/log_entries', notifications: '/notifications' } as const;

describe('sync of a burst account', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    // Very uneven volume: about 33 incidents a day, and one day with 1,500 more, whose 15,000 or so
    // log entries pass the 10,000-record cap of one query. The raised rate limit keeps the test short.
    simulator = await startSimulator({
      people: 120,
      seed: 11,
      now: NOW,
      historyDays: 100,
      incidents: 3_300,
      burst: { daysAgo: 12, incidents: 1_500 },
      rateLimitPerMinute: 600_000,
    });
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('costs at most 1.05 requests per minimum', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const syncRunId = await createQueuedRun(database, connection);
    simulator.control.clearRequestLog();

    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: ['incidents', 'log_entries', 'notifications'] }), {
      connectionId: connection.connectionId,
      syncRunId,
    });
    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');

    // The truth: what the simulator generated in the synced range, up to and including `now`.
    const history = simulator.generated.history;
    const sinceMs = NOW.getTime() - HISTORY_DAYS * DAY_MS;
    const untilMs = NOW.getTime() + 1;
    let notifications = 0;
    history.scanEntries(sinceMs, untilMs, (entry) => {
      if (entry.type === 'notify_log_entry' && entry.userId !== undefined) notifications += 1;
    });
    const truth = { incidents: history.countIncidents(sinceMs, untilMs), log_entries: history.countEntries(sinceMs, untilMs), notifications };
    const busiestDay = Math.max(...Array.from({ length: HISTORY_DAYS }, (_, day) => history.countEntries(sinceMs + day * DAY_MS, sinceMs + (day + 1) * DAY_MS)));
    expect(busiestDay).toBeGreaterThan(10_000);

    const stored = {
      incidents: await countRows(database, 'pd_incidents', connection.connectionId),
      log_entries: await countRows(database, 'pd_log_entries', connection.connectionId),
      notifications: await countRows(database, 'pd_notifications', connection.connectionId),
    };
    expect(stored).toEqual(truth);

    const log = simulator.control.requestLog();
    expect(log.filter((entry) => entry.status >= 400)).toEqual([]);
    let allRequests = 0;
    let allMinimum = 0;
    for (const [stream, path] of Object.entries(STREAM_PATHS) as [keyof typeof STREAM_PATHS, string][]) {
      const requests = log.filter((entry) => entry.path === path).length;
      const minimum = Math.ceil(truth[stream] / PAGE_SIZE);
      allRequests += requests;
      allMinimum += minimum;
      expect(requests / minimum, `${stream}: ${requests} requests for ${minimum} pages`).toBeLessThanOrEqual(MAX_REQUESTS_PER_MINIMUM);
    }
    expect(allRequests / allMinimum, `${allRequests} requests for ${allMinimum} pages`).toBeLessThanOrEqual(MAX_REQUESTS_PER_MINIMUM);
  }, 300_000);
});

async function countRows(database: Database, table: 'pd_incidents' | 'pd_log_entries' | 'pd_notifications', connectionId: string): Promise<number> {
  const row = await database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('connection_id', '=', connectionId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
