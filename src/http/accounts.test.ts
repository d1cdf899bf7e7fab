import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const PAGERDUTY = {
  clientId: 'client',
  clientSecret: 'secret',
  identityUrl: 'http://127.0.0.1:9',
  scope: 'read',
  allowedApiBaseUrls: ['http://127.0.0.1:9'],
};
const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

describe.each(testDatabaseTargets())('accounts over HTTP on $name', ({ open }) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ database: await open(), pagerduty: PAGERDUTY });
  });
  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  it('setup creates owner once', async () => {
    const browser = new TestBrowser(server.url);

    expect((await browser.json('/api/setup')).body).toEqual({ isSetupRequired: true });
    const root = await browser.request('/');
    expect(root.headers.get('location')).toBe('/setup');

    const created = await browser.json<{ user: { role: string; email: string } }>('/api/setup', { method: 'POST', json: OWNER });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ role: 'owner', email: OWNER.email });
    expect(browser.cookies.has('seatwise_session')).toBe(true);

    const again = await new TestBrowser(server.url).json<{ error: { code: string } }>('/api/setup', { method: 'POST', json: OWNER });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('setup_complete');
    expect((await browser.json('/api/setup')).body).toEqual({ isSetupRequired: false });
  });

  it('session returns user and csrf', async () => {
    const browser = new TestBrowser(server.url);
    const signedIn = await browser.json<{ user: { email: string }; csrfToken: string; supportEmail: string; isDemo: boolean }>('/api/session', {
      method: 'POST',
      json: { email: OWNER.email.toUpperCase(), password: OWNER.password },
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user.email).toBe(OWNER.email);
    expect(signedIn.body.supportEmail).toBe('help@seatwise.test');
    expect(signedIn.body.isDemo).toBe(false);

    const session = await browser.json<{ csrfToken: string }>('/api/session');
    expect(session.status).toBe(200);
    expect(session.body.csrfToken).toBe(signedIn.body.csrfToken);

    const setCookie = (await browser.request('/api/session', { method: 'POST', json: { email: OWNER.email, password: OWNER.password } })).headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Path=\//);
  });

  it('sign-in rejects wrong password', async () => {
    const browser = new TestBrowser(server.url);
    const wrong = await browser.json<{ error: { code: string; message: string } }>('/api/session', {
      method: 'POST',
      json: { email: OWNER.email, password: 'wrong password here' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect(browser.cookies.has('seatwise_session')).toBe(false);

    const unknown = await browser.json<{ error: { code: string } }>('/api/session', { method: 'POST', json: { email: 'nobody@acme.test', password: 'x' } });
    expect(unknown.body.error.code).toBe('invalid_credentials');
  });

  it('sign-out needs csrf then ends session', async () => {
    const browser = new TestBrowser(server.url);
    const { body } = await browser.json<{ csrfToken: string }>('/api/session', { method: 'POST', json: { email: OWNER.email, password: OWNER.password } });

    const withoutToken = await browser.json<{ error: { code: string } }>('/api/session', { method: 'DELETE' });
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.body.error.code).toBe('csrf_invalid');

    const signedOut = await browser.request('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': body.csrfToken } });
    expect(signedOut.status).toBe(204);
    const after = await browser.json<{ error: { code: string } }>('/api/session');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('session_required');
  });

  it('validation error names the field', async () => {
    const response = await new TestBrowser(server.url).json<{ error: { code: string; message: string } }>('/api/session', {
      method: 'POST',
      json: { email: 'not-an-email', password: 'x' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain('body.email');
  });

  it('form-encoded api body is rejected', async () => {
    const response = await new TestBrowser(server.url).json<{ error: { code: string } }>('/api/session', {
      method: 'POST',
      form: { email: OWNER.email, password: OWNER.password },
    });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('unsupported_media_type');
  });

  it('oversized body names the limit', async () => {
    const response = await new TestBrowser(server.url).json<{ error: { code: string; message: string } }>('/api/session', {
      method: 'POST',
      json: { email: OWNER.email, password: 'x'.repeat(100 * 1024) },
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('body_too_large');
    expect(response.body.error.message).toContain('64 KB');
  });

  it('unknown api path returns envelope', async () => {
    const response = await new TestBrowser(server.url).json<{ error: { code: string } }>('/api/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('browser route serves the page', async () => {
    const response = await new TestBrowser(server.url).request('/people');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('password reset link works once', async () => {
    const owner = new TestBrowser(server.url);
    await owner.json('/api/session', { method: 'POST', json: { email: OWNER.email, password: OWNER.password } });

    const unknown = await new TestBrowser(server.url).json<{ message: string }>('/api/password-reset', { method: 'POST', json: { email: 'nobody@acme.test' } });
    const known = await new TestBrowser(server.url).json<{ message: string }>('/api/password-reset', { method: 'POST', json: { email: OWNER.email } });
    expect(known.status).toBe(202);
    expect(unknown.body).toEqual(known.body);

    const outbox = await owner.json<{ messages: { to: string; text: string }[] }>('/api/outbox');
    const mail = outbox.body.messages.find((message) => message.to === OWNER.email);
    const token = new URL(/https?:\/\/\S+\/reset-password\?token=\S+/.exec(mail?.text ?? '')![0]).searchParams.get('token')!;

    const newPassword = 'a brand new passphrase';
    const reset = await new TestBrowser(server.url).request('/api/password-reset/confirm', { method: 'POST', json: { token, password: newPassword } });
    expect(reset.status).toBe(204);
    expect((await owner.request('/api/session')).status).toBe(401);

    const replay = await new TestBrowser(server.url).json<{ error: { code: string } }>('/api/password-reset/confirm', { method: 'POST', json: { token, password: 'yet another passphrase' } });
    expect(replay.status).toBe(400);
    expect(replay.body.error.code).toBe('reset_link_invalid');

    const oldPassword = await new TestBrowser(server.url).request('/api/session', { method: 'POST', json: { email: OWNER.email, password: OWNER.password } });
    expect(oldPassword.status).toBe(401);
    const signedIn = await new TestBrowser(server.url).request('/api/session', { method: 'POST', json: { email: OWNER.email, password: newPassword } });
    expect(signedIn.status).toBe(200);
  });
});
