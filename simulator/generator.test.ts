import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAccount } from './generator.ts';
import type { SimAccount } from './model.ts';
import { startSimulator, type GroundTruth, type RunningSimulator } from './index.ts';

const NOW = new Date('2026-03-20T09:30:00Z');
const DAY_MS = 86_400_000;

function latestActions(account: SimAccount): Map<string, number> {
  const latest = new Map<string, number>();
  account.history.scanEntries(-Infinity, Infinity, (entry) => {
    if (entry.agent.type === 'user_reference' && !latest.has(entry.agent.id)) latest.set(entry.agent.id, entry.createdAt.getTime());
  });
  return latest;
}

describe('account generator', () => {
  it('repeats the account for a seed', () => {
    const first = generateAccount({ seed: 5, people: 60, region: 'us', now: NOW, historyDays: 100 });
    const second = generateAccount({ seed: 5, people: 60, region: 'us', now: NOW, historyDays: 100 });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('varies the account by seed', () => {
    const first = generateAccount({ seed: 5, people: 60, region: 'us', now: NOW, historyDays: 100 });
    const other = generateAccount({ seed: 6, people: 60, region: 'us', now: NOW, historyDays: 100 });
    expect(other.users.map((user) => user.id)).not.toEqual(first.users.map((user) => user.id));
  });

  it('mixes roles and behaviours', () => {
    const account = generateAccount({ seed: 42, people: 250, region: 'us', now: NOW, historyDays: 100 });
    expect(account.users).toHaveLength(250);
    const roles = new Set(account.users.map((user) => user.role));
    for (const role of ['owner', 'admin', 'user', 'limited_user', 'observer', 'read_only_user']) expect(roles).toContain(role);
    const behaviours = new Set(account.users.map((user) => user.behaviour));
    for (const behaviour of ['daily_responder', 'weekly_responder', 'occasional_responder', 'lapsed_responder', 'dormant_responder', 'never_acts', 'stakeholder']) {
      expect(behaviours).toContain(behaviour);
    }
  });

  it('keeps latest actions off window edges', () => {
    for (const seed of [1, 2, 3, 42]) {
      const account = generateAccount({ seed, people: 250, region: 'us', now: NOW, historyDays: 100 });
      const latest = latestActions(account);
      for (const at of latest.values()) {
        for (const days of [30, 90]) expect(Math.abs(at - (NOW.getTime() - days * DAY_MS))).toBeGreaterThanOrEqual(6 * 3_600_000);
      }
    }
  });

  it('keeps mobile-only people on the phone', () => {
    const account = generateAccount({ seed: 42, people: 250, region: 'us', now: NOW, historyDays: 100 });
    const mobileOnly = new Set(account.users.filter((user) => user.isMobileOnly).map((user) => user.id));
    expect(mobileOnly.size).toBeGreaterThan(3);
    let actions = 0;
    account.history.scanEntries(-Infinity, Infinity, (entry) => {
      if (entry.agent.type !== 'user_reference' || !mobileOnly.has(entry.agent.id)) return;
      actions += 1;
      expect(entry.channel.type).toBe('sms');
    });
    expect(actions).toBeGreaterThan(0);
    for (const user of account.users.filter((candidate) => candidate.isMobileOnly)) {
      expect(user.hasMobileApp).toBe(true);
      expect(user.sessions.map((session) => session.type)).not.toContain('web');
    }
  });

  it('places lapsed people 31 to 89 days back', () => {
    const account = generateAccount({ seed: 42, people: 250, region: 'us', now: NOW, historyDays: 100 });
    const lapsed = new Set(account.users.filter((user) => user.behaviour === 'lapsed_responder').map((user) => user.id));
    const latest = new Map([...latestActions(account)].filter(([id]) => lapsed.has(id)));
    expect(latest.size).toBe(lapsed.size);
    for (const at of latest.values()) {
      const daysAgo = (NOW.getTime() - at) / DAY_MS;
      expect(daysAgo).toBeGreaterThan(30);
      expect(daysAgo).toBeLessThan(90);
    }
  });
});

describe('simulator ground truth', () => {
  let simulator: RunningSimulator;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 80, seed: 3, now: NOW });
  });

  afterAll(async () => {
    await simulator.close();
  });

  async function get(path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${simulator.apiUrl}${path}`, { headers: { authorization: `Token token=${simulator.apiKey}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  /** Reads 90 days of log entries in one-week windows, each under the 10,000-record cap. */
  async function lastSeenFromApi(asOf: Date): Promise<Map<string, string>> {
    const lastSeen = new Map<string, string>();
    const start = asOf.getTime() - 90 * DAY_MS;
    for (let windowStart = start; windowStart < asOf.getTime(); windowStart += 7 * DAY_MS) {
      const windowEnd = Math.min(windowStart + 7 * DAY_MS, asOf.getTime() + 1000);
      for (let offset = 0; ; offset += 100) {
        const page = await get(`/log_entries?since=${new Date(windowStart).toISOString()}&until=${new Date(windowEnd).toISOString()}&limit=100&offset=${offset}`);
        for (const entry of page.log_entries as { created_at: string; agent: { type: string; id: string } }[]) {
          if (entry.agent.type !== 'user_reference') continue;
          const previous = lastSeen.get(entry.agent.id);
          if (previous === undefined || Date.parse(entry.created_at) > Date.parse(previous)) lastSeen.set(entry.agent.id, new Date(entry.created_at).toISOString());
        }
        if (page.more !== true) break;
      }
    }
    return lastSeen;
  }

  it('agrees with served log entries', async () => {
    const truth = simulator.groundTruth();
    expect(truth.asOf).toBe(NOW.toISOString());
    const fromApi = await lastSeenFromApi(NOW);
    for (const person of truth.people) expect(person.lastSeenAt ?? undefined).toBe(fromApi.get(person.id));
    expect(truth.people.filter((person) => person.lastSeenAt !== null).every((person) => person.lastSeenSignal === 'incident_action')).toBe(true);
  });

  it('counts seats from licenses', async () => {
    const truth = simulator.groundTruth();
    const licenses = (await get('/licenses')).licenses as { id: string; current_value: number; allocations_available: number }[];
    for (const seat of truth.seats) {
      const license = licenses.find((candidate) => candidate.id === seat.licenseId);
      expect(seat.allocated).toBe(license?.current_value);
      expect(seat.paid).toBe((license?.current_value ?? 0) + (license?.allocations_available ?? 0));
      expect(seat.active30d).toBe(truth.people.filter((person) => person.licenseId === seat.licenseId && person.lastSeenAt !== null && Date.parse(person.lastSeenAt) >= NOW.getTime() - 30 * DAY_MS).length);
      expect(seat.neverActive).toBe(truth.people.filter((person) => person.licenseId === seat.licenseId && person.lastSeenAt === null).length);
      expect(seat.active30d).toBeLessThanOrEqual(seat.active90d);
    }
    const stakeholder = truth.seats.find((seat) => seat.roleGroup === 'Stakeholder');
    expect(stakeholder?.active90d).toBe(0);
  });

  it('serves ground truth over HTTP', async () => {
    const asOf = new Date(NOW.getTime() - 10 * DAY_MS);
    const response = await fetch(`${simulator.apiUrl}/__simulator/ground-truth?as_of=${asOf.toISOString()}`);
    expect(response.status).toBe(200);
    const truth = (await response.json()) as GroundTruth;
    expect(truth).toEqual(simulator.groundTruth(asOf));
    expect(truth.account).toEqual({ subdomain: 'acme-demo', region: 'us' });
  });

  it('lists actions with channels', async () => {
    const since = new Date(NOW.getTime() - 7 * DAY_MS);
    const actions = simulator.actions(since, NOW);
    expect(actions.length).toBeGreaterThan(0);
    const truth = simulator.groundTruth();
    for (const action of actions.slice(0, 20)) {
      const person = truth.people.find((candidate) => candidate.id === action.userId);
      expect(Date.parse(person?.lastSeenAt ?? '')).toBeGreaterThanOrEqual(Date.parse(action.at));
      expect(action.channel).toBeTruthy();
    }
    const response = await fetch(`${simulator.apiUrl}/__simulator/actions?since=${since.toISOString()}&until=${NOW.toISOString()}&user_id=${actions[0]?.userId ?? ''}`);
    const body = (await response.json()) as { actions: { userId: string }[] };
    expect(body.actions.length).toBeGreaterThan(0);
    expect(body.actions.every((action) => action.userId === actions[0]?.userId)).toBe(true);
  });

  it('ignores entries after asOf', () => {
    const earlier = new Date(NOW.getTime() - 20 * DAY_MS);
    const truth = simulator.groundTruth(earlier);
    for (const person of truth.people) {
      if (person.lastSeenAt !== null) expect(Date.parse(person.lastSeenAt)).toBeLessThanOrEqual(earlier.getTime());
    }
  });
});
