import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../simulator/index.ts';
import { migrate } from '../../db/migrate.ts';
import { openDatabase, type Database } from '../../db/database.ts';
import { createScratchDatabase } from '../../../test/support/databases.ts';
import { RateBudget } from './rate-budget.ts';
import { PostgresTokenBucket } from './shared-rate-budget.ts';

const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..');
const CHILD_SCRIPT = join(REPOSITORY_ROOT, 'test', 'support', 'rate-budget-child.ts');
/** 10 requests a second, so the test shows pacing in seconds, not minutes. */
const LIMIT_PER_MINUTE = 600;
const REQUESTS_PER_PROCESS = 100;
const PROCESSES = 2;
/** Requests counted per sliding window of this length. */
const WINDOW_MS = 10_000;
/** The pause one budget sets for every process that shares the bucket. */
const PAUSE_MS = 1_500;
/** How long the pause test waits for the pause to reach the bucket's row. */
const PAUSE_WRITE_TIMEOUT_MS = 10_000;

/** Runs where PostgreSQL is available (TEST_DATABASE_URL) and in CI, where a missing URL fails. */
const shouldRun = Boolean(process.env.TEST_DATABASE_URL) || Boolean(process.env.CI);

describe.runIf(shouldRun)('shared rate budget on PostgreSQL', () => {
  let simulator: RunningSimulator;
  let database: Database;
  let databaseUrl: string;

  beforeAll(async () => {
    const adminUrl = process.env.TEST_DATABASE_URL;
    if (!adminUrl) throw new Error('The shared rate budget test needs PostgreSQL: set TEST_DATABASE_URL, for example postgres://postgres@127.0.0.1:5432/test');
    // Budgets adopt the advertised `ratelimit-limit`, so the simulator advertises the same limit.
    // 200 requests stay under 600 a minute, so it rejects none even without a shared budget.
    simulator = await startSimulator({ people: 10, rateLimitPerMinute: LIMIT_PER_MINUTE });
    databaseUrl = await createScratchDatabase(adminUrl);
    database = await openDatabase({ kind: 'postgres', url: databaseUrl });
    await migrate(database);
  });

  afterAll(async () => {
    await simulator?.close();
    await database?.close();
  });

  it('paces two processes as one', async () => {
    simulator.control.clearRequestLog();
    const outputs = await Promise.all(
      Array.from({ length: PROCESSES }, () => runChild([databaseUrl, simulator.apiUrl, simulator.apiKey, 'connection:two-processes', String(REQUESTS_PER_PROCESS), String(LIMIT_PER_MINUTE)])),
    );
    for (const output of outputs) expect(output).toEqual({ requests: REQUESTS_PER_PROCESS, failures: 0 });

    const times = simulator.control
      .requestLog()
      .filter((entry) => entry.path === '/abilities')
      .map((entry) => Date.parse(entry.at))
      .sort((a, b) => a - b);
    expect(times.length).toBe(PROCESSES * REQUESTS_PER_PROCESS);
    // A bucket of one second's requests, refilled at the limit, lets at most this many through in
    // any window. Requests arrive later than they start on a loaded machine, never earlier, so the
    // bound has one second of slack. Two unshared budgets send about twice as many.
    const perSecond = LIMIT_PER_MINUTE / 60;
    const bound = Math.ceil((perSecond * WINDOW_MS) / 1000 + 2 * perSecond);
    expect(maxInWindow(times, WINDOW_MS)).toBeLessThanOrEqual(bound);
    // All requests together take at least as long as the shared pace allows.
    const minimumSpanMs = ((PROCESSES * REQUESTS_PER_PROCESS - perSecond) / perSecond) * 1000;
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(minimumSpanMs * 0.9);
  }, 120_000);

  it('spreads a pause to every process', async () => {
    const key = 'connection:pause';
    const first = new RateBudget({ limitPerMinute: 60_000, shared: new PostgresTokenBucket(database, key) });
    const second = new RateBudget({ limitPerMinute: 60_000, shared: new PostgresTokenBucket(database, key) });
    (await first.acquire())();

    first.pauseFor(PAUSE_MS);
    // The pause is written asynchronously, so the test waits until the row has it. The check is for
    // the write, not for the pause being on, which a slow poll could miss.
    const deadline = Date.now() + PAUSE_WRITE_TIMEOUT_MS;
    let hasPause = false;
    while (!hasPause) {
      if (Date.now() > deadline) throw new Error(`Timed out after ${PAUSE_WRITE_TIMEOUT_MS} ms waiting for the pause of ${key} to reach its row`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { rows } = await database.query<{ has_pause: boolean }>(`select paused_until is not null as has_pause from pagerduty_rate_budgets where budget_key = $1`, [key]);
      hasPause = rows[0]?.has_pause === true;
    }

    (await second.acquire())();
    // The check uses the database clock that set the pause rather than a wall-clock span measured
    // here, because on a loaded machine most of the pause can pass before the row above is read.
    const { rows } = await database.query<{ is_after_pause: boolean }>(`select clock_timestamp() >= paused_until as is_after_pause from pagerduty_rate_budgets where budget_key = $1`, [key]);
    expect(rows[0]?.is_after_pause, 'the second budget waited until the pause ended').toBe(true);
  }, 30_000);
});

/** Runs the child script with tsx and returns the JSON line it prints. */
function runChild(args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, ...args], { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`rate-budget-child exited with ${code}: ${errors}`));
        return;
      }
      try {
        resolve(JSON.parse(output.trim()));
      } catch {
        reject(new Error(`rate-budget-child printed no JSON line: ${output} ${errors}`));
      }
    });
  });
}

/** Returns the largest number of sorted instants inside any window of `windowMs`. */
function maxInWindow(times: readonly number[], windowMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= windowMs) start += 1;
    max = Math.max(max, end - start + 1);
  }
  return max;
}
