/**
 * Measures the dashboard API's latency at 500, 5,000 and 50,000 people, on PGlite or PostgreSQL: p50 and p95 of
 * `GET /api/overview` and `GET /api/people` (the first page, sorted by name) over real HTTP on
 * loopback, after a crunch of a generated account. Each size runs in its own process, so the
 * peak memory figure (max RSS) belongs to that size alone.
 *
 *   npx tsx bench/dashboard-api.ts [--people 500,5000,50000] [--requests 200] [--target pglite|postgres]
 *                                  [--database-url postgres://postgres@127.0.0.1:5432/postgres]
 *
 * On PostgreSQL each size gets a scratch database on the server of --database-url (or
 * BENCH_DATABASE_URL), and the memory figure covers only the Node.js side.
 *
 * Prints one `BENCH {json}` line per size for bench/run.ts and a readable line after it.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createSession } from '../src/accounts/sessions.ts';
import { insertUser } from '../src/accounts/repository.ts';
import { crunchConnection } from '../src/analytics/crunch.ts';
import { createTenant, insertLicenses, insertLogEntries, insertUsers, type LogEntrySeed, type UserSeed } from '../src/analytics/testing.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { startTestServer } from '../src/http/testing/harness.ts';
import { createScratchDatabase } from '../test/support/databases.ts';

const AS_OF = new Date('2026-06-01T00:00:00Z');
const DAY_MS = 86_400_000;
/** Rows per insert statement; eight columns each stays far below PostgreSQL's 65,535 parameters. */
const INSERT_BATCH = 1_000;
/** Log entries per person, spread over the last 120 days; a fifth of the people have none. */
const LOG_ENTRIES_PER_ACTIVE_PERSON = 3;
/**
 * People the crunch computes at most. Larger sizes copy the crunched `people` rows under new ids
 * until the table has the requested size, because the crunch of 5,000 people already takes about
 * a minute here; the dashboard API reads only the crunched tables, so its figures stay those of
 * a table of that size.
 */
const CRUNCHED_PEOPLE_MAX = 5_000;
/** Untimed requests that warm the caches and the JIT before measuring. */
const WARM_UP_REQUESTS = 20;

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '500,5000,50000' },
    requests: { type: 'string', default: '200' },
    target: { type: 'string', default: 'pglite' },
    'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    child: { type: 'boolean', default: false },
  },
});

const sizes = values.people.split(',').map((size) => Number.parseInt(size, 10));
const requestCount = Number.parseInt(values.requests, 10);
if (sizes.some((size) => !Number.isInteger(size) || size < 1) || !Number.isInteger(requestCount) || requestCount < 1) {
  console.error(`--people must be a comma-separated list of positive integers and --requests a positive integer, got "${values.people}" and "${values.requests}"`);
  process.exit(64);
}
if (values.target !== 'pglite' && values.target !== 'postgres') {
  console.error(`--target must be pglite or postgres, got "${values.target}"`);
  process.exit(64);
}
const target = values.target;

if (values.child) {
  const [people] = sizes;
  await measureSize(people!, requestCount);
} else {
  for (const people of sizes) await runChild(people, requestCount);
}

/** Runs one size in a fresh process and relays its output. */
async function runChild(people: number, requests: number): Promise<void> {
  const args = ['--import', 'tsx', import.meta.filename, '--child', '--people', String(people), '--requests', String(requests), '--target', target, '--database-url', values['database-url']];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  createInterface({ input: child.stdout }).on('line', (line) => console.log(line));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`The dashboard benchmark at ${people} people exited with code ${code}`);
}

