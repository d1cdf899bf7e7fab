import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSeatwiseProcess, type SeatwiseProcess } from '../../test/support/seatwise-process.ts';

interface StoredSimulatorState {
  referenceNow: string;
  accountApiKey: string;
  signing: { kid: string };
}

async function readState(dataDir: string): Promise<StoredSimulatorState> {
  return JSON.parse(await readFile(join(dataDir, 'simulator-state.json'), 'utf8')) as StoredSimulatorState;
}

async function getUsers(simulatorUrl: string, apiKey: string): Promise<number> {
  const response = await fetch(`${simulatorUrl}/users?limit=1`, { headers: { authorization: `Token token=${apiKey}`, accept: 'application/vnd.pagerduty+json;version=2' } });
  await response.body?.cancel();
  return response.status;
}

describe('demo simulator across restarts', () => {
  let dataDir = '';
  let running: SeatwiseProcess | undefined;

  afterAll(async () => {
    await running?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps credentials in data folder', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seatwise-demo-restart-'));
    const env = { SEATWISE_DATA_DIR: dataDir, SEATWISE_ENCRYPTION_KEY: randomBytes(32).toString('base64'), SIMULATOR_PEOPLE: '10' };

    running = await startSeatwiseProcess(env);
    const first = await readState(dataDir);
    expect(running.simulatorUrl).not.toBeNull();
    expect(await getUsers(running.simulatorUrl!, first.accountApiKey)).toBe(200);
    expect(await running.stop()).toBe(0);

    running = await startSeatwiseProcess(env);
    const second = await readState(dataDir);
    expect(second.referenceNow).toBe(first.referenceNow);
    expect(second.signing.kid).toBe(first.signing.kid);
    expect(second.accountApiKey).toBe(first.accountApiKey);
    expect(await getUsers(running.simulatorUrl!, first.accountApiKey)).toBe(200);
  }, 120_000);
});
