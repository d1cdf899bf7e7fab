import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { runSync } from '../../src/sync/run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from '../../src/sync/testing.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { createScratchDatabase } from '../support/databases.ts';

/**
 * Completeness at scale on PostgreSQL: an account has more than 1,000,000 log entries in 90 days,
 * and one day has more than 10,000 incidents. A first sync stores exactly the incidents and log
 * entries the simulator generated, and the offset cap and window limits reject no request. The simulator generates its history lazily, one day at a time.
 * It runs with a raised rate limit of 1,000,000 requests a minute: at PagerDuty's 960 the
 * 11,000 or so requests alone would take over eleven minutes, and pacing has its own tests.
 * NOTE: the aim is about 5 minutes on 2 cores, but on 2 cores shared with other test runs (load
 * average 18 to 25) the whole test took 10.8 minutes, of which the sync took 10.1. Each page costs
 * three PostgreSQL commits (records, checkpoint, progress) one after another, so the time follows
 * the database's commit latency more than the CPU.
 */

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY_MS = 86_400_000;
const SYNCED_DAYS = 90;
const INCIDENTS = 110_000;
const BURST_INCIDENTS = 11_000;
const RAISED_RATE_LIMIT_PER_MINUTE = 1_000_000;
/** Differences listed in a failure message, so a broken sync does not print a million ids. */
const SHOWN_DIFFERENCES = 5;

/** Runs where PostgreSQL is available (TEST_DATABASE_URL) and in CI, where a missing URL fails. */
const shouldRun = Boolean(process.env.TEST_DATABASE_URL) || Boolean(process.env.CI);

describe.runIf(shouldRun)('burst account on PostgreSQL', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) throw new Error('The burst completeness test needs PostgreSQL: set TEST_DATABASE_URL, for example postgres://postgres@127.0.0.1:5432/test');
    simulator = await startSimulator({
      people: 400,
      seed: 23,
      now: NOW,
      historyDays: SYNCED_DAYS + 5,
      incidents: INCIDENTS,
      burst: { daysAgo: 20, incidents: BURST_INCIDENTS },
      rateLimitPerMinute: RAISED_RATE_LIMIT_PER_MINUTE,
    });
    database = await openDatabase({ kind: 'postgres', url: await createScratchDatabase(adminUrl) });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator?.close();
    await database?.close();
  });

  it('stores every incident and log entry', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const syncRunId = await createQueuedRun(database, connection);
    simulator.control.clearRequestLog();

    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: ['incidents', 'log_entries'] }), {
      connectionId: connection.connectionId,
      syncRunId,
    });
    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');

    const rejected = simulator.control.requestLog().filter((entry) => entry.status >= 400);
    expect(rejected).toEqual([]);

    // Day by day, so neither side keeps a million ids in memory at once.
    const history = simulator.generated.history;
    const sinceMs = NOW.getTime() - SYNCED_DAYS * DAY_MS;
    let entryTotal = 0;
    let busiestIncidentDay = 0;
    for (let dayStartMs = sinceMs; dayStartMs <= NOW.getTime(); dayStartMs += DAY_MS) {
      // The last day is the instant `now` itself, which the sync reads through `until`.
      const dayEndMs = Math.min(dayStartMs + DAY_MS, NOW.getTime() + 1);
      const day = new Date(dayStartMs).toISOString();

      const expectedIncidents: string[] = [];
      history.scanIncidents(dayStartMs, dayEndMs, 'oldest_first', (incident) => {
        expectedIncidents.push(incident.id);
      });
      const expectedEntries: string[] = [];
      history.scanEntries(dayStartMs, dayEndMs, (entry) => {
        expectedEntries.push(entry.id);
      });
      entryTotal += expectedEntries.length;
      busiestIncidentDay = Math.max(busiestIncidentDay, expectedIncidents.length);

      const storedIncidents = await storedIds(database, 'pd_incidents', connection.connectionId, dayStartMs, dayEndMs);
      const storedEntries = await storedIds(database, 'pd_log_entries', connection.connectionId, dayStartMs, dayEndMs);
      expect(storedIncidents.length, `incidents on ${day}`).toBe(expectedIncidents.length);
      expect(describeDifference(expectedIncidents, storedIncidents), `incidents on ${day}`).toBe('');
      expect(storedEntries.length, `log entries on ${day}`).toBe(expectedEntries.length);
      expect(describeDifference(expectedEntries, storedEntries), `log entries on ${day}`).toBe('');
    }
    expect(busiestIncidentDay).toBeGreaterThan(10_000);
    expect(entryTotal).toBeGreaterThan(1_000_000);

    // Nothing outside the synced range was stored, and no id was stored twice.
    for (const table of ['pd_incidents', 'pd_log_entries'] as const) {
      const totals = await sql<{ rows: string; ids: string; outside: string }>`
        select count(*) as rows, count(distinct id) as ids,
               count(*) filter (where created_at < ${new Date(sinceMs)} or created_at > ${NOW}) as outside
        from ${sql.table(table)} where connection_id = ${connection.connectionId}`.execute(database.db);
      const row = totals.rows[0];
      expect(Number(row?.rows), table).toBe(Number(row?.ids));
      expect(Number(row?.outside), table).toBe(0);
    }
  }, 1_200_000);
});

async function storedIds(database: Database, table: 'pd_incidents' | 'pd_log_entries', connectionId: string, sinceMs: number, untilMs: number): Promise<string[]> {
  const rows = await database.db
    .selectFrom(table)
    .select('id')
    .where('connection_id', '=', connectionId)
    .where('created_at', '>=', new Date(sinceMs))
    .where('created_at', '<', new Date(untilMs))
    .execute();
  return rows.map((row) => row.id);
}

/** Returns the ids only one side has, a few of each, or '' when both hold the same ids. */
function describeDifference(expected: readonly string[], stored: readonly string[]): string {
  const storedSet = new Set(stored);
  const expectedSet = new Set(expected);
  const missing = expected.filter((id) => !storedSet.has(id));
  const extra = stored.filter((id) => !expectedSet.has(id));
  if (missing.length === 0 && extra.length === 0) return '';
  return `${missing.length} missing (${missing.slice(0, SHOWN_DIFFERENCES).join(', ')}), ${extra.length} not generated (${extra.slice(0, SHOWN_DIFFERENCES).join(', ')})`;
}
