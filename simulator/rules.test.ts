import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeAndExchange } from './consent-driver.ts';
import { startSimulator, type RunningSimulator } from './index.ts';

const NOW = new Date('2026-05-20T10:00:00Z');
const DAY_MS = 86_400_000;

let simulator: RunningSimulator;

beforeAll(async () => {
  simulator = await startSimulator({ people: 60, seed: 9, now: NOW, historyDays: 240, timeZone: 'America/New_York' });
});

afterAll(async () => {
  await simulator.close();
});

async function get(path: string, authorization = `Token token=${simulator.apiKey}`, sim = simulator): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sim.apiUrl}${path}`, { headers: { authorization } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function errorCode(body: Record<string, unknown>): number | undefined {
  return (body.error as { code?: number } | undefined)?.code;
}

function tokenFor(email: string, scope = 'read', sim = simulator) {
  return authorizeAndExchange({ identityUrl: sim.identityUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, email, password: sim.login.password, scope });
}

async function personWithRole(role: string): Promise<{ id: string; email: string }> {
  const { body } = await get('/users?limit=100');
  const person = (body.users as { id: string; email: string; role: string }[]).find((user) => user.role === role);
  if (person === undefined) throw new Error(`The account has no ${role}`);
  return person;
}

describe('incident windows', () => {
  it('rejects windows over six months', async () => {
    const { status, body } = await get('/incidents?since=2025-10-01T00:00:00Z&until=2026-04-02T00:00:00Z');
    expect(status).toBe(400);
    expect(errorCode(body)).toBe(2001);
  });

  it('accepts a six-month window', async () => {
    expect((await get('/incidents?since=2025-10-01T00:00:00Z&until=2026-04-01T00:00:00Z')).status).toBe(200);
  });

  it('opens one month from since', async () => {
    const { body } = await get('/incidents?since=2026-01-10T00:00:00Z&limit=100&total=true&sort_by=created_at:desc');
    const created = (body.incidents as { created_at: string }[]).map((incident) => Date.parse(incident.created_at));
    expect(created.length).toBeGreaterThan(0);
    expect(Math.max(...created)).toBeLessThan(Date.parse('2026-02-10T00:00:00Z'));
    expect(Math.min(...created)).toBeGreaterThanOrEqual(Date.parse('2026-01-10T00:00:00Z'));
  });

  it('defaults to the last month', async () => {
    const { body } = await get('/incidents?limit=100&sort_by=created_at:asc');
    const oldest = Date.parse((body.incidents as { created_at: string }[])[0]?.created_at ?? '');
    expect(oldest).toBeGreaterThanOrEqual(NOW.getTime() - 32 * DAY_MS);
    expect(oldest).toBeLessThan(NOW.getTime() - 25 * DAY_MS);
  });

  it('serves all history with date_range=all', async () => {
    const all = await get('/incidents?date_range=all&limit=1&total=true');
    const month = await get('/incidents?limit=1&total=true');
    expect(Number(all.body.total)).toBeGreaterThan(Number(month.body.total));
  });

  it('reads naive times in the account zone', async () => {
    const naive = await get('/incidents?since=2026-03-01T00:00:00&until=2026-03-02T00:00:00&limit=100&total=true');
    const explicit = await get('/incidents?since=2026-03-01T05:00:00Z&until=2026-03-02T05:00:00Z&limit=100&total=true');
    expect(naive.body.total).toBe(explicit.body.total);
    const tokyo = await get('/incidents?since=2026-03-01T00:00:00&until=2026-03-02T00:00:00&limit=100&total=true&time_zone=Asia/Tokyo');
    const tokyoExplicit = await get('/incidents?since=2026-02-28T15:00:00Z&until=2026-03-01T15:00:00Z&limit=100&total=true');
    expect(tokyo.body.total).toBe(tokyoExplicit.body.total);
  });

  it('filters incidents on creation time', async () => {
    const { body } = await get('/incidents?since=2026-04-01T00:00:00Z&until=2026-04-08T00:00:00Z&limit=100');
    for (const incident of body.incidents as { created_at: string }[]) {
      expect(Date.parse(incident.created_at)).toBeGreaterThanOrEqual(Date.parse('2026-04-01T00:00:00Z'));
      expect(Date.parse(incident.created_at)).toBeLessThan(Date.parse('2026-04-08T00:00:00Z'));
    }
  });

  it('filters statuses with array parameters', async () => {
    const { body } = await get('/incidents?date_range=all&statuses[]=resolved&limit=100');
    expect((body.incidents as { status: string }[]).every((incident) => incident.status === 'resolved')).toBe(true);
  });
});

describe('audit record rules', () => {
  it('rejects windows over 31 days', async () => {
    const { status, body } = await get('/audit/records?since=2026-03-01T00:00:00Z&until=2026-04-02T00:00:00Z');
    expect(status).toBe(400);
    expect(errorCode(body)).toBe(2001);
  });

  it('pages by cursor to the end', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/audit/records?since=2026-04-20T00:00:00Z&until=2026-05-20T00:00:00Z&limit=3${cursor === null ? '' : `&cursor=${cursor}`}`;
      const { body } = await get(query);
      ids.push(...(body.records as { id: string }[]).map((record) => record.id));
      cursor = body.next_cursor as string | null;
    } while (cursor !== null);
    expect(ids.length).toBeGreaterThan(3);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects non-admin tokens', async () => {
    const responder = await personWithRole('limited_user');
    const token = await tokenFor(responder.email);
    const { status, body } = await get('/audit/records', `Bearer ${token.access_token}`);
    expect(status).toBe(403);
    expect(errorCode(body)).toBe(2010);
  });

  it('allows admin tokens', async () => {
    const token = await tokenFor(simulator.login.email);
    expect((await get('/audit/records', `Bearer ${token.access_token}`)).status).toBe(200);
  });
});

