/**
 * Formatting for the viewer's locale and time zone. `undefined` as locale makes Intl use the
 * browser's language settings.
 */

const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percentFormat = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });
const localTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export function formatCount(value: number): string {
  return integerFormat.format(value);
}

/** Formats a count that may be unknown, e.g. paid seats when PagerDuty reports no limit. */
export function formatOptionalCount(value: number | null, unknownText = 'Not reported'): string {
  return value === null ? unknownText : integerFormat.format(value);
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '–';
  return percentFormat.format(part / whole);
}

/** Formats the instant in the viewer's time zone, e.g. "4 Dec 2026, 19:52". */
export function formatLocalTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return localTimeFormat.format(date);
}

/** Formats the instant in UTC, shown on hover so people in different zones can compare. */
export function formatUtcTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "3 minutes ago", "yesterday", in the viewer's language. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const time = new Date(iso).getTime();
  if (Number.isNaN(time)) return iso;
  const deltaMs = time - now;
  const magnitude = Math.abs(deltaMs);
  if (magnitude < MINUTE_MS) return relativeFormat.format(Math.round(deltaMs / 1000), 'second');
  if (magnitude < HOUR_MS) return relativeFormat.format(Math.round(deltaMs / MINUTE_MS), 'minute');
  if (magnitude < DAY_MS) return relativeFormat.format(Math.round(deltaMs / HOUR_MS), 'hour');
  return relativeFormat.format(Math.round(deltaMs / DAY_MS), 'day');
}

/** "2 min 5 s" between two instants, or null when either is missing. */
export function formatDuration(startIso: string | null, endIso: string | null): string | null {
  if (startIso === null || endIso === null) return null;
  const ms = new Date(endIso).getTime() - new Date(startIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return null;
  if (ms < 500) return 'under 1 s';
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes === 0) return `${seconds} s`;
  return `${integerFormat.format(minutes)} min ${seconds} s`;
}

/**
 * Names whose words `humanize` would spell wrongly: product terms with their own capitals or
 * hyphens, keyed by the sync stream or signal identifier.
 */
const LABELS: Readonly<Record<string, string>> = {
  oauth_delegations: 'OAuth delegations',
  oncalls: 'On-call shifts',
  on_call_shift: 'On-call shift',
};

/** Returns the label of a sync stream or signal identifier, such as "On-call shifts" for `oncalls`. */
export function labelOf(identifier: string): string {
  return LABELS[identifier] ?? humanize(identifier);
}

/** Turns a machine name such as `license_allocations` or `incident_action` into "License allocations". */
export function humanize(identifier: string): string {
  const words = identifier.replace(/[_-]+/g, ' ').trim();
  if (words === '') return identifier;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Formats an amount given in minor units (cents) of `currency`, e.g. 123456 USD → "$1,234.56". */
export function formatMoney(minor: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(toMajorUnits(minor, currency));
}

/** Converts minor units to the currency's main unit by its ISO 4217 exponent (2 for USD, 0 for JPY). */
export function toMajorUnits(minor: number, currency: string): number {
  const fractionDigits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return minor / 10 ** fractionDigits;
}

const calendarDateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

/** Formats a calendar date `YYYY-MM-DD` for the viewer. It names a day, so no time zone shifts it. */
export function formatCalendarDate(isoDate: string): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return isoDate;
  return calendarDateFormat.format(date);
}

/** Returns the viewer's decimal separator, e.g. "." for en-US and "," for de-DE, as Intl formats 1.5. */
export function localDecimalSeparator(locale?: string): string {
  const parts = new Intl.NumberFormat(locale).formatToParts(1.5);
  return parts.find((part) => part.type === 'decimal')?.value ?? '.';
}

/**
 * Reads an amount typed by a person into the API's decimal form ("41.50"), accepting a point or
 * the viewer's own decimal separator. Returns null for anything else, such as digit grouping
 * ("1,000" in en-US), signs, exponents or more than `maxFractionDigits` decimals: a comma that
 * is not the viewer's decimal separator is ambiguous, so it is rejected rather than guessed.
 */
export function parseDecimalInput(text: string, maxFractionDigits = 2, locale?: string): string | null {
  const separators = new Set(['.', localDecimalSeparator(locale)]);
  const trimmed = text.trim();
  const match = /^(\d{1,9})(?:(.)(\d+))?$/u.exec(trimmed);
  if (match === null) return null;
  const [, whole = '', separator, fraction] = match;
  if (separator === undefined || fraction === undefined) return whole;
  if (!separators.has(separator) || fraction.length > maxFractionDigits) return null;
  return `${whole}.${fraction}`;
}

/** Reads a whole number of at most nine digits typed by a person. Returns null for signs, exponents or decimals. */
export function parseWholeNumberInput(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,9}$/.test(trimmed)) return null;
  return Number(trimmed);
}
