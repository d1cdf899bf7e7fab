import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EAGER_HISTORY_MAX_PEOPLE, generateAccount } from './generator.ts';
import { ArrayHistory } from './history.ts';
import { LazyHistory } from './lazy-history.ts';
import { startSimulator, type RunningSimulator } from './index.ts';

const NOW = new Date('2026-09-01T12:00:00Z');
const DAY_MS = 86_400_000;

describe('lazy history generator', () => {
  it('repeats days for a seed', () => {
    const options = { seed: 8, people: 300, region: 'us' as const, now: NOW, historyDays: 200, incidents: 20_000 };
    const first = generateAccount(options).history.entries(-Infinity, Infinity, 5_000, 50);
    const second = generateAccount(options).history.entries(-Infinity, Infinity, 5_000, 50);
    expect(second).toEqual(first);
    expect(first).toHaveLength(50);
  });

  it('keeps entries newest first across days', () => {
    const account = generateAccount({ seed: 8, people: 300, region: 'us', now: NOW, historyDays: 200, incidents: 20_000 });
    const page = account.history.entries(-Infinity, Infinity, 0, 3_000);
    const times = page.map((entry) => entry.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(page.map((entry) => entry.id)).size).toBe(page.length);
    expect(account.history.countEntries(-Infinity, Infinity)).toBeGreaterThan(150_000);
  });

  it('finds incidents and entries by id', () => {
    const account = generateAccount({ seed: 8, people: 300, region: 'us', now: NOW, historyDays: 200, incidents: 20_000 });
    const [incident] = account.history.incidents(NOW.getTime() - 50 * DAY_MS, NOW.getTime(), 7, 1);
    expect(incident).toBeDefined();
    expect(account.history.incident(incident?.id ?? '')).toEqual(incident);
    const entries = account.history.incidentEntries(incident?.id ?? '');
    expect(entries[0]?.type).toBe('trigger_log_entry');
    expect(account.history.entry(entries[1]?.id ?? '')).toEqual(entries[1]);
    expect(account.history.incident('QZZZZZZZZZZZZZ')).toBeUndefined();
  });

  it('switches large accounts to lazy', () => {
    const small = generateAccount({ seed: 8, people: EAGER_HISTORY_MAX_PEOPLE, region: 'us', now: NOW, historyDays: 10 });
    const large = generateAccount({ seed: 8, people: EAGER_HISTORY_MAX_PEOPLE + 1, region: 'us', now: NOW, historyDays: 10 });
    expect(small.history).toBeInstanceOf(ArrayHistory);
    expect(large.history).toBeInstanceOf(LazyHistory);
    expect(large.history.countIncidents(-Infinity, Infinity)).toBeGreaterThan((EAGER_HISTORY_MAX_PEOPLE + 1) * 15 * 0.8);
  });

  it('generates a burst day', () => {
    const account = generateAccount({ seed: 8, people: 100, region: 'us', now: NOW, historyDays: 60, incidents: 3_000, burst: { daysAgo: 5, incidents: 10_500 } });
    const burstStart = NOW.getTime() - 6 * DAY_MS;
    expect(account.history.countIncidents(burstStart, burstStart + DAY_MS)).toBeGreaterThan(10_000);
    expect(account.history.countIncidents(burstStart - DAY_MS, burstStart)).toBeLessThan(200);
  });

  it('keeps last actions off window edges', () => {
    const account = generateAccount({ seed: 2, people: 400, region: 'us', now: NOW, historyDays: 120, incidents: 30_000 });
    const latest = new Map<string, number>();
    account.history.scanEntries(-Infinity, Infinity, (entry) => {
      if (entry.agent.type === 'user_reference' && !latest.has(entry.agent.id)) latest.set(entry.agent.id, entry.createdAt.getTime());
    });
    expect(latest.size).toBeGreaterThan(100);
    for (const at of latest.values()) {
      for (const days of [30, 90]) expect(Math.abs(at - (NOW.getTime() - days * DAY_MS))).toBeGreaterThanOrEqual(6 * 3_600_000);
    }
  });
});

describe('lazy account over HTTP', () => {
  let simulator: RunningSimulator;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 150, seed: 12, now: NOW, historyDays: 120, incidents: 6_000, rateLimitPerMinute: 100_000 });
  });

  afterAll(async () => {
    await simulator.close();
  });

  async function get(path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${simulator.apiUrl}${path}`, { headers: { authorization: `Token token=${simulator.apiKey}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  it('agrees with ground truth', async () => {
    const lastSeen = new Map<string, string>();
    for (let windowStart = NOW.getTime() - 90 * DAY_MS; windowStart < NOW.getTime(); windowStart += 10 * DAY_MS) {
      const windowEnd = Math.min(windowStart + 10 * DAY_MS, NOW.getTime() + 1000);
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
    const truth = simulator.groundTruth();
    expect(truth.people.filter((person) => person.lastSeenAt !== null).length).toBeGreaterThan(20);
    for (const person of truth.people) expect(person.lastSeenAt ?? undefined).toBe(lastSeen.get(person.id));
  });

  it('pages incidents by creation time', async () => {
    const since = new Date(NOW.getTime() - 20 * DAY_MS).toISOString();
    const until = new Date(NOW.getTime() - 10 * DAY_MS).toISOString();
    const first = await get(`/incidents?since=${since}&until=${until}&limit=100&total=true`);
    const second = await get(`/incidents?since=${since}&until=${until}&limit=100&offset=100`);
    const numbers = [...(first.incidents as { incident_number: number }[]), ...(second.incidents as { incident_number: number }[])].map((incident) => incident.incident_number);
    expect(Number(first.total)).toBeGreaterThan(200);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(200);
  });
});
