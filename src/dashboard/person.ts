import { sql, type Kysely } from 'kysely';
import type { DB, SeatBasis } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { PAGERDUTY_PROVIDER } from '../analytics/pagerduty-features.ts';
import type { Guardrail } from '../analytics/recommendations.ts';
import { toIso } from './overview.ts';
import type { RecommendationRow } from './recommendations.ts';

export interface PersonFeatureView {
  key: string;
  name: string;
  firstUsedAt: string;
  lastUsedAt: string;
  count30d: number;
  count60d: number;
  count90d: number;
}

export interface PersonView {
  externalId: string;
  name: string;
  email: string;
  role: string;
  licenseName: string | null;
  roleGroup: string | null;
  /**
   * 'role' when PagerDuty did not allow reading licenses, so `roleGroup` is derived from the
   * person's PagerDuty role and `licenseName` is null; 'license' otherwise.
   */
  seatBasis: SeatBasis;
  teams: string[];
  isDeleted: boolean;
  isInvitedNeverSignedUp: boolean;
  lastSeenAt: string | null;
  lastSeenSignal: string | null;
  lastSeenDetail: string | null;
  lastActivityAt: string | null;
  lastActivitySignal: string | null;
  lastActivityDetail: string | null;
  coverage: {
    escalationPolicyIds: string[];
    scheduleIds: string[];
    upcomingShiftCount: number;
    isPermanentOnCall: boolean;
    openIncidentCount: number;
  };
  features: PersonFeatureView[];
  /** Signals that could not be read for the account, so their absence here proves nothing. */
  unavailableSignals: Array<{ signal: string; reason: string | null }>;
  recommendation: RecommendationRow | null;
}

/** Builds the page of one person of an organization; null when the organization has no such person. */
export async function presentPerson(db: Kysely<DB>, organizationId: string, externalId: string): Promise<PersonView | null> {
  const person = await db
    .selectFrom('people')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (person === undefined) return null;

  const features = await db
    .selectFrom('person_features as pf')
    .innerJoin('features as f', (join) => join.onRef('f.key', '=', 'pf.feature_key').on('f.provider', '=', PAGERDUTY_PROVIDER))
    .select(['pf.feature_key', 'f.name', 'pf.first_used_at', 'pf.last_used_at', 'pf.count_30d', 'pf.count_60d', 'pf.count_90d'])
    .where('pf.connection_id', '=', person.connection_id)
    .where('pf.external_id', '=', externalId)
    .orderBy('f.position')
    .execute();

  const roleSeat = await db
    .selectFrom('seat_summaries')
    .select('connection_id')
    .where('connection_id', '=', person.connection_id)
    .where('basis', '=', 'role')
    .executeTakeFirst();

  const unavailable = await db
    .selectFrom('signal_availability')
    .select(['signal', 'reason'])
    .where('connection_id', '=', person.connection_id)
    .where('status', '=', 'unavailable')
    .orderBy('signal')
    .execute();

  const recommendation = await db
    .selectFrom('recommendations')
    .select(['kind', 'status', 'license_name', 'yearly_saving_minor', sql<string>`effective_date::text`.as('effective_date'), 'evidence', 'guardrails'])
    .where('connection_id', '=', person.connection_id)
    .where('external_id', '=', externalId)
    .executeTakeFirst();

  return {
    externalId: person.external_id,
    name: person.name,
    email: person.email,
    role: person.role,
    licenseName: person.license_name,
    roleGroup: person.role_group,
    seatBasis: roleSeat === undefined ? 'license' : 'role',
    teams: person.teams,
    isDeleted: person.is_deleted,
    isInvitedNeverSignedUp: person.is_invited_never_signed_up,
    lastSeenAt: toIso(person.last_seen_at),
    lastSeenSignal: person.last_seen_signal,
    lastSeenDetail: person.last_seen_detail,
    lastActivityAt: toIso(person.last_activity_at),
    lastActivitySignal: person.last_activity_signal,
    lastActivityDetail: person.last_activity_detail,
    coverage: {
      escalationPolicyIds: person.escalation_policy_ids,
      scheduleIds: person.schedule_ids,
      upcomingShiftCount: person.upcoming_shift_count,
      isPermanentOnCall: person.is_permanent_on_call,
      openIncidentCount: person.open_incident_count,
    },
    features: features.map((row) => ({
      key: row.feature_key,
      name: row.name,
      firstUsedAt: toIso(row.first_used_at) ?? '',
      lastUsedAt: toIso(row.last_used_at) ?? '',
      count30d: row.count_30d,
      count60d: row.count_60d,
      count90d: row.count_90d,
    })),
    unavailableSignals: unavailable.map((row) => ({ signal: row.signal, reason: row.reason })),
    recommendation:
      recommendation === undefined
        ? null
        : {
            kind: recommendation.kind,
            externalId: person.external_id,
            name: person.name,
            email: person.email,
            licenseName: recommendation.license_name,
            status: recommendation.status,
            yearlySavingMinor: recommendation.yearly_saving_minor,
            effectiveDate: recommendation.effective_date,
            evidence: recommendation.evidence,
            guardrails: recommendation.guardrails as unknown as Guardrail[],
          },
  };
}
