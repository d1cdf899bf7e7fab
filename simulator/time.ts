/** Instants as PagerDuty renders them: to the second, in UTC or in a requested IANA time zone. */

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Formats `at` as `2026-03-01T09:30:00Z`, or with the zone's offset (`2026-03-01T10:30:00+01:00`). */
export function formatInstant(at: Date, timeZone: string | undefined): string {
  const seconds = Math.floor(at.getTime() / 1000) * 1000;
  if (timeZone === undefined || timeZone === 'UTC' || timeZone === 'Etc/UTC') return new Date(seconds).toISOString().replace('.000Z', 'Z');

  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(new Date(seconds)).map((part) => [part.type, part.value]));
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const offsetMinutes = Math.round((Date.parse(`${local}Z`) - seconds) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
}

const DAY_MS = 86_400_000;

/** Returns the zone's offset from UTC at `atMs`, in milliseconds (positive east of Greenwich). */
export function zoneOffsetMs(atMs: number, timeZone: string): number {
  const seconds = Math.floor(atMs / 1000) * 1000;
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(new Date(seconds)).map((part) => [part.type, part.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return local - seconds;
}

/** Days since 1970-01-01 of the local calendar date at `atMs` in `timeZone`. */
export function localDayNumber(atMs: number, timeZone: string): number {
  return Math.floor((atMs + zoneOffsetMs(atMs, timeZone)) / DAY_MS);
}

/**
 * Converts a local wall-clock time to its UTC instant. A time skipped by a daylight-saving change resolves to
 * the instant after the gap, as PagerDuty's schedules do for handoffs.
 */
export function localTimeToUtc(dayNumber: number, hour: number, timeZone: string): number {
  const wallClock = dayNumber * DAY_MS + hour * 3_600_000;
  const firstGuess = wallClock - zoneOffsetMs(wallClock, timeZone);
  return wallClock - zoneOffsetMs(firstGuess, timeZone);
}

/**
 * Reads an instant the way PagerDuty reads `since` and `until`: with an explicit offset or `Z` as
 * given, otherwise (`2026-03-01` or `2026-03-01T10:00:00`) as local time in `timeZone`.
 * Returns undefined for text that is not an ISO 8601 date or date-time.
 */
export function parseInstantInZone(text: string, timeZone: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (match === null) return undefined;
  if (match[7] !== undefined) {
    const parsed = Date.parse(text.trim().replace(' ', 'T'));
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  const wallClock = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0));
  if (Number.isNaN(wallClock)) return undefined;
  const firstGuess = wallClock - zoneOffsetMs(wallClock, timeZone);
  return wallClock - zoneOffsetMs(firstGuess, timeZone);
}