describe('notification and on-call windows', () => {
  it('rejects notification windows of three months', async () => {
    const { status } = await get('/notifications?since=2026-01-01T00:00:00Z&until=2026-04-01T00:00:00Z');
    expect(status).toBe(400);
  });

  it('accepts notification windows under three months', async () => {
    const { status, body } = await get('/notifications?since=2026-01-01T00:00:00Z&until=2026-03-31T00:00:00Z&limit=5');
    expect(status).toBe(200);
    expect((body.notifications as unknown[]).length).toBe(5);
  });

  it('requires both notification bounds', async () => {
    expect((await get('/notifications?since=2026-01-01T00:00:00Z')).status).toBe(400);
  });

  it('rejects on-call windows over 90 days', async () => {
    const { status } = await get('/oncalls?since=2026-05-20T00:00:00Z&until=2026-08-20T00:00:00Z');
    expect(status).toBe(400);
  });

  it('reports permanent on-calls with null bounds', async () => {
    const { body } = await get('/oncalls?limit=100');
    const oncalls = body.oncalls as { start: string | null; end: string | null; schedule: unknown; user: { id: string } }[];
    const permanent = oncalls.filter((entry) => entry.start === null);
    expect(permanent.length).toBeGreaterThan(0);
    for (const entry of permanent) {
      expect(entry.end).toBeNull();
      expect(entry.schedule).toBeNull();
    }
    expect(oncalls.some((entry) => entry.start !== null)).toBe(true);
  });

  it('hands off at local time across DST', async () => {
    const { body: list } = await get('/schedules?limit=100');
    const schedule = (list.schedules as { id: string; time_zone: string }[]).find((candidate) => candidate.time_zone === 'America/New_York');
    expect(schedule).toBeDefined();
    // Daylight saving time began in New York on 2026-03-08.
    const { body } = await get(`/schedules/${schedule?.id ?? ''}?since=2026-02-23T00:00:00Z&until=2026-03-24T00:00:00Z&time_zone=America/New_York`);
    const entries = ((body.schedule as { final_schedule: { rendered_schedule_entries: { start: string }[] } }).final_schedule.rendered_schedule_entries)
      .map((entry) => entry.start)
      .filter((start) => start.endsWith(':00:00-05:00') || start.endsWith(':00:00-04:00'));
    expect(entries).toContain('2026-03-02T09:00:00-05:00');
    expect(entries).toContain('2026-03-09T09:00:00-04:00');
    expect(entries).toContain('2026-03-16T09:00:00-04:00');
  });
});

