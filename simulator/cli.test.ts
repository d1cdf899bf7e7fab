import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

function runSimulate(args: string[]): ChildProcessWithoutNullStreams {
  const script = `import('./simulator/cli.ts').then((cli) => cli.runSimulateCommand(${JSON.stringify(args)}))`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPOSITORY_ROOT });
  children.push(child);
  return child;
}

async function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) return line;
  throw new Error('seatwise simulate exited before printing a line');
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
});

describe('seatwise simulate command', () => {
  it('prints connection details first', async () => {
    const child = runSimulate(['--port', '0', '--people', '12', '--seed', '3', '--log-level', 'silent']);
    const details = JSON.parse(await firstLine(child)) as Record<string, unknown> & { apiUrl: string; apiKey: string; login: { email: string } };

    expect(details.authorizeUrl).toBe(`${String(details.identityUrl)}/oauth/authorize`);
    expect(details.tokenUrl).toBe(`${String(details.identityUrl)}/oauth/token`);
    expect(details.clientId).toBe('seatwise-demo-client');
    expect(typeof details.clientSecret).toBe('string');
    expect(details.login.email).toContain('@');
    const response = await fetch(`${details.apiUrl}/users?total=true`, { headers: { authorization: `Token token=${details.apiKey}` } });
    expect(((await response.json()) as { total: number }).total).toBe(12);

    child.kill('SIGTERM');
    const [exitCode] = (await once(child, 'exit')) as [number | null];
    expect(exitCode).toBe(0);
  });

  it('rejects an invalid option value', async () => {
    const child = runSimulate(['--people', '3']);
    let errorText = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errorText += chunk.toString();
    });
    const [exitCode] = (await once(child, 'exit')) as [number | null];
    expect(exitCode).toBe(1);
    expect(errorText).toContain('--people');
  });
});
