import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../../simulator/consent-driver.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { hashPassword } from '../../src/accounts/passwords.ts';
import { insertOrganization, insertUser } from '../../src/accounts/repository.ts';
import { hashToken } from '../../src/accounts/tokens.ts';
import { crunchConnection } from '../../src/analytics/crunch.ts';
import { insertUsers } from '../../src/analytics/testing.ts';
import { readCredentials } from '../../src/connections/credentials.ts';
import type { ConnectionCardView } from '../../src/dashboard/connection-card.ts';
import { safeReturnPath } from '../../src/http/return-path.ts';
import { dumpDatabase, startTestServer, TestBrowser, type TestServer } from '../../src/http/testing/harness.ts';
import { testDatabaseTargets } from '../support/databases.ts';

/**
 * The attack suite: it walks the OpenAPI document the server generates, so a new route is
 * attacked without editing this file, and checks that every attack fails safely.
 */

interface Operation {
  method: string;
  /** The OpenAPI path, with `{name}` parameters. */
  path: string;
  role: string;
  needsCsrf: boolean;
  queryParameters: string[];
}

interface Person {
  email: string;
  password: string;
}

const OWNER_A = { organizationName: 'Alpha Corp', name: 'Alice Owner', email: 'alice@alpha.test', password: 'alpha owner password' };
const MEMBER_A = { email: 'mia@alpha.test', password: 'alpha member password' };
const VIEWER_A = { email: 'vic@alpha.test', password: 'alpha viewer password' };
const ADMIN_B = { email: 'bob@beta.test', password: 'beta admin password' };
const SQL_PAYLOADS = ["' OR '1'='1", "'; drop table users; --", '%', '_', '\\', '" OR ""="', "1' union select password_hash from users --"];
const STATE_CHANGING = new Set(['post', 'put', 'patch', 'delete']);

/** Builds a concrete URL for an operation, with a well-formed but unknown token for each path parameter. */
function urlOf(operation: Operation, query: Record<string, string> = {}): string {
  const path = operation.path.replace(/\{[^}]+\}/g, 'A'.repeat(43));
  const search = new URLSearchParams(query).toString();
  return search ? `${path}?${search}` : path;
}

async function freshSignIn(server: TestServer, person: Person): Promise<{ browser: TestBrowser; csrfToken: string }> {
  const browser = new TestBrowser(server.url);
  const { status, body } = await browser.json<{ csrfToken: string }>('/api/session', { method: 'POST', json: { email: person.email, password: person.password } });
  expect(status, `sign-in of ${person.email}`).toBe(200);
  return { browser, csrfToken: body.csrfToken };
}

