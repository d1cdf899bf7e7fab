import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ensureBootstrapOwner } from '../accounts/bootstrap.ts';
import type { Config } from '../config/env.ts';
import { loadVault } from '../connections/vault.ts';
import { PAGERDUTY_API_BASE_URLS } from '../connectors/pagerduty/provider.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { buildApp } from '../http/app.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { createJobQueue, type JobQueue } from '../sync/queue.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';

const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../dist/web');

export interface StartOptions {
  /** Serve the web app and API. */
  runWeb: boolean;
  /** Take sync and crunch jobs from the queue. */
  runWorker: boolean;
}

export interface RunningSeatwise {
  url: string | null;
  simulator: RunningSimulator | null;
  close(): Promise<void>;
}

/**
 * Starts Seatwise: opens the database and migrates it, starts the PagerDuty simulator when no
 * PagerDuty app is configured, then the job queue and the web server as `options` ask.
 */
export async function startSeatwise(config: Config, options: StartOptions, logger = createLogger(config.logLevel)): Promise<RunningSeatwise> {
  const database = await openConfiguredDatabase(config, logger);
  const closers: Array<() => Promise<void>> = [() => database.close()];
  const close = async () => {
    for (const closer of closers.reverse()) {
      await closer().catch((error: unknown) => logger.error({ err: error }, 'Failed to stop a component cleanly'));
    }
  };

  try {
    const applied = await migrate(database);
    if (applied.length > 0) logger.info({ migrations: applied }, 'Applied database migrations');

    const vault = loadVault({ encryptionKey: config.encryptionKey, dataDir: config.dataDir, logger });
    const { pagerduty, simulator } = await resolvePagerDuty(config, logger);
    if (simulator) closers.push(() => simulator.close());

    await ensureBootstrapOwner(database.db, config);

    const jobs = createJobQueue({ database, logger, config, vault, pagerduty });
    await jobs.start({ runWorker: options.runWorker });
    closers.push(() => jobs.stop());

    let url: string | null = null;
    if (options.runWeb) {
      const app = await buildApp({
        config,
        database,
        vault,
        logger,
        pagerduty,
        jobs,
        demo: simulator ? { simulatorUrl: simulator.identityUrl } : null,
        webRoot: WEB_ROOT,
      });
      url = await listen(app, config);
      closers.push(() => app.close());
      logger.info({ url }, `Seatwise is ready at ${url}`);
      if (simulator) {
        logger.info(
          { simulatorUrl: simulator.identityUrl, login: simulator.login.email },
          `Demo mode: connect to the simulated PagerDuty at ${simulator.identityUrl} and sign in there as ${simulator.login.email} with password ${simulator.login.password}`,
        );
      }
    } else {
      logger.info('Seatwise worker is running');
    }

    return { url, simulator, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function openConfiguredDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) {
    logger.info('Using PostgreSQL from DATABASE_URL');
    return openDatabase({ kind: 'postgres', url: config.databaseUrl });
  }
  logger.info({ dataDir: config.dataDir }, 'Using the embedded database in the data folder');
  return openDatabase({ kind: 'pglite', dataDir: config.dataDir });
}

interface PagerDutySettings {
  clientId: string;
  clientSecret: string;
  identityUrl: string;
  scope: string;
  allowedApiBaseUrls: string[];
}

async function resolvePagerDuty(config: Config, logger: Logger): Promise<{ pagerduty: PagerDutySettings; simulator: RunningSimulator | null }> {
  const { clientId, clientSecret } = config.pagerduty;
  if (clientId && clientSecret) {
    return {
      pagerduty: { clientId, clientSecret, identityUrl: config.pagerduty.identityUrl, scope: config.pagerduty.scope, allowedApiBaseUrls: [...PAGERDUTY_API_BASE_URLS] },
      simulator: null,
    };
  }

  logger.warn('No PagerDuty OAuth app is configured (PAGERDUTY_CLIENT_ID); starting the built-in PagerDuty simulator with a demo account');
  const simulator = await startSimulator({
    host: config.host,
    port: config.simulator.port,
    euPort: 0,
    seed: config.simulator.seed,
    people: config.simulator.people,
    appName: 'Seatwise',
  });
  return {
    pagerduty: {
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      identityUrl: simulator.identityUrl,
      scope: config.pagerduty.scope,
      allowedApiBaseUrls: [simulator.apiUrl, simulator.euApiUrl],
    },
    simulator,
  };
}

async function listen(app: FastifyInstance, config: Config): Promise<string> {
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  return `http://${config.host}:${port}`;
}
