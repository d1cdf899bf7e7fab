/**
 * Measures the sync engine against the PagerDuty simulator with a fixed latency per request, and
 * a plain sequential client (pdjs, following `next()` page by page) on the same log entries.
 * The simulator runs in its own process, so its work does not slow the clients being measured.
 *
 *   npx tsx bench/sync-benchmark.ts [--people 300] [--latency-ms 150] [--rate-limit 960]
 *
 * Prints requests a minute against the rate limit, requests per record against the minimum
 * (one request per 100 records) and the speed of both clients. Not a test: figures vary by machine.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { api } from '@pagerduty/pdjs';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/database.ts';
import { sharedRateBudget } from '../src/connectors/pagerduty/rate-budget.ts';
import { runSync } from '../src/sync/run-sync.ts';
import { createQueuedRun, createTestConnection, testSyncDeps, testVault } from '../src/sync/testing.ts';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const PAGE_SIZE = 100;
const REPOSITORY_ROOT = join(import.meta.dirname, '..');

interface SentRequest {
  path: string;
  at: number;
  durationMs?: number;
  /** Records in the response: the length of its largest array. */
  records?: number;
}

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '300' },
    'latency-ms': { type: 'string', default: '150' },
    'rate-limit': { type: 'string', default: '960' },
  },
});
const people = Number(values.people);
const latencyMs = Number(values['latency-ms']);
const rateLimit = Number(values['rate-limit']);

const simulator = await startSimulatorProcess(['--port', '0', '--seed', '1', '--people', String(people), '--latency-ms', String(latencyMs), '--rate-limit', String(rateLimit)]);
const sent: SentRequest[] = [];
recordRequests(sent);
const database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
await migrate(database);

try {
  const vault = testVault();

  // Bulk phase: log entries alone, the largest stream, against the same stream read sequentially.
  const bulkConnection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
  const bulk = await runSync(testSyncDeps(database, vault, { retry: {}, streams: ['log_entries'] }), {
    connectionId: bulkConnection.connectionId,
    syncRunId: await createQueuedRun(database, bulkConnection),
  });
  const bulkRequests = sent.splice(0);
  const logEntryRecords = bulk.streams[0]?.records ?? 0;
  const bulkSpeed = (logEntryRecords / spanMs(bulkRequests)) * 1000;

  const end = new Date();
  const sequential = await readSequentially(simulator.apiUrl, simulator.apiKey, new Date(end.getTime() - 90 * DAY_MS), end);
  sent.splice(0);
  const sequentialSpeed = (sequential.records / sequential.ms) * 1000;
  const sequentialMeanMs = sequential.ms / sequential.requests;

  // Whole sync: every stream, on a second connection so nothing is resumed from the first.
  await database.db.deleteFrom('organizations').execute();
  const connection = await createTestConnection(database, vault, { apiBaseUrl: simulator.apiUrl, method: 'api_key', accessToken: simulator.apiKey });
  const startedAt = Date.now();
  const outcome = await runSync(testSyncDeps(database, vault, { retry: {} }), { connectionId: connection.connectionId, syncRunId: await createQueuedRun(database, connection) });
  const seatwiseMs = Date.now() - startedAt;
  const seatwiseRequests = sent.splice(0);
  const minimum = minimumRequests(seatwiseRequests);
  const sequentialEstimateMs = seatwiseRequests.length * sequentialMeanMs;

  const lines = [
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    `Simulator (own process): ${people} people, ${latencyMs} ms latency per request, rate limit ${rateLimit} requests a minute`,
    '',
    `Bulk phase, log entries of 90 days (Seatwise, PGlite in memory): ${bulk.status}, ${logEntryRecords} records, ${bulkRequests.length} requests (minimum ${minimumRequests(bulkRequests)}) in ${(spanMs(bulkRequests) / 1000).toFixed(1)} s`,
    `  ${ratePerMinute(bulkRequests).toFixed(0)} requests a minute (${percent(ratePerMinute(bulkRequests), rateLimit)} of the limit), ${bulkSpeed.toFixed(0)} records a second stored`,
    `Sequential client (pdjs following next(), weekly windows, nothing stored): ${sequential.records} records, ${sequential.requests} requests in ${(sequential.ms / 1000).toFixed(1)} s`,
    `  ${((sequential.requests / sequential.ms) * MINUTE_MS).toFixed(0)} requests a minute (${percent((sequential.requests / sequential.ms) * MINUTE_MS, rateLimit)} of the limit), ${sequentialSpeed.toFixed(0)} records a second`,
    `  Seatwise / sequential speed: ${(bulkSpeed / sequentialSpeed).toFixed(2)}x`,
    '',
    `Whole sync, all streams: ${outcome.status}, ${outcome.requestCount} requests in ${(seatwiseMs / 1000).toFixed(1)} s`,
    `  ${ratePerMinute(seatwiseRequests).toFixed(0)} requests a minute (${percent(ratePerMinute(seatwiseRequests), rateLimit)} of the limit)`,
    `  ${seatwiseRequests.length} requests against a minimum of ${minimum} (${(seatwiseRequests.length / minimum).toFixed(3)} per minimum request)`,
    `  mean time to response headers ${meanDuration(seatwiseRequests).toFixed(0)} ms; rate-limit pauses ${sharedRateBudget(`connection:${connection.connectionId}`).pauses}`,
    `  the same requests one at a time at the sequential client's pace: about ${(sequentialEstimateMs / 1000).toFixed(0)} s (${(sequentialEstimateMs / seatwiseMs).toFixed(2)}x longer), an estimate`,
  ];
  console.log(lines.join('\n'));
} finally {
  simulator.stop();
  await database.close();
}

