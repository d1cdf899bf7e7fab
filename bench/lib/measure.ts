/** Helpers the benchmark scripts share: child processes per case, memory, percentiles and rows. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { formatRowLine, type BenchRow, type Target } from './report.ts';

/** The local PostgreSQL the suite uses unless BENCH_DATABASE_URL or TEST_DATABASE_URL names another. */
const DEFAULT_DATABASE_URL = 'postgres://seatwise_ci:seatwise_ci@127.0.0.1:5432/seatwise_ci';

/** Returns the URL of a PostgreSQL role that may create scratch databases. */
export function benchDatabaseUrl(): string {
  return process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

/** Drops a database made by `createScratchDatabase`, given the admin URL and the scratch database's URL. */
export async function dropScratchDatabase(adminUrl: string, scratchUrl: string): Promise<void> {
  const name = new URL(scratchUrl).pathname.slice(1);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/** Prints one row for bench/run.ts. */
export function printRow(benchmark: string, caseName: string, figures: BenchRow['figures'], targets: Target[] = []): void {
  console.log(formatRowLine(benchmark, caseName, figures, targets));
}

/**
 * Runs `script` with `args` in a new Node.js process, relays its output (each line through
 * `relay` when given) and raises when it fails. Each case runs this way so that the process's
 * maximum RSS belongs to that case alone.
 */
export async function runCaseProcess(script: string, args: string[], relay: (line: string) => string = (line) => line): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout }).on('line', (line) => console.log(relay(line)));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with code ${code}`);
}

/** Maximum resident set size of this process so far, in megabytes. */
export function ownMaxRssMegabytes(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * Peak resident memory of a live process so far (VmHWM in /proc/PID/status), in megabytes; null
 * where /proc is missing or the process is gone. Works for other users' processes, such as a
 * PostgreSQL backend, because /proc/PID/status is world-readable on Linux.
 */
export function peakRssMegabytesOf(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kilobytes = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kilobytes === undefined ? null : Math.round(Number(kilobytes) / 1024);
  } catch {
    return null;
  }
}

/** Lists the process and all its descendants that are alive now, from /proc (Linux only). */
export function processTree(rootPid: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [rootPid];
  }
  for (const entry of entries) {
    try {
      // The command name in field 2 is in brackets and may contain spaces, so parse after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parentPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const children = parents.get(parentPid) ?? [];
      children.push(Number(entry));
      parents.set(parentPid, children);
    } catch {
      // The process exited while the list was read.
    }
  }
  const tree: number[] = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(parents.get(pid) ?? []));
  }
  return tree;
}

/**
 * Samples the peak RSS of every process in a tree until stopped, and returns the largest: the
 * figure for the biggest single process, which is what runs out of memory first.
 */
export function sampleLargestProcess(rootPid: number, intervalMs = 100): { stop(): number | null } {
  const peaks = new Map<number, number>();
  const sample = () => {
    for (const pid of processTree(rootPid)) {
      const peak = peakRssMegabytesOf(pid);
      if (peak !== null) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, peak));
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peaks.size === 0 ? null : Math.max(...peaks.values());
    },
  };
}

/** Nearest-rank percentile of values sorted in ascending order. */
export function percentile(sorted: number[], share: number): number {
  const rank = Math.max(1, Math.ceil(share * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Parses a positive integer option or exits with a message that names the option and the value. */
export function positiveInteger(option: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${option} must be a positive integer, got "${raw}".`);
    process.exit(64);
  }
  return value;
}

/** Parses a comma-separated list of positive integers, such as `--people 500,5000`. */
export function positiveIntegerList(option: string, raw: string): number[] {
  return raw.split(',').map((item) => positiveInteger(option, item.trim()));
}
