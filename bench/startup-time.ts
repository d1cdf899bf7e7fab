/**
 * Measures how long `seatwise start` (what `npm start` runs after building the front end) takes
 * from spawning the process to logging "Seatwise is ready", on an empty data folder and on the
 * same folder again, with the process's peak memory (VmHWM from /proc, Linux only) at that moment.
 * The figures cover the embedded database, migrations, the demo simulator and the web server;
 * they leave out `npm run build:web`, which `npm start` runs first.
 *
 *   npx tsx bench/startup-time.ts [--runs 3]
 *
 * Prints one `BENCH {json}` line per case for bench/run.ts and a readable line after it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSeatwiseProcess } from '../test/support/seatwise-process.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number.parseInt(values.runs, 10);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive integer, got "${values.runs}"`);
  process.exit(64);
}

const emptyFolder: Sample[] = [];
const existingFolder: Sample[] = [];
for (let run = 0; run < runs; run += 1) {
  const dataDir = mkdtempSync(join(tmpdir(), 'seatwise-bench-start-'));
  try {
    emptyFolder.push(await measureStart(dataDir));
    existingFolder.push(await measureStart(dataDir));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
report('empty data folder', emptyFolder);
report('existing data folder', existingFolder);

interface Sample {
  seconds: number;
  peakMegabytes: number | null;
}

async function measureStart(dataDir: string): Promise<Sample> {
  const spawnedMs = Date.now();
  const child = await startSeatwiseProcess({ SEATWISE_DATA_DIR: dataDir });
  const ready = child.logs.find((entry) => String(entry.msg).startsWith('Seatwise is ready'));
  const readyMs = typeof ready?.time === 'number' ? ready.time : Date.now();
  const peakMegabytes = peakMemoryMegabytes(child.pid);
  const exitCode = await child.stop();
  if (exitCode !== 0) throw new Error(`seatwise start exited with code ${exitCode} on SIGTERM:\n${child.rawOutput.join('\n')}`);
  return { seconds: (readyMs - spawnedMs) / 1000, peakMegabytes };
}

/** Peak resident memory of a live process so far, from /proc/PID/status; null where /proc is missing. */
function peakMemoryMegabytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kilobytes = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kilobytes === undefined ? null : Math.round(Number(kilobytes) / 1024);
  } catch {
    return null;
  }
}

function report(label: string, samples: Sample[]): void {
  const seconds = samples.map((sample) => sample.seconds).sort((left, right) => left - right);
  const peaks = samples.map((sample) => sample.peakMegabytes).filter((peak) => peak !== null);
  const result = {
    benchmark: 'startup',
    case: label,
    runs: samples.length,
    medianSeconds: round(seconds[Math.floor((seconds.length - 1) / 2)] ?? Number.NaN),
    minSeconds: round(seconds[0] ?? Number.NaN),
    maxSeconds: round(seconds.at(-1) ?? Number.NaN),
    maxRssMegabytes: peaks.length > 0 ? Math.max(...peaks) : null,
  };
  console.log(`BENCH ${JSON.stringify(result)}`);
  console.log(`${label}: ready in ${result.medianSeconds} s (median of ${samples.length}, ${result.minSeconds} to ${result.maxSeconds} s), peak RSS ${result.maxRssMegabytes ?? 'unknown'} MB`);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
