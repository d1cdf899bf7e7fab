/**
 * Runs benchmark scripts, each in its own process group under GNU time, with a time limit, and
 * collects their `BENCH` rows, their other output and the machine's load around each one.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseRow, type BenchRow, type ScriptResult } from './report.ts';

const GNU_TIME = '/usr/bin/time';
const TIME_MARKER = 'SEATWISE_BENCH_TIME';
/** Time a script gets to exit after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 10_000;
/**
 * Order of the runs and of the page's sections: the scripts with targets first, so a spent budget
 * skips the others. Scripts of other prefixes follow in name order.
 */
const PREFIX_ORDER = ['crunch-', 'dashboard-', 'sync-', 'startup-', 'simulator-'];

export interface SuiteOptions {
  benchDir: string;
  /** The working directory of every script. */
  cwd: string;
  scripts: string[];
  /** Arguments passed to every script, such as `--quick`. */
  scriptArgs: string[];
  timeoutMs: number;
  budgetMs: number;
  /** Receives every line a script prints that is not a row, as it arrives. */
  onOutput?: (script: string, line: string, isError: boolean) => void;
  onStart?: (script: string, limitMs: number) => void;
}

/** Lists the benchmark scripts of a folder: `*.ts` files other than tests, hidden files and `run.ts`. */
export function listScripts(benchDir: string): string[] {
  const rank = (name: string): number => {
    const index = PREFIX_ORDER.findIndex((prefix) => name.startsWith(prefix));
    return index === -1 ? PREFIX_ORDER.length : index;
  };
  return readdirSync(benchDir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.startsWith('.') && name !== 'run.ts')
    .sort((left, right) => rank(left) - rank(right) || left.localeCompare(right, 'en'));
}

/** Runs the scripts one after another until the budget is spent; later scripts are marked not run. */
export async function runSuite(options: SuiteOptions): Promise<ScriptResult[]> {
  const startedMs = Date.now();
  const results: ScriptResult[] = [];
  for (const script of options.scripts) {
    const remainingMs = options.budgetMs - (Date.now() - startedMs);
    if (remainingMs <= 0) {
      results.push({ script, status: 'not run (budget spent)', wallSeconds: null, maxRssMegabytes: null, loadAtStart: null, loadAtEnd: null, rows: [], output: [] });
      continue;
    }
    const limitMs = Math.min(options.timeoutMs, remainingMs);
    options.onStart?.(script, limitMs);
    results.push(await runScript(options, script, limitMs));
  }
  return results;
}

/** Runs one script in its own process group, so a timeout stops its children too. */
export async function runScript(options: SuiteOptions, script: string, limitMs: number): Promise<ScriptResult> {
  const nodeArgs = ['--import', 'tsx', join(options.benchDir, script), ...options.scriptArgs];
  const hasGnuTime = existsSync(GNU_TIME);
  const command = hasGnuTime ? GNU_TIME : process.execPath;
  const args = hasGnuTime ? ['-f', `${TIME_MARKER} %e %M`, process.execPath, ...nodeArgs] : nodeArgs;
  const loadAtStart = loadavg()[0] ?? 0;
  const spawnedMs = Date.now();
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  const rows: BenchRow[] = [];
  const output: string[] = [];
  let wallSeconds: number | null = null;
  let maxRssMegabytes: number | null = null;
  let hasInvalidRow = false;
  const onLine = (line: string, isError: boolean) => {
    if (line.startsWith(`${TIME_MARKER} `)) {
      const [, elapsed, kilobytes] = line.split(' ');
      wallSeconds = Number(elapsed);
      maxRssMegabytes = Math.round(Number(kilobytes) / 1024);
      return;
    }
    try {
      const row = parseRow(line);
      if (row !== null) {
        rows.push(row);
        return;
      }
    } catch (error) {
      hasInvalidRow = true;
      line = `invalid row: ${(error as Error).message}`;
      isError = true;
    }
    output.push(line);
    options.onOutput?.(script, line, isError);
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
    output.push(`timed out after ${Math.round(limitMs / 1000)} s; stopped with SIGTERM`);
    stopGroup('SIGTERM');
    setTimeout(() => stopGroup('SIGKILL'), KILL_GRACE_MS).unref();
  }, limitMs);
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);

  wallSeconds ??= (Date.now() - spawnedMs) / 1000;
  let status: ScriptResult['status'] = exitCode === 0 && !hasInvalidRow ? 'passed' : 'failed';
  if (isTimedOut) status = 'timed out';
  return { script, status, wallSeconds, maxRssMegabytes, loadAtStart, loadAtEnd: loadavg()[0] ?? 0, rows, output };
}
