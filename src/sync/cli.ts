import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { loadConfig, type Config } from '../config/env.ts';
import { saveCredentials } from '../connections/credentials.ts';
import { loadVault } from '../connections/vault.ts';
import { PAGERDUTY_API_HOSTS, regionOfApiBaseUrl } from '../connectors/pagerduty/provider.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createLogger } from '../lib/logger.ts';
import { runSync, type SyncOutcome } from './run-sync.ts';
import { DAY_MS } from './windows.ts';

/** Exit codes of `seatwise sync`. */
export const SYNC_EXIT_CODES = {
  succeeded: 0,
  /** Some or all streams failed; the next run continues from the checkpoints. */
  failed: 1,
  /** PagerDuty rejected the API key. */
  needsAction: 2,
  /** The command line or configuration is invalid. */
  usage: 64,
} as const;

const PROGRESS_INTERVAL_MS = 500;

interface SyncCommandOptions {
  apiKey: string;
  apiUrl: string;
  dataDir: string | undefined;
  since: Date | undefined;
}

/**
 * Runs `seatwise sync`: connects an account by API key, runs a full or incremental sync into the
 * data folder with progress on the terminal, prints a summary and returns the exit code.
 */
export async function runSyncCommand(argv: string[], output: { out: NodeJS.WritableStream; err: NodeJS.WritableStream & { isTTY?: boolean } } = { out: process.stdout, err: process.stderr }): Promise<number> {
  const parsed = parseArguments(argv, output);
  if (typeof parsed === 'number') return parsed;

  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    output.err.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return SYNC_EXIT_CODES.usage;
  }
  const dataDir = parsed.dataDir ?? config.dataDir;
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const database = await openCommandDatabase(config, parsed.dataDir);
  try {
    await migrate(database);
    const vault = loadVault({ encryptionKey: config.encryptionKey, dataDir, logger });
    const connection = await connectByApiKey(database, vault, config, parsed);
    const syncHistoryDays = parsed.since ? Math.max(1, Math.ceil((Date.now() - parsed.since.getTime()) / DAY_MS)) : config.syncHistoryDays;

    const syncRunId = await createRun(database, connection);
    output.err.write(`Syncing PagerDuty at ${parsed.apiUrl} into ${parsed.dataDir ?? (config.databaseUrl ? 'PostgreSQL' : dataDir)}\n`);
    const stopProgress = showProgress(database, syncRunId, output.err);
    let outcome: SyncOutcome;
    try {
      outcome = await runSync(
        { database, vault, logger, config: { syncHistoryDays }, oauthClient: null },
        { connectionId: connection.connectionId, syncRunId },
      );
    } finally {
      stopProgress();
    }

    output.out.write(formatSummary(outcome));
    return exitCodeOf(outcome);
  } finally {
    await database.close();
  }
}

function parseArguments(argv: string[], output: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): SyncCommandOptions | number {
  const command = new Command('seatwise sync')
    .description('Connect a PagerDuty account by API key and sync it into a data folder. Runs a full sync the first time and an incremental one after.')
    .requiredOption('--api-key <key>', 'PagerDuty REST API key (account or user key)')
    .option('--api-url <url>', 'PagerDuty REST API base URL; the simulator URL works too', PAGERDUTY_API_HOSTS.us)
    .option('--data-dir <dir>', 'data folder of the embedded database (default: SEATWISE_DATA_DIR)')
    .option('--since <date>', 'read history from this date (ISO 8601, UTC) instead of the last SYNC_HISTORY_DAYS days', parseSince)
    .exitOverride()
    .configureOutput({ writeOut: (text) => output.out.write(text), writeErr: (text) => output.err.write(text) });

  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? SYNC_EXIT_CODES.succeeded : SYNC_EXIT_CODES.usage;
    throw error;
  }
  const options = command.opts<{ apiKey: string; apiUrl: string; dataDir?: string; since?: Date }>();
  let apiUrl: URL;
  try {
    apiUrl = new URL(options.apiUrl);
  } catch {
    output.err.write(`--api-url must be a URL such as ${PAGERDUTY_API_HOSTS.us}, got "${options.apiUrl}"\n`);
    return SYNC_EXIT_CODES.usage;
  }
  return { apiKey: options.apiKey, apiUrl: apiUrl.toString().replace(/\/+$/, ''), dataDir: options.dataDir, since: options.since };
}

function parseSince(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`expected an ISO 8601 date such as 2026-01-31, got "${value}"`);
  if (date.getTime() > Date.now()) throw new InvalidArgumentError(`must be in the past, got ${date.toISOString()}`);
  return date;
}

async function openCommandDatabase(config: Config, dataDir: string | undefined): Promise<Database> {
  if (dataDir !== undefined) return openDatabase({ kind: 'pglite', dataDir });
  if (config.databaseUrl) return openDatabase({ kind: 'postgres', url: config.databaseUrl });
  return openDatabase({ kind: 'pglite', dataDir: config.dataDir });
}

