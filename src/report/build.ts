import type { Kysely } from 'kysely';
import { liveConnectionIds } from '../connections/repository.ts';
import type { DB } from '../db/schema.ts';
import { STALE_SYNC_MS } from '../analytics/confidence.ts';
import type { Guardrail } from '../analytics/recommendations.ts';
import { presentFeatures, type AccountFeatureView, type FeatureUsage, type WeeklyActive } from '../dashboard/features.ts';
import { presentOverview, toIso } from '../dashboard/overview.ts';
import { presentRecommendations } from '../dashboard/recommendations.ts';

/** The version of the JSON report format documented in docs/report-format.md. */
export const REPORT_FORMAT_VERSION = 1;

export interface ReportFeatureUse {
  firstUsedAt: string;
  lastUsedAt: string;
  count30d: number;
  count60d: number;
  count90d: number;
}

export interface ReportPerson {
  externalId: string;
  email: string;
  name: string;
  role: string;
  license: string | null;
  roleGroup: string | null;
  teams: string[];
  deleted: boolean;
  invitedNeverSignedUp: boolean;
  lastSeenAt: string | null;
  lastSeenSignal: string | null;
  lastSeenDetail: string | null;
  lastActivityAt: string | null;
  lastActivitySignal: string | null;
  coverage: {
    escalationPolicies: string[];
    schedules: string[];
    upcomingShifts: number;
    permanentOnCall: boolean;
    openIncidents: number;
  };
  features: Record<string, ReportFeatureUse>;
}

export interface ReportRecommendation {
  kind: string;
  email: string;
  name: string;
  license: string | null;
  status: string;
  currency: string | null;
  /** Major currency units (dollars), two decimals at most; null without a contract price. */
  yearlySaving: number | null;
  effectiveDate: string;
  evidence: Record<string, unknown>;
  guardrails: Guardrail[];
}

export interface UtilizationReport {
  formatVersion: number;
  generatedAt: string;
  computedAt: string | null;
  account: { subdomain: string | null; region: string | null; lastSyncAt: string | null } | null;
  dataConfidence: Record<string, { status: 'available' | 'unavailable'; reason: string | null }>;
  seats: Array<{
    license: string;
    licenseId: string;
    roleGroup: string;
    paid: number | null;
    allocated: number;
    active30d: number;
    active60d: number;
    active90d: number;
    neverActive: number;
  }>;
  /** Set when `seats` are role groups derived from people's roles because licenses could not be read. */
  seatsByRole: { note: string; licenseStatus: number | null } | null;
  costs: { currency: string; yearlyTotal: number; perActiveUser30d: number | null; perActiveUser90d: number | null } | null;
  features: FeatureUsage[];
  weeklyActive: WeeklyActive[];
  accountFeatures: AccountFeatureView[];
  people: ReportPerson[];
  recommendations: ReportRecommendation[];
  /** Yearly savings of recommendations no guardrail blocks, in major units. */
  totalYearlySaving: number;
}

