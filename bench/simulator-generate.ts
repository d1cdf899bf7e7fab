/**
 * Measures the PagerDuty simulator on a large account. It times the start of a lazily generated
 * account (default 50,000 people, 1,050,000 incidents, about 10,000,000 log entries over three
 * years). Then it times paging through the newest 100,000 log entries over HTTP, as a client would,
 * in twelve-hour windows that stay under the 10,000-record offset cap. It prints the times and the
 * process's peak memory.
 *
 *   npx tsx bench/simulator-generate.ts [--quick] [--people N] [--incidents N] [--history-days N] [--entries N] [--count-all]
 *
 * `--count-all` also counts every log entry, which generates the whole history once. `--quick`
 * runs 500 people, 10,000 incidents and 2,000 log entries, a smoke run of the harness.
 */
import { parseArgs } from 'node:util';
import { startSimulator } from '../simulator/index.ts';
import { ownMaxRssMegabytes, printRow, round } from './lib/measure.ts';

const DAY_MS = 86_400_000;
/** Twelve-hour windows keep each window under 10,000 entries at about 9,000 entries a day. */
const WINDOW_MS = DAY_MS / 2;
const PAGE_LIMIT = 100;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    people: { type: 'string' },
    incidents: { type: 'string' },
    'history-days': { type: 'string', default: '1095' },
    entries: { type: 'string' },
    seed: { type: 'string', default: '42' },
    'count-all': { type: 'boolean', default: false },
  },
});

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

const people = positiveInteger('people', values.people ?? (values.quick ? '500' : '50000'));
const incidents = positiveInteger('incidents', values.incidents ?? (values.quick ? '10000' : '1050000'));
const historyDays = positiveInteger('history-days', values['history-days']);
const entriesWanted = positiveInteger('entries', values.entries ?? (values.quick ? '2000' : '100000'));
const seed = positiveInteger('seed', values.seed);

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1_048_576)} MiB`;
}

const now = new Date();
const startedAt = performance.now();
// The benchmark is a single client, so the per-token rate limit is lifted.
const simulator = await startSimulator({ people, incidents, historyDays, seed, now, rateLimitPerMinute: 1_000_000_000 });
const startMs = performance.now() - startedAt;
console.log(`start: ${people} people, ${incidents} incidents over ${historyDays} days in ${(startMs / 1000).toFixed(2)} s, RSS ${megabytes(process.memoryUsage().rss)}`);

const pagingStartedAt = performance.now();
let read = 0;
let requests = 0;
let previousTime = Infinity;
let isOrdered = true;
for (let windowEnd = now.getTime() + 1000; read < entriesWanted && windowEnd > now.getTime() - historyDays * DAY_MS; windowEnd -= WINDOW_MS) {
  const since = new Date(windowEnd - WINDOW_MS).toISOString();
  const until = new Date(windowEnd).toISOString();
  for (let offset = 0; read < entriesWanted; offset += PAGE_LIMIT) {
    const response = await fetch(`${simulator.apiUrl}/log_entries?since=${since}&until=${until}&limit=${PAGE_LIMIT}&offset=${offset}`, {
      headers: { authorization: `Token token=${simulator.apiKey}` },
    });
    requests += 1;
    if (response.status !== 200) throw new Error(`GET /log_entries failed with HTTP ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { log_entries: { created_at: string }[]; more: boolean };
    for (const entry of page.log_entries) {
      const time = Date.parse(entry.created_at);
      if (time > previousTime) isOrdered = false;
      previousTime = time;
    }
    read += page.log_entries.length;
    if (!page.more) break;
  }
}
const pagingMs = performance.now() - pagingStartedAt;
console.log(`paging: ${read} log entries in ${requests} requests, ${(pagingMs / 1000).toFixed(2)} s (${Math.round(read / (pagingMs / 1000))} entries/s), newest first: ${isOrdered}`);

if (values['count-all']) {
  const countStartedAt = performance.now();
  const total = await countAll();
  console.log(`count: ${total} log entries in total, ${((performance.now() - countStartedAt) / 1000).toFixed(2)} s`);
}

async function countAll(): Promise<number> {
  const response = await fetch(`${simulator.apiUrl}/log_entries?limit=1&total=true`, { headers: { authorization: `Token token=${simulator.apiKey}` } });
  return ((await response.json()) as { total: number }).total;
}

const usage = process.resourceUsage();
console.log(`peak memory: max RSS ${megabytes(usage.maxRSS * 1024)}, heap used now ${megabytes(process.memoryUsage().heapUsed)}`);
printRow('simulator', `${people.toLocaleString('en-US')} people, ${incidents.toLocaleString('en-US')} incidents over ${historyDays} days`, {
  startSeconds: round(startMs / 1000),
  logEntriesRead: read,
  requests,
  pagingSeconds: round(pagingMs / 1000),
  logEntriesPerSecond: Math.round(read / (pagingMs / 1000)),
  isNewestFirst: String(isOrdered),
  maxRssMegabytes: ownMaxRssMegabytes(),
});
console.log(`machine: Node ${process.version}, ${process.platform}/${process.arch}`);
await simulator.close();
