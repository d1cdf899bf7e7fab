import { api } from '@pagerduty/pdjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeAndExchange } from './consent-driver.ts';
import { startSimulator, type RunningSimulator } from './index.ts';

/**
 * The official JavaScript client, as a customer script would use it. pdjs builds `https://` URLs
 * from `server`, so requests pass the simulator's `url` instead, and pages are followed with its own
 * `next()`, which advances `offset` by `limit` while `more` is true.
 */
let simulator: RunningSimulator;

beforeAll(async () => {
  simulator = await startSimulator({ people: 140, seed: 4 });
});

afterAll(async () => {
  await simulator.close();
});

interface PdjsResponse {
  status: number;
  data: Record<string, unknown>;
  next?: () => Promise<PdjsResponse>;
}

async function readAllPages(path: string, data: Record<string, string>): Promise<PdjsResponse[]> {
  const pages: PdjsResponse[] = [(await api({ url: `${simulator.apiUrl}${path}`, token: simulator.apiKey, data })) as unknown as PdjsResponse];
  for (let page = pages[0]; page?.next !== undefined; page = pages[pages.length - 1]) pages.push(await page.next());
  return pages;
}

describe('pdjs against the simulator', () => {
  it('reads every user', async () => {
    const pages = await readAllPages('/users', { limit: '50' });
    const users = pages.flatMap((page) => page.data.users as { id: string }[]);
    expect(pages.every((page) => page.status === 200)).toBe(true);
    expect(users).toHaveLength(140);
    expect(new Set(users.map((user) => user.id)).size).toBe(140);
  });

  it('reads log entries with bearer tokens', async () => {
    const token = await authorizeAndExchange({ identityUrl: simulator.identityUrl, clientId: simulator.clientId, clientSecret: simulator.clientSecret, ...simulator.login });
    const response = (await api({ url: `${simulator.apiUrl}/log_entries`, token: token.access_token, tokenType: 'bearer', data: { limit: '100' } })) as unknown as PdjsResponse;
    expect(response.status).toBe(200);
    expect(response.data.log_entries as unknown[]).toHaveLength(100);
  });

  it('stops at the 10,000 cap', async () => {
    const pages = await readAllPages('/log_entries', { limit: '100', total: 'true' });
    const last = pages[pages.length - 1];
    expect(Number(pages[0]?.data.total)).toBeGreaterThan(10_000);
    expect(pages.slice(0, -1).every((page) => page.status === 200)).toBe(true);
    expect(pages.slice(0, -1).flatMap((page) => page.data.log_entries as unknown[])).toHaveLength(10_000);
    expect(last?.status).toBe(400);
    expect(last?.data).toEqual({ error: { message: 'Invalid Input Provided', code: 2002, errors: ['Offset+limit exceeds maximum allowed value of 10000'] } });
  });
});
