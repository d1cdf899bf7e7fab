import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

describe('settings over HTTP', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let csrfToken: string;

  beforeAll(async () => {
    const [pglite] = testDatabaseTargets();
    server = await startTestServer({
      database: await pglite!.open(),
      pagerduty: { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: [] },
    });
    browser = new TestBrowser(server.url);
    await browser.json('/api/setup', { method: 'POST', json: OWNER });
    csrfToken = (await browser.json<{ csrfToken: string }>('/api/session')).body.csrfToken;
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
  });

  it('support email change reaches card', async () => {
    const saved = await browser.json<{ supportEmail: string | null; members: { email: string }[] }>('/api/settings/support-email', {
      method: 'PUT',
      json: { supportEmail: 'desk@acme.test' },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.supportEmail).toBe('desk@acme.test');
    expect(saved.body.members.map((member) => member.email)).toEqual([OWNER.email]);

    expect((await browser.json<{ supportEmail: string }>('/api/session')).body.supportEmail).toBe('desk@acme.test');
    expect((await browser.json<{ supportEmail: string }>('/api/apps/pagerduty/card')).body.supportEmail).toBe('desk@acme.test');
    const audit = await browser.json<{ events: { action: string }[] }>('/api/audit');
    expect(audit.body.events[0]?.action).toBe('settings.changed');
  });

  it('invalid unused days names field', async () => {
    const response = await browser.json<{ error: { code: string; message: string } }>('/api/settings/recommendations', {
      method: 'PUT',
      json: { unusedDays: 45 },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('unusedDays');
  });

  it('join link creates member once', async () => {
    const invited = await browser.json<{ role: string }>('/api/members/invites', {
      method: 'POST',
      json: { email: 'newcomer@acme.test', role: 'member' },
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(invited.status).toBe(201);
    const outbox = await browser.json<{ messages: { to: string; text: string }[] }>('/api/outbox');
    const text = outbox.body.messages.find((message) => message.to === 'newcomer@acme.test')?.text ?? '';
    const token = new URL(/https?:\/\/\S+\/join\?token=\S+/.exec(text)![0]).searchParams.get('token')!;

    const newcomer = new TestBrowser(server.url);
    const page = await newcomer.request(`/join?token=${encodeURIComponent(token)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Join Acme');
    const joined = await newcomer.request('/join', { method: 'POST', form: { token, name: 'Nia Newcomer', password: 'newcomer password' } });
    expect(joined.status).toBe(303);
    expect(joined.headers.get('location')).toBe('/catalog');
    const session = await newcomer.json<{ user: { role: string; email: string } }>('/api/session');
    expect(session.body.user).toMatchObject({ role: 'member', email: 'newcomer@acme.test' });

    const replay = await new TestBrowser(server.url).request('/join', { method: 'POST', form: { token, name: 'Mallory', password: 'another password 1' } });
    expect(replay.status).toBe(410);
    const forged = await new TestBrowser(server.url).request(`/join?token=${encodeURIComponent(token.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A')))}`);
    expect(forged.status).toBe(410);
  });
});
