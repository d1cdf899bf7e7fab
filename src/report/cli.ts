import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, type Config } from '../config/env.ts';
import { DataFolderInUseError } from '../db/data-folder-lock.ts';
import { openDatabase, PGLITE_FOLDER_NAME, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { buildReport } from './build.ts';
import { renderReport, type ReportFormat } from './formats.ts';

/** Exit codes of `seatwise report`. */
export const REPORT_EXIT_CODES = {
  succeeded: 0,
  /**
   * No organization or no synced PagerDuty account to report on, another process has the data
   * folder open, or the report could not be written.
   */
  failed: 1,
  /** The command line or configuration is invalid. */
  usage: 64,
} as const;

interface ReportOptions {
  dataDir: string | undefined;
  format: ReportFormat;
  output: string | undefined;
  organization: string | undefined;
  apiKey: string | undefined;
  apiUrl: string | undefined;
}

export interface CommandOutput {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/**
 * Runs `seatwise report`: optionally syncs first (with `--api-key`), then prints or writes the
 * utilization and recommendations of the synced account as JSON, CSV or a self-contained HTML page.
 * Returns the exit code.
 */
export async function runReportCommand(argv: string[], output: CommandOutput = { out: process.stdout, err: process.stderr }): Promise<number> {
  const options = parseArguments(argv, output);
  if (typeof options === 'number') return options;

  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    output.err.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return REPORT_EXIT_CODES.usage;
  }

  if (options.apiKey !== undefined) {
    const syncExitCode = await syncFirst(options, output);
    if (syncExitCode !== 0) {
      output.err.write(`The sync before the report failed (exit code ${syncExitCode}); no report was written. Fix the sync error above and run the command again.\n`);
      return syncExitCode;
    }
  }

  // Opening an embedded database creates it, which a report must not do in a mistyped folder.
  const embeddedDataDir = options.dataDir ?? (config.databaseUrl === undefined ? config.dataDir : undefined);
  if (embeddedDataDir !== undefined && !existsSync(join(embeddedDataDir, PGLITE_FOLDER_NAME))) {
    output.err.write(`No Seatwise database in ${embeddedDataDir}. Check --data-dir or SEATWISE_DATA_DIR, or run \`seatwise sync --api-key KEY\` to create one.\n`);
    return REPORT_EXIT_CODES.failed;
  }

  let database: Database;
  try {
    database = await openReportDatabase(config, options.dataDir);
  } catch (error) {
    if (!(error instanceof DataFolderInUseError)) throw error;
    output.err.write(`${error.message}\n`);
    return REPORT_EXIT_CODES.failed;
  }
  try {
    await migrate(database);
    const organizationIds = await findOrganizations(database, options.organization);
    const organizationId = organizationIds[0];
    if (organizationId === undefined) {
      output.err.write(
        options.organization === undefined
          ? 'No organization has a PagerDuty connection in this data folder. Run `seatwise sync --api-key KEY` first, or pass --data-dir.\n'
          : `No organization named or with id "${options.organization}" has a PagerDuty connection. Check --organization.\n`,
      );
      return REPORT_EXIT_CODES.failed;
    }
    if (options.organization !== undefined && organizationIds.length > 1) {
      output.err.write(`${organizationIds.length} organizations are named "${options.organization}". Pass the id of one with --organization: ${organizationIds.join(', ')}.\n`);
      return REPORT_EXIT_CODES.failed;
    }

    const report = await buildReport(database.db, organizationId);
    const text = renderReport(report, options.format);
    if (options.output === undefined) {
      output.out.write(text);
    } else {
      await writeFile(options.output, text, 'utf8');
      output.err.write(`Wrote the ${options.format.toUpperCase()} report to ${options.output}\n`);
    }
    return REPORT_EXIT_CODES.succeeded;
  } catch (error) {
    output.err.write(`The report failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return REPORT_EXIT_CODES.failed;
  } finally {
    await database.close();
  }
}

function parseArguments(argv: string[], output: CommandOutput): ReportOptions | number {
  const command = new Command('seatwise report')
    .description('Print or write the utilization and recommendations of the synced PagerDuty account.')
    .option('--data-dir <dir>', 'data folder of the embedded database (default SEATWISE_DATA_DIR, or DATABASE_URL when set)')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv', 'html']).default('json'))
    .option('--output <file>', 'write the report to this file instead of standard output')
    .option('--organization <name-or-id>', 'organization to report on (default: the first one with a PagerDuty connection)')
    .option('--api-key <key>', 'sync this PagerDuty account first, with a REST API key')
    .option('--api-url <url>', 'PagerDuty REST API base URL for the sync; the simulator URL works too')
    .exitOverride()
    .configureOutput({ writeOut: (text) => output.out.write(text), writeErr: (text) => output.err.write(text) });

  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? REPORT_EXIT_CODES.succeeded : REPORT_EXIT_CODES.usage;
    throw error;
  }
  const values = command.opts<{ dataDir?: string; format: ReportFormat; output?: string; organization?: string; apiKey?: string; apiUrl?: string }>();
  if (values.output !== undefined && values.output.trim() === '') {
    output.err.write('--output is empty; pass the path of the file to write, or leave the option out to print the report.\n');
    return REPORT_EXIT_CODES.usage;
  }
  if (values.apiUrl !== undefined && values.apiKey === undefined) {
    output.err.write('--api-url needs --api-key: the URL is only used to sync first.\n');
    return REPORT_EXIT_CODES.usage;
  }
  return {
    dataDir: values.dataDir,
    format: values.format,
    output: values.output,
    organization: values.organization,
    apiKey: values.apiKey,
    apiUrl: values.apiUrl,
  };
}

/** Runs `seatwise sync` with the same data folder, so an admin gets a report from one command. */
async function syncFirst(options: ReportOptions, output: CommandOutput): Promise<number> {
  const { runSyncCommand } = await import('../sync/cli.ts');
  const argv = ['--api-key', options.apiKey ?? ''];
  if (options.apiUrl !== undefined) argv.push('--api-url', options.apiUrl);
  if (options.dataDir !== undefined) argv.push('--data-dir', options.dataDir);
  // The sync summary goes to standard error, so standard output carries only the report.
  return runSyncCommand(argv, { out: output.err, err: output.err });
}

async function openReportDatabase(config: Config, dataDir: string | undefined): Promise<Database> {
  if (dataDir !== undefined) return openDatabase({ kind: 'pglite', dataDir });
  if (config.databaseUrl !== undefined) return openDatabase({ kind: 'postgres', url: config.databaseUrl });
  return openDatabase({ kind: 'pglite', dataDir: config.dataDir });
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Lists the ids of the organizations with a PagerDuty connection, oldest first: those with the given
 * name or id, or all of them.
 */
async function findOrganizations(database: Database, nameOrId: string | undefined): Promise<string[]> {
  let query = database.db
    .selectFrom('organizations as o')
    .innerJoin('connections as c', (join) => join.onRef('c.organization_id', '=', 'o.id').on('c.provider', '=', 'pagerduty'))
    .select('o.id')
    .orderBy('o.created_at')
    .orderBy('o.id');
  if (nameOrId !== undefined) {
    query = UUID_PATTERN.test(nameOrId) ? query.where('o.id', '=', nameOrId) : query.where('o.name', '=', nameOrId);
  }
  const rows = await query.execute();
  return [...new Set(rows.map((row) => row.id))];
}
