/**
 * Measures the dashboard API over real HTTP on loopback at 500, 5,000 and 50,000 people, once
 * every person of a generated account has been crunched. It sends sequential requests after a
 * warm-up and reports p50 and p95 of `GET /api/overview` and `GET /api/people` (the first page,
 * sorted by name).
 *
 *   npx tsx bench/dashboard-api.ts [--quick] [--people 5000,50000,500] [--log-entries 2000000,500000,100000]
 *                                  [--requests 200] [--target pglite|postgres]
 *
 * `--log-entries` gives one count per size. The size with a target runs first, so a time limit
 * cuts the others. Each size runs in its own process, which contains the
 * web server, the database (on PGlite, in a temporary data folder as the product keeps it) and the
 * client, so its max RSS belongs to that size alone.
 * On PostgreSQL each size gets a scratch database, dropped afterwards, and the memory figure
 * leaves out the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSession } from '../src/accounts/sessions.ts';
import { insertUser } from '../src/accounts/repository.ts';
import { crunchConnection } from '../src/analytics/crunch.ts';
import { openDatabase } from '../src/db/database.ts';
import { startTestServer } from '../src/http/testing/harness.ts';
import { createScratchDatabase } from '../test/support/databases.ts';
import { AS_OF, generateAccount } from './lib/account.ts';
import { benchDatabaseUrl, dropScratchDatabase, ownMaxRssMegabytes, percentile, positiveInteger, positiveIntegerList, printRow, round, runCaseProcess } from './lib/measure.ts';
import type { Target } from './lib/report.ts';

/** Untimed requests that warm the caches and the JIT before measuring. */
const WARM_UP_REQUESTS = 20;
/** The size whose p95 has a target, and the target. */
const TARGET_PEOPLE = 5_000;
const TARGET_P95_MS = 100;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    people: { type: 'string' },
    'log-entries': { type: 'string' },
    requests: { type: 'string' },
    target: { type: 'string', default: 'pglite' },
    case: { type: 'string' },
  },
});
if (values.target !== 'pglite' && values.target !== 'postgres') {
  console.error(`--target must be pglite or postgres, got "${values.target}".`);
  process.exit(64);
}
const target = values.target;

if (values.case !== undefined) {
  const [people, logEntries, requests] = values.case.split(':').map(Number);
  await measureSize(people!, logEntries!, requests!);
} else {
  const sizes = positiveIntegerList('--people', values.people ?? (values.quick ? '50,500' : '5000,50000,500'));
  const logEntries = positiveIntegerList('--log-entries', values['log-entries'] ?? (values.quick ? '2000,20000' : '2000000,500000,100000'));
  const requests = positiveInteger('--requests', values.requests ?? (values.quick ? '20' : '200'));
  if (logEntries.length !== sizes.length) {
    console.error(`--log-entries needs one count per size of --people: ${sizes.length} sizes, ${logEntries.length} counts.`);
    process.exit(64);
  }
  for (const [index, people] of sizes.entries()) {
    await runCaseProcess(import.meta.filename, ['--target', target, '--case', `${people}:${logEntries[index]}:${requests}`]);
  }
}

async function measureSize(people: number, logEntries: number, requests: number): Promise<void> {
  const adminUrl = benchDatabaseUrl();
  const scratchUrl = target === 'postgres' ? await createScratchDatabase(adminUrl) : null;
  const dataDir = scratchUrl === null ? mkdtempSync(join(tmpdir(), 'seatwise-bench-dashboard-')) : null;
  const database = scratchUrl !== null ? await openDatabase({ kind: 'postgres', url: scratchUrl }) : await openDatabase({ kind: 'pglite', dataDir: dataDir! });
  const server = await startTestServer({
    database,
    pagerduty: { clientId: 'bench', clientSecret: 'bench', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: [] },
    env: { LOG_LEVEL: 'warn' },
  });
  try {
    const loadStartedMs = performance.now();
    const account = await generateAccount(database, { people, logEntries });
    const loadSeconds = (performance.now() - loadStartedMs) / 1000;
    const crunchStartedMs = performance.now();
    await crunchConnection(database.db, account.connectionId, AS_OF);
    const crunchSeconds = (performance.now() - crunchStartedMs) / 1000;

    const user = await insertUser(database.db, { organizationId: account.organizationId, email: 'bench@example.com', name: 'Bench', passwordHash: 'unused', role: 'viewer' });
    const session = await createSession(database.db, user);
    const headers = { cookie: `seatwise_session=${session.token}` };

    const peopleTotal = await readPeopleTotal(`${server.url}/api/people?sort=name&page=1`, headers);
    const overview = await measureEndpoint(`${server.url}/api/overview`, headers, requests);
    const peoplePage = await measureEndpoint(`${server.url}/api/people?sort=name&page=1`, headers, requests);
    const maxRss = ownMaxRssMegabytes();

    const targets: Target[] =
      people === TARGET_PEOPLE
        ? [
            { figure: 'overviewP95Ms', atMost: TARGET_P95_MS },
            { figure: 'peopleP95Ms', atMost: TARGET_P95_MS },
          ]
        : [];
    printRow(
      'dashboard-api',
      `${people.toLocaleString('en-US')} people, ${logEntries.toLocaleString('en-US')} log entries, ${target === 'postgres' ? 'PostgreSQL' : 'PGlite'}`,
      {
        people: account.people,
        peopleInApi: peopleTotal,
        logEntries: account.logEntries,
        requests,
        overviewP50Ms: overview.p50,
        overviewP95Ms: overview.p95,
        peopleP50Ms: peoplePage.p50,
        peopleP95Ms: peoplePage.p95,
        loadSeconds: round(loadSeconds, 1),
        crunchSeconds: round(crunchSeconds, 1),
        maxRssMegabytes: maxRss,
      },
      targets,
    );
    console.log(
      `${people} people (${peopleTotal} in the API), ${account.logEntries} log entries on ${target}: overview p50 ${overview.p50} ms, p95 ${overview.p95} ms; people page p50 ${peoplePage.p50} ms, p95 ${peoplePage.p95} ms; crunch ${round(crunchSeconds, 1)} s; max RSS ${maxRss} MB`,
    );
    if (peopleTotal !== account.people) throw new Error(`GET /api/people counts ${peopleTotal} people for an account of ${account.people}; every person must be crunched.`);
  } finally {
    await server.close();
    await database.close();
    if (scratchUrl !== null) await dropScratchDatabase(adminUrl, scratchUrl);
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Sends `requests` sequential GETs after a warm-up and returns p50 and p95 in milliseconds. */
async function measureEndpoint(url: string, headers: Record<string, string>, requests: number): Promise<{ p50: number; p95: number }> {
  for (let index = 0; index < WARM_UP_REQUESTS; index += 1) await get(url, headers);
  const durations: number[] = [];
  for (let index = 0; index < requests; index += 1) {
    const startedMs = performance.now();
    await get(url, headers);
    durations.push(performance.now() - startedMs);
  }
  durations.sort((left, right) => left - right);
  return { p50: round(percentile(durations, 0.5), 1), p95: round(percentile(durations, 0.95), 1) };
}

async function get(url: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} returned HTTP ${response.status}: ${body.slice(0, 300)}`);
  return body;
}

async function readPeopleTotal(url: string, headers: Record<string, string>): Promise<number> {
  const body = JSON.parse(await get(url, headers)) as { total?: unknown };
  if (typeof body.total !== 'number') throw new Error(`GET ${url} returned no numeric "total"; the people page's response shape changed.`);
  return body.total;
}
