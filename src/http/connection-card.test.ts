import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/repository.ts';
import { createTenant } from '../analytics/testing.ts';
import type { ConnectionCardView } from '../dashboard/connection-card.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: [] };
const OWNER = { email: 'olga@kept.test', password: 'kept owner password' };
/** `createTenant` records this as the connection's last sync. */
const LAST_SYNC_AT = '2026-06-01T00:00:00.000Z';

describe('connections card over HTTP', () => {
  let server: TestServer;
  let tenant: { organizationId: string; connectionId: string };

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
    await database.db
      .insertInto('sync_runs')
      .values([
        { organization_id: tenant.organizationId, connection_id: tenant.connectionId, kind: 'full', status: 'succeeded', trigger: 'connect', created_at: '2026-05-31T23:00:00Z', started_at: '2026-05-31T23:00:00Z', finished_at: '2026-05-31T23:10:00Z' },
        { organization_id: tenant.organizationId, connection_id: tenant.connectionId, kind: 'incremental', status: 'succeeded', trigger: 'schedule', created_at: LAST_SYNC_AT, started_at: LAST_SYNC_AT, finished_at: '2026-06-01T00:02:00Z' },
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

    const overview = await browser.json<{ connection: { lastSyncAt: string | null } | null }>('/api/overview');
    expect(overview.body.connection?.lastSyncAt).toBe(card.body.lastSyncAt);
  });
});
