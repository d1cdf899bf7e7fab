import { randomBytes } from 'node:crypto';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUser } from '../../src/accounts/repository.ts';
import { createSession, type NewSession } from '../../src/accounts/sessions.ts';
import { loadConfig } from '../../src/config/env.ts';
import { saveCredentials } from '../../src/connections/credentials.ts';
import { loadVault, type Vault } from '../../src/connections/vault.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createJobQueue, JOBS, type JobQueue } from '../../src/sync/queue.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { createScratchDatabase } from '../support/databases.ts';
import { startSeatwiseProcess, type SeatwiseProcess } from '../support/seatwise-process.ts';
import { maxConcurrentRuns, overlappingRuns, requireAdminUrl, runIntervals, shouldRunOnPostgres, waitFor, type RunInterval } from './run-log.ts';

/**
 * Fairness on one PostgreSQL: 1,000 organizations, each connected by its own API key to one of
 * a few small simulated PagerDuty accounts, and one large account whose full sync runs
 * throughout. Two `seatwise worker` processes with a fixed concurrency run one hourly round of
 * incremental syncs. One organization per small account is imported for real first, and the
 * others start from a copy of its checkpoints, as if synced an hour before, which keeps the
 * setup short while each round's sync still reads the simulator. The hour is scaled down to
 * SCHEDULE_INTERVAL_MS. Every small account's scheduled sync must start and end within it while
 * the large sync occupies a slot. "Sync now" and first syncs must go ahead of the scheduled
 * queue. No worker may exceed its concurrency, and no connection may be synced by two workers
 * at once. The large connection's own scheduled sync waits at first-sync priority behind its
 * running sync, which pg-boss 10's fetch would let stall every worker.
 */

const ORGANIZATIONS = 1_000;
/** Small accounts the organizations share; each connection still has its own API key and rate limit. */
const SMALL_ACCOUNTS = 10;
const SMALL_ACCOUNT_PEOPLE = 5;
const SMALL_ACCOUNT_LATENCY_MS = 5;
const LARGE_ACCOUNT_PEOPLE = 300;
/** Slow responses and a low rate limit keep the large account's full sync running for the whole scheduled round. */
const LARGE_ACCOUNT_LATENCY_MS = 1_000;
const LARGE_ACCOUNT_REQUESTS_PER_MINUTE = 30;
const HISTORY_DAYS = 14;
const WORKER_CONCURRENCY = 8;
const IMPORT_TIMEOUT_MS = 120_000;
/**
 * The hourly interval scaled down to 5 minutes: the whole scheduled round must fit in it. A round
 * took about 3.5 minutes on 2 cores that other jobs kept at a load average near 20.
 */
const SCHEDULE_INTERVAL_MS = 300_000;
const INTERACTIVE_SYNCS = 5;
/** Upper bound on an interactive sync's wait: a slot frees within a small sync's duration. */
const INTERACTIVE_MAX_WAIT_MS = 20_000;
/** Scheduled runs that must still wait when the interactive syncs are enqueued, so they have something to overtake. */
const SCHEDULED_BEFORE_INTERACTIVE = 150;

interface Organization {
  organizationId: string;
  connectionId: string;
  session: NewSession | null;
}

