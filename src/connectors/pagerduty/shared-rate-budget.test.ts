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

    first.pauseFor(1_500);
    // The pause is written asynchronously; wait until the row shows it.
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const { rows } = await database.query<{ paused: boolean }>(`select paused_until > clock_timestamp() as paused from pagerduty_rate_budgets where budget_key = $1`, [key]);
      if (rows[0]?.paused === true) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const startedMs = Date.now();
    (await second.acquire())();
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(1_000);
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
