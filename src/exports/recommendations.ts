import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { presentRecommendations, type RecommendationRow } from '../dashboard/recommendations.ts';
import { toCsv } from './csv.ts';
import type { CsvExport } from './people.ts';
import { RECOMMENDATION_KIND_LABELS, recommendationStatusLabel, toMajorUnits } from './labels.ts';

/** Builds the CSV of every recommendation the recommendations page lists, in its order. */
export async function exportRecommendationsCsv(db: Kysely<DB>, organizationId: string): Promise<CsvExport> {
  const view = await presentRecommendations(db, organizationId);
  const currency = view.currency;
  const header = ['Recommendation', 'Name', 'Email', 'License', 'Status', `Yearly saving${currency === null ? '' : ` (${currency})`}`, 'Effective date', 'Guardrails'];
  const toCells = (row: RecommendationRow): string[] => [
    RECOMMENDATION_KIND_LABELS[row.kind].action,
    row.name,
    row.email,
    row.licenseName ?? '',
    recommendationStatusLabel(row.status),
    row.yearlySavingMinor === null || currency === null ? '' : String(toMajorUnits(row.yearlySavingMinor, currency)),
    row.effectiveDate,
    row.guardrails.map((guardrail) => guardrail.message).join('; '),
  ];
  return { csv: toCsv(header, view.rows.map(toCells)), rowCount: view.rows.length };
}
