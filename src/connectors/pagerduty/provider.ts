/**
 * PagerDuty facts as data: hosts, headers, paging and rate limits of REST API v2. Sources:
 * PagerDuty's developer documentation (REST API pagination, rate limits, errors, versioning) and
 * the public OpenAPI description `PagerDuty/api-schema` reference/REST/openapiv3.json.
 */

/** REST API hosts by service region; the ID token's `aud` names the one serving an account. */
export const PAGERDUTY_API_HOSTS = {
  us: 'https://api.pagerduty.com',
  eu: 'https://api.eu.pagerduty.com',
} as const;

export type PagerDutyRegion = keyof typeof PAGERDUTY_API_HOSTS;

export const PAGERDUTY_API_BASE_URLS: readonly string[] = Object.values(PAGERDUTY_API_HOSTS);

export const PAGERDUTY_IDENTITY_URL = 'https://identity.pagerduty.com';

/** Pins the REST API version; without it the version follows the token's creation date. */
export const PAGERDUTY_ACCEPT_HEADER = 'application/vnd.pagerduty+json;version=2';

/** Largest `limit` an offset-paginated endpoint accepts. */
export const MAX_PAGE_SIZE = 100;

/** `offset + limit` may not exceed this; PagerDuty rejects such a request with HTTP 400, code 2002. */
export const OFFSET_CAP = 10_000;

/** Requests a minute per token (per app and user for OAuth, per key for API keys). */
export const RATE_LIMIT_PER_MINUTE = 960;

export const RATE_LIMIT_HEADERS = {
  limit: 'ratelimit-limit',
  remaining: 'ratelimit-remaining',
  /** Seconds until the window resets. */
  reset: 'ratelimit-reset',
} as const;

/** PagerDuty error codes the client branches on. */
export const PAGERDUTY_ERROR_CODES = {
  /** Arguments Caused Error, such as `offset + limit` above the cap. */
  argumentsCausedError: 2002,
  authenticationFailed: 2006,
  /** Missing Account Ability: the plan lacks the feature (HTTP 402). */
  missingAbility: 2014,
  rateLimitExceeded: 2020,
} as const;

/** Longest `since`..`until` range each windowed endpoint accepts, in days. */
export const MAX_WINDOW_DAYS = {
  /** Six months; 179 days stays clear of month-length differences. */
  incidents: 179,
  /** Not documented; the engine uses incident-sized windows. */
  logEntries: 179,
  /** Must be under three months, and February to April spans only 89 days. */
  notifications: 88,
  /** At most 31 days after `since`. */
  auditRecords: 31,
  /** Shifts at most 90 days ahead of now. */
  oncallsAhead: 90,
} as const;

/** Largest `limit` of `POST /analytics/raw/*` requests. */
export const MAX_ANALYTICS_PAGE_SIZE = 1000;

/** Returns the region whose REST host `apiBaseUrl` is, or null for another host such as a simulator. */
export function regionOfApiBaseUrl(apiBaseUrl: string): PagerDutyRegion | null {
  const normalized = apiBaseUrl.replace(/\/+$/, '');
  for (const [region, host] of Object.entries(PAGERDUTY_API_HOSTS)) {
    if (host === normalized) return region as PagerDutyRegion;
  }
  return null;
}
