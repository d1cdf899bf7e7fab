import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/env.ts';
import { loadVault } from '../connections/vault.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { createLogger } from '../lib/logger.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { createScratchDatabase } from '../../test/support/databases.ts';
import { startSeatwiseProcess, type SeatwiseProcess } from '../../test/support/seatwise-process.ts';
import { createJobQueue, INTERRUPTED_RUN_MESSAGE, type JobQueue } from './queue.ts';
import { createTestConnection } from './testing.ts';

/**
 * A `seatwise worker` on PostgreSQL is killed with SIGKILL in the middle of a sync. When its lease
 * ends with its database session, another worker's reaper ends the attempt as interrupted with the
 * run's checkpoints kept, and the handed-back job resumes the same run from them to the simulator's data.
 */

const DAY_MS = 86_400_000;
const SYNC_HISTORY_DAYS = 90;
/** Log entry pages the killed worker stores first, so the retry has real progress to keep. */
const PAGES_BEFORE_KILL = 60;
/** Covers the reaper's detection (one lease heartbeat, 3 s) and a resumed sync on a loaded machine. */
const RESUME_TIMEOUT_MS = 300_000;
/** Requests in flight when the kill lands, whose pages the retry reads again: 16 per connection. */
const PAGES_IN_FLIGHT = 16;

/** Runs where PostgreSQL is available (TEST_DATABASE_URL) and in CI, where a missing URL fails. */
const shouldRun = Boolean(process.env.TEST_DATABASE_URL) || Boolean(process.env.CI);

