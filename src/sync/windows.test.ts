import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PagerDutyClient } from '../connectors/pagerduty/client.ts';
import { RateBudget } from '../connectors/pagerduty/rate-budget.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { createLogger } from '../lib/logger.ts';
import { CheckpointStore } from './checkpoints.ts';
import { StreamProgress } from './progress.ts';
import { createQueuedRun, createTestConnection, testVault } from './testing.ts';
import { DAY_MS, readWindowed } from './windows.ts';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const BURST_START = NOW - 5 * DAY_MS;
const BURST_RECORDS = 25_000;
const SPREAD_RECORDS = 3_000;

type ServedOrder = 'newest_first' | 'oldest_first' | 'by_id';

/** A burst inside one hour and a thin spread over 30 days. */
const records: { id: string; created_at: number }[] = [
  ...Array.from({ length: BURST_RECORDS }, (_, index) => ({ id: `B${index}`, created_at: BURST_START + Math.floor((index * 3_600_000) / BURST_RECORDS) })),
  ...Array.from({ length: SPREAD_RECORDS }, (_, index) => ({ id: `S${index}`, created_at: NOW - 30 * DAY_MS + Math.floor((index * 30 * DAY_MS) / SPREAD_RECORDS) })),
];

/** The order the test server lists records in: by time either way, or by id, which ignores time. */
let servedOrder: ServedOrder = 'newest_first';

function sortedRecords(order: ServedOrder): { id: string; created_at: number }[] {
  switch (order) {
    case 'newest_first':
      return [...records].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1));
    case 'oldest_first':
      return [...records].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
    case 'by_id':
      return [...records].sort((a, b) => (a.id < b.id ? -1 : 1));
    default: {
      const unreachable: never = order;
      throw new Error(`Unknown order ${String(unreachable)}`);
    }
  }
}

let server: Server;
let baseUrl: string;
const requests: { offset: number; limit: number }[] = [];
let rejected = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const since = Date.parse(url.searchParams.get('since') ?? '');
    const until = Date.parse(url.searchParams.get('until') ?? '');
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 25);
    requests.push({ offset, limit });
    if (offset + limit > 10_000) {
      rejected += 1;
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'Arguments Caused Error', code: 2002, errors: ['Offset+limit exceeds maximum allowed value of 10000.'] } }));
      return;
    }
    const selected = sortedRecords(servedOrder).filter((record) => record.created_at >= since && record.created_at < until);
    const page = selected.slice(offset, offset + limit).map((record) => ({ id: record.id, created_at: new Date(record.created_at).toISOString() }));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ log_entries: page, offset, limit, more: offset + limit < selected.length, total: url.searchParams.get('total') === 'true' ? selected.length : null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('readWindowed', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await database.close();
  });

  it.each([
    { order: 'newest_first' as const, maxRatio: 1.05 },
    { order: 'oldest_first' as const, maxRatio: 1.05 },
    // A list out of time order is split into windows under the cap, each read from the start.
    { order: 'by_id' as const, maxRatio: 1.5 },
  ])('reads a burst past the cap, $order', async ({ order, maxRatio }) => {
    servedOrder = order;
    requests.length = 0;
    rejected = 0;
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: baseUrl, method: 'api_key', accessToken: 'KEY' });
    const syncRunId = await createQueuedRun(database, connection);
    const progress = new StreamProgress(database.db, syncRunId, 'log_entries');
    await progress.start();
    const client = new PagerDutyClient({
      apiBaseUrl: baseUrl,
      credentials: { current: async () => ({ kind: 'api_key', apiKey: 'KEY' }) },
      logger: createLogger('silent'),
      budget: new RateBudget({ limitPerMinute: 600_000, maxInFlight: 16 }),
    });
    const stored = new Set<string>();
    let storedCount = 0;

    const result = await readWindowed({
      client,
      checkpoints: new CheckpointStore(database.db, connection.connectionId),
      progress,
      stream: 'log_entries',
      path: '/log_entries',
      key: 'log_entries',
      item: z.looseObject({ id: z.string(), created_at: z.string() }),
      query: {},
      historyStart: new Date(NOW - 90 * DAY_MS),
      rangeEnd: new Date(NOW),
      overlapMs: 600_000,
      maxWindowMs: 179 * DAY_MS,
      timeOf: (item) => item.created_at,
      pageConcurrency: 8,
      store: async (items) => {
        storedCount += items.length;
        for (const item of items) stored.add(item.id);
      },
    });

    expect(result.ok).toBe(true);
    expect(rejected).toBe(0);
    for (const request of requests) expect(request.offset + request.limit).toBeLessThanOrEqual(10_000);
    expect(stored.size).toBe(BURST_RECORDS + SPREAD_RECORDS);
    const minimum = Math.ceil((BURST_RECORDS + SPREAD_RECORDS) / 100);
    expect(requests.length / minimum).toBeLessThanOrEqual(maxRatio);
    expect(storedCount - stored.size).toBeLessThan(order === 'by_id' ? 25_000 : 200);
  }, 120_000);

  it.each(['newest_first', 'oldest_first'] as const)('resumes a walk past the cap, %s', async (order) => {
    servedOrder = order;
    rejected = 0;
    const requestsBefore = requests.length;
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: baseUrl, method: 'api_key', accessToken: 'KEY' });
    const syncRunId = await createQueuedRun(database, connection);
    const progress = new StreamProgress(database.db, syncRunId, 'log_entries');
    await progress.start();
    const client = new PagerDutyClient({
      apiBaseUrl: baseUrl,
      credentials: { current: async () => ({ kind: 'api_key', apiKey: 'KEY' }) },
      logger: createLogger('silent'),
      budget: new RateBudget({ limitPerMinute: 600_000, maxInFlight: 16 }),
    });
    const stored = new Set<string>();
    let storedCount = 0;
    // Each stop lands at another depth of the burst: inside the first window over the cap, at its
    // last page, and inside a later one.
    const stops = [4_000, 10_000, 17_300];
    const read = () =>
      readWindowed({
        client,
        checkpoints: new CheckpointStore(database.db, connection.connectionId),
        progress,
        stream: 'log_entries',
        path: '/log_entries',
        key: 'log_entries',
        item: z.looseObject({ id: z.string(), created_at: z.string() }),
        query: {},
        historyStart: new Date(NOW - 90 * DAY_MS),
        rangeEnd: new Date(NOW),
        overlapMs: 600_000,
        maxWindowMs: 179 * DAY_MS,
        timeOf: (item) => item.created_at,
        pageConcurrency: 1,
        store: async (items) => {
          if (stops[0] !== undefined && storedCount >= stops[0]) {
            stops.shift();
            throw new Error('stopped');
          }
          storedCount += items.length;
          for (const item of items) stored.add(item.id);
        },
      });

    let attempts = 0;
    let isDone = false;
    while (!isDone) {
      attempts += 1;
      expect(attempts).toBeLessThanOrEqual(4);
      try {
        const result = await read();
        expect(result.ok).toBe(true);
        isDone = true;
      } catch (error) {
        expect((error as Error).message).toBe('stopped');
      }
    }

    expect(attempts).toBe(4);
    expect(rejected).toBe(0);
    expect(stored.size).toBe(BURST_RECORDS + SPREAD_RECORDS);
    // Each resume reads at most its head page and the page it stopped at again.
    const minimum = Math.ceil((BURST_RECORDS + SPREAD_RECORDS) / 100);
    expect(requests.length - requestsBefore).toBeLessThanOrEqual(minimum + 2 * (attempts - 1) + 2);
  }, 120_000);
});
