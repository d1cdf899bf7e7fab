import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { PageProps } from '../app.tsx';
import {
  activityFilters,
  overviewSchema,
  peopleSchema,
  peopleSortKeys,
  recommendationFilters,
  seatFilters,
  type ActivityFilter,
  type PeopleQuery,
  type PeopleSortKey,
  type PeopleView,
  type PersonRow,
  type RecommendationFilter,
  type SeatFilter,
} from '../api-types.ts';
import { requestDownload, type ApiFailure } from '../api.ts';
import { ErrorMessage, Loading, TableScroller, Time, useApiData, usePageTitle } from '../components/common.tsx';
import { licenseLabel, pagerDutyRoleLabel } from '../../../src/exports/labels.ts';
import { formatCount, labelOf } from '../format.ts';
import { RECOMMENDATION_KIND_LABELS, recommendationKindLabel, recommendationStatusLabel } from '../components/recommendation-labels.ts';
import { Link, navigate } from '../router.tsx';
import { useSessionGuard } from '../session-guard.ts';

/** Maximum length of a search, in characters, that the people API accepts. */
const MAX_SEARCH_LENGTH = 200;

const PAGE_SIZES = [25, 50, 100] as const;
const DEFAULT_PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 300;

export const ACTIVITY_FILTER_LABELS: Record<ActivityFilter, string> = {
  active30d: 'Active in the last 30 days',
  active60d: 'Active in the last 60 days',
  active90d: 'Active in the last 90 days',
  inactive30d: 'Not active for 30 days',
  inactive60d: 'Not active for 60 days',
  inactive90d: 'Not active for 90 days',
  never: 'Never active',
};

const SEAT_FILTER_LABELS: Record<SeatFilter, string> = {
  allocated: 'Holds a seat',
  unallocated: 'No seat',
};

const RECOMMENDATION_FILTER_LABELS: Record<RecommendationFilter, string> = {
  reclaim_seat: RECOMMENDATION_KIND_LABELS.reclaim_seat.action,
  downgrade_to_stakeholder: RECOMMENDATION_KIND_LABELS.downgrade_to_stakeholder.action,
  remove_invitation: RECOMMENDATION_KIND_LABELS.remove_invitation.action,
  none: 'No recommendation',
};

const COLUMNS: { key: PeopleSortKey; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'email', label: 'Email' },
  { key: 'role', label: 'Role' },
  { key: 'license', label: 'License' },
  { key: 'lastSeen', label: 'Last seen' },
];

/**
 * Renders every person with their license and last activity. Search, filters (license, team,
 * activity window, recommendation), sort and page are kept in the URL, so a reload or a shared
 * link shows the same view and the back button restores it.
 */
export function PeoplePage({ session, location, onSessionExpired }: PageProps): JSX.Element {
  usePageTitle('People');
  const query = readPeopleQuery(location.query);
  const { state, isLoading } = useApiData(`/api/people?${toSearchParams(query).toString()}`, peopleSchema);
  useSessionGuard(state, onSessionExpired);
  const licenses = useLicenseNames();
  const teams = state.status === 'loaded' ? state.data.teamOptions : [];

  const update = (change: Partial<PeopleQuery>): void => {
    // Any change other than paging starts again at the first page.
    const next = { ...query, ...change, page: change.page ?? 1 };
    navigate(`/people?${toSearchParams(next).toString()}`, { replace: true });
  };

  return (
    <section aria-labelledby="people-heading">
      <h1 id="people-heading">People</h1>
      <Filters query={query} licenses={licenses} teams={teams} onChange={update} />
      {state.status === 'loading' && <Loading label="Loading people…" />}
      {state.status === 'failed' && <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />}
      {state.status === 'loaded' && (
        <div class="card">
          <PeopleTable view={state.data} query={query} isLoading={isLoading} onChange={update} />
        </div>
      )}
    </section>
  );
}

interface FiltersProps {
  query: PeopleQuery;
  licenses: string[];
  teams: string[];
  onChange: (change: Partial<PeopleQuery>) => void;
}

