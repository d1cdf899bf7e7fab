import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../../simulator/consent-driver.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { CONNECT_RESULTS, type ConnectResultCode } from '../connections/connect.ts';
import { readCredentials } from '../connections/credentials.ts';
import { markNeedsReconnect } from '../connections/refresh.ts';
import type { ConnectionCardView } from '../dashboard/connection-card.ts';
import { dumpDatabase, startTestServer, TestBrowser, type TestServer } from './testing/harness.ts';

const OWNER = { organizationName: 'Acme', name: 'Ada Owner', email: 'ada@acme.test', password: 'correct horse battery' };

async function signIn(server: TestServer): Promise<{ browser: TestBrowser; csrfToken: string }> {
  const browser = new TestBrowser(server.url);
  const { status, body } = await browser.json<{ csrfToken: string }>('/api/session', {
    method: 'POST',
    json: { email: OWNER.email, password: OWNER.password },
  });
  expect(status).toBe(200);
  return { browser, csrfToken: body.csrfToken };
}

/** Presses Connect and returns PagerDuty's authorize URL. */
async function pressConnect(browser: TestBrowser, csrfToken: string): Promise<string> {
  const response = await browser.request('/apps/pagerduty/connect', { method: 'POST', form: { _csrf: csrfToken } });
  expect(response.status).toBe(303);
  const location = response.headers.get('location');
  expect(location).not.toBeNull();
  return location!;
}

/** Follows PagerDuty's redirect back to Seatwise and returns the result code it lands on. */
async function followCallback(browser: TestBrowser, callbackUrl: URL): Promise<string> {
  const response = await browser.request(`${callbackUrl.pathname}${callbackUrl.search}`);
  expect(response.status).toBe(303);
  const landing = new URL(response.headers.get('location') ?? '', 'http://seatwise.invalid');
  expect(landing.pathname).toBe('/apps/pagerduty');
  return landing.searchParams.get('result') ?? '';
}

async function expectCardNotice(browser: TestBrowser, code: ConnectResultCode): Promise<ConnectionCardView> {
  const { status, body } = await browser.json<ConnectionCardView>(`/api/apps/pagerduty/card?result=${code}`);
  expect(status).toBe(200);
  expect(body.notice).toEqual({ kind: CONNECT_RESULTS[code].kind, message: CONNECT_RESULTS[code].message });
  expect(body.supportEmail).toBe('help@seatwise.test');
  return body;
}

