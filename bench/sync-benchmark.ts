/**
 * Measures a whole Seatwise sync against a sequential client on the same simulated PagerDuty
 * account, at 50 ms and at 150 ms latency per request. The figures are wall time, requests a
 * minute as a share of the rate limit, requests per minimum request and records per second.
 *
 *   npx tsx bench/sync-benchmark.ts [--quick] [--scale 0.5] [--latency-ms 50,150]
 *
 * Scale: a full account here is 500 people on PagerDuty's limit of 960 requests a minute per
 * token. `--scale` shrinks the people and the limit by the same factor (0.5: 250 people, 480
 * requests a minute), so the sync presses on the limit as on the full account while the simulator
 * and the database do half the work. The wall time stays about that of the full account. `--quick` runs 20 people at 960 requests a
 * minute and 50 ms only, a smoke run of the harness.
 *
 * The simulator runs in a process of its own (bench/lib/simulator-host.ts) and counts the
 * requests it serves, 429 responses included. Each client runs in its own process, one after the
 * other, each with its own API key and so its own rate-limit window:
 *
 * - Seatwise: `runSync` over every stream, stored in PGlite in memory.
 * - Sequential: pdjs (@pagerduty/pdjs), one request at a time, storing nothing. It sends the
 *   first page of each offset-paged list that Seatwise read (same path, query and time window)
 *   and follows `next()` to the end. Every other request Seatwise sent with success (cursor pages,
 *   POSTs) it sends as it was. pdjs waits 20 s after a 429 and retries up to three times, and its
 *   `next()` runs into PagerDuty's offset cap (HTTP 400, code 2002) on a window of more than
 *   10,000 records; the status lists such errors, and the records of the narrower windows that
 *   Seatwise read instead are in the replay.
 *
 * The minimum requests of a client are, per path, one per page of records it received (pages of
 * 100, of 1,000 for analytics), and one for a path with no records.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { api } from '@pagerduty/pdjs';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/database.ts';
import { runSync } from '../src/sync/run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from '../src/sync/testing.ts';
import { ownMaxRssMegabytes, positiveIntegerList, printRow, round } from './lib/measure.ts';

const FULL_ACCOUNT_PEOPLE = 500;
const PAGERDUTY_RATE_LIMIT_PER_MINUTE = 960;
const QUICK_PEOPLE = 20;
const SIMULATOR_SEED = 1;
const PAGE_SIZE = 100;
const ANALYTICS_PAGE_SIZE = 1_000;
const MINUTE_MS = 60_000;
const CLIENT_PREFIX = 'CLIENT ';
const SIMULATOR_HOST = join(import.meta.dirname, 'lib', 'simulator-host.ts');

/** A request a client sent, with the records its response held (the length of its largest array). */
interface SentRequest {
  method: string;
  url: string;
  body: string | null;
  status: number;
  records: number;
}

interface ClientResult {
  wallMs: number;
  status: string;
  records: number;
  minimumRequests: number;
  /** Records the sync stored; null for the sequential client, which stores nothing. */
  storedRecords: number | null;
  maxRssMegabytes: number;
}

interface ServedRequest {
  method: string;
  path: string;
  status: number;
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string', default: '0.5' },
    'latency-ms': { type: 'string' },
    client: { type: 'string' },
    'api-url': { type: 'string' },
    key: { type: 'string' },
    'plan-file': { type: 'string' },
  },
});

if (values.client !== undefined) {
  const apiUrl = required('--api-url', values['api-url']);
  const key = required('--key', values.key);
  const planFile = required('--plan-file', values['plan-file']);
  const result = values.client === 'seatwise' ? await runSeatwise(apiUrl, key, planFile) : await runSequential(key, planFile);
  console.log(`${CLIENT_PREFIX}${JSON.stringify(result)}`);
} else {
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) {
    console.error(`--scale must be a number in (0, 1], got "${values.scale}".`);
    process.exit(64);
  }
  const people = values.quick ? QUICK_PEOPLE : Math.max(5, Math.round(FULL_ACCOUNT_PEOPLE * scale));
  const rateLimit = values.quick ? PAGERDUTY_RATE_LIMIT_PER_MINUTE : Math.max(1, Math.round(PAGERDUTY_RATE_LIMIT_PER_MINUTE * scale));
  const latencies = positiveIntegerList('--latency-ms', values['latency-ms'] ?? (values.quick ? '50' : '50,150'));
  for (const latencyMs of latencies) await compareClients(people, latencyMs, rateLimit);
}

