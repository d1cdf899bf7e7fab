import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, testDatabaseTargets } from '../../test/support/databases.ts';
import { MAX_ATTEMPTS_PER_EMAIL } from '../accounts/sign-in-limit.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = {
  clientId: 'client',
  clientSecret: 'secret',
  identityUrl: 'http://127.0.0.1:9',
  scope: 'read',
  allowedApiBaseUrls: ['http://127.0.0.1:9'],
};
const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

/** Two handles on one database: two PostgreSQL pools, as two web processes would open, or one PGlite. */
async function openTwice(name: string, open: () => Promise<Database>): Promise<[Database, Database]> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (name === 'PostgreSQL' && adminUrl) {
    const url = await createScratchDatabase(adminUrl);
    return [await openDatabase({ kind: 'postgres', url }), await openDatabase({ kind: 'postgres', url })];
  }
  const database = await open();
  return [database, database];
}

function signIn(server: TestServer, password: string) {
  return new TestBrowser(server.url).json<{ error?: { code: string; message: string } }>('/api/session', {
    method: 'POST',
    json: { email: OWNER.email, password },
  });
}

describe.each(testDatabaseTargets())('sign-in limit over HTTP on $name', ({ name, open }) => {
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    const [databaseOne, databaseTwo] = await openTwice(name, open);
    first = await startTestServer({ database: databaseOne, pagerduty: PAGERDUTY });
    second = await startTestServer({ database: databaseTwo, pagerduty: PAGERDUTY });
    expect((await new TestBrowser(first.url).json('/api/setup', { method: 'POST', json: OWNER })).status).toBe(201);
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await first.database.close();
    if (second.database !== first.database) await second.database.close();
  });

  it('servers share one limit', async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_EMAIL; attempt += 1) {
      const server = attempt % 2 === 0 ? first : second;
      expect((await signIn(server, `wrong guess ${attempt}`)).status, `attempt ${attempt}`).toBe(401);
    }

    for (const server of [first, second]) {
      const response = await new TestBrowser(server.url).request('/api/session', { method: 'POST', json: { email: OWNER.email, password: OWNER.password } });
      expect(response.status).toBe(429);
      const retryAfterSeconds = Number(response.headers.get('retry-after'));
      expect(retryAfterSeconds).toBeGreaterThan(0);
      expect(retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('rate_limited');
      expect(body.error.message).toMatch(/Too many sign-in attempts for this email address\. Try again after \d\d:\d\d UTC \(in \d+ minutes?\)/);
      expect(body.error.message).toContain('reset your password');
    }
  });

  it('password reset lifts the limit', async () => {
    expect((await signIn(first, OWNER.password)).status).toBe(429);

    expect((await new TestBrowser(second.url).json('/api/password-reset', { method: 'POST', json: { email: OWNER.email } })).status).toBe(202);
    const mail = await first.database.db.selectFrom('mail_outbox').select(['key_id', 'body_ciphertext']).where('to_address', '=', OWNER.email).executeTakeFirstOrThrow();
    // The second server sealed the mail with its own key.
    const text = second.vault.open({ keyId: mail.key_id, ciphertext: mail.body_ciphertext });
    const token = new URL(/https?:\/\/\S+\/reset-password\?token=\S+/.exec(text)![0]).searchParams.get('token')!;
    const newPassword = 'a brand new passphrase';
    const reset = await new TestBrowser(second.url).request('/api/password-reset/confirm', { method: 'POST', json: { token, password: newPassword } });
    expect(reset.status).toBe(204);

    expect((await signIn(first, newPassword)).status).toBe(200);
  });

  it('successful sign-in clears the count', async () => {
    const newPassword = 'a brand new passphrase';
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_EMAIL - 1; attempt += 1) expect((await signIn(second, `wrong again ${attempt}`)).status).toBe(401);
    expect((await signIn(first, newPassword)).status).toBe(200);
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_EMAIL - 1; attempt += 1) expect((await signIn(first, `wrong later ${attempt}`)).status).toBe(401);
    expect((await signIn(second, newPassword)).status).toBe(200);
  });
});
