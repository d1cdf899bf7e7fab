import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from './consent-driver.ts';
import { startSimulator, type RunningSimulator } from './index.ts';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const NOW = new Date('2026-06-15T12:00:00Z');

let simulator: RunningSimulator;

beforeAll(async () => {
  simulator = await startSimulator({ people: 120, seed: 11, now: NOW });
});

afterAll(async () => {
  await simulator.close();
});

async function getJson(path: string, authorization = `Token token=${simulator.apiKey}`, base = simulator.apiUrl): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { headers: { authorization, accept: 'application/vnd.pagerduty+json;version=2' } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

async function oauthAccessToken(sim: RunningSimulator): Promise<string> {
  const url = new URL('/oauth/authorize', sim.identityUrl);
  url.search = new URLSearchParams({ client_id: sim.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'read' }).toString();
  const { callbackUrl } = await completeConsent(url.toString(), sim.login);
  const response = await fetch(`${sim.identityUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: sim.clientId, client_secret: sim.clientSecret, code: callbackUrl.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI }),
  });
  return String(((await response.json()) as { access_token: string }).access_token);
}

describe('simulated REST paging', () => {
  it('defaults to 25 records per page', async () => {
    const { status, body, headers } = await getJson('/users');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body.limit).toBe(25);
    expect(body.offset).toBe(0);
    expect(body.more).toBe(true);
    expect(body.total).toBeNull();
    expect((body.users as unknown[]).length).toBe(25);
  });

  it('caps limit at 100', async () => {
    const { body } = await getJson('/users?limit=500&total=true');
    expect(body.limit).toBe(100);
    expect((body.users as unknown[]).length).toBe(100);
    expect(body.total).toBe(120);
  });

  it('walks users to the last page', async () => {
    const ids = new Set<string>();
    let offset = 0;
    for (;;) {
      const { body } = await getJson(`/users?limit=50&offset=${offset}`);
      for (const user of body.users as { id: string }[]) ids.add(user.id);
      if (body.more !== true) break;
      offset += 50;
    }
    expect(ids.size).toBe(120);
  });

  it('rejects pages past 10,000 records', async () => {
    const { status, body } = await getJson('/log_entries?offset=9901&limit=100');
    expect(status).toBe(400);
    expect(body).toEqual({ error: { message: 'Invalid Input Provided', code: 2002, errors: ['Offset+limit exceeds maximum allowed value of 10000'] } });
  });

  it('serves the page ending at 10,000', async () => {
    const { status, body } = await getJson('/log_entries?offset=9900&limit=100&total=true');
    expect(status).toBe(200);
    expect((body.log_entries as unknown[]).length).toBe(100);
    expect(Number(body.total)).toBeGreaterThan(10_000);
    expect(body.more).toBe(true);
  });

  it('rejects a non-numeric limit', async () => {
    const { status, body } = await getJson('/users?limit=ten');
    expect(status).toBe(400);
    expect((body.error as { code: number }).code).toBe(2001);
  });
});

describe('simulated REST resources', () => {
  it('expands user includes', async () => {
    const { body } = await getJson('/users?limit=5&include[]=contact_methods&include[]=teams');
    const user = (body.users as { contact_methods: { type: string; address: string }[]; teams: { type: string; name: string }[] }[])[0];
    expect(user?.contact_methods[0]?.type).toBe('email_contact_method');
    expect(user?.contact_methods[0]?.address).toContain('@');
    expect(user?.teams[0]?.type).toBe('team');
  });

  it('filters users by query', async () => {
    const owner = simulator.login.email;
    const { body } = await getJson(`/users?query=${encodeURIComponent(owner)}`);
    expect((body.users as { email: string }[]).map((user) => user.email)).toEqual([owner]);
  });

  it('lists licenses with spare seats', async () => {
    const { body } = await getJson('/licenses');
    const licenses = body.licenses as { name: string; role_group: string; current_value: number; allocations_available: number }[];
    expect(licenses.map((license) => license.name)).toEqual(['Business (Full User)', 'Business (Stakeholder)']);
    expect(licenses.every((license) => license.allocations_available > 0)).toBe(true);
    expect(licenses.reduce((sum, license) => sum + license.current_value, 0)).toBe(120);
  });

  it('allocates one license per user', async () => {
    const { body } = await getJson('/license_allocations?limit=100&total=true');
    expect(body.total).toBe(120);
    const allocation = (body.license_allocations as { user: { type: string }; license: { role_group: string }; allocated_at: string }[])[0];
    expect(allocation?.user.type).toBe('user_reference');
    expect(allocation?.allocated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('lists the plan abilities', async () => {
    const { body } = await getJson('/abilities');
    expect(body.abilities).toContain('teams');
  });

  it('orders log entries newest first', async () => {
    const { body } = await getJson('/log_entries?limit=100');
    const times = (body.log_entries as { created_at: string }[]).map((entry) => Date.parse(entry.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('windows log entries by since and until', async () => {
    const since = '2026-06-10T00:00:00Z';
    const until = '2026-06-11T00:00:00Z';
    const { body } = await getJson(`/log_entries?since=${since}&until=${until}&limit=100&total=true`);
    const times = (body.log_entries as { created_at: string }[]).map((entry) => Date.parse(entry.created_at));
    expect(times.length).toBeGreaterThan(0);
    expect(times.every((time) => time >= Date.parse(since) && time < Date.parse(until))).toBe(true);
  });

  it('renders times in a requested zone', async () => {
    const { body } = await getJson('/log_entries?limit=1&time_zone=Asia/Tokyo');
    expect((body.log_entries as { created_at: string }[])[0]?.created_at).toMatch(/\+09:00$/);
  });

  it('details channels only when included', async () => {
    const plain = await getJson('/log_entries?limit=100');
    const detailed = await getJson('/log_entries?limit=100&include[]=channels');
    const plainApi = (plain.body.log_entries as { channel: Record<string, unknown> }[]).find((entry) => entry.channel.type === 'api');
    const detailedApi = (detailed.body.log_entries as { channel: Record<string, unknown> }[]).find((entry) => entry.channel.type === 'api');
    expect(plainApi?.channel).toEqual({ type: 'api' });
    expect(detailedApi?.channel.service_key).toBeTruthy();
  });

  it('drops notifications from the overview', async () => {
    const { body } = await getJson('/log_entries?limit=100&is_overview=true');
    expect((body.log_entries as { type: string }[]).some((entry) => entry.type === 'notify_log_entry')).toBe(false);
  });

  it('names users, services and integrations as agents', async () => {
    const { body } = await getJson('/log_entries?limit=100');
    const agentTypes = new Set((body.log_entries as { agent: { type: string } }[]).map((entry) => entry.agent.type));
    expect([...agentTypes].sort()).toEqual(['integration_reference', 'service_reference', 'user_reference']);
  });
});

describe('simulated REST authentication', () => {
  it('rejects a missing credential', async () => {
    const response = await fetch(`${simulator.apiUrl}/users`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: 'Authentication failed', code: 2006 } });
  });

  it('refuses /users/me for account keys', async () => {
    const { status } = await getJson('/users/me');
    expect(status).toBe(400);
  });

  it('rejects revoked tokens with 401', async () => {
    const token = await oauthAccessToken(simulator);
    expect((await getJson('/users', `Bearer ${token}`)).status).toBe(200);
    simulator.control.revokeAllTokens();
    const revoked = await getJson('/users', `Bearer ${token}`);
    expect(revoked.status).toBe(401);
    expect((revoked.body.error as { code: number }).code).toBe(2006);
  });

  it('rejects expired tokens with 401', async () => {
    const token = await oauthAccessToken(simulator);
    simulator.control.expireAccessTokens();
    expect((await getJson('/users/me', `Bearer ${token}`)).status).toBe(401);
  });

  it('limits requests per token per minute', async () => {
    const limited = await startSimulator({ people: 5, rateLimitPerMinute: 3 });
    try {
      const statuses: number[] = [];
      let lastHeaders: Headers | undefined;
      for (let index = 0; index < 4; index += 1) {
        const result = await getJson('/abilities', `Token token=${limited.apiKey}`, limited.apiUrl);
        statuses.push(result.status);
        lastHeaders = result.headers;
        if (result.status === 429) expect(result.body).toEqual({ error: { message: 'Rate Limit Exceeded', code: 2020 } });
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(lastHeaders?.get('ratelimit-limit')).toBe('3');
      expect(lastHeaders?.get('ratelimit-remaining')).toBe('0');
      limited.control.advanceClock(61_000);
      expect((await getJson('/abilities', `Token token=${limited.apiKey}`, limited.apiUrl)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('serves EU accounts only on the EU host', async () => {
    const eu = await startSimulator({ people: 5, region: 'eu' });
    try {
      expect(eu.account.apiUrl).toBe(eu.euApiUrl);
      const token = await oauthAccessToken(eu);
      expect((await getJson('/users/me', `Bearer ${token}`, eu.euApiUrl)).status).toBe(200);
      expect((await getJson('/users/me', `Bearer ${token}`, eu.apiUrl)).status).toBe(401);
      const self = ((await getJson('/users?limit=1', `Bearer ${token}`, eu.euApiUrl)).body.users as { self: string }[])[0]?.self;
      expect(self?.startsWith(eu.euApiUrl)).toBe(true);
    } finally {
      await eu.close();
    }
  });

  it('records every request in the log', async () => {
    simulator.control.clearRequestLog();
    await getJson('/users?limit=2&include[]=teams');
    expect(simulator.control.requestLog()).toEqual([
      expect.objectContaining({ method: 'GET', path: '/users', query: { limit: '2', 'include[]': 'teams' }, status: 200, server: 'us' }),
    ]);
  });
});

describe('simulated license access', () => {
  const LICENSE_PATHS = ['/licenses', '/license_allocations'];

  it('rejects license reads with 403', async () => {
    const forbidden = await startSimulator({ people: 20, seed: 3, now: NOW, licenseAccess: 'forbidden' });
    try {
      const userId = forbidden.generated.users[0]?.id ?? '';
      for (const path of [...LICENSE_PATHS, `/users/${userId}/license`]) {
        const response = await fetch(`${forbidden.apiUrl}${path}`, { headers: { authorization: `Token token=${forbidden.apiKey}` } });
        expect(response.status, path).toBe(403);
        expect(await response.json(), path).toEqual({ error: { message: 'Access Denied', code: 2010 } });
      }
      const users = await fetch(`${forbidden.apiUrl}/users`, { headers: { authorization: `Token token=${forbidden.apiKey}` } });
      expect(users.status).toBe(200);
    } finally {
      await forbidden.close();
    }
  });

  it('answers license reads with 404', async () => {
    const absent = await startSimulator({ people: 20, seed: 3, now: NOW, licenseAccess: 'absent' });
    try {
      for (const path of LICENSE_PATHS) {
        const response = await fetch(`${absent.apiUrl}${path}`, { headers: { authorization: `Token token=${absent.apiKey}` } });
        expect(response.status, path).toBe(404);
        expect(await response.json(), path).toEqual({ error: { message: 'Not Found', code: 2100 } });
      }
      absent.control.setLicenseAccess('readable');
      const readable = await fetch(`${absent.apiUrl}/licenses`, { headers: { authorization: `Token token=${absent.apiKey}` } });
      expect(readable.status).toBe(200);
    } finally {
      await absent.close();
    }
  });

  it('rejects an unknown license access', async () => {
    await expect(startSimulator({ people: 5, licenseAccess: 'hidden' as never })).rejects.toThrow(/licenseAccess "hidden" is invalid/);
  });
});