/** Starts `seatwise simulate` and reads the URLs and API key from its first output line. */
async function startSimulatorProcess(args: string[]): Promise<{ apiUrl: string; apiKey: string; stop(): void }> {
  const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'seatwise.js'), 'simulate', ...args], { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const parsed = JSON.parse(line) as { usApiUrl: string; apiKey: string };
    return { apiUrl: parsed.usApiUrl, apiKey: parsed.apiKey, stop: () => child.kill('SIGTERM') };
  }
  throw new Error('The simulator exited before printing its URLs');
}

/** Wraps `fetch` to note the path and start time of every request this process sends. */
function recordRequests(into: SentRequest[]): void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const request: SentRequest = { path: url.pathname, at: Date.now() };
    into.push(request);
    return original(input, init).then(async (response) => {
      request.durationMs = Date.now() - request.at;
      if (response.ok) request.records = largestArrayLength(await response.clone().json().catch(() => null));
      return response;
    });
  };
}

/** Reads log entries with pdjs, following `next()` one page after another, one week at a time. */
async function readSequentially(apiUrl: string, apiKey: string, since: Date, until: Date): Promise<{ records: number; requests: number; ms: number }> {
  const startedAt = Date.now();
  let records = 0;
  let requests = 0;
  for (let start = since.getTime(); start < until.getTime(); start += 7 * DAY_MS) {
    const end = Math.min(start + 7 * DAY_MS, until.getTime());
    let response = await api({
      token: apiKey,
      url: `${apiUrl}/log_entries`,
      data: { since: new Date(start).toISOString(), until: new Date(end).toISOString(), limit: PAGE_SIZE, offset: 0 },
    });
    for (;;) {
      requests += 1;
      records += (response.data as { log_entries?: unknown[] }).log_entries?.length ?? 0;
      if (!response.next) break;
      response = await response.next();
    }
  }
  return { records, requests, ms: Date.now() - startedAt };
}

function meanDuration(requests: SentRequest[]): number {
  const durations = requests.flatMap((request) => (request.durationMs === undefined ? [] : [request.durationMs]));
  return durations.reduce((sum, duration) => sum + duration, 0) / Math.max(1, durations.length);
}

function largestArrayLength(body: unknown): number {
  if (body === null || typeof body !== 'object') return 0;
  return Math.max(0, ...Object.values(body).map((value) => (Array.isArray(value) ? value.length : 0)));
}

/**
 * Computes the minimum number of requests that read the same records: per path (a per-person
 * path is its own path), one request per page of records, and one for a path with none.
 */
function minimumRequests(requests: SentRequest[]): number {
  const recordsByPath = new Map<string, number>();
  for (const request of requests) recordsByPath.set(request.path, (recordsByPath.get(request.path) ?? 0) + (request.records ?? 0));
  let minimum = 0;
  for (const [path, records] of recordsByPath) minimum += Math.max(1, Math.ceil(records / (path.startsWith('/analytics/') ? 1000 : PAGE_SIZE)));
  return minimum;
}

function spanMs(requests: SentRequest[]): number {
  const first = requests[0];
  const last = requests.at(-1);
  if (!first || !last) return 1;
  return Math.max(1, last.at - first.at);
}

function ratePerMinute(requests: SentRequest[]): number {
  return requests.length < 2 ? 0 : ((requests.length - 1) / spanMs(requests)) * MINUTE_MS;
}

function percent(value: number, of: number): string {
  return `${((value / of) * 100).toFixed(1)} %`;
}
