import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { loadConfig, type Config } from '../config/env.ts';
import { saveCredentials } from '../connections/credentials.ts';
import { loadVault } from '../connections/vault.ts';
import { probeApiKey } from '../connectors/pagerduty/identity.ts';
import { PAGERDUTY_API_HOSTS, regionOfApiBaseUrl, type PagerDutyRegion } from '../connectors/pagerduty/provider.ts';
import { DataFolderInUseError } from '../db/data-folder-lock.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createLogger } from '../lib/logger.ts';
import { runSync, type SyncOutcome } from './run-sync.ts';
import { DAY_MS } from './windows.ts';

/** Exit codes of `seatwise sync`. */
export const SYNC_EXIT_CODES = {
  succeeded: 0,
  /** Some or all streams failed (the next run continues from the checkpoints), or another process has the data folder open. */
  failed: 1,
  /** PagerDuty rejected the API key. */
  needsAction: 2,
  /** The command line or configuration is invalid. */
  usage: 64,
} as const;

const PROGRESS_INTERVAL_MS = 500;

interface SyncCommandOptions {
  apiKey: string | undefined;
  apiKeyFile: string | undefined;
  /** Undefined when `--api-url` is absent, so the US and then the EU host are tried. */
  apiUrl: string | undefined;
  dataDir: string | undefined;
  since: Date | undefined;
}

/** The account an API key reached: the host that accepted it, the region and the subdomain. */
interface ApiKeyAccount {
  apiKey: string;
  apiUrl: string;
  region: PagerDutyRegion | null;
  subdomain: string | null;
}

export interface SyncCommandEnvironment {
  /** Environment variables, parsed by `loadConfig`. */
  env?: Record<string, string | undefined>;
  /** Hosts tried in order, US first, when `--api-url` is absent; tests point them at the simulator. */
  regionHosts?: Readonly<Record<PagerDutyRegion, string>>;
}

/**
 * Runs `seatwise sync`: connects an account by API key, runs a full or incremental sync into the
 * data folder with progress on the terminal, prints a summary and returns the exit code.
 */