async function waitFor<T>(description: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface RunUpdate {
  status: string;
  error_message: string | null;
  finished_at: Date | null;
  log_entry_checkpoint_kept: boolean;
}

/**
 * Adds a trigger that copies every update of a sync run into `run_updates`, with whether the
 * connection's log entry checkpoint exists at that moment.
 */
async function recordRunUpdates(database: Database): Promise<void> {
  await sql`create table run_updates (
    seq bigserial primary key,
    recorded_at timestamptz not null default clock_timestamp(),
    sync_run_id uuid not null,
    status text not null,
    error_code text,
    error_message text,
    finished_at timestamptz,
    log_entry_checkpoint_kept boolean not null
  )`.execute(database.db);
  await sql`create function record_run_update() returns trigger language plpgsql as $$
    begin
      insert into run_updates (sync_run_id, status, error_code, error_message, finished_at, log_entry_checkpoint_kept)
      values (new.id, new.status, new.error_code, new.error_message, new.finished_at,
        exists (select 1 from stream_checkpoints where connection_id = new.connection_id and stream = 'log_entries'));
      return null;
    end
  $$`.execute(database.db);
  await sql`create trigger record_run_update after update on sync_runs for each row execute function record_run_update()`.execute(database.db);
}

describe.runIf(shouldRun)('sync worker killed on PostgreSQL', () => {
  const encryptionKey = randomBytes(32).toString('base64');
  let simulator: RunningSimulator;
  let database: Database;
  let databaseUrl: string;
  let killedWorker: SeatwiseProcess | undefined;
  let queue: JobQueue | undefined;

  beforeAll(async () => {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) throw new Error('The interrupted-run test needs PostgreSQL: set TEST_DATABASE_URL, for example postgres://postgres@127.0.0.1:5432/test');
    // PagerDuty's own rate limit paces the sync, so about 600 pages take most of a minute.
    simulator = await startSimulator({ people: 300, seed: 31 });
    databaseUrl = await createScratchDatabase(adminUrl);
    database = await openDatabase({ kind: 'postgres', url: databaseUrl });
    await migrate(database);
    await recordRunUpdates(database);
  }, 120_000);

  afterAll(async () => {
    await queue?.stop();
    await killedWorker?.stop();
    await database?.close();
    await simulator?.close();
  }, 60_000);

  it('ends the run interrupted, then resumes it', async () => {
    const vault = loadVault({ encryptionKey, dataDir: '/nonexistent', logger: createLogger('silent') });
    const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
    killedWorker = await startSeatwiseProcess(
      {
        DATABASE_URL: databaseUrl,
        SEATWISE_ENCRYPTION_KEY: encryptionKey,
        // An OAuth app keeps the worker from starting the demo simulator; the connection uses an API key.
        PAGERDUTY_CLIENT_ID: 'interrupted-run-client',
        PAGERDUTY_CLIENT_SECRET: 'interrupted-run-secret',
        SYNC_HISTORY_DAYS: String(SYNC_HISTORY_DAYS),
      },
      'worker',
    );

    // This process only enqueues until the kill; then it becomes the surviving worker.
    const config = loadConfig({ LOG_LEVEL: 'silent', SEATWISE_DATA_DIR: '/tmp/seatwise-interrupted-run-test', SYNC_HISTORY_DAYS: String(SYNC_HISTORY_DAYS) });
    const enqueuer = createJobQueue({ database, databaseUrl, logger: createLogger('silent'), config, vault, pagerduty: null });
    await enqueuer.start({ runWorker: false });
    const syncRunId = await enqueuer.enqueueSync(connection.connectionId, 'manual');
    await enqueuer.stop();

    await waitFor('the worker to store log entry pages', 120_000, async () => {
      const stream = await database.db.selectFrom('sync_run_streams').select('pages').where('sync_run_id', '=', syncRunId).where('stream', '=', 'log_entries').executeTakeFirst();
      return stream !== undefined && stream.pages >= PAGES_BEFORE_KILL ? true : null;
    });
    await killedWorker.kill();
    const killedAtMs = Date.now();
    const requestsBeforeKill = simulator.control.requestLog().filter((entry) => entry.path === '/log_entries').length;
    const runAtKill = await database.db.selectFrom('sync_runs').select(['status', 'started_at']).where('id', '=', syncRunId).executeTakeFirstOrThrow();
    expect(runAtKill.status).toBe('running');

    queue = createJobQueue({ database, databaseUrl, logger: createLogger('silent'), config, vault, pagerduty: null, sync: { crunch: async () => {} } });
    await queue.start({ runWorker: true });

    // The handed-back job starts again within a polling interval, so the interrupted state is read
    // from the recorded updates rather than caught in passing.
    const interrupted = await waitFor('the run to end as interrupted', RESUME_TIMEOUT_MS, async () => {
      const { rows } = await sql<RunUpdate>`
        select status, error_message, finished_at, log_entry_checkpoint_kept from run_updates
        where sync_run_id = ${syncRunId} and error_code = 'interrupted' order by seq limit 1`.execute(database.db);
      return rows[0] ?? null;
    });
    // Queued again, not failed: the job goes back to the queue, and the run is not over.
    expect(interrupted.status).toBe('queued');
    expect(interrupted.error_message).toBe(INTERRUPTED_RUN_MESSAGE);
    expect(interrupted.finished_at).not.toBeNull();
    expect(interrupted.log_entry_checkpoint_kept, 'log entry checkpoint kept').toBe(true);

    const finished = await waitFor('the retry to finish the run', RESUME_TIMEOUT_MS, async () => {
      const run = await database.db.selectFrom('sync_runs').select(['status', 'error_code', 'started_at']).where('id', '=', syncRunId).executeTakeFirstOrThrow();
      return run.status === 'succeeded' || run.status === 'partial' ? run : null;
    });
    expect(finished.status).toBe('succeeded');
    expect(finished.error_code).toBeNull();
    expect(await database.db.selectFrom('sync_runs').select('id').where('connection_id', '=', connection.connectionId).execute()).toHaveLength(1);

    // The retry read on from the checkpoint: together both attempts cost about one full read.
    const entryRequests = simulator.control.requestLog().filter((entry) => entry.path === '/log_entries');
    const requestsAfterKill = entryRequests.length - requestsBeforeKill;
    const history = simulator.generated.history;
    const startedAtMs = runAtKill.started_at?.getTime() ?? killedAtMs;
    const servedEntries = history.countEntries(startedAtMs - SYNC_HISTORY_DAYS * DAY_MS, Number.POSITIVE_INFINITY);
    const minimumPages = Math.ceil(servedEntries / 100);
    expect(requestsBeforeKill).toBeGreaterThanOrEqual(PAGES_BEFORE_KILL);
    expect(requestsAfterKill).toBeLessThanOrEqual(minimumPages - requestsBeforeKill + PAGES_IN_FLIGHT + 5);

    // Every log entry in the history both attempts covered is stored, once.
    const retryStartedAtMs = finished.started_at?.getTime() ?? Date.now();
    const coveredIds: string[] = [];
    history.scanEntries(retryStartedAtMs - SYNC_HISTORY_DAYS * DAY_MS + DAY_MS, Number.POSITIVE_INFINITY, (entry) => {
      coveredIds.push(entry.id);
    });
    const stored = new Set((await database.db.selectFrom('pd_log_entries').select('id').where('connection_id', '=', connection.connectionId).execute()).map((row) => row.id));
    const missing = coveredIds.filter((id) => !stored.has(id));
    expect(missing.slice(0, 5), `${missing.length} log entries missing`).toEqual([]);
  }, 600_000);
});
