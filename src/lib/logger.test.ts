import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function captureLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: createLogger('info', destination), lines };
}

describe('logger redaction', () => {
  it('redacts secrets by field name', () => {
    const { logger, lines } = captureLogger();
    logger.info({ access_token: 'plain-access', nested: { refresh_token: 'plain-refresh', password: 'hunter2' } }, 'stored');
    const line = lines.join('');
    expect(line).not.toContain('plain-access');
    expect(line).not.toContain('plain-refresh');
    expect(line).not.toContain('hunter2');
  });

  it('redacts secrets inside free text', () => {
    const { logger, lines } = captureLogger();
    logger.warn({ url: 'http://127.0.0.1/cb?code=abc123&state=xyz' }, 'refresh failed for pdus+_1SECRETVALUE with Bearer tok.en-1');
    const line = lines.join('');
    expect(line).not.toContain('abc123');
    expect(line).not.toContain('xyz');
    expect(line).not.toContain('SECRETVALUE');
    expect(line).not.toContain('tok.en-1');
    expect(line).toContain('refresh failed');
  });

  it('keeps error messages and circular objects', () => {
    const { logger, lines } = captureLogger();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    logger.error({ err: new Error('database timed out'), circular }, 'sync failed');
    const line = lines.join('');
    expect(line).toContain('database timed out');
    expect(line).toContain('sync failed');
  });
});
