import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../../simulator/consent-driver.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { DEFAULT_MAX_IN_FLIGHT } from '../connectors/pagerduty/rate-budget.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { runSync } from './run-sync.ts';
import { CORE_STREAMS } from './streams/catalogue.ts';
import { createQueuedRun, createTestConnection, fetchAllPages, startFaultProxy, testSyncDeps, testVault } from './testing.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY_MS = 86_400_000;
const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

async function oauthTokens(simulator: RunningSimulator): Promise<{ accessToken: string; refreshToken: string; expiresIn: number }> {
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
  const body = (await response.json()) as { access_token: string; refresh_token: string; expires_in: number };
  return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresIn: body.expires_in };
}

describe('sync against a large account', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 500, seed: 3, now: NOW, rateLimitPerMinute: 60_000 });
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
   }, 180_000);

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('splits windows below the cap', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const syncRunId = await createQueuedRun(database, connection);

    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: ['log_entries'] }), { connectionId: connection.connectionId, syncRunId });

    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');
    const log = simulator.control.requestLog();
    expect(log.filter((entry) => entry.status === 400)).toEqual([]);
    const firstTotal = log.find((entry) => entry.path === '/log_entries' && entry.query.total === 'true');
    expect(firstTotal).toBeDefined();

    const authorization = `Token token=${simulator.apiKey}`;
    const servedIds = new Set<string>();
    for (let start = NOW.getTime() - 90 * DAY_MS; start < NOW.getTime(); start += 5 * DAY_MS) {
      const until = new Date(Math.min(start + 5 * DAY_MS, NOW.getTime())).toISOString();
      for (const entry of await fetchAllPages(simulator.apiUrl, '/log_entries', 'log_entries', authorization, { since: new Date(start).toISOString(), until })) {
        servedIds.add(String(entry.id));
      }
    }
    expect(servedIds.size).toBeGreaterThan(10_000);
    const stored = await database.db.selectFrom('pd_log_entries').select('id').where('connection_id', '=', connection.connectionId).execute();
    const storedIds = new Set(stored.map((row) => row.id));
    const missing = [...servedIds].filter((id) => !storedIds.has(id));
    expect(missing).toEqual([]);
    expect(stored.length).toBe(storedIds.size);
  }, 300_000);
});

