import { randomUUID } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.ts';
import { createScratchDatabase } from '../../test/support/databases.ts';
import { createConnectionLeases, type ConnectionLeases, type DeadSyncJob } from './connection-lease.ts';

const TIMING = { heartbeatSeconds: 1, timeoutSeconds: 3 };
const QUEUE = 'sync';
const WAIT_TIMEOUT_MS = 20_000;
/** How long pg_terminate_backend waits for the terminated backend to exit. */
const TERMINATE_TIMEOUT_MS = 10_000;
/** Reaper passes the hand-back test waits for. Every pass before the last one checks the live job. */
const REAPER_PASSES = 3;

async function waitFor<T>(description: string, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${WAIT_TIMEOUT_MS} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A promise and the function that resolves it, to hold a lease until the test lets go. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const adminUrl = process.env.TEST_DATABASE_URL;

describe.runIf(Boolean(adminUrl) || Boolean(process.env.CI))('connection leases on PostgreSQL', () => {
  let databaseUrl: string;
  let admin: pg.Client;
  const opened: ConnectionLeases[] = [];

  function leases(): ConnectionLeases {
    const created = createConnectionLeases({ databaseUrl, logger: createLogger('silent'), timing: TIMING });
    opened.push(created);
    return created;
  }

  beforeAll(async () => {
    if (!adminUrl) throw new Error('Set TEST_DATABASE_URL to a PostgreSQL server, for example postgres://postgres@127.0.0.1:5432/test');
    databaseUrl = await createScratchDatabase(adminUrl);
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(opened.map((created) => created.close()));
    await admin?.end();
  });

  it('grants a lease to one holder', async () => {
    const first = leases();
    const second = leases();
    const connectionId = randomUUID();
    const held = gate();
    const leased = gate();

    const firstRun = first.withLease(connectionId, async () => {
      leased.open();
      await held.opened;
      return 'first';
    });
    await leased.opened;
    expect(await second.withLease(connectionId, async () => 'second')).toBeNull();

    held.open();
    expect(await firstRun).toEqual({ value: 'first', isLost: false });
    expect(await second.withLease(connectionId, async () => 'second')).toEqual({ value: 'second', isLost: false });
  });

  it('stops a task whose session ends', async () => {
    const first = leases();
    const second = leases();
    const connectionId = randomUUID();
    const leased = gate();

    const firstRun = first.withLease(connectionId, async (lease) => {
      leased.open();
      await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
      return 'stopped';
    });
    await leased.opened;
    // Ends the holder's session from outside, as a restarted database or a cut connection would.
    // The timeout makes each call wait until the backend has exited and so released its locks. The
    // holder's client sees its session end before that, so without it the takeover below could
    // find the lock still held.
    const { rows: terminated } = await admin.query<{ terminated: boolean }>(
      `select pg_terminate_backend(pid, $1) as terminated from pg_locks
       where locktype = 'advisory' and granted and pid <> pg_backend_pid() and database = (select oid from pg_database where datname = current_database())`,
      [TERMINATE_TIMEOUT_MS],
    );
    expect(terminated).toEqual([{ terminated: true }]);

    expect(await firstRun).toEqual({ value: 'stopped', isLost: true });
    expect(await second.withLease(connectionId, async () => 'taken over')).toEqual({ value: 'taken over', isLost: false });
    // A new session serves the next lease of the process that lost its session.
    expect(await first.withLease(randomUUID(), async () => 'again')).toEqual({ value: 'again', isLost: false });
  });

  it('hands back only jobs without a lease', async () => {
    const boss = new PgBoss({ connectionString: databaseUrl, supervise: false, schedule: false, max: 2 });
    await boss.start();
    try {
      await boss.createQueue(QUEUE, { name: QUEUE, policy: 'stately' });
      const deadConnection = randomUUID();
      const liveConnection = randomUUID();
      const deadJob = await boss.send(QUEUE, {}, { singletonKey: deadConnection });
      const liveJob = await boss.send(QUEUE, {}, { singletonKey: liveConnection });
      expect(await boss.fetch(QUEUE, { batchSize: 2 })).toHaveLength(2);

      const worker = leases();
      const held = gate();
      const leased = gate();
      const liveRun = worker.withLease(liveConnection, async () => {
        leased.open();
        await held.opened;
      });
      await leased.opened;

      const handedBack: DeadSyncJob[] = [];
      const survivor = leases();
      survivor.startReaper({ queueName: QUEUE, handBack: async (job) => void handedBack.push(job) });
      // This handBack leaves the job active, so every pass of the reaper hands the dead job back
      // again. Once it has done so REAPER_PASSES times, the passes before the last one have each
      // also looked at the live job, however slowly the heartbeats ran.
      await waitFor(`the dead job to be handed back in ${REAPER_PASSES} reaper passes`, () => (handedBack.length >= REAPER_PASSES ? true : null));

      expect(handedBack.map((job) => job.jobId)).toContain(deadJob);
      expect(handedBack.every((job) => job.connectionId === deadConnection)).toBe(true);
      expect(handedBack.map((job) => job.jobId)).not.toContain(liveJob);
      held.open();
      await liveRun;
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
  }, 30_000);
});