describe.each(testDatabaseTargets())('PagerDuty connect flow on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let server: TestServer;

  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, euPort: 0, people: 20 });
    server = await startTestServer({
      database: await open(),
      pagerduty: {
        clientId: simulator.clientId,
        clientSecret: simulator.clientSecret,
        identityUrl: simulator.identityUrl,
        scope: 'read',
        allowedApiBaseUrls: [simulator.apiUrl, simulator.euApiUrl],
      },
    });
    const setup = await new TestBrowser(server.url).json('/api/setup', { method: 'POST', json: OWNER });
    expect(setup.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
    await simulator?.close();
  });

  it('deny lands on access_denied', async () => {
    const { browser, csrfToken } = await signIn(server);
    const authorizeUrl = await pressConnect(browser, csrfToken);
    const { callbackUrl } = await completeConsent(authorizeUrl, { ...simulator.login, decision: 'deny' });

    expect(await followCallback(browser, callbackUrl)).toBe('access_denied');
    const card = await expectCardNotice(browser, 'access_denied');
    expect(card.state).toBe('not_connected');
    expect(server.jobs.calls).toEqual([]);
  });

  it('expired state lands on state_invalid', async () => {
    const { browser, csrfToken } = await signIn(server);
    const authorizeUrl = await pressConnect(browser, csrfToken);
    const { callbackUrl } = await completeConsent(authorizeUrl, simulator.login);
    await server.database.db.updateTable('oauth_states').set({ expires_at: new Date(Date.now() - 1000) }).where('used_at', 'is', null).execute();

    expect(await followCallback(browser, callbackUrl)).toBe('state_invalid');
    await expectCardNotice(browser, 'state_invalid');
  });

  it('state from another session is refused', async () => {
    const starter = await signIn(server);
    const other = await signIn(server);
    const authorizeUrl = await pressConnect(starter.browser, starter.csrfToken);
    const { callbackUrl } = await completeConsent(authorizeUrl, simulator.login);

    expect(await followCallback(other.browser, callbackUrl)).toBe('state_invalid');
    await expectCardNotice(other.browser, 'state_invalid');
    // The state is spent by the refused attempt, so its own browser cannot use it either.
    expect(await followCallback(starter.browser, callbackUrl)).toBe('state_invalid');
  });

  it('failed token exchange is reported', async () => {
    const { browser, csrfToken } = await signIn(server);
    const authorizeUrl = await pressConnect(browser, csrfToken);
    const { callbackUrl } = await completeConsent(authorizeUrl, simulator.login);
    simulator.control.failNextTokenExchange();

    expect(await followCallback(browser, callbackUrl)).toBe('token_exchange_failed');
    await expectCardNotice(browser, 'token_exchange_failed');
  });

  it('successful connect stores only ciphertext', async () => {
    const { browser, csrfToken } = await signIn(server);
    const authorizeUrl = await pressConnect(browser, csrfToken);
    const authorize = new URL(authorizeUrl);
    expect(authorize.origin).toBe(simulator.identityUrl);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${server.url}/oauth/pagerduty/callback`);
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    const { callbackUrl } = await completeConsent(authorizeUrl, simulator.login);

    expect(await followCallback(browser, callbackUrl)).toBe('connected');
    // The job queue creates the queued run when it enqueues the sync; the recording stand-in does not.
    const connected = await server.database.db.selectFrom('connections').select(['id', 'organization_id']).executeTakeFirstOrThrow();
    await server.database.db
      .insertInto('sync_runs')
      .values({ organization_id: connected.organization_id, connection_id: connected.id, kind: 'full', status: 'queued', trigger: 'connect' })
      .execute();
    const card = await expectCardNotice(browser, 'connected');
    expect(card.state).toBe('syncing');
    expect(card.canConnect).toBe(true);
    expect(card.account).toMatchObject({ subdomain: simulator.account.subdomain, region: 'us', grantedScope: 'openid read' });
    expect(card.account?.connectedBy.email).toBe(simulator.login.email);

    const connection = await server.database.db.selectFrom('connections').select(['id', 'api_base_url', 'account_id']).executeTakeFirstOrThrow();
    expect(connection.api_base_url).toBe(simulator.apiUrl);
    expect(connection.account_id).toBe(simulator.account.id);
    expect(server.jobs.calls).toEqual([{ connectionId: connection.id, trigger: 'connect' }]);

    const credentials = await readCredentials(server.database.db, server.vault, connection.id);
    expect(credentials?.accessToken).toMatch(/^pdus\+_0/);
    const dump = await dumpDatabase(server.database);
    expect(dump).not.toContain(credentials!.accessToken);
    expect(dump).not.toContain(credentials!.refreshToken!);
    expect(dump).not.toContain(callbackUrl.searchParams.get('code')!);
    expect(dump).not.toContain(callbackUrl.searchParams.get('state')!);
    const logs = server.logLines.join('');
    expect(logs).not.toContain(credentials!.accessToken);
    expect(logs).not.toContain(callbackUrl.searchParams.get('code')!);
  });

  it('replayed callback is refused', async () => {
    const { browser, csrfToken } = await signIn(server);
    const authorizeUrl = await pressConnect(browser, csrfToken);
    const { callbackUrl } = await completeConsent(authorizeUrl, simulator.login);

    expect(await followCallback(browser, callbackUrl)).toBe('connected');
    expect(await followCallback(browser, callbackUrl)).toBe('state_invalid');
    await expectCardNotice(browser, 'state_invalid');
  });

  it('card keeps connect time after revocation', async () => {
    const { browser, csrfToken } = await signIn(server);
    const { callbackUrl } = await completeConsent(await pressConnect(browser, csrfToken), simulator.login);
    expect(await followCallback(browser, callbackUrl)).toBe('connected');
    const connected = await browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    const connectedAt = connected.body.account?.connectedAt;
    expect(connectedAt).toBeDefined();

    const connection = await server.database.db.selectFrom('connections').select('id').executeTakeFirstOrThrow();
    const revokedAt = new Date(Date.parse(connectedAt!) + 60 * 60 * 1000);
    await markNeedsReconnect(server.database.db, connection.id, 'PagerDuty revoked the token; reconnect PagerDuty.', revokedAt);

    const card = (await browser.json<ConnectionCardView>('/api/apps/pagerduty/card')).body;
    expect(card.state).toBe('needs_reconnect');
    expect(card.statusChangedAt).toBe(revokedAt.toISOString());
    expect(card.account?.connectedAt).toBe(connectedAt);

    const { callbackUrl: again } = await completeConsent(await pressConnect(browser, csrfToken), simulator.login);
    expect(await followCallback(browser, again)).toBe('connected');
    const reconnected = (await browser.json<ConnectionCardView>('/api/apps/pagerduty/card')).body;
    expect(Date.parse(reconnected.account!.connectedAt)).toBeGreaterThan(Date.parse(connectedAt!));
  });

  it('connect requires csrf token', async () => {
    const { browser } = await signIn(server);
    const response = await browser.json<{ error: { code: string } }>('/apps/pagerduty/connect', { method: 'POST', form: { _csrf: 'forged' } });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('csrf_invalid');
  });
});

describe('PagerDuty connect with bad scope', () => {
  let simulator: RunningSimulator;
  let server: TestServer;

  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, euPort: 0, people: 10 });
    const [pglite] = testDatabaseTargets();
    server = await startTestServer({
      database: await pglite!.open(),
      pagerduty: {
        clientId: simulator.clientId,
        clientSecret: simulator.clientSecret,
        identityUrl: simulator.identityUrl,
        // PagerDuty grants a scope it does not know as `openid` alone.
        scope: 'no_such_scope',
        allowedApiBaseUrls: [simulator.apiUrl, simulator.euApiUrl],
      },
    });
    await new TestBrowser(server.url).json('/api/setup', { method: 'POST', json: OWNER });
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
    await simulator?.close();
  });

  it('openid-only grant is refused', async () => {
    const { browser, csrfToken } = await signIn(server);
    const authorizeUrl = await pressConnect(browser, csrfToken);
    const { callbackUrl } = await completeConsent(authorizeUrl, simulator.login);

    expect(await followCallback(browser, callbackUrl)).toBe('scope_insufficient');
    const card = await expectCardNotice(browser, 'scope_insufficient');
    expect(card.state).toBe('not_connected');
    expect(server.jobs.calls).toEqual([]);
  });
});
