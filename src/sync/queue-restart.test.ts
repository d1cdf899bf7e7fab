import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUser } from '../accounts/repository.ts';
import { createSession, type NewSession } from '../accounts/sessions.ts';
import { saveCredentials } from '../connections/credentials.ts';
import { loadVault } from '../connections/vault.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createLogger } from '../lib/logger.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { startSeatwiseProcess, type SeatwiseProcess } from '../../test/support/seatwise-process.ts';
import { INTERRUPTED_RUN_MESSAGE } from './queue.ts';

/**
 * `seatwise start` on the embedded database is killed with SIGKILL in the middle of a sync and
 * started again on the same data folder: the run must finish with the simulator's data.
 */

/** Latency of every simulated response, so the sync is still running when the process is killed. */
const SIMULATOR_LATENCY_MS = 40;
/** Requests the simulator serves before the kill: several pages in, far from the end. */
const REQUESTS_BEFORE_KILL = 12;
const SYNC_TIMEOUT_MS = 120_000;

interface Seed {
  organizationId: string;
  connectionId: string;
  staleRunId: string;
  session: NewSession;
}

async function waitFor<T>(description: string, timeoutMs: number, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Writes an organization, an admin session and an API-key connection to the simulator into the data folder. */
async function seedDataFolder(dataDir: string, encryptionKey: string, simulator: RunningSimulator): Promise<Seed> {
  const database = await openDatabase({ kind: 'pglite', dataDir });
  try {
    await migrate(database);
    const { db } = database;
    const organization = await db.insertInto('organizations').values({ name: 'Restart Corp' }).returning('id').executeTakeFirstOrThrow();
    const user = await insertUser(db, { organizationId: organization.id, email: 'admin@restart.example', name: 'Admin', passwordHash: 'not-a-password-hash', role: 'admin' });
    const connection = await db
      .insertInto('connections')
      .values({
        organization_id: organization.id,
        provider: 'pagerduty',
        method: 'api_key',
        status: 'connected',
        subdomain: simulator.account.subdomain,
        region: simulator.account.region,
        api_base_url: simulator.account.apiUrl,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const vault = loadVault({ encryptionKey, dataDir, logger: createLogger('silent') });
    await saveCredentials(db, vault, connection.id, { accessToken: simulator.apiKey, refreshToken: null, accessTokenExpiresAt: null });
    // A run a killed process left behind with no job: recovery must close it.
    const stale = await db
      .insertInto('sync_runs')
      .values({ organization_id: organization.id, connection_id: connection.id, kind: 'full', status: 'running', trigger: 'manual', started_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const session = await createSession(db, user);
    return { organizationId: organization.id, connectionId: connection.id, staleRunId: stale.id, session };
  } finally {
    await database.close();
  }
}

describe('seatwise start killed mid-sync', () => {
  const encryptionKey = randomBytes(32).toString('base64');
  let dataDir: string;
  let simulator: RunningSimulator;
  let seed: Seed;
  let env: Record<string, string>;
  let first: SeatwiseProcess | undefined;
  let second: SeatwiseProcess | undefined;
  let syncRunId = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seatwise-restart-'));
    simulator = await startSimulator({ people: 8, seed: 77, historyDays: 30, latencyMs: SIMULATOR_LATENCY_MS });
    seed = await seedDataFolder(dataDir, encryptionKey, simulator);
    env = {
      SEATWISE_DATA_DIR: dataDir,
      SEATWISE_ENCRYPTION_KEY: encryptionKey,
      // An OAuth app keeps the demo simulator from starting; the connection uses an API key.
      PAGERDUTY_CLIENT_ID: 'restart-test-client',
      PAGERDUTY_CLIENT_SECRET: 'restart-test-secret',
      SYNC_HISTORY_DAYS: '90',
    };
  }, 60_000);

  afterAll(async () => {
    await first?.kill();
    await second?.stop();
    await simulator?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('kills the process during sync', async () => {
    first = await startSeatwiseProcess(env);
    const firstRecovery = first.logs.find((entry) => String(entry.msg).startsWith('Recovered the jobs and sync runs'));
    expect(firstRecovery?.failedRuns, 'runs failed at the first start').toEqual([seed.staleRunId]);

    const response = await fetch(`${first.url}/api/apps/pagerduty/sync`, {
      method: 'POST',
      headers: { cookie: `seatwise_session=${seed.session.token}`, 'x-csrf-token': seed.session.csrfToken },
    });
    expect(response.status).toBe(202);
    syncRunId = ((await response.json()) as { syncRunId: string }).syncRunId;

    await waitFor('the sync to make its first requests', SYNC_TIMEOUT_MS, () => (simulator.control.requestLog().length >= REQUESTS_BEFORE_KILL ? true : null));
    await first.kill();
    const finished = first.logs.some((entry) => entry.msg === 'Sync finished');
    expect(finished, 'the sync ended before the kill; raise the latency').toBe(false);
  }, SYNC_TIMEOUT_MS);

  it('finishes the run after restart', async () => {
    simulator.control.clearRequestLog();
    second = await startSeatwiseProcess(env);
    const logs = second.logs;
    await waitFor('the resumed sync to finish', SYNC_TIMEOUT_MS, () => logs.find((entry) => entry.msg === 'Sync finished' && entry.syncRunId === syncRunId) ?? null);

    const recovery = logs.find((entry) => String(entry.msg).startsWith('Recovered the jobs and sync runs'));
    expect(recovery, 'recovery log line').toBeDefined();
    expect(recovery?.resumedSyncJobs).toHaveLength(1);
    expect(recovery?.failedRuns).toEqual([]);
    expect(simulator.control.requestLog().length, 'requests after restart').toBeGreaterThan(0);

    expect(await second.stop()).toBe(0);
    second = undefined;
  }, SYNC_TIMEOUT_MS + 30_000);

  it('stores the ground truth after restart', async () => {
    const database: Database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const runs = await database.db.selectFrom('sync_runs').select(['id', 'status', 'started_at', 'error_message']).execute();
      const run = runs.find((candidate) => candidate.id === syncRunId);
      expect(run?.status).toBe('succeeded');
      const stale = runs.find((candidate) => candidate.id === seed.staleRunId);
      expect(stale?.status).toBe('failed');
      expect(stale?.error_message).toBe(INTERRUPTED_RUN_MESSAGE);

      const truth = simulator.groundTruth(new Date(run!.started_at!));
      const people = await database.db
        .selectFrom('people')
        .select(['external_id', 'name', 'email', 'role', 'license_id', 'last_seen_at', 'last_seen_signal'])
        .where('organization_id', '=', seed.organizationId)
        .execute();
      const actual = people
        .map((person) => ({
          id: person.external_id,
          name: person.name,
          email: person.email,
          role: person.role,
          licenseId: person.license_id,
          lastSeenAt: person.last_seen_at?.toISOString() ?? null,
          lastSeenSignal: person.last_seen_signal,
        }))
        .sort((left, right) => left.id.localeCompare(right.id));
      const expected = [...truth.people].sort((left, right) => left.id.localeCompare(right.id));
      expect(actual).toEqual(expected);
    } finally {
      await database.close();
    }
  });
});
