import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { openDatabase } from '../db/database.ts';
import { runSyncCommand, SYNC_EXIT_CODES } from './cli.ts';

function capture(): { stream: Writable; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('seatwise sync command', () => {
  let simulator: RunningSimulator;
  let dataDir: string;

  beforeAll(async () => {
    simulator = await startSimulator({ people: 15, seed: 21 });
    dataDir = await mkdtemp(join(tmpdir(), 'seatwise-sync-cli-'));
  });

  afterAll(async () => {
    await simulator.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('syncs by API key into a folder', async () => {
    const out = capture();
    const err = capture();

    const code = await runSyncCommand(['--api-key', simulator.apiKey, '--api-url', simulator.apiUrl, '--data-dir', dataDir], { out: out.stream, err: err.stream });

    expect(err.text()).not.toMatch(/error/i);
    expect(code).toBe(SYNC_EXIT_CODES.succeeded);
    expect(out.text()).toMatch(/^Sync succeeded: \d+ requests/);
    expect(out.text()).toMatch(/users\s+succeeded\s+15 records/);

    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const users = await database.db.selectFrom('pd_users').select('id').execute();
      expect(users.length).toBe(15);
      const people = await database.db.selectFrom('people').select('external_id').execute();
      expect(people.length).toBe(15);
    } finally {
      await database.close();
    }
  }, 180_000);

  it('rejects a bad key with exit 2', async () => {
    const out = capture();
    const err = capture();

    const code = await runSyncCommand(['--api-key', 'not-a-key', '--api-url', simulator.apiUrl, '--data-dir', dataDir], { out: out.stream, err: err.stream });

    expect(code).toBe(SYNC_EXIT_CODES.needsAction);
    expect(out.text()).toMatch(/needs reconnect/);
    expect(out.text()).toMatch(/API key/);
  });

  it('requires the API key option', async () => {
    const out = capture();
    const err = capture();

    const code = await runSyncCommand([], { out: out.stream, err: err.stream });

    expect(code).toBe(SYNC_EXIT_CODES.usage);
    expect(err.text()).toMatch(/--api-key/);
  });
});
