import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/repository.ts';
import { createTenant } from '../analytics/testing.ts';
import { presentConnectionCard, type ConnectionCardView } from '../dashboard/connection-card.ts';
import { migrate } from '../db/migrate.ts';
import { nextScheduledSync } from '../sync/schedule.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: [] };
const OWNER = { email: 'olga@kept.test', password: 'kept owner password' };
/** `createTenant` records this as the connection's last sync. */
const LAST_SYNC_AT = '2026-06-01T00:00:00.000Z';

describe('connections card over HTTP', () => {
  let server: TestServer;
  let tenant: { organizationId: string; connectionId: string };
  let connectRunId: string;
  let scheduledRunId: string;

  async function signIn(): Promise<{ browser: TestBrowser; csrfToken: string }> {
    const browser = new TestBrowser(server.url);
    expect((await browser.request('/api/session', { method: 'POST', json: OWNER })).status).toBe(200);
    return { browser, csrfToken: (await browser.json<{ csrfToken: string }>('/api/session')).body.csrfToken };
  }

  beforeAll(async () => {
    const [pglite] = testDatabaseTargets();
    const database = await pglite!.open();
    await migrate(database);
    tenant = await createTenant(database.db, 'Kept');
    const runs = await database.db
      .insertInto('sync_runs')
      .values([
        { organization_id: tenant.organizationId, connection_id: tenant.connectionId, kind: 'full', status: 'succeeded', trigger: 'connect', created_at: '2026-05-31T23:00:00Z', started_at: '2026-05-31T23:00:00Z', finished_at: '2026-05-31T23:10:00Z' },
        { organization_id: tenant.organizationId, connection_id: tenant.connectionId, kind: 'incremental', status: 'partial', trigger: 'schedule', created_at: LAST_SYNC_AT, started_at: LAST_SYNC_AT, finished_at: '2026-06-01T00:02:00Z' },
      ])
      .returning('id')
      .execute();
    connectRunId = runs[0]!.id;
    scheduledRunId = runs[1]!.id;
    await database.db
      .insertInto('sync_run_streams')
      .values([
        { sync_run_id: connectRunId, stream: 'users', status: 'succeeded', pages: 3, records: 250, started_at: '2026-05-31T23:00:01Z', finished_at: '2026-05-31T23:00:41Z' },
        { sync_run_id: connectRunId, stream: 'audit_records', status: 'unavailable', pages: 0, records: 0, message: 'Not on the PagerDuty plan (HTTP 402).', started_at: '2026-05-31T23:00:01Z', finished_at: '2026-05-31T23:00:01Z' },
        { sync_run_id: scheduledRunId, stream: 'users', status: 'succeeded', pages: 1, records: 12, started_at: '2026-06-01T00:00:01Z', finished_at: '2026-06-01T00:00:03Z' },
        { sync_run_id: scheduledRunId, stream: 'incidents', status: 'failed', pages: 2, records: 150, message: 'PagerDuty did not answer reliably (HTTP 503).', started_at: '2026-06-01T00:00:01Z', finished_at: '2026-06-01T00:01:30Z' },
      ])
      .execute();
    await insertUser(database.db, { organizationId: tenant.organizationId, email: OWNER.email, name: 'Olga Owner', passwordHash: await hashPassword(OWNER.password), role: 'owner' });
    server = await startTestServer({ database, pagerduty: PAGERDUTY });
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
  });

  it('reconnect run reads reconnect', async () => {
    const { browser } = await signIn();
    const reconnectRun = await server.database.db
      .insertInto('sync_runs')
      .values({ organization_id: tenant.organizationId, connection_id: tenant.connectionId, kind: 'full', status: 'queued', trigger: 'connect', created_at: '2026-06-02T00:00:00Z' })
      .returning('id')
      .executeTakeFirstOrThrow();

    const whileQueued = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card?result=connected');
    expect(whileQueued.body.currentRun?.id).toBe(reconnectRun.id);
    expect(whileQueued.body.notice?.message).toContain('Seatwise started a sync');

    await server.database.db.updateTable('sync_runs').set({ status: 'succeeded', started_at: '2026-06-02T00:00:00Z', finished_at: '2026-06-02T00:05:00Z' }).where('id', '=', reconnectRun.id).execute();
    const afterRun = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card?result=connected');
    expect(afterRun.body.currentRun).toBeNull();
    expect(afterRun.body.notice).toBeNull();
    expect(afterRun.body.recentRuns.map((run) => run.trigger)).toEqual(['reconnect', 'schedule', 'connect']);

    const denied = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card?result=access_denied');
    expect(denied.body.notice?.kind).toBe('error');
    await server.database.db.deleteFrom('sync_runs').where('id', '=', reconnectRun.id).execute();
  });

  it('history lists each run\'s streams', async () => {
    const { browser } = await signIn();
    const card = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card');

    expect(card.body.recentRuns.map((run) => run.id)).toEqual([scheduledRunId, connectRunId]);
    const [scheduled, connect] = card.body.recentRuns;
    expect(connect?.streams).toEqual([
      { stream: 'audit_records', status: 'unavailable', records: 0, startedAt: '2026-05-31T23:00:01.000Z', finishedAt: '2026-05-31T23:00:01.000Z', message: 'Not on the PagerDuty plan (HTTP 402).' },
      { stream: 'users', status: 'succeeded', records: 250, startedAt: '2026-05-31T23:00:01.000Z', finishedAt: '2026-05-31T23:00:41.000Z', message: null },
    ]);
    expect(scheduled?.streams.map((stream) => [stream.stream, stream.status, stream.records])).toEqual([
      ['incidents', 'failed', 150],
      ['users', 'succeeded', 12],
    ]);
    expect(scheduled?.streams[0]?.message).toBe('PagerDuty did not answer reliably (HTTP 503).');
  });

  it('next sync over HTTP', async () => {
    const { browser } = await signIn();
    const before = nextScheduledSync(new Date());
    const card = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    const after = nextScheduledSync(new Date());

    expect(card.body.nextSync?.isQueued).toBe(false);
    // The request may cross a schedule's instant, so the result of either side is right.
    expect([before.at.toISOString(), after.at.toISOString()]).toContain(card.body.nextSync?.scheduled.at);
    expect([before.kind, after.kind]).toContain(card.body.nextSync?.scheduled.kind);
  });

  it('next sync by schedule and state', async () => {
    const db = server.database.db;
    const viewer = { role: 'owner' as const, supportEmail: 'help@kept.test' };
    const present = (now: string): Promise<ConnectionCardView> => presentConnectionCard(db, tenant.organizationId, viewer, undefined, new Date(now));

    expect((await present('2026-06-02T01:50:00Z')).nextSync).toEqual({ isQueued: false, scheduled: { at: '2026-06-02T02:05:00.000Z', kind: 'incremental' } });
    expect((await present('2026-06-02T02:05:00Z')).nextSync).toEqual({ isQueued: false, scheduled: { at: '2026-06-02T02:35:00.000Z', kind: 'full' } });
    expect((await present('2026-06-02T23:59:00Z')).nextSync?.scheduled).toEqual({ at: '2026-06-03T00:05:00.000Z', kind: 'incremental' });

    // A queued run goes before the schedule.
    const queued = await db
      .insertInto('sync_runs')
      .values({ organization_id: tenant.organizationId, connection_id: tenant.connectionId, kind: 'full', status: 'queued', trigger: 'manual', created_at: '2026-06-02T00:00:00Z' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const whileQueued = await present('2026-06-02T01:50:00Z');
    expect(whileQueued.state).toBe('syncing');
    expect(whileQueued.nextSync?.isQueued).toBe(true);
    await db.deleteFrom('sync_runs').where('id', '=', queued.id).execute();

    // Until a sync succeeds, even in part, every scheduled run is a full one.
    await db.updateTable('connections').set({ last_sync_at: null }).where('id', '=', tenant.connectionId).execute();
    expect((await present('2026-06-02T01:50:00Z')).nextSync?.scheduled).toEqual({ at: '2026-06-02T02:05:00.000Z', kind: 'full' });

    // A connection that cannot sync has no next sync.
    await db.updateTable('connections').set({ status: 'needs_reconnect', status_reason: 'The refresh token was revoked.' }).where('id', '=', tenant.connectionId).execute();
    expect((await present('2026-06-02T01:50:00Z')).nextSync).toBeNull();
    await db.updateTable('connections').set({ status: 'error', status_reason: 'PagerDuty rejected the request.' }).where('id', '=', tenant.connectionId).execute();
    expect((await present('2026-06-02T01:50:00Z')).nextSync).toBeNull();

    await db.updateTable('connections').set({ status: 'connected', status_reason: null, last_sync_at: new Date(LAST_SYNC_AT) }).where('id', '=', tenant.connectionId).execute();
  });

  it('kept data keeps card history', async () => {
    const { browser, csrfToken } = await signIn();
    const response = await browser.json<{ keptData: boolean }>('/api/apps/pagerduty/connection?keepData=true', { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } });
    expect(response.status).toBe(200);
    expect(response.body.keptData).toBe(true);

    const card = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    expect(card.body.state).toBe('not_connected');
    expect(card.body.account).toBeNull();
    expect(card.body.lastSyncAt).toBe(LAST_SYNC_AT);
    expect(card.body.keptAccount?.subdomain).toBe('kept');
    expect(card.body.recentRuns.map((run) => run.trigger)).toEqual(['schedule', 'connect']);
    expect(card.body.currentRun).toBeNull();
    expect(card.body.nextSync).toBeNull();
    expect(card.body.recentRuns[0]?.streams.map((stream) => stream.stream)).toEqual(['incidents', 'users']);

    const overview = await browser.json<{ connection: { lastSyncAt: string | null } | null }>('/api/overview');
    expect(overview.body.connection?.lastSyncAt).toBe(card.body.lastSyncAt);
  });
});
