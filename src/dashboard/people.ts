import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { DB, RecommendationKind, RecommendationStatus } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { toIso } from './overview.ts';

export const PEOPLE_SORT_KEYS = ['name', 'email', 'lastSeen', 'license', 'role'] as const;
export type PeopleSortKey = (typeof PEOPLE_SORT_KEYS)[number];

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** The people page's query; the HTTP layer can validate its query string with this schema. */
export const peopleQuerySchema = z.object({
  search: z.string().trim().max(200, 'search must have at most 200 characters').optional(),
  /** A license id or an exact license name. */
  license: z.string().trim().min(1).max(200).optional(),
  sort: z.enum(PEOPLE_SORT_KEYS).default('name'),
  direction: z.enum(['asc', 'desc']).default('asc'),
  page: z.coerce.number().int().min(1, 'page must be 1 or more').default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE, `pageSize must be at most ${MAX_PAGE_SIZE}`).default(DEFAULT_PAGE_SIZE),
});

export type PeopleQuery = z.input<typeof peopleQuerySchema>;

export interface PersonRow {
  externalId: string;
  name: string;
  email: string;
  role: string;
  licenseName: string | null;
  roleGroup: string | null;
  lastSeenAt: string | null;
  lastSeenSignal: string | null;
  lastSeenDetail: string | null;
  isDeleted: boolean;
  isInvitedNeverSignedUp: boolean;
  /** Newest activity on any signal (sign-in, mobile app, incident action, on-call shift, configuration change). */
  lastActivityAt: string | null;
  lastActivitySignal: string | null;
  lastActivityDetail: string | null;
  teams: string[];
  recommendation: { kind: RecommendationKind; status: RecommendationStatus } | null;
}

export interface PeopleView {
  rows: PersonRow[];
  /** People matching the search and license filter, over all pages. */
  total: number;
  page: number;
  pageSize: number;
}

/** Maps each sort key to a column; only these columns ever reach ORDER BY. */
const SORT_COLUMNS = {
  name: 'name',
  email: 'email',
  lastSeen: 'last_seen_at',
  license: 'license_name',
  role: 'role',
} as const satisfies Record<PeopleSortKey, string>;

/**
 * Builds one page of the people table of an organization. Throws when `query` is invalid, naming
 * the field; callers holding untrusted input validate it with `peopleQuerySchema` first.
 */
export async function presentPeople(db: Kysely<DB>, organizationId: string, query: PeopleQuery = {}): Promise<PeopleView> {
  const parsed = peopleQuerySchema.safeParse(query);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid people query: ${problems}`);
  }
  const { search, license, sort, direction, page, pageSize } = parsed.data;

  let filtered = db.selectFrom('people').where('organization_id', '=', organizationId).where('connection_id', 'in', liveConnectionIds(db, organizationId));
  if (search !== undefined && search !== '') {
    const pattern = `%${escapeLikePattern(search)}%`;
    filtered = filtered.where((eb) =>
      eb.or([sql<boolean>`${eb.ref('name')} ilike ${pattern} escape '\\'`, sql<boolean>`${eb.ref('email')} ilike ${pattern} escape '\\'`]),
    );
  }
  if (license !== undefined) {
    filtered = filtered.where((eb) => eb.or([eb('license_id', '=', license), eb('license_name', '=', license)]));
  }

  const counted = await filtered.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();

  const column = SORT_COLUMNS[sort];
  const rows = await filtered
    .select([
      'external_id',
      'name',
      'email',
      'role',
      'license_name',
      'role_group',
      'last_seen_at',
      'last_seen_signal',
      'last_seen_detail',
      'is_deleted',
      'is_invited_never_signed_up',
      'last_activity_at',
      'last_activity_signal',
      'last_activity_detail',
      'teams',
      'connection_id',
    ])
    .orderBy(column, (ob) => (direction === 'asc' ? ob.asc().nullsLast() : ob.desc().nullsLast()))
    .orderBy('external_id')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();

  const recommendations = await loadRecommendations(
    db,
    organizationId,
    rows.map((row) => row.external_id),
  );

  return {
    rows: rows.map(
      (row): PersonRow => ({
        externalId: row.external_id,
        name: row.name,
        email: row.email,
        role: row.role,
        licenseName: row.license_name,
        roleGroup: row.role_group,
        lastSeenAt: toIso(row.last_seen_at),
        lastSeenSignal: row.last_seen_signal,
        lastSeenDetail: row.last_seen_detail,
        isDeleted: row.is_deleted,
        isInvitedNeverSignedUp: row.is_invited_never_signed_up,
        lastActivityAt: toIso(row.last_activity_at),
        lastActivitySignal: row.last_activity_signal,
        lastActivityDetail: row.last_activity_detail,
        teams: row.teams,
        recommendation: recommendations.get(`${row.connection_id}/${row.external_id}`) ?? null,
      }),
    ),
    total: Number(counted.count),
    page,
    pageSize,
  };
}

/** Returns the recommendation of each listed person, keyed by `connectionId/externalId`. */
async function loadRecommendations(
  db: Kysely<DB>,
  organizationId: string,
  externalIds: string[],
): Promise<Map<string, { kind: RecommendationKind; status: RecommendationStatus }>> {
  if (externalIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('recommendations')
    .select(['connection_id', 'external_id', 'kind', 'status'])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .where('external_id', 'in', externalIds)
    .execute();
  return new Map(rows.map((row) => [`${row.connection_id}/${row.external_id}`, { kind: row.kind, status: row.status }]));
}

/** Escapes LIKE's wildcards so a search for `50%` matches the text `50%`. */
function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