describe('access rules', () => {
  it('rejects missing scopes with 403', async () => {
    const token = await tokenFor(simulator.login.email, 'users.read');
    expect(token.scope).toBe('openid users.read');
    expect((await get('/users', `Bearer ${token.access_token}`)).status).toBe(200);
    const denied = await get('/log_entries', `Bearer ${token.access_token}`);
    expect(denied.status).toBe(403);
  });

  it('gates plan features with 402', async () => {
    const free = await startSimulator({ people: 5, plan: 'free' });
    try {
      const teams = await get('/teams', `Token token=${free.apiKey}`, free);
      expect(teams.status).toBe(402);
      expect(errorCode(teams.body)).toBe(2014);
      const filtered = await get('/users?team_ids[]=PXXXXXX', `Token token=${free.apiKey}`, free);
      expect(filtered.status).toBe(402);
      expect((await get('/audit/records', `Token token=${free.apiKey}`, free)).status).toBe(402);
      expect((await get('/abilities/teams', `Token token=${free.apiKey}`, free)).status).toBe(402);
      expect((await get('/users', `Token token=${free.apiKey}`, free)).status).toBe(200);
    } finally {
      await free.close();
    }
  });

  it('answers ability checks with 204', async () => {
    const response = await fetch(`${simulator.apiUrl}/abilities/teams`, { headers: { authorization: `Token token=${simulator.apiKey}` } });
    expect(response.status).toBe(204);
  });

  it('hides others delegations from non-admins', async () => {
    const responder = await personWithRole('limited_user');
    const token = await tokenFor(responder.email);
    expect((await get(`/users/${responder.id}/oauth_delegations`, `Bearer ${token.access_token}`)).status).toBe(200);
    expect((await get(`/users/${(await personWithRole('owner')).id}/oauth_delegations`, `Bearer ${token.access_token}`)).status).toBe(403);
  });

  it('serves user keys as their user', async () => {
    const responder = await personWithRole('user');
    const key = simulator.control.createApiKey(responder.id);
    const { status, body } = await get('/users/me', `Token token=${key}`);
    expect(status).toBe(200);
    expect((body.user as { id: string }).id).toBe(responder.id);
  });

  it('revokes one delegation', async () => {
    const first = await tokenFor(simulator.login.email);
    const second = await tokenFor(simulator.login.email);
    const delegationId = String(decodeJwt(first.id_token).delegation_id);
    expect(simulator.control.revokeDelegation(delegationId)).toBe(true);
    expect((await get('/users/me', `Bearer ${first.access_token}`)).status).toBe(401);
    expect((await get('/users/me', `Bearer ${second.access_token}`)).status).toBe(200);
    const delegations = await get(`/users/${String(decodeJwt(first.id_token).user_id)}/oauth_delegations?delegation_type=integration&status=revoked`);
    expect((delegations.body.oauth_delegations as { id: string }[]).map((delegation) => delegation.id)).toContain(delegationId);
  });

  it('expires tokens after the configured lifetime', async () => {
    const shortLived = await startSimulator({ people: 5, accessTokenLifetimeSeconds: 60 });
    try {
      const token = await tokenFor(shortLived.login.email, 'read', shortLived);
      expect(token.expires_in).toBe(60);
      expect((await get('/users/me', `Bearer ${token.access_token}`, shortLived)).status).toBe(200);
      shortLived.control.advanceClock(61_000);
      expect((await get('/users/me', `Bearer ${token.access_token}`, shortLived)).status).toBe(401);
    } finally {
      await shortLived.close();
    }
  });

  it('names deleted people in old entries', async () => {
    const { body } = await get('/log_entries?date_range=all&limit=100&offset=0&since=2026-01-01T00:00:00Z&until=2026-05-20T00:00:00Z&total=true');
    const total = Number(body.total);
    const agents = new Set<string>();
    for (let offset = 0; offset < Math.min(total, 10_000); offset += 100) {
      const page = await get(`/log_entries?since=2026-01-01T00:00:00Z&until=2026-05-20T00:00:00Z&limit=100&offset=${offset}`);
      for (const entry of page.body.log_entries as { agent: { type: string; id: string } }[]) if (entry.agent.type === 'user_reference') agents.add(entry.agent.id);
    }
    const { body: users } = await get('/users?limit=100');
    const current = new Set((users.users as { id: string }[]).map((user) => user.id));
    const deleted = [...agents].filter((id) => !current.has(id));
    expect(deleted.length).toBeGreaterThan(0);
    const lookup = await get(`/users/${deleted[0] ?? ''}`);
    expect(lookup.status).toBe(404);
    expect(errorCode(lookup.body)).toBe(2100);
  });
});

describe('incident subscriber rules', () => {
  const subscribersPath = async (sim = simulator) => {
    const { body } = await get('/incidents?date_range=all&limit=100', `Token token=${sim.apiKey}`, sim);
    return (body.incidents as { id: string }[]).map((incident) => `/incidents/${incident.id}/status_updates/subscribers`);
  };

  it('requires the subscribers scope', async () => {
    const [path] = await subscribersPath();
    if (path === undefined) throw new Error('The account has no incidents');
    const incidentsOnly = await tokenFor(simulator.login.email, 'incidents.read');
    expect((await get(path, `Bearer ${incidentsOnly.access_token}`)).status).toBe(403);
    const subscribers = await tokenFor(simulator.login.email, 'subscribers.read');
    expect((await get(path, `Bearer ${subscribers.access_token}`)).status).toBe(200);
  });

  it('answers 404 for an unknown incident', async () => {
    const { status, body } = await get('/incidents/PNOSUCH/status_updates/subscribers');
    expect(status).toBe(404);
    expect(errorCode(body)).toBe(2100);
  });

  it('leaves some incidents without subscribers', async () => {
    const counts = await Promise.all((await subscribersPath()).map(async (path) => ((await get(path)).body.subscribers as unknown[]).length));
    expect(counts.some((count) => count === 0)).toBe(true);
    expect(counts.some((count) => count > 0)).toBe(true);
  });

  it('has none below the Business plan', async () => {
    const professional = await startSimulator({ people: 10, plan: 'professional' });
    try {
      for (const path of await subscribersPath(professional)) {
        const { status, body } = await get(path, `Token token=${professional.apiKey}`, professional);
        expect(status).toBe(200);
        expect(body.subscribers).toEqual([]);
      }
    } finally {
      await professional.close();
    }
  });
});

