import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import type { ConnectionCardView } from '../dashboard/connection-card.ts';
import { dumpDatabase, startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

describe('PagerDuty API key connection', () => {
  let simulator: RunningSimulator;
  let server: TestServer;
  let browser: TestBrowser;
  let csrfToken: string;

  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, euPort: 0, people: 10 });
    const [pglite] = testDatabaseTargets();
    server = await startTestServer({
      database: await pglite!.open(),
      pagerduty: {
        clientId: simulator.clientId,
        clientSecret: simulator.clientSecret,
        identityUrl: simulator.identityUrl,
        scope: 'read',
        allowedApiBaseUrls: [simulator.apiUrl, simulator.euApiUrl],
      },
    });
    browser = new TestBrowser(server.url);
    await browser.json('/api/setup', { method: 'POST', json: OWNER });
    csrfToken = (await browser.json<{ csrfToken: string }>('/api/session')).body.csrfToken;
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
    await simulator?.close();
  });

  it('wrong key is rejected', async () => {
    const response = await browser.json<{ error: { code: string } }>('/api/apps/pagerduty/api-key', {
      method: 'POST',
      json: { apiKey: 'not-a-real-key-123' },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('api_key_invalid');
    expect(server.jobs.calls).toEqual([]);
  });

  it('account key connects sealed', async () => {
    const response = await browser.json<{ connectionId: string }>('/api/apps/pagerduty/api-key', {
      method: 'POST',
      json: { apiKey: simulator.apiKey },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(response.status).toBe(201);
    expect(server.jobs.calls).toEqual([{ connectionId: response.body.connectionId, trigger: 'connect' }]);

    const card = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    expect(card.body.state).toBe('connected');
    expect(card.body.account).toMatchObject({ subdomain: simulator.account.subdomain, region: 'us', grantedScope: 'api_key' });
    const connection = await server.database.db.selectFrom('connections').select(['method', 'api_base_url']).executeTakeFirstOrThrow();
    expect(connection).toEqual({ method: 'api_key', api_base_url: simulator.apiUrl });
    expect(await dumpDatabase(server.database)).not.toContain(simulator.apiKey);
    expect(server.logLines.join('')).not.toContain(simulator.apiKey);
  });

  it('same account key reconnects', async () => {
    const before = await server.database.db.selectFrom('connections').select('id').executeTakeFirstOrThrow();
    const response = await browser.json<{ connectionId: string; isAccountSwitched: boolean }>('/api/apps/pagerduty/api-key', {
      method: 'POST',
      json: { apiKey: simulator.apiKey },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ connectionId: before.id, isAccountSwitched: false });
  });

  it('other account key needs confirmation', async () => {
    const { db } = server.database;
    // The connected account becomes another one, as if the organization first connected `previous-co`.
    await db.updateTable('connections').set({ subdomain: 'previous-co', account_id: 'PPREVIOUS' }).execute();
    const previous = await db.selectFrom('connections').select('id').executeTakeFirstOrThrow();
    const jobsBefore = server.jobs.calls.length;

    const rejected = await browser.json<{ error: { code: string; message: string } }>('/api/apps/pagerduty/api-key', {
      method: 'POST',
      json: { apiKey: simulator.apiKey },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(rejected.status).toBe(409);
    expect(rejected.body.error.code).toBe('account_mismatch');
    expect(rejected.body.error.message).toContain(`belongs to the PagerDuty account ${simulator.account.subdomain}, not previous-co`);
    expect(rejected.body.error.message).toContain('confirm');
    expect(server.jobs.calls.length).toBe(jobsBefore);
    const untouched = await db.selectFrom('connections').select(['id', 'subdomain', 'archived_at', 'status']).execute();
    expect(untouched).toEqual([{ id: previous.id, subdomain: 'previous-co', archived_at: null, status: 'connected' }]);
    expect(await db.selectFrom('connection_credentials').select('connection_id').where('connection_id', '=', previous.id).executeTakeFirst()).toBeDefined();

    const switched = await browser.json<{ connectionId: string; isAccountSwitched: boolean }>('/api/apps/pagerduty/api-key', {
      method: 'POST',
      json: { apiKey: simulator.apiKey, confirmAccountSwitch: true },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(switched.status).toBe(201);
    expect(switched.body.isAccountSwitched).toBe(true);
    expect(switched.body.connectionId).not.toBe(previous.id);
    expect(server.jobs.calls.at(-1)).toEqual({ connectionId: switched.body.connectionId, trigger: 'connect' });

    const archived = await db.selectFrom('connections').select(['status', 'archived_at', 'subdomain']).where('id', '=', previous.id).executeTakeFirstOrThrow();
    expect(archived.status).toBe('disconnected');
    expect(archived.archived_at).not.toBeNull();
    expect(await db.selectFrom('connection_credentials').select('connection_id').where('connection_id', '=', previous.id).executeTakeFirst()).toBeUndefined();
    const live = await db.selectFrom('connections').select(['subdomain', 'account_id', 'method']).where('archived_at', 'is', null).executeTakeFirstOrThrow();
    expect(live).toEqual({ subdomain: simulator.account.subdomain, account_id: null, method: 'api_key' });

    const card = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    expect(card.body.account?.subdomain).toBe(simulator.account.subdomain);
    const audit = await browser.json<{ events: { action: string; details: Record<string, unknown> }[] }>('/api/audit');
    const archivedEvent = audit.body.events.find((event) => event.action === 'pagerduty.archived');
    expect(archivedEvent?.details).toMatchObject({ connectionId: previous.id, subdomain: 'previous-co', replacedBySubdomain: simulator.account.subdomain });
  });
});
