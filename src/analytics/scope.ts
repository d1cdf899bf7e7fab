const DAY_MS = 86_400_000;

/** One crunch: the connection it recomputes, its organization, and the instant it computes for. */
export interface CrunchScope {
  connectionId: string;
  organizationId: string;
  asOf: Date;
}

/** Returns the instant `days` whole days of 24 hours before `asOf`; all windows are in UTC. */
export function daysBefore(asOf: Date, days: number): Date {
  return new Date(asOf.getTime() - days * DAY_MS);
}

/** Returns the instant `days` whole days of 24 hours after `asOf`. */
export function daysAfter(asOf: Date, days: number): Date {
  return new Date(asOf.getTime() + days * DAY_MS);
}
