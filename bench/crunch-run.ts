/**
 * Measures the crunch on a generated account: time and peak resident memory of this process for
 * `crunchConnection` over N log entries and M people, on PGlite and on PostgreSQL.
 *
 *   npx tsx bench/crunch-run.ts [--target pglite|postgres|both] [--log-entries 2000000] [--people 5000]
 *                               [--database-url postgres://postgres@127.0.0.1:5432/postgres]
 *
 * PostgreSQL runs in its own process, so the memory figure covers only the Node.js side there.
 * PGlite runs inside this process with its files in a temporary folder, so its figure includes the
 * database's memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { crunchConnection } from '../src/analytics/crunch.ts';
import { createTenant } from '../src/analytics/testing.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { createScratchDatabase } from '../test/support/databases.ts';

const MEMORY_SAMPLE_INTERVAL_MS = 25;
const HISTORY_DAYS = 365;
const AS_OF = new Date('2026-06-01T00:00:00Z');

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'both' },
    'log-entries': { type: 'string', default: '2000000' },
    people: { type: 'string', default: '5000' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});

const logEntries = Number.parseInt(values['log-entries'], 10);
const people = Number.parseInt(values.people, 10);
if (!Number.isInteger(logEntries) || logEntries < 1 || !Number.isInteger(people) || people < 1) {
  throw new Error('--log-entries and --people must be positive integers');
}
if (!['pglite', 'postgres', 'both'].includes(values.target)) throw new Error(`--target must be pglite, postgres or both; got ${values.target}`);

/** Fills the raw tables with a deterministic account: people, two licenses, log entries, shifts, notifications. */
async function generateAccount(database: Database, connectionId: string): Promise<void> {
  const { db } = database;

  await sql`select setseed(0.42)`.execute(db);
  await sql`
    insert into pd_licenses (connection_id, id, name, role_group, current_value, allocations_available, valid_roles, raw)
    values
      (${connectionId}::uuid, 'LFULL', 'Business (Full User)', 'FullUser', ${Math.ceil(people * 0.8)}, 100, '[]', '{}'),
      (${connectionId}::uuid, 'LSTAKE', 'Business (Stakeholder)', 'Stakeholder', ${Math.floor(people * 0.2)}, null, '[]', '{}')
  `.execute(db);
  await sql`
    insert into pd_users (connection_id, id, name, email, role, invitation_sent, raw, deleted_at)
    select ${connectionId}::uuid, 'P' || n, 'Person ' || n, 'person' || n || '@example.com',
      case when n = 1 then 'owner' when n % 50 = 0 then 'admin' when n % 5 = 0 then 'read_only_user' else 'user' end,
      n % 97 = 0, '{}', case when n % 211 = 0 then timestamptz '2026-03-01' else null end
    from generate_series(1, ${people}) n
  `.execute(db);
  await sql`
    insert into pd_license_allocations (connection_id, user_id, license_id)
    select ${connectionId}::uuid, 'P' || n, case when n % 5 = 0 then 'LSTAKE' else 'LFULL' end
    from generate_series(1, ${people}) n
  `.execute(db);
  await sql`
    insert into pd_log_entries (connection_id, id, type, created_at, agent_type, agent_id, channel_type, incident_id, user_id)
    select ${connectionId}::uuid, 'L' || n,
      (array['trigger_log_entry', 'notify_log_entry', 'acknowledge_log_entry', 'resolve_log_entry', 'annotate_log_entry',
             'assign_log_entry', 'escalate_log_entry', 'snooze_log_entry'])[1 + (n % 8)],
      ${AS_OF}::timestamptz - (random() * ${HISTORY_DAYS} * interval '1 day'),
      case when n % 8 in (0, 1) then 'service_reference' else 'user_reference' end,
      case when n % 8 in (0, 1) then 'PSVC' || (n % 40) else 'P' || (1 + floor(power(random(), 2) * ${people})::int) end,
      (array['website', 'mobile', 'email', 'slack', 'sms', null])[1 + (n % 6)],
      'I' || (n / 6),
      case when n % 8 = 1 then 'P' || (1 + (n % ${people})) else null end
    from generate_series(1, ${logEntries}) n
  `.execute(db);
  await sql`
    insert into pd_oncalls (connection_id, shift_key, user_id, escalation_policy_id, escalation_level, start_at, end_at)
    select ${connectionId}::uuid, 'S' || n, 'P' || (1 + (n % ${people})), 'EP' || (n % 100), 1 + (n % 2),
      ${AS_OF}::timestamptz + ((n % 180) - 120) * interval '1 day', ${AS_OF}::timestamptz + ((n % 180) - 113) * interval '1 day'
    from generate_series(1, ${people * 4}) n
  `.execute(db);
  await sql`
    insert into pd_notifications (connection_id, id, type, started_at, user_id, raw)
    select ${connectionId}::uuid, 'N' || n,
      (array['push_notification', 'sms_notification', 'email_notification', 'phone_notification'])[1 + (n % 4)],
      ${AS_OF}::timestamptz - (random() * 89 * interval '1 day'), 'P' || (1 + (n % ${people})), '{}'
    from generate_series(1, ${Math.floor(logEntries / 10)}) n
  `.execute(db);
  await sql`analyze`.execute(db);
}

