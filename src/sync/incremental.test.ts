import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { runSync } from './run-sync.ts';
import { MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN } from './streams/subscriptions.ts';
import { createQueuedRun, createTestConnection, fetchAllPages, testSyncDeps, testVault } from './testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY_MS = 86_400_000;
const YESTERDAY = new Date(NOW.getTime() - DAY_MS);
const INCIDENT_SUBSCRIBERS_PATH = /^\/incidents\/[A-Z0-9]+\/status_updates\/subscribers$/;

describe('incremental sync after a day', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 300, seed: 17, now: NOW, rateLimitPerMinute: 60_000 });
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('reads the day with few requests', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const { db } = database;

    // Incident subscribers cost one request per incident and have their own bound per run, so they are counted apart.
    const incidentSubscriberRequests = () => simulator.control.requestLog().filter((entry) => INCIDENT_SUBSCRIBERS_PATH.test(entry.path)).length;
    simulator.control.clearRequestLog();
    const full = await runSync(testSyncDeps(database, vault, { now: () => YESTERDAY }), { connectionId: connection.connectionId, syncRunId: await createQueuedRun(database, connection, 'full') });
    expect(full.errorMessage).toBeNull();
    expect(full.status).toBe('succeeded');
    const fullSubscriberRequests = incidentSubscriberRequests();

    // What a sync a day ago saw: incidents resolved since then were still open.
    const resolvedSince = await db
      .selectFrom('pd_log_entries')
      .innerJoin('pd_incidents', (join) => join.onRef('pd_incidents.id', '=', 'pd_log_entries.incident_id').onRef('pd_incidents.connection_id', '=', 'pd_log_entries.connection_id'))
      .select('pd_incidents.id')
      .distinct()
      .where('pd_log_entries.connection_id', '=', connection.connectionId)
      .where('pd_log_entries.type', '=', 'resolve_log_entry')
      .where('pd_incidents.created_at', '<', YESTERDAY)
      .where('pd_incidents.resolved_at', '>=', YESTERDAY)
      .execute();
    const reopenedIds = resolvedSince.map((row) => row.id);
    if (reopenedIds.length === 0) {
      const served = await fetchAllPages(simulator.apiUrl, '/incidents', 'incidents', `Token token=${simulator.apiKey}`, {
        since: new Date(YESTERDAY.getTime() - 3 * DAY_MS).toISOString(),
        until: YESTERDAY.toISOString(),
      });
      reopenedIds.push(...served.filter((incident) => typeof incident.resolved_at === 'string' && new Date(incident.resolved_at) >= YESTERDAY).map((incident) => String(incident.id)));
    }
    expect(reopenedIds.length).toBeGreaterThan(0);
    await db.updateTable('pd_incidents').set({ status: 'acknowledged', resolved_at: null }).where('connection_id', '=', connection.connectionId).where('id', 'in', reopenedIds).execute();
    await db.deleteFrom('pd_log_entries').where('connection_id', '=', connection.connectionId).where('created_at', '>=', YESTERDAY).execute();

    simulator.control.clearRequestLog();
    const incremental = await runSync(testSyncDeps(database, vault, { now: () => NOW }), {
      connectionId: connection.connectionId,
      syncRunId: await createQueuedRun(database, connection, 'incremental'),
    });

    expect(incremental.errorMessage).toBeNull();
    expect(incremental.status).toBe('succeeded');
    const incrementalSubscriberRequests = incidentSubscriberRequests();
    expect(incrementalSubscriberRequests).toBeLessThanOrEqual(MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN);
    expect(incremental.requestCount - incrementalSubscriberRequests).toBeLessThanOrEqual(Math.floor((full.requestCount - fullSubscriberRequests) * 0.02));

    const reopened = await db.selectFrom('pd_incidents').select(['id', 'status', 'resolved_at']).where('connection_id', '=', connection.connectionId).where('id', 'in', reopenedIds).execute();
    for (const incident of reopened) {
      expect(incident.status, incident.id).toBe('resolved');
      expect(incident.resolved_at, incident.id).not.toBeNull();
    }

    const authorization = `Token token=${simulator.apiKey}`;
    const servedLastDay = await fetchAllPages(simulator.apiUrl, '/log_entries', 'log_entries', authorization, { since: YESTERDAY.toISOString(), until: NOW.toISOString() });
    const storedLastDay = await db.selectFrom('pd_log_entries').select('id').where('connection_id', '=', connection.connectionId).where('created_at', '>=', YESTERDAY).execute();
    expect(new Set(storedLastDay.map((row) => row.id))).toEqual(new Set(servedLastDay.map((entry) => String(entry.id))));
  }, 180_000);
});
