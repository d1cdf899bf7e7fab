import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completeConsent } from '../../simulator/consent-driver.ts';
import { TestBrowser } from '../http/testing/harness.ts';
import { startSeatwiseProcess, type SeatwiseProcess } from '../../test/support/seatwise-process.ts';

const OWNER = { organizationName: 'Demo Corp', name: 'Dee Demo', email: 'dee@demo.example', password: 'correct horse battery staple' };
const SYNC_TIMEOUT_MS = 90_000;
const SYNC_END_MESSAGES = new Set(['Sync finished', 'Sync failed', 'Sync stopped: the connection needs a reconnect']);

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

/** Returns a loopback port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForLog(process: SeatwiseProcess, description: string, matches: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  for (;;) {
    const entry = process.logs.find(matches);
    if (entry !== undefined) return entry;
    if (Date.now() > deadline) throw new Error(`Timed out after ${SYNC_TIMEOUT_MS} ms waiting for ${description}:\n${process.rawOutput.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Reads the demo login from the line `seatwise start` logs in demo mode. */
function demoLogin(process: SeatwiseProcess): { email: string; password: string } {
  const line = process.logs.find((entry) => typeof entry.login === 'string' && String(entry.msg).startsWith('Demo mode'));
  const password = /with password (\S+)$/.exec(String(line?.msg ?? ''))?.[1];
  if (line === undefined || password === undefined) throw new Error(`seatwise start logged no demo login:\n${process.rawOutput.join('\n')}`);
  return { email: String(line.login), password };
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
    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 120_000);

  it('syncs with OAuth after restart', async () => {
    // The stored connection names the simulator's API URL, so the simulator keeps its port, as SIMULATOR_PORT's default does.
    const env = {
      SEATWISE_DATA_DIR: await mkdtemp(join(tmpdir(), 'seatwise-demo-oauth-')),
      SEATWISE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SIMULATOR_PEOPLE: '10',
      SIMULATOR_PORT: String(await freePort()),
    };
    try {
      running = await startSeatwiseProcess(env);
      const browser = new TestBrowser(running.url);
      expect((await browser.request('/api/setup', { method: 'POST', json: OWNER })).status).toBe(201);
      const session = await browser.json<{ csrfToken: string }>('/api/session');
      const connect = await browser.request('/apps/pagerduty/connect', { method: 'POST', form: { _csrf: session.body.csrfToken } });
      expect(connect.status).toBe(303);
      const { callbackUrl } = await completeConsent(connect.headers.get('location') ?? '', demoLogin(running));
      const landing = await browser.request(`${callbackUrl.pathname}${callbackUrl.search}`);
      expect(landing.status).toBe(303);
      await waitForLog(running, 'the first sync', (entry) => entry.msg === 'Sync finished');
      expect(await running.stop()).toBe(0);

      running = await startSeatwiseProcess(env);
      const restartedBrowser = new TestBrowser(running.url);
      const signIn = await restartedBrowser.json<{ csrfToken: string }>('/api/session', { method: 'POST', json: { email: OWNER.email, password: OWNER.password } });
      expect(signIn.status).toBe(200);
      const sync = await restartedBrowser.request('/api/apps/pagerduty/sync', { method: 'POST', headers: { 'x-csrf-token': signIn.body.csrfToken } });
      expect(sync.status).toBe(202);
      const ended = await waitForLog(running, 'the sync after restart', (entry) => SYNC_END_MESSAGES.has(String(entry.msg)) && entry.stream === undefined);
      expect(ended.msg).toBe('Sync finished');
      expect(ended.status).toBe('succeeded');
      const card = await restartedBrowser.json<{ state: string }>('/api/apps/pagerduty/card');
      expect(card.body.state).not.toBe('needs_reconnect');
    } finally {
      await running?.stop();
      running = undefined;
      await rm(env.SEATWISE_DATA_DIR, { recursive: true, force: true });
    }
  }, 3 * SYNC_TIMEOUT_MS);
});
