import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { MAX_PAGE_SIZE, presentPeople, type PeopleQuery, type PersonRow } from '../dashboard/people.ts';
import { toCsv } from './csv.ts';
import { describeSignal, licenseLabel, pagerDutyRoleLabel, recommendationKindLabel, recommendationStatusLabel } from './labels.ts';

/** The columns of the people table, in its order, with the badges it shows as their own columns. */
const PEOPLE_HEADER = [
  'Name',
  'Email',
  'Role',
  'License',
  'Teams',
  'Last seen (UTC)',
  'Last seen signal',
  'Recommendation',
  'Removed from PagerDuty',
  'Invited, never signed up',
];

export interface CsvExport {
  csv: string;
  rowCount: number;
}

/**
 * Builds the CSV of every person the people table lists for `query`, over all its pages and in
 * its order. The query's page and page size are ignored, because the file contains every page.
 */
export async function exportPeopleCsv(db: Kysely<DB>, organizationId: string, query: PeopleQuery): Promise<CsvExport> {
  const rows: PersonRow[] = [];
  for (let page = 1; ; page += 1) {
    const view = await presentPeople(db, organizationId, { ...query, page, pageSize: MAX_PAGE_SIZE });
    rows.push(...view.rows);
    if (view.rows.length < MAX_PAGE_SIZE || rows.length >= view.total) break;
  }
  return { csv: toCsv(PEOPLE_HEADER, rows.map(toPeopleCells)), rowCount: rows.length };
}

function toPeopleCells(person: PersonRow): string[] {
  const recommendation = person.recommendation === null ? '' : `${recommendationKindLabel(person.recommendation.kind)} (${recommendationStatusLabel(person.recommendation.status)})`;
  return [
    person.name,
    person.email,
    pagerDutyRoleLabel(person.role),
    licenseLabel(person) ?? '',
    person.teams.join('; '),
    person.lastSeenAt ?? '',
    describeSignal(person.lastSeenSignal, person.lastSeenDetail),
    recommendation,
    person.isDeleted ? 'yes' : 'no',
    person.isInvitedNeverSignedUp ? 'yes' : 'no',
  ];
}
