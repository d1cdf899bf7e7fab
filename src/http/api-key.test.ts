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
});
