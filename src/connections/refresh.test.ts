import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../../simulator/consent-driver.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { migrate } from '../db/migrate.ts';
import type { Database } from '../db/database.ts';
import { createLogger } from '../lib/logger.ts';
import { createTestConnection, testVault } from '../sync/testing.ts';
import { readCredentials } from './credentials.ts';
import { getAccessToken, keepAliveRefresh } from './refresh.ts';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

async function oauthTokens(simulator: RunningSimulator): Promise<{ accessToken: string; refreshToken: string }> {
  const url = new URL('/oauth/authorize', simulator.identityUrl);
  url.search = new URLSearchParams({ client_id: simulator.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'read' }).toString();
  const { callbackUrl } = await completeConsent(url.toString(), simulator.login);
  const response = await fetch(`${simulator.identityUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: simulator.clientId,
      client_secret: simulator.clientSecret,
      code: callbackUrl.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
    }),
  });
  const body = (await response.json()) as { access_token: string; refresh_token: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

describe.each(testDatabaseTargets())('token refresh on $name', ({ open }) => {
  let simulator: RunningSimulator;
  let database: Database;
  const vault = testVault();

  beforeAll(async () => {
    simulator = await startSimulator({ people: 10, seed: 37 });
    database = await open();
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  function deps() {
    return {
      database,
      vault,
      oauthClient: { clientId: simulator.clientId, clientSecret: simulator.clientSecret, identityUrl: simulator.identityUrl },
      logger: createLogger('silent'),
    };
  }

  it('refreshes once for concurrent callers', async () => {
    const tokens = await oauthTokens(simulator);
    const connection = await createTestConnection(database, vault, {
      apiBaseUrl: simulator.apiUrl,
      method: 'oauth_classic',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: new Date(Date.now() + 60_000),
    });
    simulator.control.clearRequestLog();

    const results = await Promise.all(Array.from({ length: 5 }, () => getAccessToken(deps(), connection.connectionId)));

    const tokenRequests = simulator.control.requestLog().filter((entry) => entry.path === '/oauth/token');
    expect(tokenRequests).toHaveLength(1);
    const issued = new Set(results.map((result) => (result.ok && result.value.kind === 'oauth' ? result.value.accessToken : 'failed')));
    expect(issued.size).toBe(1);
    expect(issued.has(tokens.accessToken)).toBe(false);
    const stored = await readCredentials(database.db, vault, connection.connectionId);
    expect(stored?.refreshToken).not.toBe(tokens.refreshToken);
    expect(stored?.accessTokenExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 60 * 60 * 1000);
  });

  it('keep-alive refreshes a day-old token', async () => {
    const tokens = await oauthTokens(simulator);
    const connection = await createTestConnection(database, vault, {
      apiBaseUrl: simulator.apiUrl,
      method: 'oauth_classic',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: new Date(Date.now() + 20 * 86_400_000),
    });
    await database.db.updateTable('connection_credentials').set({ refreshed_at: new Date(Date.now() - 25 * 60 * 60 * 1000) }).where('connection_id', '=', connection.connectionId).execute();

    const first = await keepAliveRefresh(deps(), connection.connectionId);
    const second = await keepAliveRefresh(deps(), connection.connectionId);

    expect(first).toEqual({ ok: true, value: 'refreshed' });
    expect(second).toEqual({ ok: true, value: 'skipped' });
    const stored = await readCredentials(database.db, vault, connection.connectionId);
    expect(stored?.refreshToken).not.toBe(tokens.refreshToken);
  });

  it('invalid grant needs reconnect', async () => {
    const tokens = await oauthTokens(simulator);
    const connection = await createTestConnection(database, vault, {
      apiBaseUrl: simulator.apiUrl,
      method: 'oauth_classic',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: new Date(Date.now() + 60_000),
    });
    simulator.control.failNextTokenExchange('invalid_grant');

    const result = await getAccessToken(deps(), connection.connectionId);

    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.kind).toBe('needs_reconnect');
    const row = await database.db.selectFrom('connections').select(['status', 'status_reason']).where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
    expect(row.status).toBe('needs_reconnect');
    expect(row.status_reason).toMatch(/Reconnect PagerDuty/);
  });

  it('skips API keys', async () => {
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    simulator.control.clearRequestLog();

    const result = await getAccessToken(deps(), connection.connectionId, { forceRefresh: true });

    expect(result).toEqual({ ok: true, value: { kind: 'api_key', apiKey: simulator.apiKey } });
    expect(simulator.control.requestLog()).toEqual([]);
  });
});
