import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator/index.ts';
import { runReportCommand } from '../report/cli.ts';
import { runSyncCommand } from '../sync/cli.ts';
import { openDatabase } from './database.ts';

const HOLDER_SCRIPT = join(import.meta.dirname, '..', '..', 'test', 'support', 'data-folder-holder.ts');

/** Starts a process that opens the data folder and keeps it open until its standard input ends. */
async function startHolder(dataDir: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER_SCRIPT, dataDir], { stdio: 'pipe' });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('open')) resolve();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`The holder process exited with ${code} before it opened the folder: ${output}`)));
  });
  return child;
}

/** Returns a stream and a function that reads what was written to it. */
function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function stopHolder(child: ChildProcessWithoutNullStreams): Promise<void> {
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.stdin.end();
  await exited;
}

describe('data folder lock', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'seatwise-lock-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rejects a second process', async () => {
    const holder = await startHolder(dataDir);
    try {
      await expect(openDatabase({ kind: 'pglite', dataDir })).rejects.toThrow(`The data folder ${dataDir} is in use by another Seatwise process (pid ${holder.pid})`);
    } finally {
      await stopHolder(holder);
    }

    const database = await openDatabase({ kind: 'pglite', dataDir });
    await database.close();
  });

  it('report names the busy folder', async () => {
    const holder = await startHolder(dataDir);
    try {
      const out = capture();
      const err = capture();
      const exitCode = await runReportCommand(['--data-dir', dataDir], { out: out.stream, err: err.stream });
      expect(exitCode).toBe(1);
      expect(out.text()).toBe('');
      expect(err.text()).toContain(`The data folder ${dataDir} is in use by another Seatwise process (pid ${holder.pid})`);
    } finally {
      await stopHolder(holder);
    }
  });

  it('sync names the busy folder', async () => {
    const simulator = await startSimulator({ people: 5, seed: 1, historyDays: 7, port: 0, euPort: 0 });
    const holder = await startHolder(dataDir);
    try {
      const out = capture();
      const err = capture();
      const exitCode = await runSyncCommand(['--api-key', simulator.apiKey, '--api-url', simulator.apiUrl, '--data-dir', dataDir], { out: out.stream, err: err.stream });
      expect(exitCode).toBe(1);
      expect(err.text()).toContain(`The data folder ${dataDir} is in use by another Seatwise process (pid ${holder.pid})`);
    } finally {
      await stopHolder(holder);
      await simulator.close();
    }
  });

  it.each(['start', 'migrate'])('%s names the busy folder', async (command) => {
    const holder = await startHolder(dataDir);
    try {
      const bin = join(import.meta.dirname, '..', '..', 'bin', 'seatwise.js');
      const child = spawn(process.execPath, [bin, command], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SEATWISE_DATA_DIR: dataDir, PORT: '0', SIMULATOR_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exitCode = await new Promise((resolve) => child.on('exit', resolve));
      expect(exitCode).toBe(1);
      expect(output).toContain(`The data folder ${dataDir} is in use by another Seatwise process (pid ${holder.pid})`);
      expect(output, 'no stack trace').not.toContain('    at ');
    } finally {
      await stopHolder(holder);
    }
  });

  it('takes over a dead process lock', async () => {
    const finished = spawn(process.execPath, ['-e', '']);
    const deadPid = finished.pid;
    await new Promise((resolve) => finished.on('exit', resolve));
    writeFileSync(join(dataDir, 'seatwise.lock'), `${deadPid}\n`);

    const database = await openDatabase({ kind: 'pglite', dataDir });
    await database.close();
  });

  it('reopens after close', async () => {
    const first = await openDatabase({ kind: 'pglite', dataDir });
    try {
      await first.query('select 1');
    } finally {
      await first.close();
    }
    const second = await openDatabase({ kind: 'pglite', dataDir });
    await second.close();
  });
});
