import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { build } from 'vite';
import { loadConfig } from '../../src/config/env.ts';
import { loadVault } from '../../src/connections/vault.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createJobQueue } from '../../src/sync/queue.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.ts';

/**
 * The whole product for a browser test: Seatwise on an in-memory PGlite with its job worker,
 * the built front end, and the PagerDuty simulator in place of PagerDuty, all on loopback
 * ports chosen by the system.
 */

const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..');
const WEB_ROOT = join(REPOSITORY_ROOT, 'dist', 'web');

export interface SeatwiseStack {
  baseUrl: string;
  simulator: RunningSimulator;
  database: Database;
  supportEmail: string;
  close(): Promise<void>;
}

export interface StackOptions {
  simulator?: SimulatorOptions;
}

export const SUPPORT_EMAIL = 'help@seatwise.test';

export async function startStack(options: StackOptions = {}): Promise<SeatwiseStack> {
  await ensureWebBuild();
  const dataDir = await mkdtemp(join(tmpdir(), 'seatwise-browser-'));
  const logger = createLogger('silent');
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    SEATWISE_DATA_DIR: dataDir,
    SEATWISE_SUPPORT_EMAIL: SUPPORT_EMAIL,
    SEATWISE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
  });

  const database = await openDatabase({ kind: 'pglite', dataDir: 'memory' });
  await migrate(database);
  const vault = loadVault({ encryptionKey: config.encryptionKey, dataDir, logger });
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, euPort: 0, people: 40, ...options.simulator });
  const pagerduty = {
    clientId: simulator.clientId,
    clientSecret: simulator.clientSecret,
    identityUrl: simulator.identityUrl,
    scope: 'read',
    allowedApiBaseUrls: [simulator.apiUrl, simulator.euApiUrl],
  };
  const jobs = createJobQueue({ database, logger, config, vault, pagerduty });
  await jobs.start({ runWorker: true });

  const app: FastifyInstance = await buildApp({
    config,
    database,
    vault,
    logger,
    pagerduty,
    jobs,
    demo: { simulatorUrl: simulator.identityUrl },
    webRoot: WEB_ROOT,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('The Seatwise server did not report a TCP address after listen()');

  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    simulator,
    database,
    supportEmail: SUPPORT_EMAIL,
    async close() {
      await app.close();
      await jobs.stop();
      await simulator.close();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Builds the front end when dist/web has no build yet. `npm test` builds it before every run;
 * this covers running one browser test file directly.
 */
async function ensureWebBuild(): Promise<void> {
  if (existsSync(join(WEB_ROOT, 'index.html'))) return;
  await build({ configFile: join(REPOSITORY_ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
}
