import { sql, type Kysely } from 'kysely';
import type { DB, RecommendationKind, RecommendationStatus } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import type { Guardrail } from '../analytics/recommendations.ts';
import { toIso } from './overview.ts';

export interface RecommendationRow {
  kind: RecommendationKind;
  externalId: string;
  name: string;
  email: string;
  licenseName: string | null;
  status: RecommendationStatus;
  /** Yearly saving in minor currency units (cents); null without a contract price. */
  yearlySavingMinor: number | null;
  effectiveDate: string;
  evidence: Record<string, unknown>;
  guardrails: Guardrail[];
}

export interface RecommendationsView {
  computedAt: string | null;
  /**
   * True when PagerDuty did not allow reading licenses, so seats are grouped by role. Each
   * recommendation then changes the seat the person's role needs and is flagged for a check.
   */
  licensesUnreadable: boolean;
  currency: string | null;
  /** Savings of recommendations that no guardrail blocks. */
  totals: { yearlySavingMinor: number; ready: number; flagged: number; blocked: number };
  rows: RecommendationRow[];
}

const KIND_ORDER: Record<RecommendationKind, number> = { remove_invitation: 0, reclaim_seat: 1, downgrade_to_stakeholder: 2 };
const STATUS_ORDER: Record<RecommendationStatus, number> = { ready: 0, flagged: 1, blocked: 2 };

/** Builds the recommendations page of an organization: each recommendation with its saving, date, evidence and guardrails. */
export async function presentRecommendations(db: Kysely<DB>, organizationId: string): Promise<RecommendationsView> {
  const rows = await db
    .selectFrom('recommendations')
    .select([
      'kind',
      'external_id',
      'name',
      'email',
      'license_name',
      'status',
      'currency',
      'yearly_saving_minor',
      sql<string>`effective_date::text`.as('effective_date'),
      'evidence',
      'guardrails',
      'computed_at',
    ])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .execute();

  const sorted = [...rows].sort(
    (left, right) =>
      STATUS_ORDER[left.status] - STATUS_ORDER[right.status] ||
      (right.yearly_saving_minor ?? -1) - (left.yearly_saving_minor ?? -1) ||
      KIND_ORDER[left.kind] - KIND_ORDER[right.kind] ||
      left.email.localeCompare(right.email),
  );

  const totals = { yearlySavingMinor: 0, ready: 0, flagged: 0, blocked: 0 };
  for (const row of rows) {
    totals[row.status] += 1;
    if (row.status !== 'blocked') totals.yearlySavingMinor += row.yearly_saving_minor ?? 0;
  }

  const seatByRole = await db
    .selectFrom('seat_summaries')
    .select('connection_id')
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .where('basis', '=', 'role')
    .limit(1)
    .executeTakeFirst();

  let computedAt: Date | null = null;
  for (const row of rows) if (computedAt === null || row.computed_at > computedAt) computedAt = row.computed_at;

  return {
    computedAt: toIso(computedAt),
    licensesUnreadable: seatByRole !== undefined,
    currency: rows.find((row) => row.currency !== null)?.currency ?? null,
    totals,
    rows: sorted.map((row) => ({
      kind: row.kind,
      externalId: row.external_id,
      name: row.name,
      email: row.email,
      licenseName: row.license_name,
      status: row.status,
      yearlySavingMinor: row.yearly_saving_minor,
      effectiveDate: row.effective_date,
      evidence: row.evidence,
      guardrails: row.guardrails as unknown as Guardrail[],
    })),
  };
}
