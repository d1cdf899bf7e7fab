import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: ['http://127.0.0.1:9'] };
const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

describe('NUL characters in URLs', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
    server = await startTestServer({ database, pagerduty: PAGERDUTY });
    browser = new TestBrowser(server.url);
    const created = await browser.json('/api/setup', { method: 'POST', json: OWNER });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  it.each(['/api/people/%00', '/api/people/P%00X', '/api/people?search=%00', '/api/people?search=a%00b'])('%s is a 400 invalid_request', async (path) => {
    const response = await browser.json<{ error: { code: string; message: string } }>(path);

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain('NUL');
  });

  it('logs no error for a NUL request', async () => {
    await browser.json('/api/people?search=%00');

    expect(server.logLines.some((line) => line.includes('"level":50'))).toBe(false);
  });
});