/** Calls an operation the way the front end would: JSON for /api, a form otherwise. */
async function call(browser: TestBrowser, operation: Operation, options: { csrfToken?: string; headers?: Record<string, string>; query?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const isStateChanging = STATE_CHANGING.has(operation.method);
  if (options.csrfToken !== undefined && operation.path.startsWith('/api/')) headers['x-csrf-token'] = options.csrfToken;
  if (!isStateChanging) return browser.request(urlOf(operation, options.query), { headers });
  if (operation.path.startsWith('/api/')) {
    return browser.request(urlOf(operation, options.query), { method: operation.method.toUpperCase(), json: {}, headers });
  }
  const form: Record<string, string> = options.csrfToken === undefined ? {} : { _csrf: options.csrfToken };
  return browser.request(urlOf(operation, options.query), { method: operation.method.toUpperCase(), form, headers });
}

async function errorCodeOf(response: Response): Promise<string | undefined> {
  const text = await response.text();
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

describe.each(testDatabaseTargets())('attack suite on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let server: TestServer;
  let operations: Operation[];
  /** Clear-text secrets seen during the suite; none may end up in the logs or the database. */
  const secrets = new Set<string>();
  let organizationA: string;
  const sessions = new Map<string, { browser: TestBrowser; csrfToken: string }>();

  /** Returns a signed-in browser for `person`, reused across cases so sign-in stays under its rate limit. */
  async function signIn(_server: TestServer, person: Person): Promise<{ browser: TestBrowser; csrfToken: string }> {
    const cached = sessions.get(person.email);
    if (cached && (await cached.browser.request('/api/session')).status === 200) return cached;
    const session = await freshSignIn(server, person);
    sessions.set(person.email, session);
    return session;
  }

  async function connectPagerDuty(browser: TestBrowser, csrfToken: string, returnTo?: string): Promise<{ callbackUrl: URL; landing: string }> {
    const start = await browser.request('/apps/pagerduty/connect', { method: 'POST', form: returnTo === undefined ? { _csrf: csrfToken } : { _csrf: csrfToken, returnTo } });
    expect(start.status).toBe(303);
    const { callbackUrl } = await completeConsent(start.headers.get('location')!, simulator.login);
    secrets.add(callbackUrl.searchParams.get('code') ?? '');
    secrets.add(callbackUrl.searchParams.get('state') ?? '');
    const callback = await browser.request(`${callbackUrl.pathname}${callbackUrl.search}`);
    expect(callback.status).toBe(303);
    return { callbackUrl, landing: callback.headers.get('location') ?? '' };
  }

  beforeAll(async () => {
    simulator = await startSimulator({ port: 0, euPort: 0, people: 15 });
    secrets.add(simulator.apiKey);
    secrets.add(simulator.clientSecret);
    secrets.add(simulator.login.password);
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
    const { db } = server.database;

    const setup = await new TestBrowser(server.url).json<{ user: { id: string } }>('/api/setup', { method: 'POST', json: OWNER_A });
    expect(setup.status).toBe(201);
    organizationA = (await db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
    for (const [person, role] of [
      [MEMBER_A, 'member'],
      [VIEWER_A, 'viewer'],
    ] as const) {
      await insertUser(db, { organizationId: organizationA, email: person.email, name: person.email, passwordHash: await hashPassword(person.password), role });
    }
    const organizationB = await insertOrganization(db, 'Beta Corp');
    await insertUser(db, { organizationId: organizationB.id, email: ADMIN_B.email, name: 'Bob Admin', passwordHash: await hashPassword(ADMIN_B.password), role: 'admin' });
    for (const person of [OWNER_A, MEMBER_A, VIEWER_A, ADMIN_B]) secrets.add(person.password);

    const owner = await signIn(server, OWNER_A);
    secrets.add(owner.browser.cookies.get('seatwise_session') ?? '');
    const { landing } = await connectPagerDuty(owner.browser, owner.csrfToken);
    expect(landing).toBe('/apps/pagerduty?result=connected');
    const connection = await db.selectFrom('connections').select('id').where('organization_id', '=', organizationA).executeTakeFirstOrThrow();
    const credentials = await readCredentials(db, server.vault, connection.id);
    secrets.add(credentials!.accessToken);
    secrets.add(credentials!.refreshToken!);

    const invite = await owner.browser.json('/api/apps/pagerduty/invites', {
      method: 'POST',
      json: { email: 'pd-admin@alpha.test' },
      headers: { 'x-csrf-token': owner.csrfToken },
    });
    expect(invite.status).toBe(201);

    const document = await new TestBrowser(server.url).json<{ paths: Record<string, Record<string, Record<string, unknown>>> }>('/api/openapi.json');
    operations = [];
    for (const [path, methods] of Object.entries(document.body.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const parameters = (operation.parameters ?? []) as { in: string; name: string }[];
        operations.push({
          method,
          path,
          role: String(operation['x-seatwise-role']),
          needsCsrf: operation['x-seatwise-csrf'] === true,
          queryParameters: parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        });
      }
    }
  });
  afterAll(async () => {
    await server?.close();
    await server?.database.close();
    await simulator?.close();
  });

  it('document names a role per operation', () => {
    expect(operations.length).toBeGreaterThan(10);
    for (const operation of operations) {
      expect(['public', 'owner', 'admin', 'member', 'viewer'], `${operation.method} ${operation.path}`).toContain(operation.role);
      if (STATE_CHANGING.has(operation.method) && operation.role !== 'public') expect(operation.needsCsrf, `${operation.method} ${operation.path}`).toBe(true);
    }
    const keys = operations.map((operation) => `${operation.method} ${operation.path}`);
    expect(keys).toEqual(expect.arrayContaining(['get /api/people', 'post /apps/pagerduty/connect', 'get /oauth/pagerduty/callback']));
  });

  it('anonymous calls need a session', async () => {
    for (const operation of operations.filter((candidate) => candidate.role !== 'public')) {
      const response = await call(new TestBrowser(server.url), operation);
      expect(response.status, `${operation.method} ${operation.path}`).toBe(401);
      expect(await errorCodeOf(response)).toBe('session_required');
    }
  });

  it('tampered or expired cookie is refused', async () => {
    const { browser } = await freshSignIn(server, OWNER_A);
    const token = browser.cookies.get('seatwise_session')!;
    const tampered = new TestBrowser(server.url);
    tampered.cookies.set('seatwise_session', `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
    expect((await tampered.request('/api/session')).status).toBe(401);

    await server.database.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('token_hash', '=', hashToken(token)).execute();
    const expired = await browser.request('/api/session');
    expect(expired.status).toBe(401);
    expect(await errorCodeOf(expired)).toBe('session_required');
  });

  it('state-changing calls need csrf token', async () => {
    for (const operation of operations.filter((candidate) => candidate.needsCsrf)) {
      const { browser } = await signIn(server, OWNER_A);
      const missing = await call(browser, operation);
      expect(missing.status, `${operation.method} ${operation.path} without a token`).toBe(403);
      expect(await errorCodeOf(missing)).toBe('csrf_invalid');
      const forged = await call(browser, operation, { csrfToken: 'forged-token' });
      expect(forged.status, `${operation.method} ${operation.path} with a forged token`).toBe(403);
    }
  });

  it('cross-site requests are refused', async () => {
    for (const operation of operations.filter((candidate) => STATE_CHANGING.has(candidate.method))) {
      const { browser, csrfToken } = await signIn(server, OWNER_A);
      const hostileHeaders: Record<string, string>[] = [
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { 'sec-fetch-site': 'cross-site', origin: server.url },
        { origin: 'https://evil.example' },
        { origin: 'null' },
        { 'sec-fetch-site': 'none', origin: 'null' },
      ];
      for (const headers of hostileHeaders) {
        const response = await call(browser, operation, { csrfToken, headers });
        expect(response.status, `${operation.method} ${operation.path} with ${JSON.stringify(headers)}`).toBe(403);
        expect(await errorCodeOf(response)).toBe('cross_site_request');
      }
    }
  });

  it('same-origin form post with null origin', async () => {
    const { browser, csrfToken } = await signIn(server, OWNER_A);
    const form = { _csrf: csrfToken };
    // Chromium sends `Origin: null` on same-origin form posts under `Referrer-Policy: no-referrer`.
    const sameOrigin = await browser.request('/apps/pagerduty/connect', { method: 'POST', form, headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } });
    expect(sameOrigin.status).toBe(303);
    expect(new URL(sameOrigin.headers.get('location')!).origin).toBe(simulator.identityUrl);

    const ownOrigin = await browser.request('/apps/pagerduty/connect', { method: 'POST', form, headers: { origin: server.url } });
    expect(ownOrigin.status).toBe(303);
  });

  it('lower roles cannot call higher routes', async () => {
    const ranks: Record<string, number> = { viewer: 1, member: 2, admin: 3, owner: 4 };
    for (const [person, rank] of [
      [VIEWER_A, 1],
      [MEMBER_A, 2],
    ] as const) {
      for (const operation of operations.filter((candidate) => (ranks[candidate.role] ?? 0) > rank)) {
        const { browser, csrfToken } = await signIn(server, person);
        const response = await call(browser, operation, { csrfToken });
        expect(response.status, `${person.email}: ${operation.method} ${operation.path}`).toBe(403);
        expect(await errorCodeOf(response)).toBe('role_forbidden');
      }
    }
  });

  it('other organization sees nothing', async () => {
    const { db } = server.database;
    const connectionA = await db.selectFrom('connections').select(['id', 'subdomain']).where('organization_id', '=', organizationA).executeTakeFirstOrThrow();
    const markers = [organizationA, connectionA.id, connectionA.subdomain!, OWNER_A.email, MEMBER_A.email, 'pd-admin@alpha.test', simulator.login.email];

    for (const operation of operations.filter((candidate) => candidate.role !== 'public' && candidate.path !== '/api/session')) {
      const { browser, csrfToken } = await signIn(server, ADMIN_B);
      const response = await call(browser, operation, { csrfToken });
      const text = await response.text();
      expect(response.status, `${operation.method} ${operation.path}`).toBeLessThan(500);
      for (const marker of markers) expect(text, `${operation.method} ${operation.path} leaks ${marker}`).not.toContain(marker);
    }

    const connection = await db.selectFrom('connections').select('status').where('id', '=', connectionA.id).executeTakeFirstOrThrow();
    expect(connection.status).toBe('connected');
    expect(await readCredentials(db, server.vault, connectionA.id)).not.toBeNull();
    const card = await (await signIn(server, OWNER_A)).browser.json<ConnectionCardView>('/api/apps/pagerduty/card');
    expect(card.body.state).toBe('connected');
  });

  it('sql metacharacters in filters are inert', async () => {
    const { browser } = await signIn(server, OWNER_A);
    for (const operation of operations.filter((candidate) => candidate.method === 'get' && candidate.queryParameters.length > 0)) {
      for (const parameter of operation.queryParameters) {
        for (const payload of SQL_PAYLOADS) {
          const response = await call(browser, operation, { query: { [parameter]: payload } });
          expect([200, 303, 400, 401, 410], `${operation.path}?${parameter}=${payload}`).toContain(response.status);
        }
      }
    }
    const search = await browser.json<{ total: number }>(`/api/people?search=${encodeURIComponent("' OR '1'='1")}`);
    expect(search.status).toBe(200);
    expect(search.body.total).toBe(0);
    const users = await server.database.db.selectFrom('users').select('id').execute();
    expect(users.length).toBe(4);
  });

  it('return path stays inside seatwise', async () => {
    for (const hostile of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/%0d%0aLocation:%20https://evil.example']) {
      const accepted = safeReturnPath(hostile);
      if (accepted !== null) expect(new URL(accepted, 'http://seatwise.invalid').origin).toBe('http://seatwise.invalid');
    }
    const { browser, csrfToken } = await signIn(server, OWNER_A);
    const { landing } = await connectPagerDuty(browser, csrfToken, '//evil.example/steal');
    expect(landing.startsWith('/')).toBe(true);
    expect(landing.startsWith('//')).toBe(false);
    expect(landing).toBe('/apps/pagerduty?result=connected');
  });

  it('replayed state, code and invite fail', async () => {
    const { browser, csrfToken } = await signIn(server, OWNER_A);
    const first = await connectPagerDuty(browser, csrfToken);
    expect(first.landing).toBe('/apps/pagerduty?result=connected');

    const replayedState = await browser.request(`${first.callbackUrl.pathname}${first.callbackUrl.search}`);
    expect(replayedState.headers.get('location')).toBe('/apps/pagerduty?result=state_invalid');

    const start = await browser.request('/apps/pagerduty/connect', { method: 'POST', form: { _csrf: csrfToken } });
    const freshState = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const replayedCode = new URLSearchParams({ code: first.callbackUrl.searchParams.get('code')!, state: freshState });
    const codeResponse = await browser.request(`/oauth/pagerduty/callback?${replayedCode.toString()}`);
    expect(codeResponse.headers.get('location')).toBe('/apps/pagerduty?result=token_exchange_failed');

    const usedInvite = await server.database.db.selectFrom('pagerduty_invites').select('id').executeTakeFirstOrThrow();
    await server.database.db.updateTable('pagerduty_invites').set({ used_at: new Date() }).where('id', '=', usedInvite.id).execute();
    const owner = await signIn(server, OWNER_A);
    const outbox = await owner.browser.json<{ messages: { text: string }[] }>('/api/outbox');
    const link = /\/invites\/pagerduty\/[A-Za-z0-9_-]+/.exec(outbox.body.messages.map((message) => message.text).join('\n'))?.[0];
    expect(link).toBeDefined();
    secrets.add(link!.split('/').at(-1)!);
    expect((await new TestBrowser(server.url).request(link!)).status).toBe(410);
    expect((await new TestBrowser(server.url).request(`${link!}/connect`, { method: 'POST', form: {} })).status).toBe(410);
  });

  it('markup in names is escaped', async () => {
    const { db } = server.database;
    const markup = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    await db.updateTable('organizations').set({ name: markup }).where('id', '=', organizationA).execute();
    await db.updateTable('connections').set({ provider_user_name: markup }).where('organization_id', '=', organizationA).execute();

    const owner = await signIn(server, OWNER_A);
    const card = await owner.browser.request('/api/apps/pagerduty/card');
    expect(card.headers.get('content-type')).toMatch(/^application\/json/);
    expect(card.headers.get('x-content-type-options')).toBe('nosniff');

    const sent = await owner.browser.json('/api/apps/pagerduty/invites', {
      method: 'POST',
      json: { email: 'second@alpha.test', note: markup },
      headers: { 'x-csrf-token': owner.csrfToken },
    });
    expect(sent.status).toBe(201);
    const outbox = await owner.browser.json<{ messages: { to: string; text: string }[] }>('/api/outbox');
    const link = /\/invites\/pagerduty\/[A-Za-z0-9_-]+/.exec(outbox.body.messages.find((message) => message.to === 'second@alpha.test')!.text)![0];
    secrets.add(link.split('/').at(-1)!);
    for (const page of [link, '/outbox']) {
      const html = await (await owner.browser.request(page)).text();
      expect(html, page).not.toContain('<script>alert');
      expect(html, page).not.toContain('<img src=x');
      expect(html, page).toContain('&lt;script&gt;');
    }
  });

  it('reconnect to another account is refused', async () => {
    const { db } = server.database;
    await db.updateTable('connections').set({ account_id: 'PSOMEOTHER', subdomain: 'someother' }).where('organization_id', '=', organizationA).execute();
    const { browser, csrfToken } = await signIn(server, OWNER_A);
    const { landing } = await connectPagerDuty(browser, csrfToken);
    expect(landing).toBe('/apps/pagerduty?result=account_mismatch');
    const connection = await db.selectFrom('connections').select(['account_id', 'status']).where('organization_id', '=', organizationA).executeTakeFirstOrThrow();
    expect(connection).toEqual({ account_id: 'PSOMEOTHER', status: 'connected' });
  });

  it('sign-in attempts are rate limited', async () => {
    const attacker = new TestBrowser(server.url);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const response = await attacker.request('/api/session', { method: 'POST', json: { email: 'target@alpha.test', password: `guess number ${attempt}` } });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Guesses against one account do not lock out another.
    expect((await freshSignIn(server, VIEWER_A)).csrfToken).toBeTruthy();
  });

  it('export stays inside its organization', async () => {
    const { db } = server.database;
    const connectionA = await db.selectFrom('connections').select('id').where('organization_id', '=', organizationA).where('archived_at', 'is', null).executeTakeFirstOrThrow();
    await insertUsers(db, connectionA.id, [{ id: 'PEXPORTA1', name: '=HYPERLINK("http://evil.example")', email: 'exported@alpha.test' }]);
    await crunchConnection(db, connectionA.id, new Date());

    const ownerCsv = await (await (await signIn(server, OWNER_A)).browser.request('/api/exports/people.csv')).text();
    expect(ownerCsv).toContain('exported@alpha.test');
    expect(ownerCsv).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    const admin = await signIn(server, ADMIN_B);
    for (const path of ['/api/exports/people.csv', '/api/exports/recommendations.csv', `/api/exports/people.csv?search=${encodeURIComponent('%')}`]) {
      const response = await admin.browser.request(path);
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).not.toContain('alpha.test');
    }
  });

  it('foreign organization cannot be switched to', async () => {
    const { browser, csrfToken } = await signIn(server, ADMIN_B);
    const response = await browser.request('/api/session/organization', { method: 'PUT', json: { organizationId: organizationA }, headers: { 'x-csrf-token': csrfToken } });
    expect(response.status).toBe(404);
    expect(await errorCodeOf(response)).toBe('organization_not_found');
    const session = await browser.json<{ organization: { id: string }; organizations: { id: string }[] }>('/api/session');
    expect(session.body.organization.id).not.toBe(organizationA);
    expect(session.body.organizations.map((organization) => organization.id)).not.toContain(organizationA);
  });

  it('logs and dump hold no secret', async () => {
    const dump = await dumpDatabase(server.database);
    const logs = server.logLines.join('\n');
    const checked = [...secrets].filter((secret) => secret.length >= 8);
    expect(checked.length).toBeGreaterThan(8);
    for (const secret of checked) {
      expect(dump.includes(secret), `database dump contains ${secret.slice(0, 6)}…`).toBe(false);
      expect(logs.includes(secret), `logs contain ${secret.slice(0, 6)}…`).toBe(false);
    }
  });
});
