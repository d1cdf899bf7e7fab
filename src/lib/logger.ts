import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Field names whose values are secrets wherever they appear in a log line. Values are also
 * scrubbed by pattern in `redactSecrets`, for secrets that end up inside free text.
 */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'id_token',
  '*.id_token',
  'code',
  '*.code',
  'code_verifier',
  '*.code_verifier',
  'client_secret',
  '*.client_secret',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'cookie',
  '*.cookie',
];

/** PagerDuty tokens (`pdus+_…`), bearer and `Token token=` credentials, JWTs and OAuth query values. */
const SECRET_PATTERNS: RegExp[] = [
  /pd[a-z]{2}\+_[A-Za-z0-9_+/=-]+/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /(Token token=)[A-Za-z0-9._~+/=-]+/gi,
  /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
  /([?&](?:code|state|access_token|refresh_token|token)=)[^&\s"]+/gi,
];

export function redactSecrets(text: string): string {
  let result = text;
  for (const pattern of SECRET_PATTERNS) {
    result = result.replace(pattern, (_match, prefix?: string) => `${typeof prefix === 'string' ? prefix : ''}[redacted]`);
  }
  return result;
}

/**
 * Creates the process logger: JSON lines, or readable lines through pino-pretty when standard
 * output is a terminal and no destination is given.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const output = destination ?? (process.stdout.isTTY ? pino.transport({ target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } }) : undefined);
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      hooks: {
        // Scrubs the finished line, after pino's serializers ran, so secrets inside messages,
        // error texts and URLs are caught as well as those under the redacted field names.
        streamWrite: (line) => redactSecrets(line),
      },
    },
    output,
  );
}