function required(option: string, value: string | undefined): string {
  if (value === undefined || value === '') {
    console.error(`${option} is required with --client.`);
    process.exit(64);
  }
  return value;
}

/** Runs both clients against one simulator and prints a row for each. */
async function compareClients(people: number, latencyMs: number, rateLimit: number): Promise<void> {
  const simulator = await startSimulatorHost(people, latencyMs, rateLimit);
  const planFile = join(tmpdir(), `seatwise-bench-sync-${process.pid}-${latencyMs}.json`);
  try {
    const [seatwiseKey, sequentialKey] = simulator.keys;
    const seatwise = await runClientProcess(['--client', 'seatwise', '--api-url', simulator.apiUrl, '--key', seatwiseKey!, '--plan-file', planFile]);
    const seatwiseServed = await simulator.takeLog();
    const sequential = await runClientProcess(['--client', 'sequential', '--api-url', simulator.apiUrl, '--key', sequentialKey!, '--plan-file', planFile]);
    const sequentialServed = await simulator.takeLog();

    const context = `${people} people, ${latencyMs} ms latency, limit ${rateLimit}/min`;
    printClientRow(`Seatwise, ${context}`, seatwise, seatwiseServed.requests, rateLimit, seatwiseServed.maxRssMegabytes);
    printClientRow(`sequential pdjs, ${context}`, sequential, sequentialServed.requests, rateLimit, sequentialServed.maxRssMegabytes);
    console.log(
      `${context}: Seatwise ${(seatwise.wallMs / 1000).toFixed(1)} s (${seatwise.status}), sequential ${(sequential.wallMs / 1000).toFixed(1)} s (${sequential.status}); Seatwise is ${(sequential.wallMs / seatwise.wallMs).toFixed(2)}x as fast`,
    );
    if (seatwise.status !== 'succeeded') throw new Error(`The Seatwise sync ended ${seatwise.status} at ${context}; its figures do not describe a whole sync.`);
  } finally {
    simulator.stop();
    rmSync(planFile, { force: true });
  }
}

function printClientRow(caseName: string, result: ClientResult, served: ServedRequest[], rateLimit: number, simulatorMaxRss: number): void {
  const requests = served.length;
  const requestsPerMinute = requests / (result.wallMs / MINUTE_MS);
  printRow('sync', caseName, {
    status: result.status,
    wallSeconds: round(result.wallMs / 1000, 1),
    requests,
    rateLimited: served.filter((request) => request.status === 429).length,
    requestsPerMinute: round(requestsPerMinute, 0),
    rateLimitSharePercent: round((requestsPerMinute / rateLimit) * 100, 1),
    minimumRequests: result.minimumRequests,
    requestsPerMinimumRequest: round(requests / Math.max(1, result.minimumRequests), 3),
    records: result.records,
    recordsPerSecond: round(result.records / (result.wallMs / 1000), 0),
    storedRecords: result.storedRecords,
    clientMaxRssMegabytes: result.maxRssMegabytes,
    simulatorMaxRssMegabytes: simulatorMaxRss,
  });
}

interface SimulatorHost {
  apiUrl: string;
  keys: string[];
  /** Returns the requests served since the last call and the simulator's peak RSS. */
  takeLog(): Promise<{ requests: ServedRequest[]; maxRssMegabytes: number }>;
  stop(): void;
}

async function startSimulatorHost(people: number, latencyMs: number, rateLimit: number): Promise<SimulatorHost> {
  const child = spawn(process.execPath, ['--import', 'tsx', SIMULATOR_HOST, String(people), String(latencyMs), String(rateLimit), String(SIMULATOR_SEED)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const next = await lines.next();
    if (next.done === true) throw new Error('The simulator host exited before it responded');
    return next.value;
  };
  const started = JSON.parse(await nextLine()) as { apiUrl: string; keys: string[] };
  return {
    apiUrl: started.apiUrl,
    keys: started.keys,
    async takeLog() {
      child.stdin.write('log\n');
      return JSON.parse(await nextLine()) as { requests: ServedRequest[]; maxRssMegabytes: number };
    },
    stop() {
      child.stdin.end();
      child.kill('SIGTERM');
    },
  };
}

/** Runs one client in a new process, so its max RSS is its own, and returns its result line. */
async function runClientProcess(args: string[]): Promise<ClientResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let result: ClientResult | null = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith(CLIENT_PREFIX)) result = JSON.parse(line.slice(CLIENT_PREFIX.length)) as ClientResult;
    else console.log(line);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0 || result === null) throw new Error(`The sync client ${args[1]} exited with code ${code} without a result`);
  return result;
}