export async function runSyncCommand(
  argv: string[],
  output: { out: NodeJS.WritableStream; err: NodeJS.WritableStream & { isTTY?: boolean } } = { out: process.stdout, err: process.stderr },
  environment: SyncCommandEnvironment = {},
): Promise<number> {
  const parsed = parseArguments(argv, output);
  if (typeof parsed === 'number') return parsed;

  let config: Config;
  try {
    config = loadConfig(environment.env);
  } catch (error) {
    output.err.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return SYNC_EXIT_CODES.usage;
  }
  const apiKey = await resolveApiKey(parsed, config);
  if (!apiKey.ok) {
    output.err.write(`${apiKey.message}\n`);
    return SYNC_EXIT_CODES.usage;
  }
  const account = await findAccount(apiKey.value, parsed.apiUrl, environment.regionHosts ?? PAGERDUTY_API_HOSTS);
  if (!account.ok) {
    output.err.write(`${account.message}\n`);
    return account.exitCode;
  }
  const dataDir = parsed.dataDir ?? config.dataDir;
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  let database: Database;
  try {
    database = await openCommandDatabase(config, parsed.dataDir);
  } catch (error) {
    if (!(error instanceof DataFolderInUseError)) throw error;
    output.err.write(`${error.message}\n`);
    return SYNC_EXIT_CODES.failed;
  }
  try {
    await migrate(database);
    const vault = loadVault({ encryptionKey: config.encryptionKey, dataDir, logger });
    const connection = await connectByApiKey(database, vault, config, account.value);
    const syncHistoryDays = parsed.since ? Math.max(1, Math.ceil((Date.now() - parsed.since.getTime()) / DAY_MS)) : config.syncHistoryDays;

    const syncRunId = await createRun(database, connection);
    output.err.write(`Syncing PagerDuty at ${account.value.apiUrl} into ${parsed.dataDir ?? (config.databaseUrl ? 'PostgreSQL' : dataDir)}\n`);
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
    .option('--api-key <key>', 'PagerDuty REST API key (account or user key); other users can see it in `ps`, so prefer --api-key-file or SEATWISE_PAGERDUTY_API_KEY')
    .option('--api-key-file <file>', 'file whose first line is the PagerDuty REST API key')
    .option('--api-url <url>', `PagerDuty REST API base URL, such as the simulator's (default: ${PAGERDUTY_API_HOSTS.us}, then ${PAGERDUTY_API_HOSTS.eu} if the US host rejects the key)`)
    .option('--data-dir <dir>', 'data folder of the embedded database (default: SEATWISE_DATA_DIR)')
    .option('--since <date>', 'read history from this date (ISO 8601, UTC) instead of the last SYNC_HISTORY_DAYS days', parseSince)
    .addHelpText('after', '\nWithout --api-key or --api-key-file, the key is read from the SEATWISE_PAGERDUTY_API_KEY environment variable.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => output.out.write(text), writeErr: (text) => output.err.write(text) });

  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? SYNC_EXIT_CODES.succeeded : SYNC_EXIT_CODES.usage;
    throw error;
  }
  const options = command.opts<{ apiKey?: string; apiKeyFile?: string; apiUrl?: string; dataDir?: string; since?: Date }>();
  if (options.apiKey !== undefined && options.apiKeyFile !== undefined) {
    output.err.write('--api-key and --api-key-file both name an API key; pass only one of them\n');
    return SYNC_EXIT_CODES.usage;
  }
  let apiUrl: string | undefined;
  if (options.apiUrl !== undefined) {
    try {
      apiUrl = new URL(options.apiUrl).toString().replace(/\/+$/, '');
    } catch {
      output.err.write(`--api-url must be a URL such as ${PAGERDUTY_API_HOSTS.us}, got "${options.apiUrl}"\n`);
      return SYNC_EXIT_CODES.usage;
    }
  }
  return { apiKey: options.apiKey, apiKeyFile: options.apiKeyFile, apiUrl, dataDir: options.dataDir, since: options.since };
}

/** Takes the API key from `--api-key`, `--api-key-file` or SEATWISE_PAGERDUTY_API_KEY, in that order. */
async function resolveApiKey(options: SyncCommandOptions, config: Config): Promise<{ ok: true; value: string } | { ok: false; message: string }> {
  if (options.apiKey !== undefined) {
    const key = options.apiKey.trim();
    if (key === '') return { ok: false, message: 'The API key passed to --api-key is empty; pass the PagerDuty REST API key, or use --api-key-file FILE.' };
    return { ok: true, value: key };
  }
  if (options.apiKeyFile !== undefined) {
    let text: string;
    try {
      text = await readFile(options.apiKeyFile, 'utf8');
    } catch (error) {
      return { ok: false, message: `Could not read the API key file ${options.apiKeyFile}: ${(error as Error).message}. Check the path passed to --api-key-file.` };
    }
    const key = text.split(/\r?\n/, 1)[0]?.trim() ?? '';
    if (key === '') return { ok: false, message: `The API key file ${options.apiKeyFile} is empty; write the PagerDuty REST API key on its first line.` };
    return { ok: true, value: key };
  }
  if (config.pagerduty.apiKey !== undefined) return { ok: true, value: config.pagerduty.apiKey };
  return { ok: false, message: 'Missing PagerDuty API key: pass --api-key-file FILE, set SEATWISE_PAGERDUTY_API_KEY, or pass --api-key KEY.' };
}

/**
 * Finds the host that accepts the key: the `--api-url` one, or else the US host and then the EU
 * host, as the web API-key connect does. The key is checked before any data is written.
 */
async function findAccount(
  apiKey: string,
  apiUrl: string | undefined,
  regionHosts: Readonly<Record<PagerDutyRegion, string>>,
): Promise<{ ok: true; value: ApiKeyAccount } | { ok: false; exitCode: number; message: string }> {
  const hosts = apiUrl === undefined ? [regionHosts.us, regionHosts.eu] : [apiUrl];
  const probe = await probeApiKey(hosts, apiKey);
  if (probe.ok) {
    let region: PagerDutyRegion | null = regionOfApiBaseUrl(probe.value.apiBaseUrl);
    if (apiUrl === undefined) region = probe.value.apiBaseUrl === regionHosts.eu ? 'eu' : 'us';
    return { ok: true, value: { apiKey, apiUrl: probe.value.apiBaseUrl, region, subdomain: probe.value.subdomain } };
  }

  switch (probe.error.kind) {
    // Every host rejected the key with HTTP 401 or 403.
    case 'unauthorized': {
      const where = apiUrl === undefined ? `the US host (${regionHosts.us}) or the EU host (${regionHosts.eu})` : apiUrl;
      const hint = apiUrl === undefined ? '' : ` For an EU account pass --api-url ${PAGERDUTY_API_HOSTS.eu}; without --api-url both hosts are tried.`;
      return { ok: false, exitCode: SYNC_EXIT_CODES.needsAction, message: `PagerDuty at ${where} rejected the API key: check that it is a current REST API key.${hint}` };
    }
    // The host could not be reached, failed, or returned a body that is not PagerDuty's user list.
    case 'temporary':
    case 'invalid_response':
      return { ok: false, exitCode: SYNC_EXIT_CODES.failed, message: `Could not check the API key: ${probe.error.message}. Check --api-url and the network, then run the command again.` };
    default: {
      const unreachable: never = probe.error.kind;
      throw new Error(`Unknown API key probe failure ${String(unreachable)}`);
    }
  }
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
  account: ApiKeyAccount,
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
    api_base_url: account.apiUrl,
    region: account.region,
    subdomain: account.subdomain,
    updated_at: now,
  };
  const connection = await db
    .insertInto('connections')
    .values({ ...values, organization_id: organization.id, provider: 'pagerduty' })
    // Matches the partial unique index on live (not archived) connections.
    .onConflict((conflict) => conflict.columns(['organization_id', 'provider']).where('archived_at', 'is', null).doUpdateSet(values))
    .returning('id')
    .executeTakeFirstOrThrow();
  await saveCredentials(db, vault, connection.id, { accessToken: account.apiKey, refreshToken: null, accessTokenExpiresAt: null });
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
      stream.write(`\r\x1b[2K${progressBar(done, Math.max(rows.length, 1))} ${done}/${countOf(rows.length, 'stream')}, ${countOf(records, 'record')}${running.length > 0 ? ` (${running.join(', ')})` : ''}`);
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
  const lines = [`Sync ${outcome.status.replace('_', ' ')}: ${countOf(outcome.requestCount, 'request')}`];
  const nameWidth = Math.max(...outcome.streams.map((stream) => stream.name.length), 6);
  for (const stream of outcome.streams) {
    const counts = `${String(stream.records).padStart(9)} ${pluralOf(stream.records, 'record').padEnd(7)} ${String(stream.pages).padStart(6)} ${pluralOf(stream.pages, 'page')}`;
    lines.push(`  ${stream.name.padEnd(nameWidth)}  ${stream.status.padEnd(11)} ${counts}${stream.message ? `  ${stream.message}` : ''}`);
  }
  if (outcome.errorMessage) lines.push(outcome.errorMessage);
  return `${lines.join('\n')}\n`;
}

function pluralOf(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}

function countOf(count: number, noun: string): string {
  return `${count} ${pluralOf(count, noun)}`;
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
