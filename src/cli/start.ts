import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { ensureBootstrapOwner } from '../accounts/bootstrap.ts';
import type { Config } from '../config/env.ts';
import { loadVault } from '../connections/vault.ts';
import { PAGERDUTY_API_BASE_URLS } from '../connectors/pagerduty/provider.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import type { DB } from '../db/schema.ts';
import { buildApp } from '../http/app.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { createOpsMetrics, timeCrunch, type OpsMetrics } from '../ops/metrics.ts';
import { registerOperations } from '../ops/routes.ts';
import { ProcessState } from '../ops/state.ts';
import { createJobQueue, type JobQueue } from '../sync/queue.ts';
import type { SyncOutcome } from '../sync/run-sync.ts';
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts';

/** The demo simulator's credentials and reference instant, inside SEATWISE_DATA_DIR. */
const SIMULATOR_STATE_FILE = 'simulator-state.json';
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
  /** Readiness turns false at once; then the queue stops taking jobs and running syncs checkpoint. */
  markStopping(): void;
  close(): Promise<void>;
}

/**
 * Starts Seatwise: opens the database and migrates it, starts the PagerDuty simulator when no
 * PagerDuty app is configured, then the job queue and the web server as `options` ask.
 */
export async function startSeatwise(config: Config, options: StartOptions, logger = createLogger(config.logLevel)): Promise<RunningSeatwise> {
  const database = await openConfiguredDatabase(config, logger);
  const processState = new ProcessState();
  const metrics = createOpsMetrics({ database, logger });
  const closers: Array<() => Promise<void>> = [() => database.close(), async () => metrics.close()];
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

    const jobs = createJobQueue({
      database,
      logger,
      config,
      vault,
      pagerduty,
      sync: { crunch: timeCrunch(metrics) },
      onSyncFinished: (outcome) => void recordSyncDuration(database.db, metrics, outcome, logger),
    });
    await jobs.start({ runWorker: options.runWorker });
    processState.markQueueStarted();

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
        operations: { process: processState, metrics },
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
      // A worker has no web app, but probes and Prometheus still need its health and metrics.
      const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
      registerOperations(app, { database, config, process: processState, metrics });
      url = await listen(app, config);
      closers.push(() => app.close());
      logger.info({ url }, `Seatwise worker is running; health and metrics at ${url}`);
    }

    // Closers run last first: the queue stops before the web server, so a draining load
    // balancer still reaches /readyz while running syncs checkpoint.
    closers.push(() => jobs.stop());
    return { url, simulator, markStopping: () => processState.markStopping(), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Reads the finished run's start and end, which the sync engine stores, into the duration histogram. */
async function recordSyncDuration(db: Kysely<DB>, metrics: OpsMetrics, outcome: SyncOutcome, logger: Logger): Promise<void> {
  try {
    const run = await db.selectFrom('sync_runs').select(['started_at', 'finished_at']).where('id', '=', outcome.syncRunId).executeTakeFirst();
    if (!run?.started_at || !run.finished_at) return;
    metrics.syncDuration.observe({ status: outcome.status }, (new Date(run.finished_at).getTime() - new Date(run.started_at).getTime()) / 1000);
  } catch (error) {
    logger.warn({ err: error, syncRunId: outcome.syncRunId }, 'Could not record the sync duration metric');
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
    // Kept in the data folder so tokens stored by Seatwise still work after a restart.
    stateFile: join(config.dataDir, SIMULATOR_STATE_FILE),
    logger: logger.child({ component: 'simulator' }),
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