describe('sync failure handling', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 30, seed: 5, now: NOW });
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('revoked token needs reconnect, keeps data', async () => {
    const vault = testVault();
    const tokens = await oauthTokens(simulator);
    const connection = await createTestConnection(database, vault, {
      apiBaseUrl: simulator.apiUrl,
      method: 'oauth_classic',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: new Date(Date.now() + tokens.expiresIn * 1000),
    });
    const oauthClient = { clientId: simulator.clientId, clientSecret: simulator.clientSecret, identityUrl: simulator.identityUrl };
    const deps = testSyncDeps(database, vault, { now: () => NOW, streams: CORE_STREAMS, oauthClient });

    const first = await runSync(deps, { connectionId: connection.connectionId, syncRunId: await createQueuedRun(database, connection) });
    expect(first.status).toBe('succeeded');
    const usersBefore = await database.db.selectFrom('pd_users').select('id').where('connection_id', '=', connection.connectionId).execute();
    expect(usersBefore.length).toBe(30);

    simulator.control.revokeAllTokens();
    const secondRunId = await createQueuedRun(database, connection);
    const second = await runSync(deps, { connectionId: connection.connectionId, syncRunId: secondRunId });

    expect(second.status).toBe('needs_reconnect');
    const stored = await database.db.selectFrom('connections').select(['status', 'status_reason', 'status_changed_at']).where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
    expect(stored.status).toBe('needs_reconnect');
    expect(stored.status_reason).toMatch(/reconnect/i);
    expect(stored.status_changed_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const usersAfter = await database.db.selectFrom('pd_users').select('id').where('connection_id', '=', connection.connectionId).execute();
    expect(usersAfter.length).toBe(30);
    const run = await database.db.selectFrom('sync_runs').select(['status', 'error_code']).where('id', '=', secondRunId).executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'failed', error_code: 'needs_reconnect' });
  });

  it('expired token refreshes and continues', async () => {
    const vault = testVault();
    const tokens = await oauthTokens(simulator);
    const connection = await createTestConnection(database, vault, {
      apiBaseUrl: simulator.apiUrl,
      method: 'oauth_classic',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: new Date(Date.now() + tokens.expiresIn * 1000),
    });
    simulator.control.expireAccessTokens();
    const oauthClient = { clientId: simulator.clientId, clientSecret: simulator.clientSecret, identityUrl: simulator.identityUrl };

    const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: ['users', 'abilities'], oauthClient }), {
      connectionId: connection.connectionId,
      syncRunId: await createQueuedRun(database, connection),
    });

    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');
    const credentials = await database.db.selectFrom('connection_credentials').select('refreshed_at').where('connection_id', '=', connection.connectionId).executeTakeFirstOrThrow();
    expect(credentials.refreshed_at).not.toBeNull();
  });

  it('isolates a plan-gated stream', async () => {
    const proxy = await startFaultProxy(simulator.apiUrl, (path) =>
      path === '/license_allocations' ? { status: 402, body: JSON.stringify({ error: { message: 'Required abilities are unavailable', code: 2014 } }) } : null,
    );
    try {
      const vault = testVault();
      const connection = await createTestConnection(database, vault, { apiBaseUrl: proxy.url, method: 'api_key', accessToken: simulator.apiKey });
      const syncRunId = await createQueuedRun(database, connection);

      const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: CORE_STREAMS }), { connectionId: connection.connectionId, syncRunId });

      expect(outcome.status).toBe('succeeded');
      const byName = new Map(outcome.streams.map((stream) => [stream.name, stream]));
      expect(byName.get('license_allocations')?.status).toBe('unavailable');
      expect(byName.get('license_allocations')?.message).toMatch(/plan/);
      for (const name of ['users', 'licenses', 'abilities', 'log_entries'] as const) expect(byName.get(name)?.status, name).toBe('succeeded');
      const connectionRow = await database.db.selectFrom('connections').select('status').where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
      expect(connectionRow.status).toBe('connected');
    } finally {
      await proxy.close();
    }
  });

  it('names a plan-gated inventory feature', async () => {
    const proxy = await startFaultProxy(simulator.apiUrl, (path) =>
      path === '/automation_actions/actions' ? { status: 402, body: JSON.stringify({ error: { message: 'Required abilities are unavailable', code: 2014 } }) } : null,
    );
    try {
      const vault = testVault();
      const connection = await createTestConnection(database, vault, { apiBaseUrl: proxy.url, method: 'api_key', accessToken: simulator.apiKey });
      const syncRunId = await createQueuedRun(database, connection);

      const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: ['feature_inventory'] }), { connectionId: connection.connectionId, syncRunId });

      expect(outcome.status).toBe('succeeded');
      const inventory = outcome.streams.find((stream) => stream.name === 'feature_inventory');
      expect(inventory?.status).toBe('succeeded');
      expect(inventory?.message).toBe('Not readable: Automation actions (not on the account plan).');
    } finally {
      await proxy.close();
    }
  });

  it('retries server errors to completion', async () => {
    let failures = 0;
    const proxy = await startFaultProxy(simulator.apiUrl, (path) => {
      if (path !== '/users' || failures >= 3) return null;
      failures += 1;
      return failures === 2 ? { status: 429, body: '' } : { status: 503, body: 'Service Unavailable' };
    });
    try {
      const vault = testVault();
      const connection = await createTestConnection(database, vault, { apiBaseUrl: proxy.url, method: 'api_key', accessToken: simulator.apiKey });
      const outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, streams: ['users'] }), {
        connectionId: connection.connectionId,
        syncRunId: await createQueuedRun(database, connection),
      });

      expect(failures).toBe(3);
      expect(outcome.status).toBe('succeeded');
      const users = await database.db.selectFrom('pd_users').select('id').where('connection_id', '=', connection.connectionId).execute();
      expect(users.length).toBe(30);
    } finally {
      await proxy.close();
    }
  });
});

