import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crunchConnection } from '../../analytics/crunch.ts';
import type { Database } from '../../db/database.ts';
import { migrate } from '../../db/migrate.ts';
import { startSimulator, type RunningSimulator } from '../../../simulator/index.ts';
import { testDatabaseTargets } from '../../../test/support/databases.ts';
import { runSync } from '../run-sync.ts';
import { createQueuedRun, createTestConnection, fetchAllPages, testSyncDeps, testVault, type TestConnection } from '../testing.ts';
import { INCIDENT_SUBSCRIBERS_RECENT_DAYS, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN } from './subscriptions.ts';
import type { StreamName } from './types.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const LATER = new Date('2026-06-16T12:00:00Z');
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const SUBSCRIBERS_PATH = /^\/incidents\/([A-Z0-9]+)\/status_updates\/subscribers$/;

/** Orders ids by code unit, as the stream's byte-order tie break does. */
function compareText(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

describe.each(testDatabaseTargets())('stakeholder subscriptions on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let database: Database;
  let connection: TestConnection;
  const vault = testVault();

  const sync = async (now: Date) => {
    const syncRunId = await createQueuedRun(database, connection);
    return runSync(testSyncDeps(database, vault, { now: () => now, streams: ['teams', 'feature_inventory', 'notification_subscriptions'] }), {
      connectionId: connection.connectionId,
      syncRunId,
    });
  };

  /** Reads every business service's subscribers from the simulator with plain requests, as the oracle. */
  const servedSubscriptions = async (): Promise<string[]> => {
    const authorization = `Token token=${simulator.apiKey}`;
    const services = await fetchAllPages(simulator.apiUrl, '/business_services', 'business_services', authorization);
    const keys: string[] = [];
    for (const service of services) {
      const subscribers = await fetchAllPages(simulator.apiUrl, `/business_services/${String(service.id)}/subscribers`, 'subscribers', authorization);
      for (const subscriber of subscribers) keys.push(`${String(service.id)}/${String(subscriber.subscriber_type)}/${String(subscriber.subscriber_id)}`);
    }
    return keys.sort();
  };

  beforeAll(async () => {
    simulator = await startSimulator({ people: 60, seed: 11, now: NOW, plan: 'business' });
    database = await open();
    await migrate(database);
    connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('copies every business service subscriber', async () => {
    const outcome = await sync(NOW);
    expect(outcome.errorMessage).toBeNull();
    expect(outcome.streams.find((stream) => stream.name === 'notification_subscriptions')?.status).toBe('succeeded');

    const expected = await servedSubscriptions();
    expect(expected.some((key) => key.includes('/user/'))).toBe(true);
    expect(expected.some((key) => key.includes('/team/'))).toBe(true);
    const rows = await database.db
      .selectFrom('pd_notification_subscriptions')
      .select(['subscribable_id', 'subscriber_type', 'subscriber_id', 'first_seen_at', 'deleted_at'])
      .where('connection_id', '=', connection.connectionId)
      .execute();
    expect(rows.map((row) => `${row.subscribable_id}/${row.subscriber_type}/${row.subscriber_id}`).sort()).toEqual(expected);
    for (const row of rows) {
      expect(row.deleted_at).toBeNull();
      expect(new Date(row.first_seen_at)).toEqual(NOW);
    }
  });

  it('keeps first sight and marks vanished ones deleted', async () => {
    await database.db
      .insertInto('pd_notification_subscriptions')
      .values({
        connection_id: connection.connectionId,
        subscribable_type: 'business_service',
        subscribable_id: 'PGONE01',
        subscriber_type: 'user',
        subscriber_id: 'PGONE02',
        first_seen_at: NOW,
        synced_at: NOW,
        deleted_at: null,
      })
      .execute();

    const outcome = await sync(LATER);
    expect(outcome.errorMessage).toBeNull();

    const vanished = await database.db
      .selectFrom('pd_notification_subscriptions')
      .select('deleted_at')
      .where('connection_id', '=', connection.connectionId)
      .where('subscriber_id', '=', 'PGONE02')
      .executeTakeFirstOrThrow();
    expect(vanished.deleted_at).not.toBeNull();
    const live = await database.db
      .selectFrom('pd_notification_subscriptions')
      .select(['first_seen_at', 'synced_at'])
      .where('connection_id', '=', connection.connectionId)
      .where('deleted_at', 'is', null)
      .execute();
    expect(live.length).toBe((await servedSubscriptions()).length);
    for (const row of live) {
      expect(new Date(row.first_seen_at)).toEqual(NOW);
      expect(new Date(row.synced_at)).toEqual(LATER);
    }
  });

  it('counts user and team subscriptions per person', async () => {
    await crunchConnection(database.db, connection.connectionId, LATER);

    // Each person counts the business services they follow, directly or through a team, once each.
    const authorization = `Token token=${simulator.apiKey}`;
    const servicesByPerson = new Map<string, Set<string>>();
    const reach = (personId: string, serviceId: string) => servicesByPerson.set(personId, (servicesByPerson.get(personId) ?? new Set()).add(serviceId));
    let teamMembersReached = 0;
    for (const key of await servedSubscriptions()) {
      const [serviceId, type, id] = key.split('/');
      if (serviceId === undefined || id === undefined) continue;
      if (type === 'user') reach(id, serviceId);
      if (type !== 'team') continue;
      const members = await fetchAllPages(simulator.apiUrl, `/teams/${id}/members`, 'members', authorization);
      for (const member of members) reach(String((member.user as { id: unknown }).id), serviceId);
      teamMembersReached += members.length;
    }
    expect(teamMembersReached).toBeGreaterThan(0);
    const expected = new Map([...servicesByPerson].map(([personId, serviceIds]) => [personId, serviceIds.size]));
    // The subscription that vanished was still held a day before, inside every window.
    expected.set('PGONE02', 1);
    const rows = await database.db
      .selectFrom('person_features')
      .select(['external_id', 'first_used_at', 'last_used_at', 'count_30d', 'count_60d', 'count_90d'])
      .where('connection_id', '=', connection.connectionId)
      .where('feature_key', '=', 'stakeholder_subscription')
      .execute();
    expect(new Map(rows.map((row) => [row.external_id, row.count_30d]))).toEqual(expected);
    for (const row of rows) {
      expect(row.count_60d).toBe(row.count_30d);
      expect(row.count_90d).toBe(row.count_30d);
      expect(new Date(row.first_used_at)).toEqual(NOW);
      expect(new Date(row.last_used_at)).toEqual(row.external_id === 'PGONE02' ? NOW : LATER);
    }
  });
});

describe.each(testDatabaseTargets())('incident subscriptions on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let database: Database;
  let connection: TestConnection;
  /** The incidents the first run read. */
  let firstRead: string[] = [];
  const vault = testVault();
  const authorization = () => `Token token=${simulator.apiKey}`;

  const sync = async (streams: StreamName[], now: Date, kind: 'full' | 'incremental') => {
    const syncRunId = await createQueuedRun(database, connection, kind);
    return runSync(testSyncDeps(database, vault, { now: () => now, streams }), { connectionId: connection.connectionId, syncRunId });
  };

  /** Lists the stored incidents open or changed in the recent days before `now`, newest change first, as the oracle of what a run reads. */
  const incidentSet = async (now: Date): Promise<string[]> => {
    const incidents = await database.db
      .selectFrom('pd_incidents')
      .select(['id', 'status', 'created_at', 'last_status_change_at'])
      .where('connection_id', '=', connection.connectionId)
      .execute();
    const recentSinceMs = now.getTime() - INCIDENT_SUBSCRIBERS_RECENT_DAYS * DAY_MS;
    return incidents
      .map((incident) => ({ id: incident.id, status: incident.status, changedAtMs: new Date(incident.last_status_change_at ?? incident.created_at).getTime() }))
      .filter((incident) => incident.status === 'triggered' || incident.status === 'acknowledged' || incident.changedAtMs >= recentSinceMs)
      .sort((left, right) => right.changedAtMs - left.changedAtMs || compareText(right.id, left.id))
      .map((incident) => incident.id);
  };

  /** Returns the incidents whose subscribers were requested since the request log was cleared. */
  const requestedIncidents = (): string[] =>
    simulator.control
      .requestLog()
      .flatMap((entry) => SUBSCRIBERS_PATH.exec(entry.path)?.[1] ?? [])
      .sort(compareText);

  const storedSubscriptions = async (incidentIds: string[]) =>
    database.db
      .selectFrom('pd_notification_subscriptions')
      .select(['subscribable_id', 'subscriber_type', 'subscriber_id', 'synced_at', 'deleted_at'])
      .where('connection_id', '=', connection.connectionId)
      .where('subscribable_type', '=', 'incident')
      .where('subscribable_id', 'in', incidentIds)
      .execute();

  const addSubscription = async (incidentId: string, subscriberId: string) => {
    await database.db
      .insertInto('pd_notification_subscriptions')
      .values({
        connection_id: connection.connectionId,
        subscribable_type: 'incident',
        subscribable_id: incidentId,
        subscriber_type: 'user',
        subscriber_id: subscriberId,
        first_seen_at: NOW,
        synced_at: NOW,
        deleted_at: null,
      })
      .execute();
  };

  beforeAll(async () => {
    simulator = await startSimulator({ people: 60, seed: 11, now: NOW, plan: 'business', rateLimitPerMinute: 600_000 });
    database = await open();
    await migrate(database);
    connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const outcome = await sync(['incidents'], NOW, 'full');
    expect(outcome.errorMessage).toBeNull();
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('reads the newest incidents up to the bound', async () => {
    // Reopen incidents resolved before the recent days, so the set outgrows one run.
    const resolvedLongAgo = await database.db
      .selectFrom('pd_incidents')
      .select('id')
      .where('connection_id', '=', connection.connectionId)
      .where('status', '=', 'resolved')
      .where('last_status_change_at', '<', new Date(NOW.getTime() - (INCIDENT_SUBSCRIBERS_RECENT_DAYS + 1) * DAY_MS))
      .orderBy('id')
      .limit(80)
      .execute();
    await database.db
      .updateTable('pd_incidents')
      .set({ status: 'acknowledged' })
      .where('connection_id', '=', connection.connectionId)
      .where('id', 'in', resolvedLongAgo.map((row) => row.id))
      .execute();
    const set = await incidentSet(NOW);
    expect(set.length).toBeGreaterThan(MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN);

    simulator.control.clearRequestLog();
    const outcome = await sync(['incident_subscriptions'], NOW, 'full');
    expect(outcome.errorMessage).toBeNull();
    expect(outcome.streams.find((stream) => stream.name === 'incident_subscriptions')?.status).toBe('succeeded');

    firstRead = requestedIncidents();
    expect(firstRead).toEqual(set.slice(0, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN).sort(compareText));
    const expected: string[] = [];
    for (const incidentId of firstRead) {
      const subscribers = await fetchAllPages(simulator.apiUrl, `/incidents/${incidentId}/status_updates/subscribers`, 'subscribers', authorization());
      for (const subscriber of subscribers) expected.push(`${incidentId}/${String(subscriber.subscriber_type)}/${String(subscriber.subscriber_id)}`);
    }
    expect(expected.some((key) => key.includes('/user/'))).toBe(true);
    expect(expected.some((key) => key.includes('/team/'))).toBe(true);
    const rows = await storedSubscriptions(firstRead);
    expect(rows.map((row) => `${row.subscribable_id}/${row.subscriber_type}/${row.subscriber_id}`).sort()).toEqual(expected.sort());
    for (const row of rows) expect(row.deleted_at).toBeNull();
  });

  it('skips incidents read with unchanged status', async () => {
    const laterNow = new Date(NOW.getTime() + HOUR_MS);
    simulator.control.clearRequestLog();
    const outcome = await sync(['incident_subscriptions'], laterNow, 'incremental');
    expect(outcome.errorMessage).toBeNull();

    const unread = (await incidentSet(laterNow)).filter((id) => !firstRead.includes(id));
    expect(unread.length).toBeGreaterThan(0);
    expect(requestedIncidents()).toEqual(unread.slice(0, MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN).sort(compareText));

    // Later runs read the rest of the set, at most the bound each, and then nothing.
    const read = new Set([...firstRead, ...requestedIncidents()]);
    const maxRuns = Math.ceil(unread.length / MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN) + 1;
    let runAt = laterNow;
    let requested: string[] = [];
    for (let run = 0; run < maxRuns; run += 1) {
      runAt = new Date(runAt.getTime() + 10 * MINUTE_MS);
      simulator.control.clearRequestLog();
      const outcome = await sync(['incident_subscriptions'], runAt, 'incremental');
      expect(outcome.errorMessage).toBeNull();
      requested = requestedIncidents();
      expect(requested.length).toBeLessThanOrEqual(MAX_INCIDENT_SUBSCRIBER_READS_PER_RUN);
      for (const id of requested) read.add(id);
      if (requested.length === 0) break;
    }
    expect(requested).toEqual([]);
    for (const id of await incidentSet(runAt)) expect(read.has(id), id).toBe(true);
  });

  it('re-reads changed incidents and skips a 404', async () => {
    const runAt = new Date(NOW.getTime() + 3 * HOUR_MS);
    const withSubscribers = [...new Set((await storedSubscriptions(firstRead)).map((row) => row.subscribable_id))].sort(compareText);
    const [changed, unchanged, leftSet] = withSubscribers;
    if (changed === undefined || unchanged === undefined || leftSet === undefined) throw new Error('Fewer than three incidents with subscribers were read; pick another seed.');
    const deletedIncident = 'PGONE10';

    await database.db
      .updateTable('pd_incidents')
      .set({ last_status_change_at: new Date(runAt.getTime() - HOUR_MS) })
      .where('connection_id', '=', connection.connectionId)
      .where('id', '=', changed)
      .execute();
    await database.db
      .updateTable('pd_incidents')
      .set({ status: 'resolved', last_status_change_at: new Date(NOW.getTime() - (INCIDENT_SUBSCRIBERS_RECENT_DAYS + 10) * DAY_MS) })
      .where('connection_id', '=', connection.connectionId)
      .where('id', '=', leftSet)
      .execute();
    // An incident deleted at PagerDuty since the incidents stream read it.
    await database.db
      .insertInto('pd_incidents')
      .values({ connection_id: connection.connectionId, id: deletedIncident, status: 'triggered', created_at: new Date(runAt.getTime() - 2 * HOUR_MS), raw: '{}', synced_at: NOW })
      .execute();
    await addSubscription(changed, 'PGONE11');
    await addSubscription(unchanged, 'PGONE12');
    await addSubscription(leftSet, 'PGONE13');
    await addSubscription(deletedIncident, 'PGONE14');

    simulator.control.clearRequestLog();
    const outcome = await sync(['incident_subscriptions'], runAt, 'incremental');
    expect(outcome.errorMessage).toBeNull();
    expect(outcome.streams.find((stream) => stream.name === 'incident_subscriptions')?.status).toBe('succeeded');
    expect(requestedIncidents()).toEqual([changed, deletedIncident].sort(compareText));

    const rows = await storedSubscriptions([changed, unchanged, leftSet, deletedIncident]);
    const deletedBySubscriber = new Map(rows.map((row) => [row.subscriber_id, row.deleted_at]));
    expect(deletedBySubscriber.get('PGONE11'), 'vanished from a re-read incident').not.toBeNull();
    expect(deletedBySubscriber.get('PGONE14'), 'on a deleted incident').not.toBeNull();
    expect(deletedBySubscriber.get('PGONE12'), 'on an incident not read again').toBeNull();
    expect(deletedBySubscriber.get('PGONE13'), 'on an incident that left the set').toBeNull();
    for (const row of rows.filter((candidate) => !candidate.subscriber_id.startsWith('PGONE'))) {
      expect(row.deleted_at).toBeNull();
      expect(new Date(row.synced_at)).toEqual(row.subscribable_id === changed ? runAt : NOW);
    }

    simulator.control.clearRequestLog();
    const next = await sync(['incident_subscriptions'], new Date(runAt.getTime() + HOUR_MS), 'incremental');
    expect(next.errorMessage).toBeNull();
    expect(requestedIncidents(), 'the deleted incident is not requested again').toEqual([]);
  });
});
