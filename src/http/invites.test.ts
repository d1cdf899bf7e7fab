import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../../simulator/consent-driver.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { insertUser } from '../accounts/repository.ts';
import type { ConnectionCardView } from '../dashboard/connection-card.ts';
import { startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const OWNER = { organizationName: 'Acme <Ops>', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };
const MEMBER = { name: 'Max Member', email: 'max@acme.test', password: 'member password 1' };

async function signIn(server: TestServer, person: { email: string; password: string }): Promise<{ browser: TestBrowser; csrfToken: string }> {
  const browser = new TestBrowser(server.url);
  const { status, body } = await browser.json<{ csrfToken: string }>('/api/session', { method: 'POST', json: { email: person.email, password: person.password } });
  expect(status).toBe(200);
  return { browser, csrfToken: body.csrfToken };
}

interface OutboxMessage {
  to: string;
  subject: string;
  text: string;
}

describe('invite your PagerDuty admin', () => {
  let simulator: RunningSimulator;
  let server: TestServer;

  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, euPort: 0, people: 15 });
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
    const setup = await new TestBrowser(server.url).json<{ user: { id: string } }>('/api/setup', { method: 'POST', json: OWNER });
    const organization = await server.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
    await insertUser(server.database.db, {
      organizationId: organization.id,
      email: MEMBER.email,
      name: MEMBER.name,
      passwordHash: await hashPassword(MEMBER.password),
      role: 'member',
    });
    expect(setup.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
    await simulator?.close();
  });

  it('invite link connects once', async () => {
    const member = await signIn(server, MEMBER);
    const sent = await member.browser.json<{ invite: { status: string; email: string } }>('/api/apps/pagerduty/invites', {
      method: 'POST',
      json: { email: 'pd-admin@acme.test', note: 'Please <b>connect</b>' },
      headers: { 'x-csrf-token': member.csrfToken },
    });
    expect(sent.status).toBe(201);
    expect(sent.body.invite).toMatchObject({ status: 'pending', email: 'pd-admin@acme.test' });

    const owner = await signIn(server, OWNER);
    const outbox = await owner.browser.json<{ messages: OutboxMessage[] }>('/api/outbox');
    const inviteMail = outbox.body.messages.find((message) => message.to === 'pd-admin@acme.test');
    const link = /https?:\/\/\S+\/invites\/pagerduty\/[A-Za-z0-9_-]+/.exec(inviteMail?.text ?? '')?.[0];
    expect(link).toBeDefined();
    const invitePath = new URL(link!).pathname;

    const invitee = new TestBrowser(server.url);
    const page = await invitee.request(invitePath);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Acme &lt;Ops&gt;');
    expect(html).toContain('Please &lt;b&gt;connect&lt;/b&gt;');
    expect(html).toContain('Read-only access');
    expect(html).toContain('<button type="submit">Connect</button>');

    const start = await invitee.request(`${invitePath}/connect`, { method: 'POST', form: {} });
    expect(start.status).toBe(303);
    const { callbackUrl } = await completeConsent(start.headers.get('location')!, simulator.login);
    const callback = await invitee.request(`${callbackUrl.pathname}${callbackUrl.search}`);
    expect(callback.headers.get('location')).toBe('/invites/pagerduty/done?result=connected');
    const done = await (await invitee.request('/invites/pagerduty/done?result=connected')).text();
    expect(done).toContain('PagerDuty is connected');

    const card = await owner.browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    expect(card.body.state).toBe('connected');
    const invites = await member.browser.json<{ invites: { status: string }[] }>('/api/apps/pagerduty/invites');
    expect(invites.body.invites[0]?.status).toBe('used');
    const mails = await owner.browser.json<{ messages: OutboxMessage[] }>('/api/outbox');
    expect(mails.body.messages.some((message) => message.to === MEMBER.email && message.subject === 'PagerDuty is connected to Seatwise')).toBe(true);
    expect(server.jobs.calls.at(-1)?.trigger).toBe('connect');

    const replay = await new TestBrowser(server.url).request(invitePath);
    expect(replay.status).toBe(410);
    const replayStart = await new TestBrowser(server.url).request(`${invitePath}/connect`, { method: 'POST', form: {} });
    expect(replayStart.status).toBe(410);
  });

  it('viewer cannot send invites', async () => {
    const organization = await server.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
    await insertUser(server.database.db, {
      organizationId: organization.id,
      email: 'vera@acme.test',
      name: 'Vera Viewer',
      passwordHash: await hashPassword('viewer password 1'),
      role: 'viewer',
    });
    const viewer = await signIn(server, { email: 'vera@acme.test', password: 'viewer password 1' });
    const response = await viewer.browser.json<{ error: { code: string } }>('/api/apps/pagerduty/invites', {
      method: 'POST',
      json: { email: 'x@acme.test' },
      headers: { 'x-csrf-token': viewer.csrfToken },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('role_forbidden');
  });

  it('disconnect deletes tokens and data', async () => {
    const owner = await signIn(server, OWNER);
    const connection = await server.database.db.selectFrom('connections').select('id').executeTakeFirstOrThrow();

    const response = await owner.browser.json<{ keptData: boolean; instructions: string }>('/api/apps/pagerduty/connection?keepData=false', {
      method: 'DELETE',
      headers: { 'x-csrf-token': owner.csrfToken },
    });
    expect(response.status).toBe(200);
    expect(response.body.keptData).toBe(false);
    expect(response.body.instructions).toContain('remove the grant in PagerDuty');

    const credentials = await server.database.db.selectFrom('connection_credentials').select('connection_id').where('connection_id', '=', connection.id).execute();
    expect(credentials).toEqual([]);
    const card = await owner.browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    expect(card.body.state).toBe('not_connected');
    const audit = await owner.browser.json<{ events: { action: string }[] }>('/api/audit');
    expect(audit.body.events.map((event) => event.action)).toEqual(expect.arrayContaining(['pagerduty.disconnected', 'pagerduty.connected', 'pagerduty.invite_sent']));
  });
});