async function measureSize(people: number, requests: number): Promise<void> {
  const database =
    target === 'postgres'
      ? await openDatabase({ kind: 'postgres', url: await createScratchDatabase(values['database-url']) })
      : await openDatabase({ kind: 'pglite', dataDir: 'memory' });
  const server = await startTestServer({
    database,
    pagerduty: { clientId: 'bench', clientSecret: 'bench', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: [] },
    env: { LOG_LEVEL: 'warn' },
  });

  const loadStartedMs = performance.now();
  const crunchedPeople = Math.min(people, CRUNCHED_PEOPLE_MAX);
  const { organizationId, connectionId } = await generateAccount(database, crunchedPeople);
  const crunchStartedMs = performance.now();
  await crunchConnection(database.db, connectionId, AS_OF);
  const crunchSeconds = (performance.now() - crunchStartedMs) / 1000;
  const loadSeconds = (crunchStartedMs - loadStartedMs) / 1000;
  if (people > crunchedPeople) await copyPeopleRows(database, connectionId, people);

  const user = await insertUser(database.db, { organizationId, email: 'bench@example.com', name: 'Bench', passwordHash: 'unused', role: 'viewer' });
  const session = await createSession(database.db, user);
  const headers = { cookie: `seatwise_session=${session.token}` };

  const overview = await measureEndpoint(`${server.url}/api/overview`, headers, requests);
  const peoplePage = await measureEndpoint(`${server.url}/api/people?sort=name&page=1`, headers, requests);
  const maxRssMegabytes = process.resourceUsage().maxRSS / 1024;

  const result = {
    benchmark: 'dashboard-api',
    case: `${people} people, ${target === 'postgres' ? 'PostgreSQL' : 'PGlite'}`,
    people,
    crunchedPeople,
    requests,
    overviewP50Ms: overview.p50,
    overviewP95Ms: overview.p95,
    peopleP50Ms: peoplePage.p50,
    peopleP95Ms: peoplePage.p95,
    loadSeconds: round(loadSeconds),
    crunchSeconds: round(crunchSeconds),
    maxRssMegabytes: Math.round(maxRssMegabytes),
  };
  console.log(`BENCH ${JSON.stringify(result)}`);
  console.log(
    `${people} people (${crunchedPeople} crunched) on ${target}: overview p50 ${overview.p50} ms, p95 ${overview.p95} ms; people page p50 ${peoplePage.p50} ms, p95 ${peoplePage.p95} ms; crunch ${round(crunchSeconds)} s; max RSS ${Math.round(maxRssMegabytes)} MB`,
  );

  await server.close();
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
  return { p50: round(percentile(durations, 0.5)), p95: round(percentile(durations, 0.95)) };
}

async function get(url: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url} returned HTTP ${response.status}: ${body.slice(0, 300)}`);
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], share: number): number {
  const rank = Math.max(1, Math.ceil(share * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Copies the crunched people under new external ids until the connection has `people` rows. */
async function copyPeopleRows(database: Database, connectionId: string, people: number): Promise<void> {
  const { rows: columns } = await database.query<{ column_name: string }>(
    `select column_name from information_schema.columns where table_schema = current_schema() and table_name = 'people' order by ordinal_position`,
  );
  const names = columns.map((column) => column.column_name);
  const values = names.map((name) => (name === 'external_id' ? `p.external_id || '-copy-' || copy.number` : `p.${name}`));
  const { rows } = await database.query<{ count: number }>('select count(*)::int as count from people where connection_id = $1', [connectionId]);
  const crunched = Number(rows[0]?.count ?? 0);
  const copies = Math.ceil(people / crunched) - 1;
  await database.query(
    `insert into people (${names.join(', ')})
     select ${values.join(', ')} from people p cross join generate_series(1, $2::int) as copy(number)
     where p.connection_id = $1`,
    [connectionId, copies],
  );
  await database.query(
    `delete from people where connection_id = $1 and external_id in (
       select external_id from people where connection_id = $1 and external_id like '%-copy-%' order by external_id desc limit $2)`,
    [connectionId, crunched * (copies + 1) - people],
  );
}

/**
 * Writes a PagerDuty account of `people` users straight into the raw tables: two licenses, and
 * for four people in five a few incident actions over the last 120 days.
 */
async function generateAccount(database: Database, people: number): Promise<{ organizationId: string; connectionId: string }> {
  const tenant = await createTenant(database.db, 'Bench');
  await insertLicenses(database.db, tenant.connectionId, [
    { id: 'PLFULL', name: 'Full User', roleGroup: 'FullUser', currentValue: Math.ceil(people * 0.7), allocationsAvailable: Math.ceil(people * 0.05) },
    { id: 'PLSTAKE', name: 'Stakeholder', roleGroup: 'Stakeholder', currentValue: Math.ceil(people * 0.3), allocationsAvailable: null },
  ]);

  for (let start = 0; start < people; start += INSERT_BATCH) {
    const users: UserSeed[] = [];
    const entries: LogEntrySeed[] = [];
    for (let index = start; index < Math.min(people, start + INSERT_BATCH); index += 1) {
      const id = `PU${String(index).padStart(6, '0')}`;
      users.push({ id, name: `Person ${index}`, role: index % 10 === 0 ? 'admin' : 'user', licenseId: index % 10 < 7 ? 'PLFULL' : 'PLSTAKE' });
      if (index % 5 === 4) continue;
      for (let entry = 0; entry < LOG_ENTRIES_PER_ACTIVE_PERSON; entry += 1) {
        const daysAgo = (index * 7 + entry * 31) % 120;
        entries.push({ id: `LE${index}-${entry}`, type: 'acknowledge_log_entry', createdAt: new Date(AS_OF.getTime() - daysAgo * DAY_MS), agentId: id, channelType: 'web_ui' });
      }
    }
    await insertUsers(database.db, tenant.connectionId, users);
    await insertLogEntries(database.db, tenant.connectionId, entries);
  }
  return tenant;
}
