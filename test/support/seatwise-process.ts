import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const READY_TIMEOUT_MS = 90_000;

export interface SeatwiseProcess {
  /** The web app's URL; for `seatwise worker`, the URL of its health and metrics endpoints. */
  url: string;
  pid: number;
  /** Base URL of the built-in PagerDuty simulator, when it runs. */
  simulatorUrl: string | null;
  dataDir: string;
  /** Every log line the process wrote so far, parsed as JSON where possible. */
  logs: Array<Record<string, unknown>>;
  rawOutput: string[];
  /** Sends SIGTERM, waits for the exit (SIGKILL after 15 s) and returns the exit code. */
  stop(): Promise<number | null>;
  /** Sends SIGKILL, as a crash or an out-of-memory kill would, and returns once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `seatwise start` (or `serve` or `worker`) as a child process on free ports with a fresh
 * data folder, the way `npm start` runs it, and resolves once it logs that it is ready.
 */
export async function startSeatwiseProcess(env: Record<string, string> = {}, command = 'start'): Promise<SeatwiseProcess> {
  const dataDir = env.SEATWISE_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'seatwise-data-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/seatwise.js'), command], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      PORT: '0',
      SIMULATOR_PORT: '0',
      LOG_LEVEL: 'info',
      SEATWISE_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const logs: Array<Record<string, unknown>> = [];
  const rawOutput: string[] = [];
  let url: string | null = null;
  let simulatorUrl: string | null = null;

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Seatwise did not log readiness within ${READY_TIMEOUT_MS} ms:\n${rawOutput.join('\n')}`)), READY_TIMEOUT_MS);
    const onLine = (line: string) => {
      rawOutput.push(line);
      let entry: Record<string, unknown> | null = null;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (typeof entry.simulatorUrl === 'string') simulatorUrl = entry.simulatorUrl;
      if (command === 'worker' && String(entry.msg).startsWith('Seatwise worker is running')) {
        url = typeof entry.url === 'string' ? entry.url : '';
        clearTimeout(timer);
        resolve();
        return;
      }
      if (typeof entry.url === 'string' && String(entry.msg).startsWith('Seatwise is ready')) {
        url = entry.url;
        clearTimeout(timer);
        // The demo line follows the ready line at once; give it a moment to arrive.
        setTimeout(resolve, 200);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Seatwise exited with code ${code} before it was ready:\n${rawOutput.join('\n')}`));
    });
  });

  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  return {
    url: url!,
    pid: child.pid!,
    get simulatorUrl() {
      return simulatorUrl;
    },
    dataDir,
    logs,
    rawOutput,
    stop: () => stopChild(child),
    kill: () => killChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<number | null> {
  // A process ended by a signal has a null exit code and a signal code instead.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
