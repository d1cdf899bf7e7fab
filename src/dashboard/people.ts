import { sql, type Expression, type ExpressionBuilder, type Kysely } from 'kysely';
import { z } from 'zod';
import type { DB, RecommendationKind, RecommendationStatus, SeatBasis } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';
import { toIso } from './overview.ts';

export const PEOPLE_SORT_KEYS = ['name', 'email', 'lastSeen', 'license', 'role'] as const;
export type PeopleSortKey = (typeof PEOPLE_SORT_KEYS)[number];

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/**
 * Activity windows of the people filter, by last seen relative to the crunch that computed the
 * person. Last seen is an incident action, as the seat figures count it. The windows are active
 * within N days, not active within N days (including people never active), or never active.
 */
export const ACTIVITY_FILTERS = ['active30d', 'active60d', 'active90d', 'inactive30d', 'inactive60d', 'inactive90d', 'never'] as const;
export type ActivityFilter = (typeof ACTIVITY_FILTERS)[number];

/**
 * The seat filter: `allocated` lists the people who hold a seat as the overview counts seats (a
 * license allocation, or a role group when licenses could not be read, and not deleted from
 * PagerDuty), `unallocated` everyone else.
 */
export const SEAT_FILTERS = ['allocated', 'unallocated'] as const;
export type SeatFilter = (typeof SEAT_FILTERS)[number];

/** The recommendation filter: one kind, or `none` for people without a recommendation. */
export const RECOMMENDATION_FILTERS = ['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation', 'none'] as const satisfies readonly (RecommendationKind | 'none')[];
export type RecommendationFilter = (typeof RECOMMENDATION_FILTERS)[number];

const DAY_HOURS = 24;

/** Builds an enum schema whose error names the rejected value and the accepted ones. */
function namedEnum<const Values extends readonly [string, ...string[]]>(field: string, values: Values) {
  return z.enum(values, { error: (issue) => `${field} must be one of ${values.join(', ')}; got ${JSON.stringify(issue.input)}` });
}

/** The people page's query; the HTTP layer can validate its query string with this schema. */
export const peopleQuerySchema = z.strictObject({
  search: z.string().trim().max(200, 'search must have at most 200 characters').optional(),
  /** A license id or an exact license name. */
  license: z.string().trim().min(1).max(200).optional(),
  /** An exact team name; people belong to every team PagerDuty lists them in. */
  team: z.string().trim().min(1, 'team must name a team; leave it out to list every team').max(200, 'team must have at most 200 characters').optional(),
  /** `true` lists only people in no team; it cannot be combined with `team`. */
  noTeam: namedEnum('noTeam', ['true', 'false']).optional(),
  activity: namedEnum('activity', ACTIVITY_FILTERS).optional(),
  seat: namedEnum('seat', SEAT_FILTERS).optional(),
  recommendation: namedEnum('recommendation', RECOMMENDATION_FILTERS).optional(),
  sort: namedEnum('sort', PEOPLE_SORT_KEYS).default('name'),
  direction: namedEnum('direction', ['asc', 'desc']).default('asc'),
  page: z.coerce.number().int().min(1, 'page must be 1 or more').default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE, `pageSize must be at most ${MAX_PAGE_SIZE}`).default(DEFAULT_PAGE_SIZE),
}).refine((query) => !(query.noTeam === 'true' && query.team !== undefined), {
  path: ['noTeam'],
  message: 'noTeam=true lists people in no team, so it cannot be combined with team; leave one of them out',
});

export type PeopleQuery = z.input<typeof peopleQuerySchema>;

export interface PersonRow {
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
  /** People matching the search and every filter, over all pages. */
  total: number;
  /** Every team named in the organization's people, sorted, for the team filter. */
  teamOptions: string[];
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
  const { sort, direction, page, pageSize } = parsed.data;

  const filtered = filterPeople(db, organizationId, parsed.data);
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
      (eb) => isSeatByRole(eb, eb.ref('people.connection_id')).as('is_seat_by_role'),
    ])
    .orderBy(column, (ob) => (direction === 'asc' ? ob.asc().nullsLast() : ob.desc().nullsLast()))
    .orderBy('external_id')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();

  const teamOptions = await loadTeamOptions(db, organizationId);
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
        seatBasis: row.is_seat_by_role ? 'role' : 'license',
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
    teamOptions,
    page,
    pageSize,
  };
}

type PeopleFilters = Pick<z.output<typeof peopleQuerySchema>, 'search' | 'license' | 'team' | 'noTeam' | 'activity' | 'seat' | 'recommendation'>;

/**
 * Selects the organization's people that match every given filter. The CSV export and the page
 * share it, so a file contains the same people as the table.
 */
