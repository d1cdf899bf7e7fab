import type { Region, RoleGroup, SimAccount, UserRole } from './model.ts';

export interface SeatTruth {
  licenseId: string;
  licenseName: string;
  roleGroup: RoleGroup;
  /** `current_value + allocations_available`; null when PagerDuty reports no limit. */
  paid: number | null;
  allocated: number;
  active30d: number;
  active90d: number;
  neverActive: number;
}

export interface PersonTruth {
  id: string;
  name: string;
  email: string;
  role: UserRole;
  licenseId: string;
  lastSeenAt: string | null;
  lastSeenSignal: 'incident_action' | null;
}

export interface GroundTruth {
  asOf: string;
  account: { subdomain: string; region: Region };
  seats: SeatTruth[];
  people: PersonTruth[];
}

const DAY_MS = 86_400_000;

/** History a sync reads: log entries created at or after `asOf` minus this many days. */
export const SYNCED_HISTORY_DAYS = 90;

/**
 * Computes what Seatwise should report at `asOf`, by the definitions in docs/architecture.md. Last
 * seen is the newest log entry whose agent is the person, among entries created in
 * [asOf − 90 days, asOf]; entries after `asOf` did not exist yet at that instant.
 */
export function computeGroundTruth(account: SimAccount, asOf: Date): GroundTruth {
  const asOfMs = asOf.getTime();
  const historyStartMs = asOfMs - SYNCED_HISTORY_DAYS * DAY_MS;
  const lastSeen = new Map<string, number>();

  // Entries arrive newest first, so the first one seen per person is their last seen.
  account.history.scanEntries(historyStartMs, asOfMs + 1, (entry) => {
    if (entry.agent.type === 'user_reference' && !lastSeen.has(entry.agent.id)) lastSeen.set(entry.agent.id, entry.createdAt.getTime());
  });

  const people: PersonTruth[] = account.users.map((user) => {
    const seenAt = lastSeen.get(user.id);
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      role: user.role,
      licenseId: user.licenseId,
      lastSeenAt: seenAt === undefined ? null : new Date(seenAt).toISOString(),
      lastSeenSignal: seenAt === undefined ? null : 'incident_action',
    };
  });

  const seats: SeatTruth[] = account.licenses.map((license) => {
    const holders = account.users.filter((user) => user.licenseId === license.id);
    const activeWithin = (days: number): number =>
      holders.filter((user) => {
        const seenAt = lastSeen.get(user.id);
        return seenAt !== undefined && seenAt >= asOfMs - days * DAY_MS;
      }).length;
    return {
      licenseId: license.id,
      licenseName: license.name,
      roleGroup: license.roleGroup,
      paid: license.allocationsAvailable === null ? null : holders.length + license.allocationsAvailable,
      allocated: holders.length,
      active30d: activeWithin(30),
      active90d: activeWithin(90),
      neverActive: holders.filter((user) => !lastSeen.has(user.id)).length,
    };
  });

  return { asOf: asOf.toISOString(), account: { subdomain: account.subdomain, region: account.region }, seats, people };
}

/** One thing a person did: a log entry whose agent is that person. */
export interface PersonAction {
  userId: string;
  at: string;
  logEntryType: string;
  channel: string;
  incidentId: string;
  logEntryId: string;
}

/** Lists what people did in [since, until), newest first, optionally for one person. */
export function listActions(account: SimAccount, since: Date, until: Date, userId?: string): PersonAction[] {
  const actions: PersonAction[] = [];
  account.history.scanEntries(since.getTime(), until.getTime(), (entry) => {
    if (entry.agent.type !== 'user_reference' || (userId !== undefined && entry.agent.id !== userId)) return;
    actions.push({
      userId: entry.agent.id,
      at: entry.createdAt.toISOString(),
      logEntryType: entry.type,
      channel: entry.channel.type,
      incidentId: entry.incidentId,
      logEntryId: entry.id,
    });
  });
  return actions;
}
