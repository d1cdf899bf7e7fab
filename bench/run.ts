/**
 * Runs every benchmark script in bench/ (sync, crunch, dashboard API, start-up and the simulator),
 * each in its own process with a time limit. Prints a table per benchmark with each target met or
 * missed, and writes docs/benchmarks.md with the command, the commit, the machine and the load.
 *
 *   npm run bench [-- --only crunch,dashboard] [--quick] [--timeout-minutes 20] [--budget-minutes 60]
 *
 * `--quick` passes `--quick` to every script, which then runs its smallest sizes: a smoke run of
 * the harness, not a measurement. A `## Notes` section at the end of the page is hand-written, and
 * each run keeps it. Never part of `npm test`, because the figures depend on the machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractNotes, formatBenchmarkTables, formatPage, formatScriptTable } from './lib/report.ts';
import { listScripts, runSuite } from './lib/runner.ts';

const BENCH_DIR = import.meta.dirname;
const ROOT = join(BENCH_DIR, '..');
const DEFAULT_PAGE = join(ROOT, 'docs/benchmarks.md');
/** Exit code for invalid command-line input, as in sysexits.h. */
const EXIT_USAGE = 64;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'timeout-minutes': { type: 'string', default: '20' },
    'budget-minutes': { type: 'string', default: '60' },
    output: { type: 'string', default: DEFAULT_PAGE },
  },
});
const timeoutMs = parseMinutes('--timeout-minutes', values['timeout-minutes']);
const budgetMs = parseMinutes('--budget-minutes', values['budget-minutes']);
const filters = values.only?.split(',').map((filter) => filter.trim()).filter(Boolean) ?? [];

const allScripts = listScripts(BENCH_DIR);
const scripts = allScripts.filter((script) => filters.length === 0 || filters.some((filter) => script.includes(filter)));
if (scripts.length === 0) {
  console.error(`No benchmark script in bench/ matches --only "${values.only ?? ''}". The scripts are: ${allScripts.join(', ')}.`);
  process.exit(EXIT_USAGE);
}

const loadAtStart = loadavg()[0] ?? 0;
const results = await runSuite({
  benchDir: BENCH_DIR,
  cwd: ROOT,
  scripts,
  scriptArgs: values.quick ? ['--quick'] : [],
  timeoutMs,
  budgetMs,
  onStart: (script, limitMs) => console.error(`Running bench/${script}${values.quick ? ' --quick' : ''} (limit ${Math.round(limitMs / 1000)} s)`),
  onOutput: (_script, line, isError) => (isError ? process.stderr : process.stdout).write(`  ${line}\n`),
});

const rows = results.flatMap((result) => result.rows);
console.log(`\n${formatScriptTable(results)}\n\n${formatBenchmarkTables(rows)}`);
const page = formatPage(
  {
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    date: new Date().toISOString(),
    commit: describeCommit(),
    machine: describeMachine(),
    loadAtStart,
    loadAtEnd: loadavg()[0] ?? 0,
  },
  results,
  existsSync(values.output) ? extractNotes(readFileSync(values.output, 'utf8')) : null,
);
writeFileSync(values.output, page);
console.error(`Wrote ${values.output}`);
process.exitCode = results.every((result) => result.status === 'passed') ? 0 : 1;

function parseMinutes(option: string, value: string): number {
  const minutes = Number(value);
  if (!Number.isFinite(minutes) || minutes <= 0) {
    console.error(`${option} must be a positive number of minutes, got "${value}".`);
    process.exit(EXIT_USAGE);
  }
  return minutes * 60_000;
}

function describeCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const isDirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return isDirty ? `${commit} with uncommitted changes` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function describeMachine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memoryGigabytes = (totalmem() / 1024 ** 3).toFixed(1);
  return `${availableParallelism()} CPUs (nproc), ${model}, ${memoryGigabytes} GiB memory, Node ${process.version}, ${platform()} ${release()}`;
}
