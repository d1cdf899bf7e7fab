import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PagerDutyClient } from '../connectors/pagerduty/client.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createLogger } from '../lib/logger.ts';
import { createOpsMetrics, type OpsMetrics } from './metrics.ts';
import { registerOperations } from './routes.ts';
import { ProcessState } from './state.ts';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const logger = createLogger('silent');

async function buildOpsApp(database: Database, options: { metricsToken?: string; process?: ProcessState; metrics?: OpsMetrics }): Promise<FastifyInstance> {
  const app = Fastify();
  registerOperations(app, { database, config: { metricsToken: options.metricsToken }, process: options.process, metrics: options.metrics });
  app.get('/slow', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return app;
}

function urlOf(app: FastifyInstance, path: string): string {
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${path}`;
}

/** A loopback stand-in for PagerDuty that returns 429 with rate-limit headers, then 200. */
async function startRateLimitedApi(): Promise<{ url: string; server: Server }> {
  let requests = 0;
  const server = createServer((_request, response) => {
    requests += 1;
    if (requests === 1) {
      response.writeHead(429, { 'content-type': 'application/json', 'ratelimit-limit': '960', 'ratelimit-remaining': '0', 'ratelimit-reset': '0' });
      response.end(JSON.stringify({ error: { code: 2020, message: 'Rate Limit Exceeded' } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'ratelimit-limit': '960', 'ratelimit-remaining': '720' });
    response.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('operations endpoints', () => {
  let database: Database;

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
  });

  afterAll(async () => {
    await database.close();
  });

  it('healthz reports a live process', async () => {
    const app = await buildOpsApp(database, {});
    const response = await fetch(urlOf(app, '/healthz'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    await app.close();
  });

  it('readyz follows the process lifecycle', async () => {
    const processState = new ProcessState();
    const app = await buildOpsApp(database, { process: processState });

    const beforeQueue = await fetch(urlOf(app, '/readyz'));
    expect(beforeQueue.status).toBe(503);
    const beforeBody = (await beforeQueue.json()) as { checks: Record<string, { ok: boolean }> };
    expect(beforeBody.checks.queue?.ok).toBe(false);
    expect(beforeBody.checks.database?.ok).toBe(true);
    expect(beforeBody.checks.migrations?.ok).toBe(true);

    processState.markQueueStarted();
    const ready = await fetch(urlOf(app, '/readyz'));
    expect(ready.status).toBe(200);

    processState.markStopping();
    const stopping = await fetch(urlOf(app, '/readyz'));
    expect(stopping.status).toBe(503);
    const stoppingBody = (await stopping.json()) as { checks: Record<string, { ok: boolean }> };
    expect(stoppingBody.checks.process?.ok).toBe(false);
    await app.close();
  });

  it('readyz reports pending migrations', async () => {
    const empty = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await empty.execScript(`create table seatwise_migrations (name text primary key, applied_at timestamptz not null default now())`);
    const app = await buildOpsApp(empty, {});

    const response = await fetch(urlOf(app, '/readyz'));
    expect(response.status).toBe(503);
    const body = (await response.json()) as { checks: Record<string, { ok: boolean; detail: string }> };
    expect(body.checks.migrations?.ok).toBe(false);
    expect(body.checks.migrations?.detail).toContain('0001_initial.sql');
    await app.close();
    await empty.close();
  });

  it('metrics count PagerDuty requests', async () => {
    const metrics = createOpsMetrics({ database, logger });
    const app = await buildOpsApp(database, { metrics });
    const api = await startRateLimitedApi();
    const client = new PagerDutyClient({
      apiBaseUrl: api.url,
      credentials: { current: async () => ({ kind: 'api_key', apiKey: 'test-key' }), renew: async () => null },
      logger,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });

    const result = await client.get('/abilities', {}, z.object({ ok: z.boolean() }));
    expect(result.ok).toBe(true);
    await fetch(urlOf(app, '/slow'));

    const response = await fetch(urlOf(app, '/metrics'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('seatwise_pagerduty_requests_total{status="429"} 1');
    expect(text).toContain('seatwise_pagerduty_requests_total{status="200"} 1');
    expect(text).toContain('seatwise_pagerduty_rate_budget_used_last_ratio 0.25');
    expect(text).toMatch(/seatwise_http_request_duration_seconds_count\{method="GET",route="\/slow",status_code="200"\} 1/);
    expect(text).toContain('seatwise_queue_jobs');
    expect(text).toContain('seatwise_process_resident_memory_bytes');

    metrics.close();
    await app.close();
    await new Promise((resolve) => api.server.close(resolve));
  });

  it('metrics require the configured token', async () => {
    const metrics = createOpsMetrics({ database, logger });
    const app = await buildOpsApp(database, { metrics, metricsToken: METRICS_TOKEN });

    const missing = await fetch(urlOf(app, '/metrics'));
    expect(missing.status).toBe(401);
    const wrong = await fetch(urlOf(app, '/metrics'), { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(urlOf(app, '/metrics'), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(right.status).toBe(200);

    metrics.close();
    await app.close();
  });
});
