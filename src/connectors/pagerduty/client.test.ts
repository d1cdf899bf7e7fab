import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../lib/logger.ts';
import { PagerDutyClient, authorizationHeader } from './client.ts';
import { RateBudget } from './rate-budget.ts';

interface Seen {
  url: URL;
  authorization: string | undefined;
  accept: string | undefined;
}

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    seen.push({ url, authorization: request.headers.authorization, accept: request.headers.accept });
    if (url.pathname === '/items') {
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 25);
      const items = Array.from({ length: limit }, (_, index) => ({ id: `P${offset + index}`, extra: 'kept' }));
      response.writeHead(200, { 'content-type': 'application/json', 'ratelimit-limit': '60000', 'ratelimit-remaining': '59000', 'ratelimit-reset': '30' });
      response.end(JSON.stringify({ items, offset, limit, more: true, total: null }));
      return;
    }
    if (url.pathname === '/invalid') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ items: [{ id: 7 }] }));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":{"message":"Not Found","code":2100}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(): PagerDutyClient {
  return new PagerDutyClient({
    apiBaseUrl: baseUrl,
    credentials: { current: async () => ({ kind: 'api_key', apiKey: 'KEY' }) },
    logger: createLogger('silent'),
    budget: new RateBudget({ limitPerMinute: 60_000 }),
  });
}

const itemSchema = z.looseObject({ id: z.string() });

describe('PagerDutyClient', () => {
  it('sends the version and credential headers', async () => {
    seen.length = 0;
    await client().getOffsetPage('/items', {}, 'items', itemSchema, { offset: 0 });
    expect(seen[0]?.accept).toBe('application/vnd.pagerduty+json;version=2');
    expect(seen[0]?.authorization).toBe('Token token=KEY');
    expect(authorizationHeader({ kind: 'oauth', accessToken: 'abc' })).toBe('Bearer abc');
  });

  it('never pages past the offset cap', async () => {
    seen.length = 0;
    const result = await client().listAll('/items', { include: ['teams', 'users'] }, 'items', itemSchema, async () => {});

    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.kind).toBe('offset_cap');
    for (const request of seen) {
      const offset = Number(request.url.searchParams.get('offset'));
      const limit = Number(request.url.searchParams.get('limit'));
      expect(offset + limit).toBeLessThanOrEqual(10_000);
      expect(request.url.searchParams.getAll('limit')).toHaveLength(1);
      expect(request.url.searchParams.getAll('include[]')).toEqual(['teams', 'users']);
    }
    expect(seen).toHaveLength(100);
  });

  it('keeps unknown fields of items', async () => {
    const page = await client().getOffsetPage('/items', {}, 'items', itemSchema, { offset: 0, limit: 1 });
    expect(page.ok).toBe(true);
    if (page.ok) expect(page.value.items[0]).toEqual({ id: 'P0', extra: 'kept' });
  });

  it('names the failing field', async () => {
    const result = await client().get('/invalid', {}, z.looseObject({ items: z.array(itemSchema) }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe('invalid_response');
      expect(result.error.message).toContain('items.0.id');
    }
  });

  it('returns 404 as a value', async () => {
    const result = await client().get('/missing', {}, z.unknown());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ kind: 'not_found', status: 404, code: 2100 });
  });
});
