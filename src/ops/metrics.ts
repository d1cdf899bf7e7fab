import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { crunchConnection, type CrunchOptions } from '../analytics/crunch.ts';
import { PAGERDUTY_RESPONSE_CHANNEL, type PagerDutyResponseEvent } from '../connectors/pagerduty/client.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import type { Logger } from '../lib/logger.ts';

/** Buckets of work that takes seconds to hours: a sync or a crunch. */
const LONG_TASK_BUCKETS_SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600];
/** Buckets of one HTTP request, served or sent. */
const REQUEST_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets of the share of a token's per-minute limit already spent when a response arrived. */
const BUDGET_SHARE_BUCKETS = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1];

/**
 * The Prometheus metrics of one Seatwise process, in their own registry. PagerDuty requests are
 * counted from the client's diagnostics channel; the queue depth is read from pg-boss's table at
 * scrape time, so every process reports the same shared depth.
 */
export interface OpsMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  syncDuration: Histogram<'status'>;
  crunchDuration: Histogram;
  crunchStepDuration: Histogram<'step'>;
  /** Stops listening to the PagerDuty client; call on shutdown. */
  close(): void;
}

export function createOpsMetrics(options: { database: Database; logger: Logger }): OpsMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'seatwise_' });

  const httpRequestDuration = new Histogram({
    name: 'seatwise_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: REQUEST_BUCKETS_SECONDS,
    registers: [registry],
  });
  const syncDuration = new Histogram({
    name: 'seatwise_sync_duration_seconds',
    help: 'Wall time of a sync run in this process, by the status it ended with.',
    labelNames: ['status'] as const,
    buckets: LONG_TASK_BUCKETS_SECONDS,
    registers: [registry],
  });
  const crunchDuration = new Histogram({
    name: 'seatwise_crunch_duration_seconds',
    help: 'Time to crunch one connection after a sync.',
    buckets: LONG_TASK_BUCKETS_SECONDS,
    registers: [registry],
  });
  const crunchStepDuration = new Histogram({
    name: 'seatwise_crunch_step_duration_seconds',
    help: 'Time of each step of a crunch, such as activityDaily or weeklyActivity.',
    labelNames: ['step'] as const,
    buckets: LONG_TASK_BUCKETS_SECONDS,
    registers: [registry],
  });

  const stopPagerDutyMetrics = registerPagerDutyMetrics(registry);
  registerQueueDepth(registry, options.database, options.logger);

  return { registry, httpRequestDuration, syncDuration, crunchDuration, crunchStepDuration, close: stopPagerDutyMetrics };
}

export type CrunchFunction = (db: Kysely<DB>, connectionId: string, asOf: Date, options?: CrunchOptions) => Promise<void>;

/**
 * Wraps a crunch so that it records its duration and the duration of each step. The options,
 * such as the `changedSince` of an incremental crunch, reach the crunch unchanged.
 */
export function timeCrunch(metrics: Pick<OpsMetrics, 'crunchDuration' | 'crunchStepDuration'>, crunch: CrunchFunction = crunchConnection): CrunchFunction {
  return async (db, connectionId, asOf, options = {}) => {
    const endTimer = metrics.crunchDuration.startTimer();
    try {
      await crunch(db, connectionId, asOf, {
        ...options,
        onStepFinished: (step, milliseconds) => {
          metrics.crunchStepDuration.observe({ step }, milliseconds / 1000);
          options.onStepFinished?.(step, milliseconds);
        },
      });
    } finally {
      endTimer();
    }
  };
}

/** Counts requests to PagerDuty by status and records how much of the rate limit each response left. */
function registerPagerDutyMetrics(registry: Registry): () => void {
  const requests = new Counter({
    name: 'seatwise_pagerduty_requests_total',
    help: 'Requests sent to PagerDuty, by HTTP status; "network" when no response arrived.',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'seatwise_pagerduty_request_duration_seconds',
    help: 'Time from sending a request to PagerDuty to reading its whole response.',
    buckets: REQUEST_BUCKETS_SECONDS,
    registers: [registry],
  });
  const budgetUsed = new Histogram({
    name: 'seatwise_pagerduty_rate_budget_used_ratio',
    help: 'Share of the per-minute rate limit spent, from ratelimit-limit and ratelimit-remaining of each response.',
    buckets: BUDGET_SHARE_BUCKETS,
    registers: [registry],
  });
  const lastBudgetUsed = new Gauge({
    name: 'seatwise_pagerduty_rate_budget_used_last_ratio',
    help: 'Share of the per-minute rate limit spent, as of the latest response that carried rate-limit headers.',
    registers: [registry],
  });

  const onResponse = (message: unknown) => {
    const event = message as PagerDutyResponseEvent;
    requests.inc({ status: event.status === null ? 'network' : String(event.status) });
    duration.observe(event.durationMs / 1000);
    const { limit, remaining } = event.rate;
    if (limit !== null && limit > 0 && remaining !== null) {
      const share = Math.min(1, Math.max(0, (limit - remaining) / limit));
      budgetUsed.observe(share);
      lastBudgetUsed.set(share);
    }
  };
  subscribe(PAGERDUTY_RESPONSE_CHANNEL, onResponse);
  return () => unsubscribe(PAGERDUTY_RESPONSE_CHANNEL, onResponse);
}

/** Jobs waiting or running per queue, read from pg-boss's job table when Prometheus scrapes. */
function registerQueueDepth(registry: Registry, database: Database, logger: Logger): void {
  new Gauge({
    name: 'seatwise_queue_jobs',
    help: 'Jobs in the shared queue by queue name and state (created, retry, active).',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const { rows } = await database.query<{ name: string; state: string; jobs: number }>(
          `select name, state::text as state, count(*)::int as jobs from pgboss.job where state in ('created', 'retry', 'active') group by name, state`,
        );
        for (const row of rows) this.set({ queue: row.name, state: row.state }, Number(row.jobs));
      } catch (error) {
        // Before pg-boss created its schema the table does not exist; the gauge stays empty.
        logger.debug({ err: error }, 'Could not read the queue depth');
      }
    },
  });
}
