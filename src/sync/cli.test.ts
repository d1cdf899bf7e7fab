import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';
import { openDatabase } from '../db/database.ts';
import { formatSummary, runSyncCommand, SYNC_EXIT_CODES } from './cli.ts';

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
    expect(err.text()).toContain(`PagerDuty at ${simulator.apiUrl} rejected the API key`);
    expect(err.text()).toContain('--api-url https://api.eu.pagerduty.com');
    expect(err.text()).not.toContain('not-a-key');
    expect(out.text()).toBe('');
  });

  it('reads the key from a file', async () => {
    const keyFile = join(dataDir, 'pagerduty-key');
    await writeFile(keyFile, `${simulator.apiKey}\n`);
    const out = capture();
    const err = capture();

    const code = await runSyncCommand(['--api-key-file', keyFile, '--api-url', simulator.apiUrl, '--data-dir', dataDir], { out: out.stream, err: err.stream });

    expect(err.text()).not.toMatch(/error/i);
    expect(code).toBe(SYNC_EXIT_CODES.succeeded);
    expect(out.text()).toMatch(/^Sync succeeded: \d+ requests/);
  }, 180_000);

  it('reads the key from the environment', async () => {
    const out = capture();
    const err = capture();

    const code = await runSyncCommand(['--api-url', simulator.apiUrl, '--data-dir', dataDir], { out: out.stream, err: err.stream }, { env: { ...process.env, SEATWISE_PAGERDUTY_API_KEY: simulator.apiKey } });

    expect(err.text()).not.toMatch(/error/i);
    expect(code).toBe(SYNC_EXIT_CODES.succeeded);
  }, 180_000);

  it('rejects an unreadable key file', async () => {
    const out = capture();
    const err = capture();
    const missing = join(dataDir, 'no-such-key-file');

    const code = await runSyncCommand(['--api-key-file', missing, '--data-dir', dataDir], { out: out.stream, err: err.stream });

    expect(code).toBe(SYNC_EXIT_CODES.usage);
    expect(err.text()).toContain(`Could not read the API key file ${missing}`);
  });

  it('finds an EU account without --api-url', async () => {
    const euSimulator = await startSimulator({ people: 6, seed: 22, region: 'eu' });
    const euDataDir = await mkdtemp(join(tmpdir(), 'seatwise-sync-cli-eu-'));
    try {
      const out = capture();
      const err = capture();
      const regionHosts = { us: euSimulator.apiUrl, eu: euSimulator.euApiUrl };

      const code = await runSyncCommand(['--api-key', euSimulator.apiKey, '--data-dir', euDataDir], { out: out.stream, err: err.stream }, { regionHosts });

      expect(err.text()).toContain(`Syncing PagerDuty at ${euSimulator.euApiUrl}`);
      expect(code).toBe(SYNC_EXIT_CODES.succeeded);
      const database = await openDatabase({ kind: 'pglite', dataDir: euDataDir });
      try {
        const connection = await database.db.selectFrom('connections').select(['api_base_url', 'region', 'subdomain']).executeTakeFirstOrThrow();
        expect(connection.api_base_url).toBe(euSimulator.euApiUrl);
        expect(connection.region).toBe('eu');
        expect(connection.subdomain).toBe(euSimulator.account.subdomain);
      } finally {
        await database.close();
      }
    } finally {
      await euSimulator.close();
      await rm(euDataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('names both hosts for a rejected key', async () => {
    const out = capture();
    const err = capture();
    const regionHosts = { us: simulator.apiUrl, eu: simulator.euApiUrl };

    const code = await runSyncCommand(['--api-key', 'not-a-key', '--data-dir', dataDir], { out: out.stream, err: err.stream }, { regionHosts });

    expect(code).toBe(SYNC_EXIT_CODES.needsAction);
    expect(err.text()).toContain(`the US host (${simulator.apiUrl}) or the EU host (${simulator.euApiUrl})`);
  });

  it('writes singular counts', () => {
    const summary = formatSummary({
      syncRunId: 'run',
      status: 'succeeded',
      requestCount: 1,
      errorMessage: null,
      isRetryable: false,
      streams: [{ name: 'users', status: 'succeeded', pages: 1, records: 1, message: null }],
    });

    expect(summary).toMatch(/^Sync succeeded: 1 request\n/);
    expect(summary).toMatch(/users\s+succeeded\s+1 record\s+1 page\n/);
    expect(summary).not.toMatch(/\b1 (requests|records|pages)\b/);
  });

  it('requires the API key option', async () => {
    const out = capture();
    const err = capture();

    const code = await runSyncCommand([], { out: out.stream, err: err.stream });

    expect(code).toBe(SYNC_EXIT_CODES.usage);
    expect(err.text()).toContain('Missing PagerDuty API key: pass --api-key-file FILE, set SEATWISE_PAGERDUTY_API_KEY, or pass --api-key KEY.');
  });

  it('rejects a blank API key', async () => {
    const out = capture();
    const err = capture();
    // Unused ports on the loopback interface, so a key that slipped through would reach nothing.
    const regionHosts = { us: 'http://127.0.0.1:9', eu: 'http://127.0.0.1:9' };

    const code = await runSyncCommand(['--api-key', ' '], { out: out.stream, err: err.stream }, { regionHosts });

    expect(code).toBe(SYNC_EXIT_CODES.usage);
    expect(err.text()).toContain('The API key passed to --api-key is empty');
  });
});
