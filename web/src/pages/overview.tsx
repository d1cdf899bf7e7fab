import type { JSX } from 'preact';
import type { PageProps } from '../app.tsx';
import { overviewSchema, type ConnectionState, type OverviewView, type WeeklyActivityView } from '../api-types.ts';
import { ErrorMessage, Loading, TableScroller, Time, useApiData, usePageTitle } from '../components/common.tsx';
import { ConfidenceCard, FreshnessCard } from '../components/data-quality.tsx';
import { SavingsCard } from '../components/savings-card.tsx';
import { SeatsChart } from '../components/seats-chart.tsx';
import { WeeklyActivityChart } from '../components/weekly-activity-chart.tsx';
import { formatCalendarDate, formatCount, formatMoney, formatOptionalCount, formatPercent, formatRelative } from '../format.ts';
import { Link } from '../router.tsx';
import { useSessionGuard } from '../session-guard.ts';

/** The figures of one table row; `paid` is null when PagerDuty reports no limit. */
interface SeatCounts {
  paid: number | null;
  allocated: number;
  active30d: number;
  active90d: number;
  neverActive: number;
}

const PAGERDUTY_APP_PATH = '/apps/pagerduty';

/**
 * Renders the overview: data freshness, seats paid, allocated and active per license type,
 * costs and potential savings, weekly active people per feature, and the confidence of the figures.
 */
export function OverviewPage({ session, onSessionExpired }: PageProps): JSX.Element {
  usePageTitle('Overview');
  const { state } = useApiData('/api/overview', overviewSchema);
  useSessionGuard(state, onSessionExpired);

  return (
    <section aria-labelledby="overview-heading">
      <h1 id="overview-heading">Overview</h1>
      {state.status === 'loading' && <Loading label="Loading seat figures…" />}
      {state.status === 'failed' && <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />}
      {state.status === 'loaded' && <OverviewContent overview={state.data} />}
    </section>
  );
}

