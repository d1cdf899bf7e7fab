/**
 * Runs every benchmark script in bench/ (sync, crunch, simulator, dashboard and start-up), each
 * in its own process with a time limit, prints a table and writes docs/benchmarks.md with the
 * command, the commit and the machine.
 *
 *   npm run bench [-- --only dashboard,startup] [--timeout-minutes 20] [--budget-minutes 90]
 *
 * A script reports figures by printing `BENCH {json}` lines with `benchmark` and `case` fields;
 * every other number it prints is kept verbatim in the page. The runner adds each script's wall
 * time and peak memory (max RSS of its largest process, from GNU time where installed).
 * Never part of `npm test`: the figures depend on the machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const BENCH_DIR = import.meta.dirname;
const ROOT = join(BENCH_DIR, '..');
const OUTPUT_PAGE = join(ROOT, 'docs/benchmarks.md');
const GNU_TIME = '/usr/bin/time';
/** Order of the page's sections; scripts of other prefixes follow in name order. */
const PREFIX_ORDER = ['sync-', 'crunch-', 'simulator-', 'dashboard-', 'startup-'];
const TIME_MARKER = 'SEATWISE_BENCH_TIME';
/** Time a script gets to exit after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 10_000;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'timeout-minutes': { type: 'string', default: '20' },
    'budget-minutes': { type: 'string', default: '90' },
  },
});
const timeoutMs = parseMinutes('--timeout-minutes', values['timeout-minutes']);
const budgetMs = parseMinutes('--budget-minutes', values['budget-minutes']);
const filters = values.only?.split(',').map((filter) => filter.trim()).filter(Boolean) ?? [];

interface ScriptResult {
  script: string;
  status: 'passed' | 'failed' | 'timed out' | 'not run (budget spent)';
  wallSeconds: number | null;
  maxRssMegabytes: number | null;
  rows: Array<Record<string, unknown>>;
  output: string[];
}

const scripts = benchmarkScripts().filter((script) => filters.length === 0 || filters.some((filter) => script.includes(filter)));
if (scripts.length === 0) {
  console.error(`No benchmark script in bench/ matches --only ${values.only ?? ''}; the scripts are: ${benchmarkScripts().join(', ')}`);
  process.exit(64);
}

const startedMs = Date.now();
const loadAtStart = loadavg()[0] ?? 0;
const results: ScriptResult[] = [];
for (const script of scripts) {
  const remainingMs = budgetMs - (Date.now() - startedMs);
  if (remainingMs <= 0) {
    results.push({ script, status: 'not run (budget spent)', wallSeconds: null, maxRssMegabytes: null, rows: [], output: [] });
    continue;
  }
  console.error(`Running bench/${script} (limit ${Math.round(Math.min(timeoutMs, remainingMs) / 60_000)} min)`);
  results.push(await runScript(script, Math.min(timeoutMs, remainingMs)));
}

const table = formatTable(results);
console.log(table);
writeFileSync(OUTPUT_PAGE, formatPage(results, table));
console.error(`Wrote ${OUTPUT_PAGE}`);
process.exitCode = results.every((result) => result.status === 'passed') ? 0 : 1;

function parseMinutes(option: string, value: string): number {
  const minutes = Number(value);
  if (!Number.isFinite(minutes) || minutes <= 0) {
    console.error(`${option} must be a positive number of minutes, got "${value}"`);
    process.exit(64);
  }
  return minutes * 60_000;
}

/** The benchmark scripts in bench/, without this runner and without hidden files. */
function benchmarkScripts(): string[] {
  const rank = (name: string): number => {
    const index = PREFIX_ORDER.findIndex((prefix) => name.startsWith(prefix));
    return index === -1 ? PREFIX_ORDER.length : index;
  };
  return readdirSync(BENCH_DIR)
    .filter((name) => name.endsWith('.ts') && !name.startsWith('.') && name !== basename(import.meta.filename))
    .sort((left, right) => rank(left) - rank(right) || (left < right ? -1 : left > right ? 1 : 0));
}

