import type { JSX } from 'preact';
import { useMemo } from 'preact/hooks';
import type { PageProps } from '../app.tsx';
import { featuresSchema, type FeaturesView } from '../api-types.ts';
import type { HeatmapData } from '../charts/weekly-heatmap.ts';
import { ErrorMessage, Loading, TableScroller, Time, useApiData, usePageTitle } from '../components/common.tsx';
import { Heatmap } from '../components/heatmap.tsx';
import { TeamFeatureHeatmap } from '../components/team-feature-heatmap.tsx';
import { formatCalendarDate, formatCount, formatOptionalCount, humanize } from '../format.ts';
import { useSessionGuard } from '../session-guard.ts';

/** Renders feature adoption: people and uses per feature, weekly activity, account features and signal coverage. */
export function FeaturesPage({ session, onSessionExpired }: PageProps): JSX.Element {
  usePageTitle('Features');
  const { state } = useApiData('/api/features', featuresSchema);
  useSessionGuard(state, onSessionExpired);

  return (
    <section aria-labelledby="features-heading">
      <h1 id="features-heading">Features</h1>
      <p class="lead">Which PagerDuty features people use, and which paid account features are set up and exercised.</p>
      {state.status === 'loading' && <Loading label="Loading feature use…" />}
      {state.status === 'failed' && <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />}
      {state.status === 'loaded' && <FeaturesContent view={state.data} />}
    </section>
  );
}

function FeaturesContent({ view }: { view: FeaturesView }): JSX.Element {
  const featureHeatmap = useMemo(() => weeklyHeatmap(view.weekly.map((row) => ({ week: row.weekStart, key: featureName(view, row.featureKey), value: row.activePeople }))), [view]);
  const teamHeatmap = useMemo(() => weeklyHeatmap(view.weeklyByTeam.map((row) => ({ week: row.weekStart, key: row.team, value: row.activePeople }))), [view]);

  return (
    <>
      {view.computedAt !== null && (
        <p class="freshness">
          Computed <Time iso={view.computedAt} />.
        </p>
      )}
      <section class="card" aria-labelledby="adoption-heading">
        <h2 id="adoption-heading">Feature adoption</h2>
        <TableScroller label="Feature adoption, scrollable">
          <table aria-labelledby="adoption-heading" class="numeric-table wide-table">
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">People in 30 days</th>
                <th scope="col">People in 90 days</th>
                <th scope="col">Uses in 30 days</th>
                <th scope="col">Uses in 90 days</th>
              </tr>
            </thead>
            <tbody>
              {view.features.map((feature) => (
                <tr key={feature.key}>
                  <th scope="row">
                    {feature.name}
                    <span class="signal">{feature.requirement === null ? humanize(feature.category) : `${humanize(feature.category)} · needs ${feature.requirement}`}</span>
                  </th>
                  <td>{formatCount(feature.people30d)}</td>
                  <td>{formatCount(feature.people90d)}</td>
                  <td>{formatCount(feature.events30d)}</td>
                  <td>{formatCount(feature.events90d)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroller>
      </section>

      <section class="card" aria-labelledby="team-heatmap-heading">
        <h2 id="team-heatmap-heading">Feature use by team in the last 30 days</h2>
        {view.teamFeatureUse.teams.length === 0 || view.teamFeatureUse.features.length === 0 ? (
          <p class="hint">
            {view.teamFeatureUse.teams.length === 0 ? 'No one belongs to a PagerDuty team in the synced data.' : 'No team member used a feature in the last 30 days.'}
          </p>
        ) : (
          <TeamFeatureHeatmap use={view.teamFeatureUse} />
        )}
      </section>

      {featureHeatmap.cells.length > 0 && (
        <section class="card" aria-labelledby="weekly-features-heading">
          <h2 id="weekly-features-heading">Weekly active people per feature</h2>
          <Heatmap data={featureHeatmap} label="Heatmap of weekly active people per feature; darker cells mean more people. The Feature adoption table lists 30 and 90 day totals." />
        </section>
      )}

      {teamHeatmap.cells.length > 0 && (
        <section class="card" aria-labelledby="weekly-teams-heading">
          <h2 id="weekly-teams-heading">Weekly active people per team</h2>
          <Heatmap data={teamHeatmap} label="Heatmap of weekly active people per team; darker cells mean more people." />
        </section>
      )}

      <section class="card" aria-labelledby="account-features-heading">
        <h2 id="account-features-heading">Account features</h2>
        <TableScroller label="Account features, scrollable">
          <table aria-labelledby="account-features-heading" class="wide-table">
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Status</th>
                <th scope="col">Configured</th>
                <th scope="col">Used in 90 days</th>
              </tr>
            </thead>
            <tbody>
              {view.accountFeatures.map((feature) => (
                <tr key={feature.key}>
                  <th scope="row">{feature.name}</th>
                  <td>
                    {humanize(feature.status)}
                    {feature.reason !== null && <span class="signal">{feature.reason}</span>}
                  </td>
                  <td>{formatOptionalCount(feature.configuredCount, 'Unknown')}</td>
                  <td>{formatOptionalCount(feature.exercisedCount90d, 'Not measurable')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroller>
      </section>

      {view.signals.length > 0 && (
        <section class="card" aria-labelledby="signals-heading">
          <h2 id="signals-heading">Data confidence</h2>
          <p class="hint">Signals Seatwise could read for this account. Where a signal is unavailable, missing activity there proves nothing.</p>
          <ul class="signal-list">
            {view.signals.map((signal) => (
              <li key={signal.signal}>
                <strong>{humanize(signal.signal)}</strong>: {signal.status === 'available' ? 'available' : `unavailable${signal.reason === null ? '' : ` (${signal.reason})`}`}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function featureName(view: FeaturesView, key: string): string {
  return view.features.find((feature) => feature.key === key)?.name ?? humanize(key);
}

/** Arranges `{ week, key, value }` rows as a heatmap: weeks as columns in order, keys as rows. */
function weeklyHeatmap(points: Array<{ week: string; key: string; value: number }>): HeatmapData {
  const weeks = [...new Set(points.map((point) => point.week))].sort();
  const keys = [...new Set(points.map((point) => point.key))].sort((a, b) => b.localeCompare(a));
  const weekIndex = new Map(weeks.map((week, index) => [week, index]));
  const keyIndex = new Map(keys.map((key, index) => [key, index]));
  return {
    columns: weeks.map((week) => formatCalendarDate(week)),
    rows: keys,
    cells: points.map((point) => [weekIndex.get(point.week) ?? 0, keyIndex.get(point.key) ?? 0, point.value]),
  };
}