interface Measurement {
  target: string;
  generateSeconds: number;
  /** The first crunch of the account: every fact is new. */
  crunchSeconds: number;
  peakRssMiB: number;
  rssBeforeMiB: number;
  /** A second full crunch of unchanged data, as after a sync that found nothing new. */
  repeatedCrunchSeconds: number;
  /** A crunch whose `changedSince` is one day before `asOf`, as after an hourly incremental sync. */
  incrementalCrunchSeconds: number;
}

async function measure(target: 'pglite' | 'postgres'): Promise<Measurement> {
  // PGlite keeps its files in a temporary data folder, as the product does in its data folder.
  const pgliteDir = target === 'pglite' ? mkdtempSync(join(tmpdir(), 'seatwise-bench-')) : null;
  const database =
    pgliteDir !== null
      ? await openDatabase({ kind: 'pglite', dataDir: pgliteDir })
      : await openDatabase({ kind: 'postgres', url: await createScratchDatabase(values['database-url']) });
  try {
    await migrate(database);
    const tenant = await createTenant(database.db, 'Bench');

    const generateStart = performance.now();
    await generateAccount(database, tenant.connectionId);
    const generateSeconds = (performance.now() - generateStart) / 1000;

    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, MEMORY_SAMPLE_INTERVAL_MS);
    const crunchStart = performance.now();
    try {
      await crunchConnection(database.db, tenant.connectionId, AS_OF);
    } finally {
      clearInterval(sampler);
    }
    const crunchSeconds = (performance.now() - crunchStart) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const repeatedStart = performance.now();
    await crunchConnection(database.db, tenant.connectionId, AS_OF);
    const repeatedCrunchSeconds = (performance.now() - repeatedStart) / 1000;

    const incrementalStart = performance.now();
    await crunchConnection(database.db, tenant.connectionId, AS_OF, { changedSince: new Date(AS_OF.getTime() - 86_400_000) });
    const incrementalCrunchSeconds = (performance.now() - incrementalStart) / 1000;

    return {
      target,
      generateSeconds: round(generateSeconds),
      crunchSeconds: round(crunchSeconds),
      peakRssMiB: Math.round(peakRss / 1_048_576),
      rssBeforeMiB: Math.round(rssBefore / 1_048_576),
      repeatedCrunchSeconds: round(repeatedCrunchSeconds),
      incrementalCrunchSeconds: round(incrementalCrunchSeconds),
    };
  } finally {
    await database.close();
    if (pgliteDir !== null) rmSync(pgliteDir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

const targets: Array<'pglite' | 'postgres'> = values.target === 'both' ? ['postgres', 'pglite'] : [values.target as 'pglite' | 'postgres'];
for (const target of targets) {
  const result = await measure(target);
  // bench/run.ts collects `BENCH {json}` lines into docs/benchmarks.md.
  console.log(`BENCH ${JSON.stringify({ benchmark: 'crunch', case: `${target}, ${logEntries} log entries, ${people} people`, historyDays: HISTORY_DAYS, ...result })}`);
}
