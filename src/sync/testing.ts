import { randomBytes } from 'node:crypto';
import { saveCredentials } from '../connections/credentials.ts';
import { Vault } from '../connections/vault.ts';
import type { Database } from '../db/database.ts';
import type { ConnectionMethod } from '../db/schema.ts';
import { createLogger } from '../lib/logger.ts';
import type { SyncDeps } from './run-sync.ts';

/** Test support for sync tests: an organization with a PagerDuty connection and its credentials. */

export interface TestConnection {
  organizationId: string;
  connectionId: string;
}

export function testVault(): Vault {
  return new Vault([randomBytes(32)]);
}

export async function createTestConnection(
  database: Database,
  vault: Vault,
  options: {
    apiBaseUrl: string;
    method: ConnectionMethod;
    accessToken: string;
    refreshToken?: string | null;
    accessTokenExpiresAt?: Date | null;
    grantedScope?: string;
  },
): Promise<TestConnection> {
  const { db } = database;
  const organization = await db.insertInto('organizations').values({ name: 'Acme' }).returning('id').executeTakeFirstOrThrow();
  const connection = await db
    .insertInto('connections')
    .values({
      organization_id: organization.id,
      provider: 'pagerduty',
      method: options.method,
      status: 'connected',
      api_base_url: options.apiBaseUrl,
      granted_scope: options.grantedScope ?? (options.method === 'api_key' ? null : 'openid read'),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await saveCredentials(db, vault, connection.id, {
    accessToken: options.accessToken,
    refreshToken: options.refreshToken ?? null,
    accessTokenExpiresAt: options.accessTokenExpiresAt ?? null,
  });
  return { organizationId: organization.id, connectionId: connection.id };
}

export async function createQueuedRun(database: Database, connection: TestConnection, kind: 'full' | 'incremental' = 'full'): Promise<string> {
  const run = await database.db
    .insertInto('sync_runs')
    .values({ organization_id: connection.organizationId, connection_id: connection.connectionId, kind, status: 'queued', trigger: 'manual' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return run.id;
}

export function testSyncDeps(database: Database, vault: Vault, overrides: Partial<SyncDeps> = {}): SyncDeps {
  return {
    database,
    vault,
    logger: createLogger('silent'),
    config: { syncHistoryDays: 90 },
    oauthClient: null,
    crunch: async () => {},
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    ...overrides,
  };
}

/** Reads a whole offset list from a PagerDuty-like server with plain requests, as the test's oracle. */
export async function fetchAllPages(baseUrl: string, path: string, key: string, authorization: string, query: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let offset = 0; ; offset += 100) {
    const url = new URL(`${baseUrl}${path}`);
    for (const [name, value] of Object.entries({ ...query, limit: '100', offset: String(offset) })) url.searchParams.set(name, value);
    const response = await fetch(url, { headers: { authorization, accept: 'application/vnd.pagerduty+json;version=2' } });
    if (!response.ok) throw new Error(`GET ${path} failed with HTTP ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as Record<string, unknown>;
    items.push(...(body[key] as Record<string, unknown>[]));
    if (body.more !== true) return items;
  }
}

/**
 * Starts a loopback proxy in front of the simulator that responds to chosen paths itself, for
 * faults the simulator does not offer. Every other request passes through unchanged.
 */
export async function startFaultProxy(
  targetBaseUrl: string,
  answer: (path: string) => { status: number; body: string } | null,
): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const override = answer(url.pathname);
    if (override) {
      response.writeHead(override.status, { 'content-type': 'application/json' });
      response.end(override.body);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value;
    }
    const upstream = await fetch(`${targetBaseUrl}${url.pathname}${url.search}`, {
      method: request.method ?? 'GET',
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    const forwarded: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'content-encoding' && name !== 'transfer-encoding') forwarded[name] = value;
    });
    response.writeHead(upstream.status, forwarded);
    response.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
