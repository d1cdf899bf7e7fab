import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../db/migrate.ts';
import type { Database } from '../db/database.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { runSync } from './run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from './testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
/** The retry starts later than the first attempt, as a pg-boss retry does. */
const RETRY_DELAY_MS = 5 * 60_000;
/** Log entry pages the first attempt stores before it is stopped. */
const PAGES_BEFORE_STOP = 5;

type StreamCounts = Record<string, { pages: number; records: number }>;

async function streamCounts(database: Database, syncRunId: string): Promise<StreamCounts> {
  const rows = await database.db.selectFrom('sync_run_streams').select(['stream', 'pages', 'records']).where('sync_run_id', '=', syncRunId).orderBy('stream').execute();
  return Object.fromEntries(rows.map((row) => [row.stream, { pages: row.pages, records: row.records }]));
}

describe.each(testDatabaseTargets())('resumed run on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    // Three syncs of one key would pass 960 requests a minute and pause for the budget, and the test is not about pacing.
    simulator = await startSimulator({ people: 60, seed: 11, now: NOW, rateLimitPerMinute: 600_000 });
    database = await open();
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('counts each page once and keeps its start', async () => {
    const vault = testVault();
    const connectionOptions = { apiBaseUrl: simulator.apiUrl, method: 'api_key' as const, accessToken: simulator.apiKey };

    const clean = await createTestConnection(database, vault, connectionOptions);
    const cleanRunId = await createQueuedRun(database, clean);
    const cleanOutcome = await runSync(testSyncDeps(database, vault, { now: () => NOW }), { connectionId: clean.connectionId, syncRunId: cleanRunId });
    expect(cleanOutcome.status).toBe('succeeded');
    const cleanCounts = await streamCounts(database, cleanRunId);
    expect(cleanCounts['log_entries']?.pages ?? 0, 'log entry pages in a clean run').toBeGreaterThan(PAGES_BEFORE_STOP + 2);

    // The first attempt is stopped once it has stored some log entry pages.
    const resumed = await createTestConnection(database, vault, connectionOptions);
    const syncRunId = await createQueuedRun(database, resumed);
    const stop = new AbortController();
    const watcher = setInterval(() => {
      void streamCounts(database, syncRunId).then((counts) => {
        if ((counts['log_entries']?.pages ?? 0) >= PAGES_BEFORE_STOP) stop.abort();
      });
    }, 5);
    try {
      await runSync(testSyncDeps(database, vault, { now: () => NOW, signal: stop.signal }), { connectionId: resumed.connectionId, syncRunId });
    } finally {
      clearInterval(watcher);
    }
    expect(stop.signal.aborted, 'first attempt stopped').toBe(true);
    const stoppedCounts = await streamCounts(database, syncRunId);
    expect(stoppedCounts['log_entries']?.pages ?? 0).toBeLessThan(cleanCounts['log_entries']?.pages ?? 0);
    await database.db.updateTable('sync_runs').set({ status: 'queued', error_code: 'interrupted' }).where('id', '=', syncRunId).execute();

    const outcome = await runSync(testSyncDeps(database, vault, { now: () => new Date(NOW.getTime() + RETRY_DELAY_MS) }), { connectionId: resumed.connectionId, syncRunId });
    expect(outcome.status).toBe('succeeded');

    const counts = await streamCounts(database, syncRunId);
    for (const [stream, clean] of Object.entries(cleanCounts)) {
      expect(counts[stream], `${stream} after the resume`).toEqual(clean);
    }
    const run = await database.db.selectFrom('sync_runs').select('started_at').where('id', '=', syncRunId).executeTakeFirstOrThrow();
    expect(run.started_at).toEqual(NOW);
  }, 120_000);
});
