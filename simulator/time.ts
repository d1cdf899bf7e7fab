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
