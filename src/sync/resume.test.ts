import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { createScratchDatabase } from '../../test/support/databases.ts';
import { fetchAllPages } from './testing.ts';

const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..');
const KILLS = 20;
const DAY_MS = 86_400_000;

interface Target {
  name: string;
  /** Arguments and environment that point `seatwise sync` at this database, and how the test opens it. */
  prepare(): Promise<{ args: string[]; env: Record<string, string>; open(): Promise<Database> }>;
}

function targets(): Target[] {
  const list: Target[] = [
    {
      name: 'PGlite',
      prepare: async () => {
        const dataDir = await mkdtemp(join(tmpdir(), 'seatwise-resume-'));
        cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
        return { args: ['--data-dir', dataDir], env: {}, open: () => openDatabase({ kind: 'pglite', dataDir }) };
      },
    },
  ];
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl) {
    list.push({
      name: 'PostgreSQL',
      prepare: async () => {
        const url = await createScratchDatabase(adminUrl);
        return { args: [], env: { DATABASE_URL: url }, open: () => openDatabase({ kind: 'postgres', url }) };
      },
    });
  }
  return list;
}

const cleanups: Array<() => Promise<void>> = [];

/** Runs `seatwise sync` in a child process; kills it with SIGKILL after `killAfterMs` unless it ends first. */
function runCommand(args: string[], env: Record<string, string>, killAfterMs: number | null): Promise<{ code: number | null; wasKilled: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'seatwise.js'), 'sync', ...args], {
      cwd: REPOSITORY_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let wasKilled = false;
    const timer = killAfterMs === null ? null : setTimeout(() => {
      wasKilled = child.kill('SIGKILL');
    }, killAfterMs);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, wasKilled: wasKilled && code === null, output });
    });
  });
}

describe.each(targets())('sync killed repeatedly on $name', ({ prepare }) => {
  let simulator: RunningSimulator;
  const startedAt = new Date();

  beforeAll(async () => {
    // Latency stretches one run over several seconds, so the random kills land while streams are
    // read rather than after a fast run already finished.
    simulator = await startSimulator({ people: 80, seed: 13, now: startedAt, rateLimitPerMinute: 60_000, latencyMs: 400 });
  });

  afterAll(async () => {
    await simulator.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('resumes to the clean result', async () => {
    const target = await prepare();
    const args = ['--api-key', simulator.apiKey, '--api-url', simulator.apiUrl, ...target.args];
    const env = { ...target.env, SEATWISE_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

    let killedMidRun = 0;
    for (let kill = 0; kill < KILLS; kill += 1) {
      // Start-up takes about two seconds, so most kills land while streams are being read.
      const result = await runCommand(args, env, 1_500 + Math.floor(Math.random() * 3_000));
      if (result.wasKilled) killedMidRun += 1;
    }
    const final = await runCommand(args, env, null);

    expect(final.output).toMatch(/Sync succeeded/);
    expect(final.code).toBe(0);
    expect(killedMidRun).toBeGreaterThanOrEqual(KILLS / 2);

    const database = await target.open();
    try {
      const authorization = `Token token=${simulator.apiKey}`;
      const servedUsers = await fetchAllPages(simulator.apiUrl, '/users', 'users', authorization);
      const users = await database.db.selectFrom('pd_users').select('id').execute();
      expect(users.map((user) => user.id).sort()).toEqual(servedUsers.map((user) => String(user.id)).sort());

      const servedEntries = new Set<string>();
      const historyStart = startedAt.getTime() - 89 * DAY_MS;
      for (let start = historyStart; start < startedAt.getTime(); start += 15 * DAY_MS) {
        const until = new Date(Math.min(start + 15 * DAY_MS, startedAt.getTime())).toISOString();
        for (const entry of await fetchAllPages(simulator.apiUrl, '/log_entries', 'log_entries', authorization, { since: new Date(start).toISOString(), until })) {
          servedEntries.add(String(entry.id));
        }
      }
      const stored = await database.db.selectFrom('pd_log_entries').select('id').where('created_at', '>=', new Date(historyStart)).execute();
      expect(stored.length).toBe(new Set(stored.map((row) => row.id)).size);
      expect(new Set(stored.map((row) => row.id))).toEqual(servedEntries);
    } finally {
      await database.close();
    }
  }, 600_000);
});
