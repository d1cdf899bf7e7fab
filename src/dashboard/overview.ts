import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { getContract } from '../analytics/contracts.ts';
import { presentConfidence, type ConfidenceView } from './confidence.ts';
import { presentFreshness, type FreshnessView } from './freshness.ts';
import { presentSavings, type SavingsView } from './savings.ts';
import { presentWeeklyActivity, type WeeklyActivityView } from './weekly-activity.ts';

export interface OverviewSeat {
  licenseId: string;
  licenseName: string;
  roleGroup: string;
  /** Seats bought; null when PagerDuty reports no limit for the license. */
  paid: number | null;
  allocated: number;
  active30d: number;
  active60d: number;
  active90d: number;
  neverActive: number;
}

export interface OverviewView {
  connection: { subdomain: string | null; region: string | null; lastSyncAt: string | null } | null;
  /** When the crunch last ran (ISO 8601), or null before the first crunch. */
  computedAt: string | null;
  seats: OverviewSeat[];
  /**
   * Set when PagerDuty did not let Seatwise read licenses, so `seats` holds role groups derived
   * from each person's role and `paid` is known only from the contract. Null for license seats.
   */
  seatsByRole: { note: string; licenseStatus: number | null } | null;
  /** Sums over `seats`; `paid` is null when any license has no limit. */
  totals: { paid: number | null; allocated: number; active30d: number; active90d: number };
  /** Cost from the entered contract, in minor currency units; null without a contract. */
  costs: {
    currency: string;
    yearlyTotalMinor: number;
    /** Yearly cost divided by people active in 30 (90) days; null when no one was active. */
    perActiveUser30dMinor: number | null;
    perActiveUser90dMinor: number | null;
  } | null;
  /** Potential yearly savings of the open recommendations, per kind. */
  savings: SavingsView;
  /** Weekly active people per feature over the synced history. */
  weeklyActivity: WeeklyActivityView;
  freshness: FreshnessView;
  confidence: ConfidenceView;
}

/**
 * Builds the overview page of one organization: the connected account, seat figures per license,
 * costs and potential savings, weekly active people per feature, data freshness and confidence.
 */
export async function presentOverview(db: Kysely<DB>, organizationId: string): Promise<OverviewView> {
  const connection = await db
    .selectFrom('connections')
    .select(['subdomain', 'region', 'last_sync_at'])
    .where('organization_id', '=', organizationId)
    .where('provider', '=', 'pagerduty')
    .where('archived_at', 'is', null)
    .executeTakeFirst();

  const rows = await db
    .selectFrom('seat_summaries')
    .select(['license_id', 'license_name', 'role_group', 'basis', 'paid', 'allocated', 'active_30d', 'active_60d', 'active_90d', 'never_active', 'computed_at'])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .orderBy('role_group')
    .orderBy('license_name')
    .orderBy('license_id')
    .execute();

  const seats = rows.map(
    (row): OverviewSeat => ({
      licenseId: row.license_id,
      licenseName: row.license_name,
      roleGroup: row.role_group,
      paid: row.paid,
      allocated: row.allocated,
      active30d: row.active_30d,
      active60d: row.active_60d,
      active90d: row.active_90d,
      neverActive: row.never_active,
    }),
  );

  const totals = sumSeats(seats);
  const contract = await getContract(db, organizationId);
  const perActiveUser = (active: number) => (contract === null || active === 0 ? null : Math.round(contract.yearlyTotalMinor / active));
  const computedAt = newestComputedAt(rows.map((row) => row.computed_at));

  return {
    connection:
      connection === undefined
        ? null
        : { subdomain: connection.subdomain, region: connection.region, lastSyncAt: toIso(connection.last_sync_at) },
    computedAt,
    seats,
    seatsByRole: rows.some((row) => row.basis === 'role') ? await presentSeatsByRole(db, organizationId) : null,
    totals,
    costs:
      contract === null
        ? null
        : {
            currency: contract.currency,
            yearlyTotalMinor: contract.yearlyTotalMinor,
            perActiveUser30dMinor: perActiveUser(totals.active30d),
            perActiveUser90dMinor: perActiveUser(totals.active90d),
          },
    savings: await presentSavings(db, organizationId),
    weeklyActivity: await presentWeeklyActivity(db, organizationId),
    freshness: await presentFreshness(db, organizationId),
    confidence: await presentConfidence(db, organizationId),
  };
}

/**
 * Builds the note shown over role-derived seats. The HTTP status comes from the reason stored for
 * the licenses signal, which quotes PagerDuty's error.
 */
async function presentSeatsByRole(db: Kysely<DB>, organizationId: string): Promise<NonNullable<OverviewView['seatsByRole']>> {
  const signal = await db
    .selectFrom('signal_availability')
    .select('reason')
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .where('signal', '=', 'licenses')
    .executeTakeFirst();
  const statusMatch = /\b(40[0-9])\b/.exec(signal?.reason ?? '');
  const licenseStatus = statusMatch?.[1] === undefined ? null : Number(statusMatch[1]);
  const statusText = licenseStatus === null ? '' : ` (${licenseStatus})`;
  return {
    note: `Seats by role: PagerDuty did not allow reading licenses${statusText}; figures are grouped by each person's role.`,
    licenseStatus,
  };
}

function sumSeats(seats: OverviewSeat[]): OverviewView['totals'] {
  const isPaidKnown = seats.every((seat) => seat.paid !== null);
  return {
    paid: isPaidKnown ? seats.reduce((sum, seat) => sum + (seat.paid ?? 0), 0) : null,
    allocated: seats.reduce((sum, seat) => sum + seat.allocated, 0),
    active30d: seats.reduce((sum, seat) => sum + seat.active30d, 0),
    active90d: seats.reduce((sum, seat) => sum + seat.active90d, 0),
  };
}

function newestComputedAt(instants: Date[]): string | null {
  let newest: Date | null = null;
  for (const instant of instants) {
    if (newest === null || instant > newest) newest = instant;
  }
  return toIso(newest);
}

export function toIso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