/** Runs one script under GNU time in its own process group, so a timeout stops its children too. */
async function runScript(script: string, limitMs: number): Promise<ScriptResult> {
  const nodeArgs = ['--import', 'tsx', join(BENCH_DIR, script)];
  const hasGnuTime = existsSync(GNU_TIME);
  const command = hasGnuTime ? GNU_TIME : process.execPath;
  const args = hasGnuTime ? ['-f', `${TIME_MARKER} %e %M`, process.execPath, ...nodeArgs] : nodeArgs;
  const spawnedMs = Date.now();
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  const rows: Array<Record<string, unknown>> = [];
  const output: string[] = [];
  let wallSeconds: number | null = null;
  let maxRssMegabytes: number | null = null;
  const onLine = (line: string, isError: boolean) => {
    if (line.startsWith(`${TIME_MARKER} `)) {
      const [, elapsed, kilobytes] = line.split(' ');
      wallSeconds = Number(elapsed);
      maxRssMegabytes = Math.round(Number(kilobytes) / 1024);
      return;
    }
    if (line.startsWith('BENCH ')) {
      try {
        rows.push(JSON.parse(line.slice('BENCH '.length)) as Record<string, unknown>);
        return;
      } catch {
        // Kept verbatim below when it is not JSON.
      }
    }
    output.push(line);
    (isError ? process.stderr : process.stdout).write(`  ${line}\n`);
  };
  createInterface({ input: child.stdout }).on('line', (line) => onLine(line, false));
  createInterface({ input: child.stderr }).on('line', (line) => onLine(line, true));

  let isTimedOut = false;
  const stopGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group already exited.
    }
  };
  const timer = setTimeout(() => {
    isTimedOut = true;
    stopGroup('SIGTERM');
    setTimeout(() => stopGroup('SIGKILL'), KILL_GRACE_MS).unref();
  }, limitMs);
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);

  wallSeconds ??= (Date.now() - spawnedMs) / 1000;
  const status = isTimedOut ? 'timed out' : exitCode === 0 ? 'passed' : 'failed';
  return { script, status, wallSeconds, maxRssMegabytes, rows, output };
}

function formatTable(results: ScriptResult[]): string {
  const lines = ['| script | benchmark | case | figures |', '|---|---|---|---|'];
  for (const result of results) {
    const summary = `${result.status}; ${result.wallSeconds === null ? 'no' : `${result.wallSeconds.toFixed(1)} s`} wall time; max RSS ${result.maxRssMegabytes === null ? 'not measured' : `${result.maxRssMegabytes} MB`}`;
    lines.push(`| ${result.script} | (whole script) | | ${summary} |`);
    for (const row of result.rows) {
      const figures = Object.entries(row)
        .filter(([name]) => name !== 'benchmark' && name !== 'case')
        .map(([name, value]) => `${name} ${String(value)}`)
        .join(', ');
      lines.push(`| ${result.script} | ${String(row.benchmark ?? '')} | ${String(row.case ?? '')} | ${figures} |`);
    }
  }
  return lines.join('\n');
}

function formatPage(results: ScriptResult[], table: string): string {
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const sections = results.map((result) =>
    [`### bench/${result.script}`, '', `Status: ${result.status}.`, '', '```text', ...(result.output.length > 0 ? result.output : ['(no other output)']), '```'].join('\n'),
  );
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); rerun it to refresh this page. Every figure below was',
    'measured in the run described here; figures from other machines or runs are not comparable.',
    '',
    '## Run',
    '',
    `- Command: \`${command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Commit: ${commitDescription()}`,
    `- Machine: ${machineDescription()}`,
    `- Load average over 1 minute: ${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (a load above the CPU count means other processes competed for the CPUs)`,
    '',
    '## Results',
    '',
    'Wall time and max RSS come from GNU time for the whole script (the largest process it started).',
    'Figures per case are the script\'s own; each script\'s header comment says what it measures.',
    '',
    table,
    '',
    '## Script output',
    '',
    ...sections.flatMap((section) => [section, '']),
  ].join('\n');
}

function commitDescription(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const isDirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return isDirty ? `${commit} with uncommitted changes` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function machineDescription(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memoryGigabytes = (totalmem() / 1024 ** 3).toFixed(1);
  return `${availableParallelism()} CPUs (nproc), ${model}, ${memoryGigabytes} GiB memory, Node ${process.version}, ${platform()} ${release()}`;
}
