import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.ts';
import type { StreamStatus, SyncRunStatus } from '../db/schema.ts';
import { migrate } from '../db/migrate.ts';
import { INCREMENTAL_OVERLAP_MS } from '../sync/streams/activity.ts';
import { testDatabaseTargets } from '../../test/support/databases.ts';
import { findChangedSince } from './sync-changes.ts';
import { createTenant } from './testing.ts';

const HOUR_MS = 3_600_000;
const FIRST_START = new Date('2026-06-01T00:00:00Z');
const SECOND_START = new Date('2026-06-01T01:00:00Z');
const THIRD_START = new Date('2026-06-01T02:00:00Z');

describe.each(testDatabaseTargets())('findChangedSince on $name', ({ open }) => {
  let database: Database;
  let tenant: { organizationId: string; connectionId: string };

  beforeAll(async () => {
    database = await open();
    await migrate(database);
  });

  beforeEach(async () => {
    tenant = await createTenant(database.db, `Tenant ${Math.random().toString(36).slice(2)}`);
  });

  afterAll(async () => {
    await database.close();
  });

  /** Inserts a run of the tenant with its streams, each as `[stream, status, pages]`. */
  async function insertRun(startedAt: Date, status: SyncRunStatus, streams: Array<[string, StreamStatus, number]>): Promise<string> {
    const run = await database.db
      .insertInto('sync_runs')
      .values({ organization_id: tenant.organizationId, connection_id: tenant.connectionId, kind: 'incremental', status, trigger: 'schedule', started_at: startedAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (streams.length > 0) {
      await database.db
        .insertInto('sync_run_streams')
        .values(streams.map(([stream, streamStatus, pages]) => ({ sync_run_id: run.id, stream, status: streamStatus, pages })))
        .execute();
    }
    return run.id;
  }

  it('returns undefined for a first run', async () => {
    const runId = await insertRun(FIRST_START, 'running', [['log_entries', 'succeeded', 3]]);

    expect(await findChangedSince(database.db, tenant.connectionId, runId)).toBeUndefined();
  });

  it('resumes from the last high-water mark', async () => {
    await insertRun(FIRST_START, 'succeeded', [
      ['log_entries', 'succeeded', 40],
      ['oncalls', 'succeeded', 5],
    ]);
    const runId = await insertRun(SECOND_START, 'running', [
      ['log_entries', 'succeeded', 1],
      ['oncalls', 'succeeded', 0],
    ]);

    const changedSince = await findChangedSince(database.db, tenant.connectionId, runId);

    expect(changedSince?.toISOString()).toBe(new Date(FIRST_START.getTime() - INCREMENTAL_OVERLAP_MS - 1000).toISOString());
  });

  it('uses the oldest windowed stream', async () => {
    await insertRun(FIRST_START, 'succeeded', [
      ['log_entries', 'succeeded', 40],
      ['notifications', 'succeeded', 4],
    ]);
    await insertRun(SECOND_START, 'partial', [
      ['log_entries', 'succeeded', 1],
      ['notifications', 'failed', 0],
    ]);
    const runId = await insertRun(THIRD_START, 'running', [
      ['log_entries', 'succeeded', 1],
      ['notifications', 'succeeded', 2],
    ]);

    const changedSince = await findChangedSince(database.db, tenant.connectionId, runId);

    expect(changedSince?.toISOString()).toBe(new Date(FIRST_START.getTime() - INCREMENTAL_OVERLAP_MS - 1000).toISOString());
  });

  it('returns the run start when nothing was read', async () => {
    await insertRun(FIRST_START, 'succeeded', [['log_entries', 'succeeded', 40]]);
    const runId = await insertRun(SECOND_START, 'running', [
      ['log_entries', 'unavailable', 0],
      ['users', 'succeeded', 3],
    ]);

    const changedSince = await findChangedSince(database.db, tenant.connectionId, runId);

    expect(changedSince?.toISOString()).toBe(SECOND_START.toISOString());
  });

  it('returns undefined after whole-history reads', async () => {
    await insertRun(FIRST_START, 'succeeded', [['log_entries', 'succeeded', 40]]);
    const runId = await insertRun(SECOND_START, 'running', [
      ['log_entries', 'succeeded', 1],
      ['oncalls', 'succeeded', 6],
    ]);

    expect(await findChangedSince(database.db, tenant.connectionId, runId)).toBeUndefined();
  });

  it('counts reads of uncrunched failed runs', async () => {
    await insertRun(FIRST_START, 'succeeded', [['log_entries', 'succeeded', 40]]);
    await insertRun(new Date(FIRST_START.getTime() + HOUR_MS / 2), 'failed', [['schedules', 'failed', 2]]);
    const runId = await insertRun(SECOND_START, 'running', [['log_entries', 'succeeded', 1]]);

    expect(await findChangedSince(database.db, tenant.connectionId, runId)).toBeUndefined();
  });

  it('ignores marks set after the last crunch', async () => {
    await insertRun(FIRST_START, 'succeeded', [['log_entries', 'succeeded', 40]]);
    await insertRun(SECOND_START, 'failed', [
      ['log_entries', 'succeeded', 8],
      ['notifications', 'failed', 0],
    ]);
    const runId = await insertRun(THIRD_START, 'running', [['log_entries', 'succeeded', 1]]);

    const changedSince = await findChangedSince(database.db, tenant.connectionId, runId);

    expect(changedSince?.toISOString()).toBe(new Date(FIRST_START.getTime() - INCREMENTAL_OVERLAP_MS - 1000).toISOString());
  });

  it('returns undefined without an earlier success', async () => {
    await insertRun(FIRST_START, 'succeeded', [['log_entries', 'unavailable', 0]]);
    const runId = await insertRun(SECOND_START, 'running', [['log_entries', 'succeeded', 9]]);

    expect(await findChangedSince(database.db, tenant.connectionId, runId)).toBeUndefined();
  });
});
