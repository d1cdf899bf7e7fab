import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The environment Seatwise reads, parsed once at start-up. No other module reads `process.env`:
 * code receives the parsed `Config` instead.
 */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  SEATWISE_PUBLIC_URL: z.url().optional(),
  SEATWISE_DATA_DIR: z.string().default('./.seatwise'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  SEATWISE_ENCRYPTION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/=_-]{43,}(,[A-Za-z0-9+/=_-]{43,})*$/, 'must be 32 random bytes in base64 (openssl rand -base64 32); separate older keys with commas, newest first')
    .optional(),
  SEATWISE_ADMIN_EMAIL: z.email().optional(),
  SEATWISE_ADMIN_PASSWORD: z.string().min(12, 'must have at least 12 characters').optional(),
  SEATWISE_ORGANIZATION_NAME: z.string().min(1).default('My organization'),
  SEATWISE_SUPPORT_EMAIL: z.email().default('support@seatwise.invalid'),
  SEATWISE_SESSION_SECRET: z.string().min(32).optional(),
  SEATWISE_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  SEATWISE_MAIL_FROM: z.string().min(3).default('Seatwise <no-reply@seatwise.invalid>'),
  PAGERDUTY_CLIENT_ID: z.string().min(1).optional(),
  PAGERDUTY_CLIENT_SECRET: z.string().min(1).optional(),
  PAGERDUTY_IDENTITY_URL: z.url().default('https://identity.pagerduty.com'),
  PAGERDUTY_OAUTH_SCOPE: z.string().default('read'),
  SEATWISE_PAGERDUTY_API_KEY: z.string().min(1).optional(),
  SIMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
  SIMULATOR_SEED: z.coerce.number().int().default(42),
  SIMULATOR_PEOPLE: z.coerce.number().int().min(5).max(50_000).default(250),
  SYNC_HISTORY_DAYS: z.coerce.number().int().min(1).max(730).default(90),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
  SYNC_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SYNC_LEASE_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(3),
  SYNC_LEASE_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(3_600).default(15),
  METRICS_TOKEN: z.string().min(16, 'must have at least 16 characters (openssl rand -hex 32)').optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  /** The origin browsers use to reach Seatwise; OAuth redirect URIs are built from it. */
  publicUrl: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  encryptionKey: string | undefined;
  bootstrapAdmin: { email: string; password: string } | undefined;
  organizationName: string;
  supportEmail: string;
  sessionSecret: string | undefined;
  /** SMTP server for outgoing mail; unset keeps every message in the outbox page. */
  smtpUrl: string | undefined;
  mailFrom: string;
  pagerduty: {
    /** Undefined when no OAuth app is configured: `start` then runs the built-in simulator. */
    clientId: string | undefined;
    clientSecret: string | undefined;
    identityUrl: string;
    scope: string;
    /** REST API key `seatwise sync` uses when the command line names none. */
    apiKey: string | undefined;
  };
  simulator: { port: number; seed: number; people: number };
  syncHistoryDays: number;
  logLevel: Env['LOG_LEVEL'];
  /** Time a stopping process gives running syncs to checkpoint before it exits anyway. */
  shutdownTimeoutSeconds: number;
  syncWorker: {
    /** Syncs one worker process runs at once; each holds one connection's lease. */
    concurrency: number;
    /** How often a worker confirms its lease session and looks for sync jobs whose worker died. */
    leaseHeartbeatSeconds: number;
    /** Silence after which PostgreSQL ends a worker's lease session, freeing its connections for others. */
    leaseTimeoutSeconds: number;
  };
  /** Bearer token `/metrics` requires; unset serves `/metrics` to loopback clients only. */
  metricsToken: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment and reports every invalid variable together. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(withoutEmptyValues(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const values = parsed.data;

  const problems: string[] = [];
  if ((values.SEATWISE_ADMIN_EMAIL === undefined) !== (values.SEATWISE_ADMIN_PASSWORD === undefined)) {
    problems.push('SEATWISE_ADMIN_EMAIL and SEATWISE_ADMIN_PASSWORD must be set together');
  }
  if ((values.PAGERDUTY_CLIENT_ID === undefined) !== (values.PAGERDUTY_CLIENT_SECRET === undefined)) {
    problems.push('PAGERDUTY_CLIENT_ID and PAGERDUTY_CLIENT_SECRET must be set together');
  }
  if (values.SYNC_LEASE_TIMEOUT_SECONDS < 2 * values.SYNC_LEASE_HEARTBEAT_SECONDS) {
    problems.push(
      `SYNC_LEASE_TIMEOUT_SECONDS (${values.SYNC_LEASE_TIMEOUT_SECONDS}) must be at least twice SYNC_LEASE_HEARTBEAT_SECONDS (${values.SYNC_LEASE_HEARTBEAT_SECONDS}), so one late heartbeat does not end a live worker's leases; raise the timeout or lower the heartbeat`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: values.PORT,
    host: values.HOST,
    publicUrl: values.SEATWISE_PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir: resolve(values.SEATWISE_DATA_DIR),
    databaseUrl: values.DATABASE_URL,
    encryptionKey: values.SEATWISE_ENCRYPTION_KEY,
    bootstrapAdmin:
      values.SEATWISE_ADMIN_EMAIL && values.SEATWISE_ADMIN_PASSWORD
        ? { email: values.SEATWISE_ADMIN_EMAIL, password: values.SEATWISE_ADMIN_PASSWORD }
        : undefined,
    organizationName: values.SEATWISE_ORGANIZATION_NAME,
    supportEmail: values.SEATWISE_SUPPORT_EMAIL,
    sessionSecret: values.SEATWISE_SESSION_SECRET,
    smtpUrl: values.SEATWISE_SMTP_URL,
    mailFrom: values.SEATWISE_MAIL_FROM,
    pagerduty: {
      clientId: values.PAGERDUTY_CLIENT_ID,
      clientSecret: values.PAGERDUTY_CLIENT_SECRET,
      identityUrl: values.PAGERDUTY_IDENTITY_URL.replace(/\/+$/, ''),
      scope: values.PAGERDUTY_OAUTH_SCOPE,
      apiKey: values.SEATWISE_PAGERDUTY_API_KEY,
    },
    simulator: { port: values.SIMULATOR_PORT, seed: values.SIMULATOR_SEED, people: values.SIMULATOR_PEOPLE },
    syncHistoryDays: values.SYNC_HISTORY_DAYS,
    logLevel: values.LOG_LEVEL,
    shutdownTimeoutSeconds: values.SHUTDOWN_TIMEOUT_SECONDS,
    syncWorker: {
      concurrency: values.SYNC_WORKER_CONCURRENCY,
      leaseHeartbeatSeconds: values.SYNC_LEASE_HEARTBEAT_SECONDS,
      leaseTimeoutSeconds: values.SYNC_LEASE_TIMEOUT_SECONDS,
    },
    metricsToken: values.METRICS_TOKEN,
  };
}

/** Treats `FOO=` like an unset variable, as shells and .env files commonly produce it. */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') result[name] = value;
  }
  return result;
}
