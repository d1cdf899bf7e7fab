/**
 * Measures the crunch (`crunchConnection`) on PostgreSQL and on PGlite at 100,000, 1,000,000 and
 * 2,000,000 log entries of 5,000 people, with the peak memory of each case. It times the first
 * crunch (every fact new), a repeated one (nothing changed) and a one-day incremental one (as
 * after an hourly sync).
 *
 *   npx tsx bench/crunch-run.ts [--quick] [--target pglite|postgres|both] [--log-entries 2000000,1000000,100000] [--people 5000] [--runs N]
 *
 * The case with a time target (2,000,000 log entries) runs three times by default, each in a new
 * process on a newly generated account, because a 2-core virtual machine's speed varies by a
 * third from one minute to the next. Each run prints its own row, and a last row gives the
 * median of the times and the maximum of the memory figures, which the targets are checked on.
 *
 * Each target and size runs in its own process, largest size first, so a time limit cuts the
 * smallest cases. PGlite runs inside that process with its files in
 * a temporary folder, so the process's max RSS includes the database. PostgreSQL runs as a server
 * (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local seatwise_ci role) with a scratch
 * database per case, dropped afterwards. Its figure is the peak RSS of the largest server backend
 * the case used, which counts the shared buffers that backend touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crunchConnection } from '../src/analytics/crunch.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { createScratchDatabase } from '../test/support/databases.ts';
import { AS_OF, generateAccount, HISTORY_DAYS } from './lib/account.ts';
import { benchDatabaseUrl, dropScratchDatabase, ownMaxRssMegabytes, peakRssMegabytesOf, positiveInteger, positiveIntegerList, printRow, round, runCaseProcess } from './lib/measure.ts';
import { formatRowLine, parseRow, type BenchRow, type Target } from './lib/report.ts';

const DAY_MS = 86_400_000;
/** Limits for the largest size: seconds of the first crunch per target, and memory of any case. */
const TARGET_CRUNCH_SECONDS = { postgres: 20, pglite: 60 } as const;
const TARGET_LOG_ENTRIES = 2_000_000;
/** Runs of the case with a time target, by default. */
const TARGET_CASE_RUNS = 3;
/** 1 GiB, in the MiB the memory figures use. */
const TARGET_MEMORY_MEGABYTES = 1024;

type DatabaseKind = 'postgres' | 'pglite';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    target: { type: 'string', default: 'both' },
    'log-entries': { type: 'string' },
    people: { type: 'string' },
    case: { type: 'string' },
    runs: { type: 'string' },
  },
});

if (values.case !== undefined) {
  const [kind, logEntries, people] = values.case.split(':');
  await measureCase(kind as DatabaseKind, Number(logEntries), Number(people));
} else {
  const kinds = parseTargets(values.target);
  const sizes = positiveIntegerList('--log-entries', values['log-entries'] ?? (values.quick ? '20000' : '2000000,1000000,100000'));
  const people = positiveInteger('--people', values.people ?? (values.quick ? '200' : '5000'));
  const runs = values.runs === undefined ? null : positiveInteger('--runs', values.runs);
  for (const size of sizes) {
    for (const kind of kinds) {
      const caseRuns = runs ?? (size === TARGET_LOG_ENTRIES && !values.quick ? TARGET_CASE_RUNS : 1);
      await runRepeatedCase(['--case', `${kind}:${size}:${people}`], caseRuns);
    }
  }
}

/**
 * Runs one case `runs` times in new processes. With more than one run, each run's row loses its
 * targets and names its run, and a summary row with the medians of the times carries them.
 */
async function runRepeatedCase(args: string[], runs: number): Promise<void> {
  if (runs === 1) {
    await runCaseProcess(import.meta.filename, args);
    return;
  }
  const rows: BenchRow[] = [];
  for (let run = 1; run <= runs; run += 1) {
    await runCaseProcess(import.meta.filename, args, (line) => {
      const row = parseRow(line);
      if (row === null) return line;
      rows.push(row);
      return formatRowLine(row.benchmark, `${row.case}, run ${run} of ${runs}`, row.figures);
    });
  }
  const first = rows[0];
  if (first === undefined) throw new Error(`${args.join(' ')} printed no result row in ${runs} runs.`);
  const figures: BenchRow['figures'] = {};
  for (const key of Object.keys(first.figures)) {
    const values = rows.map((row) => row.figures[key]).filter((value): value is number => typeof value === 'number');
    if (values.length !== rows.length) figures[key] = first.figures[key] ?? null;
    else if (key.endsWith('Seconds')) figures[key] = median(values);
    else figures[key] = Math.max(...values);
  }
  printRow(first.benchmark, `${first.case}, median of ${runs} runs`, { ...figures, runs }, first.targets);
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2);
}

function parseTargets(raw: string): DatabaseKind[] {
  switch (raw) {
    case 'both':
      return ['postgres', 'pglite'];
    case 'postgres':
    case 'pglite':
      return [raw];
    default:
      console.error(`--target must be pglite, postgres or both, got "${raw}".`);
      process.exit(64);
  }
}

