import { Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, insertLogEntries, insertUsers } from '../analytics/testing.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { timeCrunch, type CrunchFunction } from './metrics.ts';

const AS_OF = new Date('2026-06-01T12:00:00Z');

function createCrunchMetrics() {
  const registry = new Registry();
  const crunchDuration = new Histogram({ name: 'crunch_seconds', help: 'crunch', registers: [registry] });
  const crunchStepDuration = new Histogram({ name: 'crunch_step_seconds', help: 'step', labelNames: ['step'] as const, registers: [registry] });
  return { registry, crunchDuration, crunchStepDuration };
}

async function stepCounts(metrics: ReturnType<typeof createCrunchMetrics>): Promise<Map<string, number>> {
  const metric = await metrics.crunchStepDuration.get();
  const counts = new Map<string, number>();
  for (const value of metric.values) {
    if (value.metricName === 'crunch_step_seconds_count') counts.set(String(value.labels.step), value.value);
  }
  return counts;
}

describe('timeCrunch', () => {
  it('passes changedSince to the crunch', async () => {
    const received: Parameters<CrunchFunction>[] = [];
    const crunch: CrunchFunction = async (...args) => {
      received.push(args);
    };
    const changedSince = new Date('2026-05-31T00:00:00Z');

    await timeCrunch(createCrunchMetrics(), crunch)(null as never, 'connection', AS_OF, { changedSince });

    expect(received).toHaveLength(1);
    expect(received[0]?.[3]?.changedSince).toBe(changedSince);
  });

  it('records a failed crunch', async () => {
    const metrics = createCrunchMetrics();
    const crunch: CrunchFunction = async () => {
      throw new Error('crunch failed');
    };

    await expect(timeCrunch(metrics, crunch)(null as never, 'connection', AS_OF)).rejects.toThrow('crunch failed');

    const metric = await metrics.crunchDuration.get();
    expect(metric.values.find((value) => value.metricName === 'crunch_seconds_count')?.value).toBe(1);
  });
});

describe.each(testDatabaseTargets())('timeCrunch on $name', ({ open }) => {
  let database: Database;

  beforeAll(async () => {
    database = await open();
    await migrate(database);
  });

  afterAll(async () => {
    await database.close();
  });

  it('records every crunch step', async () => {
    const tenant = await createTenant(database.db, 'Acme');
    await insertUsers(database.db, tenant.connectionId, [{ id: 'PUSER' }]);
    await insertLogEntries(database.db, tenant.connectionId, [
      { id: 'E1', type: 'acknowledge_log_entry', createdAt: new Date('2026-05-30T10:00:00Z'), agentId: 'PUSER', channelType: 'mobile' },
    ]);
    const metrics = createCrunchMetrics();
    const steps: string[] = [];

    await timeCrunch(metrics)(database.db, tenant.connectionId, AS_OF, { onStepFinished: (step) => steps.push(step) });

    const counts = await stepCounts(metrics);
    expect(steps).toContain('activityDaily');
    expect(steps).toContain('recommendations');
    expect([...counts.keys()].sort()).toEqual([...steps].sort());
    for (const step of steps) expect(counts.get(step)).toBe(1);
  });
});
