/**
 * Measures the start-up of `npm start` (the front-end build, then `seatwise start` with the
 * embedded database, migrations, the demo simulator and the web server) from spawning to the log
 * line "Seatwise is ready", on an empty data folder and on the same folder again. With `--server-only`
 * it measures `seatwise start` alone, without the front-end build. The memory figure is
 * the peak RSS of the largest process in the started tree (npm, Vite and Seatwise each run as a
 * process), sampled from /proc until ready (Linux only).
 *
 *   npx tsx bench/startup-time.ts [--quick] [--runs 3] [--server-only]
 *
 * `--quick` runs each case once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { positiveInteger, printRow, round, sampleLargestProcess } from './lib/measure.ts';

const ROOT = join(import.meta.dirname, '..');
const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, 'server-only': { type: 'boolean', default: false } } });
const runs = positiveInteger('--runs', values.runs ?? (values.quick ? '1' : '3'));

const commands: Array<{ label: string; argv: string[] }> = values['server-only']
  ? [{ label: 'seatwise start', argv: [process.execPath, join(ROOT, 'bin/seatwise.js'), 'start'] }]
  : [{ label: 'npm start', argv: ['npm', 'start'] }];

for (const command of commands) {
  const emptyFolder: Sample[] = [];
  const existingFolder: Sample[] = [];
  for (let run = 0; run < runs; run += 1) {
    const dataDir = mkdtempSync(join(tmpdir(), 'seatwise-bench-start-'));
    try {
      emptyFolder.push(await measureStart(command.argv, dataDir));
      existingFolder.push(await measureStart(command.argv, dataDir));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  report(`${command.label}, empty data folder`, emptyFolder);
  report(`${command.label}, existing data folder`, existingFolder);
}

interface Sample {
  seconds: number;
  largestProcessMegabytes: number | null;
}

/** Starts the command in its own process group, waits for readiness, then stops the whole group. */
async function measureStart(argv: string[], dataDir: string): Promise<Sample> {
  const [file, ...args] = argv;
  const startedMs = performance.now();
  const child = spawn(file!, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), PORT: '0', SIMULATOR_PORT: '0', LOG_LEVEL: 'info', SEATWISE_DATA_DIR: dataDir },
  });
  const sampler = sampleLargestProcess(child.pid!);
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} did not log readiness within ${READY_TIMEOUT_MS / 1000} s:\n${output.join('\n')}`)), READY_TIMEOUT_MS);
    const onLine = (line: string) => {
      output.push(line);
      if (!line.includes('Seatwise is ready')) return;
      clearTimeout(timer);
      resolve(performance.now());
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited with code ${code} before it was ready:\n${output.join('\n')}`));
    });
  }).finally(() => stopGroup(child.pid!, exited));
  const largestProcessMegabytes = sampler.stop();
  return { seconds: (readyMs - startedMs) / 1000, largestProcessMegabytes };
}

async function stopGroup(pid: number, exited: Promise<number | null>): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // The group already exited.
    }
  };
  signal('SIGTERM');
  const killer = setTimeout(() => signal('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(killer);
}

function report(label: string, samples: Sample[]): void {
  const seconds = samples.map((sample) => sample.seconds).sort((left, right) => left - right);
  const peaks = samples.map((sample) => sample.largestProcessMegabytes).filter((peak) => peak !== null);
  const figures = {
    runs: samples.length,
    medianSeconds: round(seconds[Math.floor((seconds.length - 1) / 2)] ?? Number.NaN),
    minSeconds: round(seconds[0] ?? Number.NaN),
    maxSeconds: round(seconds.at(-1) ?? Number.NaN),
    largestProcessMegabytes: peaks.length > 0 ? Math.max(...peaks) : null,
  };
  printRow('startup', label, figures);
  console.log(`${label}: ready in ${figures.medianSeconds} s (median of ${samples.length}, ${figures.minSeconds} to ${figures.maxSeconds} s), largest process ${figures.largestProcessMegabytes ?? 'not measured'} MB`);
}
