import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../config/env.ts';
import { Vault } from '../../connections/vault.ts';
import type { Database } from '../../db/database.ts';
import { migrate } from '../../db/migrate.ts';
import { createLogger } from '../../lib/logger.ts';
import { buildApp } from '../app.ts';
import type { AppDeps } from '../context.ts';

/** A recording stand-in for the job queue. */
export interface RecordingJobs {
  calls: { connectionId: string; trigger: string }[];
  enqueueSync(connectionId: string, trigger: 'connect' | 'manual' | 'schedule'): Promise<string>;
}

export function recordingJobs(): RecordingJobs {
  const calls: RecordingJobs['calls'] = [];
  return {
    calls,
    async enqueueSync(connectionId, trigger) {
      calls.push({ connectionId, trigger });
      return `sync-${calls.length}`;
    },
  };
}

export interface TestServer {
  url: string;
  app: FastifyInstance;
  database: Database;
  vault: Vault;
  jobs: RecordingJobs;
  config: Config;
  /** Every log line the server wrote, as JSON text. */
  logLines: string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** An open database; it is migrated here. */
  database: Database;
  pagerduty: AppDeps['pagerduty'];
  env?: Record<string, string>;
  demo?: AppDeps['demo'];
  webRoot?: string;
}

/** Builds the app with a captured logger and listens on 127.0.0.1, port 0. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  await migrate(options.database);
  const config = loadConfig({ SEATWISE_SUPPORT_EMAIL: 'help@seatwise.test', LOG_LEVEL: 'info', ...options.env });
  const logLines: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => void logLines.push(line) });
  const vault = new Vault([randomBytes(32)]);
  const jobs = recordingJobs();
  const app = await buildApp({
    config,
    database: options.database,
    vault,
    logger,
    pagerduty: options.pagerduty,
    jobs,
    demo: options.demo ?? null,
    webRoot: options.webRoot ?? mkdtempSync(join(tmpdir(), 'seatwise-web-')),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('The test server has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    database: options.database,
    vault,
    jobs,
    config,
    logLines,
    close: () => app.close(),
  };
}

/** A browser stand-in: keeps cookies per origin-less jar and never follows redirects. */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  async request(
    path: string,
    init: { method?: string; json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(new URL(path, this.baseUrl), { method: init.method ?? 'GET', headers, body, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = setCookie.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const isExpired = attributes.some((attribute) => /^\s*expires=Thu, 01 Jan 1970/i.test(attribute)) || value === '';
      if (isExpired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async json<T = Record<string, unknown>>(path: string, init: Parameters<TestBrowser['request']>[1] = {}): Promise<{ status: number; body: T }> {
    const response = await this.request(path, init);
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

/** Dumps every row of every table in the public schema as one JSON text, as a database dump would contain them. */
export async function dumpDatabase(database: Database): Promise<string> {
  const { rows: tables } = await database.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name",
  );
  const parts: string[] = [];
  for (const { table_name: table } of tables) {
    const { rows } = await database.query(`select * from "${table.replaceAll('"', '""')}"`);
    parts.push(`${table}: ${JSON.stringify(rows)}`);
  }
  return parts.join('\n');
}