async function measureCase(kind: DatabaseKind, logEntries: number, people: number): Promise<void> {
  const opened = await openScratch(kind);
  try {
    await migrate(opened.database);

    const generateStartedMs = performance.now();
    const account = await generateAccount(opened.database, { people, logEntries });
    const generateSeconds = (performance.now() - generateStartedMs) / 1000;

    const stepMilliseconds: Record<string, number> = {};
    const crunchSeconds = await timeSeconds(() =>
      crunchConnection(opened.database.db, account.connectionId, AS_OF, { onStepFinished: (step, milliseconds) => (stepMilliseconds[step] = Math.round(milliseconds)) }),
    );
    const crunchedPeople = await countPeople(opened.database, account.connectionId);
    const repeatedCrunchSeconds = await timeSeconds(() => crunchConnection(opened.database.db, account.connectionId, AS_OF));
    const incrementalCrunchSeconds = await timeSeconds(() =>
      crunchConnection(opened.database.db, account.connectionId, AS_OF, { changedSince: new Date(AS_OF.getTime() - DAY_MS) }),
    );
    const backendPeak = await opened.backendPeakMegabytes();
    const { rows: versions } = await opened.database.query<{ server_version: string }>('show server_version');
    const nodeMaxRss = ownMaxRssMegabytes();
    const largest = Math.max(nodeMaxRss, backendPeak ?? 0);

    const targets: Target[] = [{ figure: 'largestProcessMegabytes', atMost: TARGET_MEMORY_MEGABYTES }];
    if (logEntries === TARGET_LOG_ENTRIES) targets.unshift({ figure: 'crunchSeconds', atMost: TARGET_CRUNCH_SECONDS[kind] });
    printRow(
      'crunch',
      `${kind === 'postgres' ? 'PostgreSQL' : 'PGlite'}, ${logEntries.toLocaleString('en-US')} log entries, ${people.toLocaleString('en-US')} people`,
      {
        logEntries: account.logEntries,
        people: account.people,
        crunchedPeople,
        generateSeconds: round(generateSeconds),
        crunchSeconds: round(crunchSeconds),
        repeatedCrunchSeconds: round(repeatedCrunchSeconds),
        incrementalCrunchSeconds: round(incrementalCrunchSeconds),
        nodeMaxRssMegabytes: nodeMaxRss,
        postgresBackendPeakMegabytes: backendPeak,
        largestProcessMegabytes: largest,
      },
      targets,
    );
    console.log(
      `${kind} (server version ${versions[0]?.server_version ?? 'unknown'}): ${account.logEntries} log entries, ${account.people} people (${crunchedPeople} crunched), history ${HISTORY_DAYS} days: generated in ${round(generateSeconds)} s; crunch ${round(crunchSeconds)} s, repeated ${round(repeatedCrunchSeconds)} s, one-day incremental ${round(incrementalCrunchSeconds)} s; largest process ${largest} MB`,
    );
    console.log(`${kind} first crunch by step (ms): ${Object.entries(stepMilliseconds).map(([step, milliseconds]) => `${step} ${milliseconds}`).join(', ')}`);
    if (crunchedPeople !== account.people) throw new Error(`The crunch wrote ${crunchedPeople} people for an account of ${account.people}; every person must be crunched.`);
  } finally {
    await opened.close();
  }
}

async function timeSeconds(action: () => Promise<unknown>): Promise<number> {
  const startedMs = performance.now();
  await action();
  return (performance.now() - startedMs) / 1000;
}

async function countPeople(database: Database, connectionId: string): Promise<number> {
  const { rows } = await database.query<{ count: number }>('select count(*)::int as count from people where connection_id = $1', [connectionId]);
  return rows[0]?.count ?? 0;
}

interface ScratchDatabase {
  database: Database;
  /** Peak RSS of the largest PostgreSQL backend serving this database; null on PGlite. */
  backendPeakMegabytes(): Promise<number | null>;
  close(): Promise<void>;
}

async function openScratch(kind: DatabaseKind): Promise<ScratchDatabase> {
  if (kind === 'pglite') {
    // The product keeps PGlite's files in a data folder, so the benchmark does too.
    const dataDir = mkdtempSync(join(tmpdir(), 'seatwise-bench-crunch-'));
    const database = await openDatabase({ kind: 'pglite', dataDir });
    return {
      database,
      backendPeakMegabytes: async () => null,
      async close() {
        await database.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }

  const adminUrl = benchDatabaseUrl();
  const url = await createScratchDatabase(adminUrl);
  const database = await openDatabase({ kind: 'postgres', url });
  return {
    database,
    async backendPeakMegabytes() {
      const { rows } = await database.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
      const peaks = rows.map((row) => peakRssMegabytesOf(row.pid)).filter((peak) => peak !== null);
      return peaks.length === 0 ? null : Math.max(...peaks);
    },
    async close() {
      await database.close();
      await dropScratchDatabase(adminUrl, url);
    },
  };
}
