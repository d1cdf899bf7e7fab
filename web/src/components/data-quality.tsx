import type { JSX } from 'preact';
import type { ConfidenceView, FreshnessView } from '../api-types.ts';
import { formatCount, formatRelative, humanize, labelOf } from '../format.ts';
import { Link } from '../router.tsx';
import { Time } from './common.tsx';
import { ConnectionStateBadge } from './connection-state.tsx';

const PAGERDUTY_APP_PATH = '/apps/pagerduty';

interface FreshnessCardProps {
  freshness: FreshnessView;
  /** When the figures were computed; null before the first crunch. */
  computedAt: string | null;
  /** The connected account's host name, such as acme.pagerduty.com, when known. */
  accountName: string | null;
}

/** Renders how fresh the figures are: connection status, sync times and crunch time, with a link to the PagerDuty app page. */
export function FreshnessCard({ freshness, computedAt, accountName }: FreshnessCardProps): JSX.Element {
  const { lastRun } = freshness;
  return (
    <section class="card" aria-labelledby="freshness-heading">
      <h2 id="freshness-heading">Data freshness</h2>
      <dl class="details" aria-label="Data freshness">
        <dt>Connection</dt>
        <dd>
          <ConnectionStateBadge state={freshness.connectionStatus} />
          {accountName !== null && ` ${accountName}`}
          {freshness.statusReason !== null && !freshness.isVisibilityLimited && <span class="signal">{freshness.statusReason}</span>}
        </dd>
        {freshness.isVisibilityLimited && (
          <>
            <dt>Visibility</dt>
            <dd>
              Limited
              <span class="signal">{freshness.statusReason}</span>
            </dd>
          </>
        )}
        <dt>Last successful sync</dt>
        <dd>{freshness.lastSuccessfulSyncAt === null ? 'None yet' : <Time iso={freshness.lastSuccessfulSyncAt}>{formatRelative(freshness.lastSuccessfulSyncAt)}</Time>}</dd>
        {lastRun !== null && lastRun.status !== 'succeeded' && (
          <>
            <dt>Last sync</dt>
            <dd>
              {lastRun.status === 'partial' ? 'Finished with errors' : 'Failed'}
              {lastRun.finishedAt !== null && (
                <>
                  {' '}
                  <Time iso={lastRun.finishedAt}>{formatRelative(lastRun.finishedAt)}</Time>
                </>
              )}
              {lastRun.errorMessage !== null && <span class="signal">{lastRun.errorMessage}</span>}
            </dd>
          </>
        )}
        <dt>Figures computed</dt>
        <dd>{computedAt === null ? 'Not yet' : <Time iso={computedAt} />}</dd>
      </dl>
      <p>
        <Link href={PAGERDUTY_APP_PATH}>{appLinkText(freshness)}</Link>
      </p>
    </section>
  );
}

function appLinkText(freshness: FreshnessView): string {
  switch (freshness.connectionStatus) {
    // Each state names what the app page lets the admin do next.
    case 'needs_reconnect':
      return 'Reconnect on the PagerDuty app page';
    case 'not_connected':
      return 'Connect on the PagerDuty app page';
    case 'error':
      return 'See the error on the PagerDuty app page';
    case 'syncing':
      return 'Follow the sync on the PagerDuty app page';
    case 'connected':
      return freshness.isVisibilityLimited ? 'Reconnect as a PagerDuty admin on the PagerDuty app page' : 'Open the PagerDuty app page';
    default: {
      const unreachable: never = freshness.connectionStatus;
      throw new Error(`Unknown connection state ${String(unreachable)}`);
    }
  }
}

const LEVEL_TEXT: Record<ConfidenceView['level'], string> = {
  complete: 'Every signal was read in the last sync.',
  partial: 'Some signals could not be read or are stale, so missing activity there proves nothing.',
  unknown: 'No sync has been crunched yet, so Seatwise cannot say which signals are available.',
};

/** Renders which signals the figures rest on, and why any is unavailable. */
export function ConfidenceCard({ confidence }: { confidence: ConfidenceView }): JSX.Element {
  return (
    <section class="card" aria-labelledby="confidence-heading">
      <h2 id="confidence-heading">Confidence</h2>
      <p>
        {confidence.signals.length > 0 && (
          <strong>
            {formatCount(confidence.availableCount)} of {formatCount(confidence.signals.length)} signals available.{' '}
          </strong>
        )}
        {LEVEL_TEXT[confidence.level]}
      </p>
      {confidence.signals.length > 0 && (
        <ul class="signal-list" aria-label="Signals">
          {confidence.signals.map((signal) => (
            <li key={signal.signal}>
              <strong>{labelOf(signal.signal)}</strong>: {signal.status === 'available' ? 'available' : 'unavailable'}
              {signal.reason !== null && <span class="signal">{signal.reason}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