/** Syncs every stream with Seatwise and writes the requests it sent to `planFile` for the sequential client. */
async function runSeatwise(apiUrl: string, key: string, planFile: string): Promise<ClientResult> {
  const database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
  try {
    await migrate(database);
    const vault = testVault();
    const connection = await createTestConnection(database, vault, { apiBaseUrl: apiUrl, method: 'api_key', accessToken: key });
    const syncRunId = await createQueuedRun(database, connection);
    const sent = recordFetch();

    const startedMs = performance.now();
    const outcome = await runSync(testSyncDeps(database, vault, { retry: {} }), { connectionId: connection.connectionId, syncRunId });
    const wallMs = performance.now() - startedMs;

    writeFileSync(planFile, JSON.stringify(sent.filter((request) => request.status >= 200 && request.status < 300)));
    const received = sent.filter((request) => request.status >= 200 && request.status < 300);
    return {
      wallMs,
      status: outcome.status,
      records: received.reduce((sum, request) => sum + request.records, 0),
      minimumRequests: minimumRequests(received),
      storedRecords: outcome.streams.reduce((sum, stream) => sum + stream.records, 0),
      maxRssMegabytes: ownMaxRssMegabytes(),
    };
  } finally {
    await database.close();
  }
}

/** Wraps `fetch` to note every request this process sends, with the records of its response. */
function recordFetch(): SentRequest[] {
  const sent: SentRequest[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.clone().text();
    const response = await original(input, init);
    const records = response.ok ? largestArrayLength(await response.clone().json().catch(() => null)) : 0;
    sent.push({ method: request.method, url: request.url, body, status: response.status, records });
    return response;
  };
  return sent;
}

/** Sends Seatwise's requests again with pdjs, one at a time, following `next()` on offset-paged lists. */
async function runSequential(key: string, planFile: string): Promise<ClientResult> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as SentRequest[];
  const received: SentRequest[] = [];
  const startedMs = performance.now();
  const errors = new Map<string, number>();
  for (const planned of plan) {
    const url = new URL(planned.url);
    const isOffsetPage = planned.method === 'GET' && url.searchParams.has('offset');
    if (isOffsetPage && url.searchParams.get('offset') !== '0') continue;

    const query = Object.fromEntries(url.searchParams);
    let response = await api({
      token: key,
      url: `${url.origin}${url.pathname}`,
      method: planned.method.toLowerCase() as 'get' | 'post',
      ...(planned.method === 'GET' ? { data: query } : { queryParameters: query, data: JSON.parse(planned.body ?? 'null') as object }),
    });
    for (;;) {
      const responseStatus = response.response.status;
      received.push({ method: planned.method, url: response.url, body: null, status: responseStatus, records: largestArrayLength(response.data) });
      if (responseStatus < 200 || responseStatus >= 300) {
        const code = (response.data as { error?: { code?: unknown } } | undefined)?.error?.code;
        const error = `HTTP ${responseStatus}${code === undefined ? '' : ` code ${String(code)}`} on ${url.pathname}`;
        errors.set(error, (errors.get(error) ?? 0) + 1);
      }
      if (!isOffsetPage || response.next === undefined) break;
      response = await response.next();
    }
  }
  const wallMs = performance.now() - startedMs;
  const succeeded = received.filter((request) => request.status >= 200 && request.status < 300);
  const status = errors.size === 0 ? 'succeeded' : `completed with errors: ${[...errors].map(([error, count]) => `${count} x ${error}`).join(', ')}`;
  return {
    wallMs,
    status,
    records: succeeded.reduce((sum, request) => sum + request.records, 0),
    minimumRequests: minimumRequests(succeeded),
    storedRecords: null,
    maxRssMegabytes: ownMaxRssMegabytes(),
  };
}

function largestArrayLength(body: unknown): number {
  if (body === null || typeof body !== 'object') return 0;
  return Math.max(0, ...Object.values(body).map((value) => (Array.isArray(value) ? value.length : 0)));
}

function minimumRequests(requests: SentRequest[]): number {
  const recordsByPath = new Map<string, number>();
  for (const request of requests) {
    const path = new URL(request.url).pathname;
    recordsByPath.set(path, (recordsByPath.get(path) ?? 0) + request.records);
  }
  let minimum = 0;
  for (const [path, records] of recordsByPath) minimum += Math.max(1, Math.ceil(records / (path.startsWith('/analytics/') ? ANALYTICS_PAGE_SIZE : PAGE_SIZE)));
  return minimum;
}
