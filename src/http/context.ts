import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/env.ts';
import type { ConnectDeps } from '../connections/connect.ts';
import type { Vault } from '../connections/vault.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../lib/logger.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { OpsMetrics } from '../ops/metrics.ts';
import type { ProcessState } from '../ops/state.ts';

/** Everything the server needs from the process that starts it. */
export interface AppDeps {
  config: Config;
  database: Database;
  vault: Vault;
  logger: Logger;
  pagerduty: {
    clientId: string;
    clientSecret: string;
    identityUrl: string;
    scope: string;
    /** The REST API hosts an ID token's `aud` may name. */
    allowedApiBaseUrls: string[];
  };
  jobs: { enqueueSync(connectionId: string, trigger: 'connect' | 'manual' | 'schedule'): Promise<string> };
  /** Set when the built-in simulator runs in place of PagerDuty. */
  demo: { simulatorUrl: string } | null;
  /** Folder of the built front end (dist/web). */
  webRoot: string;
  /** Sends mail; defaults to the outbox in the database, viewable at /outbox. */
  mailer?: Mailer;
  /** The process lifecycle and metrics behind `/readyz` and `/metrics`; absent in tests that build the app alone. */
  operations?: { process: ProcessState; metrics: OpsMetrics };
}

/** The values route modules share: the dependencies plus values derived once from them. */
export interface RouteContext {
  deps: AppDeps;
  connect: ConnectDeps;
  mailer: Mailer;
  /** The origin browsers use to reach Seatwise, known once the server listens. */
  publicUrl(): string;
  /** Whether cookies get the Secure attribute: the public URL is https. */
  isSecure(): boolean;
}

export function createRouteContext(app: FastifyInstance, deps: AppDeps, mailer: Mailer): RouteContext {
  const publicUrl = (): string => {
    if (deps.config.publicUrl) return deps.config.publicUrl;
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : deps.config.port;
    return `http://127.0.0.1:${port}`;
  };
  return {
    deps,
    connect: { db: deps.database.db, vault: deps.vault, logger: deps.logger, pagerduty: deps.pagerduty, jobs: deps.jobs },
    mailer,
    publicUrl,
    isSecure: () => publicUrl().startsWith('https:'),
  };
}
