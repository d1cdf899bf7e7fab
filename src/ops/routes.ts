import { timingSafeEqual } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/env.ts';
import type { Database } from '../db/database.ts';
import type { OpsMetrics } from './metrics.ts';
import type { ProcessState } from './state.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../db/migrations');
/** A readiness check that takes longer than this counts as failed, so probes never hang. */
const READINESS_TIMEOUT_MS = 2_000;
const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export interface OperationsDeps {
  database: Database;
  config: Pick<Config, 'metricsToken'>;
  /** Absent when the app runs without `startSeatwise` (tests): readiness then skips the queue check. */
  process?: ProcessState;
  /** Absent in the same case: `/metrics` then returns 404. */
  metrics?: OpsMetrics;
}

type Check = { name: 'database' | 'migrations' | 'queue' | 'process'; isOk: boolean; detail: string };

/**
 * Adds `GET /healthz` (the process responds), `GET /readyz` (the database responds, every
 * migration is applied, the queue runs and the process is not stopping) and `GET /metrics`
 * (Prometheus text), plus the HTTP duration histogram for every route.
 * `/metrics` needs `Authorization: Bearer METRICS_TOKEN` when the token is set, and without a
 * token serves only clients on the loopback interface, because it shows how many organizations
 * and jobs the service has.
 */
export function registerOperations(app: FastifyInstance, deps: OperationsDeps): void {
  const { metrics } = deps;
  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpRequestDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
  }

  app.get('/healthz', { config: { access: 'public' }, schema: { summary: 'Whether the process responds (liveness)', hide: true } }, async (_request, reply) => {
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });

  app.get('/readyz', { config: { access: 'public' }, schema: { summary: 'Whether the process can serve (readiness)', hide: true } }, async (_request, reply) => {
    const checks = await readinessChecks(deps);
    const isReady = checks.every((check) => check.isOk);
    return reply
      .code(isReady ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: isReady ? 'ready' : 'not_ready', checks: Object.fromEntries(checks.map((check) => [check.name, { ok: check.isOk, detail: check.detail }])) });
  });

  app.get('/metrics', { config: { access: 'public' }, schema: { summary: 'Prometheus metrics of this process', hide: true } }, async (request, reply) => {
    if (!metrics) return reply.code(404).send({ error: { code: 'not_found', message: 'Metrics are not collected in this process.' } });
    const denial = metricsAccessDenial(request, deps.config.metricsToken);
    if (denial !== null) return reply.code(denial.statusCode).header('cache-control', 'no-store').send({ error: { code: denial.code, message: denial.message } });
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(await metrics.registry.metrics());
  });
}

async function readinessChecks(deps: OperationsDeps): Promise<Check[]> {
  const checks: Check[] = [];
  const process = deps.process;
  if (process?.isStopping) checks.push({ name: 'process', isOk: false, detail: 'The process is shutting down.' });

  const applied = await withTimeout(deps.database.query<{ name: string }>('select name from seatwise_migrations'));
  if (!applied.ok) {
    checks.push({ name: 'database', isOk: false, detail: `The database query failed: ${applied.message}` });
    return checks;
  }
  checks.push({ name: 'database', isOk: true, detail: 'The database responds.' });

  const appliedNames = new Set(applied.value.rows.map((row) => row.name));
  const pending = readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql') && !appliedNames.has(name))
    .sort();
  checks.push(
    pending.length === 0
      ? { name: 'migrations', isOk: true, detail: 'Every migration is applied.' }
      : { name: 'migrations', isOk: false, detail: `Pending migrations: ${pending.join(', ')}. Run seatwise migrate or restart a process.` },
  );

  if (process) {
    checks.push(
      process.isQueueStarted ? { name: 'queue', isOk: true, detail: 'The job queue runs.' } : { name: 'queue', isOk: false, detail: 'The job queue has not started yet.' },
    );
  }
  return checks;
}

async function withTimeout<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
  });
  try {
    return { ok: true, value: await Promise.race([promise, timeout]) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function metricsAccessDenial(request: FastifyRequest, token: string | undefined): { statusCode: number; code: string; message: string } | null {
  if (token === undefined) {
    if (LOOPBACK_ADDRESSES.has(request.socket.remoteAddress ?? '')) return null;
    return { statusCode: 403, code: 'metrics_loopback_only', message: 'Metrics are served to loopback clients only; set METRICS_TOKEN to scrape them from another host.' };
  }
  const presented = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (presented !== undefined && isSameSecret(presented, token)) return null;
  return { statusCode: 401, code: 'metrics_token_required', message: 'Send Authorization: Bearer with the METRICS_TOKEN value to read metrics.' };
}

function isSameSecret(presented: string, expected: string): boolean {
  const left = Buffer.from(presented);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}