export function filterPeople(db: Kysely<DB>, organizationId: string, filters: PeopleFilters) {
  const { search, license, team, noTeam, activity, seat, recommendation } = filters;
  let filtered = db.selectFrom('people').where('organization_id', '=', organizationId).where('connection_id', 'in', liveConnectionIds(db, organizationId));
  if (search !== undefined && search !== '') {
    const pattern = `%${escapeLikePattern(search)}%`;
    filtered = filtered.where((eb) =>
      eb.or([sql<boolean>`${eb.ref('name')} ilike ${pattern} escape '\\'`, sql<boolean>`${eb.ref('email')} ilike ${pattern} escape '\\'`]),
    );
  }
  if (license !== undefined) {
    // Seats grouped by role are named by their seat row ('role:FullUser', 'Full User (by role)').
    filtered = filtered.where((eb) =>
      eb.or([
        eb('license_id', '=', license),
        eb('license_name', '=', license),
        eb.exists(
          eb
            .selectFrom('seat_summaries as s')
            .select('s.connection_id')
            .whereRef('s.connection_id', '=', 'people.connection_id')
            .whereRef('s.role_group', '=', 'people.role_group')
            .where('s.basis', '=', 'role')
            .where((inner) => inner.or([inner('s.license_id', '=', license), inner('s.license_name', '=', license)])),
        ),
      ]),
    );
  }
  if (team !== undefined) {
    filtered = filtered.where((eb) => sql<boolean>`${eb.ref('teams')} @> ${JSON.stringify([team])}::jsonb`);
  }
  if (noTeam === 'true') {
    filtered = filtered.where((eb) => sql<boolean>`jsonb_array_length(${eb.ref('teams')}) = 0`);
  }
  if (activity !== undefined) {
    filtered = filtered.where((eb) => activityCondition(eb.ref('last_seen_at'), eb.ref('computed_at'), activity));
  }
  // Without readable licenses a crunch gives people a role group and no license, and the overview
  // counts them as seats of that group. With licenses, only a license gives a role group.
  if (seat === 'allocated') {
    filtered = filtered.where((eb) => eb.or([eb('license_id', 'is not', null), eb('role_group', 'is not', null)])).where('is_deleted', '=', false);
  } else if (seat === 'unallocated') {
    filtered = filtered.where((eb) => eb.or([eb.and([eb('license_id', 'is', null), eb('role_group', 'is', null)]), eb('is_deleted', '=', true)]));
  }
  if (recommendation !== undefined) {
    filtered = filtered.where((eb) => {
      const recommended = eb
        .selectFrom('recommendations as r')
        .select(sql<number>`1`.as('one'))
        .whereRef('r.connection_id', '=', 'people.connection_id')
        .whereRef('r.external_id', '=', 'people.external_id');
      return recommendation === 'none' ? eb.not(eb.exists(recommended)) : eb.exists(recommended.where('r.kind', '=', recommendation));
    });
  }
  return filtered;
}

/**
 * Builds the condition that the last crunch of a connection grouped seats by role, because
 * PagerDuty did not allow reading licenses. The people rows of that crunch then carry role groups
 * and no license.
 */
function isSeatByRole(eb: ExpressionBuilder<DB, keyof DB>, connectionId: Expression<string>) {
  return eb.exists(eb.selectFrom('seat_summaries as s').select('s.connection_id').where('s.connection_id', '=', connectionId).where('s.basis', '=', 'role'));
}

/** Builds the SQL condition of an activity window, in whole days of 24 hours before the crunch. */
function activityCondition(lastSeenAt: Expression<unknown>, computedAt: Expression<unknown>, activity: ActivityFilter) {
  const since = (days: number) => sql`${computedAt} - ${days * DAY_HOURS} * interval '1 hour'`;
  switch (activity) {
    case 'active30d':
      return sql<boolean>`${lastSeenAt} >= ${since(30)}`;
    case 'active60d':
      return sql<boolean>`${lastSeenAt} >= ${since(60)}`;
    case 'active90d':
      return sql<boolean>`${lastSeenAt} >= ${since(90)}`;
    // Not active within the window includes people never active, as the overview's figures do.
    case 'inactive30d':
      return sql<boolean>`(${lastSeenAt} is null or ${lastSeenAt} < ${since(30)})`;
    case 'inactive60d':
      return sql<boolean>`(${lastSeenAt} is null or ${lastSeenAt} < ${since(60)})`;
    case 'inactive90d':
      return sql<boolean>`(${lastSeenAt} is null or ${lastSeenAt} < ${since(90)})`;
    case 'never':
      return sql<boolean>`${lastSeenAt} is null`;
    default: {
      const unreachable: never = activity;
      throw new Error(`Unknown activity filter ${String(unreachable)}`);
    }
  }
}

/** Lists every team named in the organization's people, for the team filter's options. */
async function loadTeamOptions(db: Kysely<DB>, organizationId: string): Promise<string[]> {
  const result = await sql<{ name: string }>`
    select distinct team.name
    from people p
    cross join lateral jsonb_array_elements_text(p.teams) as team(name)
    where p.organization_id = ${organizationId}::uuid and p.connection_id in (${liveConnectionIds(db, organizationId)})
  `.execute(db);
  // Sorted here, because PGlite and PostgreSQL may order text by different collations.
  return result.rows.map((row) => row.name).sort((left, right) => left.localeCompare(right));
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
