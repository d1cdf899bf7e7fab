import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../../simulator/consent-driver.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { crunchConnection } from '../analytics/crunch.ts';
import { readCredentials } from '../connections/credentials.ts';
import type { ConnectionCardView } from '../dashboard/connection-card.ts';
import { presentFeatures } from '../dashboard/features.ts';
import { presentOverview } from '../dashboard/overview.ts';
import { presentPeople } from '../dashboard/people.ts';
import { presentPerson } from '../dashboard/person.ts';
import { presentRecommendations } from '../dashboard/recommendations.ts';
import { runSync } from '../sync/run-sync.ts';
import { createQueuedRun, testSyncDeps } from '../sync/testing.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

/**
 * Switching the organization to another PagerDuty account: two simulators stand for two
 * accounts behind one identity host, which the server's PagerDuty settings point at in turn.
 */

const OWNER = { organizationName: 'Switchco', name: 'Sam Owner', email: 'sam@switch.test', password: 'correct horse battery' };
const NOW = new Date('2026-06-15T12:00:00Z');
const PAGE_SIZE = 100;

describe.each(testDatabaseTargets())('account switch on $name', ({ open }) => {
  let first: RunningSimulator;
  let second: RunningSimulator;
  let server: TestServer;
  let pagerduty: { clientId: string; clientSecret: string; identityUrl: string; scope: string; allowedApiBaseUrls: string[] };
  let browser: TestBrowser;
  let csrfToken: string;
  let organizationId: string;

  /** Points the server's OAuth settings at one simulator, as PagerDuty serves every account from one identity host. */
  function useAccount(simulator: RunningSimulator): void {
    pagerduty.clientId = simulator.clientId;
    pagerduty.clientSecret = simulator.clientSecret;
    pagerduty.identityUrl = simulator.identityUrl;
  }

  /** Runs Connect through the simulator's consent screen and returns the result code it lands on. */
  async function connect(simulator: RunningSimulator, form: Record<string, string> = {}): Promise<string> {
    const start = await browser.request('/apps/pagerduty/connect', { method: 'POST', form: { _csrf: csrfToken, ...form } });
    expect(start.status).toBe(303);
    const { callbackUrl } = await completeConsent(start.headers.get('location')!, simulator.login);
    const callback = await browser.request(`${callbackUrl.pathname}${callbackUrl.search}`);
    expect(callback.status).toBe(303);
    return new URL(callback.headers.get('location')!, 'http://seatwise.invalid').searchParams.get('result') ?? '';
  }

  /** Syncs and crunches the organization's live connection, as the job queue would. */
  async function syncLiveConnection(): Promise<string> {
    const { db } = server.database;
    const connection = await db.selectFrom('connections').select('id').where('organization_id', '=', organizationId).where('archived_at', 'is', null).executeTakeFirstOrThrow();
    const syncRunId = await createQueuedRun(server.database, { organizationId, connectionId: connection.id });
    const outcome = await runSync(
      testSyncDeps(server.database, server.vault, { now: () => NOW, crunch: (crunchDb, connectionId, asOf) => crunchConnection(crunchDb, connectionId, asOf) }),
      { connectionId: connection.id, syncRunId },
    );
    expect(outcome.errorMessage).toBeNull();
    return connection.id;
  }

  async function allPeopleIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (let page = 1; ; page += 1) {
      const view = await presentPeople(server.database.db, organizationId, { page, pageSize: PAGE_SIZE });
      for (const row of view.rows) ids.add(row.externalId);
      if (page * PAGE_SIZE >= view.total) return ids;
    }
  }

  async function syncedUserIds(connectionId: string): Promise<Set<string>> {
    const rows = await server.database.db.selectFrom('pd_users').select('id').where('connection_id', '=', connectionId).execute();
    return new Set(rows.map((row) => row.id));
  }

  beforeAll(async () => {
    first = await startSimulator({ port: 0, euPort: 0, people: 12, seed: 11, now: NOW, historyDays: 30 });
    second = await startSimulator({ port: 0, euPort: 0, people: 9, seed: 23, now: NOW, historyDays: 30 });
    pagerduty = {
      clientId: first.clientId,
      clientSecret: first.clientSecret,
      identityUrl: first.identityUrl,
      scope: 'read',
      allowedApiBaseUrls: [first.apiUrl, first.euApiUrl, second.apiUrl, second.euApiUrl],
    };
    server = await startTestServer({ database: await open(), pagerduty });
    const setup = await new TestBrowser(server.url).json('/api/setup', { method: 'POST', json: OWNER });
    expect(setup.status).toBe(201);
    browser = new TestBrowser(server.url);
    const session = await browser.json<{ csrfToken: string }>('/api/session', { method: 'POST', json: { email: OWNER.email, password: OWNER.password } });
    expect(session.status).toBe(200);
    csrfToken = session.body.csrfToken;
    organizationId = (await server.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
    await first?.close();
    await second?.close();
  });

  it('switch archives the old account', async () => {
    expect(first.account.id).not.toBe(second.account.id);
    expect(await connect(first)).toBe('connected');
    const firstConnectionId = await syncLiveConnection();
    const firstUserIds = await syncedUserIds(firstConnectionId);
    expect(firstUserIds.size).toBeGreaterThan(0);
    expect(await allPeopleIds()).toEqual(firstUserIds);

    useAccount(second);
    expect(await connect(second)).toBe('account_mismatch');
    const offer = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card?result=account_mismatch');
    expect(offer.body.accountSwitch).toEqual({ currentSubdomain: first.account.subdomain });
    expect(offer.body.notice?.kind).toBe('error');
    const unchanged = await server.database.db.selectFrom('connections').select(['id', 'account_id', 'archived_at']).where('organization_id', '=', organizationId).execute();
    expect(unchanged).toEqual([{ id: firstConnectionId, account_id: first.account.id, archived_at: null }]);

    expect(await connect(second, { confirmAccountSwitch: 'confirmed' })).toBe('account_switched');
    const { db } = server.database;
    const archived = await db.selectFrom('connections').select(['account_id', 'status', 'archived_at']).where('id', '=', firstConnectionId).executeTakeFirstOrThrow();
    expect(archived.account_id).toBe(first.account.id);
    expect(archived.status).toBe('disconnected');
    expect(archived.archived_at).not.toBeNull();
    expect(await readCredentials(db, server.vault, firstConnectionId)).toBeNull();
    expect(await syncedUserIds(firstConnectionId)).toEqual(firstUserIds);

    const card = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card?result=account_switched');
    expect(card.body.state).toBe('connected');
    expect(card.body.accountSwitch).toBeNull();
    expect(card.body.recentRuns).toEqual([]);

    const secondConnectionId = await syncLiveConnection();
    expect(secondConnectionId).not.toBe(firstConnectionId);
    const live = await db.selectFrom('connections').select('account_id').where('id', '=', secondConnectionId).executeTakeFirstOrThrow();
    expect(live.account_id).toBe(second.account.id);
    expect(server.jobs.calls.map((call) => call.connectionId)).toEqual([firstConnectionId, secondConnectionId]);
  });

  it('presenters show only the live account', async () => {
    const { db } = server.database;
    const connections = await db.selectFrom('connections').select(['id', 'archived_at']).where('organization_id', '=', organizationId).execute();
    const archivedId = connections.find((connection) => connection.archived_at !== null)?.id;
    const liveId = connections.find((connection) => connection.archived_at === null)?.id;
    expect(archivedId).toBeDefined();
    expect(liveId).toBeDefined();
    const archivedUserIds = await syncedUserIds(archivedId!);
    const liveUserIds = await syncedUserIds(liveId!);
    for (const id of liveUserIds) expect(archivedUserIds.has(id), `user ${id} is in both accounts`).toBe(false);

    expect(await allPeopleIds()).toEqual(liveUserIds);
    const [archivedPerson] = archivedUserIds;
    expect(await presentPerson(db, organizationId, archivedPerson!)).toBeNull();
    const [livePerson] = liveUserIds;
    expect(await presentPerson(db, organizationId, livePerson!)).not.toBeNull();

    const overview = await presentOverview(db, organizationId);
    const liveSeats = await db.selectFrom('seat_summaries').select(['license_id', 'allocated']).where('connection_id', '=', liveId!).orderBy('license_id').execute();
    expect(overview.seats.map((seat) => ({ license_id: seat.licenseId, allocated: seat.allocated })).sort((a, b) => a.license_id.localeCompare(b.license_id))).toEqual(liveSeats);
    expect(overview.totals.allocated).toBe(liveSeats.reduce((sum, seat) => sum + seat.allocated, 0));

    const recommendations = await presentRecommendations(db, organizationId);
    const liveRecommendations = await db.selectFrom('recommendations').select('external_id').where('connection_id', '=', liveId!).execute();
    expect(recommendations.rows.length).toBe(liveRecommendations.length);
    for (const row of recommendations.rows) expect(liveUserIds.has(row.externalId), `recommendation for ${row.externalId}`).toBe(true);

    const features = await presentFeatures(db, organizationId, {});
    const liveFeatureUsers = await db.selectFrom('person_features').select('external_id').where('connection_id', '=', liveId!).where('count_90d', '>', 0).distinct().execute();
    const maxPeople90d = Math.max(0, ...features.features.map((feature) => feature.people90d));
    expect(maxPeople90d).toBeLessThanOrEqual(liveFeatureUsers.length);
    const liveAccountFeatures = await db.selectFrom('account_features').select('feature_key').where('connection_id', '=', liveId!).execute();
    expect(features.accountFeatures.length).toBe(liveAccountFeatures.length);
    const liveSignals = await db.selectFrom('signal_availability').select('signal').where('connection_id', '=', liveId!).execute();
    expect(features.signals.length).toBe(liveSignals.length);
  });
});
