import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { startTestServer, type TestServer } from './testing/harness.ts';

const PAGERDUTY = { clientId: 'client', clientSecret: 'secret', identityUrl: 'http://127.0.0.1:9', scope: 'read', allowedApiBaseUrls: ['http://127.0.0.1:9'] };

/** Sends raw bytes to the server and returns every byte of its reply, read until it closes the socket. */
async function sendRaw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('No answer within 10 s')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(request);
  });
}

function parseResponse(raw: string): { status: number; contentType: string | undefined; body: { error: { code: string; message: string } } } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), contentType: headers.get('content-type'), body: JSON.parse(body) };
}

describe('requests the HTTP parser rejects', () => {
  let server: TestServer;

  beforeAll(async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
    await migrate(database);
    server = await startTestServer({ database, pagerduty: PAGERDUTY });
  });
  afterAll(async () => {
    await server.close();
    await server.database.close();
  });

  it('oversized headers get a 431 envelope', async () => {
    const raw = await sendRaw(server.url, `GET /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${'a'.repeat(20_000)}\r\n\r\n`);
    const response = parseResponse(raw);

    expect(response.status).toBe(431);
    expect(response.contentType).toBe('application/json; charset=utf-8');
    expect(response.body.error.code).toBe('headers_too_large');
    expect(response.body.error.message).toContain('cookies');
  });

  it('malformed request line gets a 400 envelope', async () => {
    const response = parseResponse(await sendRaw(server.url, 'NOT HTTP AT ALL\r\n\r\n'));

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('malformed_request');
  });

  it('server still answers afterwards', async () => {
    const response = await fetch(new URL('/api/session', server.url));

    expect(response.status).toBeLessThan(500);
  });
});