function OverviewContent({ overview }: { overview: OverviewView }): JSX.Element {
  if (overview.seats.length === 0) {
    return (
      <>
        <FreshnessCard freshness={overview.freshness} computedAt={overview.computedAt} accountName={accountName(overview)} />
        <div class="card empty-state">
          <h2>No seat figures yet</h2>
          <p>
            Seatwise shows seats once PagerDuty is connected and a sync has finished. Go to <Link href={PAGERDUTY_APP_PATH}>PagerDuty</Link> to connect
            or to follow the sync.
          </p>
        </div>
      </>
    );
  }

  const totals: SeatCounts = { ...overview.totals, neverActive: sum(overview.seats.map((seat) => seat.neverActive)) };
  return (
    <>
      <FrozenNotice overview={overview} connectionState={overview.freshness.connectionStatus} />
      <SummaryTiles totals={totals} />
      <SavingsCard savings={overview.savings} seatsByRole={overview.seatsByRole !== null} />
      {overview.costs !== null && overview.costs !== undefined && <CostTiles costs={overview.costs} />}
      <section class="card" aria-labelledby="seats-heading">
        <h2 id="seats-heading">{overview.seatsByRole === null ? 'Seats by license' : 'Seats by role'}</h2>
        {overview.seatsByRole !== null && (
          <p class="hint" role="note">
            {overview.seatsByRole.note} Paid seats are unknown unless the contract states how many were bought.
          </p>
        )}
        <TableScroller label={overview.seatsByRole === null ? 'Seats by license, scrollable' : 'Seats by role, scrollable'}>
          <table aria-labelledby="seats-heading" class="numeric-table">
            <thead>
              <tr>
                <th scope="col">License</th>
                <th scope="col">Paid</th>
                <th scope="col">Allocated</th>
                <th scope="col">Active in 30 days</th>
                <th scope="col">Active in 90 days</th>
                <th scope="col">Never active</th>
              </tr>
            </thead>
            <tbody>
              {overview.seats.map((seat) => (
                <tr key={seat.licenseId}>
                  <th scope="row">{seat.licenseName}</th>
                  <SeatCells counts={seat} />
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <SeatCells counts={totals} />
              </tr>
            </tfoot>
          </table>
        </TableScroller>
        <SeatsChart licenses={overview.seats} />
      </section>
      <WeeklyActivityCard weekly={overview.weeklyActivity} />
      <div class="card-pair">
        <FreshnessCard freshness={overview.freshness} computedAt={overview.computedAt} accountName={accountName(overview)} />
        <ConfidenceCard confidence={overview.confidence} />
      </div>
    </>
  );
}

/** Renders weekly active people per feature, or explains why there is nothing to chart yet. */
function WeeklyActivityCard({ weekly }: { weekly: WeeklyActivityView }): JSX.Element {
  return (
    <section class="card" aria-labelledby="weekly-heading">
      <h2 id="weekly-heading">Weekly active people per feature</h2>
      {weekly.series.length === 0 || weekly.firstDay === null || weekly.lastDay === null ? (
        <p class="hint">No feature use is in the synced history yet.</p>
      ) : (
        <>
          <p class="hint">
            People who used each feature in each week (Monday to Sunday, UTC) from {formatCalendarDate(weekly.firstDay)} to {formatCalendarDate(weekly.lastDay)}. The
            first and last weeks may be partial. The busiest features show first; choose others in the legend.
          </p>
          <WeeklyActivityChart weekly={weekly} />
        </>
      )}
    </section>
  );
}

function accountName(overview: OverviewView): string | null {
  const subdomain = overview.connection?.subdomain ?? null;
  return subdomain === null ? null : `${subdomain}.pagerduty.com`;
}

function SeatCells({ counts }: { counts: SeatCounts }): JSX.Element {
  return (
    <>
      <td>{formatOptionalCount(counts.paid)}</td>
      <td>{formatCount(counts.allocated)}</td>
      <td>{formatCount(counts.active30d)}</td>
      <td>{formatCount(counts.active90d)}</td>
      <td>{formatCount(counts.neverActive)}</td>
    </>
  );
}

function SummaryTiles({ totals }: { totals: SeatCounts }): JSX.Element {
  const inactive90 = totals.allocated - totals.active90d;
  return (
    <ul class="tiles" aria-label="Totals">
      <li class="tile">
        <span class="tile-label">Paid seats</span>
        <span class="tile-value">{formatOptionalCount(totals.paid)}</span>
      </li>
      <li class="tile">
        <span class="tile-label">Allocated</span>
        <span class="tile-value">{formatCount(totals.allocated)}</span>
      </li>
      <li class="tile">
        <span class="tile-label">Active in 30 days</span>
        <span class="tile-value">{formatCount(totals.active30d)}</span>
        <span class="tile-detail">
          {formatPercent(totals.active30d, totals.allocated)} of allocated · <Link href="/people?activity=active30d&seat=allocated&sort=lastSeen&direction=desc">See who</Link>
        </span>
      </li>
      <li class="tile">
        <span class="tile-label">Not active in 90 days</span>
        <span class="tile-value">{formatCount(inactive90)}</span>
        <span class="tile-detail">
          {formatCount(totals.neverActive)} never active · <Link href="/people?activity=inactive90d&seat=allocated&sort=lastSeen&direction=asc">See who</Link>
        </span>
      </li>
    </ul>
  );
}

function CostTiles({ costs }: { costs: NonNullable<OverviewView['costs']> }): JSX.Element {
  return (
    <ul class="tiles" aria-label="Costs">
      <li class="tile">
        <span class="tile-label">Yearly cost</span>
        <span class="tile-value">{formatMoney(costs.yearlyTotalMinor, costs.currency)}</span>
        <span class="tile-detail">From the contract prices entered</span>
      </li>
      <li class="tile">
        <span class="tile-label">Per person active in 30 days</span>
        <span class="tile-value">{costs.perActiveUser30dMinor === null ? '–' : formatMoney(costs.perActiveUser30dMinor, costs.currency)}</span>
      </li>
      <li class="tile">
        <span class="tile-label">Per person active in 90 days</span>
        <span class="tile-value">{costs.perActiveUser90dMinor === null ? '–' : formatMoney(costs.perActiveUser90dMinor, costs.currency)}</span>
        <span class="tile-detail">
          <Link href="/recommendations">See recommendations</Link>
        </span>
      </li>
    </ul>
  );
}

/**
 * Says when the figures no longer follow PagerDuty: the account was disconnected with its data
 * kept, or Seatwise lost access and waits for a reconnect. Syncing and connected need no notice.
 */
function FrozenNotice({ overview, connectionState }: { overview: OverviewView; connectionState: ConnectionState | null }): JSX.Element | null {
  if (connectionState === null || overview.connection === null) return null;
  const account = overview.connection.subdomain === null ? 'the PagerDuty account' : `${overview.connection.subdomain}.pagerduty.com`;
  const lastSyncAt = overview.connection.lastSyncAt;
  const frozenSince =
    lastSyncAt === null ? (
      'since it was disconnected'
    ) : (
      <>
        since its last sync, <Time iso={lastSyncAt}>{formatRelative(lastSyncAt)}</Time>
      </>
    );
  switch (connectionState) {
    // The row was kept on disconnect: the figures are history, not the current account.
    case 'not_connected':
      return (
        <div class="message message-warning" role="status">
          <p>
            PagerDuty is disconnected. These figures are from the disconnected account {account} and frozen {frozenSince}. <Link href="/apps/pagerduty">Connect PagerDuty</Link>{' '}
            again to update them.
          </p>
        </div>
      );
    // Seatwise keeps the connection but cannot sync until someone reconnects or the error clears.
    case 'needs_reconnect':
    case 'error':
      return (
        <div class="message message-warning" role="status">
          <p>
            Seatwise cannot sync {account} right now, so these figures are frozen {frozenSince}. See <Link href="/apps/pagerduty">PagerDuty</Link> for what to do.
          </p>
        </div>
      );
    case 'connected':
    case 'syncing':
      return null;
    default: {
      const unreachable: never = connectionState;
      throw new Error(`Unknown connection state ${String(unreachable)}`);
    }
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