describe.runIf(shouldRunOnPostgres)('fair syncs of 1,000 organizations', () => {
  const encryptionKey = randomBytes(32).toString('base64');
  const organizations: Organization[] = [];
  const firstSyncOrganizations: Organization[] = [];
  let large: Organization;
  let database: Database;
  let vault: Vault;
  let smallAccounts: RunningSimulator[] = [];
  let largeAccount: RunningSimulator;
  let web: SeatwiseProcess;
  let workers: SeatwiseProcess[] = [];
  let queue: JobQueue;
  let boss: PgBoss;
  let scheduledAtMs = 0;
  /** Each interactive run and when it was requested; a promoted scheduled run was created earlier. */
  const interactiveRuns: Array<{ syncRunId: string; requestedAtMs: number }> = [];

  beforeAll(async () => {
    const databaseUrl = await createScratchDatabase(requireAdminUrl());
    const env = {
      DATABASE_URL: databaseUrl,
      SEATWISE_ENCRYPTION_KEY: encryptionKey,
      // An OAuth app keeps `serve` and `worker` from starting the demo simulator; tenants connect by API key.
      PAGERDUTY_CLIENT_ID: 'fairness-test-client',
      PAGERDUTY_CLIENT_SECRET: 'fairness-test-secret',
      SYNC_HISTORY_DAYS: String(HISTORY_DAYS),
      SYNC_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
    };
    const accountsStarted = Promise.all([
      ...Array.from({ length: SMALL_ACCOUNTS }, (_unused, index) =>
        startSimulator({ people: SMALL_ACCOUNT_PEOPLE, seed: 9_000 + index, historyDays: HISTORY_DAYS, latencyMs: SMALL_ACCOUNT_LATENCY_MS }),
      ),
      startSimulator({
        people: LARGE_ACCOUNT_PEOPLE,
        seed: 8_999,
        historyDays: HISTORY_DAYS,
        latencyMs: LARGE_ACCOUNT_LATENCY_MS,
        rateLimitPerMinute: LARGE_ACCOUNT_REQUESTS_PER_MINUTE,
      }),
    ]);
    // `serve` migrates the empty database before the workers start.
    web = await startSeatwiseProcess(env, 'serve');
    workers = await Promise.all([startSeatwiseProcess(env, 'worker'), startSeatwiseProcess(env, 'worker')]);
    const accounts = await accountsStarted;
    largeAccount = accounts.pop()!;
    smallAccounts = accounts;

    database = await openDatabase({ kind: 'postgres', url: databaseUrl });
    vault = loadVault({ encryptionKey, dataDir: '/nonexistent', logger: createLogger('silent') });
    // The first SMALL_ACCOUNTS organizations are the ones imported for real.
    for (let index = 0; index < SMALL_ACCOUNTS; index += 1) {
      organizations.push(await connectOrganization(database, vault, `Tenant ${index}`, smallAccounts[index]!, index < INTERACTIVE_SYNCS));
    }

    // Enqueues first syncs exactly as the OAuth callback of `serve` does.
    const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', SEATWISE_DATA_DIR: '/tmp/seatwise-fairness-test' });
    queue = createJobQueue({ database, logger: createLogger('silent'), config, vault, pagerduty: null });
    await queue.start({ runWorker: false });
    // Sends the schedule's tick by hand instead of waiting for the cron minute.
    boss = new PgBoss({ connectionString: databaseUrl, supervise: false, schedule: false, migrate: false, max: 2 });
    await boss.start();
    // The workers' hourly and daily crons would add rounds of their own at minute 5 and 2:35.
    await boss.unschedule(JOBS.incrementalSyncSchedule.name);
    await boss.unschedule(JOBS.fullSyncSchedule.name);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([web, ...workers].filter((child) => child !== undefined).map((child) => child.stop()));
    await queue?.stop();
    await boss?.stop({ graceful: false, wait: true });
    await database?.close();
    await Promise.all([...smallAccounts, largeAccount].filter((account) => account !== undefined).map((account) => account.close()));
  }, 120_000);

  it('imports one organization per account', async () => {
    await queue.enqueueScheduledRound('full');
    await waitFor(`the first sync of ${SMALL_ACCOUNTS} organizations`, IMPORT_TIMEOUT_MS, async () => {
      const runs = await database.db.selectFrom('sync_runs').select(['status']).execute();
      const failed = runs.filter((run) => run.status === 'failed' || run.status === 'partial').length;
      if (failed > 0) throw new Error(`${failed} first syncs failed`);
      return runs.filter((run) => run.status === 'succeeded').length === SMALL_ACCOUNTS ? true : null;
    });

    // The other organizations of each account continue from its imported organization's checkpoints.
    for (let index = SMALL_ACCOUNTS; index < ORGANIZATIONS; index += 1) {
      const template = organizations[index % SMALL_ACCOUNTS]!;
      const organization = await connectOrganization(database, vault, `Tenant ${index}`, smallAccounts[index % SMALL_ACCOUNTS]!, false);
      await copySyncState(database, template.connectionId, organization.connectionId);
      organizations.push(organization);
    }
  }, IMPORT_TIMEOUT_MS + 120_000);

  it('starts the large full sync', async () => {
    // Connected after the import, so the import round did not include it.
    large = await connectOrganization(database, vault, 'Large tenant', largeAccount, true);
    const response = await syncNow(web.url, large);
    expect(response.status).toBe(202);
    const { syncRunId } = (await response.json()) as { syncRunId: string };
    await waitFor('a worker to start the large sync', 60_000, () => (allIntervals(workers).some((interval) => interval.syncRunId === syncRunId) ? true : null));
  }, 90_000);

  it('runs the schedule with interactive syncs first', async () => {
    scheduledAtMs = Date.now();
    await boss.send(JOBS.incrementalSyncSchedule.name, { kind: 'incremental' });
    await waitFor(`the schedule to enqueue ${ORGANIZATIONS} syncs`, 120_000, async () => {
      const queued = await database.db
        .selectFrom('sync_runs')
        .select(({ fn }) => fn.countAll<string>().as('count'))
        .where('trigger', '=', 'schedule')
        .where('kind', '=', 'incremental')
        .where('connection_id', '!=', large.connectionId)
        .executeTakeFirstOrThrow();
      return Number(queued.count) >= ORGANIZATIONS ? true : null;
    });
    // Organizations that connect while the round waits; the schedule did not see them.
    for (let index = 0; index < INTERACTIVE_SYNCS; index += 1) {
      firstSyncOrganizations.push(await connectOrganization(database, vault, `New tenant ${index}`, smallAccounts[index % SMALL_ACCOUNTS]!, false));
    }
    const waiting = await countScheduled(database, large.connectionId, 'queued');
    expect(waiting, 'scheduled runs still queued; lower SMALL_ACCOUNT_LATENCY_MS or raise ORGANIZATIONS if this fails').toBeGreaterThan(SCHEDULED_BEFORE_INTERACTIVE);

    // "Sync now" from organizations at the back of the round, whose scheduled run still waits.
    const lastQueued = await database.db
      .selectFrom('sync_runs')
      .select('connection_id')
      .where('trigger', '=', 'schedule')
      .where('status', '=', 'queued')
      .where('connection_id', '!=', large.connectionId)
      .orderBy('created_at', 'desc')
      .limit(INTERACTIVE_SYNCS)
      .execute();
    for (const { connection_id: connectionId } of lastQueued) {
      const organization = organizations.find((candidate) => candidate.connectionId === connectionId)!;
      organization.session ??= await signIn(database, organization);
      const pressedAtMs = Date.now();
      const response = await syncNow(web.url, organization);
      expect(response.status).toBe(202);
      interactiveRuns.push({ syncRunId: ((await response.json()) as { syncRunId: string }).syncRunId, requestedAtMs: pressedAtMs });
    }
    for (const organization of firstSyncOrganizations) {
      const requestedAtMs = Date.now();
      interactiveRuns.push({ syncRunId: await queue.enqueueSync(organization.connectionId, 'connect'), requestedAtMs });
    }

    await waitFor('every scheduled and interactive sync to finish', SCHEDULE_INTERVAL_MS - (Date.now() - scheduledAtMs) + 30_000, async () => {
      const pending = await database.db
        .selectFrom('sync_runs')
        .select(({ fn }) => fn.countAll<string>().as('count'))
        .where('status', 'in', ['queued', 'running'])
        .where('connection_id', '!=', large.connectionId)
        .executeTakeFirstOrThrow();
      return Number(pending.count) === 0 ? true : null;
    });
  }, SCHEDULE_INTERVAL_MS + 180_000);

  it('finishes every scheduled sync within its interval', async () => {
    // The runs of the round, including those "Sync now" promoted to interactive ones.
    const runs = await database.db
      .selectFrom('sync_runs')
      .select(['id', 'connection_id', 'trigger', 'status', 'started_at', 'finished_at'])
      .where('created_at', '>=', new Date(scheduledAtMs - 1_000))
      .where(
        'connection_id',
        'in',
        organizations.map((organization) => organization.connectionId),
      )
      .execute();
    expect(runs.filter((run) => run.trigger === 'schedule').length).toBeGreaterThanOrEqual(ORGANIZATIONS - INTERACTIVE_SYNCS);
    const intervalEndMs = scheduledAtMs + SCHEDULE_INTERVAL_MS;
    for (const organization of organizations) {
      expect(runs.filter((run) => run.connection_id === organization.connectionId).length, `runs of connection ${organization.connectionId} in the round`).toBeGreaterThan(0);
    }
    for (const run of runs) {
      expect(run.status, `scheduled run ${run.id}`).toBe('succeeded');
      expect(run.started_at!.getTime(), `scheduled run ${run.id} started after the tick`).toBeGreaterThanOrEqual(scheduledAtMs - 1_000);
      expect(run.finished_at!.getTime(), `scheduled run ${run.id} ended within the interval`).toBeLessThanOrEqual(intervalEndMs);
    }
    const lastFinishedMs = Math.max(...runs.map((run) => run.finished_at!.getTime()));

    // The large sync held its slot for the whole round, or the round proved nothing about fairness.
    const largeRun = allIntervals(workers).find((interval) => interval.connectionId === large.connectionId);
    expect(largeRun, 'large sync attempt').toBeDefined();
    expect(largeRun!.startMs).toBeLessThan(scheduledAtMs);
    expect(largeRun!.endMs, 'the large sync ended before the round did; raise LARGE_ACCOUNT_LATENCY_MS').toBeGreaterThan(lastFinishedMs);
  });

  it('takes interactive syncs before scheduled ones', async () => {
    const ids = interactiveRuns.map((run) => run.syncRunId);
    const interactive = await database.db.selectFrom('sync_runs').select(['id', 'trigger', 'status', 'started_at']).where('id', 'in', ids).execute();
    expect(interactive.length).toBe(2 * INTERACTIVE_SYNCS);
    expect(interactive.filter((run) => run.trigger === 'connect').length).toBe(INTERACTIVE_SYNCS);
    expect(interactive.filter((run) => run.trigger === 'manual').length).toBe(INTERACTIVE_SYNCS);

    for (const run of interactive) {
      const requestedAtMs = interactiveRuns.find((candidate) => candidate.syncRunId === run.id)!.requestedAtMs;
      expect(run.status, `interactive run ${run.id}`).toBe('succeeded');
      const waitedMs = run.started_at!.getTime() - requestedAtMs;
      expect(waitedMs, `interactive run ${run.id} waited`).toBeLessThan(INTERACTIVE_MAX_WAIT_MS);
      // Scheduled runs queued before the request but started after this run: the ones it overtook.
      const overtaken = await database.db
        .selectFrom('sync_runs')
        .select(({ fn }) => fn.countAll<string>().as('count'))
        .where('trigger', '=', 'schedule')
        .where('kind', '=', 'incremental')
        .where('connection_id', '!=', large.connectionId)
        .where('created_at', '<', new Date(requestedAtMs))
        .where('started_at', '>', run.started_at!)
        .executeTakeFirstOrThrow();
      expect(Number(overtaken.count), `scheduled runs overtaken by ${run.id}`).toBeGreaterThan(SCHEDULED_BEFORE_INTERACTIVE / 2);
    }
  });

  it('keeps each worker within its concurrency', () => {
    for (const [index, worker] of workers.entries()) {
      const intervals = runIntervals(`worker ${index}`, worker.logs, null).map((interval) => ({ ...interval, endMs: interval.hasEnded ? interval.endMs : Date.now() }));
      const max = maxConcurrentRuns(intervals);
      expect(max, `worker ${index} syncs at once`).toBeLessThanOrEqual(WORKER_CONCURRENCY);
      // Both workers filled their slots, so the bound was tested, not just unused.
      expect(max, `worker ${index} syncs at once`).toBe(WORKER_CONCURRENCY);
      expect(intervals.length, `worker ${index} syncs`).toBeGreaterThan(ORGANIZATIONS / 10);
    }
  });

  it('never syncs a connection twice at once', () => {
    const intervals = allIntervals(workers);
    expect(intervals.length).toBeGreaterThanOrEqual(SMALL_ACCOUNTS + ORGANIZATIONS + INTERACTIVE_SYNCS);
    const overlaps = overlappingRuns(intervals).map(([first, second]) => `${first.connectionId}: ${first.worker} and ${second.worker}`);
    expect(overlaps).toEqual([]);
  });

  it('stores each fully synced account', async () => {
    // Organizations whose history the syncs read in full (imported, Sync now, first sync) see
    // their own account's people. The copies of checkpoints hold no roster, so they are left out.
    const counts = await database.db
      .selectFrom('people')
      .select(['organization_id', ({ fn }) => fn.countAll<string>().as('count')])
      .groupBy('organization_id')
      .execute();
    const byOrganization = new Map(counts.map((row) => [row.organization_id, Number(row.count)]));
    const fullySynced = [...organizations.slice(0, SMALL_ACCOUNTS), ...firstSyncOrganizations];
    // Organizations that pressed Sync now read their roster in full too.
    const manual = await database.db.selectFrom('sync_runs').select('connection_id').where('trigger', '=', 'manual').where('status', '=', 'succeeded').execute();
    const manualConnections = new Set(manual.map((run) => run.connection_id));
    for (const [index, organization] of organizations.entries()) {
      if (index < SMALL_ACCOUNTS || !manualConnections.has(organization.connectionId)) continue;
      const truth = smallAccounts[index % SMALL_ACCOUNTS]!.groundTruth();
      expect(byOrganization.get(organization.organizationId), `people of organization ${organization.organizationId} after Sync now`).toBe(truth.people.length);
    }
    for (const [index, organization] of fullySynced.entries()) {
      const truth = smallAccounts[index % SMALL_ACCOUNTS]!.groundTruth();
      expect(byOrganization.get(organization.organizationId), `people of organization ${organization.organizationId}`).toBe(truth.people.length);
    }
  }, 120_000);
});