describe('analytics rules', () => {
  async function post(path: string, body: unknown, authorization = `Token token=${simulator.apiKey}`) {
    const response = await fetch(`${simulator.apiUrl}${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('pages raw users by starting_after', async () => {
    const ids: string[] = [];
    let startingAfter: string | undefined;
    for (;;) {
      const { body } = await post('/analytics/raw/users', { limit: 25, ...(startingAfter === undefined ? {} : { starting_after: startingAfter }) });
      ids.push(...(body.data as { id: string }[]).map((row) => row.id));
      if (body.more !== true) break;
      startingAfter = body.last as string;
    }
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
  });

  it('rejects limits over 1,000', async () => {
    expect((await post('/analytics/raw/users', { limit: 1001 })).status).toBe(400);
  });

  it('requires team filters for OAuth', async () => {
    const token = await tokenFor(simulator.login.email);
    const unfiltered = await post('/analytics/raw/incidents', { limit: 10 }, `Bearer ${token.access_token}`);
    expect(unfiltered.status).toBe(400);
    const { body: teams } = await get('/teams');
    const teamIds = (teams.teams as { id: string }[]).map((team) => team.id);
    expect((await post('/analytics/raw/incidents', { limit: 10, filters: { team_ids: teamIds } }, `Bearer ${token.access_token}`)).status).toBe(200);
  });

  it('reports sign-ins and invitations', async () => {
    const { body } = await post('/analytics/raw/users', {});
    const rows = body.data as { signed_up: boolean; last_sign_in_at: string | null }[];
    expect(rows.some((row) => !row.signed_up && row.last_sign_in_at === null)).toBe(true);
    expect(rows.some((row) => row.signed_up && row.last_sign_in_at !== null)).toBe(true);
  });
});

describe('faults and latency', () => {
  it('injects server errors', async () => {
    const faulty = await startSimulator({ people: 5, faults: { serverError: 1 } });
    try {
      const statuses = new Set<number>();
      for (let index = 0; index < 12; index += 1) statuses.add((await fetch(`${faulty.apiUrl}/users`, { headers: { authorization: `Token token=${faulty.apiKey}` } })).status);
      expect([...statuses].every((status) => status >= 500)).toBe(true);
    } finally {
      await faulty.close();
    }
  });

  it('resets connections', async () => {
    const faulty = await startSimulator({ people: 5, faults: { connectionReset: 1 } });
    try {
      await expect(fetch(`${faulty.apiUrl}/users`, { headers: { authorization: `Token token=${faulty.apiKey}` } })).rejects.toThrow();
    } finally {
      await faulty.close();
    }
  });

  it('sends slow bodies whole', async () => {
    const faulty = await startSimulator({ people: 5, faults: { slowBody: 1 }, slowBodyDelayMs: 300 });
    try {
      const started = Date.now();
      const response = await fetch(`${faulty.apiUrl}/users`, { headers: { authorization: `Token token=${faulty.apiKey}` } });
      const body = (await response.json()) as { users: unknown[] };
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(body.users).toHaveLength(5);
    } finally {
      await faulty.close();
    }
  });

  it('sends 429 without headers', async () => {
    const faulty = await startSimulator({ people: 5, faults: { rateLimitWithoutHeaders: 1 } });
    try {
      const response = await fetch(`${faulty.apiUrl}/users`, { headers: { authorization: `Token token=${faulty.apiKey}` } });
      expect(response.status).toBe(429);
      expect(response.headers.get('ratelimit-reset')).toBeNull();
      expect(await response.text()).toBe('');
    } finally {
      await faulty.close();
    }
  });

  it('delays responses by the latency', async () => {
    simulator.control.setLatency(150);
    try {
      const started = Date.now();
      await get('/abilities');
      expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    } finally {
      simulator.control.setLatency(0);
    }
  });
});
