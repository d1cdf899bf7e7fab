import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/env.ts';
import { DataFolderInUseError } from '../db/data-folder-lock.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createLogger } from '../lib/logger.ts';
import { startSeatwise, type StartOptions } from './start.ts';

const program = new Command()
  .name('seatwise')
  .description('See how much of your PagerDuty is really used, per feature and per person.')
  .showHelpAfterError();

program
  .command('start', { isDefault: true })
  .description('run the web app and the sync worker in one process (the default)')
  .action(() => runServer({ runWeb: true, runWorker: true }));

program
  .command('serve')
  .description('run only the web app; run workers separately against the same DATABASE_URL')
  .action(() => runServer({ runWeb: true, runWorker: false }));

program
  .command('worker')
  .description('run only the sync and crunch worker')
  .action(() => runServer({ runWeb: false, runWorker: true }));

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const config = readConfigOrExit();
    const database = config.databaseUrl
      ? await openDatabase({ kind: 'postgres', url: config.databaseUrl })
      : await openDatabase({ kind: 'pglite', dataDir: config.dataDir });
    try {
      const applied = await migrate(database);
      console.log(applied.length > 0 ? `Applied ${applied.join(', ')}` : 'The database is up to date');
    } finally {
      await database.close();
    }
  });

program
  .command('simulate')
  .description('run the PagerDuty simulator alone (see seatwise simulate --help)')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[options...]')
  .action(async (argv: string[]) => {
    const { runSimulateCommand } = await import('../../simulator/cli.ts');
    await runSimulateCommand(argv);
  });

program
  .command('sync')
  .description('connect an account by API key and sync it into a data folder (see seatwise sync --help)')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[options...]')
  .action(async (argv: string[]) => {
    const { runSyncCommand } = await import('../sync/cli.ts');
    process.exitCode = await runSyncCommand(argv);
  });

program
  .command('report')
  .description('print or write the utilization report of a synced account (see seatwise report --help)')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[options...]')
  .action(async (argv: string[]) => {
    const { runReportCommand } = await import('../report/cli.ts');
    process.exitCode = await runReportCommand(argv);
  });

async function runServer(options: StartOptions): Promise<void> {
  const config = readConfigOrExit();
  const logger = createLogger(config.logLevel);
  let running: Awaited<ReturnType<typeof startSeatwise>>;
  try {
    running = await startSeatwise(config, options, logger);
  } catch (error) {
    if (!(error instanceof DataFolderInUseError)) throw error;
    // The database is the first thing a start opens, so nothing else runs yet. Returning instead
    // of calling process.exit lets the log transport flush.
    logger.fatal({ dataDir: error.dataDir, pid: error.pid }, error.message);
    process.exitCode = 1;
    return;
  }

  let isStopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (isStopping) return;
    isStopping = true;
    const timeoutSeconds = config.shutdownTimeoutSeconds;
    logger.info({ signal, timeoutSeconds }, 'Stopping Seatwise: no new jobs, running syncs checkpoint');
    running.markStopping();
    // Exits even when a component hangs; a sync cut off here resumes from its last checkpoint.
    const deadline = setTimeout(() => {
      logger.error({ timeoutSeconds }, 'Seatwise did not stop within SHUTDOWN_TIMEOUT_SECONDS; exiting anyway');
      process.exit(1);
    }, timeoutSeconds * 1000);
    deadline.unref();
    running.close().then(
      () => {
        logger.info('Seatwise stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function readConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // `migrate` opens the data folder too; the other commands report a folder in use themselves.
  if (!(error instanceof DataFolderInUseError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