/** Collects the utilization report of an organization from the crunched tables. */
export async function buildReport(db: Kysely<DB>, organizationId: string, generatedAt: Date = new Date()): Promise<UtilizationReport> {
  const overview = await presentOverview(db, organizationId);
  const features = await presentFeatures(db, organizationId, { weeks: 13 });
  const recommendations = await presentRecommendations(db, organizationId);
  const people = await loadPeople(db, organizationId);

  // The crunch runs right after a sync, so it never finds its own sync stale. A report written
  // later judges staleness at `generatedAt`.
  const lastSyncAt = overview.connection?.lastSyncAt ?? null;
  const isStale = lastSyncAt !== null && generatedAt.getTime() - new Date(lastSyncAt).getTime() > STALE_SYNC_MS;
  const dataConfidence: UtilizationReport['dataConfidence'] = {};
  for (const signal of features.signals) {
    const staleReason = isStale && signal.status === 'available' && signal.reason === null ? `Stale: the last sync finished at ${lastSyncAt}.` : null;
    dataConfidence[signal.signal] = { status: signal.status, reason: staleReason ?? signal.reason };
  }

  return {
    formatVersion: REPORT_FORMAT_VERSION,
    generatedAt: generatedAt.toISOString(),
    computedAt: overview.computedAt,
    account: overview.connection,
    dataConfidence,
    seats: overview.seats.map((seat) => ({
      license: seat.licenseName,
      licenseId: seat.licenseId,
      roleGroup: seat.roleGroup,
      paid: seat.paid,
      allocated: seat.allocated,
      active30d: seat.active30d,
      active60d: seat.active60d,
      active90d: seat.active90d,
      neverActive: seat.neverActive,
    })),
    seatsByRole: overview.seatsByRole === null ? null : { note: overview.seatsByRole.note, licenseStatus: overview.seatsByRole.licenseStatus },
    costs:
      overview.costs === null
        ? null
        : {
            currency: overview.costs.currency,
            yearlyTotal: toMajor(overview.costs.yearlyTotalMinor),
            perActiveUser30d: overview.costs.perActiveUser30dMinor === null ? null : toMajor(overview.costs.perActiveUser30dMinor),
            perActiveUser90d: overview.costs.perActiveUser90dMinor === null ? null : toMajor(overview.costs.perActiveUser90dMinor),
          },
    features: features.features,
    weeklyActive: features.weekly,
    accountFeatures: features.accountFeatures,
    people,
    recommendations: recommendations.rows.map((row) => ({
      kind: row.kind,
      email: row.email,
      name: row.name,
      license: row.licenseName,
      status: row.status,
      currency: recommendations.currency,
      yearlySaving: row.yearlySavingMinor === null ? null : toMajor(row.yearlySavingMinor),
      effectiveDate: row.effectiveDate,
      evidence: row.evidence,
      guardrails: row.guardrails,
    })),
    totalYearlySaving: toMajor(recommendations.totals.yearlySavingMinor),
  };
}

function toMajor(minor: number): number {
  return Math.round(minor) / 100;
}

async function loadPeople(db: Kysely<DB>, organizationId: string): Promise<ReportPerson[]> {
  const rows = await db
    .selectFrom('people')
    .select([
      'connection_id',
      'external_id',
      'email',
      'name',
      'role',
      'license_name',
      'role_group',
      'teams',
      'is_deleted',
      'is_invited_never_signed_up',
      'last_seen_at',
      'last_seen_signal',
      'last_seen_detail',
      'last_activity_at',
      'last_activity_signal',
      'escalation_policy_ids',
      'schedule_ids',
      'upcoming_shift_count',
      'is_permanent_on_call',
      'open_incident_count',
    ])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .orderBy('email')
    .orderBy('external_id')
    .execute();

  const featureRows = await db
    .selectFrom('person_features')
    .select(['connection_id', 'external_id', 'feature_key', 'first_used_at', 'last_used_at', 'count_30d', 'count_60d', 'count_90d'])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .orderBy('feature_key')
    .execute();
  const featuresByPerson = new Map<string, Record<string, ReportFeatureUse>>();
  for (const row of featureRows) {
    const key = `${row.connection_id}/${row.external_id}`;
    const features = featuresByPerson.get(key) ?? {};
    features[row.feature_key] = {
      firstUsedAt: toIso(row.first_used_at) ?? '',
      lastUsedAt: toIso(row.last_used_at) ?? '',
      count30d: row.count_30d,
      count60d: row.count_60d,
      count90d: row.count_90d,
    };
    featuresByPerson.set(key, features);
  }

  return rows.map((row) => ({
    externalId: row.external_id,
    email: row.email,
    name: row.name,
    role: row.role,
    license: row.license_name,
    roleGroup: row.role_group,
    teams: row.teams,
    deleted: row.is_deleted,
    invitedNeverSignedUp: row.is_invited_never_signed_up,
    lastSeenAt: toIso(row.last_seen_at),
    lastSeenSignal: row.last_seen_signal,
    lastSeenDetail: row.last_seen_detail,
    lastActivityAt: toIso(row.last_activity_at),
    lastActivitySignal: row.last_activity_signal,
    coverage: {
      escalationPolicies: row.escalation_policy_ids,
      schedules: row.schedule_ids,
      upcomingShifts: row.upcoming_shift_count,
      permanentOnCall: row.is_permanent_on_call,
      openIncidents: row.open_incident_count,
    },
    features: featuresByPerson.get(`${row.connection_id}/${row.external_id}`) ?? {},
  }));
}
