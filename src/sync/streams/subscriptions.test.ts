import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crunchConnection } from '../../analytics/crunch.ts';
import type { Database } from '../../db/database.ts';
import { migrate } from '../../db/migrate.ts';
import { startSimulator, type RunningSimulator } from '../../../simulator/index.ts';
import { testDatabaseTargets } from '../../../test/support/databases.ts';
import { runSync } from '../run-sync.ts';
import { createQueuedRun, createTestConnection, fetchAllPages, testSyncDeps, testVault, type TestConnection } from '../testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const LATER = new Date('2026-06-16T12:00:00Z');

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