function Filters({ query, licenses, teams, onChange }: FiltersProps): JSX.Element {
  const [search, setSearch] = useState(query.search);

  useEffect(() => {
    if (search === query.search) return;
    const timer = setTimeout(() => onChange({ search }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [search, query.search, onChange]);

  const hasFilters = query.search !== '' || query.license !== '' || query.team !== '' || query.noTeam || query.activity !== '' || query.seat !== '' || query.recommendation !== '';
  const clearFilters = (): void => {
    setSearch('');
    onChange({ search: '', license: '', team: '', noTeam: false, activity: '', seat: '', recommendation: '' });
  };

  return (
    <form class="filters" role="search" aria-label="Filter people" onSubmit={(event) => event.preventDefault()}>
      <div class="field">
        <label for="people-search">Search</label>
        <input
          id="people-search"
          type="search"
          placeholder="Name or email"
          maxLength={MAX_SEARCH_LENGTH}
          value={search}
          onInput={(event) => setSearch((event.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <FilterSelect id="people-license" label="License" anyLabel="All licenses" value={query.license} options={licenses.map((license) => ({ value: license, label: license }))} onChange={(license) => onChange({ license })} />
      <FilterSelect
        id="people-team"
        label="Team"
        anyLabel="All teams"
        value={teamOptionValue(query)}
        options={[{ value: NO_TEAM_OPTION, label: 'No team' }, ...teams.map((team) => ({ value: `${TEAM_OPTION_PREFIX}${team}`, label: team }))]}
        onChange={(value) => onChange(readTeamOption(value))}
      />
      <FilterSelect
        id="people-activity"
        label="Activity"
        anyLabel="Any activity"
        value={query.activity}
        options={activityFilters.map((activity) => ({ value: activity, label: ACTIVITY_FILTER_LABELS[activity] }))}
        onChange={(activity) => onChange({ activity })}
      />
      <FilterSelect
        id="people-seat"
        label="Seat"
        anyLabel="With or without a seat"
        value={query.seat}
        options={seatFilters.map((seat) => ({ value: seat, label: SEAT_FILTER_LABELS[seat] }))}
        onChange={(seat) => onChange({ seat })}
      />
      <FilterSelect
        id="people-recommendation"
        label="Recommendation"
        anyLabel="Any recommendation"
        value={query.recommendation}
        options={recommendationFilters.map((recommendation) => ({ value: recommendation, label: RECOMMENDATION_FILTER_LABELS[recommendation] }))}
        onChange={(recommendation) => onChange({ recommendation })}
      />
      <div class="field">
        <label for="people-page-size">Rows per page</label>
        <select
          id="people-page-size"
          value={String(query.pageSize)}
          onChange={(event) => onChange({ pageSize: Number((event.currentTarget as HTMLSelectElement).value) })}
        >
          {PAGE_SIZES.map((size) => (
            <option key={size} value={String(size)}>
              {size}
            </option>
          ))}
        </select>
      </div>
      {hasFilters && (
        <div class="field filters-clear">
          <button type="button" class="button-secondary" onClick={clearFilters}>
            Clear filters
          </button>
        </div>
      )}
    </form>
  );
}

interface FilterSelectProps {
  id: string;
  label: string;
  /** The label of the empty value, which applies no filter. */
  anyLabel: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
}

/**
 * The team select's option values. Team names are free text, so each carries a prefix that the
 * "No team" option lacks, and no team name can collide with it.
 */
const NO_TEAM_OPTION = 'none';
const TEAM_OPTION_PREFIX = 'team:';

function teamOptionValue(query: PeopleQuery): string {
  if (query.noTeam) return NO_TEAM_OPTION;
  return query.team === '' ? '' : `${TEAM_OPTION_PREFIX}${query.team}`;
}

function readTeamOption(value: string): Pick<PeopleQuery, 'team' | 'noTeam'> {
  if (value === NO_TEAM_OPTION) return { team: '', noTeam: true };
  return { team: value.startsWith(TEAM_OPTION_PREFIX) ? value.slice(TEAM_OPTION_PREFIX.length) : value, noTeam: false };
}

/**
 * Renders one filter as a select. A value from the URL that is not among the options stays
 * listed, so the select shows what the page filters by, even before the options load.
 */
function FilterSelect({ id, label, anyLabel, value, options, onChange }: FilterSelectProps): JSX.Element {
  const listedOptions = value !== '' && !options.some((option) => option.value === value) ? [{ value, label: value }, ...options] : options;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange((event.currentTarget as HTMLSelectElement).value)}>
        <option value="">{anyLabel}</option>
        {listedOptions.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

interface PeopleTableProps {
  view: PeopleView;
  query: PeopleQuery;
  /** A newer page of results is on its way; the table shows the previous one until then. */
  isLoading: boolean;
  onChange: (change: Partial<PeopleQuery>) => void;
}

function PeopleTable({ view, query, isLoading, onChange }: PeopleTableProps): JSX.Element {
  const pageCount = Math.max(1, Math.ceil(view.total / view.pageSize));
  const first = view.total === 0 ? 0 : (view.page - 1) * view.pageSize + 1;
  const last = Math.min(view.total, view.page * view.pageSize);

  return (
    <>
      {view.rows.some((person) => person.seatBasis === 'role') && (
        <p class="hint" role="note">
          PagerDuty did not allow reading licenses, so the License column shows the seat type each person's PagerDuty role needs, marked "by role".
        </p>
      )}
      <div class="table-toolbar">
        <p class="result-count" role="status">
          {view.total === 0 ? 'No people match these filters.' : `Showing ${formatCount(first)}–${formatCount(last)} of ${formatCount(view.total)} people`}
        </p>
        <ExportButton query={query} total={view.total} />
      </div>
      <TableScroller label="People, scrollable">
        <table aria-labelledby="people-heading" class="people-table" aria-busy={isLoading ? 'true' : 'false'}>
          <thead>
            <tr>
              {COLUMNS.map((column) => [
                <SortableHeader key={column.key} column={column} query={query} onChange={onChange} />,
                column.key === 'license' ? (
                  <th key="teams" scope="col">
                    Teams
                  </th>
                ) : null,
              ])}
              <th scope="col">Recommendation</th>
            </tr>
          </thead>
          <tbody>
            {view.rows.map((person) => (
              <PersonTableRow key={person.externalId} person={person} />
            ))}
          </tbody>
        </table>
      </TableScroller>
      <nav class="pager" aria-label="Pages of people">
        <button type="button" class="button-secondary" disabled={view.page <= 1} onClick={() => onChange({ page: view.page - 1 })}>
          Previous page
        </button>
        <span>
          Page {formatCount(view.page)} of {formatCount(pageCount)}
        </span>
        <button type="button" class="button-secondary" disabled={view.page >= pageCount} onClick={() => onChange({ page: view.page + 1 })}>
          Next page
        </button>
      </nav>
    </>
  );
}

/**
 * Downloads every person matching the current search and filters, in the current order, as CSV.
 * The server builds the file from the same query as the table, so it contains exactly the table's rows.
 */
function ExportButton({ query, total }: { query: PeopleQuery; total: number }): JSX.Element {
  const [isExporting, setExporting] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  const exportCsv = async (): Promise<void> => {
    setExporting(true);
    setFailure(null);
    const result = await requestDownload(`/api/exports/people.csv?${toSearchParams(query).toString()}`, 'seatwise-people.csv');
    setExporting(false);
    if (!result.ok) setFailure(result.error);
  };

  return (
    <div class="export">
      <button type="button" class="button-secondary" disabled={isExporting || total === 0} onClick={() => void exportCsv()}>
        {isExporting ? 'Exporting…' : `Export ${formatCount(total)} as CSV`}
      </button>
      {failure !== null && <ErrorMessage failure={failure} />}
    </div>
  );
}

function SortableHeader({
  column,
  query,
  onChange,
}: {
  column: { key: PeopleSortKey; label: string };
  query: PeopleQuery;
  onChange: (change: Partial<PeopleQuery>) => void;
}): JSX.Element {
  const isSorted = query.sort === column.key;
  const isAscending = query.direction === 'asc';
  const nextDirection = isSorted && isAscending ? 'desc' : 'asc';
  let ariaSort: 'ascending' | 'descending' | undefined;
  let indicator = '';
  if (isSorted) {
    ariaSort = isAscending ? 'ascending' : 'descending';
    indicator = isAscending ? ' ▲' : ' ▼';
  }
  return (
    <th scope="col" aria-sort={ariaSort}>
      <button type="button" class="sort-button" onClick={() => onChange({ sort: column.key, direction: nextDirection })}>
        {column.label}
        <span class="sort-indicator" aria-hidden="true">
          {indicator}
        </span>
      </button>
    </th>
  );
}

function PersonTableRow({ person }: { person: PersonRow }): JSX.Element {
  return (
    <tr>
      <th scope="row">
        <Link href={`/people/${encodeURIComponent(person.externalId)}`}>{person.name}</Link>
        {person.isDeleted && <span class="signal">Removed from PagerDuty</span>}
      </th>
      <td>{person.email}</td>
      <td>{pagerDutyRoleLabel(person.role)}</td>
      <td>{licenseLabel(person) ?? 'No license'}</td>
      <td>{person.teams === undefined || person.teams.length === 0 ? <span class="muted">None</span> : person.teams.join(', ')}</td>
      <td>
        {person.lastSeenAt === null ? (
          <NotSeen person={person} />
        ) : (
          <>
            <Time iso={person.lastSeenAt} />
            <span class="signal">{describeSignal(person)}</span>
          </>
        )}
      </td>
      <td>
        {person.recommendation === null || person.recommendation === undefined ? (
          <span class="muted">None</span>
        ) : (
          <>
            {recommendationKindLabel(person.recommendation.kind)}
            <span class="signal">{recommendationStatusLabel(person.recommendation.status)}</span>
          </>
        )}
      </td>
    </tr>
  );
}

/**
 * Explains an empty last seen: last seen counts incident actions, so a person may still have
 * signed in or been on call; that newest other activity is shown when there is one.
 */
function NotSeen({ person }: { person: PersonRow }): JSX.Element {
  if (person.lastActivityAt === null || person.lastActivityAt === undefined) {
    return <span class="muted">{person.isInvitedNeverSignedUp ? 'Invited, never signed up' : 'Never seen'}</span>;
  }
  return (
    <>
      <span class="muted">No incident action</span>
      <span class="signal">
        Last activity <Time iso={person.lastActivityAt} /> · {describeSignal({ lastSeenSignal: person.lastActivitySignal ?? null, lastSeenDetail: person.lastActivityDetail ?? null })}
      </span>
    </>
  );
}

/** Reads the license names for the filter from the overview's seat table. */
function useLicenseNames(): string[] {
  const { state } = useApiData('/api/overview', overviewSchema);
  if (state.status !== 'loaded') return [];
  return state.data.seats.map((seat) => seat.licenseName);
}

/** Describes the signal as "Incident action: acknowledge via mobile" from its kind and detail. */
export function describeSignal(person: Pick<PersonRow, 'lastSeenSignal' | 'lastSeenDetail'>): string {
  const kind = person.lastSeenSignal === null ? null : labelOf(person.lastSeenSignal);
  if (kind === null) return person.lastSeenDetail ?? '';
  return person.lastSeenDetail === null ? kind : `${kind}: ${person.lastSeenDetail}`;
}

function readPeopleQuery(params: URLSearchParams): PeopleQuery {
  const sort = params.get('sort');
  const pageSize = Number(params.get('pageSize'));
  const page = Number(params.get('page'));
  return {
    search: (params.get('search') ?? '').slice(0, MAX_SEARCH_LENGTH),
    license: params.get('license') ?? '',
    // "No team" and a team exclude each other, and the select shows "No team" for such a link.
    team: params.get('noTeam') === 'true' ? '' : (params.get('team') ?? ''),
    noTeam: params.get('noTeam') === 'true',
    activity: params.get('activity') ?? '',
    seat: params.get('seat') ?? '',
    recommendation: params.get('recommendation') ?? '',
    sort: peopleSortKeys.includes(sort as PeopleSortKey) ? (sort as PeopleSortKey) : 'name',
    direction: params.get('direction') === 'desc' ? 'desc' : 'asc',
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    pageSize: (PAGE_SIZES as readonly number[]).includes(pageSize) ? pageSize : DEFAULT_PAGE_SIZE,
  };
}

function toSearchParams(query: PeopleQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.search !== '') params.set('search', query.search);
  if (query.license !== '') params.set('license', query.license);
  if (query.team !== '') params.set('team', query.team);
  if (query.noTeam) params.set('noTeam', 'true');
  if (query.activity !== '') params.set('activity', query.activity);
  if (query.seat !== '') params.set('seat', query.seat);
  if (query.recommendation !== '') params.set('recommendation', query.recommendation);
  params.set('sort', query.sort);
  params.set('direction', query.direction);
  params.set('page', String(query.page));
  params.set('pageSize', String(query.pageSize));
  return params;
}
