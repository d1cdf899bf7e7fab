import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, type TestServer } from './testing/harness.ts';

const PAGERDUTY = { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: ['http://127.0.0.1:9'] };

describe('JSON request bodies', () => {
  let server: TestServer;

  beforeAll(async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
    server = await startTestServer({ database, pagerduty: PAGERDUTY });
  });
  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  async function post(body: string): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
    const response = await fetch(`${server.url}/api/session`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
  }

  it('__proto__ key is named', async () => {
    const response = await post('{"email":"a@b.test","password":"x","__proto__":{"isAdmin":true}}');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain('"__proto__"');
    expect(response.body.error.message).not.toContain('not valid JSON');
  });

  it('malformed JSON is invalid', async () => {
    const response = await post('{"email":');
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('not valid JSON');
  });

  it('valid JSON reaches the route', async () => {
    const response = await post('{"email":"nobody@example.test","password":"wrong password 1"}');
    expect(response.status).not.toBe(400);
  });
});