describe('sync under injected faults', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    simulator = await startSimulator({
      people: 60,
      seed: 23,
      now: NOW,
      rateLimitPerMinute: 60_000,
      faults: { serverError: 0.05, connectionReset: 0.02, rateLimitWithoutHeaders: 0.01 },
    });
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('completes through errors and a 429 storm', async () => {
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    const syncRunId = await createQueuedRun(database, connection);

    // A storm of 429s without headers for two seconds, early in the run.
    const stormStart = setTimeout(() => simulator.control.setFaults({ serverError: 0.05, connectionReset: 0.02, rateLimitWithoutHeaders: 0.6 }), 300);
    const stormEnd = setTimeout(() => simulator.control.setFaults({ serverError: 0.05, connectionReset: 0.02, rateLimitWithoutHeaders: 0.01 }), 2_300);
    let outcome;
    try {
      outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW }), { connectionId: connection.connectionId, syncRunId });
    } finally {
      clearTimeout(stormStart);
      clearTimeout(stormEnd);
    }

    expect(outcome.errorMessage).toBeNull();
    expect(outcome.status).toBe('succeeded');
    const log = simulator.control.requestLog();
    expect(log.filter((entry) => entry.status >= 500).length).toBeGreaterThan(0);
    expect(log.filter((entry) => entry.status === 429).length).toBeGreaterThan(0);
    const stored = await database.db.selectFrom('connections').select('status').where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
    expect(stored.status).toBe('connected');

    simulator.control.setFaults({});
    const authorization = `Token token=${simulator.apiKey}`;
    const servedUsers = await fetchAllPages(simulator.apiUrl, '/users', 'users', authorization);
    const users = await database.db.selectFrom('pd_users').select('id').where('connection_id', '=', connection.connectionId).execute();
    expect(users.map((user) => user.id).sort()).toEqual(servedUsers.map((user) => String(user.id)).sort());
    const servedEntries = new Set<string>();
    for (let start = NOW.getTime() - 89 * DAY_MS; start < NOW.getTime(); start += 15 * DAY_MS) {
      const until = new Date(Math.min(start + 15 * DAY_MS, NOW.getTime())).toISOString();
      for (const entry of await fetchAllPages(simulator.apiUrl, '/log_entries', 'log_entries', authorization, { since: new Date(start).toISOString(), until })) servedEntries.add(String(entry.id));
    }
    const entries = await database.db.selectFrom('pd_log_entries').select('id').where('connection_id', '=', connection.connectionId).where('created_at', '>=', new Date(NOW.getTime() - 89 * DAY_MS)).execute();
    expect(new Set(entries.map((entry) => entry.id))).toEqual(servedEntries);
  }, 120_000);
});

describe('token revoked during a sync', () => {
  let simulator: RunningSimulator;
  let database: Database;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 100, seed: 29, now: NOW, rateLimitPerMinute: 60_000, latencyMs: 20 });
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator.close();
    await database.close();
  });

  it('stops and asks for reconnect', async () => {
    const vault = testVault();
    const tokens = await oauthTokens(simulator);
    const connection = await createTestConnection(database, vault, {
      apiBaseUrl: simulator.apiUrl,
      method: 'oauth_classic',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: new Date(Date.now() + tokens.expiresIn * 1000),
    });
    const oauthClient = { clientId: simulator.clientId, clientSecret: simulator.clientSecret, identityUrl: simulator.identityUrl };
    const syncRunId = await createQueuedRun(database, connection);

    // Revokes once the users are stored and the sync has made some progress, whatever the
    // machine's speed: a timer alone fired after the whole sync on a fast machine.
    simulator.control.clearRequestLog();
    const revoke = setInterval(() => {
      const log = simulator.control.requestLog();
      const hasUsers = log.some((entry) => entry.path === '/users' && entry.status === 200);
      if (hasUsers && log.length >= 20) {
        simulator.control.revokeAllTokens();
        clearInterval(revoke);
      }
    }, 5);
    let outcome;
    try {
      outcome = await runSync(testSyncDeps(database, vault, { now: () => NOW, oauthClient }), { connectionId: connection.connectionId, syncRunId });
    } finally {
      clearInterval(revoke);
    }

    expect(outcome.status).toBe('needs_reconnect');
    const stored = await database.db.selectFrom('connections').select(['status', 'status_reason']).where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
    expect(stored.status).toBe('needs_reconnect');
    expect(stored.status_reason).not.toBeNull();
    const users = await database.db.selectFrom('pd_users').select('id').where('connection_id', '=', connection.connectionId).execute();
    expect(users.length).toBe(100);
    const unauthorized = simulator.control.requestLog().filter((entry) => entry.status === 401);
    expect(unauthorized.length).toBeGreaterThan(0);
    // The 401s are bounded by the requests in flight at revocation and their retries after the
    // refresh attempt. The sync stops there instead of reading every remaining page.
    expect(unauthorized.length).toBeLessThanOrEqual(4 * DEFAULT_MAX_IN_FLIGHT);
  }, 120_000);
});