/** Copies a synced connection's checkpoints and last sync time, so the next run of `target` is incremental from there. */
async function copySyncState(database: Database, sourceConnectionId: string, targetConnectionId: string): Promise<void> {
  await database.query(
    `insert into stream_checkpoints (connection_id, stream, checkpoint, updated_at)
     select $2, stream, checkpoint, updated_at from stream_checkpoints where connection_id = $1`,
    [sourceConnectionId, targetConnectionId],
  );
  await database.query(`update connections set last_sync_at = (select last_sync_at from connections where id = $1) where id = $2`, [sourceConnectionId, targetConnectionId]);
}

function allIntervals(workers: SeatwiseProcess[]): RunInterval[] {
  return workers.flatMap((worker, index) => runIntervals(`worker ${index}`, worker.logs, null));
}

async function countScheduled(database: Database, largeConnectionId: string, status: 'queued' | 'running'): Promise<number> {
  const row = await database.db
    .selectFrom('sync_runs')
    .select(({ fn }) => fn.countAll<string>().as('count'))
    .where('trigger', '=', 'schedule')
    .where('kind', '=', 'incremental')
    .where('status', '=', status)
    // The large connection's scheduled run waits behind its running full sync.
    .where('connection_id', '!=', largeConnectionId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Creates an admin and a session for an organization, as signing in would. */
async function signIn(database: Database, organization: Organization): Promise<NewSession> {
  const user = await insertUser(database.db, {
    organizationId: organization.organizationId,
    email: `admin-${organization.organizationId}@tenant.example`,
    name: 'Tenant admin',
    // Sign-in is not exercised: the test creates the session itself.
    passwordHash: 'not-a-password-hash',
    role: 'admin',
  });
  return createSession(database.db, user);
}

function syncNow(webUrl: string, organization: Organization): Promise<Response> {
  if (organization.session === null) throw new Error(`Organization ${organization.organizationId} has no session to press Sync now with`);
  return fetch(`${webUrl}/api/apps/pagerduty/sync`, {
    method: 'POST',
    headers: { cookie: `seatwise_session=${organization.session.token}`, 'x-csrf-token': organization.session.csrfToken },
  });
}

/**
 * Writes an organization and its API-key connection straight to the database, which keeps the
 * setup of 1,000 short. The syncs still read the simulator over loopback with the connection's own key.
 */
async function connectOrganization(database: Database, vault: Vault, name: string, account: RunningSimulator, hasSession: boolean): Promise<Organization> {
  const { db } = database;
  const organization = await db.insertInto('organizations').values({ name }).returning('id').executeTakeFirstOrThrow();
  const connection = await db
    .insertInto('connections')
    .values({
      organization_id: organization.id,
      provider: 'pagerduty',
      method: 'api_key',
      status: 'connected',
      subdomain: account.account.subdomain,
      region: account.account.region,
      api_base_url: account.account.apiUrl,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await saveCredentials(db, vault, connection.id, { accessToken: account.control.createApiKey(), refreshToken: null, accessTokenExpiresAt: null });
  const connected: Organization = { organizationId: organization.id, connectionId: connection.id, session: null };
  if (hasSession) connected.session = await signIn(database, connected);
  return connected;
}