/** Creates or updates the organization's PagerDuty connection with this API key. */
async function connectByApiKey(
  database: Database,
  vault: ReturnType<typeof loadVault>,
  config: Config,
  options: SyncCommandOptions,
): Promise<{ organizationId: string; connectionId: string }> {
  const { db } = database;
  const organization =
    (await db.selectFrom('organizations').select('id').orderBy('created_at').executeTakeFirst()) ??
    (await db.insertInto('organizations').values({ name: config.organizationName, support_email: config.supportEmail }).returning('id').executeTakeFirstOrThrow());

  const now = new Date();
  const values = {
    method: 'api_key' as const,
    status: 'connected' as const,
    status_reason: null,
    status_changed_at: now,
    api_base_url: options.apiUrl,
    region: regionOfApiBaseUrl(options.apiUrl),
    updated_at: now,
  };
  const connection = await db
    .insertInto('connections')
    .values({ ...values, organization_id: organization.id, provider: 'pagerduty' })
    // Matches the partial unique index on live (not archived) connections.
    .onConflict((conflict) => conflict.columns(['organization_id', 'provider']).where('archived_at', 'is', null).doUpdateSet(values))
    .returning('id')
    .executeTakeFirstOrThrow();
  await saveCredentials(db, vault, connection.id, { accessToken: options.apiKey, refreshToken: null, accessTokenExpiresAt: null });
  return { organizationId: organization.id, connectionId: connection.id };
}

async function createRun(database: Database, connection: { organizationId: string; connectionId: string }): Promise<string> {
  const previous = await database.db.selectFrom('connections').select('last_sync_at').where('id', '=', connection.connectionId).executeTakeFirstOrThrow();
  const run = await database.db
    .insertInto('sync_runs')
    .values({
      organization_id: connection.organizationId,
      connection_id: connection.connectionId,
      kind: previous.last_sync_at === null ? 'full' : 'incremental',
      status: 'queued',
      trigger: 'command_line',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return run.id;
}

/** Redraws one progress line on a terminal; elsewhere prints nothing until the summary. */
function showProgress(database: Database, syncRunId: string, stream: NodeJS.WritableStream & { isTTY?: boolean }): () => void {
  if (!stream.isTTY) return () => {};
  let isDrawing = false;
  const draw = async () => {
    if (isDrawing) return;
    isDrawing = true;
    try {
      const rows = await database.db.selectFrom('sync_run_streams').select(['stream', 'status', 'records', 'expected_records']).where('sync_run_id', '=', syncRunId).execute();
      const done = rows.filter((row) => row.status !== 'running' && row.status !== 'pending').length;
      const records = rows.reduce((sum, row) => sum + row.records, 0);
      const running = rows.filter((row) => row.status === 'running').map((row) => (row.expected_records ? `${row.stream} ${percent(row.records, row.expected_records)}` : row.stream));
      stream.write(`\r\x1b[2K${progressBar(done, Math.max(rows.length, 1))} ${done}/${rows.length} streams, ${records} records${running.length > 0 ? ` (${running.join(', ')})` : ''}`);
    } finally {
      isDrawing = false;
    }
  };
  const timer = setInterval(() => void draw(), PROGRESS_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[2K');
  };
}

function progressBar(done: number, total: number): string {
  const width = 20;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function percent(records: number, expected: number): string {
  return `${Math.min(100, Math.floor((records / Math.max(expected, 1)) * 100))}%`;
}

export function formatSummary(outcome: SyncOutcome): string {
  const lines = [`Sync ${outcome.status.replace('_', ' ')}: ${outcome.requestCount} requests`];
  const nameWidth = Math.max(...outcome.streams.map((stream) => stream.name.length), 6);
  for (const stream of outcome.streams) {
    const counts = `${String(stream.records).padStart(9)} records ${String(stream.pages).padStart(6)} pages`;
    lines.push(`  ${stream.name.padEnd(nameWidth)}  ${stream.status.padEnd(11)} ${counts}${stream.message ? `  ${stream.message}` : ''}`);
  }
  if (outcome.errorMessage) lines.push(outcome.errorMessage);
  return `${lines.join('\n')}\n`;
}

function exitCodeOf(outcome: SyncOutcome): number {
  switch (outcome.status) {
    // Every stream was read or is unavailable to this account.
    case 'succeeded':
      return SYNC_EXIT_CODES.succeeded;
    // The API key needs replacing.
    case 'needs_reconnect':
      return SYNC_EXIT_CODES.needsAction;
    // Failed streams keep their checkpoints for the next run.
    case 'partial':
    case 'failed':
    case 'queued':
    case 'running':
      return SYNC_EXIT_CODES.failed;
    default: {
      const unreachable: never = outcome.status;
      throw new Error(`Unknown sync status ${String(unreachable)}`);
    }
  }
}
