import { sql, type Kysely } from 'kysely';
import type { DB, RecommendationKind } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { getContract } from '../analytics/contracts.ts';

/** The recommendation kinds in the order the overview lists them. */
export const RECOMMENDATION_KINDS = ['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation'] as const satisfies readonly RecommendationKind[];

export interface SavingsByKind {
  kind: RecommendationKind;
  /** Open recommendations of this kind: ready or flagged, not blocked by a guardrail. */
  openCount: number;
  /** Sum of the open recommendations' yearly savings in minor units; null without contract prices. */
  yearlySavingMinor: number | null;
  /** Open recommendations without a saving in the contract's currency, so not in the sum. */
  unpricedCount: number;
  /** Recommendations of this kind that a guardrail blocks; they never count as savings. */
  blockedCount: number;
}

export interface SavingsView {
  /** ISO 4217 code of the entered contract; null when no contract prices are entered. */
  currency: string | null;
  /** Sum over `byKind`; null when no contract prices are entered. */
  yearlyTotalMinor: number | null;
  byKind: SavingsByKind[];
}

/**
 * Sums the potential yearly savings of an organization's open recommendations per kind. Savings
 * were priced by the crunch; a saving priced in another currency than the contract's current one
 * is counted as unpriced until the next crunch prices it again.
 */
export async function presentSavings(db: Kysely<DB>, organizationId: string): Promise<SavingsView> {
  const contract = await getContract(db, organizationId);
  const currency = contract?.currency ?? null;

  const rows = await sql<{ kind: RecommendationKind; open_count: number; blocked_count: number; priced_count: number; saving_minor: string | number | null }>`
    select
      r.kind,
      (count(*) filter (where r.status <> 'blocked'))::int as open_count,
      (count(*) filter (where r.status = 'blocked'))::int as blocked_count,
      (count(*) filter (where r.status <> 'blocked' and r.yearly_saving_minor is not null and r.currency = ${currency}))::int as priced_count,
      sum(r.yearly_saving_minor) filter (where r.status <> 'blocked' and r.currency = ${currency}) as saving_minor
    from recommendations r
    where r.organization_id = ${organizationId}::uuid
      and r.connection_id in (${liveConnectionIds(db, organizationId)})
    group by r.kind
  `.execute(db);
  const byKindRow = new Map(rows.rows.map((row) => [row.kind, row]));

  const byKind = RECOMMENDATION_KINDS.map((kind): SavingsByKind => {
    const row = byKindRow.get(kind);
    const openCount = Number(row?.open_count ?? 0);
    const pricedCount = currency === null ? 0 : Number(row?.priced_count ?? 0);
    return {
      kind,
      openCount,
      yearlySavingMinor: currency === null ? null : Number(row?.saving_minor ?? 0),
      unpricedCount: openCount - pricedCount,
      blockedCount: Number(row?.blocked_count ?? 0),
    };
  });

  return {
    currency,
    yearlyTotalMinor: currency === null ? null : byKind.reduce((total, kind) => total + (kind.yearlySavingMinor ?? 0), 0),
    byKind,
  };
}
