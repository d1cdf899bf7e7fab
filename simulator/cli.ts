import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../src/lib/logger.ts';
import { startSimulator, type SimulatorOptions } from './index.ts';
import { isValidTimeZone } from './time.ts';

function integer(minimum: number, maximum: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < minimum || parsed > maximum) throw new InvalidArgumentError(`must be an integer from ${minimum} to ${maximum}`);
    return parsed;
  };
}

function rate(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return parsed;
}

interface SimulateFlags {
  host: string;
  port: number;
  euPort: number;
  seed: number;
  people: number;
  region: 'us' | 'eu';
  plan: NonNullable<SimulatorOptions['plan']>;
  timeZone: string;
  historyDays: number;
  incidents?: number;
  burstIncidents?: number;
  burstDaysAgo: number;
  latencyMs: number;
  rateLimit: number;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string[];
  faultServerError: number;
  faultReset: number;
  faultSlowBody: number;
  fault429: number;
  logLevel: string;
}

function buildCommand(): Command {
  return new Command('simulate')
    .name('seatwise simulate')
    .description('Run the PagerDuty simulator alone. The first line printed is a JSON object with its URLs and credentials.')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port of the identity pages and the US API (0 picks a free port)', integer(0, 65_535), 3001)
    .option('--eu-port <port>', 'port of the EU API host (0 picks a free port)', integer(0, 65_535), 0)
    .option('--seed <number>', 'seed of the generated account; the same seed gives the same account', integer(0, 2 ** 32 - 1), 42)
    .option('--people <count>', 'number of people in the account', integer(5, 50_000), 250)
    .addOption(new Option('--region <region>', 'service region of the account').choices(['us', 'eu']).default('us'))
    .addOption(new Option('--plan <plan>', 'plan of the account, which decides its abilities').choices(['free', 'professional', 'business', 'enterprise']).default('business'))
    .option('--time-zone <zone>', 'IANA time zone of the account', 'Etc/UTC')
    .option('--history-days <days>', 'days of generated incident history', integer(1, 3_650), 100)
    .option('--incidents <count>', 'incidents over the whole history; generates history lazily, one day at a time, for large accounts', integer(1, 100_000_000))
    .option('--burst-incidents <count>', 'with --incidents: extra incidents on one day (a burst)', integer(1, 10_000_000))
    .option('--burst-days-ago <days>', 'with --burst-incidents: how many days before now the burst day is', integer(0, 3_650), 1)
    .option('--latency-ms <ms>', 'delay before every response, in milliseconds', integer(0, 60_000), 0)
    .option('--rate-limit <requests>', 'requests per minute allowed per token or key', integer(1, 1_000_000), 960)
    .option('--client-id <id>', 'OAuth client id (default seatwise-demo-client)')
    .option('--client-secret <secret>', 'OAuth client secret (default a fixed demo secret)')
    .option('--redirect-uri <uri...>', 'exact redirect URIs allowed (default any http URI on 127.0.0.1 or localhost)')
    .option('--fault-server-error <rate>', 'share of REST requests answered with HTTP 5xx, from 0 to 1', rate, 0)
    .option('--fault-reset <rate>', 'share of REST requests whose connection is reset, from 0 to 1', rate, 0)
    .option('--fault-slow-body <rate>', 'share of REST responses sent in two halves two seconds apart, from 0 to 1', rate, 0)
    .option('--fault-429 <rate>', 'share of REST requests answered with HTTP 429 without rate-limit headers, from 0 to 1', rate, 0)
    .addOption(new Option('--log-level <level>', 'log level of the simulator on standard error').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'))
    .exitOverride()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) });
}

/**
 * Runs `seatwise simulate`: starts the simulator, prints one JSON line with what a client needs to
 * connect, then serves until SIGINT or SIGTERM.
 */
export async function runSimulateCommand(argv: string[]): Promise<void> {
  const command = buildCommand();
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    const exitCode = (error as { exitCode?: number }).exitCode;
    process.exitCode = exitCode ?? 1;
    return;
  }
  const flags = command.opts<SimulateFlags>();
  if (flags.burstIncidents !== undefined && flags.incidents === undefined) {
    process.stderr.write('--burst-incidents needs --incidents, because bursts exist only in lazily generated histories\n');
    process.exitCode = 1;
    return;
  }
  if (flags.incidents !== undefined && flags.burstDaysAgo >= flags.historyDays) {
    process.stderr.write(`--burst-days-ago must be less than --history-days (${flags.historyDays})\n`);
    process.exitCode = 1;
    return;
  }
  if (!isValidTimeZone(flags.timeZone)) {
    process.stderr.write(`--time-zone "${flags.timeZone}" is not a valid IANA time zone, such as Europe/Berlin\n`);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger(flags.logLevel, process.stderr);

  const simulator = await startSimulator({
    host: flags.host,
    port: flags.port,
    euPort: flags.euPort,
    seed: flags.seed,
    people: flags.people,
    region: flags.region,
    plan: flags.plan,
    timeZone: flags.timeZone,
    historyDays: flags.historyDays,
    ...(flags.incidents === undefined ? {} : { incidents: flags.incidents }),
    ...(flags.burstIncidents === undefined ? {} : { burst: { daysAgo: flags.burstDaysAgo, incidents: flags.burstIncidents } }),
    latencyMs: flags.latencyMs,
    rateLimitPerMinute: flags.rateLimit,
    ...(flags.clientId === undefined ? {} : { clientId: flags.clientId }),
    ...(flags.clientSecret === undefined ? {} : { clientSecret: flags.clientSecret }),
    ...(flags.redirectUri === undefined ? {} : { redirectUris: flags.redirectUri }),
    faults: { serverError: flags.faultServerError, connectionReset: flags.faultReset, slowBody: flags.faultSlowBody, rateLimitWithoutHeaders: flags.fault429 },
    logger,
  });

  process.stdout.write(
    `${JSON.stringify({
      apiUrl: simulator.account.apiUrl,
      usApiUrl: simulator.apiUrl,
      euApiUrl: simulator.euApiUrl,
      identityUrl: simulator.identityUrl,
      authorizeUrl: `${simulator.identityUrl}/oauth/authorize`,
      tokenUrl: `${simulator.identityUrl}/oauth/token`,
      jwksUrl: `${simulator.identityUrl}/global/oauth/anonymous/jwks`,
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      login: simulator.login,
      apiKey: simulator.apiKey,
      account: simulator.account,
      groundTruthUrl: `${simulator.account.apiUrl}/__simulator/ground-truth`,
    })}\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await simulator.close();
}
